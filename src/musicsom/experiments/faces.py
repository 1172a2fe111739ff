"""Helpers of the faces stage (paper §5.4, S7): person splits, labelled clusters on the SOM lattice,
free-evolution steps, linear interpolation and the per-trajectory face metrics. Pure numpy; no file I/O.

Labelled clusters. Each prototype gets the share of its hits (training faces whose BMU it is) that
carry an apparent attribute (AFIF4 gender = female; DFI ``Black``), counting only hits whose label is
known. A cluster starts at the eligible prototype (at least ``min_hits`` known hits) with the highest
share and grows best-first over the lattice (8-neighbourhood): the eligible neighbour with the
highest share joins as long as the cluster's pooled share (positive / known over all its hits) stays
at least ``threshold``, until ``max_size`` prototypes.

Free evolution (S7). Each step picks a random prototype ``j`` and a random change ``Δa_j`` of its
squared distance. MUSIC: the Tikhonov solve with ``T = {j}`` and ``P`` = the ``n_preserve`` prototypes
nearest to the current point (other than ``j``); radial baseline: ``sign(Δa_j) r̂_j``. Both are
rescaled to the same length ``η``, so after the rescaling only the sign of ``Δa_j`` matters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from musicsom._validation import check_matrix, check_scalar, check_vector
from musicsom.experiments.face_calibration import CALIBRATED_METRICS, DriftReference, drift_against_reference
from musicsom.experiments.face_id import SAME_PERSON_THRESHOLD
from musicsom.music import music_direction
from musicsom.som import lattice_ring, sq_distances

__all__ = [
    "CLUSTERS",
    "DESCRIPTIONS",
    "split_people",
    "label_shares",
    "grow_cluster",
    "draw_free_sequence",
    "free_music_step",
    "free_radial_step",
    "free_evolution",
    "cluster_distance",
    "nearest_prototype_distance",
    "monotone_share",
    "per_start_metrics",
    "comparison_table",
    "comparisons",
    "has_calibration",
]


#: the three target sets of the informed experiments (Figs 12-13), in this order everywhere
CLUSTERS = ("darker_skinned", "female", "random")
DESCRIPTIONS = {
    "darker_skinned": "apparent darker skin (DFI binarized Kumar et al. 'Black' attribute, classifier output)",
    "female": "apparent female (AFIF4 hand-reviewed gender lists)",
    "random": "random prototypes (no label)",
}


# ---------------------------------------------------------------- data split and labels
def split_people(person, holdout: float, seed: int) -> np.ndarray:
    """Boolean mask of held-out images: a seeded ``holdout`` share of the people (at least one, not all).

    No identity is in both parts: the split is drawn over the unique person names.
    """
    person = np.asarray(person).astype(str)
    check_scalar(holdout, "holdout", 0.0, 1.0, low_open=True, high_open=True)
    people = np.unique(person)
    if people.size < 2:
        raise ValueError(f"a person split needs at least 2 people; got {people.size}")
    n = min(max(1, int(round(holdout * people.size))), people.size - 1)
    chosen = np.random.default_rng(seed).permutation(people)[:n]
    return np.isin(person, chosen)


def label_shares(bmu, positive, known, n_units: int) -> dict:
    """Per prototype: hits, known hits, positive hits and share = positive / known (NaN if none known)."""
    bmu = np.asarray(bmu, dtype=np.int64)
    positive = np.asarray(positive, dtype=bool)
    known = np.asarray(known, dtype=bool)
    if not bmu.shape == positive.shape == known.shape:
        raise ValueError(f"bmu, positive and known must have the same length; got {bmu.shape}, {positive.shape}, {known.shape}")
    if np.any(positive & ~known):
        raise ValueError("a hit cannot be positive with an unknown label")
    hits = np.bincount(bmu, minlength=n_units)
    kn = np.bincount(bmu, weights=known, minlength=n_units).astype(np.int64)
    pos = np.bincount(bmu, weights=positive, minlength=n_units).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(kn > 0, pos / np.maximum(kn, 1), np.nan)
    return {"hits": hits, "known": kn, "positive": pos, "share": share}


def grow_cluster(
    positive,
    known,
    grid_shape,
    topology: str = "rectangular",
    threshold: float = 0.5,
    max_size: int = 12,
    min_hits: int = 1,
) -> dict:
    """Grow the labelled cluster around the highest-share prototype (see the module notes).

    ``positive`` and ``known`` are per-prototype counts of labelled hits. Returns ``units`` (in the
    order they joined), ``seed_unit``, ``seed_share``, ``share`` (pooled: positive / known over the
    cluster's hits), ``min_member_share``, ``size``, and ``seed_below_threshold`` (True when even the
    best prototype is under the threshold: the cluster is then that prototype alone).
    """
    positive = np.asarray(positive, dtype=np.int64)
    known = np.asarray(known, dtype=np.int64)
    K = known.size
    if int(np.prod(grid_shape)) != K or positive.size != K:
        raise ValueError(f"positive and known must hold one count per unit of the {tuple(grid_shape)} lattice")
    if np.any(positive > known) or np.any(positive < 0):
        raise ValueError("positive counts must lie between 0 and the known counts")
    check_scalar(threshold, "threshold", 0.0, 1.0)
    if int(max_size) < 1:
        raise ValueError(f"max_size must be >= 1; got {max_size}")
    share = np.where(known > 0, positive / np.maximum(known, 1), np.nan)
    eligible = known >= max(int(min_hits), 1)
    if not eligible.any():
        raise ValueError(f"no prototype has at least {min_hits} labelled hits; lower min_hits or use more faces")

    def key(u):  # best = highest share, then more labelled hits, then the lower index
        return (share[u], known[u], -u)

    seed_unit = max(np.flatnonzero(eligible), key=key)
    units = [int(seed_unit)]
    member = np.zeros(K, bool)
    member[seed_unit] = True
    pos, kn = int(positive[seed_unit]), int(known[seed_unit])
    while len(units) < int(max_size) and pos / kn >= threshold:
        frontier = set()
        for u in units:
            frontier.update(int(v) for v in lattice_ring(u, 1, grid_shape, topology))
        frontier = [v for v in frontier if eligible[v] and not member[v]]
        if not frontier:
            break
        best = max(frontier, key=key)
        if (pos + positive[best]) / (kn + known[best]) < threshold:
            break
        units.append(best)
        member[best] = True
        pos, kn = pos + int(positive[best]), kn + int(known[best])
    idx = np.asarray(units)
    return {
        "units": idx,
        "seed_unit": int(seed_unit),
        "seed_share": float(share[seed_unit]),
        "share": float(pos / kn),
        "min_member_share": float(np.min(share[idx])),
        "size": int(idx.size),
        "seed_below_threshold": bool(share[seed_unit] < threshold),
    }


# ---------------------------------------------------------------- free evolution (S7)
def draw_free_sequence(n_steps: int, n_units: int, rng: np.random.Generator, scale: float = 0.1):
    """The random draws of a free evolution: prototype indices and relative changes ``u ~ U(−scale, scale)``.

    The change of step t is ``Δa_j = u_t a_j(x_t)``. Drawn once, the same sequence drives both methods.
    Units and changes come from two generators spawned from ``rng``, so a shorter run is a prefix of a
    longer one drawn from the same state (the study reads 100 steps off its 400-step runs).
    """
    u_rng, r_rng = rng.spawn(2)
    units = u_rng.integers(0, int(n_units), size=int(n_steps))
    rel = r_rng.uniform(-scale, scale, size=int(n_steps))
    rel[rel == 0] = scale  # a zero change has no direction; never happens in practice
    return units, rel


def _nearest(x, W, n, exclude):
    d2 = ((W - x) ** 2).sum(1)
    d2[exclude] = np.inf
    n = min(int(n), W.shape[0] - 1)
    return np.argsort(d2, kind="stable")[:n]


def free_music_step(
    x, W, unit: int, delta_a: float, n_preserve: int = 4, alpha: float = 0.9, lam: float = 0.01, eta: float = 0.5,
    per_row_mean: bool = False,
):
    """MUSIC step of free evolution: change ``a_unit`` by ``delta_a`` keeping the ``n_preserve`` nearest, rescaled to length η."""
    preserved = _nearest(x, W, n_preserve, unit)
    d = music_direction(x, W, [int(unit)], [float(delta_a)], preserved, alpha, lam, per_row_mean=per_row_mean)
    n = np.linalg.norm(d)
    if n == 0:
        raise ValueError("the MUSIC direction vanished (the target row lies in the preserved span); use fewer preserved prototypes")
    return eta * d / n


def free_radial_step(x, W, unit: int, delta_a: float, eta: float = 0.5):
    """Radial baseline: ``η sign(Δa) (x − w_unit) / ||x − w_unit||`` (away from the prototype when Δa > 0)."""
    r = x - W[int(unit)]
    n = np.linalg.norm(r)
    if n == 0:
        raise ValueError("the point sits on the chosen prototype: its radial direction is undefined")
    return eta * np.sign(delta_a) * r / n


def free_evolution(
    x0, W, units, rel, method: str, n_preserve: int = 4, alpha: float = 0.9, lam: float = 0.01, eta: float = 0.5,
    per_row_mean: bool = False,
) -> np.ndarray:
    """States (T+1, D) of a free evolution driven by the draws ``units``, ``rel`` (see :func:`draw_free_sequence`)."""
    W = check_matrix(W, "prototypes", min_rows=2)
    x = check_vector(x0, "x0", W.shape[1]).copy()
    if method not in ("music", "radial"):
        raise ValueError(f"method must be 'music' or 'radial'; got {method!r}")
    states = [x.copy()]
    for j, u in zip(np.asarray(units), np.asarray(rel)):
        delta_a = float(u) * float(((x - W[j]) ** 2).sum())
        if method == "music":
            d = free_music_step(x, W, int(j), delta_a, n_preserve, alpha, lam, eta, per_row_mean)
        else:
            d = free_radial_step(x, W, int(j), delta_a, eta)
        x = x + d
        states.append(x.copy())
    return np.asarray(states)


# ---------------------------------------------------------------- interpolation and metrics


def cluster_distance(states, W, cluster) -> np.ndarray:
    """Mean Euclidean distance from each state to the cluster's prototypes: (T+1,)."""
    S = np.atleast_2d(np.asarray(states, dtype=np.float64))
    C = np.asarray(W, dtype=np.float64)[np.asarray(cluster, dtype=np.int64)]
    return np.sqrt(((S[:, None, :] - C[None, :, :]) ** 2).sum(-1)).mean(1)


def nearest_prototype_distance(states, W) -> np.ndarray:
    """Distance from each state to its nearest prototype (the quantisation error along a path): (T+1,)."""
    return np.sqrt(sq_distances(np.atleast_2d(states), W).min(1))


def monotone_share(values, tol: float = 0.0) -> float:
    """Share of steps along which ``values`` does not increase by more than ``tol``."""
    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        return float("nan")
    return float(np.mean(np.diff(v) <= tol))


# ---------------------------------------------------------------- per-start summaries (Table 3, claim 8)
def _drift_at_half(cd, drift) -> float:
    """Identity drift at the first measured step whose cluster distance is at most half the initial one (matched progress)."""
    ok = np.flatnonzero((cd <= 0.5 * cd[0]) & np.isfinite(drift))
    return float(drift[ok[0]]) if ok.size else float("nan")


def per_start_metrics(frames: pd.DataFrame, reference: DriftReference | None = None) -> pd.DataFrame:
    """One row per (experiment, method, cluster, start) with the metrics above (NaN where they do not apply).

    With a ``reference`` (the identity calibration, :class:`~musicsom.experiments.face_calibration.DriftReference`)
    the drift is also read against it: the columns of :data:`~musicsom.experiments.face_calibration.CALIBRATED_METRICS`
    (the share of measured frames below the same-person median, the mean and half-distance drifts as percentiles
    of the same-person and different-people distances; NaN on paths without drift).
    """
    rows = []
    for (exp, method, cluster, start), g in frames.groupby(["experiment", "method", "cluster", "start"], dropna=False):
        g = g.sort_values("step")
        cd = g["cluster_distance"].to_numpy(float)
        drift = g["identity_drift"].to_numpy(float)
        measured = drift[1:][np.isfinite(drift[1:])]  # frame 0 has drift 0 by definition
        has_cd = np.isfinite(cd).all()
        mean_drift = float(measured.mean()) if measured.size else np.nan
        half_drift = _drift_at_half(cd, drift) if has_cd else np.nan
        calibrated = {}
        if reference is not None:
            calibrated = (drift_against_reference(measured, mean_drift, half_drift, reference) if measured.size
                          else dict.fromkeys(CALIBRATED_METRICS, np.nan))
        rows.append({
            "experiment": exp, "method": method, "cluster": cluster if isinstance(cluster, str) else "", "start": int(start),
            "n_frames": len(g),
            "detection_rate": float(np.nanmean(g["detected"].to_numpy(float))),  # over the frames measured
            "final_nearest_prototype": float(g["nearest_prototype"].iloc[-1]),
            "mean_nearest_prototype": float(g["nearest_prototype"].mean()),
            "initial_cluster_distance": float(cd[0]) if has_cd else np.nan,
            "final_cluster_distance": float(cd[-1]) if has_cd else np.nan,
            "convergence_ratio": float(cd[-1] / cd[0]) if has_cd else np.nan,
            "monotone_share": monotone_share(cd) if has_cd else np.nan,
            "trend_rho": float(spearmanr(np.arange(cd.size), cd)[0]) if has_cd and cd.size > 2 else np.nan,
            "mean_identity_drift": mean_drift,
            "final_identity_drift": float(drift[-1]) if np.isfinite(drift[-1]) else np.nan,
            "same_person_share": float(np.mean(measured < SAME_PERSON_THRESHOLD)) if measured.size else np.nan,
            "drift_at_half_distance": half_drift,
            **calibrated,
        })
    return pd.DataFrame(rows)


def comparisons(target_cluster: str, calibrated: bool = False) -> dict:
    """The paired comparisons of Table 3: name -> (method A, method B, metrics).

    Free evolution (MUSIC vs radial), and the paths toward ``target_cluster`` (informed MUSIC vs linear
    interpolation to the cluster's mean; the config's ``faces.target_cluster``). With ``calibrated`` (the per-start
    table has the columns of :data:`~musicsom.experiments.face_calibration.CALIBRATED_METRICS`), the same paths'
    drift read against the identity calibration, as a comparison of its own so that its Holm family leaves the
    other two's p-values as they were.
    """
    out = {
        "free evolution": ("music", "radial", ["detection_rate", "final_nearest_prototype", "mean_nearest_prototype"]),
        f"toward the {target_cluster} cluster": ("music", "linear", [
            "final_cluster_distance", "mean_identity_drift", "final_identity_drift", "drift_at_half_distance", "detection_rate",
            "final_nearest_prototype"]),
    }
    if calibrated:
        out[f"toward the {target_cluster} cluster, drift against the identity calibration"] = (
            "music", "linear", list(CALIBRATED_METRICS))
    return out


def has_calibration(per_start: pd.DataFrame) -> bool:
    """Whether a per-start table carries the drift read against the identity calibration."""
    return all(c in per_start.columns for c in CALIBRATED_METRICS)


def comparison_table(per_start: pd.DataFrame, target_cluster: str) -> pd.DataFrame:
    """The rows of :func:`comparisons` as one frame: (comparison, method, seed, start, metrics)."""
    free_name, *toward_names = comparisons(target_cluster, has_calibration(per_start))
    free = per_start[per_start["experiment"] == "free"].assign(comparison=free_name)
    toward = per_start[(per_start["cluster"] == target_cluster) & per_start["experiment"].isin(["informed", "linear"])]
    return pd.concat([free] + [toward.assign(comparison=name) for name in toward_names], ignore_index=True)


# ---------------------------------------------------------------- the face runs of one seed (default stages and the study)
FREE_METHODS = ("music", "radial")


def free_paths(W, X0, n_steps: int, change: float, n_preserve: int, alpha: float, lam: float, eta: float,
               per_row_mean: bool, rng) -> dict:
    """Free evolution of every start by MUSIC and the radial baseline, driven by the same random draws.

    Returns ``states`` (starts, 2, T+1, D) with methods :data:`FREE_METHODS`, ``units`` and ``rel`` (starts, T).
    """
    states, units, rels = [], [], []
    for x0 in np.atleast_2d(X0):
        u, rel = draw_free_sequence(n_steps, W.shape[0], rng, change)
        states.append([free_evolution(x0, W, u, rel, m, n_preserve, alpha, lam, eta, per_row_mean) for m in FREE_METHODS])
        units.append(u)
        rels.append(rel)
    return {"states": np.asarray(states), "units": np.asarray(units), "rel": np.asarray(rels)}


def informed_paths(W, X0, clusters: dict, params, n_steps: int, seed: int, grid_shape=None, topology: str = "rectangular") -> dict:
    """Informed exploration of every start toward each of :data:`CLUSTERS` ("random informed within cluster").

    Each cluster runs all starts as one batch (:meth:`Music.run_batch`, a random target of the cluster per
    step, seeded by (seed, cluster)). Returns ``states`` (starts, clusters, T+1, D), ``targets`` (starts,
    clusters, T) and ``clipped`` (starts, clusters, T).
    """
    from musicsom.music import Music

    X0 = np.atleast_2d(X0)
    S, C, D = X0.shape[0], len(CLUSTERS), W.shape[1]
    states = np.empty((S, C, n_steps + 1, D))
    targets = np.empty((S, C, n_steps), dtype=np.int64)
    clipped = np.empty((S, C, n_steps), dtype=bool)
    for c, name in enumerate(CLUSTERS):
        music = Music(W, params, grid_shape, topology, random_state=[int(seed), c])
        b = music.run_batch(X0, n_steps, "cluster_random", cluster=np.asarray(clusters[name]))
        states[:, c], targets[:, c], clipped[:, c] = b.states, b.targets, b.clipped
    return {"states": states, "targets": targets, "clipped": clipped}
