"""Stage: informed MUSIC exploration from held-out faces toward each cluster (paper §5.4, Figs 12-13).

    python -m musicsom.pipeline.faces.informed --latent results/faces/latent.npz --som results/faces/seed0/som.npz \
        --clusters results/faces/seed0/clusters.json --starts results/faces/seed0/starts.json \
        --n-steps 100 --alpha 0.9 --lam 0.01 --kappa 0.1 --eta 0.5 --per-row-mean true --seed 0 \
        --out results/faces/seed0/informed.npz

Mode "random informed within cluster": each step picks one random prototype ``t`` of the cluster and
asks for ``Δa_t = −κ a_t`` while preserving every other prototype (docs/METHOD.md §4), trust radius ``η``. One
set of hyperparameters serves every face run. With ``--per-row-mean true`` each energy term is divided
by its row count, so that α weighs the one target row against the mean preserved row (with the plain
terms the 575 preserved rows swamp the target at α = 0.9 and the runs barely approach the cluster). Output: ``states`` (starts, clusters, T+1, D),
``targets`` (starts, clusters, T), ``clusters`` (names), ``test_rows``.
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import _io
from musicsom.experiments.faces import cluster_distance, informed_paths
from musicsom.experiments.faces import CLUSTERS

log = logging.getLogger("musicsom.pipeline.faces.informed")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--latent", required=True)
    p.add_argument("--som", required=True)
    p.add_argument("--clusters", required=True)
    p.add_argument("--starts", required=True)
    p.add_argument("--n-steps", type=int, default=100)
    _io.add_music_args(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)

    lat = _io.load_npz(args.latent, required=("x_test",))
    W = _io.load_npz(args.som, required=("prototypes",))["prototypes"]
    clusters = _io.load_json(args.clusters)
    rows = _io.load_json(args.starts)["test_rows"]
    params = _io.music_params(args)
    som = _io.load_npz(args.som, required=("grid_shape", "topology"))
    units = {name: np.asarray(clusters[name]["units"]) for name in CLUSTERS}
    run = informed_paths(W, lat["x_test"][np.asarray(rows)], units, params, args.n_steps, args.seed,
                         tuple(int(v) for v in som["grid_shape"]), str(som["topology"]))
    states, targets = run["states"], run["targets"]
    for s in range(len(rows)):
        for c, name in enumerate(CLUSTERS):
            d = cluster_distance(states[s, c, [0, -1]], W, units[name])
            log.info("start %d -> %s: cluster distance %.2f -> %.2f", s, name, d[0], d[1])
    _io.save_npz(args.out, states=states, targets=targets, clusters=np.array(CLUSTERS), test_rows=np.asarray(rows))


if __name__ == "__main__":
    _io.run_main(main)
