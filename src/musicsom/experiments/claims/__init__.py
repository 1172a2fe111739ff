"""The paper's claims as checks with stated rules, and the verdicts they give. Pure; no file I/O.

Each claim has its own module (``claim1`` … ``claim9``) with its number, title, the paper's statement
in our words, the rule, and a ``checks(...)`` function that turns the measured numbers of one seed
into :class:`Check` objects: one named condition, whether it passed, and the numbers it rests on
(:class:`Evidence`). The pipeline's claims stages call these functions and write the checks to
``results/<experiment>/checks.json``; the report stage reads them back (:func:`check_from_dict`)
and groups them by claim (:func:`collect`). The rules are described in ``docs/METHOD.md#7-claims``.

A claim's verdict on one seed is "held" when all its checks pass, "partly" when at least half do,
"failed" otherwise; over seeds it is "held" only if it holds on every seed, "failed" if it fails on
every seed, and "partly" otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "Evidence",
    "Check",
    "ClaimResult",
    "CLAIM_MODULES",
    "claim_module",
    "ev",
    "check_to_dict",
    "check_from_dict",
    "collect",
    "failed_checks",
]

#: the claim modules, by claim number (1-8: the paper's claims; 9: the k-means control, beyond the paper)
CLAIM_MODULES = {n: f"musicsom.experiments.claims.claim{n}" for n in range(1, 10)}


def claim_module(number: int):
    """The module of claim ``number`` (its NUMBER, TITLE, PAPER, RULE and ``checks``)."""
    import importlib

    if number not in CLAIM_MODULES:
        raise ValueError(f"claim number must be one of {sorted(CLAIM_MODULES)}; got {number!r}")
    return importlib.import_module(CLAIM_MODULES[number])


@dataclass
class Evidence:
    """One measured number: what it is, its value, and the file it was read from (set by the stage)."""

    quantity: str
    value: float
    source: str = ""


@dataclass
class Check:
    """One named condition of a claim on one seed: whether it passed, and the numbers it rests on."""

    claim: int
    name: str
    passed: bool
    seed: int
    evidence: list[Evidence] = field(default_factory=list)


def ev(quantity: str, value) -> Evidence | None:
    """Evidence for a finite number; None (left out) for a missing or non-finite one."""
    if value is None or isinstance(value, bool):
        return None
    v = float(value)
    return Evidence(quantity, v) if math.isfinite(v) else None


def make_check(claim: int, seed: int, name: str, passed, *evidence) -> Check:
    """A :class:`Check` whose evidence skips numbers that were not measured (None or NaN)."""
    return Check(int(claim), name, bool(passed), int(seed), [e for e in evidence if e is not None])


def check_to_dict(c: Check) -> dict:
    return {
        "claim": c.claim,
        "seed": c.seed,
        "name": c.name,
        "passed": c.passed,
        "evidence": [{"quantity": e.quantity, "value": e.value, "source": e.source} for e in c.evidence],
    }


def check_from_dict(d: dict) -> Check:
    try:
        return Check(
            int(d["claim"]), str(d["name"]), bool(d["passed"]), int(d["seed"]),
            [Evidence(str(e["quantity"]), float(e["value"]), str(e.get("source", ""))) for e in d.get("evidence", [])],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"a check record lacks a field or has a wrong type ({exc}); regenerate the checks files") from None


@dataclass
class ClaimResult:
    """A claim with its checks by seed, and the verdict they give."""

    number: int
    title: str
    paper: str
    rule: str
    checks_by_seed: dict = field(default_factory=dict)  # seed -> list[Check]
    missing: str | None = None  # why the claim could not be judged

    def seed_verdict(self, seed) -> str:
        checks = self.checks_by_seed[seed]
        n = sum(c.passed for c in checks)
        if n == len(checks):
            return "held"
        return "partly" if 2 * n >= len(checks) else "failed"

    @property
    def verdict(self) -> str:
        if self.missing or not self.checks_by_seed:
            return "not judged"
        verdicts = [self.seed_verdict(s) for s in self.checks_by_seed]
        if all(v == "held" for v in verdicts):
            return "held"
        if all(v == "failed" for v in verdicts):
            return "failed"
        return "partly"

    @property
    def seed_rate(self) -> str:
        if not self.checks_by_seed:
            return ""
        held = sum(self.seed_verdict(s) == "held" for s in self.checks_by_seed)
        return f"{held}/{len(self.checks_by_seed)} seeds"

    def evidence(self) -> list[tuple[int, Evidence]]:
        return [(c.seed, e) for checks in self.checks_by_seed.values() for c in checks for e in c.evidence]


def collect(checks: list[Check], missing: dict[int, str] | None = None) -> list[ClaimResult]:
    """Group checks into one :class:`ClaimResult` per claim (1-9, in order), seeds sorted.

    ``missing`` gives, by claim number, why a claim has no checks (e.g. its stage did not run).
    """
    missing = missing or {}
    out = []
    for number in sorted(CLAIM_MODULES):
        mod = claim_module(number)
        res = ClaimResult(number, mod.TITLE, mod.PAPER, mod.RULE)
        mine = [c for c in checks if c.claim == number]
        for seed in sorted({c.seed for c in mine}):
            res.checks_by_seed[seed] = [c for c in mine if c.seed == seed]
        if not mine:
            res.missing = missing.get(number, "no checks were recorded for this claim")
        out.append(res)
    return out


def failed_checks(c: ClaimResult) -> list[str]:
    """Names of checks that failed on any seed, in order, without repeats."""
    seen: list[str] = []
    for checks in c.checks_by_seed.values():
        for ch in checks:
            if not ch.passed and ch.name not in seen:
                seen.append(ch.name)
    return seen
