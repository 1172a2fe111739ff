"""Claim 3: on the Gaussian mixture, informed convergence and cluster exploration are distinct regimes.

Every start point runs in both regimes, so each check is a paired (or per-start) value over the start points,
pooled over the seeds (each seed its own map and starts). Thresholds and SESOIs, from the paper's words (§5.2):

- **transitions** ("low" vs "frequent"): cluster − informed transition rate, SESOI 0.05 per step (one Voronoi
  crossing in 20 steps: a smaller difference is neither "low" nor "frequent");
- **dwells** ("long" vs "one or two steps"): informed − cluster dwell, SESOI 1 step; the cluster regime's dwell is
  "one or two steps" read as a per-run median dwell below 2.5 (non-inferiority of 2 − dwell with margin 0.5);
- **continuity** ("remains high" when informed, "decreases" in the cluster regime): informed continuity above 0.9
  (successive steps within 26° of each other; an absolute threshold, no SESOI: the interval shows where it flips),
  and informed − cluster continuity with SESOI 0.05 (a mean cosine);
- **geodesic efficiency** ("close to 1" when informed, "drops substantially" in the cluster regime): informed
  efficiency within 0.2 of 1 (non-inferiority of efficiency − 1, margin 0.2: a path at most 25 % longer than the
  straight line), and the cluster regime's efficiency at most half the informed one (per start, 0.5 − ratio above
  0: "substantially" read as halved).
"""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev

NUMBER = 3
TITLE = "GMM: informed vs cluster regimes"
PAPER = (
    "Informed convergence has a low transition rate, long dwells, high continuity and geodesic efficiency near 1; "
    "cluster exploration has frequent transitions, dwells of 1-2 steps, lower continuity and much lower geodesic "
    "efficiency."
)
RULE = (
    "over the start points, each run in both regimes (pooled over seeds, then starts): transition rate cluster − "
    "informed above 0 beyond ±0.05; dwell informed − cluster above 0 beyond ±1 step; informed continuity − 0.9 above 0; "
    "informed geodesic efficiency − 1 above −0.2 (non-inferiority); cluster dwell below 2.5 (2 − dwell above −0.5); "
    "continuity informed − cluster above 0 beyond ±0.05; 0.5 − cluster / informed efficiency above 0"
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

    def a(t, m):
        return t[m].to_numpy(float)

    u = lambda *args, **kw: boot.units(NUMBER, seed, *args, setting=setting, **kw)  # noqa: E731
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = a(cl, "geodesic_efficiency") / a(inf, "geodesic_efficiency")
    return [
        u("fewer transitions when informed", "paired transition rate, cluster − informed",
          a(cl, "transition_rate") - a(inf, "transition_rate"),
          ev("median transition rate, informed", np.median(a(inf, "transition_rate"))),
          ev("median transition rate, cluster", np.median(a(cl, "transition_rate"))), sesoi=0.05, unit="per step"),
        u("longer dwells when informed", "paired dwell, informed − cluster", a(inf, "dwell_median") - a(cl, "dwell_median"),
          ev("median dwell, informed", np.median(a(inf, "dwell_median"))), ev("median dwell, cluster", np.median(a(cl, "dwell_median"))),
          sesoi=1.0, unit="steps"),
        u("informed continuity high", "informed continuity − 0.9", a(inf, "continuity") - 0.9,
          ev("median continuity, informed", np.nanmedian(a(inf, "continuity")))),
        u("informed efficiency near 1", "informed geodesic efficiency − 1", a(inf, "geodesic_efficiency") - 1.0,
          ev("median geodesic efficiency, informed", np.nanmedian(a(inf, "geodesic_efficiency"))),
          kind="noninferiority", sesoi=0.2),
        u("cluster dwells of 1-2 steps", "2 − cluster dwell", 2.0 - a(cl, "dwell_median"), kind="noninferiority", sesoi=0.5,
          unit="steps"),
        u("cluster continuity lower", "paired continuity, informed − cluster", a(inf, "continuity") - a(cl, "continuity"),
          ev("median continuity, cluster", np.nanmedian(a(cl, "continuity"))), sesoi=0.05),
        u("cluster efficiency much lower", "0.5 − paired efficiency ratio, cluster / informed", 0.5 - ratio,
          ev("median geodesic efficiency, cluster", np.nanmedian(a(cl, "geodesic_efficiency")))),
    ]
