"""Claim 2: the reconstruction error under activation noise follows the Corollary 1 bound ||e|| / σ_min(A)."""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev, exhaustive

NUMBER = 2
TITLE = "Noise follows the Corollary 1 bound"
PAPER = "Reconstruction error under activation noise follows ||e|| / sigma_min(A)."
MIN_SPEARMAN = 0.9
ROUND_OFF = (1e-9, 1e-15)  # relative and absolute slack of "within the bound" (the bound's own rounding)
RULE = (f"no case exceeds the bound (every case counted: error <= bound (1 + {ROUND_OFF[0]:g}) + {ROUND_OFF[1]:g}) and "
        f"the Spearman rank correlation of error and bound (bootstrap over the cases) is >= {MIN_SPEARMAN}")


def checks(error, bound, seed: int, boot: Bootstrap, setting: str = "default") -> list:
    """``error``, ``bound``: one value per case (test point × subset size × noise level) of Fig 1."""
    e, b = np.asarray(error, dtype=np.float64), np.asarray(bound, dtype=np.float64)
    n = e.size

    def rho(idx):
        from scipy.stats import rankdata

        re, rb = rankdata(e[idx], axis=1), rankdata(b[idx], axis=1)
        re -= re.mean(1, keepdims=True)
        rb -= rb.mean(1, keepdims=True)
        return (re * rb).sum(1) / np.sqrt((re**2).sum(1) * (rb**2).sum(1))

    return [
        exhaustive(NUMBER, seed, "every case within the bound", "cases with error above the bound",
                   int(np.sum(e > b * (1 + ROUND_OFF[0]) + ROUND_OFF[1])), n, ev("median error / bound", np.median(e / b)),
                   ev("largest error / bound", np.max(e / b)), setting=setting),
        boot.check(NUMBER, seed, "error tracks the bound", "Spearman correlation of error and bound", rho, n,
                   ">=", MIN_SPEARMAN, setting=setting),
    ]
