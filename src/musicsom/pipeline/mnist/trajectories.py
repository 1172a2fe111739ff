"""Stage (Table 2 inputs): MUSIC and the baseline arms' trajectories of every digit pair and start image of one seed.

    python -m musicsom.pipeline.mnist.trajectories --data results/data/digits.npz --n-train 0 --n-test 0 \
        --encoding results/mnist/encoding.npz --latent results/mnist/latent.npz --som results/mnist/seed0/som.npz \
        --labels results/mnist/seed0/labels.npz --classifier results/mnist/seed0/classifier.pt --vae results/mnist/seed0/vae.pt \
        --target-min-purity 0.7 --knn-k 5 --seed 0 --pairs '[[0, 1], [1, 7], [2, 3]]' \
        --table2 '{"n_starts": 3, "n_steps": 200, "knn_stride": 5, "knn_path_k": 10, "knn_path_nodes": 20000}' \
        --music '{"alpha": 0.5, "lam": 0.01, ...}' --out results/mnist/seed0/pairs.csv

Starts: ``mnist.table2.n_starts`` test images of each pair's source class, drawn with a generator seeded by
(seed, source, target). Arms (``--methods``, default all of :data:`musicsom.experiments.mnist.METHODS`):
MUSIC (all pairs and starts as one batch), linear, the kNN path through a graph of training codes (built
once here: ``mnist.table2.knn_path_k`` neighbours, ``knn_path_nodes`` codes drawn with the seed), the
VAE line and slerp (:func:`musicsom.experiments.mnist.trajectory_rows`). One row per (pair, start, method)
with the Table 2 metrics (mean and min confidence, sharpness, manifold distance, geodesic efficiency, step
continuity), the claim-4 quantities (crossing step, steps in a third class, label sequence) and the
equal-decoder columns ``<metric>_pca`` / ``<metric>_vae`` (sharpness, manifold distance, mean confidence of
every arm's frames through the PCA and through the VAE decoder). Manifold distance: mean over every
``knn_stride``-th frame (and the last) of the mean distance to the ``--knn-k`` nearest training images in
pixel space. The k-means control runs this stage on k-means prototypes.

With ``--lenet`` (the seed's feature network, stage mnist.features) and ``--distribution``, the stage also
measures every arm's intermediate frames as a set (and the other decoder's version of them, "<arm>@<decoder>")
against held-out real test images, in the LeNet's features: Fréchet and kernel distance, precision, recall,
density and coverage (:func:`musicsom.experiments.mnist.arm_distributions`), at equal set sizes, with the floor
"real_train" (training images against the same real images). The real images are a seeded draw of test images
that are not start images; ``mnist.features`` gives k, n_subsets and subset_size.
"""

from __future__ import annotations

import logging

import pandas as pd

from musicsom.experiments import mnist as mn
from musicsom.music import MusicParams
from musicsom.pipeline import files
from musicsom.pipeline.mnist.context import add_context_args, add_table2_args, attach_graph, load_context, pairs_of
from musicsom.pipeline.sections import add_section, build, require

log = logging.getLogger("musicsom.pipeline.mnist.trajectories")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_context_args(p)
    add_table2_args(p, "n_starts per pair, n_steps, knn_stride, knn_path_k, knn_path_nodes")
    p.add_argument("--methods", nargs="+", default=list(mn.METHODS), choices=list(mn.METHODS),
                   help="the arms to run (default all; the VAE arms need --vae)")
    p.add_argument("--out", required=True, help="per-trajectory CSV to write")
    p.add_argument("--lenet", help="the seed's LeNet (mnist.features): measure the arms' frames as sets")
    add_section(p, "features", "mnist.features", "the set-level metrics' settings (k, n_subsets, subset_size; with --lenet)",
                required=False)
    p.add_argument("--distribution", help="CSV of the set-level metrics to write (with --lenet)")
    a = p.parse_args(argv)
    if bool(a.lenet) != bool(a.distribution) or (a.lenet and not a.features):
        raise files.InputError("--lenet, --features and --distribution go together: give all three or none")
    t = require(a.table2, "mnist.table2", ("n_starts", "n_steps", "knn_stride"))
    if "music" not in a.methods:
        raise files.InputError(f"--methods {a.methods}: Table 2 compares every arm with MUSIC; include music")
    pairs = pairs_of(a.pairs)
    params = build(MusicParams, a.music, "mnist.music")
    ctx = load_context(a)
    if "knn_path" in a.methods:
        attach_graph(ctx, a.table2, a.seed)
    jobs = mn.pair_jobs(ctx, pairs, int(t["n_starts"]), a.seed)
    targets, relaxed = mn.targets_of(ctx, jobs)
    if relaxed.any():
        log.warning("%d trajectories: no target prototype reaches purity %.2f; the nearest of any purity is used", relaxed.sum(), ctx.min_purity)
    frames: dict | None = {} if a.lenet else None
    rows = mn.trajectory_rows(ctx, jobs, targets, relaxed, int(t["n_steps"]), params, a.seed, methods=tuple(a.methods),
                              knn_k=a.knn_k, knn_stride=int(t["knn_stride"]), equal_decoders=True, frames_out=frames)
    frame = pd.DataFrame(rows)
    frame.insert(0, "seed", a.seed)
    for m, g in frame.groupby("method"):
        log.info("%s: median crossing step %g, mean third-class steps %.2f, mean sharpness %.4f", m,
                 g["crossing_step"].median(), g["third_class_steps"].mean(), g["sharpness"].mean())
    if a.lenet:
        dist = pd.DataFrame(distribution_rows(a, ctx, jobs, frames))
        dist.insert(0, "seed", a.seed)
        for _, r in dist.iterrows():
            log.info("%s: FD %.3g, KD %.3g, precision %.3f, recall %.3f, density %.3f, coverage %.3f", r["arm"], r["fd"],
                     r["kd"], r["precision"], r["recall"], r["density"], r["coverage"])
        files.save_csv(a.distribution, dist)
    files.save_csv(a.out, frame)


def distribution_rows(a, ctx, jobs, frames: dict) -> list[dict]:
    """The set-level metrics of every arm's frames (module docstring), in the seed's LeNet features."""
    import numpy as np

    from musicsom.experiments.models.lenet import LeNet, lenet_features
    from musicsom.pipeline.mnist.context import slice_digits

    f = require(a.features, "mnist.features", ("k", "n_subsets", "subset_size"))
    model = files.load_model(a.lenet, LeNet)
    d = slice_digits(files.load_npz(a.data, required=("x_train", "y_train", "x_test", "y_test")), a.n_train, a.n_test)
    rng = np.random.default_rng([a.seed, 2024])
    starts = {j.test_index for j in jobs}
    held_out = rng.permutation([i for i in range(len(d["x_test"])) if i not in starts])
    train = rng.permutation(len(d["x_train"]))
    try:
        return mn.arm_distributions(lambda X: lenet_features(model, X), frames, d["x_test"][held_out] / 255.0,
                                    d["x_train"][train] / 255.0, k=int(f["k"]), n_subsets=int(f["n_subsets"]),
                                    subset_size=int(f["subset_size"]), seed=a.seed)
    except ValueError as exc:
        raise files.InputError(f"the set-level metrics cannot be measured: {exc} (mnist.features, mnist.table2)") from None


if __name__ == "__main__":
    files.run_main(main)
