"""Paired comparisons of two methods on matched trajectories: Wilcoxon, Holm, win counts. Pure; no file I/O.

Used by the MNIST Table 2 (MUSIC vs linear, MUSIC vs VAE) and reusable by any stage that compares two
methods run on the same starts. A comparison works on a long table with one row per (method, unit),
where a unit (e.g. seed × digit pair × start image) is identified by ``key_cols``: the two methods'
rows are matched on the keys, each metric gets a two-sided Wilcoxon signed-rank test on the paired
values (scipy), the p-values are Holm-adjusted across the metrics of that comparison, and the units
are grouped (e.g. by digit pair) to count the groups where A's mean exceeds B's.

Dependencies: :func:`wilcoxon_paired` and :func:`holm` need only numpy and scipy (Holm's step-down is
computed here, equal to statsmodels' ``multipletests(method="holm")``); :func:`paired_comparison`
works on a pandas DataFrame and imports pandas when called (the ``musicsom[pipeline]`` extra).

Examples
--------
>>> import numpy as np
>>> from musicsom.stats import holm, wilcoxon_paired
>>> a = np.array([1.2, 2.3, 3.1, 4.8, 5.0, 6.4, 7.7, 8.1])
>>> b = a - np.array([0.5, 0.2, 0.9, 0.1, 0.7, 0.3, 0.4, 0.6])   # a beats b on every unit
>>> stat, p = wilcoxon_paired(a, b)
>>> np.round(holm([p, 0.04, 0.5]), 6).tolist()
[0.023438, 0.08, 0.5]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import wilcoxon

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["wilcoxon_paired", "holm", "paired_comparison"]


def wilcoxon_paired(a, b) -> tuple[float, float]:
    """Two-sided Wilcoxon signed-rank test of paired samples: (statistic, p-value).

    Pairs with a NaN are dropped (a missing value); an infinite value raises a ValueError. All differences zero (or no pairs) gives (nan, 1.0): no evidence of a
    difference. Zero differences are dropped (Wilcoxon's original treatment).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.stats import wilcoxon_paired
    >>> a = np.array([1.2, 2.3, 3.1, 4.8, 5.0, 6.4, 7.7, 8.1])
    >>> b = a - np.array([0.5, 0.2, 0.9, 0.1, 0.7, 0.3, 0.4, 0.6])
    >>> stat, p = wilcoxon_paired(a, b)              # 8 positive differences: exact p = 2 / 2**8
    >>> stat, round(p, 7)
    (0.0, 0.0078125)
    >>> wilcoxon_paired(a, a)                         # no difference at all: no evidence
    (nan, 1.0)
    >>> wilcoxon_paired([1.0, 2.0, np.nan], [0.0, 1.0, 5.0])[1]   # the NaN pair is dropped
    0.5
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D and of equal length; got {a.shape} and {b.shape}")
    if np.any(np.isinf(a)) or np.any(np.isinf(b)):
        raise ValueError("a and b must be finite (NaN marks a missing value and is dropped); got an infinite value")
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    if d.size == 0 or np.all(d == 0):
        return float("nan"), 1.0
    res = wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    return float(res.statistic), float(res.pvalue)


def _require_pandas():
    try:
        import pandas
    except ImportError:  # pragma: no cover - pandas ships with the pipeline extra
        raise ImportError(
            "musicsom.stats.paired_comparison needs pandas; install the pipeline extra: pip install 'musicsom[pipeline]'"
        ) from None
    return pandas


def holm(pvalues) -> np.ndarray:
    """Holm step-down adjusted p-values; NaN entries stay NaN and do not count.

    ``pvalues``: any shape, each in [0, 1] or NaN (a missing test); anything else (negative, above 1,
    infinite) raises a ValueError. The adjustment ``max_{j<=i} min(1, (m − j + 1) p_(j))`` over the m
    non-NaN values sorted ascending equals statsmodels' ``multipletests(p, method="holm")[1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.stats import holm
    >>> np.round(holm([0.01, 0.04, 0.03, np.nan]), 6).tolist()   # m = 3 tests: 3·0.01, then max(2·0.03, 0.03), ...
    [0.03, 0.06, 0.06, nan]
    >>> np.round(holm([0.01, 0.02, 0.5]), 6).tolist()
    [0.03, 0.04, 0.5]
    >>> holm([0.5, 1.2])
    Traceback (most recent call last):
        ...
    ValueError: pvalues must lie in [0, 1] (NaN marks a missing test); got [1.2]
    """
    try:
        p = np.asarray(pvalues, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"pvalues must be numbers in [0, 1] (or NaN); got {pvalues!r}") from None
    ok = ~np.isnan(p)
    bad = ok & ~((p >= 0.0) & (p <= 1.0))
    if bad.any():
        raise ValueError(f"pvalues must lie in [0, 1] (NaN marks a missing test); got {p[bad].ravel()[:5].tolist()}")
    out = np.full(p.shape, np.nan)
    if ok.any():
        v = p[ok]
        order = np.argsort(v)
        adj = np.maximum.accumulate(v[order] * np.arange(v.size, 0, -1))
        adj[adj > 1] = 1.0
        res = np.empty_like(v)
        res[order] = adj
        out[ok] = res
    return out


def paired_comparison(
    frame: "pd.DataFrame",
    metrics: list[str],
    method_col: str,
    a: str,
    b: str,
    key_cols: list[str],
    group_col: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Compare method ``a`` with method ``b`` on every metric; one row per metric.

    Columns: metric, n (matched units), mean/median of each method, median_diff (a − b), the
    Wilcoxon statistic and p-value, p_holm (Holm across ``metrics``), significant (p_holm < alpha),
    and, if ``group_col`` is given, n_groups and groups_a_higher / groups_b_higher: the number of
    groups where the mean of ``a`` over the group's units is higher / lower than that of ``b``.
    Needs pandas (imported here; the ``musicsom[pipeline]`` extra).
    """
    pd = _require_pandas()
    if not (isinstance(alpha, (int, float)) and 0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha (the significance level) must be a number in (0, 1); got {alpha!r}")
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame (one row per method and unit); got {type(frame).__name__}")
    missing = [c for c in [method_col, *key_cols, *metrics, *([group_col] if group_col else [])] if c not in frame]
    if missing:
        raise ValueError(f"frame lacks the columns {missing}")
    A = frame[frame[method_col] == a].set_index(key_cols)
    B = frame[frame[method_col] == b].set_index(key_cols)
    if A.index.has_duplicates or B.index.has_duplicates:
        raise ValueError(f"the key columns {key_cols} do not identify one row per method and unit")
    keys = A.index.intersection(B.index)
    if len(keys) == 0:
        raise ValueError(f"no unit has rows for both {a!r} and {b!r}")
    A, B = A.loc[keys], B.loc[keys]
    rows = []
    for m in metrics:
        va, vb = A[m].to_numpy(float), B[m].to_numpy(float)
        stat, p = wilcoxon_paired(va, vb)
        row = {
            "metric": m,
            "n": int(np.sum(np.isfinite(va) & np.isfinite(vb))),
            f"mean_{a}": float(np.nanmean(va)),
            f"mean_{b}": float(np.nanmean(vb)),
            f"median_{a}": float(np.nanmedian(va)),
            f"median_{b}": float(np.nanmedian(vb)),
            "median_diff": float(np.nanmedian(va - vb)),
            "statistic": stat,
            "p_value": p,
        }
        if group_col is not None:
            g = group_col if group_col not in key_cols else None
            ga = (A[m].groupby(A[g]) if g else A[m].groupby(level=group_col)).mean()
            gb = (B[m].groupby(B[g]) if g else B[m].groupby(level=group_col)).mean()
            row["n_groups"] = int(len(ga))
            row[f"groups_{a}_higher"] = int((ga > gb).sum())
            row[f"groups_{b}_higher"] = int((ga < gb).sum())
        rows.append(row)
    out = pd.DataFrame(rows)
    out["p_holm"] = holm(out["p_value"].to_numpy())
    out["significant"] = out["p_holm"] < alpha
    return out
