"""Self-organising maps (batch rule) on rectangular, toroidal and hexagonal lattices (numpy/scipy, no file I/O).

Activations are *squared* Euclidean distances, ``a_k = ||x − w_k||²``, to the prototypes ``w_k``.

Lattices (``TOPOLOGIES``)
-------------------------
Units are numbered row-major: unit ``k`` sits at lattice row ``r = k // cols`` and column
``c = k % cols`` (:func:`lattice_coordinates`); :func:`lattice_positions` gives its place in the plane.

* ``"rectangular"``: unit (r, c) at the point (r, c). Neighbours (n-rings of :func:`lattice_ring`,
  topographic error, :meth:`SOM.distance_map`) are the 8 units at Chebyshev distance 1; the n-ring
  is every unit at Chebyshev distance ≤ n. :func:`u_matrix` averages over the 4 edge-sharing units.
* ``"toroidal"``: the same lattice wrapping around both axes.
* ``"hexagonal"``: odd-row offset ("odd-r") layout: unit (r, c) at ``x = c + 0.5·(r mod 2)``,
  ``y = r·√3/2`` (odd rows shifted half a unit along x, rows √3/2 apart), so adjacent units are
  exactly 1 apart (:func:`lattice_positions` returns (y, x) per unit, row position first). The 6 neighbours of (r, c) are (r, c ± 1) and, on an even row, (r ± 1, c − 1)
  and (r ± 1, c); on an odd row, (r ± 1, c) and (r ± 1, c + 1). The n-ring is every unit at most n
  steps away in this 6-neighbour graph (hexagonal lattice distance); the topographic error and the
  U-matrix use the 6 neighbours.
* ``"hexagonal_toroidal"``: the hexagonal lattice wrapping around both axes. The number of rows must
  be even: only then does the row after the last one have the parity of row 0, so the offsets match
  across the seam (and the wrap is a pure translation by ``rows·√3/2`` vertically, ``cols`` horizontally).

Training (:class:`SOM`)
-----------------------
Each batch epoch assigns every sample to its best-matching unit (BMU), then sets each prototype to
the neighbourhood-weighted mean of the samples, ``W = H S / (H n)``, with ``S`` the per-unit sums,
``n`` the per-unit counts and ``H`` the Gaussian kernel ``exp(−d²/2σ²)`` of the lattice distances
``d`` (:func:`lattice_sq_distances`); ``σ`` decays geometrically from ``sigma_start`` to ``sigma_end``.
On rectangular lattices the kernel factorises over the two axes, ``H = H_rows ⊗ H_cols``, so the
update applies two small 1-D kernels; hexagonal lattices use the dense K × K kernel (in row blocks).
The BMU search of an epoch is one matrix product per row block, ``[x, 1] · [−2w, ||w||²]ᵀ`` (the
``||x||²`` term does not change the ranking), shared among threads (BLAS single-threaded meanwhile).
``bmu_dtype="float32"`` runs that search in single precision (about twice as fast; prototypes and
sums stay float64; near-ties may resolve differently, so the map is not bit-for-bit the float64 one).

Numerics: what the functions guarantee
--------------------------------------
* The matrix-product expansion ``||x||² − 2x·w + ||w||²`` loses every digit when the data lie far
  from the origin compared with their spread (with offset/spread = 1e3, float32 finds the true BMU
  for only a third of the points). Every product-based search therefore works in a *frame*: centred
  on the mean of the reference points (the prototypes; the data in ``fit``) when that mean lies more
  than 8 RMS spreads from the origin, and divided by a power of two when magnitudes would overflow
  or underflow their squares. The ranking is invariant to a common shift and exact under a
  power-of-two scale; data already near the origin (standardised, PCA codes) are used as they are,
  so those results are unchanged. Single precision always uses the frame.
* :func:`best_matching_units` returns the exact ranking of the *direct* squared distances
  ``Σ_j (x_j − w_j)²`` (ties to the lower index): the product only screens, with a rigorous rounding
  bound; every unit that might be within that bound of the best is re-ranked directly. The result
  does not depend on ``chunk_size``, and ``best_matching_units(X, W)`` equals
  ``sq_distances(X, W).argmin(1)`` (where squared distances underflow, the ranking is still that of
  the exact values, which float64 can no longer tell apart).
* :func:`sq_distances` computes every entry directly from ``x − w``, pair by pair (the same values
  whatever the batch a row is in, accurate to a few ulps whatever the offset); a pair whose plain sum
  of squares may have overflowed or underflowed is recomputed with its difference divided by a power
  of two near its own largest component. It raises a ValueError asking to rescale when a true value
  is outside float64 (above ~1.8e308, or below ~2.2e-308 while not negligible, i.e. not below 2^-104
  times the square of that pair's coordinates; negligible ones come back as 0 or a subnormal).
* :func:`quantization_error`, the topographic error, :func:`u_matrix` and the distance map use the
  same pair-wise computation for distances (not squares), so they are accurate for any finite input
  whose distances are representable (a ValueError asks to rescale otherwise).
* ``fit`` keeps float64 training bit-for-bit identical to earlier versions of this module for data
  that need no frame; its BMU search is the unrefined product (a genuine near-tie at the 1e-16 level
  may resolve either way, which does not matter for training).

Examples
--------
Train a map, read its activations (*squared* distances) and its lattice:

>>> import numpy as np
>>> from musicsom.som import SOM, lattice_ring
>>> X = np.random.default_rng(0).standard_normal((500, 3))
>>> som = SOM((6, 5), epochs=10).fit(X)
>>> som.transform(X[:2]).shape                 # squared distances ||x − w_k||², one column per unit
(2, 30)
>>> lattice_ring(7, 1, (6, 5)).tolist()        # unit 7 = (1, 2): its 8 lattice neighbours
[1, 2, 3, 6, 8, 11, 12, 13]
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import sys
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse

from ._validation import check_int, check_matrix, check_scalar

TOPOLOGIES = ("rectangular", "toroidal", "hexagonal", "hexagonal_toroidal")
HEX_ROW_HEIGHT = math.sqrt(3.0) / 2.0  # vertical distance between adjacent rows of a hexagonal lattice

_EPS = 2.0**-53  # unit roundoff of float64
_CENTRE_RATIO2 = 64.0  # centre the frame when ||mean||² > 64 · mean squared deviation (8 RMS spreads)
_DIRECT_BLOCK = 1 << 18  # entries of x − w held at once by the direct distance computation (2 MiB)
_TINY = np.finfo(np.float64).tiny


# ---------------------------------------------------------------- argument checks
class NotFittedError(ValueError, AttributeError):
    """A method of a :class:`SOM` that needs ``fit`` first was called before it.

    A ValueError (like every error of this module) and an AttributeError; once scikit-learn is
    imported it is also raised as a ``sklearn.exceptions.NotFittedError``.
    """

    def __reduce__(self):
        return (_not_fitted_error, (self.args[0] if self.args else "",))


_NOT_FITTED_CLASSES: dict = {}


def _not_fitted_error(message: str) -> NotFittedError:
    """The NotFittedError to raise: also scikit-learn's when scikit-learn is loaded (it is never imported here)."""
    skl = sys.modules.get("sklearn.exceptions")
    base = getattr(skl, "NotFittedError", None)
    if base is None or issubclass(NotFittedError, base):
        return NotFittedError(message)
    cls = _NOT_FITTED_CLASSES.get(base)
    if cls is None:
        cls = type("NotFittedError", (NotFittedError, base), {"__module__": __name__, "__doc__": NotFittedError.__doc__})
        _NOT_FITTED_CLASSES[base] = cls
    return cls(message)


def _check_topology(topology) -> str:
    if not isinstance(topology, str) or topology not in TOPOLOGIES:
        raise ValueError(f"topology must be one of {TOPOLOGIES}; got {topology!r}")
    return str(topology)


def _is_hex(topology: str) -> bool:
    return topology.startswith("hexagonal")


def _check_grid(grid_shape, topology: str = "rectangular", n_units: int | None = None, min_units: int = 1) -> tuple[int, int]:
    """(rows, cols) as Python ints, or a ValueError naming grid_shape and the fix."""
    try:
        dims = tuple(grid_shape)
    except TypeError:
        raise ValueError(f"grid_shape must be a pair (rows, cols) of positive integers; got {grid_shape!r}") from None
    if len(dims) != 2:
        raise ValueError(f"grid_shape must be a pair (rows, cols) of positive integers; got {grid_shape!r}")
    rows = check_int(dims[0], "grid_shape[0] (rows)", low=1)
    cols = check_int(dims[1], "grid_shape[1] (cols)", low=1)
    if rows * cols < min_units:
        raise ValueError(f"grid_shape must hold at least {min_units} units; got {rows}×{cols}")
    if topology == "hexagonal_toroidal" and rows % 2:
        raise ValueError(
            f"a hexagonal_toroidal lattice needs an even number of rows (the odd-row offsets must match across the "
            f"wrap); got grid_shape {(rows, cols)}: use {rows + 1} or {rows - 1} rows, or topology='hexagonal'"
        )
    if n_units is not None and rows * cols != n_units:
        raise ValueError(
            f"grid_shape {(rows, cols)} holds {rows * cols} units but there are {n_units} prototypes; "
            "pass the lattice the prototypes were trained on"
        )
    return rows, cols


def _check_chunk_size(chunk_size) -> int:
    return check_int(chunk_size, "chunk_size", low=1)


def _as_matrix(a, name: str, ncols: int | None = None, min_rows: int = 1) -> np.ndarray:
    """:func:`check_matrix`, with scikit-learn's wording for sparse, complex, 1-D, empty and too-short input."""
    if sparse.issparse(a):
        raise ValueError(f"{name} is a sparse matrix; sparse input is not supported: pass a dense array ({name}.toarray())")
    arr = np.asarray(a)
    if np.iscomplexobj(arr):
        raise ValueError(f"Complex data not supported: {name} holds complex numbers; pass a real array (e.g. its real part or modulus)")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 1:
        raise ValueError(
            f"{name} must be a 2-D array (rows × features); got a 1-D array of shape {arr.shape}. Reshape your data: "
            f"{name}.reshape(-1, 1) if it holds one feature, {name}.reshape(1, -1) if it holds one sample"
        )
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise ValueError(f"{name} has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    if arr.ndim == 2 and arr.shape[0] < min_rows:
        raise ValueError(f"{name} has {arr.shape[0]} sample(s) (shape={arr.shape}) while a minimum of {min_rows} is required.")
    return check_matrix(arr, name, ncols=ncols, min_rows=min_rows)


def _rescale_error(what: str) -> ValueError:
    return ValueError(
        f"{what} fall outside the float64 range (about 2.2e-308 to 1.8e308); rescale X and the prototypes "
        "(e.g. standardise the data, or multiply both by the same power of ten) and try again"
    )


# ---------------------------------------------------------------- lattice geometry
def lattice_coordinates(grid_shape: tuple[int, int]) -> np.ndarray:
    """(K, 2) integer (row, col) lattice indices of the units, row-major (unit k = row * cols + col).

    Examples
    --------
    >>> from musicsom.som import lattice_coordinates
    >>> lattice_coordinates((2, 3)).tolist()       # unit k = row * cols + col
    [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]
    """
    rows, cols = _check_grid(grid_shape)
    r, c = np.divmod(np.arange(rows * cols), cols)
    return np.stack([r, c], axis=1)


def lattice_positions(grid_shape: tuple[int, int], topology: str = "rectangular") -> np.ndarray:
    """(K, 2) float positions of the units in the plane, as (row position y, column position x).

    Rectangular and toroidal: (r, c). Hexagonal (odd-r offset): y = r·√3/2, x = c + 0.5·(r mod 2)
    (odd rows shifted half a unit), so every unit is exactly 1 from each of its 6 neighbours. Row-major unit order, as :func:`lattice_coordinates`.

    Examples
    --------
    On a hexagonal lattice odd rows are shifted half a unit along x and rows are √3/2 apart
    (each pair is (y, x), row position first):

    >>> from musicsom.som import lattice_positions
    >>> lattice_positions((2, 3), "hexagonal").round(3).tolist()
    [[0.0, 0.0], [0.0, 1.0], [0.0, 2.0], [0.866, 0.5], [0.866, 1.5], [0.866, 2.5]]
    >>> lattice_positions((2, 3)).tolist()[3:]      # rectangular: (r, c) itself
    [[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]
    """
    topology = _check_topology(topology)
    rows, cols = _check_grid(grid_shape, topology)
    return _positions(rows, cols, topology)


def _positions(rows: int, cols: int, topology: str) -> np.ndarray:
    """Unit positions (see lattice_positions); no validation."""
    r, c = np.divmod(np.arange(rows * cols), cols)
    if _is_hex(topology):
        return np.stack([r * HEX_ROW_HEIGHT, c + 0.5 * (r % 2)], axis=1)
    return np.stack([r, c], axis=1).astype(np.float64)


def _axis_offsets(n: int, toroidal: bool) -> np.ndarray:
    d = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
    return np.minimum(d, n - d) if toroidal else d


def _hex_sq_block(units: np.ndarray, rows: int, cols: int, toroidal: bool) -> np.ndarray:
    """(len(units), K) squared Euclidean distances from ``units`` to every unit of a hexagonal lattice; no validation.

    On the torus (even ``rows``) the wrap is a translation by ``rows`` rows (vertical, ``rows·√3/2``) or
    ``cols`` columns (horizontal), so each axis wraps on its own.
    """
    r, c = np.divmod(np.arange(rows * cols), cols)
    ru, cu = r[units], c[units]
    dr = np.abs(ru[:, None] - r[None, :])
    dx = np.abs((cu + 0.5 * (ru % 2))[:, None] - (c + 0.5 * (r % 2))[None, :])
    if toroidal:
        dr = np.minimum(dr, rows - dr)
        dx = np.minimum(dx, cols - dx)
    return (dr * HEX_ROW_HEIGHT) ** 2 + dx**2


def lattice_sq_distances(grid_shape: tuple[int, int], topology: str = "rectangular") -> np.ndarray:
    """(K, K) squared Euclidean distances between the unit positions (:func:`lattice_positions`); wraps on a torus.

    Examples
    --------
    >>> from musicsom.som import lattice_sq_distances
    >>> lattice_sq_distances((1, 4)).tolist()[0]                # squared lattice distances from unit 0
    [0.0, 1.0, 4.0, 9.0]
    >>> lattice_sq_distances((1, 4), "toroidal").tolist()[0]    # wrapping around: unit 3 is next to unit 0
    [0.0, 1.0, 4.0, 1.0]
    >>> lattice_sq_distances((2, 2), "hexagonal")[0].round(12).tolist()  # (1, 0) is 1 from (0, 0); (1, 1) is √3 away
    [0.0, 1.0, 1.0, 3.0]
    """
    topology = _check_topology(topology)
    rows, cols = _check_grid(grid_shape, topology)
    if _is_hex(topology):
        return _hex_sq_block(np.arange(rows * cols), rows, cols, topology == "hexagonal_toroidal")
    tor = topology == "toroidal"
    dr = _axis_offsets(rows, tor)
    dc = _axis_offsets(cols, tor)
    # unit k = (k // cols, k % cols): combine the two axes with a Kronecker-style broadcast
    d2 = dr[:, None, :, None] ** 2 + dc[None, :, None, :] ** 2
    return d2.reshape(rows * cols, rows * cols).astype(np.float64)


def _lattice_steps(u, v, rows: int, cols: int, topology: str) -> np.ndarray:
    """Lattice steps between units ``u`` and ``v`` (broadcast int arrays); no validation.

    Rectangular/toroidal: Chebyshev distance (8-neighbour moves). Hexagonal: the hexagonal lattice
    distance, via axial coordinates of the odd-r layout, q = c − (r − (r mod 2))/2, where
    steps = (|Δq| + |Δr| + |Δq + Δr|)/2; on the torus the minimum over the wrapped images.
    """
    ru, cu = np.divmod(np.asarray(u, dtype=np.int64), cols)
    rv, cv = np.divmod(np.asarray(v, dtype=np.int64), cols)
    if not _is_hex(topology):
        dr, dc = np.abs(ru - rv), np.abs(cu - cv)
        if topology == "toroidal":
            dr, dc = np.minimum(dr, rows - dr), np.minimum(dc, cols - dc)
        return np.maximum(dr, dc)
    dr = rv - ru
    dq = (cv - (rv - (rv & 1)) // 2) - (cu - (ru - (ru & 1)) // 2)
    if topology == "hexagonal":
        return (np.abs(dq) + np.abs(dr) + np.abs(dq + dr)) // 2
    # torus: a wrap by `rows` rows (even) moves (q, r) by (−rows/2, rows); by `cols` columns, (cols, 0).
    # For a fixed row offset r', steps = |r'| + the distance of q to the interval between 0 and −r',
    # so among q + b·cols only the three representatives nearest the interval's middle can be best.
    best = None
    for a in range(-2, 3):
        r2 = dr + a * rows
        q2 = dq - a * (rows // 2)
        centre = np.floor_divide(-r2 - 2 * q2 + cols, 2 * cols)  # round((−r2/2 − q2) / cols)
        for b in (-1, 0, 1):
            q3 = q2 + (centre + b) * cols
            s = (np.abs(q3) + np.abs(r2) + np.abs(q3 + r2)) // 2
            best = s if best is None else np.minimum(best, s)
    return best


def lattice_ring(unit: int, n: int, grid_shape: tuple[int, int], topology: str = "rectangular") -> np.ndarray:
    """Units at most ``n`` lattice steps from ``unit`` (the n-ring), excluding ``unit`` itself, in increasing order.

    Steps are Chebyshev moves (8 neighbours) on rectangular/toroidal lattices and hexagonal moves
    (6 neighbours) on hexagonal ones; tori wrap around.

    Examples
    --------
    >>> from musicsom.som import lattice_ring
    >>> lattice_ring(0, 1, (3, 4)).tolist()                 # a corner of a 3 × 4 lattice has 3 neighbours
    [1, 4, 5]
    >>> lattice_ring(0, 1, (3, 4), "toroidal").tolist()     # on the torus all 8
    [1, 3, 4, 5, 7, 8, 9, 11]
    >>> lattice_ring(0, 2, (3, 4)).tolist()                 # the 2-ring: Chebyshev distance <= 2
    [1, 2, 4, 5, 6, 8, 9, 10]

    Hexagonal: unit 5 = (1, 1) is on an odd row, so its 6 neighbours are (1, 0), (1, 2), (0, 1),
    (0, 2), (2, 1) and (2, 2); unit 9 = (2, 1), on an even row, has (2, 0), (2, 2), (1, 0), (1, 1),
    (3, 0) and (3, 1):

    >>> lattice_ring(5, 1, (4, 4), "hexagonal").tolist()
    [1, 2, 4, 6, 9, 10]
    >>> lattice_ring(9, 1, (4, 4), "hexagonal").tolist()
    [4, 5, 8, 10, 12, 13]
    """
    topology = _check_topology(topology)
    rows, cols = _check_grid(grid_shape, topology)
    unit = check_int(unit, "unit", low=0, high=rows * cols - 1)
    n = check_int(n, "n", low=0)
    mask = _lattice_steps(unit, np.arange(rows * cols), rows, cols, topology) <= n
    mask[unit] = False
    return np.flatnonzero(mask)


def _neighbour_table(rows: int, cols: int, topology: str) -> np.ndarray:
    """(K, m) indices of each unit's lattice neighbours, −1 where there is none (or a repeat); no validation.

    The 8 surrounding units of a rectangular lattice, the 6 adjacent ones of a hexagonal one. On a
    torus with a side of 1 or 2 a unit can meet the same neighbour (or itself) in several directions:
    it is listed once, and never as its own neighbour.
    """
    r, c = np.divmod(np.arange(rows * cols), cols)
    if _is_hex(topology):
        even = [(0, -1), (0, 1), (-1, -1), (-1, 0), (1, -1), (1, 0)]
        odd = [(0, -1), (0, 1), (-1, 0), (-1, 1), (1, 0), (1, 1)]
        odd_row = (r % 2 == 1)[:, None]
        dr = np.where(odd_row, np.array([o[0] for o in odd]), np.array([e[0] for e in even]))
        dc = np.where(odd_row, np.array([o[1] for o in odd]), np.array([e[1] for e in even]))
        tor = topology == "hexagonal_toroidal"
    else:
        offs = [(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1)]
        dr = np.broadcast_to(np.array([o[0] for o in offs]), (rows * cols, len(offs)))
        dc = np.broadcast_to(np.array([o[1] for o in offs]), (rows * cols, len(offs)))
        tor = topology == "toroidal"
    rr, cc = r[:, None] + dr, c[:, None] + dc
    if tor:
        valid = np.ones(rr.shape, bool)
        rr, cc = rr % rows, cc % cols
    else:
        valid = (rr >= 0) & (rr < rows) & (cc >= 0) & (cc < cols)
    nb = np.where(valid, rr * cols + cc, -1)
    nb[nb == np.arange(rows * cols)[:, None]] = -1
    # a repeat of an earlier entry in the same row counts once
    srt = np.sort(nb, axis=1)
    dup_sorted = np.zeros(srt.shape, bool)
    dup_sorted[:, 1:] = (srt[:, 1:] == srt[:, :-1]) & (srt[:, 1:] >= 0)
    nb = np.where(dup_sorted, -1, srt)
    return nb


# ---------------------------------------------------------------- frames and exact distances (private)
def _pow2_near(m: float) -> float:
    """The power of two 2**e with 2**e <= m < 2**(e + 1), for finite m > 0; no validation."""
    return math.ldexp(1.0, math.frexp(m)[1] - 1)


def _frame(A: np.ndarray, always: bool = False):
    """(centre or None, power-of-two scale) of the frame for a product-based search on points near A, or None.

    None means: use the data as they are (mean within 8 RMS spreads of the origin, moderate magnitudes).
    ``always`` (single precision) always centres on A's mean and scales to magnitudes below 2. No validation.
    """
    M = float(np.abs(A).max())
    if M == 0.0:
        return None
    p = _pow2_near(M)
    Ap = A / p  # exact: a power of two
    mu = Ap.mean(0)
    dev = Ap - mu
    dev2 = float((dev * dev).sum()) / A.shape[0]
    off2 = float(mu @ mu)
    centre = always or off2 > _CENTRE_RATIO2 * dev2
    spread = float(np.abs(dev).max()) if centre else float(np.abs(Ap).max())  # in units of p
    e_total = math.frexp(p)[1] - 1 + (math.frexp(spread)[1] - 1 if spread > 0 else 0)
    needs_scale = always or not (-400 <= e_total <= 400)
    s = math.ldexp(1.0, max(min(e_total, 1023), -1074)) if needs_scale else 1.0
    if not centre and s == 1.0:
        return None
    return (mu * p if centre else None), s


def _to_frame(A: np.ndarray, frame) -> np.ndarray:
    """A in the frame of :func:`_frame` (A itself for None); may hold inf for absurd ranges; no validation."""
    if frame is None:
        return A
    c, s = frame
    B = A if c is None else A - c
    return B / s if s != 1.0 else B


def _sumsq_diff(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Σ_j (x_ij − w_kj)² for x (m, D) and w (K, D) shared, or (m, k, D) one set per row; no validation.

    Every entry is the same sequence of operations on its own x and w, whatever m, so a row's values
    never depend on the other rows it is computed with. May hold inf or underflowed values.
    """
    m, D = x.shape
    shared = w.ndim == 2
    K = w.shape[-2]
    out = np.empty((m, K))
    step = max(1, _DIRECT_BLOCK // max(1, K * D))
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for s in range(0, m, step):
            d = x[s : s + step, None, :] - (w[None, :, :] if shared else w[s : s + step])
            np.multiply(d, d, out=d)
            out[s : s + step] = d.sum(-1)
    return out


def _sq_parts(x: np.ndarray, w: np.ndarray):
    """Squared distances ``||x_i − w_k||²`` computed directly, as (s2, E) with d² = s2 · 2**E exactly as computed; no validation.

    x (m, D); w (K, D) shared by all rows, or (m, k, D) one set per row. Most pairs come out of the
    plain sum of squares of x − w (E = 0). A pair whose plain sum may have overflowed or underflowed
    (outside [2**-800, 2**800]) is recomputed with its difference divided by a power of two near the
    difference's largest component (halving x and w first where x − w itself would overflow), so
    every pair is accurate to a few ulps whatever its magnitude. Depends only on the pair itself.
    """
    s2 = _sumsq_diff(x, w)
    E = np.zeros(s2.shape, dtype=np.int64)
    bad = ~((s2 >= 2.0**-800) & (s2 <= 2.0**800)) & (s2 != 0.0)
    zero = s2 == 0.0
    if zero.any():  # an exact zero is a true zero unless every component underflowed
        i, k = np.nonzero(zero)
        a, b = x[i], (w[k] if w.ndim == 2 else w[i, k])
        bad[i[np.any(a != b, axis=1)], k[np.any(a != b, axis=1)]] = True
    if bad.any():
        i, k = np.nonzero(bad)
        a, b = x[i], (w[k] if w.ndim == 2 else w[i, k])
        huge = np.maximum(np.abs(a).max(1), np.abs(b).max(1)) > 2.0**1020
        with np.errstate(over="ignore"):
            dd = np.where(huge[:, None], a / 2.0 - b / 2.0, a - b)  # halving is exact at these magnitudes
        top = np.abs(dd).max(1)
        _, e = np.frexp(np.where(top > 0, top, 1.0))
        ds = np.ldexp(dd, (1 - e)[:, None])  # largest component in [1, 2); tiny ones may underflow, negligibly
        s2[i, k] = np.where(top > 0, (ds * ds).sum(1), 0.0)
        E[i, k] = np.where(top > 0, 2 * (e - 1) + 2 * huge, 0)
    return s2, E


def _sq_value(s2: np.ndarray, E: np.ndarray) -> np.ndarray:
    """d² = s2 · 2**E (inf or 0/subnormal where outside float64); no validation."""
    if not E.any():
        return s2
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(s2, E)


def _distance_value(s2: np.ndarray, E: np.ndarray) -> np.ndarray:
    """d = sqrt(s2) · 2**(E/2) (E is even), representable unless d itself exceeds float64; no validation."""
    d = np.sqrt(s2)
    if not E.any():
        return d
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(d, E // 2)


def _rank(s2: np.ndarray, E: np.ndarray, idx: np.ndarray, n_best: int) -> np.ndarray:
    """The ``n_best`` entries of ``idx`` (per row) with the smallest d² = s2 · 2**E, ties to the lower index; no validation.

    Compares (exponent, mantissa) of d², so the order is exact whatever the magnitudes.
    """
    f, g = np.frexp(s2)
    expo = np.where(s2 > 0, g + E, np.iinfo(np.int64).min)
    order = np.lexsort((idx, f, expo), axis=-1)
    return np.take_along_axis(idx, order, -1)[:, :n_best]


def _bmus(X: np.ndarray, W: np.ndarray, n_best: int, chunk_size: int, with_sq: bool = False):
    """(n, n_best) indices of the nearest prototypes by direct squared distance, nearest first; no validation.

    Screens with the matrix product in the frame of W (:func:`_frame`), then re-ranks directly every
    row where a unit other than the screen's best might lie within the product's rounding bound of it
    (bound: 4·(D + 8)·u·(||x|| + max ||w||)² in the frame, covering the product, the frame's own rounding
    and the direct computation). With ``with_sq`` also returns (s2, E) of :func:`_sq_parts` for them.
    """
    n, D = X.shape
    K = W.shape[0]
    frame = _frame(W)
    Wt = _to_frame(W, frame)
    w2 = (Wt * Wt).sum(1)
    m2wT = -2.0 * Wt.T
    wmax = math.sqrt(float(w2.max()))
    gamma = 4.0 * (D + 8) * _EPS
    out = np.empty((n, n_best), dtype=np.int64)
    s2_out = np.empty((n, n_best)) if with_sq else None
    E_out = np.empty((n, n_best), dtype=np.int64) if with_sq else None
    buf = np.empty((min(chunk_size, n), K))
    for s in range(0, n, chunk_size):
        xs = X[s : s + chunk_size]
        m = xs.shape[0]
        with np.errstate(over="ignore", invalid="ignore"):
            xt = _to_frame(xs, frame)
            xn2 = (xt * xt).sum(1)
            part = buf[:m]
            np.matmul(xt, m2wT, out=part)
            part += w2
            bound = (np.sqrt(xn2) + wmax) ** 2
        if n_best == 1:
            best = part.argmin(1)[:, None]
        else:
            best = np.argpartition(part, n_best - 1, axis=1)[:, :n_best]
        kth = np.take_along_axis(part, best, 1).max(1)
        far = ~(bound < 2.0**1000) | ~np.isfinite(kth)  # the product might have overflowed: rank directly
        delta = gamma * np.where(far, 0.0, bound)
        with np.errstate(invalid="ignore"):
            n_cand = np.count_nonzero(part <= (kth + 4.0 * delta)[:, None], axis=1)
        redo = far | (n_cand > n_best)
        idx = np.sort(best, axis=1)
        if n_best > 1 and not redo.all():
            keep = np.flatnonzero(~redo)
            idx[keep] = _rank(*_sq_parts(xs[keep], W[idx[keep]]), idx[keep], n_best)
        if redo.any():
            rows = np.flatnonzero(redo)
            everyone = np.broadcast_to(np.arange(K), (rows.size, K))
            idx[rows] = _rank(*_sq_parts(xs[rows], W), everyone, n_best)
        out[s : s + m] = idx
        if with_sq:
            s2_out[s : s + m], E_out[s : s + m] = _sq_parts(xs, W[idx])
    return (out, s2_out, E_out) if with_sq else out


def _unit_distances(X: np.ndarray, W: np.ndarray, chunk_size: int):
    """(BMU index, exact Euclidean distance to it) of each row; a ValueError if a distance exceeds float64; no validation."""
    idx, s2, E = _bmus(X, W, 1, chunk_size, with_sq=True)
    d = _distance_value(s2[:, 0], E[:, 0])
    if not np.all(np.isfinite(d)):
        raise _rescale_error("some distances")
    return idx[:, 0], d


def _mean(values: np.ndarray) -> float:
    """Mean of non-negative finite values without overflow (exactly values.sum() / n when that does not overflow)."""
    top = float(values.max())
    if top < 1e300:
        return float(values.sum() / values.shape[0])
    pm = _pow2_near(top)
    return float((values / pm).sum() / values.shape[0] * pm)


def _single_blas_thread():
    """Context that runs BLAS/LAPACK on one thread (threadpoolctl, a scikit-learn dependency); no-op without it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _bmu_augmented(Xa: np.ndarray, W: np.ndarray, out: np.ndarray, bufs: list, pool) -> np.ndarray:
    """BMUs of the rows of ``Xa = [X, 1]``: one product per block with ``[−2W, ||w||²]ᵀ``, then ``argmin``; no validation.

    ``len(bufs)`` threads (``pool`` runs all but the first; each owns one buffer) take the next
    unclaimed block until none is left. Claiming blocks one at a time, rather than dealing them out
    in advance, keeps every thread busy when the machine is shared: a thread that loses its core to
    another process simply takes fewer blocks, instead of holding up the epoch with its fixed share.
    The caller has limited BLAS to one thread, so each row's product is the same whatever the thread
    count or the order in which blocks are taken.
    """
    D = W.shape[1]
    Wa = np.empty((W.shape[0], D + 1), dtype=Xa.dtype)
    Wa[:, :D] = -2.0 * W
    Wa[:, D] = (W * W).sum(1)
    # float32 multiplies by a contiguous copy of Waᵀ: OpenBLAS's plain (NN) product is 4-8 % faster
    # than the transposed (NT) one (SkylakeX kernel). float64 keeps the transposed view: the two can
    # round a product differently in its last bit, and the pipeline's recorded SOMs used the view.
    WaT = np.ascontiguousarray(Wa.T) if Xa.dtype == np.float32 else Wa.T
    block = bufs[0].shape[0]
    n_blocks = -(-Xa.shape[0] // block)
    claim = threading.Lock()
    next_block = [0]

    def work(i: int) -> None:
        buf = bufs[i]
        while True:
            with claim:
                b = next_block[0]
                next_block[0] = b + 1
            if b >= n_blocks:
                return
            s = b * block
            xs = Xa[s : s + block]
            part = buf[: xs.shape[0]]
            np.matmul(xs, WaT, out=part)
            np.argmin(part, axis=1, out=out[s : s + block])

    others = [pool.submit(work, i) for i in range(1, len(bufs))] if pool is not None else []
    work(0)
    for f in others:
        f.result()
    return out


class _TrainingBmus:
    """The BMU search of ``fit``: ``search(W)`` gives the (n,) BMUs of the rows of X; no validation.

    X is put in its frame (:func:`_frame`; always for float32, else only when far from the origin or
    extreme in magnitude) and augmented with a column of ones once, in ``dtype``; each call is one
    matrix product + argmin per row block (blocks of at most ``chunk_size`` rows, sized to stay in
    cache), shared among ``n_threads`` threads. A context manager: it owns the thread pool. Returns
    the same buffer at every call.
    """

    def __init__(self, X: np.ndarray, K: int, dtype: np.dtype, chunk_size: int, n_threads: int | None):
        n, D = X.shape
        self.frame = _frame(X, always=dtype == np.float32)
        Xt = _to_frame(X, self.frame)
        if self.frame is not None and not np.all(np.isfinite(Xt)):
            raise _rescale_error("the coordinates of X relative to its mean")
        self.Xa = np.empty((n, D + 1), dtype=dtype)
        self.Xa[:, :D] = Xt
        self.Xa[:, D] = 1.0
        # row blocks of about 4 MB of scores (500k float64 or 1M float32 entries): big enough for
        # BLAS to run near its peak, small enough that the argmin reads them back from cache
        block = max(1, min(chunk_size, n, max(256, (4_000_000 // np.dtype(dtype).itemsize) // K)))
        n_blocks = -(-n // block)
        threads = max(1, min(int(n_threads or available_cpus()), n_blocks))
        self.bufs = [np.empty((block, K), dtype=dtype) for _ in range(threads)]
        self.out = np.empty(n, dtype=np.int64)
        self.pool = ThreadPoolExecutor(threads - 1, thread_name_prefix="musicsom-som") if threads > 1 else None

    def __call__(self, W: np.ndarray) -> np.ndarray:
        return _bmu_augmented(self.Xa, W if self.frame is None else _to_frame(W, self.frame), self.out, self.bufs, self.pool)

    def __enter__(self) -> "_TrainingBmus":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def _gaussian_1d(n: int, sigma: float, toroidal: bool) -> np.ndarray:
    """(n, n) Gaussian kernel of one lattice axis; the 2-D kernel is the Kronecker product of two; no validation."""
    d = _axis_offsets(n, toroidal).astype(np.float64)
    return np.exp(-(d * d) / (2.0 * sigma**2))


# ---------------------------------------------------------------- distances, BMUs and map quality
def sq_distances(X, W) -> np.ndarray:
    """(n, K) squared Euclidean distances ``||x − w||²`` of every row of X to every prototype (row of W).

    Computed directly from ``x − w`` (not by the ``||x||² − 2x·w + ||w||²`` expansion), pair by pair:
    a row's values are the same whatever the batch it comes in, and accurate to a few ulps whatever
    common offset or scale the data carry. Raises a ValueError asking to rescale when a true value is
    beyond float64: above ~1.8e308, or below ~2.2e-308 while not negligible (2^-104 or more of the
    square of that pair's largest coordinate); negligible ones come back as 0 or a subnormal.

    Examples
    --------
    The values are *squared* distances (activations), not distances:

    >>> import numpy as np
    >>> from musicsom.som import sq_distances
    >>> W = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    >>> X = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> sq_distances(X, W).tolist()                 # e.g. ||(1, 1) − (0, 0)||² = 2
    [[1.0, 2.0, 1.0], [2.0, 1.0, 2.0]]

    A common offset of 1e8 changes nothing (the expansion ||x||² − 2x·w + ||w||² would have lost
    every digit: its terms are near 2e16, where consecutive float64 numbers are 4 apart):

    >>> sq_distances(X + 1e8, W + 1e8).tolist()
    [[1.0, 2.0, 1.0], [2.0, 1.0, 2.0]]
    >>> sq_distances(X[:1], W).shape == (1, 3)     # a row's values do not depend on its batch
    True
    """
    W = _as_matrix(W, "prototypes")
    X = _as_matrix(X, "X", ncols=W.shape[1])
    s2, E = _sq_parts(X, W)
    d2 = _sq_value(s2, E)
    if not np.all(np.isfinite(d2)):
        raise _rescale_error("some squared distances")
    if E.any():
        # below float64's normal range: refused unless negligible (< 2^-104) next to its own pair's coordinates squared
        i, k = np.nonzero((d2 < _TINY) & (s2 > 0))
        if i.size:
            scale = np.maximum(np.abs(X[i]).max(1), np.abs(W[k]).max(1))
            if np.any(np.frexp(s2[i, k])[1] + E[i, k] > 2 * np.frexp(scale)[1] - 104):
                raise _rescale_error("some squared distances")
    return d2


def best_matching_units(X, W, n_best: int = 1, chunk_size: int = 8192) -> np.ndarray:
    """Indices of the ``n_best`` nearest prototypes of each row of X, nearest first: shape (n,) or (n, n_best).

    Exact: the ranking of the direct squared distances of :func:`sq_distances` (ties to the lower
    index), whatever the offset or scale of the data, and the same for every ``chunk_size`` (rows per
    block; memory about chunk_size × K floats).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.som import best_matching_units, sq_distances
    >>> W = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    >>> X = np.array([[0.9, 0.1], [0.0, 1.0], [0.1, 1.9]])
    >>> best_matching_units(X, W).tolist()          # row 1 is 1 from units 0 and 2: the tie goes to unit 0
    [1, 0, 2]
    >>> best_matching_units(X, W, n_best=2).tolist()
    [[1, 0], [0, 2], [2, 0]]
    >>> bool(np.array_equal(best_matching_units(X, W), sq_distances(X, W).argmin(1)))  # smallest squared distance
    True
    """
    W = _as_matrix(W, "prototypes")
    X = _as_matrix(X, "X", ncols=W.shape[1])
    K = W.shape[0]
    n_best = check_int(n_best, "n_best", low=1)
    if n_best > K:
        raise ValueError(f"n_best must be in [1, {K}] (the number of prototypes); got {n_best}")
    chunk_size = _check_chunk_size(chunk_size)
    out = _bmus(X, W, n_best, chunk_size)
    return out[:, 0] if n_best == 1 else out


def quantization_error(X, W, chunk_size: int = 8192) -> float:
    """Mean Euclidean distance of each sample to its BMU (exact distances; the same for every ``chunk_size``).

    Examples
    --------
    The mean of the *distances* (square roots of the activations) to the BMU:

    >>> import numpy as np
    >>> from musicsom.som import quantization_error
    >>> W = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    >>> round(quantization_error(np.array([[0.0, 0.5], [1.0, 0.3]]), W), 6)   # (0.5 + 0.3) / 2
    0.4
    """
    W = _as_matrix(W, "prototypes")
    X = _as_matrix(X, "X", ncols=W.shape[1])
    chunk_size = _check_chunk_size(chunk_size)
    _, d = _unit_distances(X, W, chunk_size)
    return _mean(d)


def topographic_error(X, W, grid_shape, topology: str = "rectangular", chunk_size: int = 8192) -> float:
    """Share of samples whose two nearest prototypes are not lattice neighbours.

    Neighbours: the 8 units at Chebyshev distance 1 on rectangular/toroidal lattices, the 6 adjacent
    units on hexagonal ones (MiniSom's definitions); tori wrap around.

    Examples
    --------
    A 1 × 3 lattice whose prototypes are folded (unit 1 at x = 2, unit 2 at x = 1): near x = 0.4 the
    two nearest units are 0 and 2, which are not lattice neighbours; near x = 1.6 they are 1 and 2:

    >>> import numpy as np
    >>> from musicsom.som import topographic_error
    >>> W = np.array([[0.0], [2.0], [1.0]])
    >>> topographic_error(np.array([[0.4], [1.6]]), W, (1, 3))
    0.5
    """
    topology = _check_topology(topology)
    W = _as_matrix(W, "prototypes")
    rows, cols = _check_grid(grid_shape, topology, n_units=W.shape[0], min_units=2)
    X = _as_matrix(X, "X", ncols=W.shape[1])
    chunk_size = _check_chunk_size(chunk_size)
    bmu2 = _bmus(X, W, 2, chunk_size)
    return float(np.mean(_lattice_steps(bmu2[:, 0], bmu2[:, 1], rows, cols, topology) > 1))


def _check_labels(labels, n: int) -> np.ndarray:
    """Labels as int64 class indices >= 0, one per sample, or a ValueError."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"labels must be a 1-D array with one entry per row of X ({n}); got shape {arr.shape}")
    if arr.dtype.kind == "f" and arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"labels must be integer class indices 0, 1, 2, ...; got dtype {arr.dtype} (encode them first)")
    if arr.size and arr.min() < 0:
        raise ValueError(
            f"labels must be class indices >= 0; got {int(arr.min())} ({int((arr < 0).sum())} sample(s)). Unlabelled "
            "samples are not skipped silently: drop them first, e.g. majority_labels(X[labels >= 0], W, labels[labels >= 0])"
        )
    return arr.astype(np.int64)


def majority_labels(X, W, labels, n_classes: int | None = None, chunk_size: int = 8192):
    """Majority label of the samples mapped to each prototype, and the hit counts per class.

    ``labels`` are class indices >= 0 (negative labels, e.g. -1 for "unlabelled", raise a ValueError:
    drop those samples first). Returns ``major`` (K,), the most frequent class of each unit's hits
    (ties to the lower class; -1 for a unit with no hits), and ``counts`` (K, n_classes).
    ``n_classes`` defaults to the largest label + 1.

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.som import majority_labels
    >>> W = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> X = np.array([[0.1, 0.0], [0.9, 0.8], [0.8, 1.0], [1.0, 0.9]])
    >>> major, counts = majority_labels(X, W, [0, 1, 1, 0])
    >>> major.tolist()                               # unit 1 and unit 2 have no hits
    [0, -1, -1, 1]
    >>> counts[3].tolist()                           # unit 3: one sample of class 0, two of class 1
    [1, 2]
    """
    W = _as_matrix(W, "prototypes")
    X = _as_matrix(X, "X", ncols=W.shape[1])
    labels = _check_labels(labels, X.shape[0])
    top = int(labels.max()) + 1
    if n_classes is None:
        n_classes = top
    else:
        n_classes = check_int(n_classes, "n_classes", low=1)
        if n_classes < top:
            raise ValueError(f"n_classes is {n_classes} but labels go up to {top - 1}; pass n_classes >= {top} (or None)")
    chunk_size = _check_chunk_size(chunk_size)
    bmu = _bmus(X, W, 1, chunk_size)[:, 0]
    counts = np.zeros((W.shape[0], n_classes), dtype=np.int64)
    np.add.at(counts, (bmu, labels), 1)
    major = np.where(counts.sum(1) > 0, counts.argmax(1), -1)
    return major, counts


def _neighbour_distance_table(W: np.ndarray, rows: int, cols: int, topology: str) -> np.ndarray:
    """(K, m) Euclidean distances of each prototype to its lattice neighbours (NaN where none); no validation."""
    nb = _neighbour_table(rows, cols, topology)
    s2, E = _sq_parts(W, W[np.maximum(nb, 0)])
    d = _distance_value(s2, E)
    if not np.all(np.isfinite(d)):
        raise _rescale_error("some distances between prototypes")
    return np.where(nb >= 0, d, np.nan)


def _neighbour_sum(d: np.ndarray) -> np.ndarray:
    """Row sums of a neighbour distance table (NaN = no neighbour), or a ValueError if a sum exceeds float64."""
    with np.errstate(over="ignore"):
        total = np.nansum(d, axis=1)
    if not np.all(np.isfinite(total)):
        raise _rescale_error("some sums of distances between prototypes")
    return total


def u_matrix(W, grid_shape, topology: str = "rectangular") -> np.ndarray:
    """(rows, cols) mean distance of each prototype to its lattice neighbours (the U-matrix).

    Rectangular/toroidal: the 4 edge-sharing neighbours (on a torus with a side of 2 the unit across
    is met in both directions and counts twice, as it always has here); hexagonal: the distinct
    adjacent units (up to 6). Tori wrap around. ``grid_shape`` must hold exactly as many units as
    there are prototypes. Distances are exact for any finite prototypes (see the module notes).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.som import u_matrix
    >>> W = np.array([[0.0], [1.0], [3.0]])          # a 1 × 3 lattice: gaps of 1 and 2
    >>> u_matrix(W, (1, 3)).tolist()
    [[1.0, 1.5, 2.0]]
    """
    topology = _check_topology(topology)
    W = _as_matrix(W, "prototypes")
    rows, cols = _check_grid(grid_shape, topology, n_units=W.shape[0])
    if _is_hex(topology):
        d = _neighbour_distance_table(W, rows, cols, topology)
        cnt = np.sum(~np.isnan(d), axis=1)
        return (_neighbour_sum(d) / np.maximum(cnt, 1)).reshape(rows, cols)
    G = W.reshape(rows, cols, -1)
    acc = np.zeros((rows, cols))
    cnt = np.zeros((rows, cols))
    for axis in (0, 1):
        for shift in (1, -1):
            nb = np.roll(G, shift, axis=axis)
            with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                d = np.linalg.norm(G - nb, axis=2)
            odd = ~((d >= 2.0**-400) & (d <= 2.0**400)) & np.any(G != nb, axis=2)  # squares may have over/underflowed
            if odd.any():
                d[odd] = _distance_value(*_sq_parts(G[odd], nb[odd][:, None, :]))[:, 0]
            valid = np.ones((rows, cols), bool)
            if topology != "toroidal":  # rolled-in edge neighbours do not exist on a flat lattice
                edge = 0 if shift == 1 else -1
                if axis == 0:
                    valid[edge, :] = False
                else:
                    valid[:, edge] = False
            with np.errstate(over="ignore"):
                acc += np.where(valid, d, 0.0)
            cnt += valid
    if not np.all(np.isfinite(acc)):
        raise _rescale_error("some distances between prototypes")
    return acc / np.maximum(cnt, 1)


# ---------------------------------------------------------------- the map
class SOM:
    """Batch self-organising map; a scikit-learn-style transformer (scikit-learn itself is optional).

    ``fit(X)`` sets ``prototypes_`` (K × D), row-major over ``grid_shape``. ``transform(X)`` gives the
    (n, K) activations, which are *squared* Euclidean distances ``||x − w_k||²`` (not distances);
    ``predict(X)`` the BMU index; ``score(X)`` minus the quantization error. Parameters are stored
    unchanged by ``__init__`` and validated by ``fit`` (``get_params``/``set_params``/``clone`` work).

    Parameters
    ----------
    grid_shape : (rows, cols) of the lattice (integers).
    topology : "rectangular", "toroidal", "hexagonal" or "hexagonal_toroidal". Hexagonal lattices
        use odd-row offset coordinates, unit (r, c) at x = c + 0.5·(r mod 2), y = r·√3/2, and 6
        neighbours (units 1 apart); a hexagonal torus needs an even number of rows (module notes).
    epochs : number of batch epochs.
    sigma_start, sigma_end : neighbourhood width (in lattice units) at the first and last epoch;
        decays geometrically. ``sigma_start=None`` means half the larger side.
    init : "pca" (lattice spanned by the two leading principal axes) or "random" (random samples).
    random_state : seed (None, an int >= 0 or a numpy Generator) of the random initialisation, and of
        nothing else (PCA init is deterministic).
    chunk_size : rows per distance block of the BMU, QE and TE methods (memory: chunk_size × K floats);
        ``fit`` uses blocks of at most this many rows, sized to about 4 MB of scores (500k float64 or 1M float32 entries).
    bmu_dtype : "float64" (default) or "float32": precision of the BMU search of ``fit`` only.
    n_threads : threads of the BMU search in ``fit`` (None = the CPUs this process may use). BLAS runs
        single-threaded inside ``fit`` and the row blocks are shared among these threads instead.

    Attributes (after ``fit``)
    --------------------------
    prototypes_ : (K, D) prototypes, unit k = row * cols + col.
    grid_shape_, topology_ : the lattice as validated by ``fit`` (the methods use these).
    n_features_in_ : D.
    history_ : one dict (epoch, sigma) per epoch.

    MiniSom habits: :meth:`get_weights` ((rows, cols, D)), :meth:`winner`, :meth:`win_map`,
    :meth:`activation_response`, :meth:`labels_map`, :meth:`distance_map`, :meth:`quantization_error`,
    :meth:`topographic_error`. Index ``(row, col)`` is unit ``row * cols + col``. (MiniSom's own
    hexagonal layout shifts the rows indexed by its *second* index; see tests/test_som_hex.py.)

    Examples
    --------
    Fit, then read activations (*squared* distances), BMUs and the score:

    >>> import numpy as np
    >>> from musicsom.som import SOM
    >>> X = np.random.default_rng(0).standard_normal((500, 3))
    >>> som = SOM((6, 5), epochs=10).fit(X)
    >>> som
    SOM(grid_shape=(6, 5), epochs=10)
    >>> som.prototypes_.shape, som.get_weights().shape   # (K, D) and MiniSom's (rows, cols, D)
    ((30, 3), (6, 5, 3))
    >>> A = som.transform(X[:4])                      # activations: squared distances ||x − w_k||², (n, K)
    >>> A.shape
    (4, 30)
    >>> bool(np.allclose(A, ((X[:4, None, :] - som.prototypes_) ** 2).sum(-1)))
    True
    >>> bool(np.array_equal(som.predict(X[:4]), A.argmin(1)))   # the BMU: the smallest squared distance
    True
    >>> bool(np.isclose(som.score(X), -som.quantization_error(X)))  # minus the mean distance (not squared) to the BMU
    True
    >>> 0.0 <= som.topographic_error(X) < 0.1
    True

    The U-matrix, normalised as MiniSom's (maximum 1):

    >>> dm = som.distance_map()
    >>> dm.shape, float(dm.max())
    ((6, 5), 1.0)

    A hexagonal map (odd-r offsets, 6 neighbours per unit) has the same methods:

    >>> hexa = SOM((6, 6), topology="hexagonal", epochs=10).fit(X)
    >>> hexa.distance_map().shape
    (6, 6)
    >>> 0.0 <= hexa.topographic_error(X) < 0.1
    True

    Parameters are stored as given and validated by ``fit`` (scikit-learn's ``clone`` works):

    >>> som.get_params()["grid_shape"], SOM().set_params(epochs=5).epochs
    ((6, 5), 5)
    >>> SOM().predict(X)
    Traceback (most recent call last):
        ...
    musicsom.som.NotFittedError: This SOM instance is not fitted yet. Call 'fit' with appropriate arguments before using this method.
    """

    def __init__(
        self,
        grid_shape=(10, 10),
        topology="rectangular",
        epochs=20,
        sigma_start=None,
        sigma_end=1.0,
        init="pca",
        random_state=0,
        chunk_size=8192,
        bmu_dtype="float64",
        n_threads=None,
    ):
        self.grid_shape = grid_shape
        self.topology = topology
        self.epochs = epochs
        self.sigma_start = sigma_start
        self.sigma_end = sigma_end
        self.init = init
        self.random_state = random_state
        self.chunk_size = chunk_size
        self.bmu_dtype = bmu_dtype
        self.n_threads = n_threads

    # -------------------------------------------------- the estimator protocol (scikit-learn's, without importing it)
    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters as stored (``deep`` is accepted for scikit-learn; there are no sub-estimators)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> "SOM":
        """Set constructor parameters (validated at the next ``fit``); returns self."""
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"Invalid parameter {key!r} for estimator {type(self).__name__}. Valid parameters are: {valid!r}.")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        defaults = {n: p.default for n, p in inspect.signature(type(self).__init__).parameters.items() if n != "self"}
        changed = []
        for name, default in defaults.items():
            value = getattr(self, name, default)
            try:
                same = type(value) is type(default) and bool(value == default)
            except Exception:  # e.g. arrays: shown
                same = False
            if not same:
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):
        """scikit-learn's estimator tags (imports scikit-learn; only scikit-learn calls this)."""
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(preserves_dtype=["float64"]),
            input_tags=InputTags(two_d_array=True),
        )

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "prototypes_")

    # -------------------------------------------------- validation
    def _checked_params(self) -> dict:
        """Validated copies of the parameters (the stored ones are never changed)."""
        topology = _check_topology(self.topology)
        grid = _check_grid(self.grid_shape, topology, min_units=2)
        epochs = check_int(self.epochs, "epochs", low=1)
        sigma_end = check_scalar(self.sigma_end, "sigma_end")
        sigma_start = None if self.sigma_start is None else check_scalar(self.sigma_start, "sigma_start")
        if sigma_end <= 0 or (sigma_start is not None and sigma_start < sigma_end):
            raise ValueError(f"need 0 < sigma_end <= sigma_start; got {self.sigma_start}, {self.sigma_end}")
        if not isinstance(self.init, str) or self.init not in ("pca", "random"):
            raise ValueError(f"init must be 'pca' or 'random'; got {self.init!r}")
        rs = self.random_state
        if rs is not None and not isinstance(rs, np.random.Generator):
            try:
                rs = check_int(rs, "random_state", low=0)
            except ValueError:
                raise ValueError(f"random_state must be None, an integer >= 0 or a numpy Generator; got {self.random_state!r}") from None
        try:
            dtype = None if self.bmu_dtype is None else np.dtype(self.bmu_dtype).name
        except (TypeError, ValueError):
            dtype = None
        if dtype not in ("float64", "float32"):
            raise ValueError(f"bmu_dtype must be 'float64' or 'float32'; got {self.bmu_dtype!r}")
        chunk_size = _check_chunk_size(self.chunk_size)
        n_threads = None if self.n_threads is None else check_int(self.n_threads, "n_threads (None = all CPUs)", low=1)
        return dict(
            grid_shape=grid, topology=topology, epochs=epochs, sigma_start=sigma_start, sigma_end=sigma_end,
            init=self.init, random_state=rs, chunk_size=chunk_size, bmu_dtype=dtype, n_threads=n_threads,
        )

    def _W(self) -> np.ndarray:
        W = getattr(self, "prototypes_", None)
        if W is None:
            raise _not_fitted_error(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with appropriate arguments before using this method."
            )
        return W

    def _grid(self) -> tuple[int, int]:
        """The lattice of the fitted map (as validated by fit; the parameter if prototypes_ was set by hand)."""
        return getattr(self, "grid_shape_", None) or _check_grid(self.grid_shape, self._topo(), n_units=self._W().shape[0])

    def _topo(self) -> str:
        return getattr(self, "topology_", None) or _check_topology(self.topology)

    def _fitted_X(self, X, name: str = "X") -> np.ndarray:
        W = self._W()
        X = _as_matrix(X, name)
        if X.shape[1] != W.shape[1]:
            raise ValueError(f"{name} has {X.shape[1]} features, but {type(self).__name__} is expecting {W.shape[1]} features as input")
        return X

    # -------------------------------------------------- training
    def initial_prototypes(self, X, grid_shape) -> np.ndarray:
        """The (K, D) prototypes training starts from (``init``: PCA plane or random samples)."""
        p = self._checked_params()
        X = _as_matrix(X, "X")
        grid = _check_grid(grid_shape, p["topology"], min_units=2)
        return self._initial(X, grid, p)

    def _initial(self, X, grid_shape, p) -> np.ndarray:
        rows, cols = grid_shape
        K = rows * cols
        if p["init"] == "random":
            if X.shape[0] < K:
                raise ValueError(f"random init needs at least as many samples ({X.shape[0]}) as units ({K})")
            rng = np.random.default_rng(p["random_state"])
            return X[rng.choice(X.shape[0], K, replace=False)].copy()
        mean = X.mean(0)
        # leading principal axes via SVD of a bounded subsample (deterministic: evenly spaced rows)
        sub = X[:: max(1, X.shape[0] // 20000)] - mean
        with _single_blas_thread():  # multi-threaded OpenBLAS is ~15× slower on this tall-skinny SVD here
            _, s, vt = np.linalg.svd(sub, full_matrices=False)
        scale = s[:2] / np.sqrt(sub.shape[0])
        if vt.shape[0] < 2:
            vt = np.vstack([vt, np.zeros_like(vt)])
            scale = np.append(scale, 0.0)
        coords = np.stack(np.divmod(np.arange(K), cols), axis=1).astype(float)
        u = np.linspace(-1, 1, rows)[coords[:, 0].astype(int)] if rows > 1 else np.zeros(K)
        v = np.linspace(-1, 1, cols)[coords[:, 1].astype(int)] if cols > 1 else np.zeros(K)
        # the longer lattice side follows the leading axis
        a, b = (u, v) if rows >= cols else (v, u)
        return mean + 2.0 * (a[:, None] * scale[0] * vt[0] + b[:, None] * scale[1] * vt[1])

    def sigmas(self, grid_shape) -> np.ndarray:
        """The neighbourhood width of each epoch (geometric decay from sigma_start to sigma_end)."""
        p = self._checked_params()
        return self._sigmas(_check_grid(grid_shape, p["topology"]), p)

    @staticmethod
    def _sigmas(grid_shape, p) -> np.ndarray:
        start = p["sigma_start"] if p["sigma_start"] is not None else max(grid_shape) / 2.0
        n = p["epochs"]
        if n == 1:
            return np.array([float(p["sigma_end"])])
        return start * (p["sigma_end"] / start) ** (np.arange(n) / (n - 1))

    def fit(self, X, y=None, callback=None) -> "SOM":
        """Train on X (n × D); ``y`` is ignored. ``callback(epoch, sigma, W)`` is called after each epoch if given.

        While it trains, BLAS is limited to one thread (restored afterwards) and the BMU search runs on
        ``n_threads`` Python threads instead: on a shared machine this is several times faster than
        multi-threaded BLAS on these skinny products, and the result does not depend on the thread count.
        """
        p = self._checked_params()
        X = _as_matrix(X, "X", min_rows=2)
        grid_shape = p["grid_shape"]
        W = self._initial(X, grid_shape, p)
        history = []
        with _TrainingBmus(X, W.shape[0], np.dtype(p["bmu_dtype"]), p["chunk_size"], p["n_threads"]) as search:
            with _single_blas_thread():
                W = self._epochs(X, W, search, grid_shape, p, history, callback)
        self.prototypes_ = W
        self.grid_shape_ = grid_shape
        self.topology_ = p["topology"]
        self.n_features_in_ = X.shape[1]
        self.history_ = history
        return self

    def _epochs(self, X, W, search, grid_shape, p, history, callback):
        rows, cols = grid_shape
        topology = p["topology"]
        hexa = _is_hex(topology)
        tor = topology == "toroidal"
        n, D = X.shape
        K = W.shape[0]
        indptr = np.arange(n + 1)
        ones = np.ones(n)
        for epoch, sigma in enumerate(self._sigmas(grid_shape, p)):
            bmu = search(W)
            # one-hot assignment (n × K, one entry per row); its transpose sums the samples per unit
            hits = sparse.csr_matrix((ones, bmu, indptr), shape=(n, K))
            sums = np.asarray(hits.T @ X)  # (K, D) per-unit sums
            counts = np.bincount(bmu, minlength=K).astype(np.float64)
            if hexa:
                denom, numer = self._hex_update(sums, counts, rows, cols, topology == "hexagonal_toroidal", sigma)
            else:
                # separable neighbourhood: H = H_rows ⊗ H_cols, applied along each lattice axis
                h_r = _gaussian_1d(rows, sigma, tor)
                h_c = _gaussian_1d(cols, sigma, tor)
                denom = (h_r @ counts.reshape(rows, cols) @ h_c).ravel()
                numer = (h_c @ (h_r @ sums.reshape(rows, cols * D)).reshape(rows, cols, D)).reshape(K, D)
            ok = denom > 1e-12 * max(denom.max(), 1e-300)
            W = np.where(ok[:, None], numer / np.where(ok, denom, 1.0)[:, None], W)
            history.append({"epoch": epoch, "sigma": float(sigma)})
            if callback is not None:
                callback(epoch, sigma, W)
        return W

    @staticmethod
    def _hex_update(sums, counts, rows, cols, toroidal, sigma):
        """Dense-kernel update of a hexagonal lattice, ``H n`` and ``H S``, in blocks of units; no validation."""
        K = rows * cols
        denom = np.empty(K)
        numer = np.empty_like(sums)
        step = max(1, (1 << 22) // K)
        for s in range(0, K, step):
            units = np.arange(s, min(K, s + step))
            H = np.exp(-_hex_sq_block(units, rows, cols, toroidal) / (2.0 * sigma**2))
            denom[units] = H @ counts
            numer[units] = H @ sums
        return denom, numer

    # -------------------------------------------------- scikit-learn methods
    def transform(self, X) -> np.ndarray:
        """(n, K) activations: *squared* Euclidean distances of each row of X to each prototype (see :func:`sq_distances`).

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((200, 2))
        >>> som = SOM((3, 3), epochs=5).fit(X)
        >>> A = som.transform(X[:3])                      # squared distances, not distances
        >>> A.shape, bool(np.allclose(np.sqrt(A.min(1)).mean(), som.quantization_error(X[:3])))
        ((3, 9), True)
        """
        return sq_distances(self._fitted_X(X), self._W())

    def fit_transform(self, X, y=None, callback=None) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``: the (n, K) squared distances."""
        return self.fit(X, y, callback=callback).transform(X)

    def predict(self, X) -> np.ndarray:
        """Index (row * cols + col) of the best-matching unit of each row of X.

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((200, 2))
        >>> som = SOM((3, 4), epochs=5).fit(X)
        >>> k = int(som.predict(X[:1])[0])
        >>> divmod(k, 4) == som.winner(X[0])              # unit k is (k // cols, k % cols)
        True
        """
        return best_matching_units(self._fitted_X(X), self._W(), chunk_size=self.chunk_size)

    def score(self, X, y=None) -> float:
        """Minus the quantization error (higher is better, as scikit-learn's model selection expects); ``y`` is ignored."""
        return -quantization_error(self._fitted_X(X), self._W(), self.chunk_size)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the K output columns of ``transform``: "som0", "som1", ..."""
        W = self._W()
        if input_features is not None and len(input_features) != W.shape[1]:
            raise ValueError(f"input_features should have length equal to number of features ({W.shape[1]}), got {len(input_features)}")
        return np.asarray([f"{type(self).__name__.lower()}{k}" for k in range(W.shape[0])], dtype=object)

    # -------------------------------------------------- conveniences on the fitted map (MiniSom's names)
    def bmu(self, X) -> np.ndarray:
        """Index of the best-matching unit of each row of X (as :meth:`predict`)."""
        return self.predict(X)

    def quantization_error(self, X) -> float:
        """Mean Euclidean distance of each row of X to its BMU."""
        return quantization_error(self._fitted_X(X), self._W(), self.chunk_size)

    def topographic_error(self, X) -> float:
        """Share of rows of X whose two nearest prototypes are not lattice neighbours (see :func:`topographic_error`)."""
        return topographic_error(self._fitted_X(X), self._W(), self._grid(), self._topo(), self.chunk_size)

    def get_weights(self) -> np.ndarray:
        """The prototypes as a (rows, cols, D) array (a copy): ``get_weights()[r, c]`` is unit ``r * cols + c``.

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> som = SOM((3, 4), epochs=5).fit(np.random.default_rng(0).standard_normal((200, 2)))
        >>> G = som.get_weights()
        >>> G.shape
        (3, 4, 2)
        >>> bool(np.array_equal(G[2, 1], som.prototypes_[2 * 4 + 1]))
        True
        >>> bool(np.array_equal(G.reshape(-1, 2), som.prototypes_))   # MiniSom weights reshape the same way
        True
        """
        rows, cols = self._grid()
        return self._W().reshape(rows, cols, -1).copy()

    def winner(self, x) -> tuple[int, int]:
        """(row, col) of the best-matching unit of one sample x (a 1-D vector of D features).

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((200, 2))
        >>> som = SOM((3, 4), epochs=5).fit(X)
        >>> r, c = som.winner(X[0])
        >>> bool(som.transform(X[:1]).argmin() == r * 4 + c)   # the smallest squared distance
        True
        """
        W = self._W()
        if sparse.issparse(x) or np.ndim(x) != 1:
            raise ValueError(f"x must be one sample, a 1-D vector of {W.shape[1]} features; got shape {np.shape(x)} (use predict for many)")
        k = int(self.predict(np.reshape(x, (1, -1)))[0])
        return divmod(k, self._grid()[1])

    def _positions_of(self, X):
        X = self._fitted_X(X)
        return X, self.predict(X), self._grid()[1]

    def win_map(self, X, return_indices: bool = False) -> defaultdict:
        """dict (row, col) -> list of the rows of X mapped to that unit (their indices with ``return_indices``).

        A ``collections.defaultdict(list)``, as MiniSom's: a unit with no hits gives an empty list.

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((200, 2))
        >>> som = SOM((3, 4), epochs=5).fit(X)
        >>> wm = som.win_map(X, return_indices=True)
        >>> sum(len(v) for v in wm.values())
        200
        >>> all(som.winner(X[i]) == unit for unit, rows in wm.items() for i in rows)
        True
        >>> wm[(9, 9)]                                    # a defaultdict: no hits, an empty list
        []
        """
        X, bmu, cols = self._positions_of(X)
        out = defaultdict(list)
        for i, k in enumerate(bmu):
            out[divmod(int(k), cols)].append(i if return_indices else X[i])
        return out

    def activation_response(self, X) -> np.ndarray:
        """(rows, cols) number of rows of X whose BMU is each unit (int64).

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((200, 2))
        >>> som = SOM((3, 4), epochs=5).fit(X)
        >>> hits = som.activation_response(X)
        >>> hits.shape, int(hits.sum())
        ((3, 4), 200)
        """
        X, bmu, _ = self._positions_of(X)
        rows, cols = self._grid()
        return np.bincount(bmu, minlength=rows * cols).reshape(rows, cols)

    def labels_map(self, X, labels) -> defaultdict:
        """dict (row, col) -> ``collections.Counter`` of the labels (any hashable values) of the rows of X mapped there.

        A ``collections.defaultdict(Counter)``: a unit with no hits gives an empty Counter.

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((200, 2))
        >>> som = SOM((3, 4), epochs=5).fit(X)
        >>> labels = ["right" if v > 0 else "left" for v in X[:, 0]]
        >>> lm = som.labels_map(X, labels)
        >>> sum(sum(c.values()) for c in lm.values())
        200
        >>> sorted(set().union(*lm.values()))
        ['left', 'right']
        """
        X, bmu, cols = self._positions_of(X)
        labels = list(labels) if not isinstance(labels, np.ndarray) else labels
        if np.ndim(labels) != 1 or len(labels) != X.shape[0]:
            raise ValueError(f"labels must hold one entry per row of X ({X.shape[0]}); got shape {np.shape(labels)}")
        out = defaultdict(Counter)
        for k, lab in zip(bmu, labels):
            out[divmod(int(k), cols)][lab] += 1
        return out

    def distance_map(self, scaling: str = "sum") -> np.ndarray:
        """(rows, cols) U-matrix as MiniSom's ``distance_map``: normalised so that its maximum is 1.

        Each cell is the sum (``scaling="sum"``) or mean (``"mean"``) of the distances of the prototype
        to its neighbours: the 8 surrounding units on rectangular/toroidal lattices, the 6 adjacent
        units on hexagonal ones (tori wrap around). If all prototypes coincide the map is all zeros.

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((300, 2))
        >>> um = SOM((4, 4), epochs=5).fit(X).distance_map()
        >>> um.shape, float(um.max())
        ((4, 4), 1.0)
        >>> um_hex = SOM((4, 4), topology="hexagonal", epochs=5).fit(X).distance_map(scaling="mean")
        >>> um_hex.shape, bool(np.all((um_hex > 0) & (um_hex <= 1)))
        ((4, 4), True)
        """
        if scaling not in ("sum", "mean"):
            raise ValueError(f"scaling must be 'sum' or 'mean'; got {scaling!r}")
        W = self._W()
        rows, cols = self._grid()
        d = _neighbour_distance_table(W, rows, cols, self._topo())
        if scaling == "sum":
            um = _neighbour_sum(d)
        else:
            cnt = np.sum(~np.isnan(d), axis=1)
            um = _neighbour_sum(d) / np.maximum(cnt, 1)
        top = um.max()
        return (um / top if top > 0 else um).reshape(rows, cols)
