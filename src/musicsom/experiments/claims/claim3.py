"""Claim 3: on the Gaussian mixture, informed convergence and cluster exploration are distinct regimes."""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev, median_of

NUMBER = 3
TITLE = "GMM: informed vs cluster regimes"
PAPER = (
    "Informed convergence has a low transition rate, long dwells, high continuity and geodesic efficiency near 1; "
    "cluster exploration has frequent transitions, dwells of 1-2 steps, lower continuity and much lower geodesic "
    "efficiency."
)
RULE = (
    "per seed, on medians over the trajectories (bootstrap over the start points, each start run in both regimes): "
    "informed transition rate below the cluster one; informed dwell above the cluster one; informed continuity "
    ">= 0.9; informed geodesic efficiency >= 0.8; cluster median dwell <= 2; cluster continuity below the informed "
    "one; cluster efficiency at most half the informed one"
)
METRICS = ("transition_rate", "dwell_median", "continuity", "geodesic_efficiency")


def _paired(per_trajectory):
    """(informed, cluster) tables aligned on the start (column ``trajectory``)."""
    inf = per_trajectory[per_trajectory["regime"] == "informed"].set_index("trajectory").sort_index()
    cl = per_trajectory[per_trajectory["regime"] == "cluster"].set_index("trajectory").sort_index()
    common = inf.index.intersection(cl.index)
    if len(common) == 0:
        raise ValueError("per_trajectory holds no start run in both regimes (informed and cluster)")
    return inf.loc[common], cl.loc[common]


def medians(per_trajectory) -> dict:
    """``{regime_metric: median over the regime's trajectories}``, and the share of informed runs ending nearer."""
    inf, cl = _paired(per_trajectory)
    out = {f"{r}_{m}": float(np.nanmedian(t[m])) for r, t in (("informed", inf), ("cluster", cl)) for m in METRICS}
    if {"final_distance_to_target", "initial_distance_to_target"} <= set(inf.columns):
        out["informed_share_end_nearer"] = float((inf["final_distance_to_target"] < inf["initial_distance_to_target"]).mean())
    return out


def checks(per_trajectory, seed: int, boot: Bootstrap, setting: str = "default") -> list:
    """The seven checks on one seed's per-trajectory metrics (columns regime, trajectory, transition_rate, ...)."""
    inf, cl = _paired(per_trajectory)
    n = len(inf)

    def a(t, m):
        return t[m].to_numpy(float)

    def diff_of_medians(x, y):
        return lambda idx: np.nanmedian(x[idx], axis=1) - np.nanmedian(y[idx], axis=1)

    def ratio_of_medians(x, y):
        return lambda idx: np.nanmedian(x[idx], axis=1) / np.nanmedian(y[idx], axis=1)

    c = lambda *args, **kw: boot.check(NUMBER, seed, *args, setting=setting, **kw)  # noqa: E731
    return [
        c("fewer transitions when informed", "median transition rate, cluster − informed",
          diff_of_medians(a(cl, "transition_rate"), a(inf, "transition_rate")), n, ">", 0.0,
          ev("median transition rate, informed", np.median(a(inf, "transition_rate"))),
          ev("median transition rate, cluster", np.median(a(cl, "transition_rate")))),
        c("longer dwells when informed", "median dwell, informed − cluster",
          diff_of_medians(a(inf, "dwell_median"), a(cl, "dwell_median")), n, ">", 0.0,
          ev("median dwell, informed", np.median(a(inf, "dwell_median"))), ev("median dwell, cluster", np.median(a(cl, "dwell_median")))),
        c("informed continuity high", "median continuity, informed", median_of(a(inf, "continuity")), n, ">=", 0.9),
        c("informed efficiency near 1", "median geodesic efficiency, informed", median_of(a(inf, "geodesic_efficiency")), n, ">=", 0.8),
        c("cluster dwells of 1-2 steps", "median dwell, cluster", median_of(a(cl, "dwell_median")), n, "<=", 2.0),
        c("cluster continuity lower", "median continuity, informed − cluster",
          diff_of_medians(a(inf, "continuity"), a(cl, "continuity")), n, ">", 0.0,
          ev("median continuity, cluster", np.nanmedian(a(cl, "continuity")))),
        c("cluster efficiency much lower", "median geodesic efficiency, cluster / informed",
          ratio_of_medians(a(cl, "geodesic_efficiency"), a(inf, "geodesic_efficiency")), n, "<=", 0.5,
          ev("median geodesic efficiency, cluster", np.nanmedian(a(cl, "geodesic_efficiency")))),
    ]
