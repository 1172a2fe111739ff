"""Stage (Fig 6, Table 1 inputs): informed convergence and cluster exploration on the mixture's SOM.

    python -m musicsom.pipeline.gmm.trajectories --data data.npz --som som.npz --n-starts 30 --n-steps 200 \
        --alpha 0.9 --lam 0.01 --kappa 0.1 --eta 0.2 --component 0 --seed 0 \
        --out trajectories.npz --metrics per_trajectory.csv

Informed: every start walks to one prototype (the one of the component's prototypes nearest the
component's mean). Cluster exploration: each step walks toward a random prototype of the
component. Starts come from all three components (round robin over test points, seeded).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from musicsom.pipeline import _io
from musicsom.experiments.gmm import run_regimes, trajectory_table

log = logging.getLogger("musicsom.pipeline.gmm.trajectories")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--som", required=True)
    p.add_argument("--n-starts", type=int, required=True)
    p.add_argument("--n-steps", type=int, required=True)
    p.add_argument("--component", type=int, default=0, help="the mixture component that holds the targets")
    _io.add_music_args(p)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--metrics", required=True)
    a = p.parse_args(argv)
    d = _io.load_npz(a.data, required=("x_train", "y_train", "x_test", "y_test"))
    som = _io.load_npz(a.som, required=("prototypes", "grid_shape", "topology"))
    params = _io.music_params(a)
    n_comp = int(d["y_train"].max()) + 1
    if not 0 <= a.component < n_comp:
        raise _io.InputError(f"--component must be in [0, {n_comp - 1}]; got {a.component}")
    grid_shape = tuple(int(v) for v in som["grid_shape"])
    trajs, starts, target, cluster = run_regimes(
        som["prototypes"], d["x_train"], d["y_train"], d["x_test"], d["y_test"], params, a.n_starts, a.n_steps, a.component, a.seed,
        grid_shape, str(som["topology"]),
    )
    rows = trajectory_table(trajs, d["x_test"], d["y_test"], som["prototypes"], starts, target, a.seed)
    _io.save_csv(a.metrics, pd.DataFrame(rows))
    _io.save_npz(
        a.out,
        informed_states=np.stack([t.states for t in trajs["informed"]]),
        informed_bmus=np.stack([t.bmus for t in trajs["informed"]]),
        cluster_states=np.stack([t.states for t in trajs["cluster"]]),
        cluster_bmus=np.stack([t.bmus for t in trajs["cluster"]]),
        starts=starts,
        target=np.array(target),
        cluster=cluster,
    )
    log.info("seed %d: %d starts × 2 regimes × %d steps; target %d; cluster of %d prototypes", a.seed, len(starts), a.n_steps, target, len(cluster))


if __name__ == "__main__":
    _io.run_main(main)
