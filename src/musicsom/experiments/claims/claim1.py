"""Claim 1: inversion error is round-off once m >= D + 1 prototypes are used, and large below."""

from __future__ import annotations

from musicsom.experiments.claims import ev, make_check

NUMBER = 1
TITLE = "Exact inversion from D + 1 prototypes"
PAPER = "Inversion error is round-off (about 1e-12 or less) once m >= D + 1, and large below."
ROUND_OFF = 1e-10  # median error that counts as round-off
LARGE = 1e-2  # median error that counts as "large" below D + 1
RULE = (
    f"held if the median GMM error is <= {ROUND_OFF:g} for every m >= D + 1 and >= {LARGE:g} for every m <= D "
    f"(first seed's map), and the median relative error over the MNIST test set is <= {ROUND_OFF:g} on every seed"
)


def gmm_checks(summary: dict, seed: int) -> list:
    """The two GMM checks from the Fig 5 summary (``max_median_error_full_rank``, ``min_median_error_rank_deficient``)."""
    full, deficient = summary["max_median_error_full_rank"], summary["min_median_error_rank_deficient"]
    return [
        make_check(NUMBER, seed, "round-off from m = D + 1", full <= ROUND_OFF,
                   ev("largest median error for m >= D + 1 (GMM)", full)),
        make_check(NUMBER, seed, "large below D + 1", deficient >= LARGE,
                   ev("smallest median error for m <= D (GMM)", deficient)),
    ]


def mnist_checks(summary: dict, seed: int) -> list:
    """Round-off inversion of every MNIST test code (``median_relative_error`` of the seed's map)."""
    err = summary["median_relative_error"]
    return [make_check(NUMBER, seed, "round-off on the MNIST test set", err is not None and err <= ROUND_OFF,
                       ev("median relative error (MNIST)", err))]
