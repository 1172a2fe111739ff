"""Claim 8: on faces, free MUSIC evolution stays on the face manifold, informed trajectories approach their
cluster monotonically, and linear interpolation drifts in identity more than MUSIC."""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import ev, make_check
from musicsom.experiments.faces import COMPARISONS, comparison_table
from musicsom.stats import wilcoxon_paired

NUMBER = 8
TITLE = "Faces: on the manifold, monotone approach, less identity drift"
PAPER = (
    "Free evolution with MUSIC stays on the face manifold while the radial baseline drifts off it; informed "
    "trajectories approach the target cluster monotonically; linear interpolation to the cluster mean drifts "
    "in identity much more than MUSIC."
)
RULE = (
    "per seed: the mean detection rate of MUSIC free evolution > that of the radial baseline; every informed run "
    "ends nearer its cluster and the mean share of non-increasing steps >= faces.monotone_min (all three clusters); "
    "the mean identity drift of linear interpolation > that of informed MUSIC (toward the female cluster)"
)


def _mean(frame, method, metric):
    v = frame.loc[frame["method"] == method, metric].to_numpy(float)
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")


def numbers(per_start) -> dict:
    """The claim's numbers for one seed's per-start table (faces.summary): paired comparisons and the informed runs."""
    out = {"n_starts": int(per_start["start"].nunique())}
    comp = comparison_table(per_start)
    for name, (a, b, metrics) in COMPARISONS.items():
        sub = comp[comp["comparison"] == name].sort_values(["method", "start"])
        block = {}
        for m in metrics:
            va = sub.loc[sub["method"] == a].set_index("start")[m]
            vb = sub.loc[sub["method"] == b].set_index("start")[m].reindex(va.index)
            stat, p = wilcoxon_paired(va.to_numpy(float), vb.to_numpy(float))
            block[m] = {a: _mean(sub, a, m), b: _mean(sub, b, m), "wilcoxon_statistic": stat, "p_value": p}
        out[name.replace(" ", "_")] = block
    informed = {}
    for cluster, g in per_start[per_start["experiment"] == "informed"].groupby("cluster"):
        informed[cluster] = {
            "all_end_nearer": bool((g["final_cluster_distance"] < g["initial_cluster_distance"]).all()),
            "mean_monotone_share": float(g["monotone_share"].mean()),
            "min_monotone_share": float(g["monotone_share"].min()),
            "mean_trend_rho": float(g["trend_rho"].mean()),
            "max_trend_rho": float(g["trend_rho"].max()),
            "mean_convergence_ratio": float(g["convergence_ratio"].mean()),
            "detection_rate": float(g["detection_rate"].mean()),
        }
    out["informed"] = informed
    lin = per_start[per_start["experiment"] == "linear"]
    out["linear"] = {"mean_monotone_share": float(lin["monotone_share"].mean()),
                     "mean_convergence_ratio": float(lin["convergence_ratio"].mean())}
    return out


def checks(nums: dict, seed: int, monotone_min: float) -> list:
    free = nums["free_evolution"]["detection_rate"]
    drift = nums["toward_the_female_cluster"]["mean_identity_drift"]
    informed = nums["informed"]
    monotone_ok = all(v["all_end_nearer"] and v["mean_monotone_share"] >= monotone_min for v in informed.values())
    return [
        make_check(NUMBER, seed, "free music stays on manifold", free["music"] > free["radial"],
                   ev("free evolution detection rate music", free["music"]), ev("free evolution detection rate radial", free["radial"]),
                   ev("free evolution detection rate p value", free["p_value"])),
        make_check(NUMBER, seed, f"informed approach monotonic (mean share of non-increasing steps >= {monotone_min:g})", monotone_ok,
                   *(ev(f"informed mean monotone share {c}", v["mean_monotone_share"]) for c, v in informed.items()),
                   *(ev(f"informed mean trend rho {c}", v["mean_trend_rho"]) for c, v in informed.items())),
        make_check(NUMBER, seed, "linear drifts more", drift["linear"] > drift["music"],
                   ev("mean identity drift music", drift["music"]), ev("mean identity drift linear", drift["linear"]),
                   ev("mean identity drift p value", drift["p_value"])),
    ]
