"""Stage: exact inversion of the SOM activations of every MNIST test image (paper §5.3.1).

    python -m musicsom.pipeline.mnist.inversion --latent results/mnist/latent.npz --som results/mnist/seed0/som.npz \
        --summary results/mnist/seed0/inversion.json

For each test code ``x`` (whitened latent) the squared distances to all K prototypes are computed
directly (no matrix-product cancellation), the anchored system is formed on the BMU with all other
prototypes, and ``x̂ = A⁺ b``. Reports the relative error ``||x̂ − x|| / ||x||`` (median, 95th
percentile, max) and the conditioning of the systems.
"""

from __future__ import annotations

import logging

import numpy as np

from musicsom.inversion import activations, invert_per_anchor
from musicsom.pipeline import _io

log = logging.getLogger("musicsom.pipeline.mnist.inversion")


def relative_errors(X, W) -> tuple[np.ndarray, np.ndarray]:
    """Relative inversion error of each row of X anchored on its BMU, and σ_min of each anchor's system."""
    A = activations(X, W)
    bmu = A.argmin(1)
    X_hat, inverters = invert_per_anchor(A, W, bmu)
    err = np.linalg.norm(X_hat - X, axis=1) / np.linalg.norm(X, axis=1)
    smin = np.array([inverters[int(b)].sigma_min for b in bmu])
    return err, smin


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--latent", required=True)
    p.add_argument("--som", required=True)
    p.add_argument("--summary", required=True)
    a = p.parse_args(argv)
    d = _io.load_npz(a.latent, required=("x_test",))
    W = _io.load_npz(a.som, required=("prototypes",))["prototypes"]
    if W.shape[0] < W.shape[1] + 1:
        raise _io.InputError(f"K = {W.shape[0]} prototypes < D + 1 = {W.shape[1] + 1}: the activations cannot be inverted")
    err, smin = relative_errors(d["x_test"], W)
    summary = {
        "n_test": int(err.size),
        "median_relative_error": float(np.median(err)),
        "p95_relative_error": float(np.percentile(err, 95)),
        "max_relative_error": float(err.max()),
        "median_sigma_min": float(np.median(smin)),
        "min_sigma_min": float(smin.min()),
        "n_prototypes": int(W.shape[0]),
        "dim": int(W.shape[1]),
    }
    log.info("relative inversion error over %d test images: median %.3g, max %.3g", err.size, summary["median_relative_error"], summary["max_relative_error"])
    _io.save_json(a.summary, summary)


if __name__ == "__main__":
    _io.run_main(main)
