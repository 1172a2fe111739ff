"""One outcome per check from all the evidence: a hierarchical bootstrap over the units of replication.

A check's evidence is a table of *units* (one value each: a paired difference, a ratio, a per-run score), nested
in the levels that replicate the experiment: seeds (map, models and starts redrawn), then pairs (a digit pair
or a start face, sharing a target), then starts. The pooled estimate weighs every seed equally and, within a
seed, every pair equally (the mean of means), and its interval comes from resampling those levels with
replacement, in order (Davison & Hinkley 1997, §3.8: the case bootstrap of a nested design resamples the top
level, then within each chosen unit the next one). Resampling the starts as if independent would make the
interval too narrow by about √(1 + (m − 1)ρ) for m starts per pair with correlation ρ.

The outcome compares the interval with zero and with a smallest effect size of interest (SESOI, in the
paper's units, argued per check in docs/METHOD.md §7):

- a *directional* claim ("MUSIC crosses earlier") is **negligible** when the whole interval lies inside
  ±SESOI (whatever its sign: the effect is too small to matter), else **supports** when it excludes zero on
  the paper's side, **contradicts** when it excludes zero on the other side, else **undetermined**;
- a claim of *no difference* ("κ has no measurable effect") **supports** inside ±SESOI, **contradicts**
  when the interval lies wholly beyond it, else undetermined;
- a *non-inferiority* claim ("confidence is comparable") **supports** when the interval's lower end (on the
  paper's side) is above −SESOI, **contradicts** when its upper end is below −SESOI, else undetermined.

Every outcome carries the estimate, its interval, the seeds agreeing in sign and the minimum detectable
effect at this sample size, (z₁₋α/₂ + z₀.₈) × the bootstrap standard error, so that "undetermined" can be
read. Pure numpy; no file I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats as sps

__all__ = ["KINDS", "OUTCOMES", "Outcome", "hierarchical_mean", "hierarchical_bootstrap", "classify", "sesoi_flips", "decide"]

KINDS = ("directional", "no_difference", "noninferiority")
OUTCOMES = ("supports", "contradicts", "negligible", "undetermined")
POWER = 0.8  # the power at which the minimum detectable effect is quoted


def _nested_groups(levels: np.ndarray) -> list:
    """Row indices grouped by the level columns: a nested list (seeds → pairs → … → row indices)."""
    n_rows, depth = levels.shape

    def split(rows: np.ndarray, d: int):
        if d == depth:
            return rows
        keys, inverse = np.unique(levels[rows, d], return_inverse=True)
        return [split(rows[inverse == k], d + 1) for k in range(len(keys))]

    return split(np.arange(n_rows), 0)


def _mean_of_means(values: np.ndarray, groups) -> float:
    if isinstance(groups, np.ndarray):
        return float(values[groups].mean())
    return float(np.mean([_mean_of_means(values, g) for g in groups]))


def _check_inputs(values, levels) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        raise ValueError("no units: a check needs at least one value")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{int((~np.isfinite(v)).sum())} of {v.size} unit values are not finite: drop or impute them first")
    if levels is None:
        lv = np.zeros((v.size, 1), dtype=int)
    else:
        lv = np.asarray(levels)
        if lv.ndim == 1:
            lv = lv[:, None]
        if lv.ndim != 2 or lv.shape[0] != v.size:
            raise ValueError(f"levels must have one row per value ({v.size}); got shape {np.shape(levels)}")
    return v, lv


def hierarchical_mean(values, levels=None) -> float:
    """The mean of means: every top-level unit (seed) weighs the same, and within it every sub-unit (pair)."""
    v, lv = _check_inputs(values, levels)
    return _mean_of_means(v, _nested_groups(lv))


def hierarchical_bootstrap(values, levels=None, resamples: int = 2000, seed: int = 0) -> np.ndarray:
    """Bootstrap replicates of :func:`hierarchical_mean`, resampling each level with replacement within the one above.

    ``levels``: (n, L) labels, outermost first (e.g. seed, pair); the rows are the innermost units (starts).
    ``None`` resamples the rows as one flat level. Deterministic for a given ``seed``.
    """
    v, lv = _check_inputs(values, levels)
    if int(resamples) < 100:
        raise ValueError(f"resamples must be >= 100 for a 95 % interval; got {resamples}")
    groups = _nested_groups(lv)
    rng = np.random.default_rng(int(seed))

    def draw(g, R: int) -> np.ndarray:
        # R replicate means of the subtree g; every replicate draws its own children
        if isinstance(g, np.ndarray):
            idx = rng.integers(0, g.size, size=(R, g.size))
            return v[g][idx].mean(axis=1)
        k = len(g)
        picks = rng.integers(0, k, size=(R, k))
        out = np.zeros(R)
        for j in range(k):
            # the replicates that picked child j at each position draw their own resample of it
            counts = (picks == j).sum(axis=1)
            total = int(counts.sum())
            if total == 0:
                continue
            sub = draw(g[j], total)
            owner = np.repeat(np.arange(R), counts)
            out += np.bincount(owner, weights=sub, minlength=R)
        return out / k

    return draw(groups, int(resamples))


@dataclass(frozen=True)
class Outcome:
    """The outcome of one check, with what it rests on (values in the paper's units, signed so that > 0 is the paper's side)."""

    outcome: str
    kind: str
    estimate: float
    low: float
    high: float
    sesoi: float
    mde: float
    n_seeds: int
    seeds_agreeing: int
    n_units: int
    level: float

    def as_dict(self) -> dict:
        return asdict(self)

    def sentence(self, unit: str = "") -> str:
        u = f" {unit}" if unit else ""
        return (f"{self.outcome}: {self.estimate:+.3g}{u} [{self.low:+.3g}, {self.high:+.3g}] "
                f"(SESOI {self.sesoi:.3g}{u}, MDE {self.mde:.3g}{u}; {self.seeds_agreeing}/{self.n_seeds} seeds agree in sign)")


def classify(low: float, high: float, sesoi: float, kind: str = "directional") -> str:
    """The outcome of an interval [low, high] (signed: > 0 is the paper's side) against ±``sesoi``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    if not (np.isfinite(low) and np.isfinite(high)) or low > high:
        raise ValueError(f"the interval must be finite with low <= high; got [{low}, {high}]")
    if not (np.isfinite(sesoi) and sesoi >= 0):
        raise ValueError(f"the SESOI must be finite and >= 0; got {sesoi}")
    inside = -sesoi < low and high < sesoi
    if kind == "directional":
        if inside:
            return "negligible"
        if low > 0:
            return "supports"
        if high < 0:
            return "contradicts"
        return "undetermined"
    if kind == "no_difference":
        if inside:
            return "supports"
        if low >= sesoi or high <= -sesoi:
            return "contradicts"
        return "undetermined"
    # non-inferiority: the paper's arm is no worse than the other by more than the SESOI
    if low > -sesoi:
        return "supports"
    if high < -sesoi:
        return "contradicts"
    return "undetermined"


def sesoi_flips(low: float, high: float, sesoi: float, kind: str = "directional") -> tuple:
    """Where the outcome of [low, high] would change if the SESOI moved: ``(below, above)``.

    ``below`` is ``(s, outcome)``: the largest SESOI under ``sesoi`` at which the outcome changes, and what it
    becomes just under ``s``; ``above`` the smallest SESOI over ``sesoi`` and what it becomes just over it. None
    where no SESOI on that side changes it. The outcome depends on the SESOI only through its order against the
    interval's ends and their negatives, so those are the only candidates.
    """
    here = classify(low, high, sesoi, kind)
    points = sorted({abs(float(x)) for x in (low, high)} - {0.0})
    below = above = None
    for b in reversed([p for p in points if p <= sesoi]):
        new = classify(low, high, b * (1 - 1e-9), kind)
        if new != here:
            below = (b, new)
            break
    for b in [p for p in points if p >= sesoi]:
        new = classify(low, high, b * (1 + 1e-9), kind)
        if new != here:
            above = (b, new)
            break
    return below, above


def decide(values, levels=None, *, sesoi: float, kind: str = "directional", resamples: int = 2000, seed: int = 0,
           level: float = 0.95) -> Outcome:
    """Pool the units of one check (signed: > 0 is the paper's side) into an :class:`Outcome`.

    ``levels``' first column is the seed: the per-seed estimates (means of means within each seed) give the
    sign agreement. The interval is the percentile interval of :func:`hierarchical_bootstrap`.
    """
    if not 0.5 < float(level) < 1:
        raise ValueError(f"level must be in (0.5, 1); got {level}")
    v, lv = _check_inputs(values, levels)
    est = hierarchical_mean(v, lv)
    reps = hierarchical_bootstrap(v, lv, resamples, seed)
    a = (1 - float(level)) / 2
    low, high = (float(x) for x in np.quantile(reps, [a, 1 - a]))
    se = float(reps.std(ddof=1))
    mde = float((sps.norm.ppf(1 - a) + sps.norm.ppf(POWER)) * se)
    seeds = np.unique(lv[:, 0])
    per_seed = [hierarchical_mean(v[lv[:, 0] == s], lv[lv[:, 0] == s]) for s in seeds]
    sign = np.sign(est)
    agree = int(sum(np.sign(p) == sign for p in per_seed)) if sign != 0 else 0
    return Outcome(outcome=classify(low, high, float(sesoi), kind), kind=kind, estimate=est, low=low, high=high,
                   sesoi=float(sesoi), mde=mde, n_seeds=len(seeds), seeds_agreeing=agree, n_units=int(v.size),
                   level=float(level))
