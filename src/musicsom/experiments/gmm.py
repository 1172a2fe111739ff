"""The Gaussian-mixture experiments of the paper (§5.2, Figs 1–6, Table 1) as pure functions. No file I/O.

The mixture: ``n_components`` means on a regular polygon (a triangle for 3) of radius ``radius``
in the first two coordinates, spread ``spread`` there, and small isotropic noise ``noise`` in the
other ``dim − 2`` coordinates. Everything downstream sees the data standardised with the
training statistics.
"""

from __future__ import annotations

import numpy as np

from musicsom.inversion import Inverter, activations, invert_with_bmu_anchor
from musicsom.metrics import median_iqr, trajectory_summary
from musicsom.music import Music, MusicParams, music_direction, trust_region
from musicsom.som import majority_labels

METRICS = [
    "transition_rate",
    "dwell_median",
    "dwell_iqr",
    "continuity",
    "segmented_continuity",
    "curvature_within",
    "curvature_across",
    "geodesic_efficiency",
]


def synthesise_mixture(n: int, dim: int, n_components: int, radius: float, spread: float, noise: float, rng):
    """Sample ``n`` points; returns (X (n, dim), labels (n,), means (n_components, dim))."""
    if dim < 2:
        raise ValueError(f"dim must be >= 2 (the means live in the first two coordinates); got {dim}")
    if n_components < 1:
        raise ValueError(f"n_components must be >= 1; got {n_components}")
    angles = np.pi / 2 + 2 * np.pi * np.arange(n_components) / n_components
    means = np.zeros((n_components, dim))
    means[:, 0] = radius * np.cos(angles)
    means[:, 1] = radius * np.sin(angles)
    labels = rng.integers(0, n_components, size=n)
    X = means[labels].copy()
    X[:, :2] += spread * rng.standard_normal((n, 2))
    X[:, 2:] += noise * rng.standard_normal((n, dim - 2))
    return X, labels, means


def standardise(train, *others, mode: str = "per_coordinate"):
    """Centre on the training mean and scale by training statistics; returns (train', others'..., mean, scale).

    ``per_coordinate`` (default, the usual z-score) divides each coordinate by its own standard
    deviation: the small noise coordinates grow to the size of the mixture's structure. ``global``
    divides every coordinate by one scale (the root mean per-coordinate variance) and keeps the
    mixture's shape; a rigid motion plus a global scale leaves the inversion problem unchanged up
    to that scale (S1.1).
    """
    mean = train.mean(0)
    if mode == "per_coordinate":
        scale = train.std(0)
    elif mode == "global":
        scale = np.full(train.shape[1], np.sqrt(((train - mean) ** 2).mean()))
    else:
        raise ValueError(f"mode must be 'per_coordinate' or 'global'; got {mode!r}")
    if np.any(scale <= 0):
        raise ValueError("a training coordinate is constant (std 0); it cannot be standardised")
    return ((train - mean) / scale, *[(o - mean) / scale for o in others], mean, scale)


# ---------------------------------------------------------------- inversion experiments
def inversion_error_vs_m(X, W, m_values, return_errors: bool = False):
    """Median / max inversion error over the rows of X for each number of prototypes m (BMU anchor + m−1 nearest).

    With ``return_errors`` also the (rows, len(m_values)) error of every row at every m (claim 1's units).
    """
    A = activations(X, W)
    out = {"m": [], "median_error": [], "q25": [], "q75": [], "max_error": []}
    errors = []
    for m in m_values:
        err = np.linalg.norm(invert_with_bmu_anchor(A, W, int(m), strict=False) - X, axis=1)
        errors.append(err)
        q25, med, q75 = np.percentile(err, [25, 50, 75])
        for k, v in zip(("m", "median_error", "q25", "q75", "max_error"), (int(m), med, q25, q75, err.max())):
            out[k].append(v)
    return (out, np.stack(errors, axis=1)) if return_errors else out


def noise_stability(X, W, m_values, noise_levels, rng) -> dict:
    """Inversion error under Gaussian activation noise vs the Corollary 1 bound ``||e|| / σ_min``.

    For each test point, each subset size m (BMU anchor + m−1 nearest) and each noise level s, the
    activations get ``N(0, s²)`` noise; we record the error ``||x̂ − x||``, ``||e||`` and ``σ_min``.
    """
    rows = []
    A = activations(X, W)
    for i, (x, a) in enumerate(zip(X, A)):
        order = np.argsort(a, kind="stable")
        for m in m_values:
            inv = Inverter(W, int(order[0]), order[: int(m)])
            for s in noise_levels:
                eps = s * rng.standard_normal(a.shape)
                err = np.linalg.norm(inv.invert(a + eps) - x)
                bound = float(inv.error_bound(eps))
                rows.append((i, int(m), float(s), inv.sigma_min, err, bound))
    cols = ("point", "m", "noise_std", "sigma_min", "error", "bound")
    return {c: [r[j] for r in rows] for j, c in enumerate(cols)}


# ---------------------------------------------------------------- geometry illustrations
def naive_vs_consistent(x, W, j: int, delta_d: float, alpha: float = 0.99, lam: float = 0.01, eta: float = 0.02, n_iter: int = 40) -> dict:
    """Change the distance to prototype ``j`` by ``delta_d``: naively in the activation vector, or by a real move.

    naive: edit ``a_j`` alone and invert the now inconsistent vector with the minimal exact system
    (BMU anchor and its D nearest, ``j`` among them); the point found meets the edited
    constraints of that subset and breaks the distances to the other prototypes.
    naive_all: the same edit inverted by least squares over all prototypes: the edit is mostly lost.
    radial: move along ``r̂_j`` by ``delta_d`` (consistent, but every other distance moves too).
    consistent: relinearised MUSIC steps (trust radius ``eta``) asking the change of ``a_j`` while
    preserving all other distances. Returns the wanted and obtained change of every squared distance.
    """
    a = activations(x, W)
    D = W.shape[1]
    wanted = np.zeros_like(a)
    d_j = np.sqrt(a[j])
    goal = (d_j + delta_d) ** 2
    wanted[j] = goal - a[j]
    order = np.argsort(a, kind="stable")
    subset = order[: D + 1] if j in order[: D + 1] else np.append(order[:D], j)
    edited = a + wanted
    x_naive = Inverter(W, int(order[0]), subset).invert(edited)
    x_all = Inverter(W, int(order[0])).invert(edited)
    x_radial = x + delta_d * (x - W[j]) / d_j
    preserved = np.setdiff1d(np.arange(W.shape[0]), [j])
    y = x.copy()
    for _ in range(n_iter):
        remaining = goal - activations(y, W)[j]
        y = y + trust_region(music_direction(y, W, [j], [remaining], preserved, alpha=alpha, lam=lam), eta)
    return {
        "wanted": wanted,
        "naive": activations(x_naive, W) - a,
        "naive_all": activations(x_all, W) - a,
        "radial": activations(x_radial, W) - a,
        "consistent": activations(y, W) - a,
    }


def tangential_effect_vs_dim(dims, n_protos: int, rng, n_trials: int = 50) -> dict:
    """Mean relative change of the other distances for a unit radial vs unit tangential step, vs dimension.

    Random prototypes and point in ``R^D``; a step of length ε along ``r̂_j`` or along a random
    direction orthogonal to ``r_j``. The tangential effect shrinks like ``1/sqrt(D)`` (S2).
    """
    out = {"dim": [], "radial": [], "tangential": []}
    eps = 0.05
    for D in dims:
        rad, tan = [], []
        for _ in range(n_trials):
            W = rng.standard_normal((n_protos, D))
            x = rng.standard_normal(D)
            r = x - W[0]
            rhat = r / np.linalg.norm(r)
            t = rng.standard_normal(D)
            t -= (t @ rhat) * rhat
            t /= np.linalg.norm(t)
            d0 = np.linalg.norm(x - W[1:], axis=1)
            for step, acc in ((eps * rhat, rad), (eps * t, tan)):
                d1 = np.linalg.norm(x + step - W[1:], axis=1)
                acc.append(np.mean(np.abs(d1 - d0)) / eps)
        out["dim"].append(int(D))
        out["radial"].append(float(np.mean(rad)))
        out["tangential"].append(float(np.mean(tan)))
    return out


# ---------------------------------------------------------------- trajectories (Fig 6, Table 1)
def component_prototypes(W, X_train, y_train, component: int) -> np.ndarray:
    """Prototypes whose training hits are mostly from ``component``."""
    major, _ = majority_labels(X_train, W, y_train)
    idx = np.flatnonzero(major == component)
    if idx.size == 0:
        raise ValueError(f"no prototype has component {component} as its majority; the SOM did not cover it")
    return idx


def pick_starts(X_test, y_test, n_starts: int, rng) -> np.ndarray:
    """``n_starts`` test indices drawn evenly across the components (round robin), seeded."""
    comps = np.unique(y_test)
    pools = {c: rng.permutation(np.flatnonzero(y_test == c)) for c in comps}
    picks = [pools[comps[i % comps.size]][i // comps.size] for i in range(n_starts)]
    return np.asarray(picks, dtype=np.int64)


def run_regimes(W, X_train, y_train, X_test, y_test, params: MusicParams, n_starts: int, n_steps: int, component: int, seed: int,
                grid_shape=None, topology: str = "rectangular", cluster_mode: str = "cluster_random"):
    """Informed convergence (one target near the component mean) and cluster exploration of the component's prototypes.

    Every start runs in both regimes. Informed and ``cluster_random`` (a random target of the cluster per
    step) run as batches (:meth:`Music.run_batch`); ``cluster_mode="cluster"`` (all targets at once,
    Gaussian weights) runs start by start. ``grid_shape``/``topology`` are needed for ring preservation.
    Returns (trajectories dict regime -> list of Trajectory, starts, target, cluster).
    """
    if cluster_mode not in ("cluster_random", "cluster"):
        raise ValueError(f"cluster_mode must be 'cluster_random' or 'cluster'; got {cluster_mode!r}")
    rng = np.random.default_rng(seed)
    starts = pick_starts(X_test, y_test, n_starts, rng)
    cluster = component_prototypes(W, X_train, y_train, component)
    centre = X_train[y_train == component].mean(0)
    target = int(cluster[np.argmin(((W[cluster] - centre) ** 2).sum(1))])
    X0 = X_test[starts]
    informed = Music(W, params, grid_shape, topology, random_state=(seed, 0)).run_batch(X0, n_steps, "informed", targets=target)
    out = {"informed": [informed.trajectory(b) for b in range(len(starts))]}
    if cluster_mode == "cluster_random":
        explore = Music(W, params, grid_shape, topology, random_state=(seed, 1)).run_batch(X0, n_steps, "cluster_random", cluster=cluster)
        out["cluster"] = [explore.trajectory(b) for b in range(len(starts))]
    else:
        out["cluster"] = [Music(W, params, grid_shape, topology, random_state=(seed, i, 1)).run(X_test[s], n_steps, "cluster", cluster=cluster)
                          for i, s in enumerate(starts)]
    return out, starts, target, cluster


def trajectory_table(trajectories: dict, X_test, y_test, W, starts, target: int, seed: int) -> list[dict]:
    """:func:`summarise_regimes` plus each start's component, its distances to the target and the share of clipped steps."""
    rows = summarise_regimes(trajectories)
    for r in rows:
        tr = trajectories[r["regime"]][r["trajectory"]]
        r["start_component"] = int(y_test[starts[r["trajectory"]]])
        r["initial_distance_to_target"] = float(np.linalg.norm(tr.states[0] - W[target]))
        r["final_distance_to_target"] = float(np.linalg.norm(tr.states[-1] - W[target]))
        r["share_clipped"] = float(np.mean(tr.clipped)) if getattr(tr, "clipped", None) is not None and len(tr.clipped) else float("nan")
        r["seed"] = seed
    return rows


def summarise_regimes(trajectories: dict) -> list[dict]:
    """Per-trajectory §5 metrics: one row per (regime, trajectory)."""
    rows = []
    for regime, trs in trajectories.items():
        for i, tr in enumerate(trs):
            rows.append({"regime": regime, "trajectory": i, **trajectory_summary(tr.states, tr.bmus)})
    return rows


def table1_rows(per_trajectory) -> list[dict]:
    """Median and IQR over trajectories of every metric, per regime (rows: metric × regime)."""
    import pandas as pd

    df = pd.DataFrame(per_trajectory)
    rows = []
    for regime, g in df.groupby("regime", sort=False):
        for m in METRICS:
            med, q25, q75 = median_iqr(g[m].to_numpy())
            rows.append({"regime": regime, "metric": m, "median": med, "q25": q25, "q75": q75})
    return rows


__all__ = [
    "synthesise_mixture",
    "standardise",
    "inversion_error_vs_m",
    "noise_stability",
    "naive_vs_consistent",
    "tangential_effect_vs_dim",
    "component_prototypes",
    "pick_starts",
    "run_regimes",
    "summarise_regimes",
    "trajectory_table",
    "table1_rows",
    "METRICS",
]
