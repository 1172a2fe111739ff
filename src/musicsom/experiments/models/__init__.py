"""Small torch models of the MNIST stage: a VAE on pixels and an MLP classifier on whitened codes.

Pure torch: models and training functions take arrays and return models and histories; saving and
loading files is left to the stage command-line entries.
"""

from .classifier import MLPClassifier, predict_proba, train_classifier
from .vae import VAE, train_vae, vae_decode, vae_encode, vae_test_loss

__all__ = ["VAE", "MLPClassifier", "checkpoint", "model_device", "predict_proba", "resolve_device", "seed_everything", "train_classifier", "train_vae", "vae_decode", "vae_encode", "vae_test_loss"]


def seed_everything(seed: int, threads: int | None = None) -> None:
    """Seed torch (and numpy), ask for deterministic kernels, and optionally fix the CPU thread count."""
    import numpy as np
    import torch

    if threads is not None:
        torch.set_num_threads(max(1, int(threads)))
    torch.manual_seed(int(seed))
    np.random.seed(int(seed) % (2**32))
    torch.use_deterministic_algorithms(True)


DEVICES = ("cpu", "cuda", "auto")


def resolve_device(device: str = "cpu"):
    """The ``torch.device`` of a ``device`` setting: ``cpu``, ``cuda`` (or ``cuda:N``), or ``auto``
    (CUDA when ``torch.cuda.is_available()``, else CPU).

    ``cuda`` on a machine where torch sees no CUDA device raises a ``RuntimeError`` that names the
    fix. On CUDA, sets ``CUBLAS_WORKSPACE_CONFIG`` (unless set) so that the deterministic
    algorithms ``seed_everything`` asks for are allowed; CUDA results are repeatable on one GPU
    model and driver but differ from the CPU's in the last bits.
    """
    import os

    import torch

    name = str(device).strip().lower()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device {device!r} asked for, but torch {torch.__version__} sees no CUDA device "
                f"(CUDA build: {torch.version.cuda or 'none, a CPU-only build'}): set device: cpu or auto "
                "in the config (or --device cpu), or install a CUDA build of torch on a machine with a GPU"
            )
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        return torch.device(name)
    raise ValueError(f"device must be one of {', '.join(DEVICES)} (or cuda:N); got {device!r}")


def model_device(model):
    """The device of a model's parameters (CPU for a model without any)."""
    import torch

    return next((p.device for p in model.parameters()), torch.device("cpu"))


def checkpoint(model, history, **meta) -> dict:
    """What the model stages save with ``torch.save``: weights, architecture, training history, settings."""
    return {"state_dict": model.state_dict(), "config": dict(model.config), "history": list(history), "meta": dict(meta)}
