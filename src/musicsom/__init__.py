"""musicsom: exact inversion of prototype-map activations and MUSIC trajectories.

Pure numerics live in :mod:`musicsom.som`, :mod:`musicsom.inversion`, :mod:`musicsom.music` and
:mod:`musicsom.metrics` (no file I/O); each pipeline stage has a command-line entry
``python -m musicsom.<stage>``.
"""

__version__ = "0.1.0"
