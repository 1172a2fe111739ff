"""Claim 7: the α, λ and κ sweeps on the MNIST 0 -> 1 trajectory."""

from __future__ import annotations

from musicsom.experiments.claims import ev, make_check

NUMBER = 7
TITLE = "MNIST sweeps: alpha, lambda, kappa"
PAPER = (
    "Mean confidence varies by under one percentage point across alpha; continuity rises with lambda and motion "
    "stalls at large lambda; kappa has no effect in informed mode."
)
RULE = (
    "per seed, on the 0 -> 1 sweeps: mean confidence spans < 1 percentage point over the alpha grid; continuity rises "
    "with lambda (Spearman rho > 0); the convergence ratio at the largest lambda is >= 0.5 (stalled); every metric is "
    "identical (within 1e-6) across the kappa grid"
)
SWEEP_METRICS = ["mean_confidence", "min_confidence", "continuity", "geodesic_efficiency", "convergence_ratio"]


def numbers(sweeps: dict) -> dict:
    """``sweeps``: {"alpha" | "lambda" | "kappa": DataFrame with columns value and the sweep metrics}."""
    from scipy.stats import spearmanr

    out = {"ranges": {p: {m: [float(df[m].min()), float(df[m].max())] for m in SWEEP_METRICS} for p, df in sweeps.items()}}
    if "alpha" in sweeps:
        a = sweeps["alpha"]
        out["alpha_mean_confidence_range_pp"] = float(100 * (a["mean_confidence"].max() - a["mean_confidence"].min()))
    if "lambda" in sweeps:
        lam = sweeps["lambda"].sort_values("value")
        rho = float(spearmanr(lam["value"], lam["continuity"]).statistic) if lam["continuity"].nunique() > 1 else float("nan")
        out["lambda"] = {"values": lam["value"].tolist(), "continuity": lam["continuity"].tolist(),
                         "convergence_ratio": lam["convergence_ratio"].tolist(), "spearman_continuity_vs_lambda": rho,
                         "convergence_ratio_at_largest_lambda": float(lam["convergence_ratio"].iloc[-1])}
    if "kappa" in sweeps:
        k = sweeps["kappa"]
        out["kappa"] = {"max_minus_min": {m: float(k[m].max() - k[m].min()) for m in SWEEP_METRICS},
                        "min_first_step_cos_to_default": float(k["first_step_cos_to_default"].min()),
                        "share_clipped": k["share_clipped"].tolist()}
        out["kappa_first_step_direction_invariant"] = bool(k["first_step_cos_to_default"].min() > 1 - 1e-9)
    return out


def checks(nums: dict, seed: int) -> list:
    out = []
    if "alpha_mean_confidence_range_pp" in nums:
        r = nums["alpha_mean_confidence_range_pp"]
        out.append(make_check(NUMBER, seed, "alpha confidence within 1pp", r < 1.0, ev("alpha mean confidence range pp", r)))
    if "lambda" in nums:
        lam = nums["lambda"]
        rho = lam["spearman_continuity_vs_lambda"]
        out.append(make_check(NUMBER, seed, "continuity rises with lambda", rho is not None and rho > 0,
                              ev("lambda spearman continuity vs lambda", rho)))
        out.append(make_check(NUMBER, seed, "stalls at largest lambda", lam["convergence_ratio_at_largest_lambda"] >= 0.5,
                              ev("lambda convergence ratio at largest lambda", lam["convergence_ratio_at_largest_lambda"])))
    if "kappa" in nums:
        k = nums["kappa"]
        diffs = k["max_minus_min"]
        out.append(make_check(NUMBER, seed, "kappa no effect", max(abs(v) for v in diffs.values()) <= 1e-6,
                              ev("kappa min first step cos to default", k["min_first_step_cos_to_default"]),
                              ev("kappa max minus min mean confidence", diffs["mean_confidence"])))
    return out
