"""The face code: image (S×S×3) → code (512-d) → image, a PCA encoder and a PCA decoder with a learned correction.

The paper encoded LFW faces with a pretrained face autoencoder whose weights are not available, so the code is
built here, per seed, from the training faces (docs/METHOD.md §6). A convolutional autoencoder trained here
from scratch reached 22.8 dB PSNR on held-out faces, far below plain PCA on the pixels (29.9 dB with 512
components; benchmarks/bench_face_code.py), so the code is PCA's:

- **Encoder**: the projection of the centred pixels onto the ``code_dim`` leading principal axes of the
  training faces (exact and linear; the axes come from a seeded randomized SVD, :func:`fit_pca`).
- **Decoder**: the PCA reconstruction ``mean + code @ components`` plus a convolutional correction of that
  reconstruction: the image is rearranged into ``2×2`` pixel blocks (``S/2 × S/2 × 12``), passed through
  ``depth`` 3×3 convolutions of ``width`` channels (leaky ReLU between them) and rearranged back, then
  projected off the principal axes: the code fixes the image along them, so the correction only adds what
  the code cannot hold, and a corrected image encodes to its own code. The last convolution starts at zero,
  so an untrained decoder *is* the PCA reconstruction.
- **Training** of the correction (the only learned part): (1 − ``ssim_weight``) L1 + ``ssim_weight`` (1 − SSIM)
  against the original faces (the pipeline uses L1 alone: with ``ssim_weight`` 0.2 the held-out PSNR was
  0.03 dB lower, the SSIM 0.0004 higher, for 1.15× the time), Adam with a linear warm-up and cosine decay, batches drawn from one seeded generator. On the
  held-out people of seed 0 the code reaches 30.9 dB with 2 epochs, in 130-145 s of one CPU thread.
"""

from __future__ import annotations

import logging
import math
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["FaceAutoencoder", "fit_pca", "train_autoencoder", "encode_images", "decode_codes", "psnr", "ssim",
           "images_to_tensor"]

log = logging.getLogger("musicsom.experiments.models.face_autoencoder")

#: the correction works on 2×2 pixel blocks (``pixel_unshuffle``): a quarter of the positions, 4× the channels
BLOCK = 2


def _check_int(value, name: str, low: int, fix: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}. {fix}")
    return int(value)


class FaceAutoencoder(nn.Module):
    """PCA encoder of ``size``×``size`` RGB faces to a ``code_dim``-d code; PCA decoder + convolutional correction.

    The PCA (``mean``, ``components``: buffers saved with the weights) is set by :meth:`set_pca`; until then it
    is zero. ``width`` and ``depth`` shape the correction (``depth`` ≥ 2 convolutions of ``width`` channels).
    """

    def __init__(self, size: int = 64, code_dim: int = 512, width: int = 32, depth: int = 5):
        super().__init__()
        size = _check_int(size, "the image side (data.lfw.size)", 2, "Use an even side such as 64.")
        if size % BLOCK:
            raise ValueError(f"the image side {size} must be a multiple of {BLOCK} (the correction works on {BLOCK}×{BLOCK} "
                             "pixel blocks); change data.lfw.size")
        n_pixels = 3 * size * size
        code_dim = _check_int(code_dim, "faces.autoencoder.code_dim", 1, "Use e.g. 512.")
        if code_dim > n_pixels:
            raise ValueError(f"faces.autoencoder.code_dim = {code_dim} exceeds the {n_pixels} pixel values of a {size}×{size} "
                             "RGB face: PCA has no more axes. Lower faces.autoencoder.code_dim")
        width = _check_int(width, "faces.autoencoder.width", 1, "Use e.g. 32.")
        depth = _check_int(depth, "faces.autoencoder.depth", 2, "The correction needs an input and an output convolution.")
        self.config = {"size": size, "code_dim": code_dim, "width": width, "depth": depth}
        self.register_buffer("mean", torch.zeros(n_pixels))
        self.register_buffer("components", torch.zeros(code_dim, n_pixels))
        c_block = 3 * BLOCK * BLOCK
        layers = [nn.Conv2d(c_block, width, 3, padding=1), nn.LeakyReLU(0.1)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.LeakyReLU(0.1)]
        last = nn.Conv2d(width, c_block, 3, padding=1)
        nn.init.zeros_(last.weight)  # an untrained decoder is the PCA reconstruction
        nn.init.zeros_(last.bias)
        self.correction = nn.Sequential(*layers, last)

    def set_pca(self, mean, components) -> FaceAutoencoder:
        """Set the PCA: ``mean`` (3·S·S,) and orthonormal ``components`` (code_dim, 3·S·S), pixels in [0, 1] in
        (channel, row, column) order."""
        mean = torch.as_tensor(np.asarray(mean), dtype=torch.float32).reshape(-1)
        components = torch.as_tensor(np.asarray(components), dtype=torch.float32)
        if mean.shape != self.mean.shape or components.shape != self.components.shape:
            raise ValueError(f"the PCA must be mean {tuple(self.mean.shape)} and components {tuple(self.components.shape)}; "
                             f"got {tuple(mean.shape)} and {tuple(components.shape)}")
        self.mean.copy_(mean)
        self.components.copy_(components)
        return self

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(n, 3, S, S) in [0, 1] → (n, code_dim): the coordinates on the principal axes."""
        return (x.flatten(1) - self.mean) @ self.components.T

    def linear_decode(self, z: torch.Tensor) -> torch.Tensor:
        """(n, code_dim) → (n, 3, S, S): the PCA reconstruction (not clipped)."""
        s = self.config["size"]
        return (self.mean + z @ self.components).view(z.shape[0], 3, s, s)

    def correct(self, r: torch.Tensor) -> torch.Tensor:
        """A reconstruction (n, 3, S, S) plus the learned correction of it, projected off the principal axes (not
        clipped): the code says exactly what the image has along the axes, so only the rest is corrected, and the
        corrected image encodes to the same code."""
        c = F.pixel_shuffle(self.correction(F.pixel_unshuffle(r, BLOCK)), BLOCK).flatten(1)
        c = c - (c @ self.components.T) @ self.components
        return r + c.view(r.shape)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(n, code_dim) → (n, 3, S, S) in [0, 1]."""
        return self.correct(self.linear_decode(z)).clamp(0.0, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def images_to_tensor(images) -> torch.Tensor:
    """(n, S, S, 3) uint8 (or floats in [0, 1]) → float32 (n, 3, S, S) in [0, 1]."""
    a = np.asarray(images)
    if a.ndim != 4 or a.shape[-1] != 3:
        raise ValueError(f"images must be (n, S, S, 3) RGB; got shape {a.shape}")
    a = a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)
    return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))


def _device(model) -> torch.device:
    return model.mean.device


def _to_uint8(t: torch.Tensor) -> np.ndarray:
    return (t.clamp(0, 1).cpu().numpy().transpose(0, 2, 3, 1) * 255.0 + 0.5).astype(np.uint8)


def _unit(v) -> np.ndarray:
    a = np.asarray(v)
    return a.astype(np.float64) / (255.0 if a.dtype == np.uint8 else 1.0)


def psnr(reference, reconstruction) -> np.ndarray:
    """Per-image peak signal-to-noise ratio in dB of images in [0, 1] (or uint8, scaled to [0, 1])."""
    a, b = _unit(reference), _unit(reconstruction)
    if a.shape != b.shape:
        raise ValueError(f"reference and reconstruction shapes differ: {a.shape} vs {b.shape}")
    mse = ((a - b) ** 2).reshape(a.shape[0], -1).mean(1)
    return 10.0 * np.log10(1.0 / np.maximum(mse, 1e-12))


def ssim(reference, reconstruction, batch_size: int = 512) -> np.ndarray:
    """Per-image SSIM of RGB images (n, S, S, 3) in [0, 1] (or uint8, scaled): ``pytorch_msssim.ssim`` with its
    defaults (11-pixel Gaussian window, σ = 1.5, K = (0.01, 0.03)), data range 1, averaged over the channels."""
    from pytorch_msssim import ssim as _ssim

    a, b = images_to_tensor(_unit(reference)), images_to_tensor(_unit(reconstruction))
    if a.shape != b.shape:
        raise ValueError(f"reference and reconstruction shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    if min(a.shape[2:]) < 11:
        raise ValueError(f"SSIM's 11-pixel window needs images of at least 11×11 pixels; got {tuple(a.shape[2:])}")
    with torch.no_grad():
        out = [_ssim(a[s : s + batch_size], b[s : s + batch_size], data_range=1.0, size_average=False)
               for s in range(0, a.shape[0], batch_size)]
    return torch.cat(out).double().numpy() if out else np.zeros(0)


def fit_pca(x: torch.Tensor, n_components: int, *, iterations: int = 3, oversample: int = 64,
            seed: int = 0, batch_size: int = 2048) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and leading principal axes (``n_components`` × d, orthonormal rows) of the rows of ``x`` (n × d, float32).

    A randomized SVD of the centred rows (Halko, Martinsson & Tropp 2011, algorithm 4.4): a Gaussian start of
    ``n_components + oversample`` columns drawn from a generator seeded by ``seed``, ``iterations`` power
    iterations with re-orthonormalisation, then the exact SVD of the small projected matrix. Each axis's sign
    is fixed so that its largest entry is positive. ``x`` is neither modified nor copied: the products with the
    centred rows subtract the mean's share, ``batch_size`` rows at a time.
    """
    n, d = x.shape
    k = int(n_components)
    if not 1 <= k <= min(n - 1, d):
        raise ValueError(f"{k} principal axes need 1 <= n_components <= min(faces - 1, pixel values) = {min(n - 1, d)} "
                         f"({n} training faces of {d} values); lower faces.autoencoder.code_dim or use more faces")
    mean = x.mean(0)
    q = min(k + int(oversample), n, d)
    gen = torch.Generator().manual_seed(int(seed))

    def times(m):  # (x - mean) @ m
        return torch.cat([x[s : s + batch_size] @ m for s in range(0, n, batch_size)]) - mean @ m

    def times_t(m):  # (x - mean).T @ m
        out = torch.zeros(d, m.shape[1], dtype=x.dtype, device=x.device)
        for s in range(0, n, batch_size):
            out += x[s : s + batch_size].T @ m[s : s + batch_size]
        return out - torch.outer(mean, m.sum(0))

    basis = torch.linalg.qr(times(torch.randn(d, q, generator=gen).to(x))).Q
    for _ in range(int(iterations)):
        basis = torch.linalg.qr(times(torch.linalg.qr(times_t(basis)).Q)).Q
    small = times_t(basis).T  # q × d = basisᵀ (x - mean)
    _, _, vh = torch.linalg.svd(small, full_matrices=False)
    components = vh[:k]
    sign = torch.sign(components.gather(1, components.abs().argmax(1, keepdim=True)))
    return mean, components * sign


@torch.no_grad()
def encode_images(model: FaceAutoencoder, images, batch_size: int = 512) -> np.ndarray:
    """Codes (n, code_dim) float64 of uint8 images (n, S, S, 3)."""
    model.eval()
    out = [model.encode(images_to_tensor(images[s : s + batch_size]).to(_device(model))).double().cpu().numpy()
           for s in range(0, len(images), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, model.config["code_dim"]))


@torch.no_grad()
def decode_codes(model: FaceAutoencoder, codes, batch_size: int = 256, corrected: bool = True) -> np.ndarray:
    """uint8 images (n, S, S, 3) decoded from codes (n, code_dim); ``corrected`` False: the PCA reconstruction alone."""
    model.eval()
    z = torch.as_tensor(np.asarray(codes, dtype=np.float32)).to(_device(model))
    if z.ndim != 2 or z.shape[1] != model.config["code_dim"]:
        raise ValueError(f"codes must be (n, {model.config['code_dim']}); got {tuple(z.shape)}")
    decode = model.decode if corrected else model.linear_decode
    out = [_to_uint8(decode(z[s : s + batch_size])) for s in range(0, z.shape[0], batch_size)]
    size = model.config["size"]
    return np.concatenate(out) if out else np.zeros((0, size, size, 3), np.uint8)


def _loss(out, target, ssim_weight: float):
    from pytorch_msssim import ssim as _ssim

    loss = (1.0 - ssim_weight) * (out - target).abs().mean()
    if ssim_weight > 0:
        loss = loss + ssim_weight * (1.0 - _ssim(out, target, data_range=1.0, size_average=True))
    return loss


def train_autoencoder(
    train_images,
    val_images=None,
    *,
    code_dim: int = 512,
    width: int = 32,
    depth: int = 5,
    epochs: int = 2,
    batch_size: int = 16,
    lr: float = 2e-3,
    warmup: int = 50,
    ssim_weight: float = 0.2,
    pca_iterations: int = 3,
    seed: int = 0,
    progress: bool = True,
    device=None,
) -> tuple[FaceAutoencoder, list[dict]]:
    """Fit the PCA of uint8 faces (n, S, S, 3) and train the decoder's correction; returns (model, history).

    ``history``: a first row ``{"epoch": 0, "pca_seconds", "pca_cpu_seconds"}`` (and the validation PSNR / SSIM
    of the PCA reconstruction), then per epoch the mean training loss, the wall and CPU seconds taken (the CPU
    time of the process: on one thread, what a quiet machine would take) and, when ``val_images`` is given, the
    validation PSNR and SSIM (means over the images). ``warmup``: steps of linear learning-rate warm-up
    before the cosine decay to 0. A tqdm bar goes to stderr when ``progress``. ``device`` (a ``torch.device``,
    default CPU): where it trains; the start of the SVD and the batches draw from CPU generators seeded by
    ``seed`` (the initialisation from torch's global generator, seeded here too); the returned model is on the CPU.
    """
    from tqdm import tqdm

    epochs = _check_int(epochs, "faces.autoencoder.epochs", 0, "Use 0 for the PCA decoder alone.")
    batch_size = _check_int(batch_size, "faces.autoencoder.batch_size", 1, "Use e.g. 32.")
    warmup = _check_int(warmup, "faces.autoencoder.warmup", 0, "Use e.g. 50 steps.")
    pca_iterations = _check_int(pca_iterations, "faces.autoencoder.pca_iterations", 0, "Use e.g. 3.")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"faces.autoencoder.lr must be a positive number; got {lr!r}")
    if not (isinstance(ssim_weight, (int, float)) and 0.0 <= ssim_weight <= 1.0):
        raise ValueError(f"faces.autoencoder.ssim_weight must be in [0, 1] (the loss is (1 - w) L1 + w (1 - SSIM)); got {ssim_weight!r}")
    train_images = np.asarray(train_images)
    if train_images.ndim != 4 or train_images.shape[-1] != 3 or train_images.shape[1] != train_images.shape[2]:
        raise ValueError(f"faces must be square RGB images (n, S, S, 3); got shape {train_images.shape}")
    if ssim_weight > 0 and train_images.shape[1] < 11:
        raise ValueError(f"the SSIM loss needs faces of at least 11×11 pixels; got {train_images.shape[1]}; set "
                         "faces.autoencoder.ssim_weight to 0")
    dev = torch.device("cpu") if device is None else torch.device(device)
    torch.manual_seed(int(seed))  # weight initialisation
    model = FaceAutoencoder(train_images.shape[1], code_dim, width, depth)
    n, size = train_images.shape[:2]
    x = torch.empty(n, 3, size, size)  # filled in blocks: no temporary copies of the whole set
    for s in range(0, n, 1024):
        x[s : s + 1024] = images_to_tensor(train_images[s : s + 1024])

    t0, c0 = time.perf_counter(), time.process_time()
    mean, components = fit_pca(x.flatten(1).to(dev), code_dim, iterations=pca_iterations, seed=seed)
    model.set_pca(mean.cpu(), components.cpu())
    model = model.to(dev)
    with torch.no_grad():
        codes = torch.cat([model.encode(x[s : s + 1024].to(dev)) for s in range(0, n, 1024)])
    first = {"epoch": 0, "pca_seconds": time.perf_counter() - t0, "pca_cpu_seconds": time.process_time() - c0}
    history = [first]

    def validate(row):
        if val_images is not None and len(val_images):
            rec = decode_codes(model, encode_images(model, val_images))
            row["val_psnr"] = float(np.mean(psnr(val_images, rec)))
            row["val_ssim"] = float(np.mean(ssim(val_images, rec)))
        log.info("epoch %d: %s", row["epoch"], {k: round(v, 5) if isinstance(v, float) else v for k, v in row.items()})

    validate(first)
    steps = epochs * math.ceil(n / batch_size)
    if steps == 0:
        model.eval()
        return model.cpu(), history
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(model.correction.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(warmup, 1)) * 0.5 * (1.0 + math.cos(math.pi * min(s, steps) / steps)))
    for epoch in range(epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        model.train()
        order = torch.randperm(n, generator=gen)
        total, seen = 0.0, 0
        bar = tqdm(range(0, n, batch_size), desc=f"epoch {epoch + 1}/{epochs}", file=sys.stderr, disable=not progress,
                   mininterval=10)
        for s in bar:
            idx = order[s : s + batch_size]
            target = x[idx].to(dev)
            with torch.no_grad():
                r = model.linear_decode(codes[idx.to(dev)])
            loss = _loss(model.correct(r), target, ssim_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * idx.numel()
            seen += idx.numel()
            bar.set_postfix(loss=f"{total / seen:.5f}", refresh=False)
        row = {"epoch": epoch + 1, "train_loss": total / seen, "seconds": time.perf_counter() - t0,
               "cpu_seconds": time.process_time() - c0}
        validate(row)
        history.append(row)
    model.eval()
    return model.cpu(), history
