"""Stage: claim 9 (MUSIC on k-means vs SOM prototypes) over energy form and α, one seed.

    python -m musicsom.pipeline.robustness.kmeans <the context options of mnist.trajectories, for the SOM> \
        --kmeans results/kmeans/seed0/prototypes.npz --kmeans-labels results/kmeans/seed0/labels.npz \
        --pairs 0:1 ... --n-starts 3 --n-steps 200 --grid '{...}' --seed 0 --checks results/robustness/kmeans/seed0/checks.csv

Grid (:func:`musicsom.experiments.robustness.kmeans_grid`): energy form and α with every other prototype
preserved (k-means has no lattice for rings), and the paper's plain energy. Both prototype sets run the
Table 2 jobs of the default stage at each point (MUSIC only: claim 9 compares step continuity and
geodesic efficiency, which need no classifier or k-NN search).
"""

from __future__ import annotations

import dataclasses
import logging

import pandas as pd

from musicsom.experiments import mnist as mn
from musicsom.experiments import robustness as rb
from musicsom.experiments.claims import claim9
from musicsom.music import MusicParams
from musicsom.pipeline import _io
from musicsom.pipeline._claims import add_verdict_args, bootstrap_of
from musicsom.pipeline.mnist._common import add_context_args, load_context, parse_pairs
from musicsom.pipeline.robustness._common import add_grid_args, block_table, music_kw, parse_grid

log = logging.getLogger("musicsom.pipeline.robustness.kmeans")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    add_context_args(p, vae=False)
    p.add_argument("--kmeans", required=True, help="the k-means prototypes (kmeans.fit)")
    p.add_argument("--kmeans-labels", required=True)
    p.add_argument("--pairs", nargs="+", required=True)
    p.add_argument("--n-starts", type=int, required=True)
    p.add_argument("--n-steps", type=int, required=True)
    add_grid_args(p)
    add_verdict_args(p)
    p.add_argument("--checks", required=True)
    a = p.parse_args(argv)
    g = parse_grid(a)
    boot = bootstrap_of(a)
    som_ctx = load_context(a, knn=False, vae=False)
    km = _io.load_npz(a.kmeans, required=("prototypes", "grid_shape", "topology"))
    lab = _io.load_npz(a.kmeans_labels, required=("labels", "purity"))
    km_ctx = dataclasses.replace(som_ctx, W=km["prototypes"], labels=lab["labels"], purity=lab["purity"],
                                 grid_shape=tuple(int(v) for v in km["grid_shape"]), topology=str(km["topology"]))
    jobs = mn.pair_jobs(som_ctx, parse_pairs(a.pairs), a.n_starts, a.seed)
    arms = {name: (c, *mn.targets_of(c, jobs)) for name, c in (("som", som_ctx), ("kmeans", km_ctx))}
    blocks = []
    for s in rb.kmeans_grid(g["grid"], g["music"], g["paper"]):
        try:
            params = MusicParams(**music_kw(s, g["music"])).validate()
        except ValueError as exc:
            raise _io.InputError(f"robustness.kmeans: {exc}") from None
        rows = []
        for name, (c, targets, relaxed) in arms.items():
            for r in mn.trajectory_rows(c, jobs, targets, relaxed, a.n_steps, params, a.seed, methods=("music",)):
                rows.append({**r, "prototypes": name, "seed": a.seed})
        checks = claim9.checks(pd.DataFrame(rows), a.seed, boot, setting=s.name)
        blocks.append((s, checks))
        log.info("%s: %s", s.name, {c.name: c.verdict for c in checks})
    _io.save_csv(a.checks, block_table(blocks, "kmeans"))


if __name__ == "__main__":
    _io.run_main(main)
