"""Claim 6: the VAE stays closest to the data manifold; MUSIC gives the sharpest frames.

Both at equal progress (frame values weighed by the share of the path's length they stand for), as relative
differences per trajectory (both measures scale with the digit's ink). SESOIs from the paper's words (§5.3.4):

- **manifold distance, 1 % of the VAE's.** The paper calls the VAE's advantage "marginal": the smallest effect of
  interest must sit below the effect it describes, so we take 1 %.
- **sharpness, 5 % of the other arm's**, as claim 5 ("MUSIC produces the sharpest intermediate images"): 5 % of
  the Laplacian energy is 2.5 % of edge contrast, under what one sees between two strips.

"Closest" and "sharpest" are each two comparisons (against MUSIC and linear; against linear and the VAE); each is
its own check. Units: (pair, start) trajectories grouped by pair, pooled over seeds.
"""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev
from musicsom.experiments.claims.claim4 import paired, pairs_of

NUMBER = 6
TITLE = "MNIST: VAE closest to the manifold, MUSIC sharpest"
PAPER = "The VAE stays closest to the data manifold; MUSIC is sharpest."
MANIFOLD_SESOI = 0.01
SHARPNESS_SESOI = 0.05
RULE = (
    "at equal progress, over the Table 2 trajectories (pooled over seeds, pairs and starts): relative manifold "
    f"distance (MUSIC − VAE) / VAE and (linear − VAE) / VAE each above 0 beyond ±{MANIFOLD_SESOI:g}; relative "
    f"sharpness (MUSIC − VAE) / VAE and (MUSIC − linear) / linear each above 0 beyond ±{SHARPNESS_SESOI:g}"
)


def _rel(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return (a - b) / b


def checks(rows, seed: int, boot: Bootstrap, setting: str = "default") -> list:
    """``rows``: one seed's Table 2 rows with the MUSIC, linear and VAE methods."""
    mv, vm, units = paired(rows, "music", "vae", "manifold_distance_arc")
    lv, vl, units_l = paired(rows, "linear", "vae", "manifold_distance_arc")
    if len(units) != len(units_l):
        raise ValueError("the Table 2 rows do not hold all three methods for the same units")
    g = pairs_of(units)
    ms, vs, _ = paired(rows, "music", "vae", "sharpness_arc")
    ms2, ls, _ = paired(rows, "music", "linear", "sharpness_arc")
    u = lambda *a, **kw: boot.units(NUMBER, seed, *a, groups=g, setting=setting, **kw)  # noqa: E731
    return [
        u("VAE closer to the manifold than MUSIC", "paired relative manifold distance, (MUSIC − VAE) / VAE", _rel(mv, vm),
          ev("mean manifold distance, VAE", np.nanmean(vm)), ev("mean manifold distance, MUSIC", np.nanmean(mv)), sesoi=MANIFOLD_SESOI),
        u("VAE closer to the manifold than linear", "paired relative manifold distance, (linear − VAE) / VAE", _rel(lv, vl),
          ev("mean manifold distance, linear", np.nanmean(lv)), sesoi=MANIFOLD_SESOI),
        u("MUSIC sharper than the VAE", "paired relative sharpness, (MUSIC − VAE) / VAE", _rel(ms, vs),
          ev("mean sharpness, MUSIC", np.mean(ms)), ev("mean sharpness, VAE", np.mean(vs)), sesoi=SHARPNESS_SESOI),
        u("MUSIC sharper than linear", "paired relative sharpness, (MUSIC − linear) / linear", _rel(ms2, ls),
          ev("mean sharpness, linear", np.mean(ls)), sesoi=SHARPNESS_SESOI),
    ]
