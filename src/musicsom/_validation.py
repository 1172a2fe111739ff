"""Input validation at the library boundary (scikit-learn style): clear ValueErrors naming the argument;
the not-fitted error, the feature names and the scikit-learn protocol the estimators share."""

from __future__ import annotations

import sys

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


def check_bool(value, name: str) -> bool:
    """Return ``value`` as a bool (Python or numpy bools only), or raise a ValueError naming ``name``.

    A string such as ``"false"`` is truthy in Python; refusing it avoids a silent inversion of intent.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r} ({type(value).__name__})")
    return bool(value)


def check_edges(edges, n: int) -> np.ndarray:
    """Return ``edges`` as a unique (E, 2) int array of undirected edges ``i < j`` between ``n`` prototypes.

    Raises a ValueError naming ``edges`` for a wrong shape or dtype, an index outside ``[0, n − 1]``
    or a self loop ``(i, i)``. Duplicates (also ``(j, i)`` next to ``(i, j)``) are merged.
    """
    arr = np.asarray(edges)
    if arr.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"edges must be an (E, 2) array of prototype index pairs; got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"edges must hold integer prototype indices; got dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"edges holds indices outside [0, {n - 1}] (there are {n} prototypes)")
    loops = arr[:, 0] == arr[:, 1]
    if loops.any():
        i = int(arr[loops][0, 0])
        raise ValueError(f"edges holds self loops such as ({i}, {i}); an edge must join two different prototypes")
    arr = np.sort(arr.astype(np.int64), axis=1)
    return np.unique(arr, axis=0)


# ---------------------------------------------------------------- fitted estimators (SOM, ActivationInverter)
class NotFittedError(ValueError, AttributeError):
    """A method of a :class:`SOM` that needs ``fit`` first was called before it.

    A ValueError (like every error of this module) and an AttributeError; once scikit-learn is
    imported it is also raised as a ``sklearn.exceptions.NotFittedError``.
    """

    def __reduce__(self):
        return (_not_fitted_error, (self.args[0] if self.args else "",))


NotFittedError.__module__ = "musicsom.som"  # its public home (tracebacks, pickles and the docs name it there)
_NOT_FITTED_CLASSES: dict = {}


def _not_fitted_error(message: str) -> NotFittedError:
    """The NotFittedError to raise: also scikit-learn's when scikit-learn is loaded (it is never imported here)."""
    skl = sys.modules.get("sklearn.exceptions")
    base = getattr(skl, "NotFittedError", None)
    if base is None or issubclass(NotFittedError, base):
        return NotFittedError(message)
    cls = _NOT_FITTED_CLASSES.get(base)
    if cls is None:
        cls = type("NotFittedError", (NotFittedError, base), {"__module__": NotFittedError.__module__, "__doc__": NotFittedError.__doc__})
        _NOT_FITTED_CLASSES[base] = cls
    return cls(message)


def _not_fitted(estimator) -> NotFittedError:
    """The NotFittedError of ``estimator`` used before ``fit`` (scikit-learn's message)."""
    return _not_fitted_error(
        f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with appropriate arguments before using this method."
    )


class _FittedTransformer:
    """scikit-learn's estimator protocol for a float64 transformer fitted once ``prototypes_`` is set (mixin)."""

    def __sklearn_tags__(self):
        """scikit-learn's estimator tags: a float64 transformer of 2-D arrays, no target (only scikit-learn calls this)."""
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(preserves_dtype=["float64"]),
            input_tags=InputTags(two_d_array=True),
        )

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "prototypes_")


# ---------------------------------------------------------------- feature names (scikit-learn's convention)
def _feature_names(X) -> np.ndarray | None:
    """The column names of X as an object array when X has a ``columns`` attribute of strings (a DataFrame), else None.

    Duck-typed (pandas is never imported). Columns that are not strings (e.g. a DataFrame's default
    0, 1, 2, ...) mean "no names", as in scikit-learn; a mix of strings and other types is refused.
    """
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(columns, (str, bytes)):
        return None
    try:
        names = np.asarray(list(columns), dtype=object)
    except TypeError:  # not an iterable of names
        return None
    if names.ndim != 1 or names.size == 0:
        return None
    is_str = np.array([isinstance(v, str) for v in names])
    if is_str.all():
        return names
    if is_str.any():
        kinds = sorted({type(v).__name__ for v in names})
        raise ValueError(
            f"X has column names of several types {kinds}; feature names are only used when all of them are strings: "
            "convert them (e.g. X.columns = X.columns.astype(str)), or pass a plain array"
        )
    return None


# ---------------------------------------------------------------- numerics shared by the core (private; no validation)
# Sums of squares are exact to round-off while they stay in [_SQ_LO, inf): below it, squared components
# may have underflowed into subnormals. Rows outside that range are recomputed with power-of-two scaling.
_SQ_LO = 2.0**-968


def _pow2_exponent(m):
    """Exponent ``e`` (int array or int) with ``m · 2**-e`` in [0.5, 1) for positive finite ``m`` (0 where m is 0)."""
    return np.frexp(m)[1]


def _stable_sq_norms(R):
    """Squared Euclidean norms along the last axis as ``(S, e)`` with ``||r||² = S · 4**e``; private, no validation.

    Rows whose plain sum of squares is finite and at least ``_SQ_LO`` (every row of ordinary data) are the
    plain ``(R * R).sum(-1)`` with ``e = 0``, bit for bit; the others are recomputed from the row scaled by a
    power of two (exact), so that the squares neither overflow nor underflow. Raises a ValueError when a
    row holds an infinite component (an overflowed difference).
    """
    R = np.asarray(R, dtype=np.float64)
    lead = R.shape[:-1]
    R2 = R.reshape(-1, R.shape[-1])
    with np.errstate(over="ignore", under="ignore"):
        S = (R2 * R2).sum(-1)
    e = np.zeros(S.shape, dtype=np.int64)
    bad = ~(S >= _SQ_LO) | (S == np.inf)
    if np.any(bad):
        Rb = R2[bad]
        m = np.abs(Rb).max(-1) if Rb.shape[-1] else np.zeros(Rb.shape[0])
        if not np.all(np.isfinite(m)):
            raise ValueError("a difference x − w overflows float64 (|x − w| > 1.8e308); rescale the inputs and prototypes")
        eb = np.where(m > 0, _pow2_exponent(m), 0).astype(np.int64)
        Rs = np.ldexp(Rb, eb[:, None].astype(np.int32) * -1)
        S[bad] = (Rs * Rs).sum(-1)
        e[bad] = eb
    return S.reshape(lead), e.reshape(lead)


def _stable_norms(R):
    """Euclidean norms along the last axis, free of overflow and underflow (see :func:`_stable_sq_norms`)."""
    S, e = _stable_sq_norms(R)
    return np.ldexp(np.sqrt(S), e.astype(np.int32))
