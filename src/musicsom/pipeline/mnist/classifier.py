"""Stage: the MLP classifier in the whitened latent (paper §5.3.3); one per seed (it decides initialisation and batches).

    python -m musicsom.pipeline.mnist.classifier --latent results/mnist/latent.npz \
        --classifier '{"hidden": [256, 256], "dropout": 0.1, "epochs": 20, "batch_size": 256, "lr": 0.001}' \
        --seed 0 --threads 1 --device cpu --model results/mnist/seed0/classifier.pt --summary results/mnist/seed0/classifier.json

Reports the test accuracy (the paper's "validation accuracy"); the test images are never used for training.
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.pipeline import files
from musicsom.pipeline.mnist.training import add_training_args
from musicsom.pipeline.sections import add_section, require
from musicsom.experiments.models import checkpoint, predict_proba, resolve_device, seed_everything, train_classifier

log = logging.getLogger("musicsom.pipeline.mnist.classifier")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--latent", required=True, help="the whitened codes of mnist.encode (.npz)")
    add_section(p, "classifier", "mnist.classifier", "the MLP and its training (hidden, dropout, epochs, batch_size, lr)")
    add_training_args(p, "accuracies, training history")
    a = p.parse_args(argv)
    c = require(a.classifier, "mnist.classifier", ("hidden", "dropout", "epochs", "batch_size", "lr"))
    import torch

    d = files.load_npz(a.latent, required=("x_train", "y_train", "x_test", "y_test"))
    device = resolve_device(a.device)
    log.info("training on %s", device)
    seed_everything(a.seed, a.threads)
    model, history = train_classifier(
        d["x_train"], d["y_train"], n_classes=10, hidden=[int(h) for h in c["hidden"]], dropout=float(c["dropout"]),
        epochs=int(c["epochs"]), batch_size=int(c["batch_size"]), lr=float(c["lr"]), seed=a.seed, device=device,
    )
    P = predict_proba(model, d["x_test"])
    acc = float(np.mean(P.argmax(1) == d["y_test"]))
    train_acc = float(np.mean(predict_proba(model, d["x_train"]).argmax(1) == d["y_train"]))
    log.info("classifier: test accuracy %.4f (train %.4f)", acc, train_acc)
    with files.atomic_path(a.model, suffix=".pt") as tmp:
        torch.save(checkpoint(model, history, seed=a.seed, test_accuracy=acc), tmp)
    files.save_json(a.summary, {"test_accuracy": acc, "train_accuracy": train_acc, "n_test": int(len(P)), "seed": a.seed,
                              "epochs": int(c["epochs"]), "hidden": [int(h) for h in c["hidden"]], "history": history})


if __name__ == "__main__":
    files.run_main(main)
