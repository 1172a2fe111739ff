"""Claim 6: the VAE stays closest to the data manifold; MUSIC gives the sharpest frames."""

from __future__ import annotations

from musicsom.experiments.claims import ev, make_check

NUMBER = 6
TITLE = "MNIST: VAE closest to the manifold, MUSIC sharpest"
PAPER = "The VAE stays closest to the data manifold; MUSIC is sharpest."
RULE = (
    "per seed, on the 0 -> 1 demonstration and on the Table 2 means: the VAE has the smallest manifold "
    "distance and MUSIC the highest Laplacian sharpness of the three methods"
)
METHODS = ("music", "linear", "vae")


def numbers(transition: dict, pairs) -> dict:
    from musicsom.experiments.mnist import compare_methods

    demo = {m: {k: transition["methods"][m][k] for k in ("manifold_distance", "sharpness", "mean_confidence")} for m in METHODS}
    means = pairs.groupby("method")[["manifold_distance", "sharpness", "mean_confidence"]].mean()
    return {"demo": demo, "pairs_mean": {m: means.loc[m].to_dict() for m in means.index}, "music_vs_vae": compare_methods(pairs, "vae")}


def _lowest(d, key, m):
    return all(d[m][key] < d[o][key] for o in d if o != m)


def _highest(d, key, m):
    return all(d[m][key] > d[o][key] for o in d if o != m)


def checks(nums: dict, seed: int) -> list:
    demo, allm, vs = nums["demo"], nums["pairs_mean"], nums["music_vs_vae"]
    return [
        make_check(NUMBER, seed, "demo vae closest to manifold", _lowest(demo, "manifold_distance", "vae"),
                   *(ev(f"demo {m} manifold_distance", demo[m]["manifold_distance"]) for m in METHODS)),
        make_check(NUMBER, seed, "demo music sharpest", _highest(demo, "sharpness", "music"),
                   *(ev(f"demo {m} sharpness", demo[m]["sharpness"]) for m in METHODS)),
        make_check(NUMBER, seed, "pairs vae closest to manifold", _lowest(allm, "manifold_distance", "vae"),
                   ev("music_vs_vae manifold_distance median_music", vs["manifold_distance"]["median_music"]),
                   ev("music_vs_vae manifold_distance median_vae", vs["manifold_distance"]["median_vae"])),
        make_check(NUMBER, seed, "pairs music sharpest", _highest(allm, "sharpness", "music"),
                   ev("music_vs_vae sharpness median_music", vs["sharpness"]["median_music"]),
                   ev("music_vs_vae sharpness median_vae", vs["sharpness"]["median_vae"])),
    ]
