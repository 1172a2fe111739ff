"""Claim 4: on MNIST, MUSIC crosses from the source to the target class earlier than linear
interpolation and spends fewer steps in a third class."""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import ev, make_check
from musicsom.stats import wilcoxon_paired

NUMBER = 4
TITLE = "MNIST: earlier crossing, fewer third-class steps"
PAPER = "MUSIC crosses from source to target class earlier than linear interpolation and spends fewer steps in a third class."
RULE = (
    "per seed: on the 0 -> 1 demonstration and pooled over the Table 2 pairs, MUSIC's crossing step is earlier "
    "(median over trajectories; a path that never crosses counts as n_steps + 1) and its third-class steps fewer "
    "(mean over trajectories) than linear interpolation's"
)


def numbers(transition: dict, pairs, n_steps: int) -> dict:
    """The claim's numbers for one seed: the 0 -> 1 demonstration (``transition['methods']``) and the pooled pairs."""
    demo = transition["methods"]
    never = n_steps + 1

    def crossing(s):
        return np.where(s < 0, never, s)

    P = pairs.pivot(index=["pair", "start"], columns="method", values=["crossing_step", "third_class_steps", "crossing_fraction"])
    cm, cl = crossing(P["crossing_step"]["music"].to_numpy()), crossing(P["crossing_step"]["linear"].to_numpy())
    tm_, tl = P["third_class_steps"]["music"].to_numpy(), P["third_class_steps"]["linear"].to_numpy()
    return {
        "demo": {
            f"{m}_{k}": demo[m][k]
            for m in ("music", "linear", "vae") for k in ("crossing_step", "commit_step", "crossing_fraction", "third_class_steps", "label_sequence")
        },
        "pairs": {
            "n_trajectories": int(cm.size),
            "median_crossing_step_music": float(np.median(cm)), "median_crossing_step_linear": float(np.median(cl)),
            "share_music_crosses_earlier": float(np.mean(cm < cl)), "p_crossing_step": wilcoxon_paired(cm, cl)[1],
            "median_crossing_fraction_music": float(np.nanmedian(P["crossing_fraction"]["music"])),
            "median_crossing_fraction_linear": float(np.nanmedian(P["crossing_fraction"]["linear"])),
            "share_never_crossed_music": float(np.mean(cm == never)), "share_never_crossed_linear": float(np.mean(cl == never)),
            "mean_third_class_steps_music": float(tm_.mean()), "mean_third_class_steps_linear": float(tl.mean()),
            "share_music_fewer_third": float(np.mean(tm_ < tl)), "p_third_class_steps": wilcoxon_paired(tm_, tl)[1],
        },
    }


def checks(nums: dict, seed: int, n_steps: int) -> list:
    d, p = nums["demo"], nums["pairs"]
    never = n_steps + 1
    music_cross = d["music_crossing_step"]
    linear_cross = d["linear_crossing_step"] if d["linear_crossing_step"] >= 0 else never
    return [
        make_check(NUMBER, seed, "demo crosses earlier", 0 <= music_cross < linear_cross,
                   ev("demo music crossing step", d["music_crossing_step"]), ev("demo linear crossing step", d["linear_crossing_step"])),
        make_check(NUMBER, seed, "demo fewer third class steps", d["music_third_class_steps"] < d["linear_third_class_steps"],
                   ev("demo music third class steps", d["music_third_class_steps"]),
                   ev("demo linear third class steps", d["linear_third_class_steps"])),
        make_check(NUMBER, seed, "pairs cross earlier", p["median_crossing_step_music"] < p["median_crossing_step_linear"],
                   ev("pairs median crossing step music", p["median_crossing_step_music"]),
                   ev("pairs median crossing step linear", p["median_crossing_step_linear"]),
                   ev("pairs share music crosses earlier", p["share_music_crosses_earlier"])),
        make_check(NUMBER, seed, "pairs fewer third class steps", p["mean_third_class_steps_music"] < p["mean_third_class_steps_linear"],
                   ev("pairs mean third class steps music", p["mean_third_class_steps_music"]),
                   ev("pairs mean third class steps linear", p["mean_third_class_steps_linear"])),
    ]
