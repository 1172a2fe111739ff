"""Image-space metrics of interpolation frames (paper §5.3.3-5.3.5). Pure numpy; no file I/O.

- Laplacian sharpness: the variance of the discrete 4-neighbour Laplacian over an image's interior.
- Manifold distance: the mean Euclidean distance of a frame to its ``k`` nearest training images.
  A provable lower bound (a rank-96 projection plus the remainder's norm, scored by a narrow float32
  matrix product with a rigorous round-off allowance) rules out almost every training image; the few
  survivors are measured exactly in float64, so a training image is at distance 0.
- Classifier-confidence helpers on a (T+1, C) matrix of class probabilities along a trajectory:
  confidence (max probability), predicted labels, crossing step, label sequence, steps spent in a
  class that is neither the source nor the target, the strongest such "third" class.

Examples
--------
>>> import numpy as np
>>> from musicsom.image_metrics import laplacian_sharpness, label_sequence
>>> checker = (np.indices((6, 6)).sum(0) % 2).astype(float)
>>> laplacian_sharpness(np.stack([checker, np.ones((6, 6))])).round(6).tolist()   # sharp, flat
[16.0, 0.0]
>>> label_sequence([0, 0, 8, 1, 1])
'0x2 8x1 1x2'
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "laplacian",
    "laplacian_sharpness",
    "KnnIndex",
    "knn_distance",
    "confidence",
    "crossing_step",
    "commit_step",
    "label_runs",
    "label_sequence",
    "third_class_steps",
    "strongest_third",
]


# ---------------------------------------------------------------- sharpness
def _as_images(images) -> np.ndarray:
    a = np.asarray(images, dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or min(a.shape[1:]) < 3:
        raise ValueError(f"images must be (n, H, W) or (H, W) with H, W >= 3; got shape {np.shape(images)}")
    return a


def laplacian(images) -> np.ndarray:
    """Discrete Laplacian ``x[i−1,j] + x[i+1,j] + x[i,j−1] + x[i,j+1] − 4 x[i,j]`` over the interior: (n, H−2, W−2).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.image_metrics import laplacian
    >>> img = np.zeros((5, 5)); img[2, 2] = 1.0
    >>> laplacian(img)[0].tolist()                    # (H−2, W−2) interior of one image
    [[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]
    """
    a = _as_images(images)
    return a[:, :-2, 1:-1] + a[:, 2:, 1:-1] + a[:, 1:-1, :-2] + a[:, 1:-1, 2:] - 4.0 * a[:, 1:-1, 1:-1]


def laplacian_sharpness(images) -> np.ndarray:
    """Variance of the discrete Laplacian per image: (n,) (a constant image gives 0).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.image_metrics import laplacian_sharpness
    >>> laplacian_sharpness(np.ones((4, 4))).tolist()                  # a constant image
    [0.0]
    >>> checker = (np.indices((6, 6)).sum(0) % 2).astype(float)        # Laplacian ±4 everywhere inside
    >>> laplacian_sharpness(checker).round(6).tolist()
    [16.0]
    >>> blurred = (checker[:-1, :-1] + checker[1:, 1:] + checker[:-1, 1:] + checker[1:, :-1]) / 4
    >>> bool(laplacian_sharpness(blurred)[0] < laplacian_sharpness(checker)[0])
    True
    """
    L = laplacian(images)
    return L.reshape(L.shape[0], -1).var(1)


# ---------------------------------------------------------------- manifold distance
_U32 = 2.0**-24  # unit round-off of float32
_U64 = 2.0**-53  # unit round-off of float64
_BIG = np.float32(np.finfo(np.float32).max / 8)  # score of the padding rows: never below a threshold


def _gamma(n: int, u: float) -> float:
    """Higham's γ_n = n·u / (1 − n·u): a sum of n products in any order errs by at most γ_n · Σ|products|."""
    return n * u / (1.0 - n * u)


def _sq_dist(q64: np.ndarray, R32: np.ndarray) -> np.ndarray:
    """``Σ (q − r)²`` of one float64 query against float32 rows, in float64, always by the same einsum
    (a contiguous row reduction), so that every path gives bit-identical values."""
    diff = q64 - R32.astype(np.float64)
    return np.einsum("ij,ij->i", diff, diff)


def _orthonormal(V: np.ndarray) -> np.ndarray:
    """CholeskyQR2: the orthonormal factor of a full-rank (d, r) float64 basis (same span)."""
    from scipy.linalg import solve_triangular

    for _ in range(2):
        L = np.linalg.cholesky(V.T @ V)
        V = solve_triangular(L, V.T, lower=True).T
    return V


class KnnIndex:
    """Exact k-nearest-neighbour distances to a fixed reference set (the training images, flattened).

    The reference is held once, in float32 (60,000 MNIST images take 188 MB). A distance is "exact"
    when measured in float64 arithmetic on the float32 values, so a query equal to a reference row is
    at distance exactly 0; :meth:`query` returns the ``k`` smallest such distances, the same numbers a
    brute-force float64 scan of every reference row would give.

    How: a cheap, provable *lower bound* of every squared distance rules out almost every reference
    row, and only the survivors are measured exactly. The bound projects onto the ``rank`` leading
    principal axes of the reference and keeps the norm of the remainder (see :meth:`_bound_space`);
    it is scored for a block of ``chunk`` queries at once by one float32 matrix product of width
    ``rank + 2`` (instead of the full dimension), with a rigorous float32/float64 error allowance, so
    no true neighbour can be lost to round-off (the argument is in :meth:`_chunk`). Identical query
    rows are measured once. ``chunk`` bounds the (chunk × n_ref) block of bound scores; the bound
    space (~1 s for MNIST, a float64 projection of every row) is built on the first query.

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.image_metrics import KnnIndex
    >>> index = KnnIndex(np.array([[0.0, 0.0], [0.0, 1.0], [3.0, 4.0]]))
    >>> index.query(np.array([[3.0, 4.0]]), k=2).round(6).tolist()    # itself (exactly 0), then sqrt(18)
    [[0.0, 4.242641]]
    """

    #: blocks of the bound scores whose minima pick the first k' distinct candidates (an upper bound on the k-th distance)
    _BLOCKS = 1024

    def __init__(self, reference, chunk: int = 256, rank: int = 96):
        R = np.asarray(reference)
        if R.ndim < 1 or R.shape[0] < 1:
            raise ValueError(f"reference must hold at least one row; got shape {R.shape}")
        R = R.reshape(R.shape[0], -1).astype(np.float32)
        if R.shape[1] < 1 or not np.all(np.isfinite(R)):
            raise ValueError("reference must hold at least one finite row")
        if int(rank) < 1:
            raise ValueError(f"rank must be >= 1; got {rank}")
        self.ref = R
        self.ref_sq = np.einsum("ij,ij->i", R, R, dtype=np.float64).astype(np.float32)
        self.chunk = max(1, int(chunk))
        self._rank = int(rank)
        self._B = None  # the bound space is built on the first query (a context that never queries pays nothing)

    # ------------------------------------------------------------ the lower-bound space
    def _bound_space(self, rank: int) -> None:
        """Project the reference onto ``r`` principal axes: the bound coordinates ``a = [P(x − μ), ‖x⊥‖]``.

        For P with orthonormal rows and x⊥ = (I − PᵀP)(x − μ), Pythagoras and the triangle inequality give
        ``‖q − r‖² = ‖P(q − r)‖² + ‖q⊥ − r⊥‖² ≥ ‖P(q − r)‖² + (‖q⊥‖ − ‖r⊥‖)² = ‖a_q − a_r‖²``,
        whatever P is: the principal axes only make the bound tight (MNIST: ~65 of 60,000 rows survive
        at r = 96). The axes come from a subsample of at most 4096 rows (build cost), the coordinates of
        every row in float64, stored in float32 with ``‖a_r‖²`` appended, padded with rows that score
        ``_BIG`` up to ``blocks × block`` rows (strided blocks: block c holds rows c, c + blocks, ...).
        """
        R = self.ref
        n, d = R.shape
        self.mu = R.mean(0, dtype=np.float64)
        if d <= rank + 1:  # the bound would be no cheaper than the distance: use every coordinate (P = I, x⊥ = 0)
            self.P = None
            r = d
        else:
            # The axes need only be orthonormal, not accurate (they set how tight the bound is, not whether it
            # holds): a float32 covariance of a subsample and a few steps of subspace iteration, orthonormalised
            # by CholeskyQR2 (two Cholesky passes give ~1e-15 for these well-conditioned bases). Householder QR
            # and eigh of the LAPACK builds we use can be 100× slower on a busy machine (thread contention).
            sub = R[:: max(1, n // 4096)] - self.mu.astype(np.float32)
            cov = (sub.T @ sub).astype(np.float64)
            V = _orthonormal(np.random.default_rng(0).standard_normal((d, rank)))
            for _ in range(6):
                V = _orthonormal(cov @ V)
            self.P = np.ascontiguousarray(V)  # (d, r)
            defect = float(np.abs(self.P.T @ self.P - np.eye(rank)).max())
            if defect > 1e-10:  # the bound needs orthonormal axes; eigh gives them to ~1e-15
                raise np.linalg.LinAlgError(f"principal axes not orthonormal (defect {defect:.1e})")
            r = rank
        self.rank = r
        # ‖ã_x − a_x‖ ≤ eps_a·‖x − μ‖ for the stored float32 coordinates ã vs the exact ones a: float32 rounding
        # (u32), float64 projection (~γ64), the orthonormality defect (≤ 1e-10) and, dominant, the tail norm
        # √(‖x − μ‖² − ‖p‖²) taken from a float64 difference (≤ √(2·γ64_{d+r}) relative); ×10 for headroom.
        self._eps_a = 10.0 * (np.sqrt(2.0 * _gamma(d + r + 2, _U64)) + _U32) + 1e-10
        blocks = min(self._BLOCKS, n)
        size = -(-n // blocks)
        B = np.zeros((blocks * size, r + 2), dtype=np.float32)
        B[n:, -1] = _BIG
        xnorm = np.empty(n)
        for s in range(0, n, 4096):
            a, xnorm[s : s + 4096] = self._coords(R[s : s + 4096])
            B[s : s + a.shape[0], :-1] = a
            B[s : s + a.shape[0], -1] = np.einsum("ij,ij->i", a, a, dtype=np.float64)
        if not np.all(np.isfinite(B[:n])) or xnorm.max() > 1e18:
            raise ValueError("reference values are too large for float32 scoring")
        self._B, self._blocks, self._size = B, blocks, size
        self._amax = float(np.sqrt(np.einsum("ij,ij->i", B[:n, :-1], B[:n, :-1], dtype=np.float64).max()))
        self._xmax = float(xnorm.max())  # max ‖r − μ‖

    def _coords(self, X32: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(float32 bound coordinates ``[P(x − μ), ‖x⊥‖]`` (n, r + 1), float64 ``‖x − μ‖`` (n,)) of float32 rows."""
        Xc = X32.astype(np.float64) - self.mu
        sq = np.einsum("ij,ij->i", Xc, Xc)
        if self.P is None:
            a = np.concatenate([Xc, np.zeros((Xc.shape[0], 1))], axis=1)
        else:
            p = Xc @ self.P
            tail = np.sqrt(np.maximum(sq - np.einsum("ij,ij->i", p, p), 0.0))
            a = np.concatenate([p, tail[:, None]], axis=1)
        return a.astype(np.float32), np.sqrt(sq)

    # ------------------------------------------------------------ queries
    def query(self, X, k: int = 5, margin: int = 8) -> np.ndarray:
        """(n, k) exact distances of each row of ``X`` to its ``k`` nearest reference rows, ascending.

        ``margin`` is accepted for compatibility and ignored: the candidates come from a proven bound.
        """
        X = np.asarray(X)
        if X.ndim < 1:
            raise ValueError("X must hold rows (n, ...); got a scalar")
        X = X.reshape(X.shape[0], -1 if X.shape[0] else self.ref.shape[1]).astype(np.float32)  # (0, d) stays valid
        n_ref = self.ref.shape[0]
        if X.shape[1] != self.ref.shape[1]:
            raise ValueError(f"X rows have {X.shape[1]} values, the reference rows {self.ref.shape[1]}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinite values")
        if not 1 <= k <= n_ref:
            raise ValueError(f"k must be in [1, {n_ref}]; got {k}")
        k = int(k)
        if X.shape[0] == 0:
            return np.empty((0, k))
        if self._B is None:
            self._bound_space(self._rank)
        # Identical rows (a path's repeated end frames) are measured once: every row's result depends
        # on that row alone (the selection below is exact), so copying it back changes nothing.
        rows = np.ascontiguousarray(X).view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()
        _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
        U = X[first]
        out = np.empty((U.shape[0], k))
        for s in range(0, U.shape[0], self.chunk):
            out[s : s + self.chunk] = self._chunk(U[s : s + self.chunk], k)
        return out[inverse.ravel()]

    def _chunk(self, Q32: np.ndarray, k: int) -> np.ndarray:
        """The k smallest exact distances of each row of ``Q32`` (float32, c × d), ascending.

        Why no true neighbour is lost (all quantities per query q; D(r) = ‖q − r‖² exactly in reals, d̂(r)
        its float64 value as computed by :func:`_sq_dist`, |d̂ − D| ≤ δ = γ64_{d+2}·(‖q − μ‖ + max‖r − μ‖)²):

        1. The float32 score s̃(r) = fl(‖ã_r‖² − 2·ã_q·ã_r) (one GEMM of width r + 2 on [−2ã_q, 1]·[ã_r, ‖ã_r‖²])
           satisfies |s̃(r) + ‖ã_q‖² − ‖ã_q − ã_r‖²| ≤ E_g = 2γ32_{r+2}·(‖ã_q‖ + max‖ã_r‖)² (Higham's bound
           for a dot product in any order, FMA or not, plus the float32 rounding of ‖ã_r‖²).
        2. ‖ã_q − ã_r‖ ≤ ‖a_q − a_r‖ + e with e = eps_a·(‖q − μ‖ + max‖r − μ‖), and ‖a_q − a_r‖² ≤ D(r)
           (:meth:`_bound_space`). Hence s̃(r) + ‖ã_q‖² ≤ D(r) + 2e·√D(r) + e² + E_g.
        3. U = the k-th smallest d̂ over k' ≥ k distinct rows (the argmin rows of the k' blocks with the
           smallest minimum score) bounds the k-th smallest d̂ over all rows; any row r whose d̂(r) is among
           the k smallest has D(r) ≤ U + δ, so s̃(r) ≤ U + δ + 2e·√(U + δ) + e² + E_g − ‖ã_q‖² =: τ.
           We keep every row with s̃ ≤ τ + (the same allowance once more, for the float64 arithmetic of τ
           itself and for headroom), measure them exactly and keep the k smallest d̂: the exact k nearest.
           The k' rows that gave U pass the same test, so at least k rows always survive.
        Ties at the k-th distance may pick different rows, never different distances.
        """
        c = Q32.shape[0]
        blocks, size, n_ref = self._blocks, self._size, self.ref.shape[0]
        Q64 = Q32.astype(np.float64)
        a, xq = self._coords(Q32)
        A = np.empty((c, a.shape[1] + 1), dtype=np.float32)
        np.multiply(a, -2.0, out=A[:, :-1])  # exact: a power of two
        A[:, -1] = 1.0
        S = A @ self._B.T  # (c, blocks·size) bound scores s̃
        S3 = S.reshape(c, size, blocks)  # S3[i, j, b] is row j·blocks + b: block b, strided
        BM = S3.min(axis=1)  # (c, blocks) block minima
        kp = min(blocks, 2 * k)
        if kp < k:  # k > blocks (a huge k): no cheap upper bound, every row is measured
            Ub = np.full(c, np.inf)
        else:
            top = np.argpartition(BM, kp - 1, axis=1)[:, :kp] if kp < blocks else np.broadcast_to(np.arange(blocks), (c, blocks))
            qi, bi = np.repeat(np.arange(c), kp), top.ravel()
            j = S3.transpose(0, 2, 1)[qi, bi].argmin(axis=1)  # best row of each chosen block (real: row b < n_ref is in it)
            first = (j * blocks + bi).reshape(c, kp)  # kp distinct rows per query
            Ub = np.array([np.partition(_sq_dist(Q64[i], self.ref[first[i]]), k - 1)[k - 1] for i in range(c)])
        # the allowance of the docstring, per query, doubled
        aq = np.sqrt(np.einsum("ij,ij->i", a, a, dtype=np.float64))
        delta = _gamma(self.ref.shape[1] + 2, _U64) * (xq + self._xmax) ** 2
        e = self._eps_a * (xq + self._xmax)
        Eg = 2.0 * _gamma(A.shape[1], _U32) * (aq + self._amax) ** 2
        allow = 2.0 * (2.0 * delta + 2.0 * e * np.sqrt(Ub + 2.0 * delta) + e * e + Eg)
        tau = Ub + allow - aq * aq
        ci, cb = np.nonzero(BM <= tau[:, None])  # blocks that may hold a survivor
        vals = S3.transpose(0, 2, 1)[ci, cb]  # (pairs, size)
        pi, pj = np.nonzero(vals <= tau[ci, None])
        qi, ri = ci[pi], pj * blocks + cb[pi]
        keep = ri < n_ref
        qi, ri = qi[keep], ri[keep]  # sorted by query (np.nonzero is row-major, ci ascending)
        bounds = np.searchsorted(qi, np.arange(c + 1))
        if np.any(np.diff(bounds) < k):  # impossible by the argument above; fail loudly rather than return a wrong distance
            raise RuntimeError("k-NN bound kept fewer than k candidates: please report this as a bug")
        out = np.empty((c, k))
        for i in range(c):  # one query at a time: no (pairs × d) float64 temporaries
            d2 = _sq_dist(Q64[i], self.ref[ri[bounds[i] : bounds[i + 1]]])
            out[i] = np.sort(np.partition(d2, k - 1)[:k]) if d2.size > k else np.sort(d2)
        return np.sqrt(out)

    def mean_distance(self, X, k: int = 5) -> np.ndarray:
        """(n,) mean distance of each row to its ``k`` nearest reference rows."""
        return self.query(X, k).mean(1)


def knn_distance(X, reference, k: int = 5, chunk: int = 256) -> np.ndarray:
    """(n,) mean distance of each row of ``X`` to its ``k`` nearest rows of ``reference`` (one-off index).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.image_metrics import knn_distance
    >>> reference = np.array([[0.0, 0.0], [0.0, 1.0], [3.0, 4.0]])
    >>> knn_distance(np.array([[0.0, 0.0], [0.0, 0.5]]), reference, k=2).round(6).tolist()
    [0.5, 0.5]
    """
    return KnnIndex(reference, chunk).mean_distance(X, k)


# ---------------------------------------------------------------- classifier confidence along a path
def _probs(P) -> np.ndarray:
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] < 1 or P.shape[1] < 2:
        raise ValueError(f"probabilities must be (T+1, C) with C >= 2; got shape {P.shape}")
    return P


def confidence(P) -> np.ndarray:
    """Max class probability per frame: (T+1,)."""
    return _probs(P).max(1)


def crossing_step(labels, target: int) -> int:
    """First step t at which the predicted label is the target class (−1 if never).

    Examples
    --------
    >>> from musicsom.image_metrics import crossing_step
    >>> crossing_step([0, 0, 8, 1, 0, 1], target=1), crossing_step([0, 0], target=1)
    (3, -1)
    """
    hit = np.flatnonzero(np.asarray(labels) == target)
    return int(hit[0]) if hit.size else -1


def commit_step(labels, target: int) -> int:
    """First step from which the predicted label stays the target class to the end (−1 if it ends elsewhere).

    Examples
    --------
    >>> from musicsom.image_metrics import commit_step
    >>> commit_step([0, 0, 8, 1, 0, 1], target=1), commit_step([0, 1, 0], target=1)
    (5, -1)
    """
    lab = np.asarray(labels)
    if lab.size == 0 or lab[-1] != target:
        return -1
    off = np.flatnonzero(lab != target)
    return int(off[-1] + 1) if off.size else 0


def label_runs(labels) -> list[tuple[int, int]]:
    """Run-length encoding of the label sequence: [(label, run length), ...]."""
    lab = np.asarray(labels)
    if lab.size == 0:
        return []
    edges = np.concatenate([[0], np.flatnonzero(lab[1:] != lab[:-1]) + 1, [lab.size]])
    return [(int(lab[a]), int(b - a)) for a, b in zip(edges[:-1], edges[1:])]


def label_sequence(labels) -> str:
    """The label runs as text, e.g. ``"0x87 8x1 1x113"``."""
    return " ".join(f"{lab}x{n}" for lab, n in label_runs(labels))


def third_class_steps(labels, source: int, target: int) -> int:
    """Number of frames whose predicted label is neither ``source`` nor ``target``.

    Examples
    --------
    >>> from musicsom.image_metrics import third_class_steps
    >>> third_class_steps([0, 0, 8, 8, 1], source=0, target=1)
    2
    """
    lab = np.asarray(labels)
    return int(np.sum((lab != source) & (lab != target)))


def strongest_third(P, source: int, target: int) -> int:
    """The class other than source and target with the largest peak probability along the path.

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.image_metrics import confidence, strongest_third
    >>> P = np.array([[0.9, 0.05, 0.05], [0.6, 0.1, 0.3], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    >>> confidence(P).tolist(), strongest_third(P, source=0, target=2)
    ([0.9, 0.6, 0.5, 0.8], 1)
    """
    P = _probs(P).copy()
    P[:, [source, target]] = -np.inf
    return int(np.unravel_index(np.argmax(P), P.shape)[1])
