"""Helpers shared by the MNIST stages: the input slice, and reading the inputs of the trajectory stages.

The trajectory stages (``trajectories``, ``transition``, ``sweep``, ``fig20``, and the robustness study)
read the same files (digits, PCA encoding, latent codes, SOM, labels, classifier, VAE) and take the same
options; this module holds that reading once and returns a :class:`musicsom.experiments.mnist.Context`.
The experiment logic lives in :mod:`musicsom.experiments.mnist`.
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.encoding import flatten_images
from musicsom.experiments import mnist as mn
from musicsom.image_metrics import KnnIndex
from musicsom.music import MusicParams
from musicsom.pipeline import _io

log = logging.getLogger("musicsom.pipeline.mnist")


def slice_digits(d: dict, n_train: int, n_test: int) -> dict:
    """The first ``n_train`` training and ``n_test`` test images (0 = all)."""
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        x, y = d[f"x_{split}"], d[f"y_{split}"]
        if n < 0 or n > len(x):
            raise _io.InputError(f"--n-{split} must be in [0, {len(x)}]; got {n}")
        n = n or len(x)
        out[f"x_{split}"], out[f"y_{split}"] = x[:n], np.asarray(y[:n], dtype=np.int64)
    return out


def add_context_args(p, vae: bool = True) -> None:
    """The inputs every trajectory stage reads, and the options of the start draw and the metrics."""
    p.add_argument("--data", required=True, help="digits.npz (pixels: start images and the k-NN reference)")
    p.add_argument("--n-train", type=int, default=0, help="first n training images, as in mnist_encode (0 = all)")
    p.add_argument("--n-test", type=int, default=0, help="first n test images, as in mnist_encode (0 = all)")
    p.add_argument("--encoding", required=True)
    p.add_argument("--latent", required=True)
    p.add_argument("--som", required=True, help="the prototypes (a SOM, or k-means centres saved the same way)")
    p.add_argument("--labels", required=True)
    p.add_argument("--classifier", required=True)
    if vae:
        p.add_argument("--vae", default=None, help="VAE checkpoint (omit to skip the VAE arm)")
    p.add_argument("--min-purity", type=float, default=0.0, help="target prototype: minimum share of its hits in the target class")
    p.add_argument("--knn-k", type=int, default=5)
    p.add_argument("--knn-stride", type=int, default=1, help="manifold distance on every n-th frame (and the last)")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")


def add_pair_args(p) -> None:
    """One digit pair (source -> target), as the 0 -> 1 demonstration and the sweeps use."""
    p.add_argument("--source", type=int, required=True)
    p.add_argument("--target", type=int, required=True)


def parse_pairs(values) -> list[tuple[int, int]]:
    """``["0:1", "1:7"]`` → ``[(0, 1), (1, 7)]``, each a pair of two different digits."""
    out = []
    for v in values:
        try:
            a, b = (int(x) for x in str(v).split(":"))
        except ValueError:
            raise _io.InputError(f"--pairs: {v!r} is not SOURCE:TARGET (e.g. 0:1)") from None
        check_pair(a, b)
        out.append((a, b))
    return out


def check_pair(source: int, target: int) -> None:
    for name, v in (("source", source), ("target", target)):
        if not 0 <= v <= 9:
            raise _io.InputError(f"{name} must be a digit 0-9; got {v}")
    if source == target:
        raise _io.InputError(f"source and target classes are both {source}; a pair needs two classes")


def load_context(a, knn: bool = True, vae: bool = True) -> mn.Context:
    """Read every input of a trajectory stage and check the shared options."""
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(max(1, a.threads))
    torch.set_num_threads(max(1, a.threads))
    if a.knn_k < 1 or a.knn_stride < 1:
        raise _io.InputError("--knn-k and --knn-stride must be >= 1")
    if not 0.0 <= a.min_purity <= 1.0:
        raise _io.InputError(f"--min-purity must be in [0, 1]; got {a.min_purity}")
    digits = slice_digits(_io.load_npz(a.data, required=("x_train", "y_train", "x_test", "y_test")), a.n_train, a.n_test)
    lat = _io.load_npz(a.latent, required=("x_test", "y_test"))
    if len(lat["x_test"]) != len(digits["x_test"]) or not np.array_equal(lat["y_test"], digits["y_test"]):
        raise _io.InputError("--latent does not match --data with these --n-test: rerun mnist_encode with the same slice")
    som = _io.load_npz(a.som, required=("prototypes", "grid_shape", "topology"))
    lab = _io.load_npz(a.labels, required=("labels", "purity"))
    enc = mn.load_encoder(_io.load_npz(a.encoding, required=("mean", "components", "explained_variance")))
    if enc.components_.shape[0] != som["prototypes"].shape[1]:
        raise _io.InputError(f"--encoding has D = {enc.components_.shape[0]} but --som prototypes have D = {som['prototypes'].shape[1]}")
    from musicsom.models import VAE, MLPClassifier, predict_proba, vae_decode, vae_encode

    clf = _io.load_model(a.classifier, MLPClassifier)
    model = _io.load_model(a.vae, VAE) if vae and getattr(a, "vae", None) else None
    return mn.Context(
        enc=enc,
        z_test=lat["x_test"],
        y_test=lat["y_test"],
        pix_test=flatten_images(digits["x_test"]),
        W=som["prototypes"],
        grid_shape=tuple(int(v) for v in som["grid_shape"]),
        topology=str(som["topology"]),
        labels=lab["labels"],
        purity=lab["purity"],
        classify=lambda Z: predict_proba(clf, Z),
        vae_encode=(lambda X: vae_encode(model, X)) if model is not None else None,
        vae_decode=(lambda Z: vae_decode(model, Z)) if model is not None else None,
        knn=KnnIndex(flatten_images(digits["x_train"]).astype(np.float32)) if knn else None,
        min_purity=float(a.min_purity),
    )


def run_start(ctx: mn.Context, a, index: int, params: MusicParams, n_steps: int, methods=mn.METHODS):
    """Every method from test image ``index`` of the pair (a.source, a.target), one trajectory each:
    (target prototype, relaxed flag, results, metric rows, per-frame series)."""
    x0 = ctx.z_test[index]
    target, relaxed = mn.choose_target(ctx.W, ctx.labels, ctx.purity, x0, a.target, ctx.min_purity)
    if relaxed:
        log.warning("no prototype of class %d has purity >= %.2f; using the nearest of any purity", a.target, ctx.min_purity)
    res = mn.run_methods(
        x0, ctx.pix_test[index], target, ctx.W, params, n_steps, ctx.enc, ctx.classify,
        ctx.vae_encode, ctx.vae_decode, ctx.grid_shape, ctx.topology, a.seed, methods,
    )
    rows, series = {}, {}
    for m, r in res.items():
        rows[m], series[m] = mn.path_metrics(r, a.source, a.target, ctx.knn, a.knn_k, a.knn_stride)
    return target, relaxed, res, rows, series
