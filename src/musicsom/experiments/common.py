"""Helpers shared by several experiments: the linear-interpolation baseline, frame selection for
strips, and the display names of the methods. Pure; no file I/O.
"""

from __future__ import annotations

import numpy as np

__all__ = ["METHOD_NAMES", "linear_path", "frame_steps"]

#: how figures and tables name each method or prototype set
METHOD_NAMES = {
    "music": "MUSIC",
    "linear": "linear",
    "vae": "VAE",
    "radial": "radial",
    "som": "SOM",
    "kmeans": "k-means",
}


def linear_path(x0, x1, n_steps: int) -> np.ndarray:
    """``n_steps + 1`` evenly spaced points from ``x0`` to ``x1`` inclusive: (n_steps + 1, D).

    The baseline that MUSIC is compared with (straight line in the same space, same number of frames).
    """
    s = np.linspace(0.0, 1.0, int(n_steps) + 1)[:, None]
    x0 = np.asarray(x0, dtype=np.float64)
    return x0 + s * (np.asarray(x1, dtype=np.float64) - x0)


def frame_steps(n_steps: int, n_frames: int) -> np.ndarray:
    """About ``n_frames`` evenly spaced step indices in ``0..n_steps`` (both ends included; at least 2)."""
    return np.unique(np.round(np.linspace(0, int(n_steps), max(int(n_frames), 2))).astype(int))
