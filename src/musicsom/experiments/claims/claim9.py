"""Claim 9 (beyond the paper): MUSIC on unstructured prototypes (k-means) moves less stably than on a SOM.

The paper (§6) says what k-means lacks: "neighbourhood continuity" and "a global topological backbone for guiding
semantic transformations", and that MUSIC's interpretability comes from the map (trajectories that "maintain high
classifier confidence" and pass "directly between neighbouring class basins"). The rule tests those, at equal
progress, on the same Table 2 starts, K, encoding and settings:

- **continuity, SOM − k-means, SESOI 0.01.** Continuity is the mean cosine of successive steps; a difference under
  0.01 (1 % of its positive range) we take as no difference (ours: the paper gives no scale).
- **mean confidence, SOM − k-means, SESOI 1 pp** (the paper's own "no difference", §5.3.6).
- **share of the way in a third class, k-means − SOM, SESOI 0.05** (half a frame of the paper's 11-frame strips,
  as claim 4).
- **geodesic efficiency** is shown in the paper's direction, as context: a SOM path that follows the lattice is
  expected to be *less* straight ("the expected cost of following the SOM topology", §6), so it decides nothing.

Units: (pair, start) trajectories grouped by pair, pooled over seeds.
"""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev

NUMBER = 9
TITLE = "k-means prototypes give unstable motion (beyond the paper)"
PAPER = "Unstructured prototypes such as k-means give unstable, uninterpretable MUSIC motion (asserted in §6, not shown)."
CONTINUITY_SESOI = 0.01
CONFIDENCE_SESOI = 0.01
PROGRESS_SESOI = 0.05
RULE = (
    "on the MNIST Table 2 MUSIC trajectories run on both prototype sets (same K, encoding, starts and settings; "
    "pooled over seeds, pairs and starts): step continuity SOM − k-means above 0 beyond "
    f"±{CONTINUITY_SESOI:g}; mean confidence at equal progress SOM − k-means above 0 beyond ±{CONFIDENCE_SESOI:g}; "
    f"share of the way in a third class, k-means − SOM, above 0 beyond ±{PROGRESS_SESOI:g}; geodesic efficiency "
    "k-means − SOM (the paper's direction: the SOM's path is the longer) is context"
)
KEYS = ["seed", "pair", "start"]
METRICS = ["continuity", "geodesic_efficiency", "mean_confidence", "min_confidence", "sharpness"]


def checks(music_rows, seed: int, boot: Bootstrap, setting: str = "default") -> list:
    """``music_rows``: one seed's MUSIC rows of both arms (column ``prototypes`` in {som, kmeans})."""
    som = music_rows[music_rows["prototypes"] == "som"].set_index(KEYS)
    km = music_rows[music_rows["prototypes"] == "kmeans"].set_index(KEYS)
    common = som.index.intersection(km.index)
    g = np.asarray([str(u[1]) for u in common])
    u = lambda *a, **kw: boot.units(NUMBER, seed, *a, groups=g, setting=setting, **kw)  # noqa: E731

    def both(metric):
        return som.loc[common, metric].to_numpy(float), km.loc[common, metric].to_numpy(float)

    a, b = both("continuity")
    out = [u("SOM motion more continuous", "paired step continuity, SOM − k-means", a - b,
             ev("mean continuity, SOM", np.nanmean(a)), ev("mean continuity, k-means", np.nanmean(b)), sesoi=CONTINUITY_SESOI)]
    a, b = both("mean_confidence_arc")
    out.append(u("SOM motion more confident", "paired mean confidence (equal progress), SOM − k-means", a - b,
                 ev("mean confidence, SOM", np.nanmean(a)), ev("mean confidence, k-means", np.nanmean(b)), sesoi=CONFIDENCE_SESOI))
    a, b = both("third_class_share")
    out.append(u("fewer third-class frames on the SOM", "paired share of the way in a third class, k-means − SOM", b - a,
                 ev("mean share in a third class, SOM", np.nanmean(a)), ev("mean share in a third class, k-means", np.nanmean(b)),
                 sesoi=PROGRESS_SESOI, unit="of the way"))
    a, b = both("geodesic_efficiency")
    out.append(u("SOM paths longer (the cost of the topology)", "paired geodesic efficiency, k-means − SOM", b - a,
                 ev("mean geodesic efficiency, SOM", np.nanmean(a)), ev("mean geodesic efficiency, k-means", np.nanmean(b)),
                 sesoi=0.0, context=True))
    return out
