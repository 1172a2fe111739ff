"""Claim 3: on the Gaussian mixture, informed convergence and cluster exploration are distinct regimes."""

from __future__ import annotations

from musicsom.experiments.claims import ev, make_check
from musicsom.metrics import median_iqr

NUMBER = 3
TITLE = "GMM: informed vs cluster regimes"
PAPER = (
    "Informed convergence has a low transition rate, long dwells, high continuity and geodesic efficiency near 1; "
    "cluster exploration has frequent transitions, dwells of 1-2 steps, lower continuity and much lower geodesic "
    "efficiency."
)
RULE = (
    "per seed, on medians over trajectories: informed transition rate < cluster's; informed dwell > cluster's; "
    "informed continuity >= 0.9; informed geodesic efficiency >= 0.8; cluster median dwell <= 2; cluster "
    "continuity < informed's; cluster efficiency <= half the informed one"
)
METRICS = ("transition_rate", "dwell_median", "continuity", "geodesic_efficiency")


def medians(per_trajectory) -> dict:
    """``{regime_metric: median over the regime's trajectories}`` from one seed's per-trajectory table, and the
    share of informed runs that end nearer their target than they started (``informed_share_end_nearer``)."""
    out = {}
    for regime in ("informed", "cluster"):
        g = per_trajectory[per_trajectory["regime"] == regime]
        for m in METRICS:
            out[f"{regime}_{m}"] = median_iqr(g[m].to_numpy())[0]
    inf = per_trajectory[per_trajectory["regime"] == "informed"]
    if {"final_distance_to_target", "initial_distance_to_target"} <= set(inf.columns):
        out["informed_share_end_nearer"] = float((inf["final_distance_to_target"] < inf["initial_distance_to_target"]).mean())
    return out


def checks(per_trajectory, seed: int) -> list:
    """The seven checks on one seed's per-trajectory metrics (columns regime, transition_rate, dwell_median, ...)."""
    m = medians(per_trajectory)

    def e(key, label):
        return ev(label, m[key])

    return [
        make_check(NUMBER, seed, "fewer transitions when informed", m["informed_transition_rate"] < m["cluster_transition_rate"],
                   e("informed_transition_rate", "transition rate, informed"), e("cluster_transition_rate", "transition rate, cluster")),
        make_check(NUMBER, seed, "longer dwells when informed", m["informed_dwell_median"] > m["cluster_dwell_median"],
                   e("informed_dwell_median", "median dwell, informed"), e("cluster_dwell_median", "median dwell, cluster")),
        make_check(NUMBER, seed, "informed continuity high", m["informed_continuity"] >= 0.9, e("informed_continuity", "continuity, informed")),
        make_check(NUMBER, seed, "informed efficiency near 1", m["informed_geodesic_efficiency"] >= 0.8,
                   e("informed_geodesic_efficiency", "geodesic efficiency, informed")),
        make_check(NUMBER, seed, "cluster dwells of 1-2 steps", m["cluster_dwell_median"] <= 2, e("cluster_dwell_median", "median dwell, cluster")),
        make_check(NUMBER, seed, "cluster continuity lower", m["cluster_continuity"] < m["informed_continuity"],
                   e("cluster_continuity", "continuity, cluster")),
        make_check(NUMBER, seed, "cluster efficiency much lower", m["cluster_geodesic_efficiency"] <= 0.5 * m["informed_geodesic_efficiency"],
                   e("cluster_geodesic_efficiency", "geodesic efficiency, cluster")),
    ]
