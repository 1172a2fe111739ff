"""A batch self-organising map on a rectangular or toroidal lattice (float64 numpy, no file I/O).

The batch rule: each epoch assigns every sample to its best-matching unit (BMU), then sets each
prototype to the neighbourhood-weighted mean of the samples, ``W = H S / (H n)``, where ``S`` holds
the per-unit sums, ``n`` the per-unit counts and ``H`` the Gaussian lattice kernel whose width
decays geometrically from ``sigma_start`` to ``sigma_end``. Distances use the matrix-product
expansion ``||x||² − 2 x·w + ||w||²`` in chunks of rows, so memory stays bounded (60k × 900 fits
in a few tens of MB).

Speed (docs/benchmarks.md): the BMU search of an epoch is one matrix product per chunk,
``[x, 1] · [−2w, ||w||²]ᵀ`` (the ``||x||²`` term does not change the ranking), written into a
reused buffer and reduced by ``argmin``, so an epoch costs little more than its ``2·N·K·(D+1)``
flops. The Gaussian lattice kernel factorises over the two lattice axes, ``H = H_rows ⊗ H_cols``,
so the update applies two small 1-D kernels instead of a K × K one. Row blocks are shared
among threads (BLAS single-threaded meanwhile), see :meth:`SOM.fit`. ``bmu_dtype="float32"``
runs only the BMU search in single precision (about twice as fast; prototypes and sums stay
float64; near-ties may then resolve differently, so the map is not bit-for-bit the float64 one).
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ._validation import check_matrix

TOPOLOGIES = ("rectangular", "toroidal")


# ---------------------------------------------------------------- lattice geometry
def lattice_coordinates(grid_shape: tuple[int, int]) -> np.ndarray:
    """(K, 2) integer (row, col) coordinates of the units, row-major (unit k = row * cols + col)."""
    rows, cols = grid_shape
    r, c = np.divmod(np.arange(rows * cols), cols)
    return np.stack([r, c], axis=1)


def _axis_offsets(n: int, toroidal: bool) -> np.ndarray:
    d = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
    return np.minimum(d, n - d) if toroidal else d


def lattice_sq_distances(grid_shape: tuple[int, int], topology: str = "rectangular") -> np.ndarray:
    """(K, K) squared Euclidean lattice distances between units; wraps around on a torus."""
    _check_topology(topology)
    rows, cols = grid_shape
    tor = topology == "toroidal"
    dr = _axis_offsets(rows, tor)
    dc = _axis_offsets(cols, tor)
    # unit k = (k // cols, k % cols): combine the two axes with a Kronecker-style broadcast
    d2 = dr[:, None, :, None] ** 2 + dc[None, :, None, :] ** 2
    return d2.reshape(rows * cols, rows * cols).astype(np.float64)


def lattice_ring(unit: int, n: int, grid_shape: tuple[int, int], topology: str = "rectangular") -> np.ndarray:
    """Units within Chebyshev lattice distance ``n`` of ``unit`` (the n-ring), excluding ``unit`` itself."""
    rows, cols = grid_shape
    tor = topology == "toroidal"
    r0, c0 = divmod(int(unit), cols)
    coords = lattice_coordinates(grid_shape)
    dr = np.abs(coords[:, 0] - r0)
    dc = np.abs(coords[:, 1] - c0)
    if tor:
        dr = np.minimum(dr, rows - dr)
        dc = np.minimum(dc, cols - dc)
    mask = np.maximum(dr, dc) <= n
    mask[unit] = False
    return np.flatnonzero(mask)


def _check_topology(topology: str) -> None:
    if topology not in TOPOLOGIES:
        raise ValueError(f"topology must be one of {TOPOLOGIES}; got {topology!r}")


def _check_chunk_size(chunk_size) -> int:
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1; got {chunk_size}")
    return chunk_size


def _gaussian_1d(n: int, sigma: float, toroidal: bool) -> np.ndarray:
    """(n, n) Gaussian kernel of one lattice axis; the 2-D kernel is the Kronecker product of two."""
    d = _axis_offsets(n, toroidal).astype(np.float64)
    return np.exp(-(d * d) / (2.0 * sigma**2))


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
    """BMUs of the rows of ``Xa = [X, 1]``: one product per block with ``[−2W, ||w||²]ᵀ``, then ``argmin``.

    Blocks are dealt round-robin to ``len(bufs)`` threads (``pool`` runs all but the first); each
    thread owns one buffer. The caller has limited BLAS to one thread, so the threads do not fight
    over cores and each row's product is the same whatever the thread count.
    """
    D = W.shape[1]
    Wa = np.empty((W.shape[0], D + 1), dtype=Xa.dtype)
    Wa[:, :D] = -2.0 * W
    Wa[:, D] = (W * W).sum(1)
    WaT = Wa.T  # a transposed view: BLAS reads it as is
    block = bufs[0].shape[0]
    starts = range(0, Xa.shape[0], block)

    def work(i: int) -> None:
        buf = bufs[i]
        for s in starts[i :: len(bufs)]:
            xs = Xa[s : s + block]
            part = buf[: xs.shape[0]]
            np.matmul(xs, WaT, out=part)
            np.argmin(part, axis=1, out=out[s : s + block])

    others = [pool.submit(work, i) for i in range(1, len(bufs))] if pool is not None else []
    work(0)
    for f in others:
        f.result()
    return out


# ---------------------------------------------------------------- distances and BMUs
def sq_distances(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """(n, K) squared distances ``||x − w||²`` by the matrix-product expansion (clipped at 0)."""
    d2 = (X * X).sum(1)[:, None] - 2.0 * X @ W.T + (W * W).sum(1)[None, :]
    return np.maximum(d2, 0.0, out=d2)


def best_matching_units(X, W, n_best: int = 1, chunk_size: int = 8192) -> np.ndarray:
    """Indices of the ``n_best`` nearest prototypes for each row of X: shape (n,) or (n, n_best)."""
    W = check_matrix(W, "prototypes")
    X = check_matrix(X, "X", ncols=W.shape[1])
    n_best = int(n_best)
    if not 1 <= n_best <= W.shape[0]:
        raise ValueError(f"n_best must be in [1, {W.shape[0]}] (the number of prototypes); got {n_best}")
    chunk_size = _check_chunk_size(chunk_size)
    w2 = (W * W).sum(1)
    m2wT = -2.0 * W.T  # scaling by −2 is exact, so x·(−2w) + ||w||² equals ||w||² − 2 x·w bit for bit
    out = np.empty((X.shape[0], n_best), dtype=np.int64)
    buf = np.empty((min(chunk_size, X.shape[0]), W.shape[0]))
    for s in range(0, X.shape[0], chunk_size):
        # ||x||² is constant per row, so the ranking only needs ||w||² − 2 x·w
        xs = X[s : s + chunk_size]
        part = buf[: xs.shape[0]]
        np.matmul(xs, m2wT, out=part)
        part += w2
        if n_best == 1:
            out[s : s + chunk_size, 0] = part.argmin(1)
        else:
            idx = np.argpartition(part, n_best - 1, axis=1)[:, :n_best]
            order = np.take_along_axis(part, idx, 1).argsort(1)
            out[s : s + chunk_size] = np.take_along_axis(idx, order, 1)
    return out[:, 0] if n_best == 1 else out


def quantization_error(X, W, chunk_size: int = 8192) -> float:
    """Mean Euclidean distance of each sample to its BMU."""
    W = check_matrix(W, "prototypes")
    X = check_matrix(X, "X", ncols=W.shape[1])
    chunk_size = _check_chunk_size(chunk_size)
    total = 0.0
    for s in range(0, X.shape[0], chunk_size):
        total += np.sqrt(sq_distances(X[s : s + chunk_size], W).min(1)).sum()
    return total / X.shape[0]


def topographic_error(X, W, grid_shape, topology: str = "rectangular", chunk_size: int = 8192) -> float:
    """Share of samples whose two nearest prototypes are not lattice neighbours (8-neighbourhood)."""
    _check_topology(topology)
    rows, cols = (int(v) for v in grid_shape)
    if rows * cols != np.asarray(W).shape[0] or rows * cols < 2:
        raise ValueError(f"grid_shape {tuple(grid_shape)} must hold as many units as prototypes ({np.asarray(W).shape[0]}), at least 2")
    bmu2 = best_matching_units(X, W, n_best=2, chunk_size=chunk_size)
    coords = lattice_coordinates(grid_shape)
    d = np.abs(coords[bmu2[:, 0]] - coords[bmu2[:, 1]])
    if topology == "toroidal":
        d = np.minimum(d, np.asarray(grid_shape)[None, :] - d)
    return float(np.mean(d.max(1) > 1))


def majority_labels(X, W, labels, n_classes: int | None = None, chunk_size: int = 8192):
    """Majority label of the samples mapped to each prototype (-1 for units with no hits), and the hit counts per class."""
    labels = np.asarray(labels).astype(np.int64)
    if labels.shape[0] != np.asarray(X).shape[0]:
        raise ValueError(f"labels must have one entry per row of X; got {labels.shape[0]} vs {np.asarray(X).shape[0]}")
    n_classes = int(labels.max()) + 1 if n_classes is None else n_classes
    bmu = best_matching_units(X, W, chunk_size=chunk_size)
    counts = np.zeros((W.shape[0], n_classes), dtype=np.int64)
    np.add.at(counts, (bmu, labels), 1)
    major = np.where(counts.sum(1) > 0, counts.argmax(1), -1)
    return major, counts


def u_matrix(W, grid_shape, topology: str = "rectangular") -> np.ndarray:
    """(rows, cols) mean distance of each prototype to its 4 lattice neighbours."""
    W = check_matrix(W, "prototypes")
    rows, cols = grid_shape
    G = W.reshape(rows, cols, -1)
    acc = np.zeros((rows, cols))
    cnt = np.zeros((rows, cols))
    for axis in (0, 1):
        for shift in (1, -1):
            nb = np.roll(G, shift, axis=axis)
            d = np.linalg.norm(G - nb, axis=2)
            valid = np.ones((rows, cols), bool)
            if topology != "toroidal":  # rolled-in edge neighbours do not exist on a flat lattice
                edge = 0 if shift == 1 else -1
                if axis == 0:
                    valid[edge, :] = False
                else:
                    valid[:, edge] = False
            acc += np.where(valid, d, 0.0)
            cnt += valid
    return acc / np.maximum(cnt, 1)


# ---------------------------------------------------------------- the map
@dataclass
class SOM:
    """Batch SOM. ``fit(X)`` sets ``prototypes_`` (K × D), row-major over ``grid_shape``.

    Parameters
    ----------
    grid_shape : (rows, cols) of the lattice.
    topology : "rectangular" or "toroidal" (the lattice wraps around in both directions).
    epochs : number of batch epochs.
    sigma_start, sigma_end : neighbourhood width (in lattice units) at the first and last epoch;
        decays geometrically. ``sigma_start=None`` means half the larger side.
    init : "pca" (lattice spanned by the two leading principal axes) or "random" (random samples).
    random_state : seed for the random initialisation (and nothing else: PCA init is deterministic).
    chunk_size : rows per distance block of the BMU, QE and TE helpers (memory: chunk_size × K floats);
        ``fit`` uses blocks of at most this many rows, sized to stay in cache (about 500k entries).
    bmu_dtype : "float64" (default) or "float32": precision of the BMU search only (see the module notes).
    n_threads : threads of the BMU search in ``fit`` (None = the CPUs this process may use). BLAS runs
        single-threaded inside ``fit`` and the row blocks are shared among these threads instead.
    """

    grid_shape: tuple[int, int] = (10, 10)
    topology: str = "rectangular"
    epochs: int = 20
    sigma_start: float | None = None
    sigma_end: float = 1.0
    init: str = "pca"
    random_state: int = 0
    chunk_size: int = 8192
    bmu_dtype: str = "float64"
    n_threads: int | None = None
    prototypes_: np.ndarray | None = field(default=None, init=False, repr=False)
    history_: list = field(default_factory=list, init=False, repr=False)

    def _validate(self, X):
        _check_topology(self.topology)
        rows, cols = (int(v) for v in self.grid_shape)
        if rows < 1 or cols < 1 or rows * cols < 2:
            raise ValueError(f"grid_shape must hold at least 2 units; got {self.grid_shape}")
        if self.init not in ("pca", "random"):
            raise ValueError(f"init must be 'pca' or 'random'; got {self.init!r}")
        if int(self.epochs) < 1:
            raise ValueError(f"epochs must be >= 1; got {self.epochs}")
        if self.bmu_dtype not in ("float64", "float32"):
            raise ValueError(f"bmu_dtype must be 'float64' or 'float32'; got {self.bmu_dtype!r}")
        _check_chunk_size(self.chunk_size)
        if self.n_threads is not None and int(self.n_threads) < 1:
            raise ValueError(f"n_threads must be None (all CPUs) or >= 1; got {self.n_threads}")
        if self.sigma_end <= 0 or (self.sigma_start is not None and self.sigma_start < self.sigma_end):
            raise ValueError(f"need 0 < sigma_end <= sigma_start; got {self.sigma_start}, {self.sigma_end}")
        X = check_matrix(X, "X", min_rows=2)
        if self.init == "random" and X.shape[0] < rows * cols:
            raise ValueError(f"random init needs at least as many samples ({X.shape[0]}) as units ({rows * cols})")
        return X, (rows, cols)

    def initial_prototypes(self, X, grid_shape) -> np.ndarray:
        rows, cols = grid_shape
        K = rows * cols
        if self.init == "random":
            rng = np.random.default_rng(self.random_state)
            return X[rng.choice(X.shape[0], K, replace=False)].copy()
        mean = X.mean(0)
        # leading principal axes via SVD of a bounded subsample (deterministic: evenly spaced rows)
        sub = X[:: max(1, X.shape[0] // 20000)] - mean
        with _single_blas_thread():  # multi-threaded OpenBLAS is ~15× slower on this tall-skinny SVD here
            _, s, vt = np.linalg.svd(sub, full_matrices=False)
        scale = s[:2] / np.sqrt(sub.shape[0])
        if vt.shape[0] < 2:
            vt = np.vstack([vt, np.zeros_like(vt)])
            scale = np.append(scale, 0.0)
        coords = lattice_coordinates(grid_shape).astype(float)
        u = np.linspace(-1, 1, rows)[coords[:, 0].astype(int)] if rows > 1 else np.zeros(K)
        v = np.linspace(-1, 1, cols)[coords[:, 1].astype(int)] if cols > 1 else np.zeros(K)
        # the longer lattice side follows the leading axis
        a, b = (u, v) if rows >= cols else (v, u)
        return mean + 2.0 * (a[:, None] * scale[0] * vt[0] + b[:, None] * scale[1] * vt[1])

    def sigmas(self, grid_shape) -> np.ndarray:
        start = self.sigma_start if self.sigma_start is not None else max(grid_shape) / 2.0
        n = int(self.epochs)
        if n == 1:
            return np.array([float(self.sigma_end)])
        return start * (self.sigma_end / start) ** (np.arange(n) / (n - 1))

    def fit(self, X, callback=None) -> "SOM":
        """Train on X (n × D). ``callback(epoch, sigma, W)`` is called after each epoch if given.

        While it trains, BLAS is limited to one thread (restored afterwards) and the BMU search runs on
        ``n_threads`` Python threads instead: on a shared machine this is several times faster than
        multi-threaded BLAS on these skinny products, and the result does not depend on the thread count.
        """
        X, grid_shape = self._validate(X)
        W = self.initial_prototypes(X, grid_shape)
        n, D = X.shape
        K = W.shape[0]
        # BMU search: X augmented with a column of ones once; one matrix product + argmin per block
        dtype = np.dtype(self.bmu_dtype)
        Xa = np.empty((n, D + 1), dtype=dtype)
        Xa[:, :D] = X
        Xa[:, D] = 1.0
        block = max(1, min(int(self.chunk_size), n, max(256, 500_000 // K)))
        n_blocks = -(-n // block)
        threads = max(1, min(int(self.n_threads or available_cpus()), n_blocks))
        bufs = [np.empty((block, K), dtype=dtype) for _ in range(threads)]
        bmu = np.empty(n, dtype=np.int64)
        indptr = np.arange(n + 1)
        ones = np.ones(n)
        self.history_ = []
        pool = ThreadPoolExecutor(threads - 1, thread_name_prefix="musicsom-som") if threads > 1 else None
        try:
            with _single_blas_thread():
                W = self._epochs(X, Xa, W, grid_shape, bmu, bufs, pool, indptr, ones, callback)
        finally:
            if pool is not None:
                pool.shutdown()
        self.prototypes_ = W
        self.grid_shape = grid_shape
        return self

    def _epochs(self, X, Xa, W, grid_shape, bmu, bufs, pool, indptr, ones, callback):
        rows, cols = grid_shape
        tor = self.topology == "toroidal"
        n, D = X.shape
        K = W.shape[0]
        for epoch, sigma in enumerate(self.sigmas(grid_shape)):
            _bmu_augmented(Xa, W, bmu, bufs, pool)
            # one-hot assignment (n × K, one entry per row); its transpose sums the samples per unit
            hits = sparse.csr_matrix((ones, bmu, indptr), shape=(n, K))
            sums = np.asarray(hits.T @ X)  # (K, D) per-unit sums
            counts = np.bincount(bmu, minlength=K).astype(np.float64)
            # separable neighbourhood: H = H_rows ⊗ H_cols, applied along each lattice axis
            h_r = _gaussian_1d(rows, sigma, tor)
            h_c = _gaussian_1d(cols, sigma, tor)
            denom = (h_r @ counts.reshape(rows, cols) @ h_c).ravel()
            numer = (h_c @ (h_r @ sums.reshape(rows, cols * D)).reshape(rows, cols, D)).reshape(K, D)
            ok = denom > 1e-12 * max(denom.max(), 1e-300)
            W = np.where(ok[:, None], numer / np.where(ok, denom, 1.0)[:, None], W)
            self.history_.append({"epoch": epoch, "sigma": float(sigma)})
            if callback is not None:
                callback(epoch, sigma, W)
        return W

    # conveniences on the fitted map
    def _W(self):
        if self.prototypes_ is None:
            raise ValueError("this SOM is not fitted yet; call fit(X) first")
        return self.prototypes_

    def bmu(self, X):
        return best_matching_units(X, self._W(), chunk_size=self.chunk_size)

    def quantization_error(self, X):
        return quantization_error(X, self._W(), self.chunk_size)

    def topographic_error(self, X):
        return topographic_error(X, self._W(), self.grid_shape, self.topology, self.chunk_size)
