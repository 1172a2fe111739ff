"""A variational autoencoder on flattened images in [0, 1] (Kingma & Welling): MLP encoder and decoder.

Encoder ``P → hidden → (μ, log σ²)`` of size ``latent``; decoder ``latent → hidden → P`` logits
(Bernoulli likelihood, sigmoid output). Loss per image: binary cross-entropy summed over pixels plus
the KL divergence to N(0, I). Training is seeded: the shuffling and the reparameterisation noise
draw from one ``torch.Generator``.
"""

from __future__ import annotations

import logging
import sys

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

log = logging.getLogger("musicsom.experiments.models.vae")


class VAE(nn.Module):
    def __init__(self, n_inputs: int = 784, hidden: int = 512, latent: int = 32):
        super().__init__()
        self.config = {"n_inputs": int(n_inputs), "hidden": int(hidden), "latent": int(latent)}
        self.enc = nn.Sequential(nn.Linear(n_inputs, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.dec = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, n_inputs))

    def encode(self, x):
        h = self.enc(x)
        return self.mu(h), self.logvar(h)

    def decode_logits(self, z):
        return self.dec(z)

    def forward(self, x, generator: torch.Generator | None = None):
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)  # drawn on the CPU
        z = mu + eps * torch.exp(0.5 * logvar)
        return self.decode_logits(z), mu, logvar


def vae_loss(logits, x, mu, logvar):
    """(total, reconstruction, KL), each the mean over the batch of the per-image sums."""
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.shape[0]
    return rec + kl, rec, kl


def _tensor(x) -> torch.Tensor:
    a = np.asarray(x, dtype=np.float32)
    if a.ndim != 2:
        a = a.reshape(a.shape[0], -1)
    if a.size and (a.min() < 0 or a.max() > 1):
        raise ValueError("VAE inputs must be pixel intensities in [0, 1] (divide uint8 images by 255)")
    return torch.from_numpy(np.ascontiguousarray(a))


def train_vae(
    x,
    latent: int = 32,
    hidden: int = 512,
    epochs: int = 30,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = False,
    device=None,
):
    """Train a VAE on rows of ``x`` (n × P, values in [0, 1]). Returns ``(model, history)``.

    ``history`` holds one dict per epoch: epoch, loss, reconstruction, kl (means over images).
    ``device`` (a ``torch.device``, default CPU): where it trains; the random draws stay on the CPU
    generator, the returned model is on the CPU.
    """
    if int(epochs) < 1 or int(batch_size) < 1 or lr <= 0:
        raise ValueError(f"need epochs >= 1, batch_size >= 1 and lr > 0; got {epochs}, {batch_size}, {lr}")
    X = _tensor(x)
    torch.manual_seed(int(seed))
    gen = torch.Generator().manual_seed(int(seed))
    model = VAE(X.shape[1], hidden, latent)
    dev = torch.device("cpu") if device is None else torch.device(device)
    model, X = model.to(dev), X.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = X.shape[0]
    history = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=int(epochs) * ((n + batch_size - 1) // batch_size), file=sys.stderr, desc="VAE", mininterval=10.0)
    for epoch in range(int(epochs)):
        model.train()
        perm = torch.randperm(n, generator=gen)
        tot = rec_sum = kl_sum = 0.0
        for s in range(0, n, batch_size):
            xb = X[perm[s : s + batch_size].to(dev)]
            logits, mu, logvar = model(xb, gen)
            loss, rec, kl = vae_loss(logits, xb, mu, logvar)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * xb.shape[0]
            rec_sum += rec.item() * xb.shape[0]
            kl_sum += kl.item() * xb.shape[0]
            if bar is not None:
                bar.update(1)
        history.append({"epoch": epoch + 1, "loss": tot / n, "reconstruction": rec_sum / n, "kl": kl_sum / n})
        log.info("VAE epoch %d/%d: loss %.2f (reconstruction %.2f, KL %.2f)", epoch + 1, epochs, tot / n, rec_sum / n, kl_sum / n)
    if bar is not None:
        bar.close()
    model.eval()
    return model.cpu(), history


@torch.no_grad()
def vae_test_loss(model: VAE, x, seed: int, batch_size: int = 4096) -> dict:
    """Negative ELBO of the rows of ``x`` (values in [0, 1]) in nats per image, with its two terms.

    One reparameterised draw per image from a generator seeded by ``seed`` (the training objective's
    estimator, so held-out and training losses compare); the KL term is exact. The likelihood is the
    Bernoulli one the model trains with, applied to grey levels, so the number ranks models of this
    family rather than being a calibrated log-likelihood.
    """
    model.eval()
    X = _tensor(x)
    if X.shape[0] == 0:
        raise ValueError("vae_test_loss needs at least one image")
    gen = torch.Generator().manual_seed(int(seed))
    tot = rec = kl = 0.0
    for s in range(0, X.shape[0], batch_size):
        xb = X[s : s + batch_size]
        logits, mu, logvar = model(xb, generator=gen)
        t, r, k = vae_loss(logits, xb, mu, logvar)
        tot, rec, kl = tot + t.item() * xb.shape[0], rec + r.item() * xb.shape[0], kl + k.item() * xb.shape[0]
    n = X.shape[0]
    return {"negative_elbo": tot / n, "reconstruction": rec / n, "kl": kl / n}


@torch.no_grad()
def vae_encode(model: VAE, x, batch_size: int = 4096) -> np.ndarray:
    """Posterior means μ(x) of rows of ``x`` (values in [0, 1]): (n, latent) float64."""
    model.eval()
    X = _tensor(x)
    return np.concatenate([model.encode(X[s : s + batch_size])[0].double().numpy() for s in range(0, X.shape[0], batch_size)])


@torch.no_grad()
def vae_decode(model: VAE, z, batch_size: int = 4096) -> np.ndarray:
    """Decoded images (sigmoid of the logits) of latent rows ``z``: (n, P) float64 in [0, 1]."""
    model.eval()
    Z = torch.from_numpy(np.ascontiguousarray(np.asarray(z, dtype=np.float32)))
    if Z.ndim == 1:
        Z = Z[None]
    return np.concatenate(
        [torch.sigmoid(model.decode_logits(Z[s : s + batch_size])).double().numpy() for s in range(0, Z.shape[0], batch_size)]
    )
