"""Stage: claim 3 over the robustness grid of the Gaussian mixture, one seed (a whole grid block).

    python -m musicsom.pipeline.gmm.robustness --data results/gmm/seed0/data.npz --som results/gmm/seed0/som.npz \
        --study '{"energy": {...}, "preserve": [...], "eta": [...], "cluster": [...]}' \
        --trajectories '{"n_starts": 30, ...}' --music '{"alpha": 0.9, ...}' --verdicts '{...}' --seed 0 \
        --checks results/robustness/gmm/seed0/checks.csv --metrics results/robustness/gmm/seed0/trajectories.csv

Grid (:func:`musicsom.experiments.robustness.gmm_grid`): energy form and α × preservation set × trust
radius crossed in full, and the cluster mode (a random target per step, or all targets with Gaussian
weights) as a slice through the default. At every point both regimes run from the same starts as the
default stage (:func:`musicsom.experiments.gmm.run_regimes`), and claim 3's checks are evaluated with
the report's rules. Output: the tidy checks table and every trajectory's metrics.
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
from musicsom.pipeline.robustness.blocks import add_block_args, add_study_args, block_table, music_at
from musicsom.pipeline.sections import add_section, build, require

log = logging.getLogger("musicsom.pipeline.gmm.robustness")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="the standardised mixture of one seed (.npz)")
    p.add_argument("--som", required=True, help="its SOM (.npz)")
    add_study_args(p, "gmm", paper=False)  # the mixture's default already is the paper's plain energy
    add_section(p, "trajectories", "gmm.trajectories", "n_starts, n_steps, component: as the default stage")
    add_section(p, "music", "gmm.music", "the default MUSIC settings, which each grid point changes along its axes")
    add_block_args(p, "metrics", "every trajectory's metrics at every grid point")
    a = p.parse_args(argv)
    boot = bootstrap_of(a)
    t = require(a.trajectories, "gmm.trajectories", ("n_starts", "n_steps", "component"))
    default = build(MusicParams, a.music, "gmm.music")
    d = files.load_npz(a.data, required=("x_train", "y_train", "x_test", "y_test"))
    som = files.load_npz(a.som, required=("prototypes", "grid_shape", "topology"))
    W, grid_shape, topology = som["prototypes"], tuple(int(v) for v in som["grid_shape"]), str(som["topology"])
    settings = rb.gmm_grid(a.study, default)
    blocks, tables = [], []
    for s in settings:
        params = music_at(s, default, "robustness.gmm")
        trajs, starts, target, _ = run_regimes(W, d["x_train"], d["y_train"], d["x_test"], d["y_test"], params, int(t["n_starts"]),
                                               int(t["n_steps"]), int(t["component"]), a.seed, grid_shape, topology,
                                               s.values.get("cluster", "cluster_random"))
        frame = pd.DataFrame(trajectory_table(trajs, d["x_test"], d["y_test"], W, starts, target, a.seed))
        frame.insert(0, "setting", s.name)
        tables.append(frame)
        checks = claim3.checks(frame, a.seed, boot, setting=s.name)
        blocks.append((s, checks))
        log.info("%s: claim 3 %s", s.name, {c.name: c.verdict for c in checks})
    files.save_csv(a.checks, block_table(blocks, "gmm"))
    files.save_csv(a.metrics, pd.concat(tables, ignore_index=True))


if __name__ == "__main__":
    files.run_main(main)
