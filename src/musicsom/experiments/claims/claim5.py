"""Claim 5: MUSIC vs linear interpolation over the ten MNIST digit pairs of Table 2.

Every comparison is at equal progress (frame values weighed by the share of the path's length they stand for,
:mod:`musicsom.experiments.progress`), so an arm that arrives early and rests is not rewarded for its resting
frames; the minimum confidence needs no weighing (it is one frame either way).

SESOIs, from the paper's words:

- **mean confidence, non-inferiority, 1 pp.** The paper calls the arms' mean confidence "comparable" (§5.3.5) and
  calls a variation "by less than one percentage point" robust (§5.3.6, §6): one percentage point is the size it
  treats as no difference. MUSIC is not claimed better, only not worse, so the test is non-inferiority: the
  interval's lower end (MUSIC − linear) above −1 pp supports it.
- **minimum confidence, directional, 1 pp**, the same scale; "on most pairs" (8 of 10 in the paper) is shown as the
  number of pairs whose pooled difference is positive.
- **sharpness, directional, 5 % of linear's.** The paper calls MUSIC "significantly sharper ... on all 10 pairs".
  Laplacian sharpness is an energy (a variance of a high-pass filter): 5 % of it is 2.5 % of edge contrast, under
  what one sees between two strips; the comparison is the relative difference (MUSIC − linear) / linear per
  trajectory, because sharpness scales with the digit's ink. "On all pairs" is tested pair by pair (each pair
  pooled over seeds and starts; the weakest pair decides: an intersection-union test).
- **manifold distance, directional, 5 % of linear's.** The paper reports it "higher for MUSIC" and calls the VAE's
  advantage on the same measure "marginal"; a relative difference under 5 % we take as too small to call.
- **geodesic efficiency below 1** is true of any path that is not straight: shown as context, never counted.

Units: the (pair, start) trajectories (10 pairs × 3 starts per seed), grouped by pair, pooled over seeds.
"""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev
from musicsom.experiments.claims.claim4 import paired, pairs_of

NUMBER = 5
TITLE = "MNIST: MUSIC vs linear over the 10 pairs"
PAPER = (
    "Mean confidence not significantly different; minimum confidence higher for MUSIC on most pairs; sharpness "
    "higher for MUSIC on all pairs (significant); geodesic efficiency below 1 for MUSIC; manifold distance higher for MUSIC."
)
CONFIDENCE_SESOI = 0.01  # one percentage point: the paper's own "no difference"
RELATIVE_SESOI = 0.05  # sharpness and manifold distance: 5 % of linear interpolation's
EQUIVALENT = CONFIDENCE_SESOI  # the name older callers use
RULE = (
    "at equal progress, over the Table 2 trajectories (pooled over seeds, pairs and starts): mean confidence "
    f"MUSIC − linear non-inferior (lower end above −{CONFIDENCE_SESOI:g}); min confidence MUSIC − linear above 0 "
    f"beyond ±{CONFIDENCE_SESOI:g} (pairs with a positive pooled difference shown); relative sharpness (MUSIC − linear) "
    f"/ linear above 0 beyond ±{RELATIVE_SESOI:g} pooled and on every pair (each pair pooled on its own, the weakest "
    f"decides); relative manifold distance (MUSIC − linear) / linear above 0 beyond ±{RELATIVE_SESOI:g}; MUSIC's "
    "geodesic efficiency below 1 is context"
)


def _relative(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return (a - b) / b


def positive_pairs(diff, groups) -> int:
    """How many groups (pairs) have a positive mean difference."""
    return int(sum(np.nanmean(diff[groups == g]) > 0 for g in np.unique(groups)))


def checks(rows, seed: int, boot: Bootstrap, setting: str = "default") -> list:
    """``rows``: one seed's Table 2 rows with the MUSIC and linear methods."""
    u = lambda *a, **kw: boot.units(NUMBER, seed, *a, setting=setting, **kw)  # noqa: E731
    m, l, units = paired(rows, "music", "linear", "mean_confidence_arc")
    g = pairs_of(units)
    out = [u("mean confidence comparable", "paired mean confidence (equal progress), MUSIC − linear", m - l,
             ev("mean confidence, MUSIC", np.mean(m)), ev("mean confidence, linear", np.mean(l)),
             groups=g, kind="noninferiority", sesoi=CONFIDENCE_SESOI)]
    m, l, _ = paired(rows, "music", "linear", "min_confidence")
    out.append(u("min confidence higher", "paired min confidence, MUSIC − linear", m - l,
                 ev("pairs with higher MUSIC min confidence (this seed)", positive_pairs(m - l, g)), ev("pairs", len(set(g))),
                 groups=g, sesoi=CONFIDENCE_SESOI))
    m, l, _ = paired(rows, "music", "linear", "sharpness_arc")
    rel = _relative(m, l)
    out.append(u("sharpness higher", "paired relative sharpness (equal progress), (MUSIC − linear) / linear", rel,
                 ev("mean sharpness, MUSIC", np.mean(m)), ev("mean sharpness, linear", np.mean(l)),
                 groups=g, sesoi=RELATIVE_SESOI))
    out.append(u("sharpness higher on every pair", "weakest pair's relative sharpness, (MUSIC − linear) / linear", rel,
                 ev("pairs with higher MUSIC sharpness (this seed)", positive_pairs(rel, g)),
                 groups=g, sesoi=RELATIVE_SESOI, every_group=True))
    m, l, _ = paired(rows, "music", "linear", "manifold_distance_arc")
    out.append(u("manifold distance higher", "paired relative manifold distance (equal progress), (MUSIC − linear) / linear",
                 _relative(m, l), ev("mean manifold distance, MUSIC", np.nanmean(m)),
                 ev("mean manifold distance, linear", np.nanmean(l)), groups=g, sesoi=RELATIVE_SESOI))
    m, _, _ = paired(rows, "music", "linear", "geodesic_efficiency")
    out.append(u("geodesic efficiency below 1", "1 − MUSIC's geodesic efficiency", 1 - m,
                 ev("mean geodesic efficiency, MUSIC", np.mean(m)), groups=g, sesoi=0.0, context=True))
    return out
