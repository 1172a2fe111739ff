"""Stage (Fig 6, Table 1 inputs): informed convergence and cluster exploration on the mixture's SOM.

    python -m musicsom.pipeline.gmm.trajectories --data data.npz --som som.npz \
        --trajectories '{"n_starts": 30, "n_steps": 200, "component": 0}' --music '{"alpha": 0.9, ...}' --seed 0 \
        --out trajectories.npz --metrics per_trajectory.csv

Informed: every start walks to one prototype (the one of the component's prototypes nearest the
component's mean). Cluster exploration: each step walks toward a random prototype of the
component. Starts come from all three components (round robin over test points, seeded).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from musicsom.music import MusicParams
from musicsom.pipeline import files
from musicsom.pipeline.sections import add_section, build, require
from musicsom.experiments.gmm import run_regimes, trajectory_table

log = logging.getLogger("musicsom.pipeline.gmm.trajectories")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="the standardised mixture (.npz)")
    p.add_argument("--som", required=True, help="its SOM (.npz)")
    add_section(p, "trajectories", "gmm.trajectories", "n_starts, n_steps, and the component that holds the targets")
    add_section(p, "music", "gmm.music", "the MUSIC settings (musicsom.music.MusicParams)")
    p.add_argument("--seed", type=int, required=True, help="seed of the starts and of the cluster walk")
    p.add_argument("--out", required=True, help=".npz of every trajectory to write")
    p.add_argument("--metrics", required=True, help="CSV of the per-trajectory metrics to write")
    a = p.parse_args(argv)
    t = require(a.trajectories, "gmm.trajectories", ("n_starts", "n_steps", "component"))
    params = build(MusicParams, a.music, "gmm.music")
    d = files.load_npz(a.data, required=("x_train", "y_train", "x_test", "y_test"))
    som = files.load_npz(a.som, required=("prototypes", "grid_shape", "topology"))
    n_comp = int(d["y_train"].max()) + 1
    if not 0 <= t["component"] < n_comp:
        raise files.InputError(f"gmm.trajectories.component must be in [0, {n_comp - 1}]; got {t['component']}")
    grid_shape = tuple(int(v) for v in som["grid_shape"])
    trajs, starts, target, cluster = run_regimes(
        som["prototypes"], d["x_train"], d["y_train"], d["x_test"], d["y_test"], params, t["n_starts"], t["n_steps"], t["component"], a.seed,
        grid_shape, str(som["topology"]),
    )
    rows = trajectory_table(trajs, d["x_test"], d["y_test"], som["prototypes"], starts, target, a.seed)
    files.save_csv(a.metrics, pd.DataFrame(rows))
    files.save_npz(
        a.out,
        informed_states=np.stack([t.states for t in trajs["informed"]]),
        informed_bmus=np.stack([t.bmus for t in trajs["informed"]]),
        cluster_states=np.stack([t.states for t in trajs["cluster"]]),
        cluster_bmus=np.stack([t.bmus for t in trajs["cluster"]]),
        starts=starts,
        target=np.array(target),
        cluster=cluster,
    )
    log.info("seed %d: %d starts × 2 regimes × %d steps; target %d; cluster of %d prototypes", a.seed, len(starts), t["n_steps"], target, len(cluster))


if __name__ == "__main__":
    files.run_main(main)
