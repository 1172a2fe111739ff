"""File helpers shared by the pipeline stages (the layer that reads and writes files).

Every writer is atomic: it writes a temporary file beside the target and renames it into
place, so an interrupted job never leaves a half-written output that Snakemake would trust.
Figures are written with fixed metadata so that the same numbers give the same PNG bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import inspect
import json
import logging
import os
import re
import shlex
import signal
import socket
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger("musicsom")


class InputError(Exception):
    """A user-facing error of a stage: a missing or inconsistent input file or option.

    An ordinary exception (``except Exception`` catches it); :func:`run_main` prints it without a
    traceback and exits with status 1, as it does for the library's ``ValueError`` and the data
    layer's :class:`~musicsom.pipeline.datasets.fetch.DataError`.
    """


# the temporary file of an atomic write is named for its writer: .{name}.{pid}@{host}.{random}{suffix}
_TEMP_WRITER = re.compile(r"(\d+)@([A-Za-z0-9_-]+)\.")
# a temporary file whose writer cannot be checked (another host, or no writer in its name) is removed only once
# it has not changed for this long: a live writer never leaves its file untouched for so long between mkstemp and rename
STALE_TEMP_SECONDS = 24 * 3600


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "_", socket.gethostname()) or "host"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OverflowError:  # not a valid PID
        return False
    return True


def _stale_temporary(tmp: Path, prefix: str) -> bool:
    """Whether ``tmp`` (a ``{prefix}...`` file beside an output) was left by a writer that is gone.

    On this host: its writer's PID is not alive. Otherwise (another host, or a name without a writer):
    it has not changed for :data:`STALE_TEMP_SECONDS`. A live writer's file is never stale.
    """
    m = _TEMP_WRITER.match(tmp.name[len(prefix):])
    if m and m.group(2) == _host() and int(m.group(1)) != os.getpid():
        return not _pid_alive(int(m.group(1)))
    try:
        return time.time() - tmp.lstat().st_mtime > STALE_TEMP_SECONDS
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    The temporary file's name holds its writer's PID and host. A job killed outright (SIGKILL, a lost
    node) cannot remove its file: the next write of the same output removes it once its writer is gone
    (:func:`_stale_temporary`), and never the file of a writer still running (two runs writing one output).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}."
    for stale in path.parent.glob(f"{glob.escape(prefix)}*"):
        if _stale_temporary(stale, prefix):
            stale.unlink(missing_ok=True)
    suffix = suffix if suffix is not None else "".join(path.suffixes) or ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}@{_host()}.", suffix=suffix, dir=path.parent)
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


def damaged_file(path, kind: str) -> InputError:
    """The error for an input file that exists but cannot be read as ``kind`` (e.g. "an .npz"), with the fix.

    Snakemake trusts any file that exists and is newer than its inputs, so rerunning alone never repairs a
    truncated intermediate: it has to be deleted, and the next run rebuilds it with the rule that writes it.
    """
    path = Path(path)
    try:
        size = f"{path.stat().st_size} bytes"
    except OSError as exc:
        size = f"unreadable: {exc.strerror}"
    return InputError(
        f"{path} ({size}) is damaged: it is truncated or not {kind} written by the pipeline (a job or a copy "
        f"stopped halfway, a full disk, an edit by hand). Delete it and rerun Snakemake from the run folder, "
        f"which rebuilds it with the rule that writes it: rm {shlex.quote(str(path))} && snakemake --cores N "
        "(with the run's other options)"
    )


@contextlib.contextmanager
def _reading(path: Path, kind: str, damaged, missing: str = "run the rule that produces it first") -> Iterator[None]:
    """Read the input file ``path`` (``kind``, e.g. "an .npz") inside the block: a missing file, one that cannot be
    read, and one whose reader raises ``damaged`` (an exception class or a tuple) raise :class:`InputError` with the fix."""
    if not path.exists():
        raise InputError(f"{path} does not exist; {missing}")
    try:
        yield
    except PermissionError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror}); check its permissions") from None
    except damaged:
        raise damaged_file(path, kind) from None


def load_npz(path, required: tuple[str, ...] = ()) -> dict:
    """Load an ``.npz`` into a dict, checking that the named arrays are present.

    A missing, truncated or foreign file raises :class:`InputError` naming it and the fix (never numpy's
    ``BadZipFile`` or its advice to enable ``allow_pickle``).
    """
    path = Path(path)
    # BadZipFile / EOFError: truncated or empty; ValueError: no zip at all (numpy takes it for a pickle), or a
    # damaged array header; TypeError / AttributeError: a bare .npy array; zlib.error, OSError: a damaged member
    damaged = (OSError, ValueError, EOFError, TypeError, AttributeError, KeyError, zipfile.BadZipFile, zlib.error)
    with _reading(path, "an .npz", damaged):
        with np.load(path, allow_pickle=False) as data:
            out = {k: data[k] for k in data.files}
    missing = [k for k in required if k not in out]
    if missing:
        raise InputError(f"{path} lacks the arrays {missing}; it holds {sorted(out)}. Regenerate it.")
    return out


def load_json(path):
    """Read a JSON result file, with a clear error when the rule that makes it has not run."""
    path = Path(path)
    # JSONDecodeError, UnicodeDecodeError (ValueErrors): truncated or not JSON
    with _reading(path, "a JSON file", ValueError), open(path, encoding="utf-8") as f:
        return json.load(f)


def load_csv(path, **read_csv) -> pd.DataFrame:
    """Read a CSV (or, with ``sep``, a TSV) the pipeline wrote, with the errors of :func:`load_npz`.

    A missing file says to run the rule that writes it; a file pandas cannot parse (binary, cut inside a
    quoted field, empty, lacking a requested column) raises :class:`InputError` naming it and the fix.
    """
    path = Path(path)
    # pandas' ParserError and EmptyDataError, and UnicodeDecodeError, are ValueErrors
    with _reading(path, "a CSV file", ValueError):
        return pd.read_csv(path, **read_csv)


def save_json(path, obj) -> None:
    """Atomically write strict JSON: NaN and infinities become ``null``, numpy values plain Python ones.

    The one JSON policy of the pipeline (readers treat ``null`` as "not measured").
    """
    with atomic_path(path, suffix=".json") as tmp:
        tmp.write_text(json.dumps(json_safe(obj), indent=2, sort_keys=True, allow_nan=False) + "\n")


def json_safe(obj):
    """A copy of ``obj`` with NaN and infinite floats as None and numpy scalars and arrays as Python values."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


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


# figures for viewing (PNG) and for print (vector PDF beside it)
FIGURE_DPI = 200


def save_figure(fig, png_path, data: pd.DataFrame | None = None) -> None:
    """Save a matplotlib figure as PNG (``FIGURE_DPI``) and as vector PDF beside it, both with fixed metadata
    (same numbers, same bytes), and the numbers it plots as CSV beside them."""
    import matplotlib.pyplot as plt

    png_path = Path(png_path)
    if data is not None:
        save_csv(png_path.with_suffix(".csv"), data)
    with atomic_path(png_path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=FIGURE_DPI, metadata={"Software": None}, bbox_inches="tight")
    with atomic_path(png_path.with_suffix(".pdf"), suffix=".pdf") as tmp:
        fig.savefig(tmp, metadata={"Creator": None, "Producer": None, "CreationDate": None}, bbox_inches="tight")
    plt.close(fig)


def load_model(path, model_class):
    """A torch model saved by a training stage (``{"state_dict", "config", ...}``), in eval mode.

    ``model_class(**config)`` rebuilds the architecture; the weights are loaded with ``weights_only``.
    """
    import torch

    path = Path(path)
    # torch raises RuntimeError, UnpicklingError, EOFError, ... for a damaged file
    with _reading(path, "a torch checkpoint", Exception, missing="run the rule that trains it first"):
        ck = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ck, dict) or not {"config", "state_dict"} <= set(ck):
        raise damaged_file(path, "a torch checkpoint")
    model = model_class(**ck["config"])
    model.load_state_dict(ck["state_dict"])
    return model.eval()


def setup_matplotlib():
    """matplotlib with the non-interactive Agg backend (jobs have no display) and the pipeline's style."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # fonts embedded as TrueType (Type 42) in the PDFs: editable text, no Type 3 bitmaps
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": FIGURE_DPI, "font.size": 9, "pdf.fonttype": 42,
                         # tick labels say their values: no "1e−6+9.9916e−1" offset text on a narrow range
                         "axes.formatter.useoffset": False})
    return plt


def parser(description: str) -> argparse.ArgumentParser:
    """The argument parser of the calling stage; its usage line names the stage as it is run.

    argparse would name the file (``usage: train_som.py``); run with ``python -m`` (or ``musicsom run``),
    the stage's module is ``__main__`` and its ``__spec__`` holds the real name.
    """
    caller = inspect.currentframe().f_back.f_globals
    spec = caller.get("__spec__")
    module = spec.name if spec is not None else str(caller.get("__name__", ""))
    prog = f"python -m {module}" if module.startswith("musicsom.") else None
    return argparse.ArgumentParser(prog=prog, description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def run_main(main) -> None:
    """Run a stage's ``main(argv)``: configure logging; show user-facing errors without a traceback.

    User-facing errors are the library's ``ValueError`` (they name the argument and the fix), a stage's
    :class:`InputError` and the data layer's ``DataError``: each is printed as one ``error: ...`` line
    and the process exits with status 1. Anything else is a bug and keeps its traceback.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    # Snakemake stops a job with SIGTERM when the run is interrupted; Python's default action ends the process at
    # once, so the temporary file of an atomic write in progress stayed beside its output. Raised as SystemExit
    # instead, the `finally` of atomic_path removes it (seen: a hidden .fig07_mnist_som.png.*.png after a kill).
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        main(sys.argv[1:])
    except Exception as exc:
        # DataError can only come from a stage that imported the data layer; looking it up instead of
        # importing it keeps the data layer out of every other stage's import graph (its code inputs)
        fetch = sys.modules.get("musicsom.pipeline.datasets.fetch")
        if isinstance(exc, (ValueError, InputError)) or (fetch is not None and isinstance(exc, fetch.DataError)):
            raise SystemExit(f"error: {exc}") from None
        raise
