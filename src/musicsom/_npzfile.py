"""Private: the one writer and reader of the library's ``.npz`` saves (``SOM.save``/``load``, ``ActivationInverter.save``/``load``).

Not part of the public API (the leading underscore): the classes that save call it, users call their
``save``/``load``. Needs only numpy and the standard library.

A save is described by a :class:`SaveFormat`: what is saved (``"SOM"``, ``"ActivationInverter"``, which
names it in every message), the format name stored in the file, its version and the arrays every save
of it holds. Guarantees:

* :func:`save` writes exactly at the path given (no ``.npz`` appended), a ``.npz`` archive whose
  ``format`` (numpy unicode) and ``format_version`` (int64) arrays come first; it writes a temporary file
  in the same folder and renames it into place (``os.replace``), so an interrupted save never leaves a
  half-written file under that name, and a failed one leaves no temporary file. Object arrays are
  refused: nothing is ever pickled (strings are numpy unicode arrays, :func:`strings`).
* :func:`load` reads with ``allow_pickle=False``. A missing or unreadable file raises the OSError of
  ``open`` (FileNotFoundError, PermissionError); a path that is no path, a ValueError. Every other
  problem (an empty file, a single ``.npy``, not a zip, a truncated or corrupt archive, object arrays,
  no format name and version, another format or version, missing arrays, zip members that are no
  ``.npy`` arrays, and whatever the caller's ``restore`` refuses with a ValueError) raises a ValueError
  ``"<path> is not a readable <what> save: <problem>"``, without a chained traceback and never with
  numpy's advice to allow pickles.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass
from typing import Callable, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class SaveFormat:
    """What a kind of save is: ``what`` names it in messages, ``name`` and ``version`` are stored in
    the file, ``keys`` are the arrays every such save holds (besides ``format`` and ``format_version``)."""

    what: str
    name: str
    version: int
    keys: tuple[str, ...]


def file_path(path) -> str:
    """``path`` (str, bytes or os.PathLike) as a str, or a ValueError saying what a path is."""
    try:
        return os.fsdecode(os.fspath(path))
    except TypeError:
        raise ValueError(f"path must be a file path (str or os.PathLike); got {type(path).__name__}") from None


# ---------------------------------------------------------------- writing
def strings(values) -> np.ndarray:
    """``values`` as a numpy unicode vector (stored without pickle, unlike an object array)."""
    return np.array([str(v) for v in values], dtype=str)


def save(path, fmt: SaveFormat, arrays: dict) -> str:
    """Write ``arrays`` (with the format name and version of ``fmt``) to ``path`` atomically; returns the path as a str."""
    target = file_path(path)
    header = {"format": np.array(fmt.name), "format_version": np.array(fmt.version, dtype=np.int64)}
    contents = {**header, **{key: np.asarray(value) for key, value in arrays.items()}}
    missing = [key for key in fmt.keys if key not in contents]
    objects = [key for key, value in contents.items() if value.dtype.hasobject]
    if missing:  # programming errors of the caller: a save that load would refuse
        raise ValueError(f"{fmt.what}.save must write the arrays {missing}")
    if objects:
        raise ValueError(f"{fmt.what}.save must not write object arrays (they would be pickled): {objects}")
    partial = f"{target}.partial-{os.getpid()}"
    try:
        with open(partial, "wb") as f:
            np.savez(f, **contents)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):  # a failed write leaves nothing behind
            os.remove(partial)
    return target


# ---------------------------------------------------------------- reading
def load(path, fmt: SaveFormat, restore: Callable[[dict], T]) -> T:
    """``restore(arrays)`` of the checked arrays of the ``fmt`` save at ``path`` (module notes for the errors).

    ``restore`` builds the object from the arrays, raising a ValueError that says which one is wrong;
    :func:`load` prefixes that message with the file's name and the kind of save it should be.
    """
    source = file_path(path)
    try:
        arrays = _read(source, fmt.what)
        _check_header(arrays, fmt)
        missing = [key for key in fmt.keys if key not in arrays]
        if missing:
            raise ValueError(f"it lacks the array(s) {missing} (it holds {sorted(arrays)})")
        others = [key for key, value in arrays.items() if not isinstance(value, np.ndarray)]
        if others:  # np.load gives the raw bytes of a zip member that is no .npy file
            raise ValueError(f"its entries {others} are not .npy arrays")
        return restore(arrays)
    except ValueError as e:
        raise ValueError(f"{source} is not a readable {fmt.what} save: {e}") from None


def _read(path: str, what: str) -> dict:
    """Every array of the .npz archive at ``path``, read without pickle, or a ValueError saying what is wrong."""
    with open(path, "rb") as f:  # a missing file is an OSError, not a damaged one
        head = f.read(8)
    if not head:
        raise ValueError("the file is empty")
    if head.startswith(b"\x93NUMPY"):
        raise ValueError("it holds a single .npy array, not a .npz archive")
    if not head.startswith(b"PK"):  # what np.load would try to unpickle: say what it is not instead
        raise ValueError(f"it is not a .npz (zip) archive (it starts with {head!r})")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except ValueError as e:
        if "pickle" in str(e):  # numpy's words would advise allow_pickle, which a reader of saves never uses
            raise ValueError(f"an array in it holds Python objects (pickled data), which no {what} save holds: "
                             "object arrays are never loaded") from None
        raise ValueError(f"an array in it cannot be read ({e})") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise ValueError(f"the archive is damaged or truncated ({type(e).__name__}: {e})") from None


def _check_header(arrays: dict, fmt: SaveFormat) -> None:
    if "format" not in arrays or "format_version" not in arrays:
        raise ValueError(f"it has no format name and version: not a file written by {fmt.what}.save")
    name = text(arrays, "format")
    if name != fmt.name:
        raise ValueError(f"its format is {name!r}, not {fmt.name!r}")
    version = integer(arrays, "format_version")
    if version != fmt.version:
        raise ValueError(f"it has format version {version}; this musicsom reads version {fmt.version} "
                         "(upgrade musicsom, or save it again with the musicsom that wrote it)")


def text(arrays: dict, key: str) -> str:
    """The string stored as ``arrays[key]`` (a 0-d unicode array), or a ValueError."""
    value = arrays[key]
    if not (isinstance(value, np.ndarray) and value.dtype.kind == "U" and value.ndim == 0):
        raise ValueError(f"{key} should be a string; got {getattr(value, 'dtype', type(value))}")
    return str(value)


def integer(arrays: dict, key: str) -> int:
    """The integer stored as ``arrays[key]`` (a 0-d integer array), or a ValueError."""
    value = arrays[key]
    if not (isinstance(value, np.ndarray) and value.dtype.kind in "iu" and value.ndim == 0):
        raise ValueError(f"{key} should be an integer; got {getattr(value, 'dtype', type(value))}")
    return int(value)


def names(arrays: dict, key: str, n: int) -> np.ndarray | None:
    """The ``n`` strings stored as ``arrays[key]`` as an object array of str (None when absent), or a ValueError."""
    value = arrays.get(key)
    if value is None:
        return None
    if not (value.dtype.kind == "U" and value.shape == (n,)):
        raise ValueError(f"{key} should be {n} strings; got dtype {value.dtype}, shape {value.shape}")
    return np.asarray(value.tolist(), dtype=object)
