"""Squared distances, best-matching units and map-quality measures, computed robustly; the BMU search of training.

Activations are *squared* Euclidean distances, ``a_k = ||x − w_k||²``, to the prototypes ``w_k``.
:mod:`musicsom.som` re-exports the public functions, so ``from musicsom.som import sq_distances``
works as it always has. This module needs numpy and scipy (threadpoolctl, if installed, inside ``fit``).

Numerics: what the functions guarantee
--------------------------------------
* The matrix-product expansion ``||x||² − 2x·w + ||w||²`` loses every digit when the data lie far
  from the origin compared with their spread (with offset/spread = 1e3, float32 finds the true BMU
  for only a third of the points). Every product-based search therefore works in a *frame*: centred
  on the mean of the reference points (the prototypes; the data in training) when that mean lies more
  than 8 RMS spreads from the origin, and divided by a power of two when magnitudes would overflow
  or underflow their squares. The ranking is invariant to a common shift and exact under a
  power-of-two scale; data already near the origin (standardised, PCA codes) are used as they are,
  so those results are unchanged. Single precision always uses the frame.
* :func:`best_matching_units` returns the exact ranking of the *direct* squared distances
  ``Σ_j (x_j − w_j)²`` (ties to the lower index): the product only screens, with a rigorous rounding
  bound; every unit that might be within that bound of the best is re-ranked directly. The result
  does not depend on ``chunk_size``, and ``best_matching_units(X, W)`` equals
  ``sq_distances(X, W).argmin(1)`` (where squared distances underflow, the ranking is still that of
  the exact values, which float64 can no longer tell apart).
* :func:`sq_distances` computes every entry directly from ``x − w``, pair by pair (the same values
  whatever the batch a row is in, accurate to a few ulps whatever the offset); a pair whose plain sum
  of squares may have overflowed or underflowed is recomputed with its difference divided by a power
  of two near its own largest component. It raises a ValueError asking to rescale when a true value
  is outside float64 (above ~1.8e308, or below ~2.2e-308 while not negligible, i.e. not below 2^-104
  times the square of that pair's coordinates; negligible ones come back as 0 or a subnormal).
* :func:`quantization_error`, the topographic error, :func:`u_matrix` and the distance map use the
  same pair-wise computation for distances (not squares), so they are accurate for any finite input
  whose distances are representable (a ValueError asks to rescale otherwise).
* The BMU search of training (:class:`_TrainingBmus`) is the unrefined product, in float64 or, on
  request, float32 (a genuine near-tie may resolve either way, which does not matter for training).
  Single precision is refused, with a warning, for data whose bulk it cannot resolve (a few far
  outliers drag the frame's centre away from the rest): the search then runs in float64.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse

from ._validation import check_int, check_matrix
from .lattice import _check_grid, _check_topology, _is_hex, _lattice_steps, _neighbour_table

_EPS = 2.0**-53  # unit roundoff of float64
_CENTRE_RATIO2 = 64.0  # centre the frame when ||mean||² > 64 · mean squared deviation (8 RMS spreads)
_DIRECT_BLOCK = 1 << 18  # entries of x − w held at once by the direct distance computation (2 MiB)
_TINY = np.finfo(np.float64).tiny


# ---------------------------------------------------------------- argument checks
def _check_chunk_size(chunk_size) -> int:
    return check_int(chunk_size, "chunk_size", low=1)


def _as_matrix(a, name: str, ncols: int | None = None, min_rows: int = 1) -> np.ndarray:
    """:func:`check_matrix`, with scikit-learn's wording for sparse, complex, 1-D, empty and too-short input."""
    if sparse.issparse(a):
        raise ValueError(f"{name} is a sparse matrix; sparse input is not supported: pass a dense array ({name}.toarray())")
    arr = np.asarray(a)
    if np.iscomplexobj(arr):
        raise ValueError(f"Complex data not supported: {name} holds complex numbers; pass a real array (e.g. its real part or modulus)")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 1:
        raise ValueError(
            f"{name} must be a 2-D array (rows × features); got a 1-D array of shape {arr.shape}. Reshape your data: "
            f"{name}.reshape(-1, 1) if it holds one feature, {name}.reshape(1, -1) if it holds one sample"
        )
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise ValueError(f"{name} has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    if arr.ndim == 2 and arr.shape[0] < min_rows:
        raise ValueError(f"{name} has {arr.shape[0]} sample(s) (shape={arr.shape}) while a minimum of {min_rows} is required.")
    return check_matrix(arr, name, ncols=ncols, min_rows=min_rows)


def _rescale_error(what: str) -> ValueError:
    return ValueError(
        f"{what} fall outside the float64 range (about 2.2e-308 to 1.8e308); rescale X and the prototypes "
        "(e.g. standardise the data, or multiply both by the same power of ten) and try again"
    )

# ---------------------------------------------------------------- frames and exact distances (private)
def _pow2_near(m: float) -> float:
    """The power of two 2**e with 2**e <= m < 2**(e + 1), for finite m > 0; no validation."""
    return math.ldexp(1.0, math.frexp(m)[1] - 1)


def _frame(A: np.ndarray, always: bool = False):
    """(centre or None, power-of-two scale) of the frame for a product-based search on points near A, or None.

    None means: use the data as they are (mean within 8 RMS spreads of the origin, moderate magnitudes).
    ``always`` (single precision) always centres on A's mean and scales to magnitudes below 2. No validation.
    """
    M = float(np.abs(A).max())
    if M == 0.0:
        return None
    p = _pow2_near(M)
    Ap = A / p  # exact: a power of two
    mu = Ap.mean(0)
    dev = Ap - mu
    dev2 = float((dev * dev).sum()) / A.shape[0]
    off2 = float(mu @ mu)
    centre = always or off2 > _CENTRE_RATIO2 * dev2
    spread = float(np.abs(dev).max()) if centre else float(np.abs(Ap).max())  # in units of p
    e_total = math.frexp(p)[1] - 1 + (math.frexp(spread)[1] - 1 if spread > 0 else 0)
    needs_scale = always or not (-400 <= e_total <= 400)
    s = math.ldexp(1.0, max(min(e_total, 1023), -1074)) if needs_scale else 1.0
    if not centre and s == 1.0:
        return None
    return (mu * p if centre else None), s


def _to_frame(A: np.ndarray, frame) -> np.ndarray:
    """A in the frame of :func:`_frame` (A itself for None); may hold inf for absurd ranges; no validation."""
    if frame is None:
        return A
    c, s = frame
    B = A if c is None else A - c
    return B / s if s != 1.0 else B


def _sumsq_diff(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Σ_j (x_ij − w_kj)² for x (m, D) and w (K, D) shared, or (m, k, D) one set per row; no validation.

    Every entry is the same sequence of operations on its own x and w, whatever m, so a row's values
    never depend on the other rows it is computed with. May hold inf or underflowed values.
    """
    m, D = x.shape
    shared = w.ndim == 2
    K = w.shape[-2]
    out = np.empty((m, K))
    step = max(1, _DIRECT_BLOCK // max(1, K * D))
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for s in range(0, m, step):
            d = x[s : s + step, None, :] - (w[None, :, :] if shared else w[s : s + step])
            np.multiply(d, d, out=d)
            out[s : s + step] = d.sum(-1)
    return out


def _sq_parts(x: np.ndarray, w: np.ndarray):
    """Squared distances ``||x_i − w_k||²`` computed directly, as (s2, E) with d² = s2 · 2**E exactly as computed; no validation.

    x (m, D); w (K, D) shared by all rows, or (m, k, D) one set per row. Most pairs come out of the
    plain sum of squares of x − w (E = 0). A pair whose plain sum may have overflowed or underflowed
    (outside [2**-800, 2**800]) is recomputed with its difference divided by a power of two near the
    difference's largest component (halving x and w first where x − w itself would overflow), so
    every pair is accurate to a few ulps whatever its magnitude. Depends only on the pair itself.
    """
    s2 = _sumsq_diff(x, w)
    E = np.zeros(s2.shape, dtype=np.int64)
    bad = ~((s2 >= 2.0**-800) & (s2 <= 2.0**800)) & (s2 != 0.0)
    zero = s2 == 0.0
    if zero.any():  # an exact zero is a true zero unless every component underflowed
        i, k = np.nonzero(zero)
        a, b = x[i], (w[k] if w.ndim == 2 else w[i, k])
        bad[i[np.any(a != b, axis=1)], k[np.any(a != b, axis=1)]] = True
    if bad.any():
        i, k = np.nonzero(bad)
        a, b = x[i], (w[k] if w.ndim == 2 else w[i, k])
        huge = np.maximum(np.abs(a).max(1), np.abs(b).max(1)) > 2.0**1020
        with np.errstate(over="ignore"):
            dd = np.where(huge[:, None], a / 2.0 - b / 2.0, a - b)  # halving is exact at these magnitudes
        top = np.abs(dd).max(1)
        _, e = np.frexp(np.where(top > 0, top, 1.0))
        ds = np.ldexp(dd, (1 - e)[:, None])  # largest component in [1, 2); tiny ones may underflow, negligibly
        s2[i, k] = np.where(top > 0, (ds * ds).sum(1), 0.0)
        E[i, k] = np.where(top > 0, 2 * (e - 1) + 2 * huge, 0)
    return s2, E


def _sq_value(s2: np.ndarray, E: np.ndarray) -> np.ndarray:
    """d² = s2 · 2**E (inf or 0/subnormal where outside float64); no validation."""
    if not E.any():
        return s2
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(s2, E)


def _distance_value(s2: np.ndarray, E: np.ndarray) -> np.ndarray:
    """d = sqrt(s2) · 2**(E/2) (E is even), representable unless d itself exceeds float64; no validation."""
    d = np.sqrt(s2)
    if not E.any():
        return d
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(d, E // 2)


def _rank(s2: np.ndarray, E: np.ndarray, idx: np.ndarray, n_best: int) -> np.ndarray:
    """The ``n_best`` entries of ``idx`` (per row) with the smallest d² = s2 · 2**E, ties to the lower index; no validation.

    Compares (exponent, mantissa) of d², so the order is exact whatever the magnitudes.
    """
    f, g = np.frexp(s2)
    expo = np.where(s2 > 0, g + E, np.iinfo(np.int64).min)
    order = np.lexsort((idx, f, expo), axis=-1)
    return np.take_along_axis(idx, order, -1)[:, :n_best]


def _bmus(X: np.ndarray, W: np.ndarray, n_best: int, chunk_size: int, with_sq: bool = False):
    """(n, n_best) indices of the nearest prototypes by direct squared distance, nearest first; no validation.

    Screens with the matrix product in the frame of W (:func:`_frame`), then re-ranks directly every
    row where a unit other than the screen's best might lie within the product's rounding bound of it
    (bound: 4·(D + 8)·u·(||x|| + max ||w||)² in the frame, covering the product, the frame's own rounding
    and the direct computation). With ``with_sq`` also returns (s2, E) of :func:`_sq_parts` for them.
    """
    n, D = X.shape
    K = W.shape[0]
    frame = _frame(W)
    Wt = _to_frame(W, frame)
    w2 = (Wt * Wt).sum(1)
    m2wT = -2.0 * Wt.T
    wmax = math.sqrt(float(w2.max()))
    gamma = 4.0 * (D + 8) * _EPS
    out = np.empty((n, n_best), dtype=np.int64)
    s2_out = np.empty((n, n_best)) if with_sq else None
    E_out = np.empty((n, n_best), dtype=np.int64) if with_sq else None
    buf = np.empty((min(chunk_size, n), K))
    for s in range(0, n, chunk_size):
        xs = X[s : s + chunk_size]
        m = xs.shape[0]
        with np.errstate(over="ignore", invalid="ignore"):
            xt = _to_frame(xs, frame)
            xn2 = (xt * xt).sum(1)
            part = buf[:m]
            np.matmul(xt, m2wT, out=part)
            part += w2
            bound = (np.sqrt(xn2) + wmax) ** 2
        if n_best == 1:
            best = part.argmin(1)[:, None]
        else:
            best = np.argpartition(part, n_best - 1, axis=1)[:, :n_best]
        kth = np.take_along_axis(part, best, 1).max(1)
        far = ~(bound < 2.0**1000) | ~np.isfinite(kth)  # the product might have overflowed: rank directly
        delta = gamma * np.where(far, 0.0, bound)
        with np.errstate(invalid="ignore"):
            n_cand = np.count_nonzero(part <= (kth + 4.0 * delta)[:, None], axis=1)
        redo = far | (n_cand > n_best)
        idx = np.sort(best, axis=1)
        if n_best > 1 and not redo.all():
            keep = np.flatnonzero(~redo)
            idx[keep] = _rank(*_sq_parts(xs[keep], W[idx[keep]]), idx[keep], n_best)
        if redo.any():
            rows = np.flatnonzero(redo)
            everyone = np.broadcast_to(np.arange(K), (rows.size, K))
            idx[rows] = _rank(*_sq_parts(xs[rows], W), everyone, n_best)
        out[s : s + m] = idx
        if with_sq:
            s2_out[s : s + m], E_out[s : s + m] = _sq_parts(xs, W[idx])
    return (out, s2_out, E_out) if with_sq else out


def _unit_distances(X: np.ndarray, W: np.ndarray, chunk_size: int):
    """(BMU index, exact Euclidean distance to it) of each row; a ValueError if a distance exceeds float64; no validation."""
    idx, s2, E = _bmus(X, W, 1, chunk_size, with_sq=True)
    d = _distance_value(s2[:, 0], E[:, 0])
    if not np.all(np.isfinite(d)):
        raise _rescale_error("some distances")
    return idx[:, 0], d


def _mean(values: np.ndarray) -> float:
    """Mean of non-negative finite values without overflow (exactly values.sum() / n when that does not overflow)."""
    top = float(values.max())
    if top < 1e300:
        return float(values.sum() / values.shape[0])
    pm = _pow2_near(top)
    return float((values / pm).sum() / values.shape[0] * pm)


def _single_blas_thread():
    """Context that runs BLAS/LAPACK on one thread (threadpoolctl, a scikit-learn dependency); no-op without it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _bmu_augmented(Xa: np.ndarray, W: np.ndarray, out: np.ndarray, bufs: list, pool) -> np.ndarray:
    """BMUs of the rows of ``Xa = [X, 1]``: one product per block with ``[−2W, ||w||²]ᵀ``, then ``argmin``; no validation.

    ``len(bufs)`` threads (``pool`` runs all but the first; each owns one buffer) take the next
    unclaimed block until none is left. Claiming blocks one at a time, rather than dealing them out
    in advance, keeps every thread busy when the machine is shared: a thread that loses its core to
    another process simply takes fewer blocks, instead of holding up the epoch with its fixed share.
    The caller has limited BLAS to one thread, so each row's product is the same whatever the thread
    count or the order in which blocks are taken.
    """
    D = W.shape[1]
    Wa = np.empty((W.shape[0], D + 1), dtype=Xa.dtype)
    Wa[:, :D] = -2.0 * W
    Wa[:, D] = (W * W).sum(1)
    # float32 multiplies by a contiguous copy of Waᵀ: OpenBLAS's plain (NN) product is 4-8 % faster
    # than the transposed (NT) one (SkylakeX kernel). float64 keeps the transposed view: the two can
    # round a product differently in its last bit, and the pipeline's recorded SOMs used the view.
    WaT = np.ascontiguousarray(Wa.T) if Xa.dtype == np.float32 else Wa.T
    block = bufs[0].shape[0]
    n_blocks = -(-Xa.shape[0] // block)
    claim = threading.Lock()
    next_block = [0]

    def work(i: int) -> None:
        buf = bufs[i]
        while True:
            with claim:
                b = next_block[0]
                next_block[0] = b + 1
            if b >= n_blocks:
                return
            rows = slice(b * block, (b + 1) * block)
            xs = Xa[rows]
            part = buf[: xs.shape[0]]
            np.matmul(xs, WaT, out=part)
            np.argmin(part, axis=1, out=out[rows])

    others = [pool.submit(work, i) for i in range(1, len(bufs))] if pool is not None else []
    work(0)
    for f in others:
        f.result()
    return out


# float32 rounds each score of its product by about 2^-22 of the squared offsets of the row and the unit
# from the frame's centre; the search gives up on it when that exceeds 2^-10 of the bulk's squared spread
_F32_OFFSET_LIMIT = 2.0**12
_F32_QUANTILE = 0.9  # the rows that must be resolved: all but the farthest tenth


def _float32_unresolved(X: np.ndarray) -> str | None:
    """Why a float32 BMU search cannot resolve the bulk of X, or None when it can; no validation.

    The float32 frame is centred on the mean of X, and each score is rounded at the scale of the
    squared offsets of the row and the unit from that centre. Most best-matching units are told apart
    at the scale of the spread of the bulk: the median squared distance of the rows to their
    coordinate-wise median, which a few far rows cannot move (unlike the mean). When 90 % of the rows
    lie within 64 such spreads of the mean (squared: 2^12), float32 rounds at most ~2^-10 of the
    spread, as with ordinary data (centred clusters; offsets and scales are taken out by the frame).
    One row 1e7 away from 1000 rows of unit spread shifts the mean by 1e4: the ratio is then ~1e8,
    and float32 can no longer rank the units near a row. Deterministic: evenly spaced rows, at most 20000.
    """
    sub = X[:: max(1, X.shape[0] // 20000)]
    top = float(np.abs(sub).max())
    if top == 0.0:
        return None
    sub = sub / _pow2_near(top)  # exact; keeps the squares below overflow whatever the magnitudes
    to_median = sub - np.median(sub, axis=0)
    spread2 = (to_median * to_median).sum(1)
    spread2 = spread2[spread2 > 0]
    if spread2.size == 0:  # the rows coincide: nothing to resolve
        return None
    to_mean = sub - sub.mean(0)
    offset2 = float(np.quantile((to_mean * to_mean).sum(1), _F32_QUANTILE))
    bulk2 = float(np.median(spread2))
    if offset2 <= _F32_OFFSET_LIMIT * bulk2:
        return None
    return (
        f"the rows' 90th-percentile distance from their mean is {math.sqrt(offset2 / bulk2):.3g} times the spread of "
        f"the bulk (the median distance of the rows to their median; float32 resolves up to {math.sqrt(_F32_OFFSET_LIMIT):.0f}): "
        "a few far rows (outliers?) pull the mean away from the rest, and single precision would round the distances "
        "of the other rows beyond their differences"
    )


class _TrainingBmus:
    """The BMU search of ``fit``: ``search(W)`` gives the (n,) BMUs of the rows of X; no validation.

    float32 is used only where it can resolve X (:func:`_float32_unresolved`; else float64, with a
    RuntimeWarning). X is put in its frame (:func:`_frame`; always for float32, else only when far
    from the origin or extreme in magnitude) and augmented with a column of ones once, in ``dtype``; each call is one
    matrix product + argmin per row block (blocks of at most ``chunk_size`` rows, sized to stay in
    cache), shared among ``n_threads`` threads. A context manager: it owns the thread pool. Returns
    the same buffer at every call.
    """

    def __init__(self, X: np.ndarray, K: int, dtype: np.dtype, chunk_size: int, n_threads: int | None):
        n, D = X.shape
        if dtype == np.float32:
            why = _float32_unresolved(X)
            if why is not None:
                # float64 then gives the float64 map exactly: correctness over the speed that was asked for
                warnings.warn(
                    f"bmu_dtype='float32' cannot resolve these data, so the BMU search of fit runs in float64: {why}. "
                    "Remove or rescale the far rows, or pass bmu_dtype='float64' (the same map, without this warning).",
                    RuntimeWarning,
                    stacklevel=3,
                )
                dtype = np.dtype(np.float64)
        self.frame = _frame(X, always=dtype == np.float32)
        Xt = _to_frame(X, self.frame)
        if self.frame is not None and not np.all(np.isfinite(Xt)):
            raise _rescale_error("the coordinates of X relative to its mean")
        self.Xa = np.empty((n, D + 1), dtype=dtype)
        self.Xa[:, :D] = Xt
        self.Xa[:, D] = 1.0
        # row blocks of about 4 MB of scores (500k float64 or 1M float32 entries): big enough for
        # BLAS to run near its peak, small enough that the argmin reads them back from cache.
        # Leave the float64 rule as it is: OpenBLAS may round a row's scores differently in blocks of
        # another height (seen for K = 900, D = 12 and 50), so it is part of the pinned float64 maps;
        # on a 2-core EPYC, blocks of 128 to 2048 rows all run within ~3 % of each other anyway
        block = max(1, min(chunk_size, n, max(256, (4_000_000 // np.dtype(dtype).itemsize) // K)))
        n_blocks = -(-n // block)
        threads = max(1, min(int(n_threads or available_cpus()), n_blocks))
        self.bufs = [np.empty((block, K), dtype=dtype) for _ in range(threads)]
        self.out = np.empty(n, dtype=np.int64)
        self.pool = ThreadPoolExecutor(threads - 1, thread_name_prefix="musicsom-som") if threads > 1 else None

    def __call__(self, W: np.ndarray) -> np.ndarray:
        return _bmu_augmented(self.Xa, W if self.frame is None else _to_frame(W, self.frame), self.out, self.bufs, self.pool)

    def __enter__(self) -> "_TrainingBmus":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown()


# ---------------------------------------------------------------- distances, BMUs and map quality
def sq_distances(X, W) -> np.ndarray:
    """(n, K) squared Euclidean distances ``||x − w||²`` of every row of X to every prototype (row of W).

    Computed directly from ``x − w`` (not by the ``||x||² − 2x·w + ||w||²`` expansion), pair by pair:
    a row's values are the same whatever the batch it comes in, and accurate to a few ulps whatever
    common offset or scale the data carry. Raises a ValueError asking to rescale when a true value is
    beyond float64: above ~1.8e308, or below ~2.2e-308 while not negligible (2^-104 or more of the
    square of that pair's largest coordinate); negligible ones come back as 0 or a subnormal.

    Examples
    --------
    The values are *squared* distances (activations), not distances:

    >>> import numpy as np
    >>> from musicsom.som import sq_distances
    >>> W = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    >>> X = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> sq_distances(X, W).tolist()                 # e.g. ||(1, 1) − (0, 0)||² = 2
    [[1.0, 2.0, 1.0], [2.0, 1.0, 2.0]]

    A common offset of 1e8 changes nothing (the expansion ||x||² − 2x·w + ||w||² would have lost
    every digit: its terms are near 2e16, where consecutive float64 numbers are 4 apart):

    >>> sq_distances(X + 1e8, W + 1e8).tolist()
    [[1.0, 2.0, 1.0], [2.0, 1.0, 2.0]]
    >>> sq_distances(X[:1], W).shape == (1, 3)     # a row's values do not depend on its batch
    True
    """
    W = _as_matrix(W, "prototypes")
    X = _as_matrix(X, "X", ncols=W.shape[1])
    s2, E = _sq_parts(X, W)
    d2 = _sq_value(s2, E)
    if not np.all(np.isfinite(d2)):
        raise _rescale_error("some squared distances")
    if E.any():
        # below float64's normal range: refused unless negligible (< 2^-104) next to its own pair's coordinates squared
        i, k = np.nonzero((d2 < _TINY) & (s2 > 0))
        if i.size:
            scale = np.maximum(np.abs(X[i]).max(1), np.abs(W[k]).max(1))
            if np.any(np.frexp(s2[i, k])[1] + E[i, k] > 2 * np.frexp(scale)[1] - 104):
                raise _rescale_error("some squared distances")
    return d2


def best_matching_units(X, W, n_best: int = 1, chunk_size: int = 8192) -> np.ndarray:
    """Indices of the ``n_best`` nearest prototypes of each row of X, nearest first: shape (n,) or (n, n_best).

    Exact: the ranking of the direct squared distances of :func:`sq_distances` (ties to the lower
    index), whatever the offset or scale of the data, and the same for every ``chunk_size`` (rows per
    block; memory about chunk_size × K floats).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.som import best_matching_units, sq_distances
    >>> W = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    >>> X = np.array([[0.9, 0.1], [0.0, 1.0], [0.1, 1.9]])
    >>> best_matching_units(X, W).tolist()          # row 1 is 1 from units 0 and 2: the tie goes to unit 0
    [1, 0, 2]
    >>> best_matching_units(X, W, n_best=2).tolist()
    [[1, 0], [0, 2], [2, 0]]
    >>> bool(np.array_equal(best_matching_units(X, W), sq_distances(X, W).argmin(1)))  # smallest squared distance
    True
    """
    W = _as_matrix(W, "prototypes")
    X = _as_matrix(X, "X", ncols=W.shape[1])
    K = W.shape[0]
    n_best = check_int(n_best, "n_best", low=1)
    if n_best > K:
        raise ValueError(f"n_best must be in [1, {K}] (the number of prototypes); got {n_best}")
    chunk_size = _check_chunk_size(chunk_size)
    out = _bmus(X, W, n_best, chunk_size)
    return out[:, 0] if n_best == 1 else out


def quantization_error(X, W, chunk_size: int = 8192) -> float:
    """Mean Euclidean distance of each sample to its BMU (exact distances; the same for every ``chunk_size``).

    Examples
    --------
    The mean of the *distances* (square roots of the activations) to the BMU:

    >>> import numpy as np
    >>> from musicsom.som import quantization_error
    >>> W = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    >>> round(quantization_error(np.array([[0.0, 0.5], [1.0, 0.3]]), W), 6)   # (0.5 + 0.3) / 2
    0.4
    """
    W = _as_matrix(W, "prototypes")
    X = _as_matrix(X, "X", ncols=W.shape[1])
    chunk_size = _check_chunk_size(chunk_size)
    _, d = _unit_distances(X, W, chunk_size)
    return _mean(d)


def topographic_error(X, W, grid_shape, topology: str = "rectangular", chunk_size: int = 8192) -> float:
    """Share of samples whose two nearest prototypes are not lattice neighbours.

    Neighbours: the 8 units at Chebyshev distance 1 on rectangular/toroidal lattices, the 6 adjacent
    units on hexagonal ones (MiniSom's definitions); tori wrap around.

    Examples
    --------
    A 1 × 3 lattice whose prototypes are folded (unit 1 at x = 2, unit 2 at x = 1): near x = 0.4 the
    two nearest units are 0 and 2, which are not lattice neighbours; near x = 1.6 they are 1 and 2:

    >>> import numpy as np
    >>> from musicsom.som import topographic_error
    >>> W = np.array([[0.0], [2.0], [1.0]])
    >>> topographic_error(np.array([[0.4], [1.6]]), W, (1, 3))
    0.5
    """
    topology = _check_topology(topology)
    W = _as_matrix(W, "prototypes")
    rows, cols = _check_grid(grid_shape, topology, n_units=W.shape[0], min_units=2)
    X = _as_matrix(X, "X", ncols=W.shape[1])
    chunk_size = _check_chunk_size(chunk_size)
    bmu2 = _bmus(X, W, 2, chunk_size)
    return float(np.mean(_lattice_steps(bmu2[:, 0], bmu2[:, 1], rows, cols, topology) > 1))


def _check_labels(labels, n: int) -> np.ndarray:
    """Labels as int64 class indices >= 0, one per sample, or a ValueError."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"labels must be a 1-D array with one entry per row of X ({n}); got shape {arr.shape}")
    if arr.dtype.kind == "f" and arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"labels must be integer class indices 0, 1, 2, ...; got dtype {arr.dtype} (encode them first)")
    if arr.size and arr.min() < 0:
        raise ValueError(
            f"labels must be class indices >= 0; got {int(arr.min())} ({int((arr < 0).sum())} sample(s)). Unlabelled "
            "samples are not skipped silently: drop them first, e.g. majority_labels(X[labels >= 0], W, labels[labels >= 0])"
        )
    return arr.astype(np.int64)


def majority_labels(X, W, labels, n_classes: int | None = None, chunk_size: int = 8192):
    """Majority label of the samples mapped to each prototype, and the hit counts per class.

    ``labels`` are class indices >= 0 (negative labels, e.g. -1 for "unlabelled", raise a ValueError:
    drop those samples first). Returns ``major`` (K,), the most frequent class of each unit's hits
    (ties to the lower class; -1 for a unit with no hits), and ``counts`` (K, n_classes).
    ``n_classes`` defaults to the largest label + 1.

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.som import majority_labels
    >>> W = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> X = np.array([[0.1, 0.0], [0.9, 0.8], [0.8, 1.0], [1.0, 0.9]])
    >>> major, counts = majority_labels(X, W, [0, 1, 1, 0])
    >>> major.tolist()                               # unit 1 and unit 2 have no hits
    [0, -1, -1, 1]
    >>> counts[3].tolist()                           # unit 3: one sample of class 0, two of class 1
    [1, 2]
    """
    W = _as_matrix(W, "prototypes")
    X = _as_matrix(X, "X", ncols=W.shape[1])
    labels = _check_labels(labels, X.shape[0])
    top = int(labels.max()) + 1
    if n_classes is None:
        n_classes = top
    else:
        n_classes = check_int(n_classes, "n_classes", low=1)
        if n_classes < top:
            raise ValueError(f"n_classes is {n_classes} but labels go up to {top - 1}; pass n_classes >= {top} (or None)")
    chunk_size = _check_chunk_size(chunk_size)
    bmu = _bmus(X, W, 1, chunk_size)[:, 0]
    counts = np.zeros((W.shape[0], n_classes), dtype=np.int64)
    np.add.at(counts, (bmu, labels), 1)
    major = np.where(counts.sum(1) > 0, counts.argmax(1), -1)
    return major, counts


def _neighbour_distance_table(W: np.ndarray, rows: int, cols: int, topology: str) -> np.ndarray:
    """(K, m) Euclidean distances of each prototype to its lattice neighbours (NaN where none); no validation."""
    nb = _neighbour_table(rows, cols, topology)
    s2, E = _sq_parts(W, W[np.maximum(nb, 0)])
    d = _distance_value(s2, E)
    if not np.all(np.isfinite(d)):
        raise _rescale_error("some distances between prototypes")
    return np.where(nb >= 0, d, np.nan)


def _neighbour_sum(d: np.ndarray) -> np.ndarray:
    """Row sums of a neighbour distance table (NaN = no neighbour), or a ValueError if a sum exceeds float64."""
    with np.errstate(over="ignore"):
        total = np.nansum(d, axis=1)
    if not np.all(np.isfinite(total)):
        raise _rescale_error("some sums of distances between prototypes")
    return total


def u_matrix(W, grid_shape, topology: str = "rectangular") -> np.ndarray:
    """(rows, cols) mean distance of each prototype to its lattice neighbours (the U-matrix).

    Rectangular/toroidal: the 4 edge-sharing neighbours (on a torus with a side of 2 the unit across
    is met in both directions and counts twice, as it always has here); hexagonal: the distinct
    adjacent units (up to 6). Tori wrap around. ``grid_shape`` must hold exactly as many units as
    there are prototypes. Distances are exact for any finite prototypes (see the module notes).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.som import u_matrix
    >>> W = np.array([[0.0], [1.0], [3.0]])          # a 1 × 3 lattice: gaps of 1 and 2
    >>> u_matrix(W, (1, 3)).tolist()
    [[1.0, 1.5, 2.0]]
    """
    topology = _check_topology(topology)
    W = _as_matrix(W, "prototypes")
    rows, cols = _check_grid(grid_shape, topology, n_units=W.shape[0])
    if _is_hex(topology):
        d = _neighbour_distance_table(W, rows, cols, topology)
        cnt = np.sum(~np.isnan(d), axis=1)
        return (_neighbour_sum(d) / np.maximum(cnt, 1)).reshape(rows, cols)
    G = W.reshape(rows, cols, -1)
    acc = np.zeros((rows, cols))
    cnt = np.zeros((rows, cols))
    for axis in (0, 1):
        for shift in (1, -1):
            nb = np.roll(G, shift, axis=axis)
            with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                d = np.linalg.norm(G - nb, axis=2)
            odd = ~((d >= 2.0**-400) & (d <= 2.0**400)) & np.any(G != nb, axis=2)  # squares may have over/underflowed
            if odd.any():
                d[odd] = _distance_value(*_sq_parts(G[odd], nb[odd][:, None, :]))[:, 0]
            valid = np.ones((rows, cols), bool)
            if topology != "toroidal":  # rolled-in edge neighbours do not exist on a flat lattice
                edge = 0 if shift == 1 else -1
                if axis == 0:
                    valid[edge, :] = False
                else:
                    valid[:, edge] = False
            with np.errstate(over="ignore"):
                acc += np.where(valid, d, 0.0)
            cnt += valid
    if not np.all(np.isfinite(acc)):
        raise _rescale_error("some distances between prototypes")
    return acc / np.maximum(cnt, 1)
