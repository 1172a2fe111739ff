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

and over seeds it is held (failed) only if it is held (failed) on every seed. A claim is **held**
when every check is held, **failed** when none is held and at least one failed, **partly** when some
are held and some failed, and **inconclusive** when none failed and some are inconclusive. A check
that cannot be measured at a setting (e.g. inversion where the prototypes do not span the space)
is recorded as failed with its reason. The rules are described in ``docs/METHOD.md#7-claims``.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np

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

    @property
    def verdict(self) -> str:
        if self.reason:
            return "failed"
        return decide(self.op, self.threshold, self.low, self.high)

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
              *evidence, strata=None, setting: str = "default") -> Check:
        """A :class:`Check` whose interval is this bootstrap of ``stat`` over ``n`` units."""
        value, low, high = self.interval(stat, n, (claim, seed, name, setting), strata)
        return Check(int(claim), name, int(seed), statistic, value, low, high, op, float(threshold), int(n),
                     [e for e in evidence if e is not None], setting=setting)


def exhaustive(claim: int, seed: int, name: str, statistic: str, count: int, n: int, *evidence, setting: str = "default") -> Check:
    """A check over every unit of a seed rather than a sample of them: "no unit breaks the rule".

    ``count`` units break it; the statistic is that count, exact (its interval is the point), and the
    check holds when it is 0. One counterexample refutes an "every" claim, so no bootstrap applies.
    """
    c = int(count)
    return Check(int(claim), name, int(seed), statistic, float(c), float(c), float(c), "<=", 0.0, int(n),
                 [e for e in evidence if e is not None], setting=setting)


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
        "verdict": c.verdict, "reason": c.reason,
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
