"""File helpers shared by the stage command-line entries (the only place that writes files).

Every writer is atomic: it writes a temporary file beside the target and renames it into
place, so an interrupted job never leaves a half-written output that Snakemake would trust.
Figures are written with fixed metadata so that the same numbers give the same PNG bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

log = logging.getLogger("musicsom")


class InputError(SystemExit):
    """A user-facing error: bad input data, paths or parameters. Printed without a traceback."""

    def __init__(self, message: str):
        super().__init__(f"error: {message}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix if suffix is not None else "".join(path.suffixes) or ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        if tmp.exists():  # mkstemp makes 0600 files; give outputs the usual umask-based mode
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def save_npz(path, **arrays) -> None:
    """Atomically write a compressed ``.npz`` (e.g. a trained SOM: prototypes, grid_shape, topology)."""
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)


def load_npz(path, required: tuple[str, ...] = ()) -> dict:
    """Load an ``.npz`` into a dict, checking that the named arrays are present."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist; run the rule that produces it first")
    with np.load(path, allow_pickle=False) as data:
        out = {k: data[k] for k in data.files}
    missing = [k for k in required if k not in out]
    if missing:
        raise InputError(f"{path} lacks the arrays {missing}; it holds {sorted(out)}. Regenerate it.")
    return out


def load_json(path):
    """Read a JSON result file, with a clear error when the rule that makes it has not run."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist; run the rule that produces it first")
    with open(path) as f:
        return json.load(f)


def save_json(path, obj) -> None:
    with atomic_path(path, suffix=".json") as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o)}")


def save_csv(path, frame: pd.DataFrame) -> None:
    with atomic_path(path, suffix=".csv") as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")


def markdown_table(frame: pd.DataFrame, float_format: str = "{:.4g}") -> str:
    """Render a DataFrame as a GitHub Markdown table (no extra dependency)."""

    def fmt(v):
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else float_format.format(v)
        return str(v)

    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(fmt(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def save_table(csv_path, frame: pd.DataFrame, title: str | None = None, notes: str | None = None) -> None:
    """Write a table as CSV and, beside it, the same table rendered as Markdown (``.md``)."""
    csv_path = Path(csv_path)
    save_csv(csv_path, frame)
    md = ""
    if title:
        md += f"# {title}\n\n"
    md += markdown_table(frame)
    if notes:
        md += "\n" + notes.strip() + "\n"
    with atomic_path(csv_path.with_suffix(".md"), suffix=".md") as tmp:
        tmp.write_text(md)


def save_figure(fig, png_path, data: pd.DataFrame | None = None) -> None:
    """Save a matplotlib figure as PNG (fixed metadata) and the numbers it plots as CSV beside it."""
    import matplotlib.pyplot as plt

    png_path = Path(png_path)
    if data is not None:
        save_csv(png_path.with_suffix(".csv"), data)
    with atomic_path(png_path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)


def setup_matplotlib():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 110, "font.size": 9})
    return plt


def parser(description: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)


def add_music_args(p: argparse.ArgumentParser, *, kappa: bool = True, ring: bool = True) -> None:
    """The MUSIC hyperparameters as options of a trajectory stage (its rule passes each from the config).

    ``kappa=False`` for stages whose targets set their own change (free evolution); ``ring=False`` for
    stages that always preserve every other prototype.
    """
    p.add_argument("--alpha", type=float, required=True, help="attraction vs preservation, in [0, 1]")
    p.add_argument("--lam", type=float, required=True, help="Tikhonov weight λ > 0")
    if kappa:
        p.add_argument("--kappa", type=float, required=True, help="fractional reduction of the target's squared distance per step, (0, 1]")
    p.add_argument("--eta", type=float, required=True, help="trust radius (latent units)")
    p.add_argument("--per-row-mean", choices=["true", "false"], default="false", help="divide each energy term by its row count")
    if ring:
        p.add_argument("--preserve-ring", type=int, default=0, help="0 = preserve every other prototype; n = the n-ring of the BMU")


def music_params(a: argparse.Namespace, **override):
    """The validated :class:`~musicsom.music.MusicParams` of options added by :func:`add_music_args`."""
    from .music import MusicParams

    kw = dict(alpha=a.alpha, lam=a.lam, eta=a.eta, per_row_mean=a.per_row_mean == "true")
    if hasattr(a, "kappa"):
        kw["kappa"] = a.kappa
    if getattr(a, "preserve_ring", 0):
        kw["preserve_ring"] = a.preserve_ring
    kw.update(override)
    return MusicParams(**kw).validate()


def run_main(main) -> None:
    """Run a stage's ``main(argv)``: configure logging; show user-facing errors without a traceback."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        main(sys.argv[1:])
    except ValueError as exc:  # validation errors from the library name the argument and the fix
        raise SystemExit(f"error: {exc}") from None
