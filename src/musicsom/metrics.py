"""Trajectory metrics of docs/METHOD.md §5 (paper §5.1). Pure numpy; a trajectory is its states x_0..x_T and BMUs c_0..c_T.

Steps of zero length have no direction: cosines involving them are NaN and are skipped by the
summaries (nan-aware medians and means). Norms are computed without overflow or underflow (the plain
formula, bit for bit, on ordinary data), so steps of 1e200 or 1e-200 have the cosines and
efficiencies of steps of 1; states whose steps overflow float64 raise a ValueError.

Examples
--------
A hand-made path of four unit steps, one turn, and its BMUs (the prototype with the smallest
*squared* distance at each state):

>>> import numpy as np
>>> from musicsom import metrics
>>> states = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [2.0, 2.0]])
>>> bmus = [4, 4, 7, 7, 7]
>>> s = metrics.trajectory_summary(states, bmus)
>>> round(s["geodesic_efficiency"], 4), s["transition_rate"], s["dwell_median"]
(0.7071, 0.25, 2.5)
"""

from __future__ import annotations

import numpy as np

from ._validation import _stable_norms

__all__ = [
    "step_cosines",
    "cosines_to_first",
    "transition_rate",
    "dwell_lengths",
    "curvature",
    "geodesic_efficiency",
    "segmented_continuity",
    "convergence_ratio",
    "trajectory_summary",
    "median_iqr",
]


def _norm1(v) -> float:
    """Norm of one vector: ``np.linalg.norm`` where it is exact, else the overflow-free one."""
    with np.errstate(over="ignore", under="ignore"):
        n = float(np.linalg.norm(v))
    return n if np.isfinite(n) and n >= 2.0**-480 else float(_stable_norms(v))


def _bmu_seq(bmus) -> np.ndarray:
    b = np.asarray(bmus)
    if b.ndim != 1:
        raise ValueError(f"bmus must be a 1-D sequence c_0..c_T; got shape {b.shape}")
    return b


def _steps(states) -> np.ndarray:
    states = np.asarray(states, dtype=np.float64)
    if states.ndim != 2 or states.shape[0] < 2:
        raise ValueError(f"states must be (T+1, D) with T >= 1; got shape {states.shape}")
    if not np.all(np.isfinite(states)):
        raise ValueError("states contains NaN or infinite values")
    with np.errstate(over="ignore", invalid="ignore"):
        d = np.diff(states, axis=0)
    if not np.all(np.isfinite(d)):
        raise ValueError("the steps between states overflow float64 (> 1.8e308); rescale the states")
    return d


def _bmus_for(states, bmus) -> np.ndarray:
    """``bmus`` as a 1-D array with one entry per state, or a ValueError naming it."""
    b = np.asarray(bmus)
    n = np.asarray(states).shape[0]
    if b.ndim != 1 or b.shape[0] != n:
        raise ValueError(f"bmus must hold one entry per state (c_0..c_T, {n}); got shape {b.shape}")
    return b


def _cos(a, b) -> np.ndarray:
    na = _stable_norms(a)
    nb = _stable_norms(b)
    live = (na > 0) & (nb > 0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore", under="ignore"):
        c = (a * b).sum(-1) / (na * nb)
        redo = live & ~(np.isfinite(c) & (na * nb >= 2.0**-900))
        if np.any(redo):  # products out of range: the cosine of the unit vectors instead
            ua = a / np.where(na > 0, na, 1.0)[..., None]
            ub = b / np.where(nb > 0, nb, 1.0)[..., None]
            c = np.where(redo, (ua * ub).sum(-1), c)
    c = np.where(live, c, np.nan)
    return np.clip(c, -1.0, 1.0)


def step_cosines(states) -> np.ndarray:
    """Step-direction continuity ``cos(δ_t, δ_{t−1})`` for t = 2..T (length T−1).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.metrics import step_cosines
    >>> states = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [2.0, 2.0]])
    >>> step_cosines(states).round(6).tolist()      # straight, a right angle, straight
    [1.0, 0.0, 1.0]
    >>> step_cosines(np.array([[0.0], [0.0], [1.0]])).tolist()   # a zero-length step has no direction
    [nan]
    """
    d = _steps(states)
    return _cos(d[1:], d[:-1])


def cosines_to_first(states) -> np.ndarray:
    """``cos(δ_t, δ_1)`` for t = 1..T (length T; the first is 1).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.metrics import cosines_to_first
    >>> states = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [2.0, 2.0]])
    >>> cosines_to_first(states).round(6).tolist()
    [1.0, 1.0, 0.0, 0.0]
    """
    d = _steps(states)
    return _cos(d, d[:1])


def transition_rate(bmus) -> float:
    """Fraction of steps where the BMU changes (``c_t ≠ c_{t−1}``).

    Examples
    --------
    >>> from musicsom.metrics import transition_rate
    >>> transition_rate([4, 4, 7, 7, 7])             # one change in four steps
    0.25
    >>> transition_rate([3, 5, 3, 5])
    1.0
    """
    b = _bmu_seq(bmus)
    if b.size < 2:
        raise ValueError("bmus must hold at least two entries (c_0, c_1)")
    return float(np.mean(b[1:] != b[:-1]))


def dwell_lengths(bmus) -> np.ndarray:
    """Run lengths of a constant BMU along c_0..c_T (they sum to T+1).

    Examples
    --------
    >>> from musicsom.metrics import dwell_lengths
    >>> dwell_lengths([4, 4, 7, 7, 7]).tolist()
    [2, 3]
    >>> dwell_lengths([1, 2, 2, 1]).tolist()         # a return to a cell starts a new run
    [1, 2, 1]
    """
    b = _bmu_seq(bmus)
    if b.size == 0:
        raise ValueError("bmus is empty")
    change = np.flatnonzero(b[1:] != b[:-1]) + 1
    edges = np.concatenate([[0], change, [b.size]])
    return np.diff(edges)


def curvature(states, bmus) -> tuple[np.ndarray, np.ndarray]:
    """Turning angle per unit step ``θ_t / ||δ_t||`` for t = 2..T, split into (within-cell, across-cell).

    A step is across cells when it changes the BMU (``c_t ≠ c_{t−1}``).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.metrics import curvature
    >>> states = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [2.0, 2.0]])
    >>> within, across = curvature(states, [4, 4, 7, 7, 7])
    >>> within.round(4).tolist(), across.round(4).tolist()   # the right-angle turn happens inside cell 7
    ([1.5708, 0.0], [0.0])
    """
    d = _steps(states)
    b = _bmus_for(states, bmus)
    theta = np.arccos(step_cosines(states))
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = theta / _stable_norms(d[1:])
    across = b[2:] != b[1:-1]
    return kappa[~across], kappa[across]


def geodesic_efficiency(states) -> float:
    """``||x_T − x_0|| / Σ ||δ_t||`` (1 = a straight path; NaN if the path has no length).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.metrics import geodesic_efficiency
    >>> states = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [2.0, 2.0]])
    >>> round(geodesic_efficiency(states), 6)       # net sqrt(8) over a length of 4
    0.707107
    >>> geodesic_efficiency(np.array([[0.0], [1.0], [2.0]]))   # a straight path
    1.0
    >>> geodesic_efficiency(np.array([[0.0], [1.0], [0.0]]))   # there and back
    0.0
    >>> round(geodesic_efficiency(states * 1e200), 6)          # no overflow
    0.707107
    """
    d = _steps(states)
    n = _stable_norms(d)
    top = float(n.max())
    if top == 0:
        return float("nan")
    states = np.asarray(states, dtype=np.float64)
    net = _norm1(states[-1] - states[0])
    length = float(n.sum())
    if np.isfinite(length) and length >= 2.0**-900:
        return net / length
    return (net / top) / float((n / top).sum())  # the lengths at the scale of the longest step


def segmented_continuity(states, bmus) -> np.ndarray:
    """Mean step continuity inside each dwell segment (segments with at least two steps inside one cell).

    Step t (from x_{t−1} to x_t) lies inside a segment when c_{t−1} = c_t; the continuity of two
    consecutive steps counts for the segment when both lie inside it.

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.metrics import segmented_continuity
    >>> states = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [3.0, 1.0], [3.0, 2.0]])
    >>> segmented_continuity(states, [0, 0, 0, 1, 1, 1]).round(6).tolist()   # two straight runs of two steps
    [1.0, 1.0]
    """
    cos = step_cosines(states)  # cos[j] pairs steps j+1 and j+2 (1-based)
    b = _bmus_for(states, bmus)
    inside = b[1:] == b[:-1]  # inside[t-1]: step t stays in one cell
    out = []
    seg_vals: list[float] = []
    for j in range(cos.size):
        s1, s2 = j, j + 1  # 0-based step indices
        if inside[s1] and inside[s2] and b[s1 + 1] == b[s2 + 1]:
            seg_vals.append(cos[j])
        else:
            if seg_vals:
                out.append(np.nanmean(seg_vals) if np.any(np.isfinite(seg_vals)) else np.nan)
            seg_vals = []
    if seg_vals:
        out.append(np.nanmean(seg_vals) if np.any(np.isfinite(seg_vals)) else np.nan)
    return np.asarray(out, dtype=np.float64)


def convergence_ratio(states, target) -> float:
    """Final over initial distance to ``target`` (< 1 means the path ended nearer).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.metrics import convergence_ratio
    >>> states = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    >>> convergence_ratio(states, np.array([4.0, 0.0]))     # from 4 away to 2 away
    0.5
    """
    states = np.asarray(states, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if states.ndim != 2 or states.shape[0] < 1:
        raise ValueError(f"states must be (T+1, D) with at least one state; got shape {states.shape}")
    if target.shape != (states.shape[1],):
        raise ValueError(f"target must be a vector of length D = {states.shape[1]}; got shape {target.shape}")
    if not (np.all(np.isfinite(states)) and np.all(np.isfinite(target))):
        raise ValueError("states or target contains NaN or infinite values")
    with np.errstate(over="ignore"):
        r0, r1 = states[0] - target, states[-1] - target
    if not (np.all(np.isfinite(r0)) and np.all(np.isfinite(r1))):
        raise ValueError("the distances to target overflow float64 (> 1.8e308); rescale states and target")
    d0 = _norm1(r0)
    d1 = _norm1(r1)
    if d0 == 0:
        return float("nan")
    ratio = d1 / d0
    if not np.isfinite(ratio):
        raise ValueError("the convergence ratio overflows float64 (the final distance dwarfs the initial one)")
    return ratio


def _nanmedian(v) -> float:
    v = np.asarray(v, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else float("nan")


def trajectory_summary(states, bmus) -> dict:
    """Every §5 metric of one trajectory as scalars (medians over its steps / segments).

    Examples
    --------
    On a MUSIC path (its BMUs minimise the *squared* distances at each state):

    >>> import numpy as np
    >>> from musicsom.inversion import activations
    >>> from musicsom.metrics import trajectory_summary
    >>> from musicsom.music import Music, MusicParams
    >>> rng = np.random.default_rng(0)
    >>> W, x0 = rng.standard_normal((30, 3)), rng.standard_normal(3)
    >>> path = Music(W, MusicParams()).run(x0, 100, "informed", target=int(activations(x0, W).argmax()))
    >>> summary = trajectory_summary(path.states, path.bmus)
    >>> sorted(summary)
    ['continuity', 'curvature_across', 'curvature_within', 'dwell_iqr', 'dwell_median', 'geodesic_efficiency', 'segmented_continuity', 'transition_rate']
    >>> 0.5 < summary["geodesic_efficiency"] <= 1.0, 0.0 < summary["transition_rate"] < 0.5
    (True, True)
    """
    cos = step_cosines(states)
    _bmus_for(states, bmus)
    dwell = dwell_lengths(bmus)
    k_in, k_across = curvature(states, bmus)
    seg = segmented_continuity(states, bmus)
    return {
        "continuity": float(np.nanmean(cos)) if np.any(np.isfinite(cos)) else float("nan"),
        "transition_rate": transition_rate(bmus),
        "dwell_median": float(np.median(dwell)),
        "dwell_iqr": float(np.subtract(*np.percentile(dwell, [75, 25]))),
        "curvature_within": _nanmedian(k_in),
        "curvature_across": _nanmedian(k_across),
        "geodesic_efficiency": geodesic_efficiency(states),
        "segmented_continuity": _nanmedian(seg),
    }


def median_iqr(values) -> tuple[float, float, float]:
    """(median, 25th percentile, 75th percentile) ignoring NaN and infinite values (NaN for none left).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.metrics import median_iqr
    >>> median_iqr([1.0, 2.0, 3.0, 4.0, np.nan, np.inf])
    (2.5, 1.75, 3.25)
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    q25, med, q75 = np.percentile(v, [25, 50, 75])
    return float(med), float(q25), float(q75)
