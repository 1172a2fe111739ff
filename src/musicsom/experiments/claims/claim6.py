"""Claim 6: the VAE stays closest to the data manifold; MUSIC gives the sharpest frames."""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev
from musicsom.experiments.claims.claim4 import paired

NUMBER = 6
TITLE = "MNIST: VAE closest to the manifold, MUSIC sharpest"
PAPER = "The VAE stays closest to the data manifold; MUSIC is sharpest."
RULE = (
    "per seed, over the Table 2 trajectories (bootstrap over (pair, start)): the smaller of the median paired "
    "manifold-distance differences MUSIC − VAE and linear − VAE is above 0 (the VAE nearest the training images), "
    "and the smaller of the median paired sharpness differences MUSIC − linear and MUSIC − VAE is above 0"
)


def _min_of_medians(*diffs):
    D = [np.asarray(d, dtype=np.float64) for d in diffs]
    return lambda idx: np.min(np.stack([np.nanmedian(d[idx], axis=1) for d in D]), axis=0)


def checks(rows, seed: int, boot: Bootstrap, setting: str = "default") -> list:
    """``rows``: one seed's Table 2 rows with the MUSIC, linear and VAE methods."""
    mv, vm, units = paired(rows, "music", "vae", "manifold_distance")
    lv, vl, units_l = paired(rows, "linear", "vae", "manifold_distance")
    if len(units) != len(units_l):
        raise ValueError("the Table 2 rows do not hold all three methods for the same units")
    ms, vs, _ = paired(rows, "music", "vae", "sharpness")
    ms2, ls, _ = paired(rows, "music", "linear", "sharpness")
    c = lambda *args, **kw: boot.check(NUMBER, seed, *args, setting=setting, **kw)  # noqa: E731
    return [
        c("VAE closest to the manifold", "min of median paired manifold distance, MUSIC − VAE and linear − VAE",
          _min_of_medians(mv - vm, lv - vl), len(units), ">", 0.0,
          ev("median manifold distance, VAE", np.nanmedian(vm)), ev("median manifold distance, MUSIC", np.nanmedian(mv)),
          ev("median manifold distance, linear", np.nanmedian(lv))),
        c("MUSIC sharpest", "min of median paired sharpness, MUSIC − linear and MUSIC − VAE",
          _min_of_medians(ms2 - ls, ms - vs), len(units), ">", 0.0,
          ev("median sharpness, MUSIC", np.median(ms)), ev("median sharpness, linear", np.median(ls)), ev("median sharpness, VAE", np.median(vs))),
    ]
