"""Lattice geometry of the self-organising maps: unit coordinates and positions, lattice distances and steps, rings, neighbours.

Units are numbered row-major: unit ``k`` sits at lattice row ``r = k // cols`` and column
``c = k % cols`` (:func:`lattice_coordinates`); :func:`lattice_positions` gives its place in the plane.

Lattices (``TOPOLOGIES``)
-------------------------
* ``"rectangular"``: unit (r, c) at the point (r, c). Neighbours (n-rings of :func:`lattice_ring`,
  topographic error, :meth:`musicsom.som.SOM.distance_map`) are the 8 units at Chebyshev distance 1;
  the n-ring is every unit at Chebyshev distance ≤ n. :func:`musicsom.som.u_matrix` averages over the
  4 edge-sharing units.
* ``"toroidal"``: the same lattice wrapping around both axes.
* ``"hexagonal"``: odd-row offset ("odd-r") layout: unit (r, c) at ``x = c + 0.5·(r mod 2)``,
  ``y = r·√3/2`` (odd rows shifted half a unit along x, rows √3/2 apart), so adjacent units are
  exactly 1 apart (:func:`lattice_positions` returns (y, x) per unit, row position first). The 6
  neighbours of (r, c) are (r, c ± 1) and, on an even row, (r ± 1, c − 1) and (r ± 1, c); on an odd
  row, (r ± 1, c) and (r ± 1, c + 1). The n-ring is every unit at most n steps away in this
  6-neighbour graph (hexagonal lattice distance); the topographic error and the U-matrix use the 6
  neighbours.
* ``"hexagonal_toroidal"``: the hexagonal lattice wrapping around both axes. The number of rows must
  be even: only then does the row after the last one have the parity of row 0, so the offsets match
  across the seam (and the wrap is a pure translation by ``rows·√3/2`` vertically, ``cols`` horizontally).

:mod:`musicsom.som` re-exports the public names, so both ``from musicsom.lattice import lattice_ring``
and ``from musicsom.som import lattice_ring`` work. This module needs only numpy.
"""

from __future__ import annotations

import math

import numpy as np

from ._validation import check_int

TOPOLOGIES = ("rectangular", "toroidal", "hexagonal", "hexagonal_toroidal")
HEX_ROW_HEIGHT = math.sqrt(3.0) / 2.0  # vertical distance between adjacent rows of a hexagonal lattice


# ---------------------------------------------------------------- argument checks
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
        dims = ()  # not a sequence: refused below, as a pair of the wrong length is
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


# ---------------------------------------------------------------- coordinates and positions
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


# ---------------------------------------------------------------- distances and steps between units
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


# ---------------------------------------------------------------- rings and neighbours
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


def _gaussian_1d(n: int, sigma: float, toroidal: bool) -> np.ndarray:
    """(n, n) Gaussian kernel of one lattice axis; the 2-D kernel is the Kronecker product of two; no validation."""
    d = _axis_offsets(n, toroidal).astype(np.float64)
    return np.exp(-(d * d) / (2.0 * sigma**2))
