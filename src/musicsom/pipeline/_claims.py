"""Writing and reading the checks files of the claims stages (``results/<experiment>/checks.json``).

A checks file holds the experiment's name, its seeds, the numbers each claim module computed per seed
(for a reader who wants more than the report shows), and every check as a record (claim, seed, name,
passed, evidence with the file each number came from). Seeds live in the records, never in file names.
"""

from __future__ import annotations

from musicsom.experiments.claims import Check, check_from_dict, check_to_dict
from musicsom.pipeline import _io


def with_source(checks: list[Check], source: str) -> list[Check]:
    """Set the source file of every piece of evidence that has none yet; returns ``checks``."""
    for c in checks:
        for e in c.evidence:
            e.source = e.source or str(source)
    return checks


def save_checks(path, experiment: str, checks: list[Check], numbers: dict) -> None:
    seeds = sorted({c.seed for c in checks})
    _io.save_json(path, {
        "experiment": experiment,
        "seeds": seeds,
        "numbers": {str(k): v for k, v in numbers.items()},
        "checks": [check_to_dict(c) for c in checks],
    })


def load_checks(path) -> list[Check]:
    d = _io.load_json(path)
    if not isinstance(d, dict) or "checks" not in d:
        raise _io.InputError(f"{path} is not a checks file (no 'checks' list); rerun its claims rule")
    try:
        return [check_from_dict(c) for c in d["checks"]]
    except ValueError as exc:
        raise _io.InputError(f"{path}: {exc}") from None
