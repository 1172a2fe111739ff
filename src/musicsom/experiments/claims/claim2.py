"""Claim 2: the reconstruction error under activation noise follows the Corollary 1 bound ||e|| / σ_min(A)."""

from __future__ import annotations

from musicsom.experiments.claims import ev, make_check

NUMBER = 2
TITLE = "Noise follows the Corollary 1 bound"
PAPER = "Reconstruction error under activation noise follows ||e|| / sigma_min(A)."
MIN_SPEARMAN = 0.9
RULE = f"held if every case lies within the bound and the error's Spearman rank correlation with the bound is >= {MIN_SPEARMAN}"


def checks(summary: dict, seed: int) -> list:
    """From the Fig 1 summary: ``share_within_bound``, ``spearman_error_vs_bound``, ``median_ratio``."""
    share, rho = summary["share_within_bound"], summary["spearman_error_vs_bound"]
    return [
        make_check(NUMBER, seed, "every case within the bound", share >= 1.0, ev("share of cases with error <= bound", share)),
        make_check(NUMBER, seed, "error tracks the bound", rho is not None and rho >= MIN_SPEARMAN,
                   ev("Spearman correlation of error and bound", rho), ev("median error / bound", summary["median_ratio"])),
    ]
