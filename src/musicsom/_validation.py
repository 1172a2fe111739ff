"""Input validation at the library boundary (scikit-learn style): clear ValueErrors naming the argument."""

from __future__ import annotations

import numpy as np


def check_matrix(a, name: str, ncols: int | None = None, min_rows: int = 1) -> np.ndarray:
    """Return ``a`` as a finite float64 2-D array, or raise a ValueError naming ``name``."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows × features); got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} row(s); got {arr.shape[0]}")
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least one column (feature); got shape {arr.shape}")
    if ncols is not None and arr.shape[1] != ncols:
        raise ValueError(f"{name} must have {ncols} columns to match the prototypes; got {arr.shape[1]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; clean or impute them first")
    return arr


def check_vector(v, name: str, size: int | None = None) -> np.ndarray:
    """Return ``v`` as a finite float64 1-D array, or raise a ValueError naming ``name``."""
    arr = np.asarray(v, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D vector; got shape {arr.shape}")
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{name} must have length {size} (the prototype dimension); got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_indices(idx, name: str, n: int, allow_empty: bool = False) -> np.ndarray:
    """Return ``idx`` as unique int indices into ``range(n)``, or raise a ValueError naming ``name``."""
    arr = np.atleast_1d(np.asarray(idx))
    if arr.size == 0:
        if allow_empty:
            return arr.astype(np.int64)
        raise ValueError(f"{name} is empty; give at least one prototype index")
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D array of integer prototype indices; got dtype {arr.dtype}, shape {arr.shape}")
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"{name} holds indices outside [0, {n - 1}] (there are {n} prototypes)")
    if np.unique(arr).size != arr.size:
        raise ValueError(f"{name} holds duplicate prototype indices")
    return arr.astype(np.int64)


def check_scalar(value, name: str, low=None, high=None, low_open=False, high_open=False) -> float:
    """Return ``value`` as a float within the given bounds, or raise a ValueError naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {value!r}") from None
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite; got {v}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}; got {v}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}; got {v}")
    return v


def check_int(value, name: str, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int within the given bounds, or raise a ValueError naming ``name``.

    Only integers are accepted (Python or numpy ints; not bools, not floats such as 2.5 or 3.0),
    so that a non-integral value is never truncated silently.
    """
    import numbers

    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ValueError(f"{name} must be an integer; got {value!r} ({type(value).__name__})")
    v = int(value)
    if low is not None and v < low:
        raise ValueError(f"{name} must be >= {low}; got {v}")
    if high is not None and v > high:
        raise ValueError(f"{name} must be <= {high}; got {v}")
    return v
