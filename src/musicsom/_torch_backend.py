"""Optional torch backend of :meth:`musicsom.som.SOM.fit` and :meth:`musicsom.music.Music.run_batch` (private).

``SOM(..., backend="torch", device="cuda")`` and ``Music.run_batch(..., backend="torch", device="cuda")``
run here. PyTorch is imported only when a torch backend is asked for (the library itself needs numpy and
scipy only); without it the call raises an ImportError that says ``pip install torch``.

Devices: ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` or ``"auto"`` (cuda when available, else cpu);
an unavailable device raises a RuntimeError naming it. Everything runs in float64 (the numpy path's
precision), which Apple's MPS does not offer: ``"mps"`` raises NotImplementedError.

What stays numpy's, so that the torch path gives the numpy path's results to round-off:

- SOM: validation, the initial prototypes, the sigma schedule, the frame and dtype of the BMU search
  (``bmu_dtype``, with its float64 fallback for data float32 cannot resolve) are computed by
  :class:`~musicsom.som.SOM` as usual; only the epochs (BMU search, per-unit sums, neighbourhood update)
  run on the device, with the same formulas (separable kernel on rectangular and toroidal lattices,
  dense blocks on hexagonal ones, the same ``denom`` guard). ``history_`` and ``callback(epoch, sigma, W)``
  behave as in numpy (``W`` a numpy array; a copy from a GPU, so a callback that writes into it does
  not change the training there). ``n_threads`` and ``chunk_size`` concern the numpy search and are
  not used (torch has its own threads: ``torch.set_num_threads``).
- Music: the random draws (cluster targets, noise, jitter) are made by the :class:`~musicsom.music.Music`
  generator with numpy, in the numpy engine's order and shapes, then moved to the device; the wanted
  changes (``_wanted``), the energy weights (``_energy_coefficients``), the per-system fallbacks of
  the stacked solve (the scaled single solver where M or y leave the safe range, least squares where
  Cholesky fails, as flagged by ``torch.linalg.cholesky_ex``) and the rare trust-region rows whose norm
  leaves the plain range are numpy's own functions, applied to the few rows concerned. A step whose
  distances leave the plain float64 range (far outliers, absurd scales) is run by the numpy engine
  with the generator's state rewound, so it draws the same numbers. Supported: modes ``"informed"``
  and ``"cluster_random"`` (those of ``run_batch``), all-preserved and ring (lattice or graph)
  neighbourhoods, every noise parameter, the direct solvers ``"auto"``, ``"direct"``, ``"primal"``,
  ``"dual"`` (``"auto"`` always solves directly here: the smaller form, stacked Cholesky); ``"iterative"``
  (and any other) raises NotImplementedError.

Results agree with numpy's to round-off (1e-16 to 1e-14 relative measured on CPU torch): sums are taken in
another order (BLAS, reductions, atomics on a GPU), so a sample or a state lying on a tie between two
units to the last bits may be assigned differently, as between two BLAS libraries.

Examples
--------
>>> import numpy as np
>>> from musicsom.som import SOM
>>> X = np.random.default_rng(0).standard_normal((400, 3))
>>> a = SOM((5, 4), epochs=8).fit(X)
>>> b = SOM((5, 4), epochs=8, backend="torch", device="cpu").fit(X)
>>> bool(np.allclose(a.prototypes_, b.prototypes_, rtol=1e-10, atol=0))
True
>>> bool(np.array_equal(a.predict(X), b.predict(X)))
True
"""

from __future__ import annotations

import re

import numpy as np

BACKENDS = ("numpy", "torch")
_DEVICE = re.compile(r"cpu|cuda(:[0-9]+)?|mps|auto")
# trajectories × rows × features of a Music chunk (float64): cache-sized on a CPU, large on a GPU
_CHUNK_CPU, _CHUNK_GPU = 1 << 22, 1 << 26
# scores (rows × units) of one SOM BMU block
_BMU_BLOCK_CPU, _BMU_BLOCK_GPU = 1 << 22, 1 << 25  # MKL's products of fewer rows ran ~2x slower per flop
# hexagonal lattices keep their K × K squared lattice distances on the device up to this many entries
_HEX_CACHE = 1 << 24


# ---------------------------------------------------------------- validation (no torch needed)
def _check_backend(backend, device) -> tuple[str, str]:
    """(backend, device) checked without importing torch (private): the names only, not availability."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be 'numpy' or 'torch'; got {backend!r}")
    if not isinstance(device, str) or not _DEVICE.fullmatch(device):
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto'; got {device!r}")
    if backend == "numpy" and device != "cpu":
        # a GPU device with the numpy backend would silently run on the CPU
        raise ValueError(f"device={device!r} needs backend='torch' (the numpy backend runs on the CPU: device='cpu')")
    return backend, device


def _import_torch():
    """The torch module, or an ImportError saying how to install it (private)."""
    try:
        import torch
    except ImportError as e:
        raise ImportError(
            "backend='torch' needs PyTorch, which is not installed: pip install torch "
            "(see https://pytorch.org for a CUDA build), or use backend='numpy'"
        ) from e
    return torch


def resolve_device(device: str = "auto"):
    """The ``torch.device`` that ``device`` names, checked to be available.

    ``"auto"`` is ``"cuda"`` when ``torch.cuda.is_available()``, else ``"cpu"``. A CUDA or MPS device
    that this torch cannot use raises a RuntimeError; ``"mps"`` raises NotImplementedError where it is
    available (MPS has no float64, which the torch backend computes in); a malformed name a ValueError;
    a missing torch an ImportError naming ``pip install torch``.

    Examples
    --------
    >>> from musicsom._torch_backend import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("gpu")
    Traceback (most recent call last):
        ...
    ValueError: device must be 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto'; got 'gpu'
    """
    _check_backend("torch", device)
    torch = _import_torch()
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            built = torch.version.cuda or "none: a CPU-only build"
            raise RuntimeError(
                f"device={device!r}, but CUDA is not available to this torch {torch.__version__} "
                f"(its CUDA: {built}; no visible GPU or driver otherwise); use device='cpu', or 'auto' to take a GPU only when there is one"
            )
        count = torch.cuda.device_count()
        if ":" in device and int(device.split(":")[1]) >= count:
            raise RuntimeError(f"device={device!r}, but this machine has {count} CUDA device(s): cuda:0 to cuda:{count - 1}")
    if device == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise RuntimeError("device='mps', but MPS (Apple GPU) is not available to this torch; use device='cpu'")
        raise NotImplementedError("device='mps' is not supported: MPS has no float64, which the torch backend computes in; use device='cpu'")
    return torch.device(device)


def _is_cuda(dev) -> bool:
    return dev.type == "cuda"


def _tensor(torch, a, dev):
    """numpy array ``a`` on ``dev`` (private): a copy where ``a`` is read-only, which torch does not support sharing."""
    a = np.asarray(a)
    return torch.as_tensor(a if a.flags.writeable and a.flags.c_contiguous else np.array(a, order="C"), device=dev)


# ---------------------------------------------------------------- SOM epochs
def _som_epochs(X, W, search, grid_shape, p, sigmas, history, callback) -> np.ndarray:
    """The epochs of :meth:`SOM.fit` on a torch device, as ``SOM._epochs`` does them in numpy (private).

    ``search`` is fit's ``_TrainingBmus``: its augmented data ``Xa = [X in the frame, 1]`` (float64 or
    float32) and ``frame`` are reused, so the BMU search has numpy's precision and frame. Returns the
    final (K, D) prototypes as a numpy array. Arguments are fit's, validated.
    """
    from .lattice import _gaussian_1d, _hex_sq_block, _is_hex

    torch = _import_torch()
    dev = resolve_device(p["device"])
    f64 = torch.float64
    rows, cols = grid_shape
    topology = p["topology"]
    hexa = _is_hex(topology)
    tor = topology == "toroidal"
    n, D = X.shape
    K = W.shape[0]
    Xt = _tensor(torch, np.asarray(X, dtype=np.float64), dev)
    Xa = _tensor(torch, search.Xa, dev)
    frame = search.frame
    if frame is not None:
        centre = None if frame[0] is None else _tensor(torch, np.asarray(frame[0], dtype=np.float64), dev)
        scale = float(frame[1])
    Wt = _tensor(torch, np.array(W, dtype=np.float64), dev)
    block = max(1, min(n, (_BMU_BLOCK_GPU if _is_cuda(dev) else _BMU_BLOCK_CPU) // K))
    bmu = torch.empty(n, dtype=torch.int64, device=dev)
    hex_sq = None
    hex_step = max(1, (1 << 22) // K)
    if hexa and K * K <= _HEX_CACHE:  # constant over the epochs: computed once
        hex_sq = _tensor(torch, _hex_sq_block(np.arange(K), rows, cols, topology == "hexagonal_toroidal"), dev)
    for epoch, sigma in enumerate(sigmas):
        # BMUs: [x, 1] · [−2w, ||w||²]ᵀ per row block, in the search's dtype and frame (as _bmu_augmented)
        Wf = Wt
        if frame is not None:
            Wf = Wf if centre is None else Wf - centre
            Wf = Wf / scale if scale != 1.0 else Wf
        Wa = torch.empty((K, D + 1), dtype=Xa.dtype, device=dev)
        Wa[:, :D] = -2.0 * Wf
        Wa[:, D] = (Wf * Wf).sum(1)
        WaT = Wa.T
        for s in range(0, n, block):
            bmu[s : s + block] = torch.argmin(Xa[s : s + block] @ WaT, dim=1)  # ties: the first (numpy's rule)
        sums = torch.zeros((K, D), dtype=f64, device=dev).index_add_(0, bmu, Xt)
        counts = torch.bincount(bmu, minlength=K).to(f64)
        sigma_f = float(sigma)
        if hexa:
            denom = torch.empty(K, dtype=f64, device=dev)
            numer = torch.empty((K, D), dtype=f64, device=dev)
            for s in range(0, K, hex_step):
                units = np.arange(s, min(K, s + hex_step))
                if hex_sq is not None:
                    sq = hex_sq[s : s + units.size]
                else:
                    sq = _tensor(torch, _hex_sq_block(units, rows, cols, topology == "hexagonal_toroidal"), dev)
                H = torch.exp(-sq / (2.0 * sigma_f**2))
                denom[s : s + units.size] = H @ counts
                numer[s : s + units.size] = H @ sums
        else:
            # separable neighbourhood: H = H_rows ⊗ H_cols (the same small numpy kernels as the numpy path)
            h_r = _tensor(torch, _gaussian_1d(rows, sigma_f, tor), dev)
            h_c = _tensor(torch, _gaussian_1d(cols, sigma_f, tor), dev)
            denom = (h_r @ counts.reshape(rows, cols) @ h_c).reshape(K)
            numer = (h_c @ (h_r @ sums.reshape(rows, cols * D)).reshape(rows, cols, D)).reshape(K, D)
        ok = denom > 1e-12 * torch.clamp(denom.max(), min=1e-300)
        Wt = torch.where(ok[:, None], numer / torch.where(ok, denom, 1.0)[:, None], Wt)
        history.append({"epoch": epoch, "sigma": float(sigma)})
        if callback is not None:
            callback(epoch, sigma, Wt.cpu().numpy())
    return Wt.cpu().numpy().copy()


# ---------------------------------------------------------------- batched MUSIC
class _NotPlain(Exception):
    """A step's distances leave the plain float64 range: the numpy engine runs it (private)."""


def _music_run(music, X, n_steps: int, mode: str, targets, cluster, device):
    """The trajectories of :meth:`Music.run_batch` on a torch device; ``music_batch._run`` step for step (private).

    Arguments are run_batch's, validated. Returns a :class:`~musicsom.music.TrajectoryBatch` of numpy arrays.
    """
    from .music import TrajectoryBatch, _bmus_exact
    from .music_batch import _directions

    p = music.params
    if p.solver not in ("auto", "direct", "primal", "dual"):
        # the torch engine solves every step directly (stacked Cholesky): no iterative solver here
        raise NotImplementedError(
            f"backend='torch' supports solver 'auto', 'direct', 'primal' or 'dual' (direct solves); got {p.solver!r} (use backend='numpy')")
    torch = _import_torch()
    dev = resolve_device(device)
    f64 = torch.float64
    B, D = X.shape
    T = n_steps
    Wt = _tensor(torch, np.asarray(music.W, dtype=np.float64), dev)
    Xt = _tensor(torch, np.array(X, dtype=np.float64), dev)
    states = torch.empty((B, T + 1, D), dtype=f64, device=dev)
    states[:, 0] = Xt
    tgt = np.empty((B, T), dtype=np.int64)
    clipped = torch.zeros((B, T), dtype=torch.bool, device=dev)
    bmus = np.empty((B, T + 1), dtype=np.int64)
    for t in range(T):
        # the draws of music_batch._run, in its order: targets, target noise, (jitter), step noise
        tt = targets if mode == "informed" else cluster[music.rng.integers(0, cluster.size, size=B)]
        rel = np.full(B, -p.kappa)
        if p.sigma_target > 0:
            rel = rel + p.sigma_target * music.rng.standard_normal(B) * np.abs(rel)
        state = music.rng.bit_generator.state
        try:
            d, bm = _directions_t(torch, music, Wt, Xt, tt, rel)
        except _NotPlain:
            music.rng.bit_generator.state = state  # the numpy engine draws the same jitter again
            d_np, bm = _directions(music, Xt.cpu().numpy(), tt, rel)
            d = _tensor(torch, d_np, dev)
        bmus[:, t] = bm
        if p.sigma_step > 0:
            d = d + _tensor(torch, p.sigma_step * music.rng.standard_normal((B, D)), dev)
        d, clipped[:, t] = _trust_region_rows_t(torch, d, p.eta)
        Xt = Xt + d
        states[:, t + 1] = Xt
        tgt[:, t] = tt
    S = states.cpu().numpy()
    bmus[:, T] = _bmus_exact(S[:, T], music.W)
    return TrajectoryBatch(S, bmus, tgt, clipped.cpu().numpy())


def _chunk(dev) -> int:
    return _CHUNK_GPU if _is_cuda(dev) else _CHUNK_CPU


def _plain(torch, S) -> bool:
    """Whether every squared distance lies in the range where plain sums of squares are exact (private)."""
    from ._validation import _SQ_LO

    return bool(((S >= _SQ_LO) & (S < float("inf"))).all())


def _bmus_t(torch, X, W) -> np.ndarray:
    """Nearest prototype of each row by direct squared distances, ties to the lower index (private; raises _NotPlain)."""
    B, D = X.shape
    K = W.shape[0]
    out = torch.empty(B, dtype=torch.int64, device=X.device)
    step = max(1, _chunk(X.device) // max(K * D, 1))
    for s in range(0, B, step):
        R = X[s : s + step, None, :] - W[None]
        S = (R * R).sum(-1)
        if not _plain(torch, S):
            raise _NotPlain
        out[s : s + step] = S.argmin(1)
    return out.cpu().numpy()


def _ring_rows(music, bm, tt):
    """(idx, tcol, members, n_P) of a ring neighbourhood, as ``music_batch._step_rows`` builds them (private)."""
    B = bm.shape[0]
    # the cached ring is sorted and unique: dropping the target keeps it so
    sets = [(lambda base, t: base[base != t])(music._ring_base(int(c)), t) for c, t in zip(bm, tt)]
    n_P = np.array([s.size for s in sets], dtype=np.int64)
    k = int(n_P.max()) + 1
    idx = np.repeat(np.asarray(tt)[:, None], k, axis=1)  # the target after the preserved rows; padding repeats it, weight 0
    members = np.zeros((B, k), dtype=bool)
    for b, s in enumerate(sets):
        idx[b, : s.size] = s
        members[b, : s.size + 1] = True
    return idx, n_P, members, n_P


def _directions_t(torch, music, W, X, tt, rel):
    """MUSIC directions (B, D) on the device before noise and trust region, and the BMUs of ``X`` (numpy);
    ``music_batch._directions`` in torch (private; raises _NotPlain for data outside the plain range)."""
    from .music import _SAFE_HI, _SAFE_LO, _bmus_exact, _energy_coefficients, _wanted

    p = music.params
    K, D = W.shape
    B = X.shape[0]
    dev = X.device
    f64 = torch.float64
    if p.preserve_ring is None:
        idx = members = None
        tcol_all, n_P_all = np.asarray(tt, dtype=np.int64), np.full(B, K - 1)
        bmus_t = torch.empty(B, dtype=torch.int64, device=dev)  # come with the distances to all K rows
        bmus = None
    else:
        # on the CPU numpy's exact search (product screen, direct re-rank) is faster than direct distances,
        # and X is shared, not copied
        bmus = _bmus_exact(X.numpy(), music.W) if dev.type == "cpu" else _bmus_t(torch, X, W)
        idx, tcol_all, members, n_P_all = _ring_rows(music, bmus, tt)
        idx_t = _tensor(torch, idx, dev)
        members_t = _tensor(torch, members, dev)
    k = K if idx is None else idx.shape[1]
    out = torch.empty((B, D), dtype=f64, device=dev)
    step = max(1, _chunk(dev) // max(k * D, 1))
    for s in range(0, B, step):
        sl = slice(s, s + step)
        Xc = X[sl]
        n = Xc.shape[0]
        ar = torch.arange(n, device=dev)
        R = Xc[:, None, :] - (W[None, :, :] if idx is None else W[idx_t[sl]])
        S = (R * R).sum(-1)
        if not _plain(torch, S):
            raise _NotPlain
        d = torch.sqrt(S)
        if bmus is None:
            bmus_t[sl] = S.argmin(1)
        tcol = tcol_all[sl]
        tcol_t = _tensor(torch, tcol, dev)
        # the wanted change and the weights: numpy's own functions on the B target values
        d_t = d[ar, tcol_t].cpu().numpy()
        S_t = S[ar, tcol_t].cpu().numpy()
        delta = _wanted(d_t, S_t, np.zeros(n, dtype=np.int64), p.normalise_rows, rel=rel[sl])
        c_P, c_T = _energy_coefficients(p.alpha, n_P_all[sl], 1, p.per_row_mean)
        cP = np.broadcast_to(np.asarray(c_P, dtype=np.float64).reshape(-1, 1), (n, 1))
        wts = _tensor(torch, cP, dev).expand(n, k).clone()
        if members is not None:
            wts[~members_t[sl]] = 0.0
        wts[ar, tcol_t] = float(c_T)
        sw = torch.sqrt(wts)
        # M = Ĵ · √w row by row, in place of R (a zero row where x sits on the prototype)
        if p.normalise_rows:
            pos = d > 0
            f = torch.where(pos, sw / torch.where(pos, d, 1.0), 0.0)
        else:
            f = 2.0 * sw
        R *= f[..., None]
        M = R
        with np.errstate(over="ignore", invalid="ignore"):
            y_t = np.sqrt(c_T) * delta
        if p.jitter > 0:
            E = music.rng.standard_normal(tuple(M.shape))  # the same stream as numpy's chunks: draws are sequential
            if members is not None:
                E *= members[sl][..., None]
            E /= np.sqrt((E * E).sum(axis=(1, 2)))[:, None, None]
            M += p.jitter * _tensor(torch, E, dev)
            mM = None
        elif p.normalise_rows:
            # unit rows: max |M_b| lies in [u / √D, u] with u the largest √w over rows off the point
            u = (sw * (d > 0)).amax(1)
            mM = torch.where((u >= _SAFE_LO * np.sqrt(D)) & (u <= _SAFE_HI), 1.0, torch.where(u > 0, float("nan"), 0.0))
        else:
            mM = None
        out[sl] = _solve_stacked_t(torch, M, y_t, tcol, p.lam, p.solver, mM)
    return out, (bmus_t.cpu().numpy() if bmus is None else bmus)


def _solve_stacked_t(torch, M, y_t, tcol, lam: float, solver: str, mM=None):
    """``music_batch._solve_stacked`` on the device: stacked Cholesky (``cholesky_ex``) and ``cholesky_solve`` (private).

    ``y_t``, ``tcol``: numpy (n,). Systems outside the safe scale range go to numpy's scaled single
    solver, those Cholesky flags to numpy's least squares, as in the numpy engine.
    """
    from .music import _OVERFLOW, _SAFE_HI, _SAFE_LO, _ridge_lstsq, _solve

    n, k, D = M.shape
    dev = M.device
    solver = solver if solver in ("primal", "dual") else ("dual" if k < D else "primal")  # auto/direct: the smaller form
    if not np.all(np.isfinite(y_t)):
        raise ValueError(_OVERFLOW)
    out = torch.zeros((n, D), dtype=M.dtype, device=dev)
    my = np.abs(y_t)
    if mM is None or bool(torch.isnan(mM).any()):
        mM_true = M.abs().amax(dim=(1, 2))
        m_ok = ((mM_true >= _SAFE_LO) & (mM_true <= _SAFE_HI)).cpu().numpy()
        m_live = (mM_true > 0).cpu().numpy()
    else:
        m_ok = (mM == 1.0).cpu().numpy()
        m_live = (mM > 0).cpu().numpy()
    live = (my > 0) & m_live
    fast = live & m_ok & (my >= _SAFE_LO) & (my <= _SAFE_HI)
    for b in np.flatnonzero(live & ~fast):
        y = np.zeros(k)
        y[tcol[b]] = y_t[b]
        out[b] = torch.as_tensor(_solve(M[b].cpu().numpy(), y, lam, solver), device=dev)
    if not fast.any():
        return out
    if fast.all():
        Mf, yf, tf = M, y_t, tcol
    else:
        fast_t = _tensor(torch, fast, dev)
        Mf, yf, tf = M[fast_t], y_t[fast], tcol[fast]
    nf = Mf.shape[0]
    arf = torch.arange(nf, device=dev)
    yf_t = _tensor(torch, np.asarray(yf, dtype=np.float64), dev)
    tf_t = _tensor(torch, np.asarray(tf, dtype=np.int64), dev)
    Mt = Mf.transpose(1, 2)
    if solver == "primal":
        G = Mt @ Mf
        rhs = Mf[arf, tf_t] * yf_t[:, None]  # Mᵀ y: y has one non-zero entry
    else:
        G = Mf @ Mt
        rhs = torch.zeros((nf, k), dtype=M.dtype, device=dev)
        rhs[arf, tf_t] = yf_t
    G.diagonal(dim1=-2, dim2=-1).add_(lam)
    L, info = torch.linalg.cholesky_ex(G)
    ok = (info == 0).cpu().numpy()
    if ok.all():
        z = torch.cholesky_solve(rhs[..., None], L)[..., 0]
    else:
        z = torch.zeros_like(rhs)
        if ok.any():
            ok_t = _tensor(torch, ok, dev)
            z[ok_t] = torch.cholesky_solve(rhs[ok_t][..., None], L[ok_t])[..., 0]
    sol = z if solver == "primal" else (Mt @ z[..., None])[..., 0]
    for i in np.flatnonzero(~ok):
        y = np.zeros(k)
        y[tf[i]] = yf[i]
        sol[i] = torch.as_tensor(_ridge_lstsq(Mf[i].cpu().numpy(), y, lam), device=dev)
    if not bool(torch.isfinite(sol).all()):
        raise ValueError(_OVERFLOW)
    if fast.all():
        return sol
    out[fast_t] = sol
    return out


def _trust_region_rows_t(torch, delta, eta: float):
    """``music_batch._trust_region_rows`` on the device: (clipped rows, which were clipped) (private)."""
    from .music import _NORM_LO, _trust_region

    n = torch.sqrt((delta * delta).sum(1))
    ok = torch.isfinite(n) & (n >= _NORM_LO)
    clip = ok & (n > eta)
    out = torch.where(clip[:, None], delta * (eta / n)[:, None], delta)
    bad = (~ok).cpu().numpy()
    for b in np.flatnonzero(bad):  # norms outside the plain range: numpy's scaled single trust region
        row, c = _trust_region(delta[b].cpu().numpy(), eta)
        out[b] = _tensor(torch, row, delta.device)
        clip[b] = c
    return out, clip
