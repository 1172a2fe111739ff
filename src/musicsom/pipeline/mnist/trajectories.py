"""Stage (Table 2 inputs): MUSIC, linear and VAE trajectories of every digit pair and start image of one seed.

    python -m musicsom.pipeline.mnist.trajectories --data results/data/digits.npz --encoding results/mnist/encoding.npz \
        --latent results/mnist/latent.npz --som results/mnist/seed0/som.npz --labels results/mnist/seed0/labels.npz \
        --classifier results/mnist/classifier.pt --vae results/mnist/vae.pt --pairs 0:1 1:7 2:3 \
        --n-starts 3 --n-steps 200 --alpha 0.5 --lam 0.01 --kappa 0.1 --eta 0.2 --per-row-mean true \
        --min-purity 0.7 --knn-k 5 --knn-stride 5 --seed 0 --out results/mnist/seed0/pairs.csv

Starts: ``--n-starts`` test images of each pair's source class, drawn with a generator seeded by (seed,
source, target). The MUSIC trajectories of all pairs and starts run as one batch
(:func:`musicsom.experiments.mnist.trajectory_rows`). One row per (pair, start, method) with the Table 2
metrics (mean and min confidence, sharpness, manifold distance, geodesic efficiency, step continuity) and
the claim-4 quantities (crossing step, steps in a third class, label sequence). Manifold distance: mean
over every ``--knn-stride``-th frame (and the last) of the mean distance to the ``--knn-k`` nearest
training images in pixel space. The k-means control runs this stage on k-means prototypes.
"""

from __future__ import annotations

import logging

import pandas as pd

from musicsom.experiments import mnist as mn
from musicsom.pipeline import _io
from musicsom.pipeline.mnist._common import add_context_args, load_context, parse_pairs

log = logging.getLogger("musicsom.pipeline.mnist.trajectories")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    add_context_args(p)
    p.add_argument("--pairs", nargs="+", required=True, help="digit pairs as SOURCE:TARGET")
    p.add_argument("--n-starts", type=int, required=True, help="start images per pair")
    p.add_argument("--n-steps", type=int, required=True)
    _io.add_music_args(p)
    p.add_argument("--out", required=True, help="per-trajectory CSV")
    a = p.parse_args(argv)
    if a.n_steps < 1 or a.n_starts < 1:
        raise _io.InputError("--n-steps and --n-starts must be >= 1")
    pairs = parse_pairs(a.pairs)
    params = _io.music_params(a)
    ctx = load_context(a)
    jobs = mn.pair_jobs(ctx, pairs, a.n_starts, a.seed)
    targets, relaxed = mn.targets_of(ctx, jobs)
    if relaxed.any():
        log.warning("%d trajectories: no target prototype reaches purity %.2f; the nearest of any purity is used", relaxed.sum(), ctx.min_purity)
    rows = mn.trajectory_rows(ctx, jobs, targets, relaxed, a.n_steps, params, a.seed, knn_k=a.knn_k, knn_stride=a.knn_stride)
    frame = pd.DataFrame(rows)
    frame.insert(0, "seed", a.seed)
    for m, g in frame.groupby("method"):
        log.info("%s: median crossing step %g, mean third-class steps %.2f, mean sharpness %.4f", m,
                 g["crossing_step"].median(), g["third_class_steps"].mean(), g["sharpness"].mean())
    _io.save_csv(a.out, frame)


if __name__ == "__main__":
    _io.run_main(main)
