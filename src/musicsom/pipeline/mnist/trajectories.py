"""Stage (Table 2 inputs): MUSIC, linear and VAE trajectories of every digit pair and start image of one seed.

    python -m musicsom.pipeline.mnist.trajectories --data results/data/digits.npz --n-train 0 --n-test 0 \
        --encoding results/mnist/encoding.npz --latent results/mnist/latent.npz --som results/mnist/seed0/som.npz \
        --labels results/mnist/seed0/labels.npz --classifier results/mnist/seed0/classifier.pt --vae results/mnist/seed0/vae.pt \
        --target-min-purity 0.7 --knn-k 5 --seed 0 --pairs '[[0, 1], [1, 7], [2, 3]]' \
        --table2 '{"n_starts": 3, "n_steps": 200, "knn_stride": 5}' --music '{"alpha": 0.5, "lam": 0.01, ...}' \
        --out results/mnist/seed0/pairs.csv

Starts: ``mnist.table2.n_starts`` test images of each pair's source class, drawn with a generator seeded by
(seed, source, target). The MUSIC trajectories of all pairs and starts run as one batch
(:func:`musicsom.experiments.mnist.trajectory_rows`). One row per (pair, start, method) with the Table 2
metrics (mean and min confidence, sharpness, manifold distance, geodesic efficiency, step continuity) and
the claim-4 quantities (crossing step, steps in a third class, label sequence). Manifold distance: mean
over every ``knn_stride``-th frame (and the last) of the mean distance to the ``--knn-k`` nearest
training images in pixel space. The k-means control runs this stage on k-means prototypes.
"""

from __future__ import annotations

import logging

import pandas as pd

from musicsom.experiments import mnist as mn
from musicsom.music import MusicParams
from musicsom.pipeline import files
from musicsom.pipeline.mnist.context import add_context_args, add_table2_args, load_context, pairs_of
from musicsom.pipeline.sections import build, require

log = logging.getLogger("musicsom.pipeline.mnist.trajectories")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_context_args(p)
    add_table2_args(p, "n_starts per pair, n_steps, knn_stride")
    p.add_argument("--out", required=True, help="per-trajectory CSV to write")
    a = p.parse_args(argv)
    t = require(a.table2, "mnist.table2", ("n_starts", "n_steps", "knn_stride"))
    pairs = pairs_of(a.pairs)
    params = build(MusicParams, a.music, "mnist.music")
    ctx = load_context(a)
    jobs = mn.pair_jobs(ctx, pairs, int(t["n_starts"]), a.seed)
    targets, relaxed = mn.targets_of(ctx, jobs)
    if relaxed.any():
        log.warning("%d trajectories: no target prototype reaches purity %.2f; the nearest of any purity is used", relaxed.sum(), ctx.min_purity)
    rows = mn.trajectory_rows(ctx, jobs, targets, relaxed, int(t["n_steps"]), params, a.seed, knn_k=a.knn_k,
                              knn_stride=int(t["knn_stride"]))
    frame = pd.DataFrame(rows)
    frame.insert(0, "seed", a.seed)
    for m, g in frame.groupby("method"):
        log.info("%s: median crossing step %g, mean third-class steps %.2f, mean sharpness %.4f", m,
                 g["crossing_step"].median(), g["third_class_steps"].mean(), g["sharpness"].mean())
    files.save_csv(a.out, frame)


if __name__ == "__main__":
    files.run_main(main)
