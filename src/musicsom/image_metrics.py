"""Image-space metrics of interpolation frames (paper §5.3.3-5.3.5). Pure numpy; no file I/O.

- Laplacian sharpness: the variance of the discrete 4-neighbour Laplacian over an image's interior.
- Manifold distance: the mean Euclidean distance of a frame to its ``k`` nearest training images.
  Candidates come from a chunked float32 matrix product (fast); the distances of the best
  candidates are then recomputed exactly in float64, so a training image is at distance 0.
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
class KnnIndex:
    """Exact k-nearest-neighbour distances to a fixed reference set (the training images, flattened).

    The reference is held once, in float32 (60,000 MNIST images take 188 MB). Candidates come from a
    chunked float32 product; the ``k + margin`` best are then re-measured exactly (float64 arithmetic
    on the float32 values), so a query equal to a reference row is at distance exactly 0. ``chunk``
    bounds the (chunk × n_ref) block of scores.

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.image_metrics import KnnIndex
    >>> index = KnnIndex(np.array([[0.0, 0.0], [0.0, 1.0], [3.0, 4.0]]))
    >>> index.query(np.array([[3.0, 4.0]]), k=2).round(6).tolist()    # itself (exactly 0), then sqrt(18)
    [[0.0, 4.242641]]
    """

    def __init__(self, reference, chunk: int = 256):
        R = np.asarray(reference)
        R = R.reshape(R.shape[0], -1).astype(np.float32)
        if R.shape[0] < 1 or not np.all(np.isfinite(R)):
            raise ValueError("reference must hold at least one finite row")
        self.ref = R
        self.ref_sq = np.einsum("ij,ij->i", R, R, dtype=np.float64).astype(np.float32)
        self.chunk = max(1, int(chunk))

    def query(self, X, k: int = 5, margin: int = 8) -> np.ndarray:
        """(n, k) exact distances of each row of ``X`` to its ``k`` nearest reference rows, ascending."""
        X = np.asarray(X)
        X = X.reshape(X.shape[0], -1).astype(np.float32)
        n_ref = self.ref.shape[0]
        if X.shape[1] != self.ref.shape[1]:
            raise ValueError(f"X rows have {X.shape[1]} values, the reference rows {self.ref.shape[1]}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinite values")
        if not 1 <= k <= n_ref:
            raise ValueError(f"k must be in [1, {n_ref}]; got {k}")
        m = min(n_ref, k + max(int(margin), 0))
        out = np.empty((X.shape[0], k))
        for s in range(0, X.shape[0], self.chunk):
            Q = X[s : s + self.chunk]
            score = self.ref_sq[None, :] - 2.0 * (Q @ self.ref.T)  # ||q − r||² minus ||q||² (constant per row)
            if m < n_ref:
                cand = np.argpartition(score, m - 1, axis=1)[:, :m]
            else:
                cand = np.broadcast_to(np.arange(n_ref), (Q.shape[0], n_ref))
            diff = Q[:, None, :].astype(np.float64) - self.ref[cand].astype(np.float64)
            exact = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
            out[s : s + Q.shape[0]] = np.sort(exact, axis=1)[:, :k]
        return out

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
