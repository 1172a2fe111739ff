"""Claim 1: inversion error is round-off once m >= D + 1 prototypes are used, and large below."""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev, median_of, unmeasurable

NUMBER = 1
TITLE = "Exact inversion from D + 1 prototypes"
PAPER = "Inversion error is round-off (about 1e-12 or less) once m >= D + 1, and large below."
ROUND_OFF = 1e-10  # median error that counts as round-off
LARGE = 1e-2  # median error that counts as "large" below D + 1
RULE = (
    f"median GMM inversion error (over test points, bootstrap over them) <= {ROUND_OFF:g} for every m >= D + 1 and "
    f">= {LARGE:g} for every m <= D (first seed's map); median relative error over the MNIST test codes "
    f"<= {ROUND_OFF:g} on every seed"
)


def gmm_checks(errors, m_values, dim: int, seed: int, boot: Bootstrap, setting: str = "default") -> list:
    """``errors`` (points, len(m_values)): the inversion error of each test point with m prototypes (Fig 5)."""
    E = np.asarray(errors, dtype=np.float64)
    m = np.asarray(m_values)
    full, deficient = E[:, m >= dim + 1], E[:, m <= dim]
    n = E.shape[0]

    def worst_full(idx):
        return np.max(np.median(full[idx], axis=1), axis=1)

    def best_deficient(idx):
        return np.min(np.median(deficient[idx], axis=1), axis=1)

    out = [
        boot.check(NUMBER, seed, "round-off from m = D + 1", "largest median error over m >= D + 1", worst_full, n,
                   "<=", ROUND_OFF, ev("largest max error over m >= D + 1", full.max()), setting=setting),
    ]
    if deficient.shape[1]:
        out.append(boot.check(NUMBER, seed, "large below D + 1", "smallest median error over m <= D", best_deficient, n,
                              ">=", LARGE, setting=setting))
    return out


def mnist_checks(relative_errors, seed: int, boot: Bootstrap, setting: str = "default", reason: str = "",
                 condition_number: float | None = None) -> list:
    """Round-off inversion of every MNIST test code (relative errors of one seed's map), or why it is impossible."""
    name, stat = "round-off on the MNIST test set", "median relative inversion error (MNIST test codes)"
    if reason:
        return [unmeasurable(NUMBER, seed, name, stat, "<=", ROUND_OFF, reason, setting)]
    err = np.asarray(relative_errors, dtype=np.float64)
    return [boot.check(NUMBER, seed, name, stat, median_of(err), err.size, "<=", ROUND_OFF,
                       ev("max relative error", err.max()), ev("condition number (median over anchors)", condition_number),
                       setting=setting)]
