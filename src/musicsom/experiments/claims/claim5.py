"""Claim 5: MUSIC vs linear interpolation over the ten MNIST digit pairs of Table 2."""

from __future__ import annotations

from musicsom.experiments.claims import ev, make_check

NUMBER = 5
TITLE = "MNIST: MUSIC vs linear over the 10 pairs"
PAPER = (
    "Mean confidence not significantly different; minimum confidence higher for MUSIC on most pairs; sharpness "
    "higher for MUSIC on all pairs (significant); geodesic efficiency below 1 for MUSIC; manifold distance higher for MUSIC."
)
RULE = "per seed, Wilcoxon signed-rank on paired trajectories, Holm-adjusted across metrics (p < 0.05), win counts over pairs"


def numbers(pairs) -> dict:
    """Paired comparison MUSIC vs linear of every Table 2 metric (one seed's pair rows)."""
    from musicsom.experiments.mnist import compare_methods

    return {"music_vs_linear": compare_methods(pairs, "linear")}


def checks(nums: dict, seed: int) -> list:
    t = nums["music_vs_linear"]
    mc, mn_, sh, ge, md = (t[k] for k in ("mean_confidence", "min_confidence", "sharpness", "geodesic_efficiency", "manifold_distance"))
    return [
        make_check(NUMBER, seed, "mean confidence not significant", mc["p_holm"] >= 0.05,
                   ev("music_vs_linear mean_confidence median_music", mc["median_music"]),
                   ev("music_vs_linear mean_confidence median_linear", mc["median_linear"]),
                   ev("music_vs_linear mean_confidence p_holm", mc["p_holm"])),
        make_check(NUMBER, seed, "min confidence higher on most pairs", mn_["groups_music_higher"] > mn_["n_groups"] / 2,
                   ev("music_vs_linear min_confidence groups_music_higher", mn_["groups_music_higher"]),
                   ev("music_vs_linear min_confidence n_groups", mn_["n_groups"])),
        make_check(NUMBER, seed, "sharpness higher on all pairs", sh["groups_music_higher"] == sh["n_groups"],
                   ev("music_vs_linear sharpness groups_music_higher", sh["groups_music_higher"]),
                   ev("music_vs_linear sharpness n_groups", sh["n_groups"])),
        make_check(NUMBER, seed, "sharpness significant", sh["p_holm"] < 0.05 and sh["mean_music"] > sh["mean_linear"],
                   ev("music_vs_linear sharpness median_music", sh["median_music"]),
                   ev("music_vs_linear sharpness median_linear", sh["median_linear"]),
                   ev("music_vs_linear sharpness p_holm", sh["p_holm"])),
        make_check(NUMBER, seed, "geodesic efficiency below 1", ge["mean_music"] < 1.0,
                   ev("music_vs_linear geodesic_efficiency median_music", ge["median_music"])),
        make_check(NUMBER, seed, "manifold distance higher", md["mean_music"] > md["mean_linear"],
                   ev("music_vs_linear manifold_distance median_music", md["median_music"]),
                   ev("music_vs_linear manifold_distance median_linear", md["median_linear"]),
                   ev("music_vs_linear manifold_distance p_holm", md["p_holm"])),
    ]
