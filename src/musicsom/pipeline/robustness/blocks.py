"""What the robustness stages share: their config sections, and the tidy checks table of a grid block.

Every block stage (``gmm.robustness``, ``mnist.robustness``, ...) takes its part of the config's
``robustness`` section whole (``--study``), the paper's setup where its grid slices through it
(``--paper``, the section ``robustness.paper``), and the experiment's own sections (its default MUSIC
settings among them, which every grid point changes along its axes: ``Setting.music_params``). It writes
one tidy row per (setting, seed, claim, check) with the setting's axes as columns
(``musicsom.pipeline.check_records.TIDY``).
"""

from __future__ import annotations

import pandas as pd

from musicsom.experiments.robustness import AXES
from musicsom.pipeline import files
from musicsom.pipeline.check_records import add_verdict_args, tidy
from musicsom.pipeline.sections import add_section


def add_study_args(p, experiment: str, paper: bool = True) -> None:
    """``--study``: the section ``robustness.<experiment>``; ``--paper``: ``robustness.paper`` (when its grid uses it)."""
    add_section(p, "study", f"robustness.{experiment}", "the grid of this experiment's block")
    if paper:
        add_section(p, "paper", "robustness.paper", "the paper's stated setup where the grids slice through it")


def add_block_args(p, table: str | None = None, what: str = "", seed: str | None = "the seed of the map and of the starts") -> None:
    """What every block takes and writes besides its sections: the seed, the bootstrap (``--verdicts``), the tidy
    checks table (``--checks``) and its per-unit table (``--<table>``, ``what`` it holds). ``seed=None`` leaves out
    ``--seed`` (a block whose context options declare it), ``table=None`` the per-unit table."""
    if seed is not None:
        p.add_argument("--seed", type=int, required=True, help=seed)
    add_verdict_args(p)
    p.add_argument("--checks", required=True, help="the block's tidy checks table (CSV) to write")
    if table is not None:
        p.add_argument(f"--{table}", required=True, help=f"{what} (CSV) to write")


def music_at(setting, default, section: str):
    """The MUSIC settings of grid point ``setting`` (``default`` changed along its axes); a library ``ValueError``
    comes back as an :class:`~musicsom.pipeline.files.InputError` naming the study's section and the point."""
    try:
        return setting.music_params(default)
    except ValueError as exc:
        raise files.InputError(f"{section}, at {setting.name}: {exc}") from None


def dimension(text: str) -> int | str:
    """An MNIST whitening dimension as the config writes it: an integer or ``full``."""
    return text if text == "full" else int(text)


def block_table(checks_by_setting, experiment: str) -> pd.DataFrame:
    """The tidy table of one block: ``checks_by_setting`` is [(Setting, [Check, ...]), ...]."""
    frames = []
    for setting, checks in checks_by_setting:
        for c in checks:
            c.setting = setting.name
        axes = {k: setting.values.get(k, "") for k in AXES}
        frames.append(tidy(checks, experiment=experiment, is_default=setting.is_default, is_paper=setting.is_paper, **axes))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
