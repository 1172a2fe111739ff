"""MNIST and Fashion-MNIST: read the IDX files (gzip or not), check shapes and counts.

Both datasets share the file names and the IDX format (LeCun et al.): a big-endian header with a
magic number (2051 for images, 2049 for labels) and the dimensions, then unsigned bytes.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from .fetch import _FROM_ENV, GROUPS, FormatError, fetch_file

#: config name of the dataset -> its folder in the registry / mirror
DIGIT_DATASETS = {"mnist": "mnist", "fashion_mnist": "fashion-mnist"}
N_TRAIN, N_TEST, SIDE, N_CLASSES = 60_000, 10_000, 28, 10
_MAGIC = {2051: 3, 2049: 1}  # images (n, rows, cols), labels (n,)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file of unsigned bytes (``.gz`` is decompressed); check its header against its size."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise FormatError(f"{path} does not exist; fetch it first (python -m musicsom.fetch_digits)") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise FormatError(f"{path} is not a readable IDX file ({type(exc).__name__}: {exc}); fetch it again") from None
    if len(raw) < 8:
        raise FormatError(f"{path} is too short ({len(raw)} bytes) to be an IDX file; fetch it again")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in _MAGIC:
        raise FormatError(f"{path} has IDX magic number {magic}, expected 2051 (images) or 2049 (labels)")
    ndim = _MAGIC[magic]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header + int(np.prod(shape)):
        raise FormatError(
            f"{path} holds {len(raw) - header} data bytes but its header announces shape {shape} "
            f"({int(np.prod(shape))} bytes): the file is truncated or corrupt; fetch it again"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


def load_digits(raw_dir: str | os.PathLike, dataset: str = "mnist", *, check_counts: bool = True) -> dict[str, np.ndarray]:
    """Load MNIST or Fashion-MNIST from ``raw_dir/<mnist|fashion-mnist>/*.gz``.

    Returns ``x_train`` (60000, 28, 28) uint8, ``y_train`` (60000,) int64, ``x_test`` (10000, 28, 28),
    ``y_test`` (10000,) int64 and ``dataset`` (0-d str array). The counts, the image size and the label
    range are checked (``check_counts=False`` skips the fixed counts, for small test fixtures).
    """
    if dataset not in DIGIT_DATASETS:
        raise ValueError(f"unknown digits dataset {dataset!r}; choose one of {sorted(DIGIT_DATASETS)}")
    folder = Path(raw_dir) / DIGIT_DATASETS[dataset]
    out = {}
    for split, n in (("train", N_TRAIN), ("t10k", N_TEST)):
        x = read_idx(folder / f"{split}-images-idx3-ubyte.gz")
        y = read_idx(folder / f"{split}-labels-idx1-ubyte.gz").astype(np.int64)
        key = "train" if split == "train" else "test"
        if x.ndim != 3 or x.shape[1:] != (SIDE, SIDE):
            raise FormatError(f"{dataset} {key} images have shape {x.shape}, expected (n, {SIDE}, {SIDE})")
        if len(x) != len(y):
            raise FormatError(f"{dataset} {key}: {len(x)} images but {len(y)} labels")
        if check_counts and len(x) != n:
            raise FormatError(f"{dataset} {key} holds {len(x)} images, expected {n:,}")
        if y.size and (y.min() < 0 or y.max() >= N_CLASSES):
            raise FormatError(f"{dataset} {key} labels span {y.min()}..{y.max()}, expected 0..{N_CLASSES - 1}")
        out[f"x_{key}"], out[f"y_{key}"] = x, y
    out["dataset"] = np.array(dataset)
    return out


def fetch_digits(raw_dir: str | os.PathLike, dataset: str = "mnist", mirror=_FROM_ENV, *, progressbar: bool = True) -> dict[str, np.ndarray]:
    """Fetch (verified) and load MNIST or Fashion-MNIST; see :func:`load_digits`."""
    if dataset not in DIGIT_DATASETS:
        raise ValueError(f"unknown digits dataset {dataset!r}; choose one of {sorted(DIGIT_DATASETS)}")
    for name in GROUPS[dataset]:
        fetch_file(name, raw_dir, mirror, progressbar=progressbar)
    return load_digits(raw_dir, dataset)
