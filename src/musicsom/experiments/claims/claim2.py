"""Claim 2: the reconstruction error under activation noise follows the Corollary 1 bound ||e|| / σ_min(A).

The paper (§2.2): across noisy trials "the reconstruction error grows as σ_min decreases, following the
predicted scaling". The bound is ``||e|| / σ_min``, so the claim is about the exponent of σ_min at a fixed noise
norm, not about the noise norm itself: a rank correlation of error and bound over all cases is carried by the six
decades of noise level alone (a simulated null in which the error ignores σ_min gives 0.91-0.95). The check
therefore fits, within each noise level, the slope of log(error / ||e||) on log(1 / σ_min) (the noise levels as
fixed effects, so only σ_min's variation inside a level counts), and asks that it be 1 within ±``SLOPE_SESOI``:
the Fig 1 cases span about seven decades of σ_min, over which a slope off by 0.1 bends the error away from the
bound's line by 0.7 decades (a factor 5), plainly visible on the figure's log axes. The unit of replication is
the test point (each point carries every subset size and noise level), so the bootstrap resamples points.

"No case exceeds the bound" is kept as a consistency check: ||A⁺ e|| <= ||e|| / σ_min holds for any full-rank
A, so it tests the code, not the claim.
"""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev, exhaustive

NUMBER = 2
TITLE = "Noise follows the Corollary 1 bound"
PAPER = "Reconstruction error under activation noise follows ||e|| / sigma_min(A)."
SLOPE_SESOI = 0.1  # the largest departure of the within-level exponent from 1 that still "follows" the bound
ROUND_OFF = (1e-9, 1e-15)  # relative and absolute slack of "within the bound" (the bound's own rounding)
RULE = (f"within each noise level, the slope of log(error / ||e||) on log(1 / sigma_min) (bootstrap over the test "
        f"points) is 1 within ±{SLOPE_SESOI:g}; consistency check: no case exceeds the bound (error <= bound "
        f"(1 + {ROUND_OFF[0]:g}) + {ROUND_OFF[1]:g})")


def _point_sums(point, level, x, y):
    """Per (point, level) sums of 1, x, y, x², xy: the within-level slope of any resample of points adds them."""
    points, p_idx = np.unique(point, return_inverse=True)
    levels, l_idx = np.unique(level, return_inverse=True)
    shape = (points.size, levels.size)
    sums = {}
    for name, w in (("n", np.ones_like(x)), ("x", x), ("y", y), ("xx", x * x), ("xy", x * y)):
        a = np.zeros(shape)
        np.add.at(a, (p_idx, l_idx), w)
        sums[name] = a
    return sums, points.size


def within_level_slope(sums: dict, idx: np.ndarray) -> np.ndarray:
    """The pooled within-level least-squares slope of y on x for each row of point indices ``idx`` (R, P)."""
    n, sx, sy = sums["n"][idx].sum(1), sums["x"][idx].sum(1), sums["y"][idx].sum(1)
    sxx, sxy = sums["xx"][idx].sum(1), sums["xy"][idx].sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cxx = np.where(n > 0, sxx - sx * sx / n, 0.0).sum(1)
        cxy = np.where(n > 0, sxy - sx * sy / n, 0.0).sum(1)
        return cxy / cxx


def checks(error, bound, sigma_min, noise_level, point, seed: int, boot: Bootstrap, setting: str = "default") -> list:
    """One value per case (test point × subset size × noise level) of Fig 1: the error, the bound ||e|| / σ_min,
    σ_min of the case's subset, the noise level the case was drawn at, and the test point it belongs to."""
    e, b, s = (np.asarray(v, dtype=np.float64) for v in (error, bound, sigma_min))
    if not (e.shape == b.shape == s.shape == np.shape(noise_level) == np.shape(point)):
        raise ValueError("error, bound, sigma_min, noise_level and point must have one value per case")
    n = e.size
    ok = (e > 0) & (s > 0) & (b > 0)
    x = np.log(1.0 / s[ok])
    y = np.log(e[ok] / (b[ok] * s[ok]))  # error / ||e||
    sums, n_points = _point_sums(np.asarray(point)[ok], np.asarray(noise_level)[ok], x, y)
    return [
        boot.check(NUMBER, seed, "error scales as 1 / sigma_min", "within-level slope of log(error/||e||) on "
                   "log(1/sigma_min), minus 1", lambda idx: within_level_slope(sums, idx) - 1.0, n_points,
                   "within", SLOPE_SESOI, ev("cases used (error, sigma_min > 0)", int(ok.sum())),
                   ev("decades of sigma_min spanned", float(np.log10(s[ok].max() / s[ok].min())) if ok.any() else np.nan),
                   setting=setting, kind="no_difference", sesoi=SLOPE_SESOI),
        exhaustive(NUMBER, seed, "every case within the bound (consistency)", "cases with error above the bound",
                   int(np.sum(e > b * (1 + ROUND_OFF[0]) + ROUND_OFF[1])), n, ev("median error / bound", np.median(e / b)),
                   ev("largest error / bound", np.max(e / b)), setting=setting, context=True),
    ]
