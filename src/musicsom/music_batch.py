"""Batched MUSIC: many trajectories at once, the engine behind :meth:`musicsom.music.Music.run_batch`.

Each step gives every trajectory a weight per Jacobian row (``c_P`` for preserved, ``c_T ω`` for its
target, 0 for padding), stacks ``M_b`` (B, k, D) and factors all ``G_b`` by one stacked Cholesky
(numpy), which also finds the systems that need the single solver's fallback (Cholesky fails, or the
scale leaves the safe range); systems of size at most 256 are then solved by one stacked LU (numpy's
C loop), larger ones by triangular solves on the Cholesky factors. With every other prototype
preserved, ``k = K`` (no gather); with a ring or graph neighbourhood, each trajectory gathers its own
rows, padded to the largest set with zero-weight rows, and the dual (k × k) form is used when
``k < D`` (as ``solver="auto"`` does for one trajectory; padding rows are zero rows of ``M``, so both
forms stay exact).

Iteratively (``solver`` "iterative", or "auto" with D >= 128 over at least 4 steps; every other prototype
preserved, K >= D, no jitter): each trajectory keeps the Cholesky factor of its last direct step (float32,
B·D² values) and the others of a step run preconditioned conjugate gradients together, each iteration two
products of W with all their directions and one pair of triangular solves per trajectory. A trajectory
without a usable factor (the first step, a renewal after a step that cost more than its cycle's average,
a PCG that gave up, numbers out of range) takes the stacked direct solve above, which leaves its new
factor. See :mod:`musicsom.music` for the stopping rule and the accuracy (steps equal to ~1e-12).

The single step, its numerics and the validation live in :mod:`musicsom.music`; this module reuses
its private building blocks (wanted changes, energy weights, the scaled single solver as fallback,
the trust region), so that informed mode equals :meth:`~musicsom.music.Music.run` per trajectory to
round-off. The functions here take arguments :meth:`Music.run_batch` has already validated.

Examples
--------
>>> import numpy as np
>>> from musicsom.music import Music
>>> from musicsom.music_batch import TrajectoryBatch
>>> W, X0 = np.random.default_rng(0).standard_normal((30, 3)), np.zeros((2, 3))
>>> batch = Music(W).run_batch(X0, 5, "informed", targets=[0, 1])
>>> isinstance(batch, TrajectoryBatch), len(batch), batch.steps.shape
(True, 2, (2, 5, 3))
>>> batch.trajectory(1).targets
[1, 1, 1, 1, 1]
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_solve

from ._validation import _SQ_LO as _SQ_LO_ROWS
from ._validation import _stable_sq_norms
from .music import (
    _NORM_LO,
    _OVERFLOW,
    _SAFE_HI,
    _SAFE_LO,
    TrajectoryBatch,
    _bmus_exact,
    _FACTOR_BUDGET,
    _energy_coefficients,
    _Factors,
    _form,
    _Frame,
    _Implicit,
    _pcg,
    _ridge_lstsq,
    _rows,
    _solve,
    _trust_region,
    _use_iterative,
    _wanted,
)

__all__ = ["TrajectoryBatch"]  # defined in musicsom.music (the result of Music.run_batch); importable from here too

# trajectories × rows × features held at once (16 MiB of float64)
_CHUNK_ELEMENTS = 1 << 21
# largest system (D or k) solved as one stacked LU by numpy rather than by per-system Cholesky solves
_STACKED_SOLVE_MAX = 256


def _trust_region_rows(delta, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """The single trust region for each row of ``delta`` (B, D): (clipped rows, which were clipped) (private)."""
    with np.errstate(over="ignore", under="ignore"):
        n = np.sqrt(np.einsum("ij,ij->i", delta, delta))
    ok = np.isfinite(n) & (n >= _NORM_LO)
    clip = ok & (n > eta)
    out = delta.copy()
    out[clip] = delta[clip] * (eta / n[clip])[:, None]
    for b in np.flatnonzero(~ok):
        out[b], clip[b] = _trust_region(delta[b], eta)
    return out, clip


def _run(music, X, n_steps: int, mode: str, targets, cluster) -> TrajectoryBatch:
    """The trajectories of :meth:`Music.run_batch` from the rows of ``X`` (validated: ``targets`` (B,) in
    informed mode, ``cluster`` in cluster_random mode) (private)."""
    p = music.params
    B, D = X.shape
    T = n_steps
    states = np.empty((B, T + 1, D))
    states[:, 0] = X
    tgt = np.empty((B, T), dtype=np.int64)
    clipped = np.zeros((B, T), dtype=bool)
    bmus = np.empty((B, T + 1), dtype=np.int64)
    K = music.K
    # iterative: every other prototype preserved (k = K rows, the same set at every step, so one factor per
    # trajectory serves until it is renewed) and the primal form (K >= D); a ring gives small dual systems
    iterative = p.preserve_ring is None and _form(p.solver, K, D) == "primal" and _use_iterative(p.solver, D, T, p.jitter)
    if p.solver == "auto" and 4.0 * B * D * D > _FACTOR_BUDGET:
        iterative = False  # the held factors would not fit the memory budget
    frame = _Frame(music.W) if iterative else None
    factors = _Factors(B) if iterative else None
    music._last_solver_stats = None
    for t in range(T):
        tt = targets if mode == "informed" else cluster[music.rng.integers(0, cluster.size, size=B)]
        rel = np.full(B, -p.kappa)
        if p.sigma_target > 0:
            rel = rel + p.sigma_target * music.rng.standard_normal(B) * np.abs(rel)
        if iterative:
            d, bm = _directions_iterative(music, X, tt, rel, frame, factors)
        else:
            d, bm = _directions(music, X, tt, rel)
        bmus[:, t] = bm
        if p.sigma_step > 0:
            d = d + p.sigma_step * music.rng.standard_normal(d.shape)
        d, clipped[:, t] = _trust_region_rows(d, p.eta)
        X = X + d
        states[:, t + 1] = X
        tgt[:, t] = tt
    bmus[:, T] = _bmus_exact(X, music.W)
    if factors is not None:  # for benchmarks: mean PCG iterations, refactorisations per 100 trajectory-steps
        music._last_solver_stats = factors.stats()
    return TrajectoryBatch(states, bmus, tgt, clipped)


def _directions_iterative(music, X, tt, rel, frame, factors) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_directions` with every other prototype preserved, by PCG where a trajectory holds a factor (private).

    Trajectories without a usable factor (the first step, a renewal, a PCG that gave up, numbers out of
    the implicit products' range) take the direct stacked solve of :func:`_directions`, which leaves
    their new factors in ``factors``. The others run PCG together: each iteration is two products of W
    with all their directions (BLAS-3) and one pair of triangular solves per trajectory.
    """
    p = music.params
    W = music.W
    K, D = W.shape
    B = X.shape[0]
    out = np.empty((B, D))
    bmus = np.empty(B, dtype=np.int64)
    use = np.array([factors.usable(b, None) for b in range(B)], dtype=bool) & frame.ok
    sub = np.flatnonzero(use)
    direct = np.flatnonzero(~use)
    if sub.size:
        Xs, ts = X[sub], tt[sub]
        J_t, d_t, S_t, e_t = _rows(Xs, W[ts], p.normalise_rows)
        delta = _wanted(d_t, S_t, e_t, p.normalise_rows, rel=rel[sub])
        c_P, c_T = _energy_coefficients(p.alpha, K - 1, 1, p.per_row_mean)
        s_T = np.sqrt(c_T)
        with np.errstate(over="ignore", invalid="ignore"):
            y_t = s_T * delta
        if not np.all(np.isfinite(y_t)):
            raise ValueError(_OVERFLOW)
        my = np.abs(y_t)
        ok = (my == 0.0) | ((my >= _SAFE_LO) & (my <= _SAFE_HI))
        wP = np.full((sub.size, K), float(c_P))
        wP[np.arange(sub.size), ts] = 0.0
        E = s_T * J_t
        system = _Implicit(frame, Xs, wP, E, np.arange(sub.size), p.lam, p.normalise_rows)
        ok &= system.ok
        if not ok.all():  # rare: rebuild on the systems in range, the others go direct
            keep = np.flatnonzero(ok)
            direct = np.concatenate([direct, sub[~ok]])
            sub, Xs, wP, E, y_t = sub[keep], Xs[keep], wP[keep], E[keep], y_t[keep]
            system = _Implicit(frame, Xs, wP, E, np.arange(sub.size), p.lam, p.normalise_rows)
        if sub.size:
            rhs = E * y_t[:, None]  # Mᵀ y: y is non-zero at the target row only
            sol, its, conv = _pcg(system, rhs, factors.U, sub)
            conv &= np.all(np.isfinite(sol), axis=1)
            for j in np.flatnonzero(conv):
                factors.record(int(sub[j]), int(its[j]))
            out[sub[conv]] = sol[conv]
            bmus[sub] = _bmus_exact(X[sub], W)
            direct = np.concatenate([direct, sub[~conv]])
    if direct.size:
        direct = np.sort(direct)
        held = [None] * direct.size
        out[direct], bmus[direct] = _directions(music, X[direct], tt[direct], rel[direct], held)
        for b, L in zip(direct.tolist(), held):
            factors.store(b, L, None)
    return out, bmus


def _step_rows(music, X, tt):
    """Row sets of one batch step (private).

    Returns ``(idx, tcol, members, n_P, bmus)``: ``idx`` (B, k) prototype rows of each trajectory, or
    None for all K; ``tcol`` (B,) the column of each trajectory's target; ``members`` (B, k) the real
    (not padding) rows, or None; ``n_P`` (B,) preserved counts; ``bmus`` (B,) or None (not needed).
    """
    B = X.shape[0]
    if music.params.preserve_ring is None:
        return None, tt, None, np.full(B, music.K - 1), None
    bm = _bmus_exact(X, music.W)
    # the cached ring is sorted and unique: dropping the target keeps it so (what setdiff1d gives, 20x faster)
    sets = [(lambda base, t: base[base != t])(music._ring_base(int(c)), t) for c, t in zip(bm, tt)]
    n_P = np.array([s.size for s in sets], dtype=np.int64)
    k = int(n_P.max()) + 1
    idx = np.repeat(tt[:, None], k, axis=1)  # the target after the preserved rows; padding repeats it, with weight 0
    members = np.zeros((B, k), dtype=bool)
    for b, s in enumerate(sets):
        idx[b, : s.size] = s
        members[b, : s.size + 1] = True
    return idx, n_P, members, n_P, bm


def _directions(music, X, tt, rel, factors=None) -> tuple[np.ndarray, np.ndarray]:
    """MUSIC directions (before noise and trust region) of every row of ``X`` toward ``tt``, and the BMUs of ``X`` (private).

    ``factors``: None, or a list (one entry per row of X) that receives each primal system's lower Cholesky
    factor (None where the solve fell back), for the iterative steps that follow.
    """
    p = music.params
    W = music.W
    K, D = W.shape
    B = X.shape[0]
    idx, tcol_all, members_all, n_P_all, bmus = _step_rows(music, X, tt)
    if bmus is None:
        bmus = np.empty(B, dtype=np.int64)
        record = True
    else:
        record = False
    k = K if idx is None else idx.shape[1]
    out = np.empty((B, D))
    step = max(1, _CHUNK_ELEMENTS // max(k * D, 1))
    for s in range(0, B, step):
        sl = slice(s, s + step)
        Xc = X[sl]
        n = Xc.shape[0]
        ar = np.arange(n)
        R = Xc[:, None, :] - (W[None, :, :] if idx is None else W[idx[sl]])
        with np.errstate(over="ignore", under="ignore"):
            S = np.einsum("nkd,nkd->nk", R, R)
        if np.all(S >= _SQ_LO_ROWS) and np.all(S < np.inf):
            e = None
            d = np.sqrt(S)
        else:
            S, e = _stable_sq_norms(R)
            d = np.ldexp(np.sqrt(S), e.astype(np.int32))
        if record:  # all K rows: the BMUs come with the distances
            bmus[sl] = S.argmin(1) if e is None else _bmus_exact(Xc, W)
        tcol = tcol_all[sl]
        e_t = np.zeros(n, dtype=np.int64) if e is None else e[ar, tcol]
        delta = _wanted(d[ar, tcol], S[ar, tcol], e_t, p.normalise_rows, rel=rel[sl])
        c_P, c_T = _energy_coefficients(p.alpha, n_P_all[sl], 1, p.per_row_mean)
        wts = np.broadcast_to(np.asarray(c_P, dtype=np.float64).reshape(-1, 1), (n, k)).copy()
        if members_all is not None:
            wts[~members_all[sl]] = 0.0
        wts[ar, tcol] = c_T
        sw = np.sqrt(wts)
        # M = Ĵ · √w row by row, in place of R (a zero row where x sits on the prototype)
        if p.normalise_rows:
            pos = d > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.where(pos, sw / np.where(pos, d, 1.0), 0.0)
        else:
            f = 2.0 * sw
        R *= f[..., None]
        M = R
        with np.errstate(over="ignore", invalid="ignore"):
            y_t = np.sqrt(c_T) * delta
        if p.jitter > 0:
            E = music.rng.standard_normal(M.shape)
            if members_all is not None:
                E *= members_all[sl][..., None]
            E /= np.sqrt((E * E).sum(axis=(1, 2)))[:, None, None]
            M += p.jitter * E
            mM = None
        elif p.normalise_rows:
            # unit rows: max |M_b| lies in [u / √D, u] with u the largest √w over rows off the point
            u = (sw * (d > 0)).max(1)
            mM = np.where((u >= _SAFE_LO * np.sqrt(D)) & (u <= _SAFE_HI), 1.0, np.where(u > 0, np.nan, 0.0))
        else:
            mM = None
        held = None if factors is None else [None] * n
        out[sl] = _solve_stacked(M, y_t, tcol, p.lam, p.solver, mM, held)
        if factors is not None:
            factors[s : s + n] = held
    return out, bmus


def _solve_stacked(M, y_t, tcol, lam: float, solver: str, mM=None, factors=None) -> np.ndarray:
    """Stacked single solves of (n, k, D) systems whose ``y`` is ``y_t`` at column ``tcol`` and 0 elsewhere (private).

    One stacked Cholesky (numpy), then one stacked LU solve for systems of size <= 256 or triangular
    solves on the factors (scipy) for larger ones; per-trajectory fallbacks
    where Cholesky fails (least squares, as the single solver) or the scale leaves the safe range
    (the scaled single solver). ``mM``: 1 where max |M_b| is known to be in the safe range, 0 where
    M_b is 0, NaN where unknown; None = compute it. ``factors``: None, or a list of n that receives the
    lower Cholesky factor of each primal system solved by it (the others keep None).
    """
    n, k, D = M.shape
    solver = _form(solver, k, D)
    if not np.all(np.isfinite(y_t)):
        raise ValueError(_OVERFLOW)
    out = np.zeros((n, D))
    my = np.abs(y_t)
    if mM is None or np.any(np.isnan(mM)):
        mM_true = np.abs(M).max(axis=(1, 2))
        m_ok = (mM_true >= _SAFE_LO) & (mM_true <= _SAFE_HI)
        m_live = mM_true > 0
    else:
        m_ok = mM == 1.0
        m_live = mM > 0
    live = (my > 0) & m_live
    fast = live & m_ok & (my >= _SAFE_LO) & (my <= _SAFE_HI)
    for b in np.flatnonzero(live & ~fast):
        y = np.zeros(k)
        y[tcol[b]] = y_t[b]
        out[b] = _solve(M[b], y, lam, solver)
    if not fast.any():
        return out
    if fast.all():
        Mf, yf, tf = M, y_t, tcol
    else:
        Mf, yf, tf = M[fast], y_t[fast], tcol[fast]
    nf = Mf.shape[0]
    arf = np.arange(nf)
    Mt = Mf.transpose(0, 2, 1)
    if solver == "primal":
        G = Mt @ Mf  # Mᵀ M per trajectory (numpy uses syrk for a matrix times its own transpose)
        rhs = Mf[arf, tf] * yf[:, None]  # Mᵀ y: y has one non-zero entry
    else:
        G = Mf @ Mt
        rhs = np.zeros((nf, k))
        rhs[arf, tf] = yf
    m = G.shape[-1]
    G[:, np.arange(m), np.arange(m)] += lam
    try:
        L = np.linalg.cholesky(G)
        ok = np.ones(nf, dtype=bool)
    except np.linalg.LinAlgError:
        L = np.zeros_like(G)
        ok = np.zeros(nf, dtype=bool)
        for i in range(nf):
            try:
                L[i] = np.linalg.cholesky(G[i])
                ok[i] = True
            except np.linalg.LinAlgError:
                pass
    z = np.zeros_like(rhs)
    if ok.any():
        if m <= _STACKED_SOLVE_MAX:
            # small systems: one stacked LU solve in numpy's C loop (scipy's batched cho_solve loops in Python,
            # which dominates at these sizes); the Cholesky above still decides which systems need the fallback
            Gk = G if ok.all() else G[ok]
            z[ok] = np.linalg.solve(Gk, rhs[ok][..., None])[..., 0]
        else:
            Lk = L if ok.all() else L[ok]
            z[ok] = cho_solve((Lk, True), rhs[ok][..., None], check_finite=False)[..., 0]
    if factors is not None and solver == "primal":
        for i, f in enumerate(np.flatnonzero(fast).tolist()):
            if ok[i]:
                factors[f] = L[i]
    sol = z if solver == "primal" else (Mt @ z[..., None])[..., 0]
    for i in np.flatnonzero(~ok):
        y = np.zeros(k)
        y[tf[i]] = yf[i]
        sol[i] = _ridge_lstsq(Mf[i], y, lam)
    if not np.all(np.isfinite(sol)):
        raise ValueError(_OVERFLOW)
    out[fast] = sol
    return out
