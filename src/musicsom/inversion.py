"""Exact inversion of squared-distance activations (SPEC §2; paper §2 and S1). No file I/O.

With a reference prototype ``r``, subtracting its activation removes ``||x||²``:

    a_i − a_r = ||w_i||² − ||w_r||² − 2 (w_i − w_r)ᵀ x,

so ``A x = b`` with ``A_i = 2 (w_i − w_r)ᵀ`` and ``b_i = ||w_i||² − ||w_r||² − (a_i − a_r)``
for the other prototypes of the chosen subset. The solution is exact iff ``rank(A) = D``,
i.e. the subset holds ``D + 1`` affinely independent prototypes (Proposition 1), and its
error under activation noise is at most ``||e|| / σ_min(A)`` (Corollary 1).
"""

from __future__ import annotations

import numpy as np

from ._validation import check_indices, check_matrix

__all__ = ["activations", "anchored_system", "Inverter", "invert", "invert_per_anchor", "invert_with_bmu_anchor", "RankError"]


class RankError(ValueError):
    """The chosen prototypes do not affinely span the input space: inversion is not unique."""


def activations(X, prototypes) -> np.ndarray:
    """Squared distances ``||x − w_i||²``: (K,) for one input, (n, K) for many. Computed directly (no cancellation)."""
    W = check_matrix(prototypes, "prototypes")
    X = np.asarray(X, dtype=np.float64)
    single = X.ndim == 1
    X2 = check_matrix(X[None] if single else X, "X", ncols=W.shape[1])
    out = np.stack([((x - W) ** 2).sum(1) for x in X2]) if X2.shape[0] <= 64 else _act_gemm(X2, W)
    return out[0] if single else out


def _act_gemm(X, W):
    d2 = (X * X).sum(1)[:, None] - 2.0 * X @ W.T + (W * W).sum(1)[None, :]
    return np.maximum(d2, 0.0)


def anchored_system(prototypes, reference: int = 0, subset=None):
    """The anchored matrix and offsets for the prototypes ``subset`` (default all) anchored on ``reference``.

    Returns ``(A, c, others)``: ``A`` is (m−1, D) with rows ``2 (w_i − w_r)``; ``c_i = ||w_i||² − ||w_r||²``,
    so that ``b = c − (a[others] − a[reference])``; ``others`` are the indices i ≠ r used.
    """
    W = check_matrix(prototypes, "prototypes", min_rows=2)
    K = W.shape[0]
    subset = np.arange(K) if subset is None else check_indices(subset, "subset", K)
    reference = int(reference)
    if not 0 <= reference < K:
        raise ValueError(f"reference must index a prototype in [0, {K - 1}]; got {reference}")
    if reference not in subset:
        subset = np.append(subset, reference)
    others = subset[subset != reference]
    A = 2.0 * (W[others] - W[reference])
    c = (W[others] ** 2).sum(1) - (W[reference] ** 2).sum()
    return A, c, others


class Inverter:
    """Factor the anchored system once, then invert one or many activation vectors.

    Parameters
    ----------
    prototypes : (K, D) prototype matrix.
    reference : index of the anchor prototype.
    subset : prototype indices to use (default: all K).
    noise_cov : optional covariance Σ of the anchored noise ``e`` ((m−1) × (m−1)) for weighted
        least squares ``x̂ = (Aᵀ Σ⁻¹ A)⁻¹ Aᵀ Σ⁻¹ b`` (S1.3).
    strict : raise :class:`RankError` when rank(A) < D (default). With ``strict=False`` the
        minimum-norm least-squares solution is returned instead (used to show what goes wrong).
    rcond : relative singular-value cutoff that defines the numerical rank.
    """

    def __init__(self, prototypes, reference: int = 0, subset=None, noise_cov=None, strict: bool = True, rcond: float = 1e-10):
        self.prototypes = check_matrix(prototypes, "prototypes", min_rows=2)
        self.reference = int(reference)
        self.A, self.offsets, self.others = anchored_system(self.prototypes, reference, subset)
        D = self.prototypes.shape[1]
        m = self.others.size + 1
        A_eff = self.A
        self._whiten = None
        if noise_cov is not None:
            S = np.asarray(noise_cov, dtype=np.float64)
            if S.shape != (m - 1, m - 1):
                raise ValueError(f"noise_cov must be ({m - 1}, {m - 1}) (one row per anchored prototype); got {S.shape}")
            if not np.all(np.isfinite(S)):
                raise ValueError("noise_cov contains NaN or infinite values")
            if not np.allclose(S, S.T, rtol=1e-10, atol=0.0):
                raise ValueError("noise_cov must be symmetric positive definite (it is not symmetric)")
            try:
                L = np.linalg.cholesky(S)
            except np.linalg.LinAlgError:
                raise ValueError("noise_cov must be symmetric positive definite") from None
            # whitening by L⁻¹ turns the weighted problem into ordinary least squares
            self._whiten = L
            A_eff = np.linalg.solve(L, self.A)
            if not np.all(np.isfinite(A_eff)):
                raise ValueError("noise_cov is too close to singular: whitening the anchored system overflowed")
        U, s, Vt = np.linalg.svd(A_eff, full_matrices=False)
        self.singular_values = s
        tol = rcond * (s[0] if s.size else 0.0)
        self.rank = int(np.sum(s > tol))
        if self.rank < D and strict:
            raise RankError(
                f"the anchored system has rank {self.rank} < D = {D}: the {m} chosen prototypes span only a "
                f"{self.rank}-dimensional affine subspace. Exact inversion needs at least D + 1 = {D + 1} affinely "
                f"independent prototypes; use more prototypes or reduce the input dimension (e.g. PCA to <= {m - 1})."
            )
        keep = s > tol
        # pseudo-inverse factors, applied to many right-hand sides at once
        self._pinv = (Vt[keep].T / s[keep]) @ U[:, keep].T

    @property
    def sigma_min(self) -> float:
        """Smallest singular value of A among the first D (0 when rank-deficient): the Corollary 1 constant."""
        D = self.prototypes.shape[1]
        s = self.singular_values
        return float(s[D - 1]) if s.size >= D else 0.0

    @property
    def condition_number(self) -> float:
        smin = self.sigma_min
        return float(self.singular_values[0] / smin) if smin > 0 else np.inf

    def rhs(self, a) -> np.ndarray:
        """The right-hand side(s) ``b`` for activation vector(s) ``a`` ((K,) or (n, K))."""
        a = np.asarray(a, dtype=np.float64)
        K = self.prototypes.shape[0]
        if a.shape[-1] != K or a.ndim not in (1, 2):
            raise ValueError(f"activations must have shape (K,) or (n, K) with K = {K}; got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError("activations contain NaN or infinite values")
        return self.offsets - (a[..., self.others] - a[..., [self.reference]])

    def invert(self, a) -> np.ndarray:
        """Least-squares input(s) for activation vector(s) ``a``: (D,) or (n, D)."""
        b = self.rhs(a)
        if self._whiten is not None:
            b = np.linalg.solve(self._whiten, b.T).T
        return b @ self._pinv.T

    def error_bound(self, noise) -> np.ndarray:
        """Corollary 1 bound ``||e|| / σ_min`` for activation noise ``ε`` ((K,) or (n, K))."""
        noise = np.asarray(noise, dtype=np.float64)
        K = self.prototypes.shape[0]
        if noise.ndim not in (1, 2) or noise.shape[-1] != K:
            raise ValueError(f"noise must have shape (K,) or (n, K) with K = {K}; got {noise.shape}")
        e = noise[..., self.others] - noise[..., [self.reference]]
        return np.linalg.norm(e, axis=-1) / self.sigma_min


def invert(a, prototypes, reference: int | None = None, subset=None, strict: bool = True) -> np.ndarray:
    """Invert one activation vector ``a`` (K,) (reference defaults to the BMU, ``argmin a``)."""
    a = np.asarray(a, dtype=np.float64)
    ref = int(np.argmin(a)) if reference is None else reference
    return Inverter(prototypes, ref, subset, strict=strict).invert(a)


def invert_per_anchor(A_act, prototypes, anchors=None) -> tuple[np.ndarray, dict[int, Inverter]]:
    """Invert each row of ``A_act`` (n, K) with all K prototypes, anchored on ``anchors[i]`` (default: its BMU).

    One factorisation per distinct anchor, applied to all the rows that share it. Returns the (n, D)
    reconstructions and the inverters by anchor (for their ``sigma_min`` and ``condition_number``).
    """
    A_act = np.asarray(A_act, dtype=np.float64)
    W = check_matrix(prototypes, "prototypes", min_rows=2)
    if A_act.ndim != 2 or A_act.shape[1] != W.shape[0]:
        raise ValueError(f"activations must be (n, K) with K = {W.shape[0]}; got {A_act.shape}")
    anchors = A_act.argmin(1) if anchors is None else np.asarray(anchors)
    if anchors.shape != (A_act.shape[0],) or not np.issubdtype(anchors.dtype, np.integer):
        raise ValueError(f"anchors must be {A_act.shape[0]} integer prototype indices, one per row; got {anchors.dtype} {anchors.shape}")
    if anchors.size and (anchors.min() < 0 or anchors.max() >= W.shape[0]):
        raise ValueError(f"anchors holds indices outside [0, {W.shape[0] - 1}] (there are {W.shape[0]} prototypes)")
    out = np.empty((A_act.shape[0], W.shape[1]))
    inverters = {}
    for ref in np.unique(anchors):
        rows = np.flatnonzero(anchors == ref)
        inverters[int(ref)] = inv = Inverter(W, reference=int(ref))
        out[rows] = inv.invert(A_act[rows])
    return out, inverters


def invert_with_bmu_anchor(A_act, prototypes, m: int | None = None, strict: bool = True) -> np.ndarray:
    """Invert each row of ``A_act`` (n, K) anchored on its BMU, using the BMU and its ``m − 1`` nearest prototypes.

    This is the protocol of the paper's Fig. 5 (m = number of prototypes used). ``m=None`` uses all K.
    Each row gets its own subset, hence its own small solve.
    """
    A_act = np.asarray(A_act, dtype=np.float64)
    W = check_matrix(prototypes, "prototypes", min_rows=2)
    if A_act.ndim != 2 or A_act.shape[1] != W.shape[0]:
        raise ValueError(f"activations must be (n, K) with K = {W.shape[0]}; got {A_act.shape}")
    K = W.shape[0]
    m = K if m is None else int(m)
    if not 2 <= m <= K:
        raise ValueError(f"m must be in [2, {K}]; got {m}")
    order = np.argsort(A_act, axis=1, kind="stable")[:, :m]
    out = np.empty((A_act.shape[0], W.shape[1]))
    for i, idx in enumerate(order):
        inv = Inverter(W, idx[0], idx, strict=strict)
        out[i] = inv.invert(A_act[i])
    return out
