"""musicsom: exact inversion of prototype-map activations and MUSIC trajectories.

Activations are *squared* Euclidean distances ``a_i = ||x − w_i||²`` of an input to the prototypes
``w_i`` of a map (a SOM, k-means centres, a neural gas). Once the prototypes affinely span the input
space they can be inverted exactly, and MUSIC changes chosen distances while preserving the others
(docs/METHOD.md). The library core needs only numpy and scipy:

>>> import numpy as np
>>> from musicsom import SOM, ActivationInverter, Music, MusicParams
>>> X = np.random.default_rng(0).standard_normal((2000, 4))
>>> som = SOM((8, 6), epochs=10).fit(X)
>>> A = som.transform(X[:5])                        # (5, 48) squared distances
>>> inv = ActivationInverter(som.prototypes_).fit()
>>> bool(np.allclose(inv.inverse_transform(A), X[:5], atol=1e-10))
True
>>> path = Music(som.prototypes_, MusicParams(alpha=0.9, lam=0.01, kappa=0.1, eta=0.2)).run(X[0], 50, "informed", target=7)
>>> path.states.shape
(51, 4)

Modules: :mod:`musicsom.som` (batch SOM, lattices incl. hexagonal, BMUs, errors), :mod:`musicsom.inversion`
(anchored systems, :class:`Inverter`, :class:`ActivationInverter`), :mod:`musicsom.music` (the MUSIC
step, trajectories, batches), :mod:`musicsom.metrics` (trajectory metrics), :mod:`musicsom.stats`
(paired tests; needs the ``pipeline`` extra for its table helpers), :mod:`musicsom.encoding`,
:mod:`musicsom.image_metrics`; the paper's experiments in :mod:`musicsom.experiments` and the pipeline
stages in :mod:`musicsom.pipeline` (``musicsom list`` on the command line).
"""

from __future__ import annotations

__version__ = "0.2.0"

# the public API, imported on first use (PEP 562): `import musicsom` alone loads nothing else, so a
# pipeline stage's import graph holds only the modules it uses
_EXPORTS = {
    "SOM": "som",
    "NotFittedError": "som",
    "best_matching_units": "som",
    "quantization_error": "som",
    "topographic_error": "som",
    "sq_distances": "som",
    "u_matrix": "som",
    "lattice_ring": "som",
    "activations": "inversion",
    "Inverter": "inversion",
    "ActivationInverter": "inversion",
    "invert": "inversion",
    "invert_per_anchor": "inversion",
    "RankError": "inversion",
    "Music": "music",
    "MusicParams": "music",
    "Trajectory": "music",
    "TrajectoryBatch": "music",
    "music_direction": "music",
    "energy_coefficients": "music",
    "trajectory_summary": "metrics",
}
# the library's modules too, so that documentation tools (pdoc) and `from musicsom import *` reach them (the
# experiments and the pipeline are documented by their own docstrings and `musicsom list`)
_MODULES = ["som", "inversion", "music", "metrics", "stats", "encoding", "image_metrics", "data", "models"]
__all__ = sorted(_EXPORTS) + _MODULES + ["__version__"]


def __getattr__(name):
    import importlib

    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'musicsom' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | set(_MODULES))
