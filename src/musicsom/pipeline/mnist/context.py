"""What the MNIST stages share: the input slice, the digit pairs, and reading the inputs of the trajectory stages.

The trajectory stages (``trajectories``, ``transition``, ``sweep``, ``fig20``, the robustness blocks
``robustness``, ``robustness_dim``, ``robustness_sweeps`` and the k-means control's ``kmeans.robustness``)
read the same files (digits, PCA encoding, latent codes, SOM, labels, classifier, VAE) and take the same
plain config values (``mnist.n_train``, ``mnist.n_test``, ``mnist.target_min_purity``, and ``mnist.knn_k``
where frames are compared with the training images); this module declares them once and reads them into a
:class:`musicsom.experiments.mnist.Context` (:func:`attach_graph` adds the kNN-path arm's graph of training codes).
The experiment logic lives in :mod:`musicsom.experiments.mnist`.
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.encoding import flatten_images
from musicsom.experiments import mnist as mn
from musicsom.image_metrics import KnnIndex
from musicsom.pipeline import files
from musicsom.pipeline.sections import add_section, require

log = logging.getLogger("musicsom.pipeline.mnist.context")

def slice_digits(d: dict, n_train: int, n_test: int) -> dict:
    """The first ``n_train`` training and ``n_test`` test images (0 = all)."""
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        x, y = d[f"x_{split}"], d[f"y_{split}"]
        if n < 0 or n > len(x):
            raise files.InputError(f"mnist.n_{split} must be in [0, {len(x)}]; got {n}")
        n = n or len(x)
        out[f"x_{split}"], out[f"y_{split}"] = x[:n], np.asarray(y[:n], dtype=np.int64)
    return out


def add_slice_args(p, test: bool = True) -> None:
    """``--n-train`` / ``--n-test``: the config values ``mnist.n_train`` / ``mnist.n_test`` (the images every stage uses)."""
    p.add_argument("--n-train", type=int, required=True,
                   help="config mnist.n_train: the first n training images, as in mnist.encode (0 = all)")
    if test:
        p.add_argument("--n-test", type=int, required=True,
                       help="config mnist.n_test: the first n test images, as in mnist.encode (0 = all)")


def add_knn_arg(p) -> None:
    """``--knn-k``: the config value ``mnist.knn_k``."""
    p.add_argument("--knn-k", type=int, required=True,
                   help="config mnist.knn_k: training images (pixels) averaged by the manifold distance of a frame")


def add_context_args(p, vae: bool = True, knn: bool = True) -> None:
    """The inputs every trajectory stage reads, and the config values of its targets (and of the k-NN metric)."""
    p.add_argument("--data", required=True, help="digits.npz (pixels: start images and the k-NN reference)")
    add_slice_args(p)
    p.add_argument("--encoding", required=True, help="the PCA whitening of mnist.encode (.npz)")
    p.add_argument("--latent", required=True, help="the whitened codes of mnist.encode (.npz)")
    p.add_argument("--som", required=True, help="the prototypes (a SOM, or k-means centres saved the same way)")
    p.add_argument("--labels", required=True, help="the prototypes' majority labels and purity (mnist.labels)")
    p.add_argument("--classifier", required=True, help="the latent-space classifier checkpoint (mnist.classifier)")
    if vae:
        p.add_argument("--vae", default=None, help="VAE checkpoint (omit to skip the VAE arm)")
    p.add_argument("--target-min-purity", type=float, required=True,
                   help="config mnist.target_min_purity: the target prototype is the nearest of the target class among "
                        "those with at least this share of their training hits in that class")
    if knn:
        add_knn_arg(p)
    p.add_argument("--seed", type=int, required=True, help="the seed of the map and of the start draw")
    p.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (the rule's threads)")


def add_pairs_arg(p) -> None:
    """``--pairs``: the config value ``mnist.pairs``, whole, as a JSON list."""
    add_section(p, "pairs", "mnist.pairs", "the digit pairs [[source, target], ...] of Table 2", kind=list)


def pairs_of(values) -> list[tuple[int, int]]:
    """``[[0, 1], [1, 7]]`` → ``[(0, 1), (1, 7)]``, each a pair of two different digits."""
    out = []
    for v in values:
        if not isinstance(v, (list, tuple)) or len(v) != 2:
            raise files.InputError(f"mnist.pairs: {v!r} is not a [source, target] pair")
        check_pair(int(v[0]), int(v[1]))
        out.append((int(v[0]), int(v[1])))
    return out


def add_table2_args(p, table2_reads: str) -> None:
    """The config of the stages that run the Table 2 jobs: ``--pairs`` (``mnist.pairs``), ``--table2`` (the section
    ``mnist.table2``; ``table2_reads``: the keys the stage reads) and ``--music`` (``mnist.music``)."""
    add_pairs_arg(p)
    add_section(p, "table2", "mnist.table2", f"the Table 2 trajectories (this stage reads {table2_reads})")
    add_section(p, "music", "mnist.music", "the MUSIC settings (musicsom.music.MusicParams; a grid block changes them at each point)")


def add_sweep_args(p, sweep_reads: str) -> None:
    """The config of the sweep stages: ``--transition`` (the section ``mnist.transition``: its source and target are
    the pair swept), ``--sweep`` (``mnist.sweep``; ``sweep_reads``: the keys the stage reads) and ``--music``."""
    add_section(p, "transition", "mnist.transition", "its source and target are the pair of the sweeps")
    add_section(p, "sweep", "mnist.sweep", f"the sweeps (this stage reads {sweep_reads})")
    add_section(p, "music", "mnist.music", "the default MUSIC settings, which the sweeps change one at a time")


def transition_pair(a) -> tuple[int, int]:
    """(source, target) of the ``--transition`` section, checked."""
    t = require(a.transition, "mnist.transition", ("source", "target"))
    check_pair(int(t["source"]), int(t["target"]))
    return int(t["source"]), int(t["target"])


def check_pair(source: int, target: int) -> None:
    for name, v in (("source", source), ("target", target)):
        if not 0 <= v <= 9:
            raise files.InputError(f"{name} must be a digit 0-9; got {v}")
    if source == target:
        raise files.InputError(f"source and target classes are both {source}; a pair needs two classes")


def load_context(a, knn: bool = True, vae: bool = True) -> mn.Context:
    """Read every input of a trajectory stage and check its config values."""
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(max(1, a.threads))
    torch.set_num_threads(max(1, a.threads))
    if knn and a.knn_k < 1:
        raise files.InputError(f"mnist.knn_k must be >= 1; got {a.knn_k}")
    if not 0.0 <= a.target_min_purity <= 1.0:
        raise files.InputError(f"mnist.target_min_purity must be in [0, 1]; got {a.target_min_purity}")
    digits = slice_digits(files.load_npz(a.data, required=("x_train", "y_train", "x_test", "y_test")), a.n_train, a.n_test)
    lat = files.load_npz(a.latent, required=("x_test", "y_test"))
    if len(lat["x_test"]) != len(digits["x_test"]) or not np.array_equal(lat["y_test"], digits["y_test"]):
        raise files.InputError("--latent does not match --data with this mnist.n_test: rerun mnist_encode with the same slice")
    som = files.load_npz(a.som, required=("prototypes", "grid_shape", "topology"))
    lab = files.load_npz(a.labels, required=("labels", "purity"))
    enc = mn.load_encoder(files.load_npz(a.encoding, required=("mean", "components", "explained_variance")))
    if enc.components_.shape[0] != som["prototypes"].shape[1]:
        raise files.InputError(f"--encoding has D = {enc.components_.shape[0]} but --som prototypes have D = {som['prototypes'].shape[1]}")
    from musicsom.experiments.models import VAE, MLPClassifier, predict_proba, vae_decode, vae_encode

    clf = files.load_model(a.classifier, MLPClassifier)
    model = files.load_model(a.vae, VAE) if vae and getattr(a, "vae", None) else None
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
        min_purity=float(a.target_min_purity),
        z_train=lat.get("x_train"),
    )


def attach_graph(ctx: mn.Context, table2: dict, seed: int) -> None:
    """Build the kNN-path arm's graph once for the stage run (``mnist.table2.knn_path_k`` neighbours per code, over
    ``knn_path_nodes`` training codes drawn with ``seed``; 0 = all) and keep it in ``ctx.graph``."""
    import time

    t = require(table2, "mnist.table2", ("knn_path_k", "knn_path_nodes"))
    k, nodes = int(t["knn_path_k"]), int(t["knn_path_nodes"])
    if k < 1:
        raise files.InputError(f"mnist.table2.knn_path_k must be >= 1; got {k}")
    if nodes < 0:
        raise files.InputError(f"mnist.table2.knn_path_nodes must be >= 0 (0 = every training code); got {nodes}")
    if ctx.z_train is None:
        raise files.InputError("--latent holds no x_train (the training codes the kNN path walks on): rerun mnist_encode")
    if len(ctx.z_train) < k + 1:
        raise files.InputError(f"the kNN-path graph needs more than knn_path_k = {k} training codes; --latent has {len(ctx.z_train)}")
    start = time.perf_counter()
    ctx.graph = mn.LatentGraph.build(ctx.z_train, k, nodes, seed)
    log.info("kNN-path graph: %d of %d training codes, k = %d, %d component(s), built in %.1f s", len(ctx.graph.nodes),
             len(ctx.z_train), k, ctx.graph.n_components, time.perf_counter() - start)
    if ctx.graph.n_components > 1:
        log.warning("the kNN-path graph has %d components: a start and target in different ones get NaN metrics; "
                    "raise mnist.table2.knn_path_k or knn_path_nodes", ctx.graph.n_components)
