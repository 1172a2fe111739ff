"""Stage: claim 3 along the sensitivity study's axes of the Gaussian mixture, one seed.

    python -m musicsom.pipeline.gmm.robustness --data results/gmm/seed0/data.npz --som results/gmm/seed0/som.npz \
        --study '{"energy": {...}, "preserve": [...], "eta": [...], "cluster": [...]}' \
        --trajectories '{"n_starts": 30, ...}' --music '{"alpha": 0.9, ...}' --verdicts '{...}' --seed 0 \
        --checks results/robustness/gmm/seed0/checks.json --metrics results/robustness/gmm/seed0/trajectories.csv

Points (:func:`musicsom.experiments.robustness.gmm_grid`): each energy form and α, preserved set, trust radius
and cluster mode (a random target per step, the default's, or all targets with Gaussian weights) of
``robustness.gmm`` other than the default's (``gmm.music``), moved alone. At every point both regimes run from
the default stage's starts (:func:`musicsom.experiments.gmm.run_regimes`, the headline's sample:
``gmm.trajectories``), and claim 3's checks are evaluated with the report's rules. Output: the block file (every
check with its units) and every trajectory's metrics.
"""

from __future__ import annotations

import logging

import pandas as pd

from musicsom.experiments import robustness as rb
from musicsom.experiments.claims import claim3
from musicsom.experiments.gmm import run_regimes, trajectory_table
from musicsom.music import MusicParams
from musicsom.pipeline import files
from musicsom.pipeline.check_records import bootstrap_of
from musicsom.pipeline.robustness.blocks import add_block_args, add_study_args, music_at, sample, save_block
from musicsom.pipeline.sections import add_section, build, require

log = logging.getLogger("musicsom.pipeline.gmm.robustness")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="the standardised mixture of one seed (.npz)")
    p.add_argument("--som", required=True, help="its SOM (.npz)")
    add_study_args(p, "gmm", "the mixture's axes (energy, preserve, eta, cluster)")
    add_section(p, "trajectories", "gmm.trajectories", "n_starts, n_steps, component: as the default stage")
    add_section(p, "music", "gmm.music", "the default MUSIC settings, which each point moves along one axis")
    add_block_args(p, "metrics", "every trajectory's metrics at every point")
    a = p.parse_args(argv)
    boot = bootstrap_of(a)
    t = require(a.trajectories, "gmm.trajectories", ("n_starts", "n_steps", "component"))
    study = require(a.study, "robustness.gmm", ("energy", "preserve", "eta", "cluster"))
    default = build(MusicParams, a.music, "gmm.music")
    d = files.load_npz(a.data, required=("x_train", "y_train", "x_test", "y_test"))
    som = files.load_npz(a.som, required=("prototypes", "grid_shape", "topology"))
    W, grid_shape, topology = som["prototypes"], tuple(int(v) for v in som["grid_shape"]), str(som["topology"])
    blocks, tables = [], []
    for s in rb.gmm_grid(study, default)[1:]:
        params = music_at(s, default, "robustness.gmm")
        trajs, starts, target, _ = run_regimes(W, d["x_train"], d["y_train"], d["x_test"], d["y_test"], params, int(t["n_starts"]),
                                               int(t["n_steps"]), int(t["component"]), a.seed, grid_shape, topology,
                                               s.value_on("cluster"))
        frame = pd.DataFrame(trajectory_table(trajs, d["x_test"], d["y_test"], W, starts, target, a.seed))
        frame.insert(0, "setting", s.name)
        tables.append(frame)
        checks = claim3.checks(frame, a.seed, boot, setting=s.name)
        blocks.append((s, checks))
        log.info("%s: claim 3 %s", s.name, {c.name: c.outcome for c in checks})
    save_block(a.checks, "gmm", a.seed, blocks, [sample("start points", (3,), t["n_starts"], t["n_starts"])])
    files.save_csv(a.metrics, pd.concat(tables, ignore_index=True) if tables else pd.DataFrame())


if __name__ == "__main__":
    files.run_main(main)
