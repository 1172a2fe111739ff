"""An MLP classifier on whitened latent codes (the paper's classifier in the SOM's PCA space).

``D → hidden … → n_classes`` with ReLU and dropout, trained by Adam on the cross-entropy. Seeded:
shuffling uses one ``torch.Generator``, dropout the global torch seed set here.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

log = logging.getLogger("musicsom.experiments.models.classifier")


class MLPClassifier(nn.Module):
    def __init__(self, n_inputs: int, n_classes: int = 10, hidden=(256, 256), dropout: float = 0.1):
        super().__init__()
        hidden = [int(h) for h in hidden]
        self.config = {"n_inputs": int(n_inputs), "n_classes": int(n_classes), "hidden": hidden, "dropout": float(dropout)}
        layers, prev = [], int(n_inputs)
        for h in hidden:
            layers += [nn.Linear(prev, h), nn.ReLU(), nn.Dropout(dropout)]
            prev = h
        layers.append(nn.Linear(prev, int(n_classes)))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def _f32(x) -> torch.Tensor:
    a = np.asarray(x, dtype=np.float32)
    if a.ndim != 2 or not np.all(np.isfinite(a)):
        raise ValueError(f"inputs must be a finite 2-D array (n × D); got shape {a.shape}")
    return torch.from_numpy(np.ascontiguousarray(a))


def _supervised_epoch(model, X, Y, gen, batch_size: int, opt, dev, sched=None) -> dict:
    """One shuffled pass of cross-entropy training (private; shared by the classifier and the LeNet).

    The shuffle draws from ``gen``; ``sched`` (optional) steps after every batch. Returns the epoch's mean
    training loss and accuracy.
    """
    model.train()
    n = X.shape[0]
    perm = torch.randperm(n, generator=gen)
    tot = correct = 0.0
    for s in range(0, n, batch_size):
        idx = perm[s : s + batch_size].to(dev)
        logits = model(X[idx])
        loss = F.cross_entropy(logits, Y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        tot += loss.item() * idx.numel()
        correct += float((logits.argmax(1) == Y[idx]).sum())
    return {"train_loss": tot / n, "train_accuracy": correct / n}


def train_classifier(
    x,
    y,
    n_classes: int | None = None,
    hidden=(256, 256),
    dropout: float = 0.1,
    epochs: int = 20,
    batch_size: int = 256,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    x_val=None,
    y_val=None,
    device=None,
):
    """Train on ``x`` (n × D) with integer labels ``y``. Returns ``(model, history)``.

    ``history``: one dict per epoch with the mean training loss and accuracy, and the validation
    accuracy when ``x_val``/``y_val`` are given. ``device`` (a ``torch.device``, default CPU): where it
    trains; the shuffling and dropout seeds are the same, the returned model is on the CPU.
    """
    X = _f32(x)
    Y = torch.from_numpy(np.asarray(y, dtype=np.int64))
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one label per row of x; got {Y.shape[0]} vs {X.shape[0]}")
    if int(epochs) < 1 or int(batch_size) < 1 or lr <= 0:
        raise ValueError(f"need epochs >= 1, batch_size >= 1 and lr > 0; got {epochs}, {batch_size}, {lr}")
    n_classes = int(Y.max()) + 1 if n_classes is None else int(n_classes)
    torch.manual_seed(int(seed))
    gen = torch.Generator().manual_seed(int(seed))
    model = MLPClassifier(X.shape[1], n_classes, hidden, dropout)
    dev = torch.device("cpu") if device is None else torch.device(device)
    model, X, Y = model.to(dev), X.to(dev), Y.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = []
    for epoch in range(int(epochs)):
        rec = {"epoch": epoch + 1, **_supervised_epoch(model, X, Y, gen, batch_size, opt, dev)}
        if x_val is not None:
            rec["val_accuracy"] = float(np.mean(predict_proba(model, x_val).argmax(1) == np.asarray(y_val)))
        history.append(rec)
        log.info("classifier epoch %d/%d: %s", epoch + 1, epochs, {k: round(v, 4) for k, v in rec.items() if k != "epoch"})
    model.eval()
    return model.cpu(), history


@torch.no_grad()
def predict_proba(model: MLPClassifier, x, batch_size: int = 8192) -> np.ndarray:
    """Class probabilities (softmax) for rows of ``x``: (n, n_classes) float64."""
    model.eval()
    X = _f32(np.atleast_2d(x)).to(next((p.device for p in model.parameters()), torch.device("cpu")))
    return np.concatenate(
        [torch.softmax(model(X[s : s + batch_size]).double(), 1).cpu().numpy() for s in range(0, X.shape[0], batch_size)]
    )
