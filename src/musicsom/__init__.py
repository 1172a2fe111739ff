"""musicsom: exact inversion of prototype-map activations and MUSIC trajectories.

Activations are *squared* Euclidean distances ``a_i = ||x − w_i||²`` of an input to the prototypes
``w_i`` of a map (a SOM, k-means centres, a neural gas). Once the prototypes affinely span the input
space they can be inverted exactly, and MUSIC changes chosen distances while preserving the others
(docs/METHOD.md):

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

The library needs only numpy and scipy (``pip install musicsom``). Its modules:

- :mod:`musicsom.som`: the batch :class:`SOM` estimator, BMUs, quantization and topographic errors,
  the U-matrix;
- :mod:`musicsom.lattice`: map lattices (rectangular, hexagonal, toroidal), positions and rings, and
  :mod:`musicsom.distances`: exact squared distances between inputs and prototypes (their public
  functions are importable from :mod:`musicsom.som` too);
- :mod:`musicsom.inversion`: anchored systems, :class:`Inverter`, :class:`ActivationInverter`;
- :mod:`musicsom.music`: the MUSIC step and trajectories; :mod:`musicsom.music_batch`: many
  trajectories at once (:meth:`Music.run_batch`);
- :mod:`musicsom.metrics` (trajectory metrics), :mod:`musicsom.stats` (paired tests; its table helper
  ``paired_comparison`` needs pandas), :mod:`musicsom.encoding` (PCA whitening),
  :mod:`musicsom.image_metrics`.

These are the modules that ``__all__``, ``help(musicsom)``, ``from musicsom import *`` and
``pdoc musicsom`` reach. The paper's reproduction is not part of them and needs the ``pipeline``
extra (``pip install "musicsom[pipeline]"``: scikit-learn, pandas, torch, Snakemake, ...): the
experiments and their torch models are in :mod:`musicsom.experiments`, the Snakemake stages and
their data sets in :mod:`musicsom.pipeline`. ``musicsom list`` (or ``python -m musicsom list``)
names the stages, ``musicsom run STAGE --help`` documents one.
"""

from __future__ import annotations

# the one place the version is written: pyproject.toml reads it from here ([tool.setuptools.dynamic])
__version__ = "0.3.0"

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
# the library's public modules too (numpy and scipy only), so that help(), pdoc and `from musicsom import *`
# reach them without importing the experiments or the pipeline, which need the `pipeline` extra
_MODULES = ["som", "lattice", "distances", "inversion", "music", "music_batch", "metrics", "stats", "encoding",
            "image_metrics"]
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
