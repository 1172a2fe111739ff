"""A LeNet-5-style CNN on 28 × 28 MNIST images in [0, 1]: the domain network of the distribution metrics.

The "Fréchet LeNet distance" practice: where Inception weights are out of reach (and Inception is the
wrong network for 28 × 28 digits), the Fréchet, kernel and PRDC measures of
:mod:`musicsom.experiments.distribution` are taken in the features of a small CNN trained on the
domain's own pixels. One network per seed (the pipeline's ``mnist_features`` rule), so the spread over
seeds includes the feature extractor's.

Architecture (LeCun et al. 1998, with ReLU and max pooling, the usual modern reading)::

    (x − 0.1307) / 0.3081                       MNIST's pixel mean and std (fixed constants, no training)
    conv 5×5, 6 channels, padding 2 → ReLU → max-pool 2      28×28 → 14×14
    conv 5×5, 16 channels          → ReLU → max-pool 2      10×10 →  5×5
    fc 400 → 120 → ReLU
    fc 120 →  84 → ReLU          ← the features (:func:`lenet_features`)
    fc  84 →  10                 logits

Training: Adam on the cross-entropy with a one-cycle learning-rate schedule (``lr`` is the peak;
it rises from ``lr / 25`` over the first 30 % of the steps and anneals to ~0), which reaches
≥ 99 % test accuracy in 3 epochs on the 60,000 training images; an epoch takes 10–15 s on one
(shared) CPU thread (docs/benchmarks.md, "distribution-metrics"). Seeded: the initialisation draws
from the global torch seed set here, the shuffling from one ``torch.Generator``; the network has no
dropout. No file I/O: the stage saves
:func:`musicsom.experiments.models.checkpoint` of the model.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from musicsom.experiments.models.classifier import _supervised_epoch

log = logging.getLogger("musicsom.experiments.models.lenet")

__all__ = ["LeNet", "lenet_accuracy", "lenet_features", "lenet_logits", "train_lenet"]

# MNIST's training-pixel mean and standard deviation (values in [0, 1]): a fixed input standardisation
PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081
IMAGE_SIDE = 28


class LeNet(nn.Module):
    """LeNet-5 with ReLU and max pooling; ``forward`` gives logits, :meth:`features` the penultimate layer."""

    def __init__(self, channels=(6, 16), hidden=(120, 84), n_classes: int = 10):
        super().__init__()
        c1, c2 = (int(c) for c in channels)
        h1, h2 = (int(h) for h in hidden)
        self.config = {"channels": [c1, c2], "hidden": [h1, h2], "n_classes": int(n_classes)}
        self.conv1 = nn.Conv2d(1, c1, 5, padding=2)
        self.conv2 = nn.Conv2d(c1, c2, 5)
        self.fc1 = nn.Linear(c2 * 5 * 5, h1)
        self.fc2 = nn.Linear(h1, h2)
        self.out = nn.Linear(h2, int(n_classes))

    @property
    def n_features(self) -> int:
        return int(self.fc2.out_features)

    def features(self, x):
        """The penultimate layer: ReLU(fc2), (n, 84) for the default widths. ``x``: (n, 1, 28, 28) in [0, 1]."""
        x = (x - PIXEL_MEAN) / PIXEL_STD
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.relu(self.fc2(F.relu(self.fc1(x.flatten(1)))))

    def forward(self, x):
        return self.out(self.features(x))


def _images(x) -> torch.Tensor:
    """(n, 1, 28, 28) float32 of images given as (n, 28, 28), (n, 784) or (n, 1, 28, 28); uint8 is scaled by 1/255."""
    a = np.asarray(x)
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / 255.0
    a = np.asarray(a, dtype=np.float32)
    side = IMAGE_SIDE
    if (a.ndim == 2 and a.shape[1] == side * side) or (a.ndim == 3 and a.shape[1:] == (side, side)) \
            or (a.ndim == 4 and a.shape[1:] == (1, side, side)):
        a = a.reshape(a.shape[0], 1, side, side)
    else:
        raise ValueError(f"LeNet images must be 28 × 28: an array (n, 28, 28), (n, 784) or (n, 1, 28, 28); got shape {a.shape}")
    if a.size and (not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > 1):
        raise ValueError("LeNet images must be finite pixel intensities in [0, 1] (divide uint8 images by 255, "
                         "or pass them as uint8; clip decoded frames to [0, 1])")
    return torch.from_numpy(np.ascontiguousarray(a))


def train_lenet(
    images,
    labels,
    epochs: int = 3,
    batch_size: int = 128,
    lr: float = 0.005,
    seed: int = 0,
    channels=(6, 16),
    hidden=(120, 84),
    n_classes: int = 10,
    x_val=None,
    y_val=None,
    device=None,
):
    """Train a :class:`LeNet` on ``images`` (see :func:`lenet_features` for the accepted shapes) with integer
    ``labels``. Returns ``(model, history)``.

    ``history``: one dict per epoch with the mean training loss and accuracy (over the epoch's
    batches, while training) and the validation accuracy when ``x_val``/``y_val`` are given.
    ``lr``: the peak of the one-cycle schedule. ``device`` (a ``torch.device``, default CPU): where it
    trains; the seeds are the same, the returned model is on the CPU, in eval mode.
    """
    X = _images(images)
    Y = torch.from_numpy(np.asarray(labels, dtype=np.int64).ravel())
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"labels must hold one label per image; got {Y.shape[0]} labels for {X.shape[0]} images")
    if int(epochs) < 1 or int(batch_size) < 1 or not lr > 0:
        raise ValueError(f"need epochs >= 1, batch_size >= 1 and lr > 0; got {epochs}, {batch_size}, {lr}")
    if X.shape[0] == 0:
        raise ValueError("no training images: pass at least one image")
    if Y.min() < 0 or Y.max() >= int(n_classes):
        raise ValueError(f"labels must be integers in [0, {int(n_classes) - 1}]; got {int(Y.min())}..{int(Y.max())}")
    torch.manual_seed(int(seed))
    gen = torch.Generator().manual_seed(int(seed))
    model = LeNet(channels, hidden, n_classes)
    dev = torch.device("cpu") if device is None else torch.device(device)
    model, X, Y = model.to(dev), X.to(dev), Y.to(dev)
    n, batch_size = X.shape[0], int(batch_size)
    steps_per_epoch = (n + batch_size - 1) // batch_size
    opt = torch.optim.Adam(model.parameters(), lr=float(lr))
    # one-cycle: warm up from lr/25 to lr over 30 % of the steps, anneal (cosine) to lr/25/1e4; converges in
    # few epochs at a peak rate a constant schedule could not hold (measured on one seed, 3 epochs: 99.2 % test
    # accuracy, against 98.7 % with a constant rate of 0.002)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=float(lr), total_steps=int(epochs) * steps_per_epoch)
    history = []
    for epoch in range(int(epochs)):
        rec = {"epoch": epoch + 1, **_supervised_epoch(model, X, Y, gen, batch_size, opt, dev, sched)}
        if x_val is not None:
            rec["val_accuracy"] = lenet_accuracy(model, x_val, y_val)
        history.append(rec)
        log.info("LeNet epoch %d/%d: %s", epoch + 1, epochs, {k: round(v, 4) for k, v in rec.items() if k != "epoch"})
    model.eval()
    return model.cpu(), history


def _batched(model: LeNet, images, batch_size: int, fn, width: int) -> np.ndarray:
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    model.eval()
    X = _images(images)
    dev = next((p.device for p in model.parameters()), torch.device("cpu"))
    with torch.no_grad():
        parts = [fn(X[s : s + int(batch_size)].to(dev)).double().cpu().numpy() for s in range(0, X.shape[0], int(batch_size))]
    return np.concatenate(parts) if parts else np.empty((0, width))


def lenet_features(model: LeNet, images, batch_size: int = 2048) -> np.ndarray:
    """The penultimate fully connected layer's activations, ReLU(fc2): (n, 84) float64.

    Why this layer: it is the representation the network's last (linear) layer classifies, so it
    holds what separates the digits and little of the pixel detail the classifier learnt to ignore;
    it is the analogue of Inception's pool3 features of FID (the input of its logits layer). The
    logits themselves (10-d) are too narrow and nearly one-hot on confident digits, so a blurred
    but recognisable 7 would sit where a sharp 7 does; the convolutional maps (400-d after the
    second pool) still keep the stroke-level detail of the pixels and give a covariance estimated
    far less well from a few thousand images. 84 dimensions keep the covariance of the Fréchet
    distance well determined from ~2,000 images. The post-ReLU values are non-negative and a unit
    may be silent on every image (zero variance): the Fréchet distance handles the singular
    covariance that follows.

    ``images``: (n, 28, 28), (n, 784) or (n, 1, 28, 28), floats in [0, 1] (uint8 is scaled by 1/255).
    """
    return _batched(model, images, batch_size, model.features, model.n_features)


def lenet_logits(model: LeNet, images, batch_size: int = 2048) -> np.ndarray:
    """The class logits of ``images``: (n, n_classes) float64."""
    return _batched(model, images, batch_size, model, model.out.out_features)


def lenet_accuracy(model: LeNet, images, labels, batch_size: int = 2048) -> float:
    """The share of ``images`` whose most likely class is their label."""
    y = np.asarray(labels, dtype=np.int64).ravel()
    logits = lenet_logits(model, images, batch_size)
    if y.shape[0] != logits.shape[0]:
        raise ValueError(f"labels must hold one label per image; got {y.shape[0]} labels for {logits.shape[0]} images")
    return float(np.mean(logits.argmax(1) == y)) if y.size else float("nan")
