"""Claim 9 (beyond the paper): MUSIC on unstructured prototypes (k-means) moves less stably than on a SOM."""

from __future__ import annotations

from musicsom.experiments.claims import ev, make_check

NUMBER = 9
TITLE = "k-means prototypes give unstable motion (beyond the paper)"
PAPER = "Unstructured prototypes such as k-means give unstable, uninterpretable MUSIC motion (asserted in §6, not shown)."
RULE = (
    "per seed, on the MNIST Table 2 trajectories run on both prototype sets: SOM step continuity higher than "
    "k-means (median paired difference > 0, Holm-adjusted Wilcoxon p < 0.05) and SOM geodesic efficiency higher "
    "(median paired difference > 0)"
)
METRICS = ["continuity", "geodesic_efficiency", "mean_confidence", "min_confidence", "sharpness"]
KEYS = ["seed", "pair", "start"]


def numbers(music_rows) -> dict:
    """Paired comparison SOM vs k-means over one seed's MUSIC rows (column ``prototypes`` in {som, kmeans})."""
    from musicsom.stats import paired_comparison

    comp = paired_comparison(music_rows, METRICS, "prototypes", "som", "kmeans", KEYS, group_col="pair")
    return {
        f"{r.metric}_{k}": float(getattr(r, k))
        for r in comp.itertuples()
        for k in ("median_som", "median_kmeans", "median_diff", "p_holm", "groups_som_higher", "n_groups")
    }


def checks(m: dict, seed: int) -> list:
    return [
        make_check(NUMBER, seed, "SOM motion significantly more continuous",
                   m["continuity_median_diff"] > 0 and m["continuity_p_holm"] < 0.05,
                   ev("continuity median, SOM", m["continuity_median_som"]), ev("continuity median, k-means", m["continuity_median_kmeans"]),
                   ev("continuity Holm p", m["continuity_p_holm"])),
        make_check(NUMBER, seed, "SOM paths straighter", m["geodesic_efficiency_median_diff"] > 0,
                   ev("geodesic efficiency median, SOM", m["geodesic_efficiency_median_som"]),
                   ev("geodesic efficiency median, k-means", m["geodesic_efficiency_median_kmeans"])),
    ]
