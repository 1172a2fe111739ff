"""What the sensitivity study's block stages share: their config sections, MUSIC at a point, and the block file.

Every block stage (``gmm.robustness``, ``mnist.robustness``, ``mnist.robustness_dim``, ``mnist.robustness_sweeps``,
``kmeans.robustness``, ``faces.robustness``) takes its part of the config's ``robustness`` section whole
(``--study``) and the experiment's own sections (its default MUSIC settings among them, which each point changes
along its one axis: ``Setting.music_params``). It runs every point of its grid except the default (the default
run's own checks are the default point: ``robustness.collect`` reads them) for one seed and writes one block file
(:func:`save_block`): the grid's points, the sample each point ran at beside the headline's, and every check with
its units (``check_records``' records), so that the study pools seeds exactly as the report does.
"""

from __future__ import annotations

from musicsom.experiments.claims import check_to_dict
from musicsom.experiments.robustness import Setting
from musicsom.pipeline import files
from musicsom.pipeline.check_records import add_verdict_args, load_checks
from musicsom.pipeline.sections import add_section


def add_study_args(p, section: str, what: str = "the grid of this block") -> None:
    """``--study``: the section ``robustness.<section>``, whole."""
    add_section(p, "study", f"robustness.{section}", what)


def add_block_args(p, table: str | None = None, what: str = "", seed: str | None = "the seed of the map and of the starts") -> None:
    """What every block takes and writes besides its sections: the seed, the bootstrap (``--verdicts``), the block
    file (``--checks``) and its per-unit table (``--<table>``, ``what`` it holds). ``seed=None`` leaves out
    ``--seed`` (a block whose context options declare it), ``table=None`` the per-unit table."""
    if seed is not None:
        p.add_argument("--seed", type=int, required=True, help=seed)
    add_verdict_args(p)
    p.add_argument("--checks", required=True, help="the block file (JSON: its points, their sample, every check with its units) to write")
    if table is not None:
        p.add_argument(f"--{table}", required=True, help=f"{what} (CSV) to write")


def music_at(setting: Setting, default, section: str):
    """The MUSIC settings of point ``setting`` (``default`` moved along its axis); a library ``ValueError``
    comes back as an :class:`~musicsom.pipeline.files.InputError` naming the study's section and the point."""
    try:
        return setting.music_params(default)
    except ValueError as exc:
        raise files.InputError(f"{section}, at {setting.name}: {exc}") from None


def dimension(text: str) -> int | str:
    """An MNIST whitening dimension as the config writes it: an integer, ``full`` or ``var<percent>``."""
    text = str(text)
    return int(text) if text.isdigit() else text


def sample(what: str, claims, study: int, headline: int) -> dict:
    """One line of a block's sample: ``what`` is counted (e.g. start images per digit pair), for which claims, how
    many each point ran with (``study``) and how many the headline run uses (``headline``)."""
    return {"what": what, "claims": sorted(int(c) for c in claims), "study": int(study), "headline": int(headline)}


def save_block(path, experiment: str, seed: int, blocks, samples: list[dict], extra: dict | None = None) -> None:
    """Write one block file: ``blocks`` is [(Setting, [Check, ...]), ...] (each check's ``setting`` is set to its
    point's name), ``samples`` the lines of :func:`sample`; ``extra`` adds keys (e.g. the D of this block)."""
    points, checks = [], []
    for setting, cs in blocks:
        if setting.is_default:
            raise ValueError("a block runs the points off the default: the default run's own checks are the default point")
        points.append(setting.as_dict())
        for c in cs:
            c.setting = setting.name
            checks.append(check_to_dict(c))
    files.save_json(path, {"experiment": experiment, "seeds": [int(seed)], "samples": samples, "settings": points,
                           "checks": checks, **(extra or {})})


def load_block(path) -> tuple[dict, list[Setting], list]:
    """A block file: (its header: experiment, seeds, samples and any extra keys; its points; its checks)."""
    d = files.load_json(path)
    if not isinstance(d, dict) or "settings" not in d or "samples" not in d:
        raise files.InputError(f"{path} is not a block file of the sensitivity study (no 'settings' or 'samples'); rerun its "
                               "robustness rule")
    try:
        settings = [Setting.from_dict(s) for s in d["settings"]]
    except ValueError as exc:
        raise files.InputError(f"{path}: {exc}") from None
    header = {k: v for k, v in d.items() if k not in ("settings", "checks")}
    return header, settings, load_checks(path)
