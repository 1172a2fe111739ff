"""Claim 4: on MNIST, MUSIC crosses from the source to the target class earlier than linear
interpolation and spends fewer steps in a third class.

MUSIC moves at most η per step and usually arrives long before its last frame; linear interpolation spreads its
frames evenly. Counted in steps, "earlier" and "fewer third-class steps" then compare speeds as much as paths, so
the rule compares the arms at equal progress (:mod:`musicsom.experiments.progress`, progress measured along the
decoded frames): the share of the way travelled before the first target-class frame, and the share of the way
spent in a third class. The per-step numbers are kept as context.

SESOI: 0.05 of the way for both, half the spacing of the paper's 11-frame strips (Figs 8, 9, 12: one frame per
tenth of the way). A difference under half a strip frame cannot be seen where the paper shows it. The paper's
own 0 -> 1 demonstration differs by 26 % of the way in crossing (step 87 against 139 of 200) and by 24 steps
(12 %) in third-class frames: well above the SESOI.

Units: the (pair, start) trajectories of Table 2 (10 pairs × 3 starts per seed), grouped by pair, pooled over
seeds by the hierarchical bootstrap (seeds, then pairs, then starts).
"""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev

NUMBER = 4
TITLE = "MNIST: earlier crossing, fewer third-class steps"
PAPER = "MUSIC crosses from source to target class earlier than linear interpolation and spends fewer steps in a third class."
PROGRESS_SESOI = 0.05  # half the spacing of the paper's 11-frame strips
RULE = (
    "at equal progress (share of each path's length, along the decoded frames), over the Table 2 trajectories "
    "(pooled over seeds, pairs and starts): the paired crossing progress, linear − MUSIC (a path that never "
    f"crosses counts as 1), is above 0 beyond ±{PROGRESS_SESOI:g}, and the paired share of the way spent in a third "
    f"class, linear − MUSIC, is above 0 beyond ±{PROGRESS_SESOI:g}. Per-step differences are context. The 0 -> 1 "
    "demonstration of Figs 8-10 is one trajectory: shown, not used to decide"
)


def paired(rows, a: str, b: str, metric: str):
    """(values of method a, values of method b) on the units (seed, pair, start) that both have; aligned."""
    keys = ["seed", "pair", "start"]
    A = rows[rows["method"] == a].set_index(keys)[metric]
    B = rows[rows["method"] == b].set_index(keys)[metric]
    common = A.index.intersection(B.index)
    return A.loc[common].to_numpy(float), B.loc[common].to_numpy(float), common


def pairs_of(units) -> np.ndarray:
    """The digit pair of each (seed, pair, start) unit: the group resampled above the starts."""
    return np.asarray([str(u[1]) for u in units])


def checks(rows, seed: int, n_steps: int, boot: Bootstrap, setting: str = "default", demo: dict | None = None) -> list:
    """``rows``: one seed's Table 2 rows (seed, pair, start, method, crossing_progress, third_class_share, ...)."""
    never = n_steps + 1
    demo = demo or {}
    u = lambda *a, **kw: boot.units(NUMBER, seed, *a, setting=setting, **kw)  # noqa: E731
    mp, lp, units = paired(rows, "music", "linear", "crossing_progress")
    g = pairs_of(units)
    ms, ls, _ = paired(rows, "music", "linear", "crossing_step")
    ms, ls = np.where(ms < 0, never, ms), np.where(ls < 0, never, ls)
    mt, lt, _ = paired(rows, "music", "linear", "third_class_share")
    mts, lts, _ = paired(rows, "music", "linear", "third_class_steps")
    return [
        u("crosses earlier (equal progress)", "paired crossing progress, linear − MUSIC", lp - mp,
          ev("mean crossing progress, MUSIC", np.mean(mp)), ev("mean crossing progress, linear", np.mean(lp)),
          ev("share of trajectories where MUSIC crosses earlier", np.mean(mp < lp)),
          groups=g, sesoi=PROGRESS_SESOI, unit="of the way"),
        u("fewer third-class frames (equal progress)", "paired share of the way in a third class, linear − MUSIC", lt - mt,
          ev("mean share in a third class, MUSIC", np.mean(mt)), ev("mean share in a third class, linear", np.mean(lt)),
          groups=g, sesoi=PROGRESS_SESOI, unit="of the way"),
        u("crosses earlier (per step)", "paired crossing step, linear − MUSIC (never = n_steps + 1)", ls - ms,
          ev("median crossing step, MUSIC", np.median(ms)), ev("median crossing step, linear", np.median(ls)),
          ev("0 -> 1 demonstration, MUSIC crossing step", demo.get("music_crossing_step")),
          ev("0 -> 1 demonstration, linear crossing step", demo.get("linear_crossing_step")),
          groups=g, sesoi=PROGRESS_SESOI * n_steps, unit="steps", context=True),
        u("fewer third-class steps (per step)", "paired third-class steps, linear − MUSIC", lts - mts,
          ev("mean third-class steps, MUSIC", np.mean(mts)), ev("mean third-class steps, linear", np.mean(lts)),
          ev("0 -> 1 demonstration, MUSIC third-class steps", demo.get("music_third_class_steps")),
          ev("0 -> 1 demonstration, linear third-class steps", demo.get("linear_third_class_steps")),
          groups=g, sesoi=PROGRESS_SESOI * n_steps, unit="steps", context=True),
    ]
