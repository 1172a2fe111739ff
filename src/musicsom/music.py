"""MUSIC: move an input by changing chosen squared distances while preserving the others (docs/METHOD.md §4).

One step minimises

    E(δ) = (1 − α) ||Ω_P^½ Ĵ_P δ||² + α ||Ω_T^½ (Ĵ_T δ − Δ)||² + λ ||δ||²

over the input change δ, where Ĵ_P, Ĵ_T are the (row-normalised) Jacobians of the squared
distances to the preserved and target prototypes and Δ the wanted first-order change. With
``M = [√c_P Ω_P^½ Ĵ_P ; √c_T Ω_T^½ Ĵ_T]`` (k × D), ``y = [0 ; √c_T Ω_T^½ Δ]`` and the energy
weights ``(c_P, c_T) = (1 − α, α)``, each divided by its row count with ``per_row_mean``
(:func:`energy_coefficients`):

    δ = (MᵀM + λI)⁻¹ Mᵀ y           (primal, D × D)
      = Mᵀ (M Mᵀ + λI)⁻¹ y           (dual,   k × k)

A trust region ``||δ|| ≤ η`` follows, then the map is relinearised at the new point. No file I/O here.

How it is solved (``MusicParams.solver``). "direct": the smaller system by Cholesky, formed and factored
at every step ("primal" and "dual" force that form). "iterative": along a run (:meth:`Music.run`,
:meth:`Music.run_batch`) x moves by at most η per step, so the primal matrix barely changes; the Cholesky
factor of a recent step (same trajectory, same row set) preconditions conjugate gradients on the current
system, whose products ``v ↦ Mᵀ(Mv) + λv`` go through W (one matrix product for a whole batch) without
forming M or the Gram: 3-8 iterations per step instead of k·D² + D³/3 flops. PCG stops when the
preconditioned residual is below 1e-12 ‖δ‖ (the steps equal the direct ones to ~1e-12 relative); a step
refactors (solves directly, keeping the new factor) when there is no factor, the row set changed (a ring
or graph neighbourhood moved), the previous step cost more iterations than the average since the factor
was made, or PCG gives up (30 iterations, a stalled residual, numbers out of range); the direct solve keeps
its scaled and least-squares fallbacks. Only the numbers decide, never timing. A dual system (k < D) and a
single solve without a history (:func:`music_direction`, :meth:`Music.step`) are always direct. "auto"
(the default) is iterative for primal systems with D >= 128 over runs of at least 4 steps, direct
otherwise (measured: at D = 50 the direct solve is cheaper; at D = 712 the iterative one is ~5-10× faster
in batches, ~3× for one trajectory).

Numerics. Distances and norms are computed so that they neither overflow nor underflow
(power-of-two scaling where the plain sums of squares leave the safe range; bit for bit the plain
formulas on ordinary data), and the solve runs at a power-of-two scale when ``M`` or ``y`` leave
``[2⁻³⁰⁰, 2³⁰⁰]``. With unit rows the direction is homogeneous (``W → sW``, ``x → sx`` gives
``δ → sδ`` before the trust region), so a map of 10¹⁵⁰ or 10⁻¹⁵⁰ steers as one of 1. A target
at distance 0 has no first-order direction (its Jacobian row is 0): its term is constant and
does not steer δ (the step toward a reached target is 0). A result that cannot be represented
(a step that overflows) raises a ValueError instead of returning inf or NaN.

Validation. The public functions (:func:`jacobian`, :func:`solve_primal`, :func:`solve_dual`,
:func:`music_direction`, :func:`trust_region`, :func:`energy_coefficients`) validate their
arguments; the private ``_`` versions used inside :class:`Music` (which validates once) do not.

Batches. :meth:`Music.run_batch` runs many trajectories at once by stacked solves and returns a
:class:`TrajectoryBatch`; the engine lives in :mod:`musicsom.music_batch`.

Examples
--------
Steer an input toward a prototype by shrinking its *squared* distance to it, preserving the others:

>>> import numpy as np
>>> from musicsom.inversion import activations
>>> from musicsom.music import Music, MusicParams
>>> rng = np.random.default_rng(0)
>>> W, x0 = rng.standard_normal((30, 3)), rng.standard_normal(3)   # any (K, D) prototypes
>>> target = int(activations(x0, W).argmax())                      # the farthest prototype
>>> path = Music(W, MusicParams(alpha=0.9, lam=0.01, kappa=0.1, eta=0.2)).run(x0, 150, "informed", target=target)
>>> path.states.shape, bool(path.bmus[-1] == target)
((151, 3), True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ._validation import (
    _pow2_exponent,
    _stable_norms,
    _stable_sq_norms,
    check_bool,
    check_edges,
    check_indices,
    check_int,
    check_matrix,
    check_scalar,
    check_vector,
)
from .lattice import _check_grid, _check_topology, lattice_ring

__all__ = [
    "energy_coefficients",
    "jacobian",
    "solve_primal",
    "solve_dual",
    "music_direction",
    "trust_region",
    "MusicParams",
    "Music",
    "Trajectory",
    "TrajectoryBatch",
]

_TINY = np.finfo(np.float64).tiny
# M and y are solved unscaled while their largest entries stay in this range
_SAFE_LO, _SAFE_HI = 2.0**-300, 2.0**300
# a step's norm is taken as sqrt(δ·δ) while that lies in [_NORM_LO, inf)
_NORM_LO = 2.0**-480


# ---------------------------------------------------------------- energy weights
def _energy_coefficients(alpha, n_preserved, n_targets, per_row_mean):
    """(c_P, c_T) without validation; ``n_preserved``/``n_targets`` may be arrays (one per trajectory)."""
    c_P, c_T = 1.0 - alpha, alpha
    if per_row_mean:
        c_P = c_P / np.maximum(n_preserved, 1)
        c_T = c_T / np.maximum(n_targets, 1)
    return c_P, c_T


def energy_coefficients(alpha: float, n_preserved: int, n_targets: int, per_row_mean: bool = False) -> tuple[float, float]:
    """The weights ``(c_P, c_T)`` of the preserved and target terms of the MUSIC energy.

    ``(1 − α, α)``; with ``per_row_mean`` each is divided by its row count (``max(n, 1)``), so
    that α means the same whatever the set sizes. Every MUSIC solve uses these; other code that
    evaluates the energy (residuals, L-curves) should call this rather than re-derive it.

    Examples
    --------
    >>> from musicsom.music import energy_coefficients
    >>> [round(c, 6) for c in energy_coefficients(0.9, n_preserved=29, n_targets=1)]   # (1 − α, α)
    [0.1, 0.9]
    >>> [round(c, 6) for c in energy_coefficients(0.9, 29, 1, per_row_mean=True)]      # ((1 − α)/29, α/1)
    [0.003448, 0.9]
    """
    alpha = check_scalar(alpha, "alpha", 0.0, 1.0)
    n_P = check_int(n_preserved, "n_preserved", 0)
    n_T = check_int(n_targets, "n_targets", 0)
    c_P, c_T = _energy_coefficients(alpha, n_P, n_T, check_bool(per_row_mean, "per_row_mean"))
    return float(c_P), float(c_T)


# ---------------------------------------------------------------- building blocks (private: no validation)
def _rows(x, Wr, normalise: bool):
    """Jacobian rows at ``x`` for the prototypes ``Wr`` and their distances: ``(J, d, S, e)``. Private; does not validate.

    ``J``: unit rows ``(x − w)/d`` (0 where d = 0) or raw rows ``2 (x − w)``. ``d``: distances.
    ``S · 4**e`` are the squared distances (``e = 0`` and ``S`` the plain sum of squares on ordinary data).
    """
    R = x - Wr
    S, e = _stable_sq_norms(R)
    d = np.sqrt(S) if not e.any() else np.ldexp(np.sqrt(S), e.astype(np.int32))
    if not normalise:
        return 2.0 * R, d, S, e
    pos = d > 0
    J = R / d[..., None] if pos.all() else R / np.where(pos, d, 1.0)[..., None]
    return J, d, S, e


def _wanted(d, S, e, normalise: bool, delta_a=None, rel=None):
    """Δ: the wanted first-order change in the units of the Jacobian rows (private).

    ``delta_a``: absolute changes of the squared distances; ``rel``: relative ones (Δa = rel · a). With
    unit rows Δ = Δa / (2d), computed as ``rel · d / 2`` where ``a`` leaves the plain range, and 0 where
    d = 0 (the row is 0: nothing can change that distance to first order).
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if not normalise:
            if rel is not None:
                a = S if not e.any() else np.ldexp(S, (2 * e).astype(np.int32))
                return rel * a
            return np.asarray(delta_a, dtype=np.float64)
        if rel is not None:
            out = np.where(e == 0, (rel * S) / (2.0 * d), rel * d / 2.0)
        else:
            out = np.asarray(delta_a, dtype=np.float64) / (2.0 * d)
        return np.where(d > 0, out, 0.0)


def _ridge_lstsq(M, y, lam: float) -> np.ndarray:
    """The same δ by least squares on ``[M; √λ I] δ ≈ [y; 0]`` (SVD): the fallback when λ is lost in round-off."""
    D = M.shape[1]
    A = np.vstack([M, np.sqrt(lam) * np.eye(D)])
    return np.linalg.lstsq(A, np.concatenate([y, np.zeros(D)]), rcond=None)[0]


def _solve_form(M, y, lam: float, solver: str) -> np.ndarray:
    """Primal or dual Cholesky solve at the given scale, with the least-squares fallback (private)."""
    if solver == "primal":
        D = M.shape[1]
        G = M.T @ M
        G[np.diag_indices(D)] += lam
        try:
            return cho_solve(cho_factor(G, lower=True, check_finite=False), M.T @ y, check_finite=False)
        except np.linalg.LinAlgError:
            return _ridge_lstsq(M, y, lam)
    k = M.shape[0]
    G = M @ M.T
    G[np.diag_indices(k)] += lam
    try:
        return M.T @ cho_solve(cho_factor(G, lower=True, check_finite=False), y, check_finite=False)
    except np.linalg.LinAlgError:
        return _ridge_lstsq(M, y, lam)


_OVERFLOW = (
    "the MUSIC step overflows float64: the wanted change is far too large for the distances involved "
    "(e.g. a large delta_a for a target that x almost touches); ask a smaller change, or rescale the map"
)


def _solve(M, y, lam: float, solver: str) -> np.ndarray:
    """δ = (MᵀM + λI)⁻¹ Mᵀ y, at a power-of-two scale where M or y leave the safe range (private; does not validate).

    ``solver`` is "primal", "dual", or one of "auto", "direct", "iterative" (one solve without a history:
    the smaller form, dual when k < D). Raises a ValueError when the wanted change or the step overflows.
    """
    k, D = M.shape
    solver = _form(solver, k, D)
    if not np.all(np.isfinite(y)):
        raise ValueError(_OVERFLOW)
    my = float(np.abs(y).max(initial=0.0))
    mM = float(np.abs(M).max(initial=0.0))
    if my == 0.0 or mM == 0.0:
        return np.zeros(D)
    if _SAFE_LO <= mM <= _SAFE_HI and _SAFE_LO <= my <= _SAFE_HI:
        delta = _solve_form(M, y, lam, solver)
    else:
        eM, ey = int(_pow2_exponent(mM)), int(_pow2_exponent(my))
        with np.errstate(over="ignore", under="ignore"):
            Ms, ys = np.ldexp(M, -eM), np.ldexp(y, -ey)
            lam_s = float(np.ldexp(lam, -2 * eM))
            if np.isfinite(lam_s):
                delta = np.ldexp(_solve_form(Ms, ys, lam_s, solver), ey - eM)
            else:  # λ dominates MᵀM beyond float64's range: δ = Mᵀy / λ to round-off
                f, el = np.frexp(lam)
                delta = np.ldexp((Ms.T @ ys) / f, eM + ey - int(el))
    if not np.all(np.isfinite(delta)):
        raise ValueError(_OVERFLOW)
    return delta


# ---------------------------------------------------------------- iterative solve along a trajectory (private)
# Along a trajectory x moves by at most η per step, so the primal matrix MᵀM + λI of one step is close to that
# of the steps before. Instead of forming and factoring it anew (k·D² + D³/3 flops), the factor of a recent
# step preconditions conjugate gradients on the current system, whose products go through W (never forming
# M or the Gram). Measured on 900 × 712 maps (random and whitened, plain energy at α = 0.999 and 0.5, per-row-
# mean energy): 3-8 iterations per step to a preconditioned residual of 1e-12 ‖δ‖, steps within 1e-11 of the
# direct solve. A low-rank update of the old factor does not apply: every row weight 1/d_i² changes each step
# (a full-rank change of MᵀM), and it is the slow drift of all of them that PCG absorbs.
#
# PCG stops when ‖P⁻¹r‖ ≤ _PCG_TOL ‖δ‖: with P close to the current matrix, P⁻¹r is close to the error δ* − δ,
# so this bounds the relative error with three orders of margin below the 1e-9 the tests ask.
_PCG_TOL = 1e-12
# give up (and refactor at this step) after this many iterations, or when ‖P⁻¹r‖ has not halved in
# _PCG_STALL iterations (a factor too old, or a changed row set, to help)
_PCG_MAXIT = 30
_PCG_STALL = 5
# the cost of a refactorisation in PCG iterations (direct step / PCG iteration, measured at K = 900, D = 712:
# 12-16 for one trajectory, 20-40 per trajectory in a batch). A factor is renewed at the first step whose
# iteration count exceeds the average cost per step (this constant included) since it was made: the classic
# renewal rule, which keeps the cost per step near its minimum whatever the drift. It depends only on
# iteration counts, so results never depend on timing. 40 rather than the single trajectory's 16: on the
# paper's MNIST map (30 trajectories × 100 steps, one BLAS thread) 16 gave 11.4 refactorisations per 100 steps
# and 12.0 s, 40 gave 4.1 and 9.1 s, 100 gave 2.5 and 9.2 s (more iterations per step eat the saving).
_REFACTOR_COST = 40.0
# "auto" goes iterative for primal systems (k >= D) of at least this size, over runs of at least
# _ITERATIVE_MIN_STEPS steps. Measured (benchmarks/bench_music_solver.py, K = 900): at D = 50 the direct solve
# is cheaper (a 50 × 50 Cholesky costs less than the Python overhead of a PCG iteration); from D ≈ 128 up the
# iterative one is faster, by 5-10× at D = 712 in batches.
_ITERATIVE_MIN_DIM = 128
_ITERATIVE_MIN_STEPS = 4
# "auto" in a batch holds B factors of D² float32 values: above this many bytes it stays direct
_FACTOR_BUDGET = 2**31
# a point whose squared distance to a prototype is below 1/64 of (‖x − c‖ + ‖w − c‖)² (c: the mean prototype)
# gets that row exactly (x − w) instead of through the products with W, whose cancellation there would cost
# more than 6 bits
_NEAR_RATIO2 = 64.0
# the implicit products need squares that neither overflow nor underflow; outside, the direct solve takes over
_IMPLICIT_LO, _IMPLICIT_HI = 2.0**-400, 2.0**400

_SOLVERS = ("auto", "direct", "iterative", "primal", "dual")


def _form(solver: str, k: int, D: int) -> str:
    """The direct form of ``solver``: "primal" or "dual" (the smaller system for auto/direct/iterative) (private)."""
    if solver in ("primal", "dual"):
        return solver
    return "dual" if k < D else "primal"


def _use_iterative(solver: str, D: int, n_steps: int, jitter: float) -> bool:
    """Whether a run of ``n_steps`` in dimension ``D`` solves iteratively (private; the rule of "auto" above).

    Jitter perturbs M at random each step (no reusable structure); "primal"/"dual"/"direct" are direct solves.
    """
    if jitter > 0 or solver not in ("auto", "iterative"):
        return False
    return solver == "iterative" or (D >= _ITERATIVE_MIN_DIM and n_steps >= _ITERATIVE_MIN_STEPS)


class _Frame:
    """The prototypes centred on their mean, for the products of the implicit operator (private).

    ``Wc = W − c``, ``wc2 = ‖Wc‖²`` per row, ``wcn = ‖Wc‖``; ``ok``: whether W is in the range where the
    products neither overflow nor underflow (else every step is solved directly).
    """

    def __init__(self, W):
        self.W = W
        m = float(np.abs(W).max(initial=0.0))
        self.ok = bool(_IMPLICIT_LO <= m <= _IMPLICIT_HI) or m == 0.0
        self.c = W.mean(axis=0)
        self.Wc = W - self.c
        self.wc2 = np.einsum("ij,ij->i", self.Wc, self.Wc)
        self.wcn = np.sqrt(self.wc2)


class _Implicit:
    """n primal systems ``(M_bᵀM_b + λI) δ_b = M_bᵀ y_b`` whose rows go through products with W (private).

    Rows of M_b: every prototype i with weight ``wP[b, i] > 0``, as ``√w (x_b − w_i)/d_bi`` (unit rows) or
    ``2√w (x_b − w_i)`` (raw), applied as ``(x_b − c)·v − (W − c) v`` in one matrix product for all b; plus the
    explicit rows ``E`` (trajectory ``eb``): the targets, and every preserved row near x_b (see _NEAR_RATIO2).
    ``ok`` (n,): the systems whose numbers stay in range (the others must be solved directly).
    """

    def __init__(self, fr: _Frame, X, wP, E, eb, lam: float, normalise: bool):
        self.fr, self.lam = fr, lam
        n, D = X.shape
        W = fr.W
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            Xc = X - fr.c
            xc2 = np.einsum("ij,ij->i", Xc, Xc)
            S = (xc2[:, None] - 2.0 * (Xc @ fr.Wc.T)) + fr.wc2
            scale2 = (np.sqrt(xc2)[:, None] + fr.wcn) ** 2
            live = wP > 0
            near = live & ~(_NEAR_RATIO2 * S >= scale2)
            pb, pi = np.nonzero(near)
            Rp = X[pb] - W[pi]
            Sp = np.einsum("ij,ij->i", Rp, Rp)
            S[pb, pi] = Sp
            lo = np.where(live, S, np.inf).min(axis=1, initial=np.inf)
            hi = np.where(live, S, 0.0).max(axis=1, initial=0.0)
            wmax = wP.max(axis=1, initial=0.0)
            self.ok = (
                np.isfinite(xc2) & (xc2 < _IMPLICIT_HI) & ((lo >= _IMPLICIT_LO) | (lo == 0.0)) & (hi <= _IMPLICIT_HI)
                & (wmax <= _IMPLICIT_HI) & ((wmax >= _IMPLICIT_LO) | (wmax == 0.0))
            )
            if normalise:
                f2 = np.where(live & (S > 0), wP / np.where(S > 0, S, 1.0), 0.0)
            else:
                f2 = 4.0 * wP
        self.Xc = Xc
        self.F2 = f2
        fp = np.sqrt(f2[pb, pi])
        f2[pb, pi] = 0.0  # those rows are explicit
        self.E = np.vstack([E, fp[:, None] * Rp])
        self.eb = np.concatenate([eb, pb]).astype(np.int64)

    def apply(self, V, sub):
        """``(M_bᵀM_b + λI) v_b`` for the systems ``sub`` (rows of V) (private)."""
        Wc = self.fr.Wc
        Xc, F2 = self.Xc[sub], self.F2[sub]
        Q = np.einsum("ij,ij->i", Xc, V)[:, None] - V @ Wc.T  # (x − w)·v per row, for all rows at once
        Q *= F2
        out = Xc * Q.sum(axis=1)[:, None]
        out -= Q @ Wc
        out += self.lam * V
        if self.eb.size:
            pos = np.full(self.Xc.shape[0], -1, dtype=np.int64)
            pos[sub] = np.arange(len(sub))
            sel = pos[self.eb] >= 0
            if sel.any():
                E, at = self.E[sel], pos[self.eb[sel]]
                ev = np.einsum("ij,ij->i", E, V[at])
                np.add.at(out, at, ev[:, None] * E)
        return out


def _precondition(R, factors, sub):
    """``P_b⁻¹ r_b`` for the rows of R, with the stored upper factors ``U = Lᵀ`` (float32, Fortran order) (private).

    Two triangular solves per system by BLAS: memory-bound, and single precision halves the memory read.
    A preconditioner this close to the matrix (to ~1e-7 from rounding, ~10 % from drift) only changes the
    iteration count, never the converged δ; the Polak-Ribière form of β in :func:`_pcg` keeps CG's
    convergence with a preconditioner applied in lower precision.
    """
    from scipy.linalg.blas import strsv

    out = np.empty_like(R)
    R32 = R.astype(np.float32)
    for j, b in enumerate(sub):
        U = factors[b]
        out[j] = strsv(U, strsv(U, R32[j], lower=0, trans=1), lower=0, trans=0)
    return out


def _pcg(system: _Implicit, B, factors, sub):
    """Preconditioned CG on the systems of ``system`` (right-hand sides: the rows of B); system j uses the
    factor ``factors[sub[j]]`` (private).

    Returns ``(δ, iterations, converged)`` per system. Stops a system when ``‖P⁻¹r‖ <= _PCG_TOL ‖δ‖``;
    gives up on it after _PCG_MAXIT iterations, at a stall (‖P⁻¹r‖ not halved in _PCG_STALL iterations)
    or a breakdown (pᵀAp not positive, or not finite). Only the numbers decide.
    """
    sub = np.asarray(sub, dtype=np.int64)
    n, m = B.shape
    x = np.zeros((n, m))
    r = B.copy()
    z = _precondition(r, factors, sub)
    p = z.copy()
    rz = np.einsum("ij,ij->i", r, z)
    its = np.zeros(n, dtype=np.int64)
    conv = np.zeros(n, dtype=bool)
    failed = ~np.isfinite(rz) | (rz < 0)
    zn_hist = [np.sqrt(np.einsum("ij,ij->i", z, z))]  # ‖P⁻¹r‖ per iteration, for the stall test
    conv |= (zn_hist[0] == 0.0) & ~failed  # b = 0: δ = 0
    act = np.flatnonzero(~conv & ~failed)
    for it in range(1, _PCG_MAXIT + 1):
        if not act.size:
            break
        pa = p[act]
        Ap = system.apply(pa, act)
        pAp = np.einsum("ij,ij->i", pa, Ap)
        bad = ~(pAp > 0) | ~np.isfinite(pAp)
        a = np.where(bad, 0.0, rz[act] / np.where(bad, 1.0, pAp))
        x[act] += a[:, None] * pa
        r_old = r[act]
        r_new = r_old - a[:, None] * Ap
        z_new = _precondition(r_new, factors, sub[act])
        rz_new = np.einsum("ij,ij->i", r_new, z_new)
        beta = np.einsum("ij,ij->i", z_new, r_new - r_old) / np.where(rz[act] != 0, rz[act], 1.0)  # Polak-Ribière
        zn = np.sqrt(np.einsum("ij,ij->i", z_new, z_new))
        xn = np.sqrt(np.einsum("ij,ij->i", x[act], x[act]))
        its[act] = it
        r[act], z[act], rz[act] = r_new, z_new, rz_new
        p[act] = z_new + np.maximum(beta, 0.0)[:, None] * pa
        done = (zn <= _PCG_TOL * xn) & ~bad
        hist = np.full(n, np.inf)
        hist[act] = zn
        zn_hist.append(hist)
        stall = np.zeros(act.size, dtype=bool)
        if it >= _PCG_STALL:
            stall = zn > 0.5 * zn_hist[it - _PCG_STALL][act]
        conv[act[done]] = True
        failed[act[(bad | stall | ~np.isfinite(zn)) & ~done]] = True
        act = act[~done & ~bad & ~stall & np.isfinite(zn)]
    return x, its, conv & ~failed


class _Factors:
    """The factors held for n trajectories during one run, and when to renew them (private).

    ``U[b]``: the upper factor ``Lᵀ`` (float32, Fortran order) of trajectory b's matrix at its last direct
    step, or None; ``key[b]``: the row set it belongs to (another row set needs a new factor). ``cost``/
    ``steps``: the cost (in iterations; a direct step counts _REFACTOR_COST) and the steps since the factor
    was made; ``renew[b]``: the last PCG step cost more than that average, so the next step refactors.
    Totals for reports: ``iterations``, ``pcg_steps``, ``refactors``.
    """

    def __init__(self, n: int):
        self.U = [None] * n
        self.key = [None] * n
        self.cost = np.zeros(n)
        self.steps = np.zeros(n, dtype=np.int64)
        self.renew = np.zeros(n, dtype=bool)
        self.iterations = 0
        self.pcg_steps = 0
        self.refactors = 0

    def usable(self, b: int, key) -> bool:
        k = self.key[b]
        same = k is None if key is None else (k is not None and k.shape == key.shape and np.array_equal(k, key))
        return self.U[b] is not None and not self.renew[b] and same

    def store(self, b: int, L, key) -> None:
        """Keep the lower Cholesky factor L (or None: the direct step fell back and left no factor)."""
        # strsv reads only the upper triangle of Lᵀ: whatever cho_factor left in L's other triangle is never used
        self.U[b] = None if L is None else np.asfortranarray(L.T, dtype=np.float32)
        self.key[b] = key
        self.cost[b], self.steps[b], self.renew[b] = _REFACTOR_COST, 1, False
        self.refactors += 1

    def record(self, b: int, its: int) -> None:
        """A PCG step of ``its`` iterations: renew when it cost more than the average step since the factor."""
        c = its + 1.0  # + the preconditioned start
        self.cost[b] += c
        self.steps[b] += 1
        self.renew[b] = c > self.cost[b] / self.steps[b]
        self.iterations += its
        self.pcg_steps += 1

    def stats(self) -> dict:
        steps = self.pcg_steps + self.refactors
        return {
            "steps": steps,
            "mean_iterations": self.iterations / max(self.pcg_steps, 1),
            "refactors_per_100_steps": 100.0 * self.refactors / max(steps, 1),
        }


def _solve_keep(M, y, lam: float):
    """:func:`_solve` in the primal form, also returning the Cholesky factor it used (None where it fell back) (private).

    The same operations as the direct solve (same δ to the bit) where M and y are in the safe range.
    """
    if not np.all(np.isfinite(y)):
        raise ValueError(_OVERFLOW)
    D = M.shape[1]
    my = float(np.abs(y).max(initial=0.0))
    mM = float(np.abs(M).max(initial=0.0))
    if my == 0.0 or mM == 0.0 or not (_SAFE_LO <= mM <= _SAFE_HI and _SAFE_LO <= my <= _SAFE_HI):
        return _solve(M, y, lam, "primal"), None
    G = M.T @ M
    G[np.diag_indices(D)] += lam
    try:
        c = cho_factor(G, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return _solve(M, y, lam, "primal"), None
    delta = cho_solve(c, M.T @ y, check_finite=False)
    if not np.all(np.isfinite(delta)):
        raise ValueError(_OVERFLOW)
    return delta, c[0]


class _RunSolver:
    """The iterative solver of one :meth:`Music.run` (one trajectory; lives for that run only) (private)."""

    def __init__(self, W):
        self.frame = _Frame(W)
        self.factors = _Factors(1)

    def pcg(self, x, rows, wP, M_T, y_T, lam: float, normalise: bool):
        """δ by PCG with the held factor, or None when there is none for ``rows`` or PCG gives up."""
        f = self.factors
        if not self.frame.ok or not f.usable(0, rows):
            return None
        if not np.all(np.isfinite(y_T)):
            raise ValueError(_OVERFLOW)
        my = float(np.abs(y_T).max(initial=0.0))
        if not (_SAFE_LO <= my <= _SAFE_HI):
            return None
        sys_ = _Implicit(self.frame, x[None, :], wP[None, :], M_T, np.zeros(M_T.shape[0], dtype=np.int64), lam, normalise)
        if not sys_.ok[0]:
            return None
        b = (M_T.T @ y_T)[None, :]
        delta, its, conv = _pcg(sys_, b, f.U, np.zeros(1, dtype=np.int64))
        if not conv[0] or not np.all(np.isfinite(delta)):
            return None
        f.record(0, int(its[0]))
        return delta[0]

    def direct(self, M, y, lam: float, rows):
        delta, L = _solve_keep(M, y, lam)
        self.factors.store(0, L, rows)
        return delta


def _trust_region(delta, eta: float) -> tuple[np.ndarray, bool]:
    """(δ clipped to length η, whether it was clipped); the norm free of overflow and underflow (private; does not validate)."""
    with np.errstate(over="ignore", under="ignore"):
        n = float(np.sqrt(delta.dot(delta)))
    if np.isfinite(n) and n >= _NORM_LO:
        return (delta * (eta / n), True) if n > eta else (delta, False)
    m = float(np.abs(delta).max(initial=0.0))
    if m == 0.0:
        return delta, False
    if not np.isfinite(m):
        raise ValueError("the step holds NaN or infinite values; it cannot be clipped to the trust region")
    e = int(_pow2_exponent(m))
    v = np.ldexp(delta, -e)
    nv = float(np.sqrt(v.dot(v)))
    with np.errstate(over="ignore", under="ignore"):
        n_true = float(np.ldexp(nv, e))
    if n_true > eta:
        return v * (eta / nv), True
    return delta, False


def _check_weights(w, name: str, n: int):
    if w is None:
        return None
    arr = np.asarray(w, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{name} must hold one weight per prototype of its set ({n}); got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 (a negative weight would reward the opposite change); got min {arr.min()}")
    return arr


def _check_solver(solver) -> str:
    if not isinstance(solver, str) or solver not in _SOLVERS:
        raise ValueError(
            f"solver must be 'auto', 'direct', 'iterative', 'primal' or 'dual' ('primal'/'dual': a direct solve of "
            f"that form); got {solver!r}"
        )
    return solver


def _direction(
    x, W, targets, preserved, alpha, lam, delta_a=None, rel=None, w_T=None, w_P=None,
    normalise=True, per_row_mean=False, solver="auto", jitter=0.0, rng=None, cache=None,
) -> np.ndarray:
    """:func:`music_direction` without validation; the wanted change as ``delta_a`` or relative ``rel`` (private).

    ``cache``: the :class:`_RunSolver` of a run solving iteratively (None: a direct solve). With it, a primal
    system (k >= D) is solved by PCG on the factor held for the same row set, where one is held and PCG
    converges; otherwise directly, keeping the new factor for the next steps.
    """
    J_T, d_T, S_T, e_T = _rows(x, W[targets], normalise)
    delta = _wanted(d_T, S_T, e_T, normalise, delta_a, rel)
    w_T = np.ones(targets.size) if w_T is None else w_T
    w_P = np.ones(preserved.size) if w_P is None else w_P
    c_P, c_T = _energy_coefficients(alpha, preserved.size, targets.size, per_row_mean)
    sT = np.sqrt(c_T * w_T)
    with np.errstate(over="ignore", invalid="ignore"):
        y_T = sT * delta
    k, D = preserved.size + targets.size, x.size
    rows = None
    if cache is not None and jitter == 0 and k >= D:
        # the row set (order does not matter in the primal form): a factor of another set is no preconditioner
        rows = np.sort(np.concatenate([preserved, targets]))
        wP = np.zeros(W.shape[0])
        wP[preserved] = c_P * w_P
        d = cache.pcg(x, rows, wP, sT[:, None] * J_T, y_T, lam, normalise)
        if d is not None:
            return d
    if preserved.size:
        J_P = _rows(x, W[preserved], normalise)[0]
    else:
        J_P = np.zeros((0, x.size))
    sP = np.sqrt(c_P * w_P)[:, None]
    M = np.vstack([sP * J_P, sT[:, None] * J_T])
    y = np.concatenate([np.zeros(preserved.size), y_T])
    if jitter > 0:
        rng = np.random.default_rng() if rng is None else rng
        E = rng.standard_normal(M.shape)
        M = M + jitter * E / np.linalg.norm(E)
    if rows is not None:
        return cache.direct(M, y, lam, rows)
    return _solve(M, y, lam, solver)


# ---------------------------------------------------------------- building blocks (public: validated)
def jacobian(x, prototypes, rows=None, normalise: bool = True):
    """Jacobian rows of the squared distances at ``x``.

    Returns ``(J, scale)``: raw rows ``2 (x − w_i)`` when ``normalise`` is False (scale = 1), or unit
    radial rows ``(x − w_i) / d_i`` with ``scale = 2 d_i`` (divide a wanted change of ``a_i`` by it).
    Where x sits on a prototype (d_i = 0) the row is 0 and the scale ``2 · tiny`` (no first-order
    change is possible). ``rows``: prototype indices (default all; may be empty).

    Examples
    --------
    The rows are the gradients of the *squared* distances ``a_i = ||x − w_i||²``, ``2 (x − w_i)``, or
    their unit versions with the scale ``2 d_i``:

    >>> import numpy as np
    >>> from musicsom.music import jacobian
    >>> W = np.array([[0.0, 0.0], [3.0, 4.0]])
    >>> J, scale = jacobian(np.array([0.0, 4.0]), W)
    >>> J.tolist(), scale.tolist()                      # d = (4, 3): unit rows, scale 2 d
    ([[0.0, 1.0], [-1.0, 0.0]], [8.0, 6.0])
    >>> jacobian(np.array([0.0, 4.0]), W, normalise=False)[0].tolist()
    [[0.0, 8.0], [-6.0, 0.0]]
    """
    W = check_matrix(prototypes, "prototypes")
    x = check_vector(x, "x", W.shape[1])
    normalise = check_bool(normalise, "normalise")
    Wr = W if rows is None else W[check_indices(rows, "rows", W.shape[0], allow_empty=True)]
    J, d, _, _ = _rows(x, Wr, normalise)
    if not normalise:
        return J, np.ones(Wr.shape[0])
    return J, 2.0 * np.maximum(d, _TINY)


def _check_system(M, y, lam):
    M = check_matrix(M, "M")
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (M.shape[0],):
        raise ValueError(f"y must be a vector with one entry per row of M ({M.shape[0]}); got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinite values")
    lam = check_scalar(lam, "lam (λ)", 0.0, low_open=True)
    return M, y, lam


def solve_primal(M, y, lam: float) -> np.ndarray:
    """δ = (MᵀM + λI)⁻¹ Mᵀ y via Cholesky of the D × D matrix.

    When λ is too small against ``||M||²`` for the Gram matrix to stay numerically positive
    definite, the same problem is solved by least squares instead (``[M; √λ I] δ ≈ [y; 0]``).
    Validates ``M`` (k × D, finite), ``y`` (k,) and ``λ > 0``; scales internally (see module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.music import solve_primal, solve_dual
    >>> M = np.random.default_rng(0).standard_normal((3, 5))
    >>> y = np.array([0.0, 0.0, -0.1])
    >>> d = solve_primal(M, y, lam=0.01)
    >>> d.shape, bool(np.allclose(d, solve_dual(M, y, lam=0.01)))   # the primal and dual forms agree
    ((5,), True)
    >>> bool(np.allclose((M.T @ M + 0.01 * np.eye(5)) @ d, M.T @ y))
    True
    """
    return _solve(*_check_system(M, y, lam), "primal")


def solve_dual(M, y, lam: float) -> np.ndarray:
    """δ = Mᵀ (MMᵀ + λI)⁻¹ y via Cholesky of the k × k matrix (same answer as :func:`solve_primal`, same fallback).

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.music import solve_dual
    >>> M = np.random.default_rng(0).standard_normal((3, 5))
    >>> d = solve_dual(M, np.array([0.0, 0.0, -0.1]), lam=0.01)
    >>> bool(np.allclose(d, M.T @ np.linalg.solve(M @ M.T + 0.01 * np.eye(3), [0.0, 0.0, -0.1])))
    True
    """
    return _solve(*_check_system(M, y, lam), "dual")


def trust_region(delta, eta: float) -> np.ndarray:
    """Clip δ to length η (the step constraint ``δ ← η δ / ||δ||`` when ``||δ|| > η``).

    The norm is computed without overflow or underflow (a step of 1e200 is clipped, not zeroed).
    Validates ``delta`` (finite vector) and ``eta > 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.music import trust_region
    >>> trust_region(np.array([3.0, 4.0]), eta=1.0).round(12).tolist()     # length 5 clipped to 1
    [0.6, 0.8]
    >>> trust_region(np.array([0.3, 0.4]), eta=1.0).tolist()               # already shorter: unchanged
    [0.3, 0.4]
    >>> trust_region(np.array([3e200, 4e200]), eta=1.0).round(12).tolist()  # no overflow in the norm
    [0.6, 0.8]
    """
    delta = check_vector(delta, "delta")
    eta = check_scalar(eta, "eta (trust radius)", 0.0, low_open=True)
    return _trust_region(delta, eta)[0]


def music_direction(
    x,
    prototypes,
    targets,
    delta_a,
    preserved,
    alpha: float = 0.9,
    lam: float = 0.01,
    weights_target=None,
    weights_preserved=None,
    normalise_rows: bool = True,
    per_row_mean: bool = False,
    solver: str = "auto",
    jitter: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """One MUSIC solve (before the trust region): the δ minimising the energy above.

    ``delta_a`` is the wanted change of the squared distances to ``targets`` (a number or one per
    target); with row normalisation it is divided by ``2 d_t`` to match the unit rows (a target at
    distance 0 does not steer: see the module docstring). ``per_row_mean`` divides each term by its
    row count (:func:`energy_coefficients`). ``jitter`` adds a random perturbation of Frobenius norm
    ``jitter`` to the stacked Jacobian (S8). ``solver``: any value of ``MusicParams.solver``; one solve
    has no earlier factor to reuse, so "auto", "direct" and "iterative" all solve the smaller system directly.

    Validates everything: ``targets`` non-empty unique indices, ``preserved`` unique indices (may be
    empty) disjoint from ``targets``, weights finite and ``>= 0``, α in [0, 1], λ > 0, jitter >= 0.

    Examples
    --------
    Ask the *squared* distance to prototype 2 to drop by 0.5 while preserving the five others. In
    D = 10 that is feasible, and to first order (``∂a_i/∂x = 2 (x − w_i)``) only ``a_2`` moves:

    >>> import numpy as np
    >>> from musicsom.music import music_direction
    >>> rng = np.random.default_rng(0)
    >>> W, x = rng.standard_normal((6, 10)), rng.standard_normal(10)
    >>> d = music_direction(x, W, targets=[2], delta_a=-0.5, preserved=[0, 1, 3, 4, 5], alpha=0.9, lam=1e-6)
    >>> first_order = 2 * (x - W) @ d                  # the predicted change of every a_i
    >>> round(float(first_order[2]), 3), bool(np.abs(np.delete(first_order, 2)).max() < 1e-3)
    (-0.5, True)
    >>> d_dual = music_direction(x, W, [2], -0.5, [0, 1, 3, 4, 5], alpha=0.9, lam=1e-6, solver="dual")
    >>> bool(np.allclose(d, d_dual))                   # k = 6 < D = 10: the dual form is the cheap one
    True
    """
    W = check_matrix(prototypes, "prototypes")
    K, D = W.shape
    x = check_vector(x, "x", D)
    targets = check_indices(targets, "targets", K)
    preserved = check_indices(preserved, "preserved", K, allow_empty=True)
    if np.intersect1d(targets, preserved).size:
        raise ValueError("targets and preserved share prototypes; a prototype cannot be both moved and kept")
    try:
        delta_a = np.broadcast_to(np.asarray(delta_a, dtype=np.float64), targets.shape).copy()
    except (TypeError, ValueError):
        raise ValueError(f"delta_a must be a number or one value per target ({targets.size}); got shape {np.shape(delta_a)}") from None
    if not np.all(np.isfinite(delta_a)):
        raise ValueError("delta_a contains NaN or infinite values")
    alpha = check_scalar(alpha, "alpha", 0.0, 1.0)
    lam = check_scalar(lam, "lam (λ)", 0.0, low_open=True)
    w_T = _check_weights(weights_target, "weights_target", targets.size)
    w_P = _check_weights(weights_preserved, "weights_preserved", preserved.size)
    jitter = check_scalar(jitter, "jitter", 0.0)
    return _direction(
        x, W, targets, preserved, alpha, lam, delta_a=delta_a, w_T=w_T, w_P=w_P,
        normalise=check_bool(normalise_rows, "normalise_rows"), per_row_mean=check_bool(per_row_mean, "per_row_mean"),
        solver=_check_solver(solver), jitter=jitter, rng=rng,
    )


# ---------------------------------------------------------------- trajectories
@dataclass
class MusicParams:
    """Hyperparameters of a MUSIC run (defaults: docs/METHOD.md §4 and §6; config.yaml holds the pipeline's).

    alpha: balance attraction vs preservation in [0, 1]. lam: Tikhonov weight λ > 0. kappa: fractional
    reduction of a target's squared distance per step, in (0, 1]. eta: trust radius. preserve_ring:
    None = preserve all non-targets; n = preserve the n-ring of the current BMU on the lattice (or the
    prototypes within n hops of it on the graph given as ``edges``). cluster_passes: relinearisation
    passes per cluster step. cluster_width: width (> 0) of the Gaussian target weights relative to the
    median target distance. free_subspace: how many low-eigenvalue directions free mode mixes.
    radial_pull: fraction of a free step pulled toward the BMU. sigma_step, sigma_target, jitter:
    optional noise injection (S8). solver: "auto" (default), "direct", "iterative", or the direct forms
    "primal"/"dual" (see the module docstring, "How it is solved").

    Examples
    --------
    >>> from musicsom.music import MusicParams
    >>> p = MusicParams(alpha=0.9, lam=0.01, kappa=0.1, eta=0.2, preserve_ring=1)
    >>> p.validate() is p, p.per_row_mean
    (True, False)
    >>> MusicParams(kappa=0.0).validate()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: kappa (κ) must be ...
    """

    alpha: float = 0.9
    lam: float = 0.01
    kappa: float = 0.1
    eta: float = 0.2
    normalise_rows: bool = True
    per_row_mean: bool = False
    preserve_ring: int | None = None
    cluster_passes: int = 2
    cluster_width: float = 1.0
    free_subspace: int = 3
    radial_pull: float = 0.0
    sigma_step: float = 0.0
    sigma_target: float = 0.0
    jitter: float = 0.0
    solver: str = "auto"

    def validate(self) -> "MusicParams":
        check_scalar(self.alpha, "alpha", 0.0, 1.0)
        check_scalar(self.lam, "lam (λ)", 0.0, low_open=True)
        check_scalar(self.kappa, "kappa (κ)", 0.0, 1.0, low_open=True)
        check_scalar(self.eta, "eta (trust radius)", 0.0, low_open=True)
        check_scalar(self.cluster_width, "cluster_width", 0.0, low_open=True)
        for name in ("sigma_step", "sigma_target", "jitter", "radial_pull"):
            check_scalar(getattr(self, name), name, 0.0)
        check_bool(self.normalise_rows, "normalise_rows")
        check_bool(self.per_row_mean, "per_row_mean")
        check_int(self.cluster_passes, "cluster_passes", 1)
        check_int(self.free_subspace, "free_subspace", 1)
        if self.preserve_ring is not None:
            check_int(self.preserve_ring, "preserve_ring (None = all, or >= 1)", 1)
        _check_solver(self.solver)
        return self


@dataclass
class Trajectory:
    """States x_0..x_T (T+1, D), BMUs c_0..c_T, the target(s) of each step (−1: several or none), and
    ``clipped`` (T,): whether the trust region shortened each step."""

    states: np.ndarray
    bmus: np.ndarray
    targets: list = field(default_factory=list)
    clipped: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def steps(self) -> np.ndarray:
        return np.diff(self.states, axis=0)


@dataclass
class TrajectoryBatch:
    """B trajectories of T steps: states (B, T+1, D), bmus (B, T+1), targets (B, T), clipped (B, T)."""

    states: np.ndarray
    bmus: np.ndarray
    targets: np.ndarray
    clipped: np.ndarray

    def __len__(self) -> int:
        return self.states.shape[0]

    @property
    def steps(self) -> np.ndarray:
        return np.diff(self.states, axis=1)

    def trajectory(self, b: int) -> Trajectory:
        """Trajectory ``b`` as a :class:`Trajectory`."""
        b = check_int(b, "b", -len(self), len(self) - 1)
        return Trajectory(self.states[b], self.bmus[b], self.targets[b].tolist(), self.clipped[b])


def _bmus_exact(states, W) -> np.ndarray:
    """Nearest prototype of each row by exact squared distances (:func:`musicsom.som.best_matching_units`; private)."""
    from .distances import _bmus

    return _bmus(states, W, 1, 8192)[:, 0]


class Music:
    """MUSIC on a fixed prototype set.

    Parameters
    ----------
    prototypes : (K, D) prototypes (SOM, k-means, neural gas, ...).
    params : :class:`MusicParams`.
    grid_shape, topology : the lattice, needed only for ``preserve_ring`` on a lattice.
    random_state : seed of every random choice (targets in cluster mode, free directions, noise).
    edges : optional (E, 2) int array of undirected edges between prototypes (e.g. a growing neural
        gas): with ``preserve_ring = n`` the preserved set is then the prototypes within n graph hops
        of the BMU. Give ``grid_shape`` or ``edges``, not both.

    Examples
    --------
    An informed run toward one prototype. ``kappa = 0.1`` asks each step to cut the *squared*
    distance to the target by 10 % (``Δa_t = −κ a_t``) while the squared distances to the other
    prototypes are preserved as far as possible; ``eta`` bounds every step:

    >>> import numpy as np
    >>> from musicsom.inversion import activations
    >>> from musicsom.music import Music, MusicParams
    >>> from musicsom.som import SOM, lattice_ring
    >>> X = np.random.default_rng(0).standard_normal((500, 3))
    >>> som = SOM((6, 5), epochs=10).fit(X)
    >>> W = som.prototypes_
    >>> music = Music(W, MusicParams(alpha=0.9, lam=0.01, kappa=0.1, eta=0.2))
    >>> x0 = X[0]
    >>> a0 = activations(x0, W)                       # squared distances to the 30 prototypes
    >>> target = int(a0.argmax())                     # the farthest one
    >>> path = music.run(x0, 150, "informed", target=target)
    >>> path.states.shape, path.bmus.shape, path.clipped.shape
    ((151, 3), (151,), (150,))
    >>> bool(path.bmus[-1] == target), bool(activations(path.states[-1], W)[target] < 0.01 * a0[target])
    (True, True)
    >>> bool(np.linalg.norm(path.steps, axis=1).max() <= 0.2 + 1e-12)
    True

    Several starts at once with :meth:`run_batch` (one target each); it matches :meth:`run`:

    >>> starts = X[:3]
    >>> targets = activations(starts, W).argmax(1)
    >>> batch = music.run_batch(starts, 150, "informed", targets=targets)
    >>> batch.states.shape, bool(np.array_equal(batch.bmus[:, -1], targets))
    ((3, 151, 3), True)
    >>> bool(np.allclose(batch.states[0], path.states, rtol=0, atol=1e-9))
    True

    Preserving only the lattice 1-ring of the current BMU (needs the map's ``grid_shape``):

    >>> ring = Music(W, MusicParams(preserve_ring=1), grid_shape=(6, 5))
    >>> c = ring.bmu(x0)
    >>> expected = np.setdiff1d(np.union1d(lattice_ring(c, 1, (6, 5)), [c]), [target])
    >>> bool(np.array_equal(ring.preserved_set(x0, exclude=[target]), expected))
    True
    >>> bool(ring.run(x0, 150, "informed", target=target).bmus[-1] == target)
    True

    On a graph (a growing neural gas, or any edges between prototypes), ``preserve_ring = n`` keeps
    the prototypes within n hops of the BMU:

    >>> Wg = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [3.0, 1.0], [3.0, 2.0]])
    >>> chain = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]
    >>> graph = Music(Wg, MusicParams(preserve_ring=1, eta=0.1), edges=chain)
    >>> x = np.array([0.9, 0.3])
    >>> graph.bmu(x), graph.preserved_set(x, exclude=[5]).tolist()   # BMU 1 and its graph neighbours
    (1, [0, 1, 2])
    >>> bool(graph.run(x, 200, "informed", target=5).bmus[-1] == 5)
    True

    The other modes: ``cluster`` (all of a set at once), ``cluster_random`` (one random member per
    step, seeded by ``random_state``) and ``free`` (no target, steps of length η):

    >>> music.run(x0, 20, "cluster", cluster=[0, 1, 2]).targets[:3]   # −1: several targets
    [-1, -1, -1]
    >>> bool(np.allclose(np.linalg.norm(music.run(x0, 5, "free").steps, axis=1), 0.2))
    True
    """

    def __init__(self, prototypes, params: MusicParams | None = None, grid_shape=None, topology="rectangular", random_state=0, edges=None):
        self.W = check_matrix(prototypes, "prototypes", min_rows=2)
        K = self.W.shape[0]
        if params is not None and not isinstance(params, MusicParams):
            raise ValueError(f"params must be a MusicParams; got {type(params).__name__}")
        self.params = (params or MusicParams()).validate()
        topology = _check_topology(topology)
        if grid_shape is not None and edges is not None:
            raise ValueError("give grid_shape (a lattice) or edges (a graph) for the ring, not both")
        if grid_shape is not None:
            # the lattice's check of any grid (a pair of positive integers holding K units); the even rows of a
            # hexagonal torus are checked by lattice_ring, when a ring is needed (Music takes every grid it took)
            grid_shape = _check_grid(grid_shape, n_units=K)
        self.edges = None if edges is None else check_edges(edges, K)
        if self.params.preserve_ring is not None and grid_shape is None and self.edges is None:
            raise ValueError("preserve_ring needs grid_shape (the lattice of the prototypes) or edges (a graph between them)")
        if np.unique(self.W, axis=0).shape[0] < K:
            raise ValueError("prototypes holds duplicate rows; remove them (their Jacobian rows would coincide)")
        self.grid_shape = grid_shape
        self.topology = topology
        self.rng = np.random.default_rng(random_state)
        self._ring_cache: dict = {}
        self._adj = None
        if self.edges is not None:
            adj = [[] for _ in range(K)]
            for i, j in self.edges.tolist():
                adj[i].append(j)
                adj[j].append(i)
            self._adj = [np.asarray(a, dtype=np.int64) for a in adj]

    @property
    def K(self):
        return self.W.shape[0]

    # -- neighbourhoods
    def _bmu(self, x) -> int:
        S, e = _stable_sq_norms(x - self.W)
        if e.any():  # compare at the largest exponent (tiny values may underflow: they are not the minimum's rivals)
            with np.errstate(under="ignore"):
                S = np.ldexp(S, (2 * (e - e.max())).astype(np.int32))
        return int(np.argmin(S))

    def bmu(self, x) -> int:
        """Index of the prototype nearest ``x`` (direct distances)."""
        return self._bmu(self._check_x(x))

    def _ring_base(self, c: int) -> np.ndarray:
        """The BMU ``c`` and its n-ring (lattice) or n-hop neighbourhood (graph), sorted (cached)."""
        n = int(self.params.preserve_ring)
        key = (c, n)
        base = self._ring_cache.get(key)
        if base is None:
            if self._adj is not None:
                seen = {c}
                frontier = [c]
                for _ in range(n):
                    nxt = []
                    for u in frontier:
                        for v in self._adj[u].tolist():
                            if v not in seen:
                                seen.add(v)
                                nxt.append(v)
                    frontier = nxt
                base = np.array(sorted(seen), dtype=np.int64)
            else:
                base = np.union1d(lattice_ring(c, n, self.grid_shape, self.topology), [c]).astype(np.int64)
            self._ring_cache[key] = base
        return base

    def _preserved(self, x, exclude) -> np.ndarray:
        if self.params.preserve_ring is None:
            return np.setdiff1d(np.arange(self.K), exclude)
        return np.setdiff1d(self._ring_base(self._bmu(x)), exclude)

    def preserved_set(self, x, exclude) -> np.ndarray:
        """All prototypes except ``exclude``, or the n-ring (n-hop neighbourhood) of the current BMU, minus ``exclude``."""
        x = self._check_x(x)
        exclude = check_indices(exclude, "exclude", self.K, allow_empty=True)
        return self._preserved(x, exclude)

    def _check_x(self, x):
        return check_vector(x, "x", self.W.shape[1])

    # -- one step of each mode (private versions: validated arguments in, (δ, clipped) out)
    def _step(self, x, targets, preserved, delta_a=None, rel=None, w_T=None, w_P=None, cache=None):
        p = self.params
        if p.sigma_target > 0:
            if rel is not None:
                rel = rel + p.sigma_target * self.rng.standard_normal(rel.shape) * np.abs(rel)
            else:
                delta_a = delta_a + p.sigma_target * self.rng.standard_normal(delta_a.shape) * np.abs(delta_a)
        d = _direction(
            x, self.W, targets, preserved, p.alpha, p.lam, delta_a=delta_a, rel=rel, w_T=w_T, w_P=w_P,
            normalise=p.normalise_rows, per_row_mean=p.per_row_mean, solver=p.solver, jitter=p.jitter, rng=self.rng,
            cache=cache,
        )
        if p.sigma_step > 0:
            d = d + p.sigma_step * self.rng.standard_normal(d.shape)
        return _trust_region(d, p.eta)

    def _informed(self, x, t: int, cache=None):
        targets = np.array([t], dtype=np.int64)
        return self._step(x, targets, self._preserved(x, targets), rel=np.array([-self.params.kappa]), cache=cache)

    def _cluster(self, x, cluster, cache=None):
        p = self.params
        total = np.zeros_like(x)
        y = x.copy()
        clipped = False
        for _ in range(int(p.cluster_passes)):
            d = _stable_norms(y - self.W[cluster])
            med = float(np.median(d))
            width = p.cluster_width * (med if med > 0 else 1.0)
            z = (d - d.min()) / width
            w = np.exp(-0.5 * z * z)
            delta, c = self._step(y, cluster, self._preserved(y, cluster), rel=np.full(cluster.size, -p.kappa), w_T=w, cache=cache)
            y = y + delta
            total = total + delta
            clipped |= c
        total, c = _trust_region(total, p.eta)
        return total, clipped or c

    def _free(self, x):
        p = self.params
        P = self._preserved(x, np.zeros(0, dtype=np.int64))
        J = _rows(x, self.W[P], p.normalise_rows)[0]
        evals, evecs = np.linalg.eigh(J.T @ J)
        q = min(max(int(p.free_subspace), 1), evecs.shape[1])
        u = evecs[:, :q] @ self.rng.standard_normal(q)
        u /= np.linalg.norm(u)  # u mixes orthonormal vectors: its norm is of order 1
        if p.radial_pull > 0:
            toward = self.W[self._bmu(x)] - x
            nrm = float(np.linalg.norm(toward))
            if not (np.isfinite(nrm) and nrm >= _NORM_LO):
                nrm = float(_stable_norms(toward))
            if nrm > 0:
                u = (1 - p.radial_pull) * u + p.radial_pull * toward / nrm
                u /= np.linalg.norm(u)
        d = p.eta * u
        if p.sigma_step > 0:
            return _trust_region(d + p.sigma_step * self.rng.standard_normal(d.shape), p.eta)
        return d, False

    # -- one step of each mode (public)
    def step(self, x, targets, delta_a, preserved=None, weights_target=None, weights_preserved=None) -> np.ndarray:
        """Generic step: change squared distances to ``targets`` by ``delta_a``, preserving ``preserved``.

        Adds the optional step/target noise and applies the trust region. Returns δ.
        """
        x = self._check_x(x)
        targets = check_indices(targets, "targets", self.K)
        # an explicit preserved set must name at least one prototype (None = every other prototype)
        preserved = self._preserved(x, targets) if preserved is None else check_indices(preserved, "preserved", self.K)
        if np.intersect1d(targets, preserved).size:
            raise ValueError("targets and preserved share prototypes; a prototype cannot be both moved and kept")
        try:
            delta_a = np.broadcast_to(np.asarray(delta_a, float), targets.shape).copy()
        except (TypeError, ValueError):
            raise ValueError(f"delta_a must be a number or one value per target ({targets.size}); got {np.shape(delta_a)}") from None
        if not np.all(np.isfinite(delta_a)):
            raise ValueError("delta_a contains NaN or infinite values")
        w_T = _check_weights(weights_target, "weights_target", targets.size)
        w_P = _check_weights(weights_preserved, "weights_preserved", preserved.size)
        return self._step(x, targets, preserved, delta_a=delta_a, w_T=w_T, w_P=w_P)[0]

    def informed_step(self, x, target: int) -> np.ndarray:
        """Reduce the squared distance to one target by the fraction κ: ``Δa_t = −κ a_t``."""
        return self._informed(self._check_x(x), check_int(target, "target", 0, self.K - 1))[0]

    def cluster_step(self, x, cluster) -> np.ndarray:
        """Move toward a set of targets at once, Gaussian weights favouring near ones, several passes."""
        return self._cluster(self._check_x(x), check_indices(cluster, "cluster", self.K))[0]

    def free_step(self, x) -> np.ndarray:
        """No target: a random unit direction in the low-eigenvalue subspace of Ĵ_Pᵀ Ĵ_P (all preserved), length η."""
        return self._free(self._check_x(x))[0]

    # -- trajectories
    def run(self, x0, n_steps: int, mode: str, target=None, cluster=None) -> Trajectory:
        """Run ``n_steps`` of ``mode`` in {"informed", "cluster", "cluster_random", "free"} from ``x0``.

        informed: toward ``target``. cluster: all of ``cluster`` at once. cluster_random: one random
        prototype of ``cluster`` per step (the paper's "random informed within cluster"). free: no target.
        """
        x = self._check_x(x0).copy()
        n_steps = check_int(n_steps, "n_steps", 0)
        if mode == "informed":
            if target is None:
                raise ValueError("informed mode needs target (a prototype index)")
            target = check_int(target, "target", 0, self.K - 1)
        elif mode in ("cluster", "cluster_random"):
            if cluster is None:
                raise ValueError(f"{mode} mode needs cluster (prototype indices)")
            cluster = check_indices(cluster, "cluster", self.K)
        elif mode != "free":
            raise ValueError(f"mode must be 'informed', 'cluster', 'cluster_random' or 'free'; got {mode!r}")
        states = [x.copy()]
        targets = []
        clipped = np.zeros(n_steps, dtype=bool)
        p = self.params
        # the factors of an iterative run live for this run only (a new run starts from a direct step)
        cache = _RunSolver(self.W) if _use_iterative(p.solver, self.W.shape[1], n_steps, p.jitter) else None
        self._last_solver_stats = None
        for i in range(n_steps):
            if mode == "informed":
                (d, c), t = self._informed(x, target, cache), target
            elif mode == "cluster":
                (d, c), t = self._cluster(x, cluster, cache), -1
            elif mode == "cluster_random":
                t = int(self.rng.choice(cluster))
                d, c = self._informed(x, t, cache)
            else:
                (d, c), t = self._free(x), -1
            x = x + d
            states.append(x.copy())
            targets.append(t)
            clipped[i] = c
        if cache is not None:  # for benchmarks: mean PCG iterations, refactorisations per 100 steps
            self._last_solver_stats = cache.factors.stats()
        S = np.asarray(states)
        return Trajectory(S, _bmus_exact(S, self.W), targets, clipped)

    # -- many trajectories at once
    def run_batch(self, X0, n_steps: int, mode: str, targets=None, cluster=None, backend="numpy", device="cpu") -> TrajectoryBatch:
        """Run B trajectories from the rows of ``X0`` (B, D) at once; returns a :class:`TrajectoryBatch`.

        mode "informed": toward ``targets`` (one prototype index per trajectory, shape (B,), or one
        for all). mode "cluster_random": each trajectory draws its own random target in ``cluster``
        at each step (seeded by ``random_state``; not the stream :meth:`run` draws). Informed mode has
        no randomness (without noise parameters) and equals :meth:`run` per trajectory to round-off.
        The noise parameters (sigma_step, sigma_target, jitter) are drawn for the whole batch per step.
        ``backend="torch"`` runs the steps on ``device`` ("cpu", "cuda", "cuda:N", "auto") with PyTorch
        (``pip install torch``): the same draws and the same trajectories, to round-off.

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.inversion import activations
        >>> from musicsom.music import Music, MusicParams
        >>> rng = np.random.default_rng(0)
        >>> W, X0 = rng.standard_normal((30, 3)), rng.standard_normal((4, 3))
        >>> music = Music(W, MusicParams(kappa=0.1, eta=0.2))
        >>> targets = activations(X0, W).argmax(1)        # each start's farthest prototype (squared distances)
        >>> batch = music.run_batch(X0, 150, "informed", targets=targets)
        >>> len(batch), batch.states.shape, batch.targets.shape
        (4, (4, 151, 3), (4, 150))
        >>> bool(np.array_equal(batch.bmus[:, -1], targets))
        True
        >>> one = music.run(X0[2], 150, "informed", target=int(targets[2]))
        >>> bool(np.allclose(batch.trajectory(2).states, one.states, rtol=0, atol=1e-9))
        True
        >>> music.run_batch(X0, 10, "cluster_random", cluster=[0, 1, 2]).targets.shape
        (4, 10)
        """
        K, D = self.W.shape
        X = check_matrix(X0, "X0", ncols=D).copy()
        B = X.shape[0]
        T = check_int(n_steps, "n_steps", 0)
        tg = None
        if mode == "informed":
            if targets is None:
                raise ValueError("informed mode needs targets (one prototype index per trajectory)")
            tg = np.asarray(targets)
            if not np.issubdtype(tg.dtype, np.integer) or tg.ndim > 1:
                raise ValueError(f"targets must be an integer prototype index or one per trajectory, shape ({B},); got {tg.dtype} {tg.shape}")
            tg = np.broadcast_to(tg, (B,)).astype(np.int64) if tg.ndim == 0 else tg.astype(np.int64)
            if tg.shape != (B,):
                raise ValueError(f"targets must hold one prototype index per trajectory ({B}); got shape {tg.shape}")
            if tg.size and (tg.min() < 0 or tg.max() >= K):
                raise ValueError(f"targets holds indices outside [0, {K - 1}] (there are {K} prototypes)")
        elif mode == "cluster_random":
            if cluster is None:
                raise ValueError("cluster_random mode needs cluster (prototype indices)")
            cluster = check_indices(cluster, "cluster", K)
        else:
            raise ValueError(f"run_batch supports mode 'informed' or 'cluster_random'; got {mode!r} (use run() for 'cluster' and 'free')")
        from ._torch_backend import _check_backend

        if _check_backend(backend, device)[0] == "torch":  # torch itself is imported only here
            from ._torch_backend import _music_run

            return _music_run(self, X, T, mode, tg, cluster, device)
        from .music_batch import _run  # imported here: music_batch builds on this module

        return _run(self, X, T, mode, tg, cluster)
