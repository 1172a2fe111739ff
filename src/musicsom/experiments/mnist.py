"""The MNIST experiments (paper §5.3) as functions shared by the ``mnist_*`` stages. No file writing.

Spaces: images are flattened 28×28 pixel rows in [0, 1]; the SOM, MUSIC, the linear baseline and
the classifier live in the PCA-whitened latent (``encoding.PCAWhitening``); the VAE has its own
32-d latent. Every latent state decodes to an image (PCA decoder, clipped to [0, 1] for the image
metrics and the figures).

For a digit pair (source → target) and one start image ``x0`` (a test image of the source class):

- target prototype: among the prototypes whose majority label is the target class and whose hit
  purity (share of their training hits in that class) is at least ``min_purity``, the one nearest
  ``x0`` in the latent;
- MUSIC: informed mode toward that prototype, ``n_steps`` steps;
- linear: the straight line from ``x0`` to the prototype, ``n_steps + 1`` evenly spaced frames;
- VAE: the straight line between the VAE encodings (posterior means) of the source image and of the
  decoded target prototype, the same number of frames, decoded by the VAE.

Classifier probabilities: MUSIC and linear states are classified directly (the classifier lives in
the latent, as in the paper); VAE frames are PCA-encoded first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musicsom import image_metrics as im
from musicsom import metrics as tm
from musicsom.encoding import PCAWhitening
from musicsom.experiments.common import linear_path
from musicsom.music import Music, MusicParams

__all__ = [
    "Context",
    "Job",
    "pair_jobs",
    "targets_of",
    "music_batch",
    "latent_results",
    "trajectory_rows",
    "sweep_rows",
    "SWEPT",
    "METHODS",
    "PAIR_METRICS",
    "load_encoder",
    "to_images",
    "choose_starts",
    "prototype_purity",
    "choose_target",
    "arc_fraction",
    "run_methods",
    "path_metrics",
    "frame_indices",
    "music_residual",
    "compare_methods",
]

METHODS = ("music", "linear", "vae")
#: the MUSIC settings the sweeps vary one at a time (Figs 17-20, claim 7), by their MusicParams names
SWEPT = ("alpha", "lam", "kappa")
#: the per-trajectory metrics of Table 2, with the direction that counts as better
PAIR_METRICS = {
    "mean_confidence": "higher",
    "min_confidence": "higher",
    "sharpness": "higher",
    "manifold_distance": "lower",
    "geodesic_efficiency": "higher",
    "continuity": "higher",
}
SIDE = 28


# ---------------------------------------------------------------- encoding and images
def load_encoder(arrays: dict) -> PCAWhitening:
    """The PCA whitening saved by ``mnist_encode`` (arrays mean, components, explained_variance, total_variance)."""
    return PCAWhitening.from_arrays(arrays["mean"], arrays["components"], arrays["explained_variance"], arrays.get("total_variance"))


def to_images(enc: PCAWhitening, Z) -> np.ndarray:
    """Decode latent states to (n, 28, 28) images clipped to [0, 1]."""
    X = np.clip(enc.decode(np.atleast_2d(Z)), 0.0, 1.0)
    return X.reshape(X.shape[0], SIDE, SIDE)


# ---------------------------------------------------------------- starts and targets
def choose_starts(y_test, source: int, target: int, n: int, seed: int) -> np.ndarray:
    """``n`` distinct test indices of the source class, the first ``n`` of a permutation seeded by (seed, source, target)."""
    cand = np.flatnonzero(np.asarray(y_test) == source)
    if cand.size < n:
        raise ValueError(f"only {cand.size} test images of class {source}; cannot draw {n} starts")
    rng = np.random.default_rng([int(seed), int(source), int(target)])
    # a seeded permutation: the first n of a longer draw are the shorter draw (the 0 -> 1 demonstration, the
    # Table 2 starts and the sweep starts share their first images)
    return rng.permutation(cand)[: int(n)]


def prototype_purity(counts) -> np.ndarray:
    """Share of each prototype's training hits that fall in its majority class (0 for units without hits)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum(1)
    return np.where(total > 0, counts.max(1) / np.maximum(total, 1), 0.0)


def choose_target(W, labels, purity, x0, target_class: int, min_purity: float = 0.0) -> tuple[int, bool]:
    """The target-class prototype nearest ``x0`` among those with purity >= ``min_purity``.

    Returns ``(index, relaxed)``; ``relaxed`` is True when no prototype of the class reaches
    ``min_purity`` and every prototype of the class was allowed instead.
    """
    labels = np.asarray(labels)
    of_class = np.flatnonzero(labels == target_class)
    if of_class.size == 0:
        raise ValueError(
            f"no prototype has majority label {target_class}: the map is too small for this digit pair; "
            "use a larger SOM or another pair"
        )
    cand = of_class[np.asarray(purity)[of_class] >= min_purity]
    relaxed = cand.size == 0
    if relaxed:
        cand = of_class
    d = ((np.asarray(W)[cand] - np.asarray(x0)) ** 2).sum(1)
    return int(cand[np.argmin(d)]), bool(relaxed)


# ---------------------------------------------------------------- paths


def arc_fraction(states, step: int) -> float:
    """Share of the path length travelled by frame ``step`` (NaN for step < 0 or a path of no length)."""
    if step < 0:
        return float("nan")
    seg = np.linalg.norm(np.diff(np.asarray(states, dtype=np.float64), axis=0), axis=1)
    total = seg.sum()
    return float(seg[:step].sum() / total) if total > 0 else float("nan")


def frame_indices(n_frames: int, stride: int) -> np.ndarray:
    """Every ``stride``-th frame index, always including the last."""
    idx = np.arange(0, n_frames, max(1, int(stride)))
    return idx if idx[-1] == n_frames - 1 else np.append(idx, n_frames - 1)


# ---------------------------------------------------------------- the three methods
def run_methods(
    x0,
    image0,
    target: int,
    W,
    params: MusicParams,
    n_steps: int,
    enc: PCAWhitening,
    classify,
    vae_encode=None,
    vae_decode=None,
    grid_shape=None,
    topology: str = "toroidal",
    seed: int = 0,
    methods=METHODS,
) -> dict:
    """Run MUSIC, the linear baseline and (if the VAE functions are given) the VAE interpolation.

    ``x0``: the start's latent code; ``image0``: its pixels (784,) in [0, 1]; ``classify``: latent
    rows → class probabilities; ``vae_encode`` / ``vae_decode``: pixel rows ↔ VAE latent rows.
    Returns ``{method: {"states", "images" (T+1, 28, 28), "probs" (T+1, C), "target_state", "bmus" (latent
    methods)}}``, where ``states`` and ``target_state`` (the point the path heads for) live in the method's
    own space (the latent for MUSIC and linear, the VAE latent for the VAE).
    """
    W = np.asarray(W, dtype=np.float64)
    out = {}
    if "music" in methods:
        tr = Music(W, params, grid_shape=grid_shape, topology=topology, random_state=seed).run(x0, n_steps, "informed", target=target)
        out["music"] = {"states": tr.states, "bmus": tr.bmus, "images": to_images(enc, tr.states), "probs": classify(tr.states), "target_state": W[target]}
    if "linear" in methods:
        from musicsom.som import best_matching_units

        S = linear_path(x0, W[target], n_steps)
        out["linear"] = {"states": S, "bmus": best_matching_units(S, W), "images": to_images(enc, S), "probs": classify(S), "target_state": W[target]}
    if "vae" in methods and vae_encode is not None:
        target_image = to_images(enc, W[target]).reshape(1, -1)
        z = vae_encode(np.vstack([np.asarray(image0, dtype=np.float64).reshape(1, -1), target_image]))
        S = linear_path(z[0], z[1], n_steps)
        frames = vae_decode(S)
        out["vae"] = {"states": S, "images": frames.reshape(-1, SIDE, SIDE), "probs": classify(enc.encode(frames)), "target_state": z[1]}
    return out


def path_metrics(result: dict, source: int, target: int, knn: im.KnnIndex | None, k: int = 5, stride: int = 1,
                 manifold=None) -> tuple[dict, dict]:
    """Per-trajectory metrics (a row of Table 2 and the claim-4 quantities) and per-frame series.

    Manifold distance uses every ``stride``-th frame (and the last); NaN when ``knn`` is None. A caller
    that measured many paths at once passes their per-frame ``manifold`` series instead of ``knn``.
    """
    S, P, images = result["states"], result["probs"], result["images"]
    labels = P.argmax(1)
    conf = im.confidence(P)
    sharp = im.laplacian_sharpness(images)
    n = images.shape[0]
    if manifold is None:
        manifold = np.full(n, np.nan)
        if knn is not None:
            idx = frame_indices(n, stride)
            manifold[idx] = knn.mean_distance(images[idx].reshape(idx.size, -1), k)
    cross = im.crossing_step(labels, target)
    cos = tm.step_cosines(S)
    row = {
        "mean_confidence": float(conf.mean()),
        "min_confidence": float(conf.min()),
        "sharpness": float(sharp.mean()),
        "manifold_distance": float(np.nanmean(manifold)) if np.isfinite(manifold).any() else float("nan"),
        "geodesic_efficiency": tm.geodesic_efficiency(S),
        "continuity": float(np.nanmean(cos)) if np.isfinite(cos).any() else float("nan"),
        "crossing_step": cross,
        "crossing_fraction": arc_fraction(S, cross),
        "commit_step": im.commit_step(labels, target),
        "third_class_steps": im.third_class_steps(labels, source, target),
        "strongest_third_class": im.strongest_third(P, source, target),
        "final_label": int(labels[-1]),
        "convergence_ratio": tm.convergence_ratio(S, result["target_state"]),
        "path_length": float(np.linalg.norm(np.diff(S, axis=0), axis=1).sum()),
        "label_sequence": im.label_sequence(labels),
    }
    series = {"confidence": conf, "label": labels, "sharpness": sharp, "manifold_distance": manifold}
    return row, series


# ---------------------------------------------------------------- the regularisation trade-off (L-curve)
def music_residual(x, W, target: int, preserved, params: MusicParams) -> tuple[float, float]:
    """(residual norm, step norm) of the informed MUSIC solve at ``x`` before the trust region.

    residual² = c_P ||Ĵ_P δ||² + c_T ||Ĵ_T δ − Δ||² (the data-fit part of the energy, with the same
    plain or per-row-mean weights c_P, c_T as the solve), step = ||δ||: the two axes of the L-curve.
    """
    from musicsom.music import energy_coefficients, jacobian, music_direction

    x = np.asarray(x, dtype=np.float64)
    preserved = np.asarray(preserved, dtype=np.int64)
    a_t = float(((x - W[target]) ** 2).sum())
    d = music_direction(x, W, [target], -params.kappa * a_t, preserved, params.alpha, params.lam,
                        normalise_rows=params.normalise_rows, per_row_mean=params.per_row_mean)
    J_T, scale_T = jacobian(x, W, [target], params.normalise_rows)
    J_P, _ = jacobian(x, W, preserved, params.normalise_rows)
    delta = -params.kappa * a_t / scale_T
    c_P, c_T = energy_coefficients(params.alpha, preserved.size, 1, params.per_row_mean)
    res2 = c_P * float(((J_P @ d) ** 2).sum()) + c_T * float(((J_T @ d - delta) ** 2).sum())
    return float(np.sqrt(res2)), float(np.linalg.norm(d))


def compare_methods(pairs, other: str) -> dict:
    """MUSIC vs ``other`` ("linear" or "vae") on every Table 2 metric of one seed's trajectories.

    Paired two-sided Wilcoxon over (seed, pair, start), Holm across the metrics, win counts over digit pairs
    (:func:`musicsom.stats.paired_comparison`). Returns ``{metric: {n, mean_music, mean_<other>, median_music,
    median_<other>, median_diff, statistic, p_value, p_holm, significant, n_groups, groups_music_higher, ...}}``.
    """
    from musicsom.stats import paired_comparison

    res = paired_comparison(pairs, list(PAIR_METRICS), "method", "music", other, ["seed", "pair", "start"], group_col="pair")
    return {r["metric"]: {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items() if k != "metric"} for _, r in res.iterrows()}


# ---------------------------------------------------------------- many trajectories at once (Table 2, sweeps, the study)
@dataclass
class Context:
    """Everything the trajectory experiments read, loaded once: encoding, test codes and pixels, the map and its
    labels, the classifier and VAE (as functions of arrays), the k-NN index of the training images."""

    enc: PCAWhitening
    z_test: np.ndarray
    y_test: np.ndarray
    pix_test: np.ndarray
    W: np.ndarray
    grid_shape: tuple
    topology: str
    labels: np.ndarray
    purity: np.ndarray
    classify: object
    vae_encode: object = None
    vae_decode: object = None
    knn: im.KnnIndex | None = None
    min_purity: float = 0.0


@dataclass(frozen=True)
class Job:
    """One trajectory of an experiment: a digit pair and a start image (``start`` counts the pair's starts)."""

    source: int
    target: int
    start: int
    test_index: int

    @property
    def pair(self) -> str:
        return f"{self.source}->{self.target}"


def pair_jobs(ctx: Context, pairs, n_starts: int, seed: int) -> list[Job]:
    """The jobs of the given digit pairs: ``n_starts`` start images each, drawn as :func:`choose_starts` does."""
    out = []
    for a, b in pairs:
        for k, idx in enumerate(choose_starts(ctx.y_test, int(a), int(b), n_starts, seed)):
            out.append(Job(int(a), int(b), k, int(idx)))
    return out


def targets_of(ctx: Context, jobs) -> tuple[np.ndarray, np.ndarray]:
    """(target prototype, relaxed flag) of every job (:func:`choose_target`)."""
    got = [choose_target(ctx.W, ctx.labels, ctx.purity, ctx.z_test[j.test_index], j.target, ctx.min_purity) for j in jobs]
    return np.array([t for t, _ in got], dtype=np.int64), np.array([r for _, r in got], dtype=bool)


def music_batch(ctx: Context, jobs, targets, params: MusicParams, n_steps: int, seed: int = 0):
    """Every job's informed MUSIC trajectory in one :meth:`Music.run_batch` (stacked solves)."""
    from musicsom.som import TOPOLOGIES

    X0 = ctx.z_test[[j.test_index for j in jobs]]
    lattice = ctx.topology in TOPOLOGIES  # k-means centres have none (saved as topology "none")
    music = Music(ctx.W, params, grid_shape=ctx.grid_shape if lattice else None,
                  topology=ctx.topology if lattice else "rectangular", random_state=seed)
    return music.run_batch(X0, int(n_steps), "informed", targets=np.asarray(targets))


def _manifold_series(ctx: Context, images_by_path, k: int, stride: int) -> list[np.ndarray]:
    """Per-frame mean k-NN distance of many paths' frames (every ``stride``-th and the last), in one query."""
    if ctx.knn is None:
        return [np.full(im_.shape[0], np.nan) for im_ in images_by_path]
    idx = [frame_indices(im_.shape[0], stride) for im_ in images_by_path]
    query = np.concatenate([im_[i].reshape(i.size, -1) for im_, i in zip(images_by_path, idx)])
    dist = ctx.knn.mean_distance(query, k)
    out, pos = [], 0
    for im_, i in zip(images_by_path, idx):
        series = np.full(im_.shape[0], np.nan)
        series[i] = dist[pos : pos + i.size]
        pos += i.size
        out.append(series)
    return out


def latent_results(ctx: Context, states_by_path, target_states, bmus_by_path=None) -> list[dict]:
    """Result dicts (states, bmus, images, probs, target_state) of paths in the latent space, classified in one call."""
    sizes = [s.shape[0] for s in states_by_path]
    allS = np.concatenate(states_by_path)
    probs = ctx.classify(allS)
    images = to_images(ctx.enc, allS)
    out, pos = [], 0
    for i, (S, n) in enumerate(zip(states_by_path, sizes)):
        r = {"states": S, "images": images[pos : pos + n], "probs": probs[pos : pos + n], "target_state": target_states[i]}
        if bmus_by_path is not None:
            r["bmus"] = bmus_by_path[i]
        out.append(r)
        pos += n
    return out


def trajectory_rows(ctx: Context, jobs, targets, relaxed, n_steps: int, params: MusicParams | None, seed: int,
                    methods=METHODS, knn_k: int = 5, knn_stride: int = 1, extra: dict | None = None) -> list[dict]:
    """One Table 2 row per (job, method): the metrics of :func:`path_metrics` plus the job's identity.

    MUSIC runs as one batch; linear interpolation goes to the same target prototype in the same space with
    the same number of frames; the VAE (if ``ctx`` has one) interpolates between the encodings of the
    start image and of the decoded target prototype. ``extra`` columns are added to every row.
    """
    from musicsom.som import best_matching_units

    results: dict[str, list[dict]] = {}
    W = ctx.W
    if "music" in methods:
        batch = music_batch(ctx, jobs, targets, params, n_steps, seed)
        res = latent_results(ctx, list(batch.states), W[targets], list(batch.bmus))
        for r, clipped in zip(res, batch.clipped):
            r["share_clipped"] = float(np.mean(clipped))
        results["music"] = res
    if "linear" in methods:
        paths = [linear_path(ctx.z_test[j.test_index], W[t], n_steps) for j, t in zip(jobs, targets)]
        bm = best_matching_units(np.concatenate(paths), W).reshape(len(paths), -1)
        results["linear"] = latent_results(ctx, paths, W[targets], list(bm))
    if "vae" in methods and ctx.vae_encode is not None:
        res = []
        for j, t in zip(jobs, targets):
            target_image = to_images(ctx.enc, W[t]).reshape(1, -1)
            z = ctx.vae_encode(np.vstack([np.asarray(ctx.pix_test[j.test_index], dtype=np.float64).reshape(1, -1), target_image]))
            S = linear_path(z[0], z[1], n_steps)
            frames = ctx.vae_decode(S)
            res.append({"states": S, "images": frames.reshape(-1, SIDE, SIDE), "probs": ctx.classify(ctx.enc.encode(frames)),
                        "target_state": z[1]})
        results["vae"] = res
    rows = []
    for m, res in results.items():
        manifold = _manifold_series(ctx, [r["images"] for r in res], knn_k, knn_stride)
        for j, t, rel, r, md in zip(jobs, targets, relaxed, res, manifold):
            row, _ = path_metrics(r, j.source, j.target, None, manifold=md)
            rows.append({"pair": j.pair, "source": j.source, "target": j.target, "start": j.start, "test_index": j.test_index,
                         "target_prototype": int(t), "target_relaxed": bool(rel), "method": m,
                         "share_clipped": r.get("share_clipped", np.nan), **row, **(extra or {})})
    return rows


def sweep_rows(ctx: Context, jobs, targets, param: str, values, base: MusicParams, n_steps: int, seed: int) -> list[dict]:
    """One row per (value, start) of a one-parameter sweep (``param``: the MusicParams field alpha, lam or kappa), others at ``base``.

    Each row has the path metrics, the share of steps the trust region clipped, the cosine of the first
    step with the first step at ``base``, and ``path_deviation``: the largest distance of the path from the
    path at ``base``, over the start's distance to its target (0 when the value does not change the path).
    """
    import dataclasses

    if param not in SWEPT:
        raise ValueError(f"param must be one of {list(SWEPT)}; got {param!r}")
    ref = music_batch(ctx, jobs, targets, base, n_steps, seed)
    scale = np.linalg.norm(ctx.z_test[[j.test_index for j in jobs]] - ctx.W[targets], axis=1)
    d_ref = ref.states[:, 1] - ref.states[:, 0]
    rows = []
    for v in values:
        params = dataclasses.replace(base, **{param: float(v)}).validate()
        batch = music_batch(ctx, jobs, targets, params, n_steps, seed)
        res = latent_results(ctx, list(batch.states), ctx.W[targets], list(batch.bmus))
        dev = np.max(np.linalg.norm(batch.states - ref.states, axis=2), axis=1) / scale
        d1 = batch.states[:, 1] - batch.states[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = (d1 * d_ref).sum(1) / (np.linalg.norm(d1, axis=1) * np.linalg.norm(d_ref, axis=1))
        for b, (j, r) in enumerate(zip(jobs, res)):
            row, _ = path_metrics(r, j.source, j.target, None)
            rows.append({"param": param, "value": float(v), "is_default": bool(np.isclose(v, getattr(base, param))),
                         "start": j.start, "test_index": j.test_index, "target_prototype": int(targets[b]),
                         "share_clipped": float(batch.clipped[b].mean()), "first_step_cos_to_default": float(cos[b]),
                         "path_deviation": float(dev[b]), **{k: row[k] for k in (
                             "mean_confidence", "min_confidence", "continuity", "geodesic_efficiency", "convergence_ratio",
                             "crossing_step", "third_class_steps", "final_label", "path_length", "label_sequence")}})
    return rows
