"""Stage: informed MUSIC exploration from held-out faces toward each cluster (paper §5.4, Figs 12-13).

    python -m musicsom.pipeline.faces.informed --latent results/faces/seed0/latent.npz --som results/faces/seed0/som.npz \
        --clusters results/faces/seed0/clusters.json --starts results/faces/seed0/starts.json \
        --informed '{"n_steps": 100}' --music '{"alpha": 0.9, "lam": 0.01, "kappa": 0.1, "eta": 0.5,
        "per_row_mean": true, "preserve_ring": null, ...}' --seed 0 --out results/faces/seed0/informed.npz

Mode "random informed within cluster": each step picks one random prototype ``t`` of the cluster and
asks for ``Δa_t = −κ a_t`` while preserving every other prototype (``preserve_ring: null``, the default; an
n-ring of the BMU otherwise; docs/METHOD.md §4), trust radius ``η``. One set of hyperparameters (``faces.music``)
serves every face run. With ``per_row_mean`` each energy term is divided by its row count, so that α weighs
the one target row against the mean preserved row (with the plain terms the 575 preserved rows swamp the target
at α = 0.9 and the runs barely approach the cluster). Output: ``states`` (starts, clusters, T+1, D),
``targets`` (starts, clusters, T), ``clusters`` (names), ``test_rows``.
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import files
from musicsom.pipeline.faces.options import add_files, add_sections, music, section
from musicsom.experiments.faces import CLUSTERS, cluster_distance, informed_paths

log = logging.getLogger("musicsom.pipeline.faces.informed")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_files(p, "latent", "som", "clusters", "starts")
    add_sections(p, "informed", "music")
    p.add_argument("--seed", type=int, required=True, help="seed of the target draws (the seed wildcard)")
    p.add_argument("--out", required=True, help=".npz of the informed states to write")
    args = p.parse_args(argv)
    n_steps, params = section(args, "informed")["n_steps"], music(args)

    lat = files.load_npz(args.latent, required=("x_test",))
    W = files.load_npz(args.som, required=("prototypes",))["prototypes"]
    clusters = files.load_json(args.clusters)
    rows = files.load_json(args.starts)["test_rows"]
    som = files.load_npz(args.som, required=("grid_shape", "topology"))
    units = {name: np.asarray(clusters[name]["units"]) for name in CLUSTERS}
    run = informed_paths(W, lat["x_test"][np.asarray(rows)], units, params, n_steps, args.seed,
                         tuple(int(v) for v in som["grid_shape"]), str(som["topology"]))
    states, targets = run["states"], run["targets"]
    for s in range(len(rows)):
        for c, name in enumerate(CLUSTERS):
            d = cluster_distance(states[s, c, [0, -1]], W, units[name])
            log.info("start %d -> %s: cluster distance %.2f -> %.2f", s, name, d[0], d[1])
    files.save_npz(args.out, states=states, targets=targets, clusters=np.array(CLUSTERS), test_rows=np.asarray(rows))


if __name__ == "__main__":
    files.run_main(main)
