"""Claim 4: on MNIST, MUSIC crosses from the source to the target class earlier than linear
interpolation and spends fewer steps in a third class."""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev, mean_of, median_of

NUMBER = 4
TITLE = "MNIST: earlier crossing, fewer third-class steps"
PAPER = "MUSIC crosses from source to target class earlier than linear interpolation and spends fewer steps in a third class."
RULE = (
    "per seed, over the Table 2 trajectories (bootstrap over (pair, start)): the median paired difference of the "
    "crossing step, linear − MUSIC (a path that never crosses counts as n_steps + 1), is above 0, and the mean "
    "paired difference of third-class steps, linear − MUSIC, is above 0. The 0 -> 1 demonstration of Figs 8-10 "
    "is one trajectory: it is shown, not used to decide"
)


def paired(rows, a: str, b: str, metric: str):
    """(values of method a, values of method b) on the units (seed, pair, start) that both have; aligned."""
    keys = ["seed", "pair", "start"]
    A = rows[rows["method"] == a].set_index(keys)[metric]
    B = rows[rows["method"] == b].set_index(keys)[metric]
    common = A.index.intersection(B.index)
    return A.loc[common].to_numpy(float), B.loc[common].to_numpy(float), common


def checks(rows, seed: int, n_steps: int, boot: Bootstrap, setting: str = "default", demo: dict | None = None) -> list:
    """``rows``: one seed's Table 2 rows (seed, pair, start, method, crossing_step, third_class_steps, ...)."""
    never = n_steps + 1
    mu, li, units = paired(rows, "music", "linear", "crossing_step")
    mu, li = np.where(mu < 0, never, mu), np.where(li < 0, never, li)
    tm, tl, _ = paired(rows, "music", "linear", "third_class_steps")
    demo = demo or {}
    return [
        boot.check(NUMBER, seed, "crosses earlier", "median paired crossing step, linear − MUSIC", median_of(li - mu),
                   len(units), ">", 0.0, ev("median crossing step, MUSIC", np.median(mu)),
                   ev("median crossing step, linear", np.median(li)), ev("share of trajectories where MUSIC crosses earlier", np.mean(mu < li)),
                   ev("0 -> 1 demonstration, MUSIC crossing step", demo.get("music_crossing_step")),
                   ev("0 -> 1 demonstration, linear crossing step", demo.get("linear_crossing_step")), setting=setting),
        boot.check(NUMBER, seed, "fewer third-class steps", "mean paired third-class steps, linear − MUSIC", mean_of(tl - tm),
                   len(units), ">", 0.0, ev("mean third-class steps, MUSIC", np.mean(tm)), ev("mean third-class steps, linear", np.mean(tl)),
                   ev("0 -> 1 demonstration, MUSIC third-class steps", demo.get("music_third_class_steps")),
                   ev("0 -> 1 demonstration, linear third-class steps", demo.get("linear_third_class_steps")), setting=setting),
    ]
