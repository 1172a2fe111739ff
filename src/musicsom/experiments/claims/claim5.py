"""Claim 5: MUSIC vs linear interpolation over the ten MNIST digit pairs of Table 2."""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev, group_share, median_of
from musicsom.experiments.claims.claim4 import paired

NUMBER = 5
TITLE = "MNIST: MUSIC vs linear over the 10 pairs"
PAPER = (
    "Mean confidence not significantly different; minimum confidence higher for MUSIC on most pairs; sharpness "
    "higher for MUSIC on all pairs (significant); geodesic efficiency below 1 for MUSIC; manifold distance higher for MUSIC."
)
EQUIVALENT = 0.01  # one percentage point of classifier confidence
RULE = (
    "per seed, over the Table 2 trajectories (bootstrap over (pair, start); stratified by pair where pairs are "
    f"counted): median paired mean-confidence difference MUSIC − linear within ±{EQUIVALENT:g} (equal within one "
    "percentage point: the paper's 'not significantly different' as an equivalence test); share of pairs with "
    "higher MUSIC min confidence above 0.5; share of pairs with higher MUSIC sharpness at least 1 (all pairs); "
    "median paired sharpness difference above 0; median MUSIC geodesic efficiency below 1; median paired manifold "
    "distance difference MUSIC − linear above 0"
)


def checks(rows, seed: int, boot: Bootstrap, setting: str = "default") -> list:
    """``rows``: one seed's Table 2 rows with the MUSIC and linear methods."""
    out = []
    c = lambda *args, **kw: boot.check(NUMBER, seed, *args, setting=setting, **kw)  # noqa: E731
    m, l, units = paired(rows, "music", "linear", "mean_confidence")
    out.append(c("mean confidence equal", "median paired mean confidence, MUSIC − linear", median_of(m - l), len(units),
                 "within", EQUIVALENT, ev("median mean confidence, MUSIC", np.median(m)), ev("median mean confidence, linear", np.median(l))))
    pairs = np.asarray([u[1] for u in units])
    m, l, _ = paired(rows, "music", "linear", "min_confidence")
    out.append(c("min confidence higher on most pairs", "share of pairs with higher mean min confidence, MUSIC",
                 group_share(m - l, pairs), len(units), ">", 0.5, strata=pairs))
    m, l, _ = paired(rows, "music", "linear", "sharpness")
    out.append(c("sharpness higher on all pairs", "share of pairs with higher mean sharpness, MUSIC",
                 group_share(m - l, pairs), len(units), ">=", 1.0, strata=pairs))
    out.append(c("sharpness higher", "median paired sharpness, MUSIC − linear", median_of(m - l), len(units), ">", 0.0,
                 ev("median sharpness, MUSIC", np.median(m)), ev("median sharpness, linear", np.median(l))))
    m, _, _ = paired(rows, "music", "linear", "geodesic_efficiency")
    out.append(c("geodesic efficiency below 1", "median geodesic efficiency, MUSIC", median_of(m), len(units), "<", 1.0))
    m, l, _ = paired(rows, "music", "linear", "manifold_distance")
    out.append(c("manifold distance higher", "median paired manifold distance, MUSIC − linear", median_of(m - l), len(units),
                 ">", 0.0, ev("median manifold distance, MUSIC", np.nanmedian(m)), ev("median manifold distance, linear", np.nanmedian(l))))
    return out
