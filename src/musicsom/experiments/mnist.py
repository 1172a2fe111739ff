"""The MNIST experiments (paper §5.3) as functions shared by the ``mnist_*`` stages. No file writing.

Spaces: images are flattened 28×28 pixel rows in [0, 1]; the SOM, MUSIC, the linear baseline, the
data-manifold path and the classifier live in the PCA-whitened latent (``encoding.PCAWhitening``); the
VAE has its own 32-d latent. Every latent state decodes to an image (PCA decoder, clipped to [0, 1] for
the image metrics and the figures).

For a digit pair (source → target) and one start image ``x0`` (a test image of the source class):

- target prototype: among the prototypes whose majority label is the target class and whose hit
  purity (share of their training hits in that class) is at least ``min_purity``, the one nearest
  ``x0`` in the latent;
- MUSIC (``music``): informed mode toward that prototype, ``n_steps`` steps;
- linear (``linear``): the straight line from ``x0`` to the prototype, ``n_steps + 1`` evenly spaced frames;
- data-manifold path (``knn_path``, beyond the paper): the shortest path from ``x0`` to the prototype
  through a k-nearest-neighbour graph of training codes (:class:`LatentGraph`; Euclidean edge weights,
  Dijkstra; start and prototype attached by their k nearest training codes), resampled to ``n_steps + 1``
  frames equally spaced in arc length (:func:`resample_polyline`), decoded by the PCA decoder. The graph
  is built once per stage run, on a seeded subset of the training codes (``mnist.table2.knn_path_nodes``;
  measured: all 60,000 codes take about 28 s on one thread at D = 50 and 170 s at D = 712, a 20,000-code
  subset 3 s and 21 s). A start whose prototype the graph cannot reach (a disconnected graph)
  gets NaN metrics and a warning;
- VAE (``vae``): the straight line between the VAE encodings (posterior means) of the source image and of
  the decoded target prototype, the same number of frames, decoded by the VAE;
- spherical VAE interpolation (``slerp``, White 2016, beyond the paper): the same two endpoints joined by
  :func:`slerp` instead of a straight line, decoded by the VAE.

Classifier probabilities: latent states (MUSIC, linear, kNN path) are classified directly (the classifier
lives in the latent, as in the paper); VAE-decoded frames are PCA-encoded first.

Equal decoders (beyond the paper): the arms differ in path *and* decoder (PCA for ``PCA_ARMS``, VAE for
``VAE_ARMS``). With ``equal_decoders=True``, :func:`trajectory_rows` measures every arm's frames once more
through each decoder and adds the columns ``<metric>_pca`` and ``<metric>_vae`` for the metrics of
:data:`DECODER_METRICS` (sharpness, manifold distance, mean confidence): "pca" = the frame projected on the
PCA latent and decoded by the PCA decoder (``to_images(enc, enc.encode(frame))``), "vae" = the VAE round
trip (VAE decoder of the VAE posterior mean of the frame). An arm's column for its own decoder repeats its
plain metric (the same frames), so each ``_pca`` (or ``_vae``) column compares all arms under one decoder,
and a path effect shows as a difference that survives it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from musicsom import image_metrics as im
from musicsom import metrics as tm
from musicsom.encoding import PCAWhitening
from musicsom.experiments import progress as pg
from musicsom.experiments.common import linear_path
from musicsom.music import Music, MusicParams

log = logging.getLogger("musicsom.experiments.mnist")

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
    "slerp",
    "resample_polyline",
    "LatentGraph",
    "knn_paths",
    "decode_as",
    "PCA_ARMS",
    "VAE_ARMS",
    "DECODERS",
    "DECODER_METRICS",
    "ARM_NAMES",
    "intermediate_indices",
]

#: every arm of Table 2, in table order: the three PCA-decoded arms, then the two VAE-decoded ones
METHODS = ("music", "linear", "knn_path", "vae", "slerp")
#: the arms whose frames the PCA decoder makes (latent states) and those the VAE decoder makes
PCA_ARMS = ("music", "linear", "knn_path")
VAE_ARMS = ("vae", "slerp")
#: the two decoders of the equal-decoder columns (``<metric>_<decoder>``)
DECODERS = ("pca", "vae")
#: the image metrics measured again under each decoder, with the direction that counts as better
DECODER_METRICS = {"sharpness": "higher", "manifold_distance": "lower", "mean_confidence": "higher"}
#: how tables and figures name the arms
ARM_NAMES = {"music": "MUSIC", "linear": "linear", "knn_path": "kNN path", "vae": "VAE", "slerp": "VAE slerp"}
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


def intermediate_indices(n_frames: int, stride: int) -> np.ndarray:
    """The frames of :func:`frame_indices` without the two endpoints (the frames a set-level metric compares)."""
    idx = frame_indices(n_frames, stride)
    return idx[(idx > 0) & (idx < n_frames - 1)]


def slerp(z0, z1, n_steps: int, eps: float = 1e-7) -> np.ndarray:
    """``n_steps + 1`` points of the spherical interpolation from ``z0`` to ``z1`` inclusive (White 2016): (n_steps + 1, d).

    ``p(t) = sin((1 − t)θ)/sin θ · z0 + sin(tθ)/sin θ · z1`` with θ the angle between ``z0`` and ``z1``: the angle
    to ``z0`` grows linearly in t and, for endpoints of equal norm, the norm stays constant (a straight line
    cuts inside the sphere, where a Gaussian prior's mass is not). Parallel or opposite endpoints
    (sin θ < ``eps``) have no unique great circle; the straight line is used for them.

    Examples
    --------
    >>> from musicsom.experiments.mnist import slerp
    >>> slerp([1.0, 0.0], [0.0, 1.0], 2).round(4).tolist()
    [[1.0, 0.0], [0.7071, 0.7071], [0.0, 1.0]]
    """
    z0, z1 = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    if z0.shape != z1.shape or z0.ndim != 1:
        raise ValueError(f"slerp needs two vectors of the same length; got shapes {z0.shape} and {z1.shape}")
    t = np.linspace(0.0, 1.0, int(n_steps) + 1)[:, None]
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 == 0.0 or n1 == 0.0:
        return linear_path(z0, z1, n_steps)
    theta = float(np.arccos(np.clip(z0 @ z1 / (n0 * n1), -1.0, 1.0)))
    s = np.sin(theta)
    if s < eps:
        return linear_path(z0, z1, n_steps)
    out = (np.sin((1.0 - t) * theta) / s) * z0 + (np.sin(t * theta) / s) * z1
    out[0], out[-1] = z0, z1  # exact endpoints (the weights are 1 and 0 only up to round-off)
    return out


def resample_polyline(points, n_frames: int) -> np.ndarray:
    """``n_frames`` points along the polyline through ``points`` (m, D), equally spaced in arc length, both ends included.

    Each output point lies on the polyline; its arc-length position is ``i / (n_frames − 1)`` of the total. A
    polyline of no length gives ``n_frames`` copies of its first point.

    Examples
    --------
    >>> from musicsom.experiments.mnist import resample_polyline
    >>> resample_polyline([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]], 5).tolist()
    [[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [1.0, 0.5], [1.0, 1.0]]
    """
    P = np.asarray(points, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] < 1:
        raise ValueError(f"points must be (m, D) with m >= 1; got shape {P.shape}")
    if int(n_frames) < 2:
        raise ValueError(f"n_frames must be >= 2 (both ends); got {n_frames}")
    cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(P, axis=0), axis=1))])
    # a point that adds no length (repeated, or closer than the round-off of the running length) would make the
    # arc position ambiguous: dropped (the exact last point is put back below)
    keep = np.concatenate([[True], np.diff(cum) > 0])
    Q, cum = P[keep], cum[keep]
    if Q.shape[0] == 1:
        return np.repeat(P[:1], int(n_frames), axis=0)
    s = np.linspace(0.0, cum[-1], int(n_frames))
    j = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(cum) - 2)
    frac = ((s - cum[j]) / (cum[j + 1] - cum[j]))[:, None]
    out = Q[j] + frac * (Q[j + 1] - Q[j])
    out[0], out[-1] = P[0], P[-1]
    return out


@dataclass
class LatentGraph:
    """A symmetric k-nearest-neighbour graph of training codes, for the data-manifold path arm (``knn_path``).

    ``nodes`` (m, D): the codes (all training codes, or a seeded subset: :meth:`build`); ``graph``: (m, m) sparse,
    an edge between two codes when either is among the other's ``k`` nearest, weighted by their Euclidean
    distance; ``n_components``: connected components of the graph. :meth:`paths` attaches each start and end
    by their ``k`` nearest nodes and runs Dijkstra (``scipy.sparse.csgraph``).
    """

    nodes: np.ndarray
    graph: object
    k: int
    n_components: int
    node_ids: np.ndarray
    index: object

    @classmethod
    def build(cls, codes, k: int = 10, n_nodes: int = 0, seed: int = 0) -> "LatentGraph":
        """The graph of ``n_nodes`` codes drawn without replacement with a generator seeded by ``seed`` (0 or at least
        the number of codes: all of them), each joined to its ``k`` nearest other codes (scikit-learn, one job)."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components
        from sklearn.neighbors import NearestNeighbors

        Z = np.asarray(codes, dtype=np.float64)
        if Z.ndim != 2:
            raise ValueError(f"codes must be (n, D); got shape {Z.shape}")
        if int(k) < 1:
            raise ValueError(f"knn_path_k (neighbours per node) must be >= 1; got {k}")
        if int(n_nodes) < 0:
            raise ValueError(f"knn_path_nodes must be >= 0 (0 = every training code); got {n_nodes}")
        n = Z.shape[0]
        ids = np.arange(n) if n_nodes == 0 or n_nodes >= n else np.sort(np.random.default_rng(int(seed)).choice(n, int(n_nodes), replace=False))
        if ids.size < int(k) + 1:
            raise ValueError(f"a {k}-nearest-neighbour graph needs at least {int(k) + 1} codes; got {ids.size}: lower knn_path_k "
                             "or use more training codes")
        X = np.ascontiguousarray(Z[ids])
        index = NearestNeighbors(n_neighbors=int(k), n_jobs=1).fit(X)
        dist, ind = index.kneighbors()  # no argument: each code's k nearest *other* codes
        rows = np.repeat(np.arange(ids.size), int(k))
        # duplicate codes are at distance 0, which a sparse matrix would drop as "no edge": keep them as the tiniest weight
        w = np.maximum(dist.ravel(), np.finfo(np.float64).tiny)
        G = coo_matrix((w, (rows, ind.ravel())), shape=(ids.size, ids.size)).tocsr()
        G = G.maximum(G.T).tocsr()
        n_comp, _ = connected_components(G, directed=False)
        return cls(nodes=X, graph=G, k=int(k), n_components=int(n_comp), node_ids=ids, index=index)

    def paths(self, starts, ends) -> list:
        """The shortest path of each (start, end) row pair through the graph: a list of polylines (start, nodes..., end),
        or None where the end cannot be reached from the start (different components).

        Each start has edges to its ``k`` nearest nodes and each end edges from its ``k`` nearest nodes, both
        directed, so that no path passes through another pair's start or end. One Dijkstra per start.
        """
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import dijkstra

        S, E = np.atleast_2d(np.asarray(starts, dtype=np.float64)), np.atleast_2d(np.asarray(ends, dtype=np.float64))
        if S.shape != E.shape or S.shape[1] != self.nodes.shape[1]:
            raise ValueError(f"starts and ends must both be (n, {self.nodes.shape[1]}); got {S.shape} and {E.shape}")
        m, B, k = self.nodes.shape[0], S.shape[0], self.k
        ds, is_ = self.index.kneighbors(S, k)
        de, ie = self.index.kneighbors(E, k)
        base = self.graph.tocoo()
        tiny = np.finfo(np.float64).tiny
        rows = np.concatenate([base.row, np.repeat(m + np.arange(B), k), ie.ravel()])
        cols = np.concatenate([base.col, is_.ravel(), np.repeat(m + B + np.arange(B), k)])
        w = np.concatenate([base.data, np.maximum(ds.ravel(), tiny), np.maximum(de.ravel(), tiny)])
        A = coo_matrix((w, (rows, cols)), shape=(m + 2 * B, m + 2 * B)).tocsr()
        dist, pred = dijkstra(A, directed=True, indices=m + np.arange(B), return_predecessors=True)
        out = []
        for b in range(B):
            end = m + B + b
            if not np.isfinite(dist[b, end]):
                out.append(None)
                continue
            chain, v = [], int(pred[b, end])
            while v != m + b:
                chain.append(v)
                v = int(pred[b, v])
            out.append(np.vstack([S[b], self.nodes[chain[::-1]], E[b]]))
        return out


def knn_paths(graph: LatentGraph, starts, ends, n_steps: int) -> list:
    """The ``knn_path`` arm: each shortest graph path resampled to ``n_steps + 1`` frames (None where unreachable)."""
    polylines = graph.paths(starts, ends)
    missing = sum(p is None for p in polylines)
    if missing:
        log.warning("knn_path: %d of %d paths cannot reach their target through the k-NN graph (%d components); "
                    "their metrics are NaN. Raise mnist.table2.knn_path_k or knn_path_nodes", missing, len(polylines),
                    graph.n_components)
    return [None if p is None else resample_polyline(p, int(n_steps) + 1) for p in polylines]


def decode_as(images, decoder: str, enc: PCAWhitening, vae_encode=None, vae_decode=None) -> np.ndarray:
    """Frames (n, 28, 28) passed through one decoder: "pca" = projected on the PCA latent and decoded (clipped to
    [0, 1]), "vae" = the VAE round trip (decoder of the posterior mean)."""
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    if decoder == "pca":
        return to_images(enc, enc.encode(flat))
    if decoder == "vae":
        if vae_encode is None or vae_decode is None:
            raise ValueError("decoding the VAE way needs the VAE (vae_encode and vae_decode)")
        return vae_decode(vae_encode(flat)).reshape(-1, SIDE, SIDE)
    raise ValueError(f"decoder must be one of {list(DECODERS)}; got {decoder!r}")


# ---------------------------------------------------------------- the arms of one trajectory (the transition)
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
    graph: "LatentGraph | None" = None,
) -> dict:
    """Run the arms of :data:`METHODS` named in ``methods`` from one start: MUSIC, linear, the kNN path (if ``graph``
    is given and reaches the target), the VAE line and slerp (if the VAE functions are given).

    ``x0``: the start's latent code; ``image0``: its pixels (784,) in [0, 1]; ``classify``: latent
    rows → class probabilities; ``vae_encode`` / ``vae_decode``: pixel rows ↔ VAE latent rows.
    Returns ``{method: {"states", "images" (T+1, 28, 28), "probs" (T+1, C), "target_state", "bmus" (latent
    methods)}}``, where ``states`` and ``target_state`` (the point the path heads for) live in the method's
    own space (the latent for the PCA-decoded arms, the VAE latent for the VAE-decoded ones).
    """
    from musicsom.som import best_matching_units

    W = np.asarray(W, dtype=np.float64)
    out = {}

    def latent(S):
        return {"states": S, "bmus": best_matching_units(S, W), "images": to_images(enc, S), "probs": classify(S), "target_state": W[target]}

    if "music" in methods:
        tr = Music(W, params, grid_shape=grid_shape, topology=topology, random_state=seed).run(x0, n_steps, "informed", target=target)
        out["music"] = {"states": tr.states, "bmus": tr.bmus, "images": to_images(enc, tr.states), "probs": classify(tr.states), "target_state": W[target]}
    if "linear" in methods:
        out["linear"] = latent(linear_path(x0, W[target], n_steps))
    if "knn_path" in methods and graph is not None:
        S = knn_paths(graph, np.asarray(x0, dtype=np.float64)[None], W[target][None], n_steps)[0]
        if S is not None:
            out["knn_path"] = latent(S)
    if vae_encode is not None and any(m in methods for m in VAE_ARMS):
        target_image = to_images(enc, W[target]).reshape(1, -1)
        z = vae_encode(np.vstack([np.asarray(image0, dtype=np.float64).reshape(1, -1), target_image]))
        for m in [m for m in VAE_ARMS if m in methods]:
            S = (linear_path if m == "vae" else slerp)(z[0], z[1], n_steps)
            frames = vae_decode(S)
            out[m] = {"states": S, "images": frames.reshape(-1, SIDE, SIDE), "probs": classify(enc.encode(frames)), "target_state": z[1]}
    return out


#: the keys of a :func:`path_metrics` row (an unreachable kNN path gets them all as NaN)
PATH_ROW_KEYS = ("mean_confidence", "min_confidence", "sharpness", "manifold_distance", "geodesic_efficiency", "continuity",
                 "crossing_step", "crossing_fraction", "commit_step", "third_class_steps", "strongest_third_class", "final_label",
                 "convergence_ratio", "path_length", "label_sequence", *(
                     "crossing_progress", "third_class_share", "mean_confidence_arc", "sharpness_arc", "manifold_distance_arc"))


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
        **equal_progress(images, labels, conf, sharp, manifold, cross, source, target),
    }
    series = {"confidence": conf, "label": labels, "sharpness": sharp, "manifold_distance": manifold}
    return row, series


def equal_progress(images, labels, conf, sharp, manifold, cross: int, source: int, target: int) -> dict:
    """The claim-4/5/6 quantities at equal progress (:mod:`musicsom.experiments.progress`), measured along the frames.

    Progress is the share of the path's length in pixel space, the one space every arm (latent, VAE, kNN path)
    shares, so an arm that arrives early and rests weighs its resting frames by nothing. A path that never
    crosses gets crossing progress 1 (it reached the target class nowhere before its end); manifold distance,
    measured on every ``stride``-th frame, averages the measured frames with their progress weights renormalised.
    """
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    nan = float("nan")
    w = pg.arc_weights(flat)
    if not np.all(np.isfinite(w)):
        return {k: nan for k in ("crossing_progress", "third_class_share", "mean_confidence_arc", "sharpness_arc",
                                 "manifold_distance_arc")}
    m = np.asarray(manifold, dtype=np.float64)
    ok = np.isfinite(m)
    wm = w[ok].sum()
    third = (np.asarray(labels) != source) & (np.asarray(labels) != target)
    return {
        "crossing_progress": 1.0 if cross < 0 else pg.crossing_progress(flat, cross),
        "third_class_share": pg.arc_share(third, flat),
        "mean_confidence_arc": float(np.dot(w, conf)),
        "sharpness_arc": float(np.dot(w, sharp)),
        "manifold_distance_arc": float(np.dot(w[ok], m[ok]) / wm) if wm > 0 else nan,
    }


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
    labels, the classifier and VAE (as functions of arrays), the k-NN index of the training images, the training
    codes (for the kNN-path arm's graph) and that graph once a stage has built it (:meth:`LatentGraph.build`)."""

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
    z_train: np.ndarray | None = None
    graph: LatentGraph | None = None


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
    if ctx.knn is None or not len(images_by_path):
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


def _vae_arms(ctx: Context, jobs, targets, n_steps: int, methods) -> dict:
    """The VAE-decoded arms of every job (job by job: the same float32 batches, so the same numbers, as one job alone)."""
    out = {m: [] for m in VAE_ARMS if m in methods}
    for j, t in zip(jobs, targets):
        target_image = to_images(ctx.enc, ctx.W[t]).reshape(1, -1)
        z = ctx.vae_encode(np.vstack([np.asarray(ctx.pix_test[j.test_index], dtype=np.float64).reshape(1, -1), target_image]))
        for m in out:
            S = (linear_path if m == "vae" else slerp)(z[0], z[1], n_steps)
            frames = ctx.vae_decode(S)
            out[m].append({"states": S, "images": frames.reshape(-1, SIDE, SIDE), "probs": ctx.classify(ctx.enc.encode(frames)),
                           "target_state": z[1]})
    return out


def _mean_finite(x) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(np.nanmean(x)) if np.isfinite(x).any() else float("nan")


def _decoder_columns(ctx: Context, arm: str, res: list, rows: list, knn_k: int, knn_stride: int, frames_out: dict | None) -> list[dict]:
    """The ``<metric>_<decoder>`` columns of one arm's paths (:data:`DECODER_METRICS` under each of :data:`DECODERS`).

    The arm's own decoder repeats its plain metrics (``rows``); the other decoder measures :func:`decode_as` of its
    frames (NaN for "vae" without a VAE), and hands its intermediate frames to ``frames_out["<arm>@<decoder>"]``.
    """
    own = "pca" if arm in PCA_ARMS else "vae"
    cols = [{} for _ in res]
    for dec in DECODERS:
        if dec == own:
            for c, row in zip(cols, rows):
                c.update({f"{k}_{dec}": row[k] for k in DECODER_METRICS})
            continue
        if dec == "vae" and ctx.vae_encode is None:
            for c in cols:
                c.update({f"{k}_{dec}": float("nan") for k in DECODER_METRICS})
            continue
        sizes = [r["images"].shape[0] for r in res]
        images = decode_as(np.concatenate([r["images"] for r in res]), dec, ctx.enc, ctx.vae_encode, ctx.vae_decode)
        probs = ctx.classify(ctx.enc.encode(images.reshape(len(images), -1)))
        parts = np.split(np.arange(len(images)), np.cumsum(sizes)[:-1])
        manifold = _manifold_series(ctx, [images[i] for i in parts], knn_k, knn_stride)
        for c, i, md in zip(cols, parts, manifold):
            c.update({f"sharpness_{dec}": float(im.laplacian_sharpness(images[i]).mean()), f"manifold_distance_{dec}": _mean_finite(md),
                      f"mean_confidence_{dec}": float(im.confidence(probs[i]).mean())})
        if frames_out is not None:
            frames_out[f"{arm}@{dec}"] = np.concatenate(
                [images[i][intermediate_indices(i.size, knn_stride)] for i in parts]).astype(np.float32)
    return cols


def trajectory_rows(ctx: Context, jobs, targets, relaxed, n_steps: int, params: MusicParams | None, seed: int,
                    methods=METHODS, knn_k: int = 5, knn_stride: int = 1, extra: dict | None = None,
                    equal_decoders: bool = False, frames_out: dict | None = None) -> list[dict]:
    """One Table 2 row per (job, method): the metrics of :func:`path_metrics` plus the job's identity.

    MUSIC runs as one batch; linear interpolation goes to the same target prototype in the same space with
    the same number of frames; the kNN path (if ``ctx.graph`` is set) follows the training codes' graph to
    the same prototype; the VAE and slerp arms (if ``ctx`` has a VAE) interpolate between the encodings of the
    start image and of the decoded target prototype. An arm whose requirement is missing is left out.
    ``extra`` columns are added to every row.

    ``equal_decoders``: add the ``<metric>_pca`` / ``<metric>_vae`` columns (module docstring). ``frames_out``: a
    dict to fill with ``{arm: (n, 28, 28) float32}``, every job's intermediate frames (endpoints excluded, every
    ``knn_stride``-th: :func:`intermediate_indices`) stacked in job order (an unreachable kNN path adds none), and with ``equal_decoders`` the same
    frames through the other decoder as ``"<arm>@<decoder>"`` (e.g. ``"music@vae"``, ``"vae@pca"``), for
    set-level metrics. The rows do not depend on either being asked for.
    """
    from musicsom.som import best_matching_units

    results: dict[str, list] = {}
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
    if "knn_path" in methods and ctx.graph is not None:
        paths = knn_paths(ctx.graph, ctx.z_test[[j.test_index for j in jobs]], W[targets], n_steps)
        found = [i for i, S in enumerate(paths) if S is not None]
        res = [None] * len(paths)
        if found:
            S = [paths[i] for i in found]
            bm = best_matching_units(np.concatenate(S), W).reshape(len(S), -1)
            for i, r in zip(found, latent_results(ctx, S, W[np.asarray(targets)[found]], list(bm))):
                res[i] = r
        results["knn_path"] = res
    if ctx.vae_encode is not None and any(m in methods for m in VAE_ARMS):
        results.update(_vae_arms(ctx, jobs, targets, n_steps, methods))
    rows = []
    for m in [m for m in METHODS if m in results] + [m for m in results if m not in METHODS]:
        res = results[m]
        present = [r for r in res if r is not None]
        manifold = _manifold_series(ctx, [r["images"] for r in present], knn_k, knn_stride)
        metrics = [path_metrics(r, j.source, j.target, None, manifold=md)[0]
                   for r, md, j in zip(present, manifold, [j for j, r in zip(jobs, res) if r is not None])]
        cols = _decoder_columns(ctx, m, present, metrics, knn_k, knn_stride, frames_out) if equal_decoders and present else [{}] * len(present)
        if frames_out is not None and present:
            frames_out[m] = np.concatenate([r["images"][intermediate_indices(r["images"].shape[0], knn_stride)] for r in present]).astype(np.float32)
        got = iter(zip(present, metrics, cols))
        for j, t, rel, r in zip(jobs, targets, relaxed, res):
            if r is None:  # an unreachable kNN path: the row is kept, with nothing measured
                r, row = {}, {k: float("nan") for k in PATH_ROW_KEYS} | {"label_sequence": "unreachable"}
                col = {f"{k}_{d}": float("nan") for d in DECODERS for k in DECODER_METRICS} if equal_decoders else {}
            else:
                r, row, col = next(got)
            rows.append({"pair": j.pair, "source": j.source, "target": j.target, "start": j.start, "test_index": j.test_index,
                         "target_prototype": int(t), "target_relaxed": bool(rel), "method": m,
                         "share_clipped": r.get("share_clipped", np.nan), **row, **col, **(extra or {})})
    return rows


#: points along the common arc length at which :func:`sweep_rows` compares a path with the default-value path
ARC_POINTS = 101


def _cut_at_length(S: np.ndarray, length: float) -> np.ndarray:
    """The first ``length`` of arc of the polyline ``S``: its frames up to there, then the point at that length."""
    seg = np.linalg.norm(np.diff(S, axis=0), axis=1)
    c = np.concatenate([[0.0], np.cumsum(seg)])
    if length >= c[-1]:
        return S
    j = int(np.searchsorted(c, length, side="right")) - 1  # c[j] <= length < c[j + 1], so seg[j] > 0
    return np.vstack([S[: j + 1], S[j] + (length - c[j]) / seg[j] * (S[j + 1] - S[j])])


def _arc_deviation(S, R, scale: float, n: int = ARC_POINTS) -> float:
    """Largest distance between paths ``S`` and ``R`` at equal arc length from their starts, over ``scale``.

    Both are cut to the shorter one's length and resampled at ``n`` equally spaced points of it
    (:func:`musicsom.experiments.progress.resample_by_arc`): a path that runs along the same curve at another
    speed, and so gets less (or more) far in the same number of steps, deviates by 0. NaN for a path of no length.
    """
    S, R = np.asarray(S, dtype=np.float64), np.asarray(R, dtype=np.float64)
    if not (np.all(np.isfinite(S)) and np.all(np.isfinite(R)) and scale > 0):
        return float("nan")
    length = min(pg.segment_lengths(S).sum(), pg.segment_lengths(R).sum())
    if not length > 0:
        return float("nan")
    a, b = (pg.resample_by_arc(_cut_at_length(P, length), n) for P in (S, R))
    return float(np.linalg.norm(a - b, axis=1).max() / scale)


def _crossing_arc(S, crossing_step: int, scale: float) -> float:
    """Arc length travelled up to frame ``crossing_step`` over ``scale`` (NaN if the path never crosses): where, not when."""
    if crossing_step < 0 or not scale > 0:
        return float("nan")
    return float(np.linalg.norm(np.diff(np.asarray(S, dtype=np.float64)[: crossing_step + 1], axis=0), axis=1).sum() / scale)


def sweep_rows(ctx: Context, jobs, targets, param: str, values, base: MusicParams, n_steps: int, seed: int) -> list[dict]:
    """One row per (value, start) of a one-parameter sweep (``param``: the MusicParams field alpha, lam or kappa), others at ``base``.

    Each row has the path metrics, the share of steps the trust region clipped (``share_clipped``; the same
    for the run at ``base``: ``share_clipped_default``), the cosine of the first step with the first step at
    ``base``, and two deviations from the path at ``base``, both over the start's distance to its target:

    - ``path_deviation``: the largest distance between the two paths' states at the same step (time-indexed;
      0 when the value does not change the path, large when it changes only the speed);
    - ``path_deviation_arc``: the largest distance at the same arc length from the start, over the two paths'
      common length (:func:`_arc_deviation`, :data:`ARC_POINTS` points; 0 when the value changes only the
      speed along the same curve: claim 7's κ).

    ``crossing_arc``: the arc length travelled to the first frame in the target class over the same distance
    (where along the way the class changes, whatever the speed; NaN if it never does).
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
        batch = ref if params == base else music_batch(ctx, jobs, targets, params, n_steps, seed)
        res = latent_results(ctx, list(batch.states), ctx.W[targets], list(batch.bmus))
        dev = np.max(np.linalg.norm(batch.states - ref.states, axis=2), axis=1) / scale
        d1 = batch.states[:, 1] - batch.states[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = (d1 * d_ref).sum(1) / (np.linalg.norm(d1, axis=1) * np.linalg.norm(d_ref, axis=1))
        for b, (j, r) in enumerate(zip(jobs, res)):
            row, _ = path_metrics(r, j.source, j.target, None)
            rows.append({"param": param, "value": float(v), "is_default": bool(np.isclose(v, getattr(base, param))),
                         "start": j.start, "test_index": j.test_index, "target_prototype": int(targets[b]),
                         "share_clipped": float(batch.clipped[b].mean()), "share_clipped_default": float(ref.clipped[b].mean()),
                         "first_step_cos_to_default": float(cos[b]), "path_deviation": float(dev[b]),
                         "path_deviation_arc": _arc_deviation(batch.states[b], ref.states[b], float(scale[b])),
                         "crossing_arc": _crossing_arc(batch.states[b], int(row["crossing_step"]), float(scale[b])),
                         **{k: row[k] for k in (
                             "mean_confidence", "min_confidence", "continuity", "geodesic_efficiency", "convergence_ratio",
                             "crossing_step", "third_class_steps", "final_label", "path_length", "label_sequence")}})
    return rows


def arm_distributions(features, frames_by_arm: dict, real_images, train_images, *, k: int, n_subsets: int,
                      subset_size: int, seed: int) -> list[dict]:
    """Set-level metrics of every arm's intermediate frames against held-out real images, with the real floor.

    ``features``: images (n, 28, 28) in [0, 1] → (n, d) features of the domain network (the seed's LeNet).
    ``frames_by_arm``: the ``frames_out`` of :func:`trajectory_rows` (arms and ``"<arm>@<decoder>"`` sets).
    ``real_images``: held-out test images, ``train_images``: training images; the first ``n`` of each are used,
    ``n`` the largest arm's set size (capped by what is given), so every arm and the floor (``"real_train"``:
    training images against the same held-out images) are measured at the same set sizes: the Fréchet distance
    is biased upward by small sets, so only equal sizes compare. One row per set: :func:`compare_sets`' keys.
    """
    from musicsom.experiments.distribution import compare_sets

    if not frames_by_arm:
        raise ValueError("no arm handed back any frames: nothing to compare")
    n = min(max(len(v) for v in frames_by_arm.values()), len(real_images), len(train_images))
    if n < max(k + 1, 2):
        raise ValueError(f"{n} frames or real images are too few for k = {k} nearest neighbours")
    real = features(np.asarray(real_images[:n], dtype=np.float32))
    size = min(int(subset_size), n)
    sets = {"real_train": np.asarray(train_images[:n], dtype=np.float32)}
    sets.update({arm: np.asarray(f[:n], dtype=np.float32) for arm, f in frames_by_arm.items()})
    rows = []
    for arm, images in sets.items():
        if len(images) < max(k + 1, 2):
            continue
        out = compare_sets(real, features(images), k=k, n_subsets=n_subsets, subset_size=min(size, len(images)), seed=seed)
        rows.append({"arm": arm, **out})
    return rows
