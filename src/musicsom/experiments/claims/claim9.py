"""Claim 9 (beyond the paper): MUSIC on unstructured prototypes (k-means) moves less stably than on a SOM."""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev, median_of

NUMBER = 9
TITLE = "k-means prototypes give unstable motion (beyond the paper)"
PAPER = "Unstructured prototypes such as k-means give unstable, uninterpretable MUSIC motion (asserted in §6, not shown)."
RULE = (
    "per seed, on the MNIST Table 2 MUSIC trajectories run on both prototype sets (same K, encoding, starts and "
    "settings; bootstrap over (pair, start)): the median paired step continuity SOM − k-means is above 0 and the "
    "median paired geodesic efficiency SOM − k-means is above 0"
)
KEYS = ["seed", "pair", "start"]
METRICS = ["continuity", "geodesic_efficiency", "mean_confidence", "min_confidence", "sharpness"]


def checks(music_rows, seed: int, boot: Bootstrap, setting: str = "default") -> list:
    """``music_rows``: one seed's MUSIC rows of both arms (column ``prototypes`` in {som, kmeans})."""
    som = music_rows[music_rows["prototypes"] == "som"].set_index(KEYS)
    km = music_rows[music_rows["prototypes"] == "kmeans"].set_index(KEYS)
    common = som.index.intersection(km.index)
    out = []
    for metric, name in (("continuity", "SOM motion more continuous"), ("geodesic_efficiency", "SOM paths straighter")):
        a, b = som.loc[common, metric].to_numpy(float), km.loc[common, metric].to_numpy(float)
        out.append(boot.check(NUMBER, seed, name, f"median paired {metric.replace('_', ' ')}, SOM − k-means", median_of(a - b),
                              len(common), ">", 0.0, ev(f"median {metric.replace('_', ' ')}, SOM", np.nanmedian(a)),
                              ev(f"median {metric.replace('_', ' ')}, k-means", np.nanmedian(b)), setting=setting))
    return out
