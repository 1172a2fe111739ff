"""Small torch models of the MNIST stage: a VAE on pixels and an MLP classifier on whitened codes.

Pure torch: models and training functions take arrays and return models and histories; saving and
loading files is left to the stage command-line entries.
"""

from .classifier import MLPClassifier, predict_proba, train_classifier
from .vae import VAE, train_vae, vae_decode, vae_encode

__all__ = ["VAE", "train_vae", "vae_encode", "vae_decode", "MLPClassifier", "train_classifier", "predict_proba", "seed_everything", "checkpoint"]


def seed_everything(seed: int, threads: int | None = None) -> None:
    """Seed torch (and numpy), ask for deterministic kernels, and optionally fix the CPU thread count."""
    import numpy as np
    import torch

    if threads is not None:
        torch.set_num_threads(max(1, int(threads)))
    torch.manual_seed(int(seed))
    np.random.seed(int(seed) % (2**32))
    torch.use_deterministic_algorithms(True)


def checkpoint(model, history, **meta) -> dict:
    """What the model stages save with ``torch.save``: weights, architecture, training history, settings."""
    return {"state_dict": model.state_dict(), "config": dict(model.config), "history": list(history), "meta": dict(meta)}
