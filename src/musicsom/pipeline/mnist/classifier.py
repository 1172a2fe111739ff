"""Stage: the MLP classifier in the whitened latent (paper §5.3.3); trained once, with the first seed.

    python -m musicsom.pipeline.mnist.classifier --latent results/mnist/latent.npz --hidden 256 256 --epochs 20 \
        --batch-size 256 --lr 1e-3 --dropout 0.1 --seed 0 --threads 2 \
        --model results/mnist/classifier.pt --summary results/mnist/classifier.json

Reports the test accuracy (the paper's "validation accuracy"); the test images are never used for training.
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import _io
from musicsom.models import checkpoint, predict_proba, resolve_device, seed_everything, train_classifier

log = logging.getLogger("musicsom.pipeline.mnist.classifier")


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--latent", required=True)
    p.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--device", default="cpu", help="where torch trains: cpu, cuda (cuda:N) or auto (CUDA if available, else CPU); config key device")
    p.add_argument("--model", required=True)
    p.add_argument("--summary", required=True)
    a = p.parse_args(argv)
    import torch

    d = _io.load_npz(a.latent, required=("x_train", "y_train", "x_test", "y_test"))
    device = resolve_device(a.device)
    log.info("training on %s", device)
    seed_everything(a.seed, a.threads)
    model, history = train_classifier(
        d["x_train"], d["y_train"], n_classes=10, hidden=a.hidden, dropout=a.dropout, epochs=a.epochs,
        batch_size=a.batch_size, lr=a.lr, seed=a.seed, device=device,
    )
    P = predict_proba(model, d["x_test"])
    acc = float(np.mean(P.argmax(1) == d["y_test"]))
    train_acc = float(np.mean(predict_proba(model, d["x_train"]).argmax(1) == d["y_train"]))
    log.info("classifier: test accuracy %.4f (train %.4f)", acc, train_acc)
    with _io.atomic_path(a.model, suffix=".pt") as tmp:
        torch.save(checkpoint(model, history, seed=a.seed, test_accuracy=acc), tmp)
    _io.save_json(a.summary, {"test_accuracy": acc, "train_accuracy": train_acc, "n_test": int(len(P)), "seed": a.seed,
                              "epochs": a.epochs, "hidden": a.hidden, "history": history})


if __name__ == "__main__":
    _io.run_main(main)
