"""Exact inversion of squared-distance activations (docs/METHOD.md §2; paper §2 and S1); file I/O only in ActivationInverter.save/load.

With a reference prototype ``r``, subtracting its activation removes ``||x||²``:

    a_i − a_r = ||w_i||² − ||w_r||² − 2 (w_i − w_r)ᵀ x,

so ``A x = b`` with ``A_i = 2 (w_i − w_r)ᵀ`` and ``b_i = ||w_i||² − ||w_r||² − (a_i − a_r)``
for the other prototypes of the chosen subset. The solution is exact iff ``rank(A) = D``,
i.e. the subset holds ``D + 1`` affinely independent prototypes (Proposition 1), and its
error under activation noise is at most ``||e|| / σ_min(A)`` (Corollary 1).

Numerics. The textbook right-hand side cancels catastrophically when the prototypes sit far from
the origin (``||w||²`` of 10¹² for differences of order 1). :class:`Inverter` therefore solves about
the anchor: with ``y = x − w_r`` and ``u_i = w_i − w_r``,

    2 u_iᵀ y = ||u_i||² − (a_i − a_r),       x = w_r + y,

which has the same matrix ``A`` and involves only differences, so its error is round-off at any
common offset. The problem is homogeneous (``W → sW``, ``a → s²a`` gives ``x → sx``): where the
differences leave a safe range it is solved at a power-of-two scale (exact) and scaled back, so
prototypes of 10¹⁵⁰ or 10⁻¹⁵⁰ invert as exactly as those of 1. :func:`activations` computes each
row's squared distances directly (no ``||x||² − 2xᵀw + ||w||²`` expansion), so a point's activations
do not depend on the rows it is computed with, and raises a ValueError when they cannot be
represented in float64.

Examples
--------
Activations are *squared* distances; D + 1 affinely independent prototypes give the input back:

>>> import numpy as np
>>> from musicsom.inversion import activations, Inverter
>>> rng = np.random.default_rng(0)
>>> W, x = rng.standard_normal((6, 3)), rng.standard_normal(3)   # K = 6 prototypes in D = 3
>>> a = activations(x, W)                                        # a_i = ||x − w_i||²
>>> bool(np.allclose(Inverter(W, reference=int(a.argmin())).invert(a), x, rtol=0, atol=1e-12))
True
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import _npzfile
from ._validation import (
    _feature_names,
    _FittedTransformer,
    _not_fitted,
    _pow2_exponent,
    check_indices,
    check_int,
    check_matrix,
    check_scalar,
    check_vector,
)

__all__ = [
    "activations",
    "anchored_system",
    "ActivationInverter",
    "Inverter",
    "invert",
    "invert_per_anchor",
    "invert_with_bmu_anchor",
    "RankError",
]

# differences (and so activations, as their squares) are used unscaled while they stay in this range
_SAFE_LO, _SAFE_HI = 2.0**-400, 2.0**400
_TINY = np.finfo(np.float64).tiny


class RankError(ValueError):
    """The chosen prototypes do not affinely span the input space: inversion is not unique."""


# ---------------------------------------------------------------- squared distances
def activations(X, prototypes) -> np.ndarray:
    """Squared distances ``||x − w_i||²``: (K,) for one input, (n, K) for many.

    The activations of the method: :func:`musicsom.som.sq_distances`, computed directly from the
    differences (no cancellation, and the same values for a point whatever the batch it comes in).
    Raises a ValueError that says to rescale when they cannot be represented in float64.

    Examples
    --------
    The activations are *squared* Euclidean distances, not distances:

    >>> import numpy as np
    >>> from musicsom.inversion import activations
    >>> W = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> activations(np.array([0.25, 0.5]), W).tolist()     # e.g. 0.25² + 0.5² = 0.3125
    [0.3125, 0.8125, 0.3125, 0.8125]
    >>> activations(np.zeros((5, 2)), W).shape              # many inputs: (n, K)
    (5, 4)
    >>> activations(np.array([0.25, 0.5]) + 1e9, W + 1e9).tolist()   # direct differences: exact far from the origin
    [0.3125, 0.8125, 0.3125, 0.8125]
    """
    from .som import sq_distances

    W = check_matrix(prototypes, "prototypes")
    X = np.asarray(X, dtype=np.float64)
    single = X.ndim == 1
    X2 = check_matrix(X[None] if single else X, "X", ncols=W.shape[1])
    out = sq_distances(X2, W)
    return out[0] if single else out


# ---------------------------------------------------------------- the anchored system
def anchored_system(prototypes, reference: int = 0, subset=None):
    """The anchored matrix and offsets for the prototypes ``subset`` (default all) anchored on ``reference``.

    Returns ``(A, c, others)``: ``A`` is (m−1, D) with rows ``2 (w_i − w_r)``; ``c_i = ||w_i||² − ||w_r||²``,
    so that ``b = c − (a[others] − a[reference])``; ``others`` are the indices i ≠ r used. This is the
    textbook form (``A x = b``); :class:`Inverter` solves the better-conditioned centred form instead.

    Examples
    --------
    The textbook system ``A x = b`` with ``b = c − (a[others] − a[reference])`` (activations are
    *squared* distances):

    >>> import numpy as np
    >>> from musicsom.inversion import activations, anchored_system
    >>> rng = np.random.default_rng(0)
    >>> W, x = rng.standard_normal((6, 3)), rng.standard_normal(3)
    >>> A, c, others = anchored_system(W, reference=0, subset=[0, 1, 2, 3])
    >>> A.shape, others.tolist()
    ((3, 3), [1, 2, 3])
    >>> a = activations(x, W)
    >>> bool(np.allclose(A @ x, c - (a[others] - a[0])))
    True
    """
    W = check_matrix(prototypes, "prototypes", min_rows=2)
    K = W.shape[0]
    reference = check_int(reference, "reference", 0, K - 1)
    others = _others(K, reference, subset)
    with np.errstate(over="ignore"):
        A = 2.0 * (W[others] - W[reference])
        c = (W[others] ** 2).sum(1) - (W[reference] ** 2).sum()
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(c))):
        raise ValueError("the textbook anchored system overflows float64 for these prototypes; rescale them, or use Inverter (it scales internally)")
    return A, c, others


def _others(K: int, reference: int, subset) -> np.ndarray:
    subset = np.arange(K) if subset is None else check_indices(subset, "subset", K)
    if reference not in subset:
        subset = np.append(subset, reference)
    return subset[subset != reference]


class Inverter:
    """Factor the anchored system once, then invert one or many activation vectors.

    Parameters
    ----------
    prototypes : (K, D) prototype matrix.
    reference : index of the anchor prototype (an integer).
    subset : prototype indices to use (default: all K).
    noise_cov : optional covariance Σ of the anchored noise ``e`` ((m−1) × (m−1)) for weighted
        least squares ``x̂ = (Aᵀ Σ⁻¹ A)⁻¹ Aᵀ Σ⁻¹ b`` (S1.3).
    strict : raise :class:`RankError` when rank(A) < D (default). With ``strict=False`` the
        minimum-norm least-squares solution is returned instead (used to show what goes wrong).
    rcond : relative singular-value cutoff that defines the numerical rank, in (0, 1).

    The solve is the centred one of the module docstring (about ``w_r``, at a power-of-two scale
    where needed), so it is exact to round-off at any offset and any representable scale.
    ``A``, ``offsets`` and :meth:`rhs` give the textbook system ``A x = b`` for reference.

    Examples
    --------
    Invert *squared*-distance activations; the solution is the input itself (Proposition 1):

    >>> import numpy as np
    >>> from musicsom.inversion import activations, Inverter, RankError
    >>> rng = np.random.default_rng(0)
    >>> W, x = rng.standard_normal((6, 3)), rng.standard_normal(3)   # K = 6 prototypes in D = 3
    >>> inv = Inverter(W, reference=0)
    >>> a = activations(x, W)                                        # squared distances ||x − w_i||²
    >>> bool(np.allclose(inv.invert(a), x, rtol=0, atol=1e-12))
    True
    >>> inv.rank, round(inv.sigma_min, 4), round(inv.condition_number, 3)
    (3, 1.2122, 6.097)
    >>> X = rng.standard_normal((4, 3))                              # many rows at once: (n, K) -> (n, D)
    >>> bool(np.allclose(inv.invert(activations(X, W)), X, rtol=0, atol=1e-12))
    True

    Exact at any common offset: 1e6 away from the origin the centred solve still returns the input to
    float64's resolution, while the textbook system (``||w||²`` of 1e12 in the right-hand side) loses
    about ten digits:

    >>> Wf, xf = W + 1e6, x + 1e6
    >>> af = activations(xf, Wf)
    >>> inv_f = Inverter(Wf, reference=0)
    >>> bool(np.allclose(inv_f.invert(af), xf, rtol=0, atol=1e-9))
    True
    >>> textbook = np.linalg.lstsq(inv_f.A, inv_f.rhs(af), rcond=None)[0]
    >>> bool(np.abs(textbook - xf).max() > 1e-7)
    True

    Corollary 1: under activation noise ``ε`` the error is at most ``||e|| / σ_min``, with ``e`` the
    anchored noise ``ε_i − ε_r``:

    >>> eps = 1e-6 * rng.standard_normal(6)
    >>> err = np.linalg.norm(inv.invert(a + eps) - x)
    >>> bool(err <= inv.error_bound(eps))
    True

    Too few (or affinely dependent) prototypes raise :class:`RankError`; ``strict=False`` returns the
    minimum-norm least-squares answer instead:

    >>> Inverter(W[:3])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    musicsom.inversion.RankError: the anchored system has rank 2 < D = 3: the 3 chosen prototypes span only a 2-dimensional affine subspace. ...
    >>> Inverter(W[:3], strict=False).rank
    2
    """

    def __init__(self, prototypes, reference: int = 0, subset=None, noise_cov=None, strict: bool = True, rcond: float = 1e-10):
        W = check_matrix(prototypes, "prototypes", min_rows=2)
        K, D = W.shape
        self.prototypes = W
        self.reference = check_int(reference, "reference", 0, K - 1)
        rcond = check_scalar(rcond, "rcond", 0.0, 1.0, low_open=True, high_open=True)
        self.others = _others(K, self.reference, subset)
        m = self.others.size + 1
        # differences about the anchor at a power-of-two scale 2**-e (exact; e = 0 for ordinary data)
        w_r = W[self.reference]
        top = float(np.abs(W).max(initial=0.0))
        e0 = int(_pow2_exponent(top)) if top > 2.0**1000 else 0
        with np.errstate(under="ignore"):
            U = np.ldexp(W[self.others], -e0) - np.ldexp(w_r, -e0)
        mu = float(np.abs(U).max(initial=0.0))
        e = e0
        if mu > 0 and not _SAFE_LO <= mu <= _SAFE_HI:
            e1 = int(_pow2_exponent(mu))
            with np.errstate(under="ignore"):
                U = np.ldexp(U, -e1)
            e += e1
        self._e = e
        self._A_s = 2.0 * U
        self._c_s = (U * U).sum(1)  # ||u_i||² at the scale
        A_eff = self._A_s
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
            # whitening by L⁻¹ turns the weighted problem into ordinary least squares (L's scale cancels)
            self._whiten = L
            with np.errstate(over="ignore", invalid="ignore"):
                A_eff = np.linalg.solve(L, self._A_s)
            if not np.all(np.isfinite(A_eff)):
                raise ValueError("noise_cov is too close to singular: whitening the anchored system overflowed")
        U_, s, Vt = np.linalg.svd(A_eff, full_matrices=False)
        with np.errstate(over="ignore", under="ignore"):
            self.singular_values = np.ldexp(s, e)  # those of the unscaled (whitened) A
        tol = rcond * (s[0] if s.size else 0.0)
        self.rank = int(np.sum(s > tol))
        if self.rank < D and strict:
            raise RankError(
                f"the anchored system has rank {self.rank} < D = {D}: the {m} chosen prototypes span only a "
                f"{self.rank}-dimensional affine subspace. Exact inversion needs at least D + 1 = {D + 1} affinely "
                f"independent prototypes; use more prototypes or reduce the input dimension (e.g. PCA to <= {m - 1})."
            )
        keep = s > tol
        # pseudo-inverse factors of the scaled system, applied to many right-hand sides at once
        self._pinv = (Vt[keep].T / s[keep]) @ U_[:, keep].T
        # rank-deficient: the minimum-norm x (as the textbook system gives) adds w_r's row-space part
        self._V = Vt[keep].T if self.rank < D else None

    @property
    def A(self) -> np.ndarray:
        """The anchored matrix, rows ``2 (w_i − w_r)`` (unscaled)."""
        with np.errstate(over="ignore", under="ignore"):
            A = np.ldexp(self._A_s, self._e)
        if not np.all(np.isfinite(A)):
            raise ValueError("the anchored matrix overflows float64 for these prototypes; rescale them")
        return A

    @property
    def offsets(self) -> np.ndarray:
        """Textbook offsets ``c_i = ||w_i||² − ||w_r||²`` (``b = c − (a_i − a_r)``)."""
        W = self.prototypes
        with np.errstate(over="ignore", invalid="ignore"):
            c = (W[self.others] ** 2).sum(1) - (W[self.reference] ** 2).sum()
        if not np.all(np.isfinite(c)):
            raise ValueError("the offsets ||w_i||² overflow float64 for these prototypes; rescale them")
        return c

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

    def _check_a(self, a) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64)
        K = self.prototypes.shape[0]
        if a.ndim not in (1, 2) or a.shape[-1] != K:
            raise ValueError(f"activations must have shape (K,) or (n, K) with K = {K}; got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError("activations contain NaN or infinite values")
        return a

    def rhs(self, a) -> np.ndarray:
        """The textbook right-hand side(s) ``b`` of ``A x = b`` for activation vector(s) ``a`` ((K,) or (n, K))."""
        a = self._check_a(a)
        with np.errstate(over="ignore", invalid="ignore"):
            b = self.offsets - (a[..., self.others] - a[..., [self.reference]])
        if not np.all(np.isfinite(b)):
            raise ValueError("the right-hand side overflows float64; rescale the prototypes and activations")
        return b

    def _rhs_scaled(self, a) -> np.ndarray:
        """``||u_i||² − (a_i − a_r)`` at the inverter's scale (centred form; ``a`` already checked)."""
        e2 = np.int32(-2 * self._e)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            if e2 == 0:
                b = self._c_s - (a[..., self.others] - a[..., [self.reference]])
            else:
                b = self._c_s - (np.ldexp(a[..., self.others], e2) - np.ldexp(a[..., [self.reference]], e2))
        if not np.all(np.isfinite(b)):
            raise ValueError(
                "the activations are far out of scale with the prototypes (their differences overflow at the "
                "prototypes' scale); check that they belong to these prototypes, or rescale"
            )
        return b

    def invert(self, a) -> np.ndarray:
        """Least-squares input(s) for activation vector(s) ``a``: (D,) or (n, D).

        Raises a ValueError when the activations of a row are all below float64's smallest normal
        number (2.2e-308; they have lost their precision) or the solution overflows.
        """
        return self._invert(self._check_a(a))[0]

    def _invert(self, a, residuals: bool = False):
        """``(x, relative residuals or None)`` for checked activations ``a`` (private; see :meth:`_relative_residuals`)."""
        top = np.abs(a).max(-1)
        if np.any((top > 0) & (top < _TINY)):
            raise ValueError(
                "activations are all below float64's smallest normal number (2.2e-308) in a row: they have lost "
                "their precision; rescale the inputs and prototypes (e.g. multiply both by 2**600) before computing them"
            )
        b = self._rhs_scaled(a)
        b_eff = b if self._whiten is None else np.linalg.solve(self._whiten, b.T).T
        y_s = b_eff @ self._pinv.T
        res = self._relative_residuals(a, b, y_s) if residuals else None
        w_r = self.prototypes[self.reference]
        with np.errstate(over="ignore", under="ignore"):
            y = np.ldexp(y_s, self._e) if self._e else y_s
            if self._V is None:
                x = w_r + y
            else:
                x = y + (w_r @ self._V) @ self._V.T
        if not np.all(np.isfinite(x)):
            raise ValueError("the inverted input overflows float64; the activations are inconsistent with the prototypes' scale")
        return x, res

    def _relative_residuals(self, a, b, y_s) -> np.ndarray:
        """Per row, ``max_i |â_i − a_i| / max_i a_i`` with ``â`` the squared distances of the solution (private).

        ``a`` (n, K) are the activations, ``b`` (n, m − 1) their right-hand sides and ``y_s`` (n, D) the
        solutions at the inverter's scale (2-D: :meth:`ActivationInverter.inverse_transform` stacks its rows).

        In the anchored frame at the inverter's scale (``y = x − w_r``, ``u_i = w_i − w_r``) the
        solution's squared distances are ``||y||² − (2 u_iᵀ y − ||u_i||²)``, so ``â − a`` is the
        reference's mismatch ``||y||² − a_r`` minus the anchored least-squares residual ``A y − b``
        (0 for the reference): one matrix product, no cancellation against ``||x||²``, and no
        rounding of ``x`` itself (whose representation error at a large offset is not the activations'
        fault). Both terms are divided by the row's largest activation before they are squared or
        summed, so nothing overflows. An all-zero row gets ``inf`` (no point is on every prototype).
        """
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            a_s = np.ldexp(a, np.int32(-2 * self._e)) if self._e else a
            m = a_s.max(-1)
            z = y_s / np.sqrt(m)[:, None]
            common = (z * z).sum(-1) - a_s[:, self.reference] / m
            anchored = (y_s @ self._A_s.T - b) / m[:, None]
            res = np.maximum(np.abs(common), np.abs(common[:, None] - anchored).max(-1, initial=0.0))
        return np.where((m > 0) & ~np.isnan(res), res, np.inf)

    def error_bound(self, noise) -> np.ndarray:
        """Corollary 1 bound ``||e|| / σ_min`` for activation noise ``ε`` ((K,) or (n, K)).

        With ``noise_cov`` the bound is that of the whitened system: ``||L⁻¹ e|| / σ_min(L⁻¹ A)``, ``Σ = L Lᵀ``.
        """
        noise = np.asarray(noise, dtype=np.float64)
        K = self.prototypes.shape[0]
        if noise.ndim not in (1, 2) or noise.shape[-1] != K:
            raise ValueError(f"noise must have shape (K,) or (n, K) with K = {K}; got {noise.shape}")
        if not np.all(np.isfinite(noise)):
            raise ValueError("noise contains NaN or infinite values")
        e = noise[..., self.others] - noise[..., [self.reference]]
        if self._whiten is not None:
            # weighted least squares solves the whitened system L⁻¹A x = L⁻¹b, whose singular values σ_min
            # refers to: the noise enters it whitened too
            e = np.linalg.solve(self._whiten, np.atleast_2d(e).T).T.reshape(e.shape)
        with np.errstate(divide="ignore", over="ignore"):
            return np.linalg.norm(e, axis=-1) / self.sigma_min


def invert(a, prototypes, reference: int | None = None, subset=None, strict: bool = True) -> np.ndarray:
    """Invert one activation vector ``a`` (K,) (reference defaults to the BMU, ``argmin a``).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.inversion import activations, invert
    >>> rng = np.random.default_rng(0)
    >>> W, x = rng.standard_normal((6, 3)), rng.standard_normal(3)
    >>> bool(np.allclose(invert(activations(x, W), W), x, rtol=0, atol=1e-12))   # anchored on the BMU
    True
    """
    W = check_matrix(prototypes, "prototypes", min_rows=2)
    a = check_vector(a, "activations (a)")
    if a.shape[0] != W.shape[0]:
        raise ValueError(f"activations (a) must have one entry per prototype (K = {W.shape[0]}); got {a.shape[0]}")
    ref = int(np.argmin(a)) if reference is None else reference
    return Inverter(W, ref, subset, strict=strict).invert(a)


def _check_activation_rows(A_act, K: int) -> np.ndarray:
    A_act = np.asarray(A_act, dtype=np.float64)
    if A_act.ndim != 2 or A_act.shape[1] != K:
        raise ValueError(f"activations must be (n, K) with K = {K}; got {A_act.shape}")
    if not np.all(np.isfinite(A_act)):
        raise ValueError("activations contain NaN or infinite values")
    return A_act


def invert_per_anchor(A_act, prototypes, anchors=None) -> tuple[np.ndarray, dict[int, Inverter]]:
    """Invert each row of ``A_act`` (n, K) with all K prototypes, anchored on ``anchors[i]`` (default: its BMU).

    One factorisation per distinct anchor, applied to all the rows that share it. Returns the (n, D)
    reconstructions and the inverters by anchor (for their ``sigma_min`` and ``condition_number``).

    Examples
    --------
    Each row of squared-distance activations is anchored on its own BMU (one factorisation per BMU):

    >>> import numpy as np
    >>> from musicsom.inversion import activations, invert_per_anchor
    >>> rng = np.random.default_rng(0)
    >>> W, X = rng.standard_normal((20, 3)), rng.standard_normal((6, 3))
    >>> A = activations(X, W)                                 # (6, 20) squared distances
    >>> X_hat, inverters = invert_per_anchor(A, W)
    >>> X_hat.shape, bool(np.allclose(X_hat, X, rtol=0, atol=1e-10))
    ((6, 3), True)
    >>> sorted(inverters) == sorted(set(A.argmin(1).tolist()))   # one Inverter per distinct anchor
    True
    >>> X_hat0, inv0 = invert_per_anchor(A, W, anchors=np.zeros(6, dtype=int))   # or one anchor for all
    >>> list(inv0), bool(np.allclose(X_hat0, X, rtol=0, atol=1e-10))
    ([0], True)
    """
    W = check_matrix(prototypes, "prototypes", min_rows=2)
    A_act = _check_activation_rows(A_act, W.shape[0])
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

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.inversion import activations, invert_with_bmu_anchor
    >>> rng = np.random.default_rng(0)
    >>> W, X = rng.standard_normal((20, 3)), rng.standard_normal((5, 3))
    >>> X_hat = invert_with_bmu_anchor(activations(X, W), W, m=4)   # m = D + 1 nearest prototypes suffice
    >>> bool(np.allclose(X_hat, X, rtol=0, atol=1e-9))
    True
    """
    W = check_matrix(prototypes, "prototypes", min_rows=2)
    A_act = _check_activation_rows(A_act, W.shape[0])
    K = W.shape[0]
    m = K if m is None else check_int(m, "m", 2, K)
    order = np.argsort(A_act, axis=1, kind="stable")[:, :m]
    out = np.empty((A_act.shape[0], W.shape[1]))
    for i, idx in enumerate(order):
        inv = Inverter(W, idx[0], idx, strict=strict)
        out[i] = inv.invert(A_act[i])
    return out


# ---------------------------------------------------------------- scikit-learn style
# default ActivationInverter.residual_tol, chosen by measurement (tests/test_inverter_defects.py): float64
# activations leave at most 2e-13 (ill-conditioned maps up to cond 6e7, offsets 1e10, scales 2^±500) and
# about 1e-16 · R/s for a point R away from a map of spread s (1e-6 at R/s = 1e10); float32-computed ones up
# to 2e-5. Plain distances leave more than 0.5, a map whose prototypes moved by 1 % of their spread 2e-3.
_RESIDUAL_TOL = 1e-4
_SAVE = _npzfile.SaveFormat(what="ActivationInverter", name="musicsom.ActivationInverter", version=1,
                            keys=("prototypes", "reference", "residual_tol"))  # and feature_names_in_ if any
_SQUARED = "activations must be squared Euclidean distances ||x - w_i||^2"


class ActivationInverter(_FittedTransformer):
    """Squared-distance activations of a prototype map and their exact inverse: a scikit-learn transformer.

    ``transform`` maps inputs (n, D) to activations (n, K) (:func:`activations`); ``inverse_transform``
    maps activations back to the inputs, exactly (to round-off) when the prototypes hold D + 1 affinely
    independent points. Each row is anchored on ``reference`` or, by default, on its own BMU (the
    best-conditioned choice in practice); one factorisation per anchor, cached (as in
    :func:`invert_per_anchor`).

    Parameters
    ----------
    prototypes : (K, D) prototypes of any map (SOM, k-means centres, neural-gas nodes, ...).
    reference : None (each row's BMU) or the index of one anchor prototype for every row.
    residual_tol : how far activations may be from those of a point before ``inverse_transform``
        refuses them (default 1e-4). With K > D + 1 the system is overdetermined, so activations no
        point can have (plain distances instead of squared ones, another map's, heavy noise) show as
        a residual: the squared distances of the answer differ from the input by ``max_i |â_i − a_i|``,
        measured relative to the row's largest activation. Exact float64 activations leave about 1e-13
        (also for ill-conditioned maps), those of a point 10¹⁰ map widths away about 1e-6, float32-computed
        ones about 1e-5; plain distances more than 0.5. Negative activations are refused as well. ``None``
        turns both checks off: least squares on whatever is given (e.g. deliberately noisy activations).

    Fitted attributes: ``prototypes_`` (validated float64 copy), ``n_features_in_`` (D),
    ``n_prototypes_`` (K), ``inverters_`` (dict anchor → :class:`Inverter`, filled as used), and
    ``feature_names_in_`` when fit on a DataFrame of inputs whose column names are all strings.

    scikit-learn. The estimator protocol without importing scikit-learn: ``get_params``/``set_params``
    (so ``clone`` works), ``__sklearn_tags__``, ``__sklearn_is_fitted__`` (``check_is_fitted``), and a
    :class:`musicsom.som.NotFittedError` (scikit-learn's too, once it is imported) before ``fit``.
    Nothing is learnt from data, since the prototypes are a parameter (a Pipeline step sees only the
    previous step's output, never another step's prototypes); ``fit(X)`` validates, factors and, by
    the width of ``X``, reads it as inputs (D columns: feature names are recorded) or as activations
    (K columns, checked as ``inverse_transform`` checks them; K > D for any invertible map, so the
    two never coincide). Hence:

    * ``make_pipeline(StandardScaler(), ActivationInverter(W))``: ``transform`` gives the activations
      of the scaled inputs and ``Pipeline.inverse_transform`` takes activations back to raw inputs.
    * ``Pipeline([("som", SOM(...)), ("inverse", ActivationInverter(W))])`` with ``W`` the prototypes
      that SOM learns on that data (the SOM's fit is deterministic): ``Pipeline.fit`` trains the SOM
      and checks its activations against ``W``, so a map that learnt other prototypes fails loudly;
      the round trip is ``pipe["inverse"].inverse_transform(pipe["som"].transform(X))``.
      ``Pipeline.inverse_transform`` is not available there: SOM has no inverse (this class is it).

    ``save(path)`` writes a fitted inverter to an ``.npz`` file without pickle; :meth:`load` reads it.

    Examples
    --------
    A round trip: ``transform`` gives *squared* distances, ``inverse_transform`` the inputs back:

    >>> import numpy as np
    >>> from musicsom.inversion import ActivationInverter
    >>> rng = np.random.default_rng(0)
    >>> W, X = rng.standard_normal((20, 3)), rng.standard_normal((6, 3))   # any (K, D) prototypes
    >>> est = ActivationInverter(W).fit()
    >>> A = est.transform(X)                               # (6, 20) squared distances ||x − w_k||²
    >>> A.shape, bool(np.allclose(A, ((X[:, None, :] - W) ** 2).sum(-1)))
    ((6, 20), True)
    >>> bool(np.allclose(est.inverse_transform(A), X, rtol=0, atol=1e-10))
    True
    >>> est.inverse_transform(A[0]).shape                  # one activation vector (K,) gives (D,)
    (3,)
    >>> est.n_features_in_, est.n_prototypes_
    (3, 20)

    Activations no point can have are refused, e.g. plain distances instead of squared ones:

    >>> est.inverse_transform(np.sqrt(A))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: activations are not the squared distances of any point to these prototypes: row ... must be squared Euclidean distances ||x - w_i||^2 ...

    Anchored on one prototype for every row, and with scikit-learn's parameter protocol:

    >>> fixed = ActivationInverter(W, reference=0).fit()
    >>> bool(np.allclose(fixed.inverse_transform(A), X, rtol=0, atol=1e-10)), list(fixed.inverters_)
    (True, [0])
    >>> sorted(est.get_params()), est.set_params(reference=3).reference
    (['prototypes', 'reference', 'residual_tol'], 3)

    ``fit`` on activations (what a Pipeline step after a map receives) checks them against the prototypes:

    >>> ActivationInverter(W).fit(A).n_features_in_
    3
    >>> ActivationInverter(W + 0.1 * rng.standard_normal(W.shape)).fit(A)  # another map  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: fit: activations are not the squared distances of any point to these prototypes: ...

    Saved without pickle, loaded with the same answers:

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = fixed.save(os.path.join(tmp, "inverter.npz"))
    ...     back = ActivationInverter.load(path)
    >>> bool(np.array_equal(back.inverse_transform(A), fixed.inverse_transform(A))), back.reference
    (True, 0)
    """

    _PARAMS = ("prototypes", "reference", "residual_tol")

    def __init__(self, prototypes=None, reference=None, residual_tol=_RESIDUAL_TOL):
        self.prototypes = prototypes
        self.reference = reference
        self.residual_tol = residual_tol

    # -------------------------------------------------- the estimator protocol (scikit-learn's, without importing it)
    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters as stored (``deep`` is accepted for scikit-learn; there are no sub-estimators)."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params) -> "ActivationInverter":
        """Set constructor parameters (validated at the next ``fit``); returns self."""
        for key, value in params.items():
            if key not in self._PARAMS:
                raise ValueError(f"invalid parameter {key!r} for ActivationInverter; valid parameters are {list(self._PARAMS)}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        shape = np.shape(self.prototypes) if self.prototypes is not None else None
        return f"ActivationInverter(prototypes=<array {shape}>, reference={self.reference!r}, residual_tol={self.residual_tol!r})"

    # -------------------------------------------------- fit, transform, inverse_transform
    def fit(self, X=None, y=None) -> "ActivationInverter":
        """Validate the parameters and ``X`` if given, and factor; returns self (``y`` is ignored).

        ``X`` is read by its width: D columns are inputs (only checked; a DataFrame's string column
        names become ``feature_names_in_``), K columns are activations, checked as
        :meth:`inverse_transform` checks them. Raises :class:`RankError` when the prototypes do not
        hold D + 1 affinely independent points (the affine rank does not depend on the anchor, so one
        factorisation tells).
        """
        if self.prototypes is None:
            raise ValueError("prototypes is None; pass the (K, D) prototypes of the map, e.g. ActivationInverter(W)")
        W = check_matrix(self.prototypes, "prototypes", min_rows=2).copy()  # later edits of the parameter change nothing
        K, D = W.shape
        ref = None if self.reference is None else check_int(self.reference, "reference", 0, K - 1)
        tol = None if self.residual_tol is None else check_scalar(self.residual_tol, "residual_tol (None = no check)", 0.0, low_open=True)
        X_arr = None if X is None else np.asarray(X, dtype=np.float64)
        if X_arr is not None and (X_arr.ndim != 2 or X_arr.shape[1] not in (D, K)):
            raise ValueError(f"X must be inputs (n, D = {D}) or their activations (n, K = {K}); got shape {X_arr.shape}")
        first = 0 if ref is None else ref
        inverter = Inverter(W, first)  # raises RankError before anything is stored
        if X_arr is not None:
            check_matrix(X_arr, "X")
        names = _feature_names(X) if X_arr is not None and X_arr.shape[1] == D else None
        self.prototypes_ = W
        self.n_features_in_, self.n_prototypes_ = D, K
        self.inverters_ = {first: inverter}
        self._ref, self._tol = ref, tol
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        if X_arr is not None and X_arr.shape[1] == K:
            try:
                self._invert(X_arr, "fit: ")
            except ValueError:  # not fitted: the activations do not belong to these prototypes
                for name in ("prototypes_", "n_features_in_", "n_prototypes_", "inverters_", "feature_names_in_"):
                    self.__dict__.pop(name, None)
                raise
        return self

    def _fitted_prototypes(self) -> np.ndarray:
        W = getattr(self, "prototypes_", None)
        if W is None:
            raise _not_fitted(self)
        return W

    def transform(self, X) -> np.ndarray:
        """Squared distances (n, K) of the inputs ``X`` (n, D) to the prototypes ((K,) for one input (D,))."""
        W = self._fitted_prototypes()
        names, fitted = _feature_names(X), getattr(self, "feature_names_in_", None)
        if names is not None and fitted is not None and not np.array_equal(names, fitted):
            raise ValueError(f"X has the columns {list(names)}, but ActivationInverter was fit on {list(fitted)}")
        return activations(X, W)

    def fit_transform(self, X, y=None) -> np.ndarray:
        """``fit(X).transform(X)`` for inputs ``X`` (n, D)."""
        return self.fit(X, y).transform(X)

    def inverse_transform(self, A) -> np.ndarray:
        """Inputs (n, D) whose activations are ``A`` (n, K) ((D,) for one vector (K,)), anchored per row.

        Raises a ValueError for negative activations, and for rows whose answer's squared distances
        differ from them by more than ``residual_tol`` (relative to the row's largest activation),
        naming the worst row; ``residual_tol=None`` turns both checks off.
        """
        self._fitted_prototypes()
        a = np.asarray(A, dtype=np.float64)
        single = a.ndim == 1
        out = self._invert(a[None] if single else a)
        return out[0] if single else out

    def _invert(self, A, context: str = "") -> np.ndarray:
        """Invert the rows of ``A`` (n, K) with the per-anchor inverters, checking them unless ``residual_tol`` is None."""
        a2 = _check_activation_rows(A, self.n_prototypes_)
        check = self._tol is not None
        if check and np.any(a2 < 0):
            row, k = np.argwhere(a2 < 0)[0]
            raise ValueError(
                f"{context}{_SQUARED}, which are >= 0; row {row} holds {a2[row, k]:.6g} at prototype {k} "
                "(scores, similarities or log-likelihoods are not activations)"
            )
        anchors = np.full(a2.shape[0], self._ref) if self._ref is not None else a2.argmin(1)
        out = np.empty((a2.shape[0], self.n_features_in_))
        residuals = np.zeros(a2.shape[0])
        for ref in np.unique(anchors):
            rows = np.flatnonzero(anchors == ref)
            inv = self.inverters_.get(int(ref))
            if inv is None:
                inv = self.inverters_[int(ref)] = Inverter(self.prototypes_, int(ref))
            out[rows], res = inv._invert(a2[rows], residuals=check)
            if check:
                residuals[rows] = res
        if check and residuals.max(initial=0.0) > self._tol:
            worst = int(residuals.argmax())
            raise ValueError(
                f"{context}activations are not the squared distances of any point to these prototypes: row {worst} "
                f"(worst of {int((residuals > self._tol).sum())} rows over the tolerance) differs from the squared "
                f"distances of its least-squares point by {residuals[worst]:.3g} of its largest activation "
                f"(residual_tol = {self._tol:g}). Likely cause: {_SQUARED} to these K = {self.n_prototypes_} "
                "prototypes, in their order; square plain distances (e.g. MiniSom's activate) first, and check that "
                "they come from this map. For deliberately noisy activations pass residual_tol=None (or a larger one)."
            )
        return out

    # -------------------------------------------------- files (musicsom._npzfile: .npz, no pickle)
    def save(self, path) -> Path:
        """Write the fitted inverter to ``path`` (exactly that name) as an ``.npz`` archive without pickle; returns the path.

        The archive holds the prototypes (float64), the reference (-1 for None), residual_tol (NaN for
        None), a format name and version, and the feature names (unicode) when there are any. It is
        written to a temporary file in the same folder and renamed at the end, so an interrupted save
        never leaves a half-written file under that name.
        """
        W = self._fitted_prototypes()
        arrays = {
            "prototypes": W, "reference": np.array(-1 if self._ref is None else self._ref, dtype=np.int64),
            "residual_tol": np.array(np.nan if self._tol is None else self._tol),
        }
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            arrays["feature_names_in_"] = _npzfile.strings(names)
        return Path(_npzfile.save(path, _SAVE, arrays))

    @classmethod
    def load(cls, path) -> "ActivationInverter":
        """A fitted inverter from a file written by :meth:`save` (same ``inverse_transform``, bit for bit).

        Raises a ValueError naming the file and the problem when it is not such a file (not a zip
        archive, truncated, missing entries, another format or version, invalid contents); a missing
        file raises FileNotFoundError. Object arrays are never loaded (no pickle).
        """
        return _npzfile.load(path, _SAVE, cls._from_saved)

    @classmethod
    def _from_saved(cls, arrays: dict) -> "ActivationInverter":
        """The fitted inverter of the (checked) arrays of a save, or a ValueError saying which one is wrong."""
        ref, tol = _npzfile.integer(arrays, "reference"), arrays["residual_tol"]
        if tol.shape != () or tol.dtype.kind != "f":
            raise ValueError(f"residual_tol should be one float; got dtype {tol.dtype}, shape {tol.shape}")
        est = cls(arrays["prototypes"], None if ref == -1 else ref, None if np.isnan(tol) else float(tol)).fit()
        names = _npzfile.names(arrays, "feature_names_in_", est.n_features_in_)
        if names is not None:
            est.feature_names_in_ = names
        return est
