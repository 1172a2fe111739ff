"""Stage: the VAE on MNIST pixels (paper §5.3.4: 32-d latent, 30 epochs); one per seed (it decides initialisation and batches).

    python -m musicsom.pipeline.mnist.vae --data results/data/digits.npz --n-train 0 \
        --vae '{"latent_dim": 32, "hidden": 512, "epochs": 30, "batch_size": 128, "lr": 0.001}' \
        --seed 0 --threads 1 --device cpu --model results/mnist/seed0/vae.pt --summary results/mnist/seed0/vae.json

Shows a progress bar on stderr (the rule's log). The summary holds the loss history, the test negative ELBO
(nats per image, one seeded draw) and the test reconstruction error (binary cross-entropy per image and pixel
RMSE of the posterior-mean decode).
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import files
from musicsom.encoding import flatten_images
from musicsom.pipeline.mnist.context import add_slice_args, slice_digits
from musicsom.pipeline.mnist.training import add_training_args
from musicsom.pipeline.sections import add_section, require
from musicsom.experiments.models import checkpoint, resolve_device, seed_everything, train_vae, vae_decode, vae_encode, vae_test_loss

log = logging.getLogger("musicsom.pipeline.mnist.vae")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="digits.npz (uint8 images; the VAE trains on pixels)")
    add_slice_args(p, test=False)
    add_section(p, "vae", "mnist.vae", "the VAE and its training (latent_dim, hidden, epochs, batch_size, lr)")
    add_training_args(p, "losses, test reconstruction error")
    a = p.parse_args(argv)
    v = require(a.vae, "mnist.vae", ("latent_dim", "hidden", "epochs", "batch_size", "lr"))
    latent_dim, hidden, epochs = int(v["latent_dim"]), int(v["hidden"]), int(v["epochs"])
    import torch

    d = slice_digits(files.load_npz(a.data, required=("x_train", "y_train", "x_test", "y_test")), a.n_train, 0)
    Xtr, Xte = flatten_images(d["x_train"]), flatten_images(d["x_test"])
    device = resolve_device(a.device)
    log.info("training on %s", device)
    seed_everything(a.seed, a.threads)
    model, history = train_vae(Xtr, latent_dim, hidden, epochs, int(v["batch_size"]), float(v["lr"]), a.seed, progress=True, device=device)
    rec = vae_decode(model, vae_encode(model, Xte))
    eps = 1e-7
    bce = float(-(Xte * np.log(rec + eps) + (1 - Xte) * np.log(1 - rec + eps)).sum(1).mean())
    rmse = float(np.sqrt(((rec - Xte) ** 2).mean()))
    elbo = vae_test_loss(model, Xte, a.seed)
    log.info("VAE: test negative ELBO %.2f nats (KL %.2f); reconstruction BCE %.2f per image, pixel RMSE %.4f",
             elbo["negative_elbo"], elbo["kl"], bce, rmse)
    with files.atomic_path(a.model, suffix=".pt") as tmp:
        torch.save(checkpoint(model, history, seed=a.seed), tmp)
    files.save_json(a.summary, {"test_negative_elbo": elbo["negative_elbo"], "test_kl": elbo["kl"],
                                "test_bce_per_image": bce, "test_pixel_rmse": rmse, "seed": a.seed, "epochs": epochs,
                              "latent_dim": latent_dim, "hidden": hidden, "n_train": int(len(Xtr)), "history": history})


if __name__ == "__main__":
    files.run_main(main)
