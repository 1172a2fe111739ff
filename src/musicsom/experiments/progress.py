"""Comparisons at equal progress: frame statistics weighed by the path length they stand for.

MUSIC moves up to η per step and usually arrives long before its last frame, while linear interpolation spreads its
frames evenly; a statistic averaged over frames (mean confidence, frames in a third class, the step at which the
class changes) then compares speeds as much as paths. Reparametrising every path by arc length puts the arms on one
axis, progress s ∈ [0, 1]:

- :func:`progress` — each frame's share of the path's length travelled so far;
- :func:`arc_weights` — the weight of each frame in an average over equally spaced points along the path (the
  trapezoid rule on the piecewise-linear path; a frame at rest after arrival weighs nothing);
- :func:`arc_mean` — the progress-average of a per-frame value;
- :func:`arc_share` — the share of the path's length along which a per-frame condition holds (a segment counts
  half for each end that satisfies it), so "frames in a third class" becomes "share of the way spent in a third
  class", comparable across arms whatever their speed;
- :func:`resample_by_arc` — states at ``n`` equally spaced points of progress (linear between frames), for
  measures that need new frames (e.g. classifier confidence at equal progress).

A path of no length (start = end) has no progress axis: the functions return NaN (or raise, for resampling)
rather than invent one. Pure numpy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["segment_lengths", "progress", "arc_weights", "arc_mean", "arc_share", "crossing_progress", "resample_by_arc"]


def _states(states) -> np.ndarray:
    S = np.asarray(states, dtype=np.float64)
    if S.ndim == 1:
        S = S[:, None]
    if S.ndim != 2 or S.shape[0] < 2:
        raise ValueError(f"a path needs at least two frames as an (n_frames, D) array; got shape {np.shape(states)}")
    if not np.all(np.isfinite(S)):
        raise ValueError("the path has non-finite states")
    return S


def segment_lengths(states) -> np.ndarray:
    """Euclidean length of each step of the path: (n_frames - 1,)."""
    return np.linalg.norm(np.diff(_states(states), axis=0), axis=1)


def progress(states) -> np.ndarray:
    """Share of the total length travelled at each frame: (n_frames,), 0 at the start and 1 at the end (NaN if no length)."""
    seg = segment_lengths(states)
    total = seg.sum()
    if total <= 0:
        return np.full(seg.size + 1, np.nan)
    return np.concatenate([[0.0], np.cumsum(seg) / total])


def arc_weights(states) -> np.ndarray:
    """Weights (summing to 1) that turn a per-frame average into an average over equally spaced progress."""
    seg = segment_lengths(states)
    total = seg.sum()
    if total <= 0:
        return np.full(seg.size + 1, np.nan)
    w = np.zeros(seg.size + 1)
    w[:-1] += seg / 2
    w[1:] += seg / 2
    return w / total


def _values(values, n: int) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.shape != (n,):
        raise ValueError(f"need one value per frame ({n}); got shape {v.shape}")
    return v


def arc_mean(values, states) -> float:
    """The average of a per-frame value over equally spaced points of progress (trapezoid rule)."""
    w = arc_weights(states)
    v = _values(values, w.size)
    return float(np.dot(w, v)) if np.all(np.isfinite(w)) else float("nan")


def arc_share(mask, states) -> float:
    """Share of the path's length along which ``mask`` (one bool per frame) holds; a segment counts half per end."""
    w = arc_weights(states)
    m = _values(np.asarray(mask, dtype=bool).astype(float), w.size)
    return float(np.dot(w, m)) if np.all(np.isfinite(w)) else float("nan")


def crossing_progress(states, step: int) -> float:
    """Progress at frame ``step`` (the first frame in the target class, say); NaN for step < 0 or no length."""
    if step < 0:
        return float("nan")
    p = progress(states)
    if step >= p.size:
        raise ValueError(f"step {step} is beyond the path's {p.size} frames")
    return float(p[step])


def resample_by_arc(states, n: int) -> np.ndarray:
    """(n, D) states at progress 0, 1/(n-1), …, 1, linear between frames (a frame at rest is passed over)."""
    if int(n) < 2:
        raise ValueError(f"n must be >= 2; got {n}")
    S = _states(states)
    p = progress(S)
    if not np.all(np.isfinite(p)):
        raise ValueError("the path has no length: it cannot be resampled by progress")
    targets = np.linspace(0.0, 1.0, int(n))
    # the last frame reaching each target (repeated progress values mark frames at rest)
    j = np.clip(np.searchsorted(p, targets, side="right") - 1, 0, S.shape[0] - 2)
    span = p[j + 1] - p[j]
    t = np.divide(targets - p[j], span, out=np.zeros_like(targets), where=span > 0)
    out = S[j] + t[:, None] * (S[j + 1] - S[j])
    out[-1] = S[-1]
    return out
