"""A convolutional autoencoder for small RGB face crops: image (S×S×3) → code (512-d) → image.

The paper encoded LFW faces with a pretrained face autoencoder whose weights are not available, so
this one is trained here (docs/METHOD.md §6). Encoder: ``len(channels)`` blocks of a 4×4 stride-2
convolution, batch normalisation and ReLU (each halves the side), then a linear layer to the code.
Decoder: the mirror image (linear, then 4×4 stride-2 transposed convolutions), sigmoid output in
[0, 1]. Loss: pixel mean squared error; optimiser: Adam; optional horizontal-flip augmentation.

Pure torch + numpy: no file I/O (the stage CLI ``faces_autoencoder`` saves the checkpoint). Training
is seeded: the shuffling and the flips draw from one ``torch.Generator``; with
``seed_everything`` (``musicsom.experiments.models``) the run is repeatable on the same machine and thread count.
"""

from __future__ import annotations

import logging
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["FaceAutoencoder", "train_autoencoder", "encode_images", "decode_codes", "psnr", "images_to_tensor"]

log = logging.getLogger("musicsom.experiments.models.face_autoencoder")


class FaceAutoencoder(nn.Module):
    """Convolutional autoencoder of ``size``×``size`` RGB images with a ``code_dim``-d code.

    ``size`` must be divisible by ``2 ** len(channels)`` (each block halves the side).
    """

    def __init__(self, size: int = 64, code_dim: int = 512, channels=(16, 32, 64, 128)):
        super().__init__()
        channels = [int(c) for c in channels]
        n = len(channels)
        if n < 1 or any(c < 1 for c in channels):
            raise ValueError(f"channels must be a non-empty list of positive widths; got {channels}")
        if int(size) < 2**n or int(size) % (2**n):
            raise ValueError(
                f"the image side {size} must be a multiple of 2**{n} = {2**n} for {n} stride-2 blocks; "
                "change data.lfw.size or faces.autoencoder.channels"
            )
        if int(code_dim) < 1:
            raise ValueError(f"code_dim must be >= 1; got {code_dim}")
        self.config = {"size": int(size), "code_dim": int(code_dim), "channels": channels}
        self.side = int(size) // 2**n
        enc, c_in = [], 3
        for c in channels:
            enc += [nn.Conv2d(c_in, c, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            c_in = c
        self.encoder = nn.Sequential(*enc)
        flat = channels[-1] * self.side * self.side
        self.to_code = nn.Linear(flat, int(code_dim))
        self.from_code = nn.Linear(int(code_dim), flat)
        dec = []
        rev = channels[::-1]
        for i, c in enumerate(rev):
            last = i == len(rev) - 1
            c_out = 3 if last else rev[i + 1]
            dec.append(nn.ConvTranspose2d(c, c_out, 4, stride=2, padding=1, bias=last))
            if not last:
                dec += [nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
        self.decoder = nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(n, 3, S, S) in [0, 1] → (n, code_dim)."""
        return self.to_code(self.encoder(x).flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(n, code_dim) → (n, 3, S, S) in [0, 1]."""
        c = self.config["channels"][-1]
        h = F.relu(self.from_code(z)).view(z.shape[0], c, self.side, self.side)
        return torch.sigmoid(self.decoder(h))

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
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def _to_uint8(t: torch.Tensor) -> np.ndarray:
    return (t.clamp(0, 1).cpu().numpy().transpose(0, 2, 3, 1) * 255.0 + 0.5).astype(np.uint8)


def psnr(reference, reconstruction) -> np.ndarray:
    """Per-image peak signal-to-noise ratio in dB of images in [0, 1] (or uint8, scaled to [0, 1])."""
    a, b = (np.asarray(v, dtype=np.float64) / (255.0 if np.asarray(v).dtype == np.uint8 else 1.0) for v in (reference, reconstruction))
    if a.shape != b.shape:
        raise ValueError(f"reference and reconstruction shapes differ: {a.shape} vs {b.shape}")
    mse = ((a - b) ** 2).reshape(a.shape[0], -1).mean(1)
    return 10.0 * np.log10(1.0 / np.maximum(mse, 1e-12))


@torch.no_grad()
def encode_images(model: FaceAutoencoder, images, batch_size: int = 256) -> np.ndarray:
    """Codes (n, code_dim) float64 of uint8 images (n, S, S, 3), in eval mode."""
    model.eval()
    x = images_to_tensor(images).to(_device(model))
    out = [model.encode(x[s : s + batch_size]).double().cpu().numpy() for s in range(0, x.shape[0], batch_size)]
    return np.concatenate(out) if out else np.zeros((0, model.config["code_dim"]))


@torch.no_grad()
def decode_codes(model: FaceAutoencoder, codes, batch_size: int = 256) -> np.ndarray:
    """uint8 images (n, S, S, 3) decoded from codes (n, code_dim), in eval mode."""
    model.eval()
    z = torch.as_tensor(np.asarray(codes, dtype=np.float32)).to(_device(model))
    if z.ndim != 2 or z.shape[1] != model.config["code_dim"]:
        raise ValueError(f"codes must be (n, {model.config['code_dim']}); got {tuple(z.shape)}")
    out = [_to_uint8(model.decode(z[s : s + batch_size])) for s in range(0, z.shape[0], batch_size)]
    size = model.config["size"]
    return np.concatenate(out) if out else np.zeros((0, size, size, 3), np.uint8)


def train_autoencoder(
    train_images,
    val_images=None,
    *,
    code_dim: int = 512,
    channels=(16, 32, 64, 128),
    epochs: int = 8,
    batch_size: int = 64,
    lr: float = 1e-3,
    flip: bool = True,
    seed: int = 0,
    progress: bool = True,
    device=None,
) -> tuple[FaceAutoencoder, list[dict]]:
    """Train a :class:`FaceAutoencoder` on uint8 faces (n, S, S, 3) with pixel MSE and Adam.

    Returns the model (eval mode) and a history with, per epoch, the training MSE, the validation
    MSE and mean per-image PSNR (when ``val_images`` is given) and the seconds taken. A tqdm progress
    bar goes to stderr when ``progress``. ``device`` (a ``torch.device``, default CPU): where it
    trains; the shuffling and flips draw from the CPU generator, the returned model is on the CPU.
    """
    from tqdm import tqdm

    x = images_to_tensor(train_images)
    if x.shape[0] < 2:
        raise ValueError(f"need at least 2 training images; got {x.shape[0]}")
    if x.shape[2] != x.shape[3]:
        raise ValueError(f"faces must be square; got {tuple(x.shape[2:])}")
    if int(epochs) < 1 or int(batch_size) < 1 or not lr > 0:
        raise ValueError(f"epochs and batch_size must be >= 1 and lr > 0; got {epochs}, {batch_size}, {lr}")
    gen = torch.Generator().manual_seed(int(seed))
    torch.manual_seed(int(seed))  # weight initialisation
    model = FaceAutoencoder(x.shape[2], code_dim, channels)
    dev = torch.device("cpu") if device is None else torch.device(device)
    model, x = model.to(dev), x.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(epochs) * ((x.shape[0] + batch_size - 1) // batch_size))
    history = []
    for epoch in range(int(epochs)):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(x.shape[0], generator=gen)
        total, seen = 0.0, 0
        bar = tqdm(range(0, x.shape[0], batch_size), desc=f"epoch {epoch + 1}/{epochs}", file=sys.stderr, disable=not progress, mininterval=10)
        for s in bar:
            xb = x[order[s : s + batch_size].to(dev)]
            if flip:
                mask = (torch.rand(xb.shape[0], generator=gen) < 0.5).to(dev)
                xb = torch.where(mask[:, None, None, None], xb.flip(3), xb)
            loss = F.mse_loss(model(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * xb.shape[0]
            seen += xb.shape[0]
            bar.set_postfix(mse=f"{total / seen:.5f}", refresh=False)
        row = {"epoch": epoch + 1, "train_mse": total / seen, "seconds": time.perf_counter() - t0}
        if val_images is not None and len(val_images):
            rec = decode_codes(model, encode_images(model, val_images))
            p = psnr(val_images, rec)
            row["val_mse"] = float(np.mean(10.0 ** (-p / 10.0)))
            row["val_psnr"] = float(np.mean(p))
        log.info("epoch %d: %s", epoch + 1, {k: round(v, 5) if isinstance(v, float) else v for k, v in row.items()})
        history.append(row)
    model.eval()
    return model.cpu(), history
