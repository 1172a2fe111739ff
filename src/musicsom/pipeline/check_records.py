"""Writing and reading checks (``results/<experiment>/checks.json``, the study's tidy CSVs), and the
options every claims stage takes to build its intervals.

A checks file holds the experiment's name, its seeds and every check as a record (claim, seed, setting,
name, statistic, value, interval, threshold, verdict, evidence with the file each number came from).
Seeds live in the records, never in file names.
"""

from __future__ import annotations

import pandas as pd

from musicsom.experiments.claims import Bootstrap, Check, check_from_dict, check_to_dict
from musicsom.pipeline import files
from musicsom.pipeline.sections import add_section, build

#: the columns of a tidy checks table (the robustness study's output), one row per (setting, seed, claim, check)
TIDY = ["setting", "seed", "claim", "check", "statistic", "value", "low", "high", "op", "threshold", "n", "held", "verdict",
        "reason"]


def add_verdict_args(p) -> None:
    """The option ``--verdicts``: the bootstrap behind every interval (config section ``verdicts``, whole)."""
    add_section(p, "verdicts", "verdicts", "the bootstrap behind every interval (resamples, seed, level)")


def bootstrap_of(a) -> Bootstrap:
    """The :class:`~musicsom.experiments.claims.Bootstrap` of the ``--verdicts`` section."""
    return build(Bootstrap, a.verdicts, "verdicts")


def with_source(checks: list[Check], source: str) -> list[Check]:
    """Set the source file of every piece of evidence that has none yet; returns ``checks``."""
    for c in checks:
        for e in c.evidence:
            e.source = e.source or str(source)
    return checks


def save_checks(path, experiment: str, checks: list[Check]) -> None:
    files.save_json(path, {
        "experiment": experiment,
        "seeds": sorted({c.seed for c in checks}),
        "checks": [check_to_dict(c) for c in checks],
    })


def load_checks(path) -> list[Check]:
    d = files.load_json(path)
    if not isinstance(d, dict) or "checks" not in d:
        raise files.InputError(f"{path} is not a checks file (no 'checks' list); rerun its claims rule")
    try:
        return [check_from_dict(c) for c in d["checks"]]
    except ValueError as exc:
        raise files.InputError(f"{path}: {exc}") from None


def tidy(checks: list[Check], **columns) -> pd.DataFrame:
    """The checks as a tidy table (:data:`TIDY` columns plus ``columns``, e.g. the grid axes of their setting)."""
    rows = [{"setting": c.setting, "seed": c.seed, "claim": c.claim, "check": c.name, "statistic": c.statistic, "value": c.value,
             "low": c.low, "high": c.high, "op": c.op, "threshold": c.threshold, "n": c.n, "held": c.verdict == "held",
             "verdict": c.verdict, "reason": c.reason, **columns} for c in checks]
    return pd.DataFrame(rows, columns=TIDY + list(columns))
