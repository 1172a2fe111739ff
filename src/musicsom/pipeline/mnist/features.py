"""Stage: the LeNet of the distribution metrics, per seed, and the real-image floor of those metrics.

    python -m musicsom.pipeline.mnist.features --data results/data/digits.npz --n-train 0 --n-test 0 \
        --features '{"epochs": 3, "batch_size": 128, "lr": 0.005, "n_floor": 2000, "k": 5, "n_subsets": 100, "subset_size": 1000}' \
        --seed 0 --threads 1 --device cpu --model results/mnist/seed0/lenet.pt --summary results/mnist/seed0/lenet.json

Trains :class:`~musicsom.experiments.models.lenet.LeNet` on the training images (the first ``mnist.n_train``),
seeded by the map's seed, so every seed measures in features of its own network. The summary holds the test
accuracy (the first ``mnist.n_test`` test images, never used for training), the training time, and the
**floor**: :func:`~musicsom.experiments.distribution.compare_sets` of ``n_floor`` held-out test images against
``n_floor`` training images (two seeded random draws of equal size), i.e. what the distribution metrics read
for two samples of real digits. The tables print it beside the arms' values: a set of frames can come no
closer to the real images than that.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from musicsom.experiments.distribution import compare_sets
from musicsom.experiments.models import checkpoint, resolve_device, seed_everything
from musicsom.experiments.models.lenet import lenet_accuracy, lenet_features, train_lenet
from musicsom.pipeline import files
from musicsom.pipeline.mnist.context import add_slice_args, slice_digits
from musicsom.pipeline.mnist.training import add_training_args
from musicsom.pipeline.sections import add_section, require

log = logging.getLogger("musicsom.pipeline.mnist.features")

KEYS = ("epochs", "batch_size", "lr", "n_floor", "k", "n_subsets", "subset_size")


def floor_indices(n_train: int, n_test: int, n_floor: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The training and test images of the floor: ``n_floor`` of each, drawn without replacement (seeded)."""
    if n_floor > min(n_train, n_test):
        raise files.InputError(f"mnist.features.n_floor = {n_floor} exceeds the images at hand ({n_train} training, "
                               f"{n_test} test; mnist.n_train / mnist.n_test): lower n_floor or use more images")
    # a stream of its own: the kernel distance draws its subsets from default_rng(seed)
    rng = np.random.default_rng([int(seed), 23])
    return np.sort(rng.choice(n_train, n_floor, replace=False)), np.sort(rng.choice(n_test, n_floor, replace=False))


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="digits.npz (uint8 images; the LeNet trains on pixels)")
    add_slice_args(p)
    add_section(p, "features", "mnist.features",
                "the LeNet's training (epochs, batch_size, lr) and the floor (n_floor, k, n_subsets, subset_size)")
    add_training_args(p, "test accuracy, training time, the real-image floor of the distribution metrics")
    a = p.parse_args(argv)
    f = require(a.features, "mnist.features", KEYS)
    n_floor, k, n_subsets, subset_size = int(f["n_floor"]), int(f["k"]), int(f["n_subsets"]), int(f["subset_size"])
    if subset_size > n_floor:
        raise files.InputError(f"mnist.features.subset_size = {subset_size} exceeds n_floor = {n_floor}: the kernel "
                               "distance draws its subsets from the floor's images; lower subset_size or raise n_floor")
    if k >= n_floor:
        raise files.InputError(f"mnist.features.k = {k} needs more than k floor images; got n_floor = {n_floor}")
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(max(1, a.threads))  # BLAS (the metrics' products) on the rule's threads, as torch
    d = slice_digits(files.load_npz(a.data, required=("x_train", "y_train", "x_test", "y_test")), a.n_train, a.n_test)
    i_train, i_test = floor_indices(len(d["x_train"]), len(d["x_test"]), n_floor, a.seed)
    device = resolve_device(a.device)
    log.info("training on %s, %d images, %d thread(s)", device, len(d["x_train"]), a.threads)
    seed_everything(a.seed, a.threads)
    t0 = time.perf_counter()
    model, history = train_lenet(d["x_train"], d["y_train"], epochs=int(f["epochs"]), batch_size=int(f["batch_size"]),
                                 lr=float(f["lr"]), seed=a.seed, device=device)
    train_seconds = time.perf_counter() - t0
    acc = lenet_accuracy(model, d["x_test"], d["y_test"])
    log.info("LeNet: test accuracy %.4f after %.1f s of training", acc, train_seconds)
    t0 = time.perf_counter()
    floor = compare_sets(lenet_features(model, d["x_test"][i_test]), lenet_features(model, d["x_train"][i_train]),
                         k=k, n_subsets=n_subsets, subset_size=subset_size, seed=a.seed)
    floor_seconds = time.perf_counter() - t0
    log.info("floor (test vs training images): %s", {key: round(v, 5) for key, v in floor.items()})
    with files.atomic_path(a.model, suffix=".pt") as tmp:
        torch.save(checkpoint(model, history, seed=a.seed, test_accuracy=acc), tmp)
    files.save_json(a.summary, {
        "test_accuracy": acc, "train_seconds": train_seconds, "seed": a.seed, "threads": a.threads, "device": str(device),
        "n_train": int(len(d["x_train"])), "n_test": int(len(d["x_test"])), "features": "ReLU(fc2)",
        "n_features": model.n_features, "settings": dict(f),
        "floor": {**floor, "real": "test images", "fake": "training images", "seconds": floor_seconds},
        "history": history,
    })


if __name__ == "__main__":
    files.run_main(main)
