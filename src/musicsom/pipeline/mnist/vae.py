"""Stage: the VAE on MNIST pixels (paper §5.3.4: 32-d latent, 30 epochs); trained once, with the first seed.

    python -m musicsom.pipeline.mnist.vae --data results/data/digits.npz --n-train 0 --latent-dim 32 --hidden 512 \
        --epochs 30 --batch-size 128 --lr 1e-3 --seed 0 --threads 2 \
        --model results/mnist/vae.pt --summary results/mnist/vae.json

Shows a progress bar on stderr (the rule's log). The summary holds the loss history and the test
reconstruction error (binary cross-entropy per image and pixel RMSE of the posterior-mean decode).
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import _io
from musicsom.encoding import flatten_images
from musicsom.pipeline.mnist._common import slice_digits
from musicsom.models import checkpoint, resolve_device, seed_everything, train_vae, vae_decode, vae_encode

log = logging.getLogger("musicsom.pipeline.mnist.vae")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--n-train", type=int, default=0, help="first n training images (0 = all)")
    p.add_argument("--latent-dim", type=int, default=32)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--device", default="cpu", help="where torch trains: cpu, cuda (cuda:N) or auto (CUDA if available, else CPU); config key device")
    p.add_argument("--model", required=True)
    p.add_argument("--summary", required=True)
    a = p.parse_args(argv)
    import torch

    d = slice_digits(_io.load_npz(a.data, required=("x_train", "y_train", "x_test", "y_test")), a.n_train, 0)
    Xtr, Xte = flatten_images(d["x_train"]), flatten_images(d["x_test"])
    device = resolve_device(a.device)
    log.info("training on %s", device)
    seed_everything(a.seed, a.threads)
    model, history = train_vae(Xtr, a.latent_dim, a.hidden, a.epochs, a.batch_size, a.lr, a.seed, progress=True, device=device)
    rec = vae_decode(model, vae_encode(model, Xte))
    eps = 1e-7
    bce = float(-(Xte * np.log(rec + eps) + (1 - Xte) * np.log(1 - rec + eps)).sum(1).mean())
    rmse = float(np.sqrt(((rec - Xte) ** 2).mean()))
    log.info("VAE: test reconstruction BCE %.2f per image, pixel RMSE %.4f", bce, rmse)
    with _io.atomic_path(a.model, suffix=".pt") as tmp:
        torch.save(checkpoint(model, history, seed=a.seed), tmp)
    _io.save_json(a.summary, {"test_bce_per_image": bce, "test_pixel_rmse": rmse, "seed": a.seed, "epochs": a.epochs,
                              "latent_dim": a.latent_dim, "hidden": a.hidden, "n_train": int(len(Xtr)), "history": history})


if __name__ == "__main__":
    _io.run_main(main)
