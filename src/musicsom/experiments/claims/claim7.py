"""Claim 7: the α, λ and κ sweeps on the MNIST 0 -> 1 trajectory."""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev, spearman_rows

NUMBER = 7
TITLE = "MNIST sweeps: alpha, lambda, kappa"
PAPER = (
    "Mean confidence varies by under one percentage point across alpha; continuity rises with lambda and motion "
    "stalls at large lambda; kappa has no effect in informed mode."
)
KAPPA_TOLERANCE = 1e-6  # relative path deviation that counts as "the same path"
RULE = (
    "per seed, on the 0 -> 1 sweeps (bootstrap over the start images): the range over the alpha grid of the mean "
    "(over starts) mean confidence is below 1 percentage point; the Spearman correlation of lambda with the mean "
    "continuity is above 0; the mean convergence ratio at the largest lambda is at least 0.5 (stalled); the largest "
    f"mean deviation of a kappa path from the default-kappa path, relative to the start's distance to its target, is at "
    f"most {KAPPA_TOLERANCE:g} (the same path)"
)


def matrix(sweep, metric: str):
    """(starts, values) array of ``metric`` from one sweep's rows (columns value, start, metric), values sorted."""
    t = sweep.pivot_table(index="start", columns="value", values=metric, aggfunc="first").sort_index(axis=1)
    return t.to_numpy(float), t.columns.to_numpy(float)


def checks(sweeps: dict, seed: int, boot: Bootstrap, setting: str = "default") -> list:
    """``sweeps``: {"alpha" | "lam" | "kappa": that sweep's rows (value, start, metrics...)} for one seed."""
    out = []
    c = lambda *args, **kw: boot.check(NUMBER, seed, *args, setting=setting, **kw)  # noqa: E731
    if "alpha" in sweeps:
        V, vals = matrix(sweeps["alpha"], "mean_confidence")
        out.append(c("alpha changes confidence by under 1 pp", "range over alpha of the mean confidence (pp)",
                     lambda idx: 100 * np.ptp(np.nanmean(V[idx], axis=1), axis=1), V.shape[0], "<", 1.0,
                     ev("alpha grid: smallest value", vals.min()), ev("alpha grid: largest value", vals.max())))
    if "lam" in sweeps:
        C, lams = matrix(sweeps["lam"], "continuity")
        out.append(c("continuity rises with lambda", "Spearman correlation of lambda and mean continuity",
                     lambda idx: spearman_rows(lams, np.nanmean(C[idx], axis=1)), C.shape[0], ">", 0.0,
                     ev("mean continuity at the smallest lambda", np.nanmean(C[:, 0])),
                     ev("mean continuity at the largest lambda", np.nanmean(C[:, -1]))))
        R, _ = matrix(sweeps["lam"], "convergence_ratio")
        out.append(c("stalls at the largest lambda", "mean convergence ratio at the largest lambda",
                     lambda idx: np.nanmean(R[idx, -1], axis=1), R.shape[0], ">=", 0.5, ev("largest lambda", lams.max())))
    if "kappa" in sweeps:
        Dv, _ = matrix(sweeps["kappa"], "path_deviation")
        cos, _ = matrix(sweeps["kappa"], "first_step_cos_to_default")
        share, _ = matrix(sweeps["kappa"], "share_clipped")
        out.append(c("kappa has no effect", "largest mean relative deviation from the default-kappa path",
                     lambda idx: np.max(np.nanmean(Dv[idx], axis=1), axis=1), Dv.shape[0], "<=", KAPPA_TOLERANCE,
                     ev("smallest cosine of a first step with the default one", np.nanmin(cos)),
                     ev("smallest share of steps the trust region clips", np.nanmin(share))))
    return out
