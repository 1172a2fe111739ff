"""Helpers shared by the robustness stages: the grid option, and the tidy checks table of a grid block.

Every block stage takes ``--grid`` (JSON: that experiment's part of the config's ``robustness`` section,
the default MUSIC settings and the paper's setup, as the rule passes them) and writes one tidy row per
(setting, seed, claim, check) with the setting's axes as columns (``musicsom.pipeline._claims.TIDY``).
"""

from __future__ import annotations

import json

import pandas as pd

from musicsom.experiments.robustness import AXES
from musicsom.pipeline import _io
from musicsom.pipeline._claims import tidy


def add_grid_args(p) -> None:
    p.add_argument("--grid", required=True, help="JSON: the grid section, the default MUSIC settings and the paper's setup")


def parse_grid(a) -> dict:
    try:
        g = json.loads(a.grid)
    except json.JSONDecodeError as exc:
        raise _io.InputError(f"--grid is not valid JSON ({exc})") from None
    for key in ("grid", "music"):
        if key not in g:
            raise _io.InputError(f"--grid lacks its {key!r} part")
    return g


def block_table(checks_by_setting, experiment: str) -> pd.DataFrame:
    """The tidy table of one block: ``checks_by_setting`` is [(Setting, [Check, ...]), ...]."""
    frames = []
    for setting, checks in checks_by_setting:
        for c in checks:
            c.setting = setting.name
        axes = {k: setting.values.get(k, "") for k in AXES}
        frames.append(tidy(checks, experiment=experiment, is_default=setting.is_default, is_paper=setting.is_paper, **axes))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def music_kw(setting, base: dict) -> dict:
    """``MusicParams`` keywords at a grid point, from the default values ``base`` (alpha, lam, kappa, eta, per_row_mean)."""
    kw = setting.music(base)
    return {k: kw[k] for k in ("alpha", "lam", "kappa", "eta", "per_row_mean", "preserve_ring") if k in kw}
