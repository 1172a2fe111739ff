"""The paper's claims as checks with stated rules, intervals and verdicts. Pure; no file I/O.

Each claim has its own module (``claim1`` … ``claim9``) with its number, title, the paper's statement
in our words, the rule, and a ``checks(...)`` function that turns the per-unit measurements of one
seed (trajectories, start faces, test points) into :class:`Check` objects. A check is one deciding
number (``statistic``) with its estimate, a 95 % bootstrap interval over the units (resampled with a
seeded generator, stratified where the rule counts groups such as digit pairs), and a threshold it
must clear in a stated direction. Its verdict on one seed is

- **held** when the whole interval lies on the passing side of the threshold,
- **failed** when the whole interval lies on the failing side,
- **inconclusive** when the interval straddles the threshold (more units would decide it),

That per-seed verdict is detail. What decides a check is its **outcome** over all seeds
(:mod:`musicsom.experiments.outcomes`): a check made by :meth:`Bootstrap.units` keeps its units (one
signed value per trajectory, start face or test point: > 0 is the paper's side) with their group (the
digit pair, the cluster), its kind (directional, no difference, non-inferiority) and its smallest effect
of interest (SESOI, in the paper's units); the seeds' units are pooled by a hierarchical bootstrap
(seeds, then groups, then units) into one estimate and interval, which is **supports**, **contradicts**,
**negligible** or **undetermined**. A check without units (a statistic that is not a mean, such as a
slope or a median error) is pooled over its per-seed estimates, the seeds being its units. A check
marked ``context`` (true of any method, e.g. "a bent path has efficiency below 1") is shown and never
counts. A claim **supports** when every deciding check supports, **contradicts** when none supports
and one contradicts, is **mixed** when some support and some do not (with the counts), else
**negligible** (all negligible) or **undetermined**. A check that cannot be measured at a setting (e.g. κ
where no value clips every step) is undetermined, with its reason. The rules
are described in ``docs/METHOD.md#7-claims``.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np

from musicsom.experiments.outcomes import KINDS, Outcome, classify, decide as decide_outcome, hierarchical_bootstrap, hierarchical_mean

__all__ = [
    "Evidence",
    "Check",
    "ClaimResult",
    "Bootstrap",
    "CLAIM_MODULES",
    "OPS",
    "claim_module",
    "decide",
    "combine",
    "exhaustive",
    "ev",
    "check_to_dict",
    "check_from_dict",
    "collect",
    "pool",
    "combine_outcomes",
]

#: the claim modules, by claim number (1-8: the paper's claims; 9: the k-means control, beyond the paper)
CLAIM_MODULES = {n: f"musicsom.experiments.claims.claim{n}" for n in range(1, 10)}
#: how a statistic must compare with its threshold to pass; "within" means |statistic| <= threshold
OPS = {">": "above", ">=": "at least", "<": "below", "<=": "at most", "within": "within ±"}


def claim_module(number: int):
    """The module of claim ``number`` (its NUMBER, TITLE, PAPER, RULE and ``checks``)."""
    import importlib

    if number not in CLAIM_MODULES:
        raise ValueError(f"claim number must be one of {sorted(CLAIM_MODULES)}; got {number!r}")
    return importlib.import_module(CLAIM_MODULES[number])


def decide(op: str, threshold: float, low: float, high: float) -> str:
    """held / failed / inconclusive of an interval [low, high] against ``threshold`` (see the module notes)."""
    if op not in OPS:
        raise ValueError(f"op must be one of {sorted(OPS)}; got {op!r}")
    if not (math.isfinite(low) and math.isfinite(high)):
        return "inconclusive"
    t = threshold
    if op == ">":
        return "held" if low > t else "failed" if high <= t else "inconclusive"
    if op == ">=":
        return "held" if low >= t else "failed" if high < t else "inconclusive"
    if op == "<":
        return "held" if high < t else "failed" if low >= t else "inconclusive"
    if op == "<=":
        return "held" if high <= t else "failed" if low > t else "inconclusive"
    return "held" if -t <= low and high <= t else "failed" if low > t or high < -t else "inconclusive"


def combine(verdicts) -> str:
    """One verdict from several (checks of a claim): held, failed, partly or inconclusive (module notes)."""
    v = list(verdicts)
    if not v:
        return "not judged"
    if all(x == "held" for x in v):
        return "held"
    held, failed = "held" in v, "failed" in v
    if held and failed:
        return "partly"
    if failed:
        return "failed"
    return "inconclusive"


def across_seeds(verdicts) -> str:
    """A check's verdict over seeds: held (failed) only if held (failed) on every seed, else inconclusive."""
    v = set(verdicts)
    return v.pop() if len(v) == 1 else "inconclusive"


@dataclass
class Evidence:
    """One measured number: what it is, its value, and the file it was read from (set by the stage)."""

    quantity: str
    value: float
    source: str = ""


@dataclass
class Check:
    """One condition of a claim on one seed: a statistic, its interval, the threshold it must clear."""

    claim: int
    name: str
    seed: int
    statistic: str
    value: float
    low: float
    high: float
    op: str
    threshold: float
    n: int = 0
    evidence: list[Evidence] = field(default_factory=list)
    reason: str = ""  # set when the check could not be measured: it then counts as failed
    setting: str = "default"
    kind: str = "directional"  # how the outcome reads the interval (outcomes.KINDS)
    sesoi: float = 0.0  # the smallest effect of interest, in the statistic's units (signed: > 0 is the paper's side)
    unit: str = ""  # the statistic's unit, for sentences ("pp", "steps", "" for none)
    context: bool = False  # shown, never counted: true of any method, or a consistency check of the code
    units: np.ndarray | None = None  # the signed per-unit values of this seed (None: the statistic is not a mean)
    groups: np.ndarray | None = None  # the group of each unit (digit pair, cluster), resampled above the units
    exact: bool = False  # an "every unit" count: one counterexample contradicts, no interval applies
    every_group: bool = False  # "on every pair": each group is pooled on its own and the weakest decides

    @property
    def verdict(self) -> str:
        if self.reason:
            return "failed"
        return decide(self.op, self.threshold, self.low, self.high)

    @property
    def outcome(self) -> str:
        """This seed's outcome (supports / contradicts / negligible / undetermined) of its own interval."""
        if self.reason or not (math.isfinite(self.low) and math.isfinite(self.high)):
            return "undetermined"
        if self.exact:
            return "supports" if self.verdict == "held" else "contradicts"
        return classify(*self.signed_interval(), self.sesoi, self.kind)

    def signed_interval(self) -> tuple[float, float]:
        """The interval in the outcome's frame: > 0 is the paper's side (``op`` and ``threshold`` say how; a check
        made of signed units is in that frame already)."""
        if self.units is not None:
            return self.low, self.high
        return _signed(self.op, self.threshold, self.low, self.high)

    def signed_value(self) -> float:
        """The estimate in the outcome's frame (see :meth:`signed_interval`)."""
        return self.value if self.units is not None else _signed_value(self.op, self.threshold, self.value)

    @property
    def passed(self) -> bool:
        return self.verdict == "held"

    def rule(self) -> str:
        sign = "±" if self.op == "within" else self.op
        return f"{self.statistic} {'within ' if self.op == 'within' else ''}{sign} {self.threshold:g}".replace("± ", "±")

    def what_would_decide(self) -> str:
        """For an inconclusive check: why, and what would settle it."""
        if self.verdict != "inconclusive":
            return ""
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            return "the statistic could not be estimated on enough units"
        return (f"its interval [{self.low:.4g}, {self.high:.4g}] contains the threshold {self.threshold:g}: more units "
                f"(starts or pairs) than the {self.n} measured would narrow it")


def _signed(op: str, threshold: float, low: float, high: float) -> tuple[float, float]:
    """[low, high] of a statistic moved into the outcome's frame, where > 0 is the paper's side of ``threshold``."""
    if op in (">", ">="):
        return low - threshold, high - threshold
    if op in ("<", "<="):
        return threshold - high, threshold - low
    return low, high  # "within": the statistic itself is the (signed) departure


def _signed_value(op: str, threshold: float, value: float) -> float:
    return _signed(op, threshold, value, value)[0]


def combine_outcomes(outcomes) -> str:
    """One claim outcome from its deciding checks' outcomes (see the module notes)."""
    o = list(outcomes)
    if not o:
        return "not judged"
    if all(x == "supports" for x in o):
        return "supports"
    if "supports" in o:
        return "mixed"
    if "contradicts" in o:
        return "contradicts"
    if all(x == "negligible" for x in o):
        return "negligible"
    return "undetermined"


def _every_group(values, levels, sesoi: float, kind: str, resamples: int, seed: int, level: float) -> Outcome:
    """An "on every group" check (intersection-union): each group pooled over seeds on its own; the weakest decides.

    It supports when every group's interval excludes zero on the paper's side, contradicts when some group's
    lies wholly on the other side, is negligible when every group's lies inside ±SESOI; its estimate and
    interval are the smallest over groups (the weakest group), and ``seeds_agreeing`` counts the groups
    whose estimate is on the paper's side (out of ``n_seeds`` = the number of groups).
    """
    outs = []
    for lab in np.unique(levels[:, 1]):
        sel = levels[:, 1] == lab
        outs.append(decide_outcome(values[sel], levels[sel][:, :1], sesoi=sesoi, kind=kind, resamples=resamples,
                                   seed=seed + len(outs), level=level))
    lows, highs = np.array([o.low for o in outs]), np.array([o.high for o in outs])
    if np.all(lows > 0) and not np.all((lows > -sesoi) & (highs < sesoi)):
        verdict = "supports"
    elif np.any(highs < 0):
        verdict = "contradicts"
    elif np.all((lows > -sesoi) & (highs < sesoi)):
        verdict = "negligible"
    else:
        verdict = "undetermined"
    return Outcome(verdict, kind, float(min(o.estimate for o in outs)), float(lows.min()), float(highs.min()), sesoi,
                   float(max(o.mde for o in outs)), len(outs), int(sum(o.estimate > 0 for o in outs)),
                   int(values.size), level)


def pool(checks: list[Check], resamples: int = 1000, seed: int = 0, level: float = 0.95) -> Outcome:
    """One :class:`~musicsom.experiments.outcomes.Outcome` from the per-seed checks of one check name.

    Checks with units pool them (seeds, then groups, then units); an exact count sums its counterexamples;
    otherwise the per-seed estimates are the units (moved to the outcome's frame), and a single seed keeps
    its own interval. A check that could not be measured on a seed is undetermined (its reason says why).
    """
    if not checks:
        raise ValueError("pool needs at least one check")
    first = checks[0]
    kind, sesoi = first.kind, float(first.sesoi)
    seeds = sorted({c.seed for c in checks})
    if any(c.reason for c in checks):  # not measurable here (the reason is shown beside it): nothing decided
        return Outcome("undetermined", kind, math.nan, math.nan, math.nan, sesoi, math.nan, len(seeds), 0, 0, float(level))
    if first.exact:
        total = int(sum(c.value for c in checks))
        return Outcome("supports" if total == 0 else "contradicts", kind, float(-total), float(-total), float(-total),
                       sesoi, 0.0, len(seeds), sum(c.value == 0 for c in checks) if total == 0 else
                       sum(c.value > 0 for c in checks), int(sum(c.n for c in checks)), float(level))
    if all(c.units is not None and c.units.size for c in checks):
        values = np.concatenate([c.units for c in checks])
        levels = np.column_stack([np.concatenate([np.full(c.units.size, c.seed) for c in checks]).astype(str),
                                  np.concatenate([c.groups for c in checks])])
        key = zlib.crc32(str((first.claim, first.name, first.setting)).encode())
        if first.every_group:
            return _every_group(values, levels, sesoi, kind, int(resamples), int(seed) * 7919 + key, float(level))
        return decide_outcome(values, levels, sesoi=sesoi, kind=kind, resamples=int(resamples),
                              seed=int(seed) * 7919 + key, level=float(level))
    finite = [c for c in checks if math.isfinite(c.value)]
    if not finite:
        return Outcome("undetermined", kind, math.nan, math.nan, math.nan, sesoi, math.nan, len(seeds), 0, 0, float(level))
    if len(finite) == 1:
        c = finite[0]
        lo, hi = c.signed_interval()
        est = c.signed_value()
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return Outcome("undetermined", kind, est, lo, hi, sesoi, math.nan, 1, 1, c.n, float(level))
        from scipy.stats import norm

        z = norm.ppf(1 - (1 - float(level)) / 2)
        mde = (z + norm.ppf(0.8)) * (hi - lo) / (2 * z)
        return Outcome(classify(lo, hi, sesoi, kind), kind, est, lo, hi, sesoi, float(mde), 1, 1, c.n, float(level))
    values = np.asarray([c.signed_value() for c in finite])
    levels = np.asarray([str(c.seed) for c in finite])
    key = zlib.crc32(str((first.claim, first.name, first.setting)).encode())
    return decide_outcome(values, levels, sesoi=sesoi, kind=kind, resamples=int(resamples), seed=int(seed) * 7919 + key,
                          level=float(level))


def ev(quantity: str, value) -> Evidence | None:
    """Evidence for a finite number; None (left out) for a missing or non-finite one."""
    if value is None or isinstance(value, bool):
        return None
    v = float(value)
    return Evidence(quantity, v) if math.isfinite(v) else None


@dataclass
class Bootstrap:
    """Percentile bootstrap over the units of one seed: ``resamples`` draws, seeded per claim, seed and check."""

    resamples: int = 1000
    seed: int = 0
    level: float = 0.95

    def __post_init__(self):
        if int(self.resamples) < 100:
            raise ValueError(f"resamples must be >= 100 for a 95 % interval; got {self.resamples}")
        if not 0.5 < float(self.level) < 1:
            raise ValueError(f"level must be in (0.5, 1); got {self.level}")

    def indices(self, n: int, key: tuple, strata=None) -> np.ndarray:
        """(resamples, n) unit indices, row 0 the identity; within each stratum when ``strata`` is given."""
        rng = np.random.default_rng([int(self.seed), *(zlib.crc32(str(k).encode()) for k in key)])
        R = int(self.resamples)
        if strata is None:
            idx = rng.integers(0, n, size=(R, n))
        else:
            strata = np.asarray(strata)
            idx = np.empty((R, n), dtype=np.int64)
            for s in np.unique(strata):
                members = np.flatnonzero(strata == s)
                idx[:, members] = members[rng.integers(0, members.size, size=(R, members.size))]
        idx[0] = np.arange(n)
        return idx

    def interval(self, stat, n: int, key: tuple, strata=None) -> tuple[float, float, float]:
        """(estimate on all units, low, high) of ``stat(idx) -> (rows,)`` evaluated on resampled index rows."""
        if n == 0:
            return math.nan, math.nan, math.nan
        idx = self.indices(n, key, strata)
        with np.errstate(all="ignore"):
            vals = np.asarray(stat(idx), dtype=np.float64)
        value = float(vals[0])
        finite = vals[np.isfinite(vals)]
        if finite.size < 0.9 * vals.size:
            return value, math.nan, math.nan
        a = (1 - float(self.level)) / 2
        low, high = np.quantile(finite, [a, 1 - a])
        return value, float(low), float(high)

    def check(self, claim: int, seed: int, name: str, statistic: str, stat, n: int, op: str, threshold: float,
              *evidence, strata=None, setting: str = "default", kind: str = "directional", sesoi: float = 0.0,
              unit: str = "", context: bool = False) -> Check:
        """A :class:`Check` whose interval is this bootstrap of ``stat`` over ``n`` units."""
        value, low, high = self.interval(stat, n, (claim, seed, name, setting), strata)
        return Check(int(claim), name, int(seed), statistic, value, low, high, op, float(threshold), int(n),
                     [e for e in evidence if e is not None], setting=setting, kind=kind, sesoi=float(sesoi), unit=unit,
                     context=context)

    def units(self, claim: int, seed: int, name: str, statistic: str, values, *evidence, groups=None,
              kind: str = "directional", sesoi: float = 0.0, unit: str = "", context: bool = False,
              setting: str = "default", every_group: bool = False) -> Check:
        """A check whose statistic is the mean of signed per-unit ``values`` (> 0: the paper's side).

        ``groups`` (one label per value, e.g. the digit pair) are resampled above the units, and every group
        weighs the same (the mean of means). Non-finite values are dropped (their count is kept as evidence).
        The per-seed interval is this seed's hierarchical bootstrap; the outcome pools every seed's units.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
        v = np.asarray(values, dtype=np.float64).ravel()
        g = np.zeros(v.size, dtype=np.int64) if groups is None else np.asarray(groups).ravel()
        if g.size != v.size:
            raise ValueError(f"groups must have one label per value ({v.size}); got {g.size}")
        keep = np.isfinite(v)
        v, g = v[keep], np.asarray([str(x) for x in g[keep]])
        dropped = int((~keep).sum())
        evidence = [*evidence, ev("units dropped (not finite)", dropped) if dropped else None]
        op, threshold = ("within", float(sesoi)) if kind == "no_difference" else (
            (">", -float(sesoi)) if kind == "noninferiority" else (">", 0.0))
        if v.size == 0:
            value = low = high = math.nan
        else:
            value = hierarchical_mean(v, g)
            key = zlib.crc32(str((claim, seed, name, setting)).encode())
            reps = hierarchical_bootstrap(v, g, int(self.resamples), int(self.seed) * 7919 + key)
            a = (1 - float(self.level)) / 2
            low, high = (float(x) for x in np.quantile(reps, [a, 1 - a]))
        return Check(int(claim), name, int(seed), statistic, value, low, high, op, threshold, int(v.size),
                     [e for e in evidence if e is not None], setting=setting, kind=kind, sesoi=float(sesoi), unit=unit,
                     context=context, units=v, groups=g, every_group=every_group)


def exhaustive(claim: int, seed: int, name: str, statistic: str, count: int, n: int, *evidence, setting: str = "default",
               context: bool = False) -> Check:
    """A check over every unit of a seed rather than a sample of them: "no unit breaks the rule".

    ``count`` units break it; the statistic is that count, exact (its interval is the point), and the
    check holds when it is 0. One counterexample refutes an "every" claim, so no bootstrap applies.
    """
    c = int(count)
    return Check(int(claim), name, int(seed), statistic, float(c), float(c), float(c), "<=", 0.0, int(n),
                 [e for e in evidence if e is not None], setting=setting, exact=True, context=context)


def unmeasurable(claim: int, seed: int, name: str, statistic: str, op: str, threshold: float, reason: str,
                 setting: str = "default") -> Check:
    """A check that could not be measured at this setting: recorded as failed, with the reason."""
    return Check(int(claim), name, int(seed), statistic, math.nan, math.nan, math.nan, op, float(threshold), 0, [],
                 reason=reason, setting=setting)


# ---------------------------------------------------------------- statistics over index rows (R, n)
def median_of(x):
    x = np.asarray(x, dtype=np.float64)
    return lambda idx: np.nanmedian(x[idx], axis=1)


def mean_of(x):
    x = np.asarray(x, dtype=np.float64)
    return lambda idx: np.nanmean(x[idx], axis=1)


def share_of(mask):
    m = np.asarray(mask, dtype=np.float64)
    return lambda idx: m[idx].mean(axis=1)


def group_share(diff, groups, positive: bool = True):
    """Share of groups whose mean of ``diff`` over their (resampled) units is > 0: (R,)."""
    d = np.asarray(diff, dtype=np.float64)
    g = np.asarray(groups)
    labels = np.unique(g)

    def stat(idx):
        gi = g[idx]
        di = d[idx]
        wins = np.zeros(idx.shape[0])
        for lab in labels:
            sel = gi == lab
            cnt = sel.sum(1)
            means = np.where(cnt > 0, np.where(sel, di, 0.0).sum(1) / np.maximum(cnt, 1), np.nan)
            wins += (means > 0) if positive else (means < 0)
        return wins / labels.size

    return stat


def spearman_rows(x, Y):
    """Spearman correlation of a fixed vector ``x`` (m,) with each row of ``Y`` (R, m): (R,)."""
    from scipy.stats import rankdata

    rx = rankdata(x)
    ry = rankdata(Y, axis=1)
    rx = rx - rx.mean()
    ry = ry - ry.mean(1, keepdims=True)
    den = np.sqrt((rx**2).sum() * (ry**2).sum(1))
    return np.where(den > 0, (ry * rx).sum(1) / np.where(den > 0, den, 1), np.nan)


# ---------------------------------------------------------------- records
def check_to_dict(c: Check) -> dict:
    return {
        "claim": c.claim, "seed": c.seed, "setting": c.setting, "name": c.name, "statistic": c.statistic,
        "value": c.value, "low": c.low, "high": c.high, "op": c.op, "threshold": c.threshold, "n": c.n,
        "verdict": c.verdict, "reason": c.reason, "kind": c.kind, "sesoi": c.sesoi, "unit": c.unit,
        "context": c.context, "exact": c.exact, "every_group": c.every_group,
        "units": None if c.units is None else [float(x) for x in c.units],
        "groups": None if c.groups is None else [str(x) for x in c.groups],
        "evidence": [{"quantity": e.quantity, "value": e.value, "source": e.source} for e in c.evidence],
    }


def _num(v) -> float:
    return math.nan if v is None else float(v)


def check_from_dict(d: dict) -> Check:
    try:
        return Check(
            int(d["claim"]), str(d["name"]), int(d["seed"]), str(d["statistic"]), _num(d["value"]), _num(d["low"]),
            _num(d["high"]), str(d["op"]), float(d["threshold"]), int(d.get("n", 0)),
            [Evidence(str(e["quantity"]), float(e["value"]), str(e.get("source", ""))) for e in d.get("evidence", [])],
            reason=str(d.get("reason", "")), setting=str(d.get("setting", "default")),
            kind=str(d.get("kind", "directional")), sesoi=float(d.get("sesoi", 0.0)), unit=str(d.get("unit", "")),
            context=bool(d.get("context", False)), exact=bool(d.get("exact", False)),
            every_group=bool(d.get("every_group", False)),
            units=None if d.get("units") is None else np.asarray(d["units"], dtype=np.float64),
            groups=None if d.get("groups") is None else np.asarray([str(x) for x in d["groups"]]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"a check record lacks a field or has a wrong type ({exc}); regenerate the checks files") from None


@dataclass
class ClaimResult:
    """A claim with its checks by seed, and the verdicts they give."""

    number: int
    title: str
    paper: str
    rule: str
    checks_by_seed: dict = field(default_factory=dict)  # seed -> list[Check]
    missing: str | None = None  # why the claim could not be judged

    def check_names(self) -> list[str]:
        seen: list[str] = []
        for checks in self.checks_by_seed.values():
            for c in checks:
                if c.name not in seen:
                    seen.append(c.name)
        return seen

    def check_verdict(self, name: str) -> str:
        """One check over the seeds that measure it (the GMM inversion checks use the first seed's map only)."""
        return across_seeds(c.verdict for checks in self.checks_by_seed.values() for c in checks if c.name == name)

    def seed_verdict(self, seed) -> str:
        return combine(c.verdict for c in self.checks_by_seed[seed])

    def checks_named(self, name: str) -> list[Check]:
        return [c for checks in self.checks_by_seed.values() for c in checks if c.name == name]

    def is_context(self, name: str) -> bool:
        return any(c.context for c in self.checks_named(name))

    def check_outcome(self, name: str, resamples: int = 1000, seed: int = 0, level: float = 0.95) -> Outcome:
        """The check's outcome over every seed that measured it (:func:`pool`)."""
        return pool(self.checks_named(name), resamples, seed, level)

    def outcome(self, **boot) -> str:
        """The claim's outcome from its deciding (non-context) checks: see the module notes."""
        if self.missing or not self.checks_by_seed:
            return "not judged"
        got = [self.check_outcome(n, **boot).outcome for n in self.check_names() if not self.is_context(n)]
        return combine_outcomes(got)

    def outcome_counts(self, **boot) -> str:
        got = [self.check_outcome(n, **boot).outcome for n in self.check_names() if not self.is_context(n)]
        parts = [f"{got.count(o)} {o}" for o in ("supports", "contradicts", "negligible", "undetermined") if got.count(o)]
        return f"{len(got)} deciding check{'' if len(got) == 1 else 's'}: " + ", ".join(parts) if got else "no deciding check"

    @property
    def verdict(self) -> str:
        if self.missing or not self.checks_by_seed:
            return "not judged"
        return combine(self.check_verdict(n) for n in self.check_names())

    @property
    def seed_rate(self) -> str:
        if not self.checks_by_seed:
            return ""
        held = sum(self.seed_verdict(s) == "held" for s in self.checks_by_seed)
        return f"{held}/{len(self.checks_by_seed)} seeds"

    def evidence(self) -> list[tuple[int, Evidence]]:
        return [(c.seed, e) for checks in self.checks_by_seed.values() for c in checks for e in c.evidence]


def collect(checks: list[Check], missing: dict[int, str] | None = None, setting: str = "default") -> list[ClaimResult]:
    """Group the checks of one setting into one :class:`ClaimResult` per claim (1-9, in order), seeds sorted."""
    missing = missing or {}
    out = []
    for number in sorted(CLAIM_MODULES):
        mod = claim_module(number)
        res = ClaimResult(number, mod.TITLE, mod.PAPER, mod.RULE)
        mine = [c for c in checks if c.claim == number and c.setting == setting]
        for seed in sorted({c.seed for c in mine}):
            res.checks_by_seed[seed] = [c for c in mine if c.seed == seed]
        if not mine:
            res.missing = missing.get(number, "no checks were recorded for this claim")
        out.append(res)
    return out
