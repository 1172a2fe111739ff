"""What a dlib descriptor distance means on decoded faces: the calibration of the identity drift.

The identity drift of the faces experiment is the distance between dlib's 128-d descriptors of a decoded
frame and of frame 0 (:mod:`musicsom.experiments.face_id`). dlib's 0.6 same-person threshold was set on
full-size photos; on 64-px faces decoded by the autoencoder it says little. This module measures the same
distance on known answers, with the face code of the run:

- **same image**: a photo (the 64-px crop of the data) vs its reconstruction through the full code
  (``original_vs_decoded``), vs its reconstruction through the SOM's latent round trip, code → PCA
  whitening → code (``original_vs_latent``), and the two reconstructions against each other
  (``decoded_vs_latent``);
- **same person**: LFW's ``pairs.txt`` matched pairs (two photos of one person);
- **different people**: ``pairs.txt`` mismatched pairs;

the pair kinds in three *views*: the photos themselves (``original``, the reference), their
reconstructions through the full code (``decoded``) and through the latent round trip (``latent``).
Trajectory frames are decoded from latent states, so the ``latent`` view is the one a drift is read
against (:data:`REFERENCE_VIEW`).

Summaries: quantiles of each distribution, dlib's detection rate per view, and the separation of same
vs different people per view (the ROC area and the equal-error threshold). :class:`DriftReference`
turns a drift into a percentile of the same-person and different-people distributions. Pure logic: the
stage ``faces.identity_calibration`` reads and writes the files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from musicsom.experiments.face_id import SAME_PERSON_THRESHOLD

__all__ = [
    "PAIR_KINDS",
    "VIEWS",
    "SAME_IMAGE",
    "REFERENCE_VIEW",
    "parse_pairs",
    "select_pairs",
    "describe_views",
    "calibration_table",
    "distribution",
    "roc_auc",
    "equal_error",
    "summarise",
    "DriftReference",
    "drift_against_reference",
    "CALIBRATED_METRICS",
    "calibration_context",
    "calibrated_drift_means",
]

log = logging.getLogger("musicsom.experiments.face_calibration")

#: the kinds of pairs.txt lines: 3 fields (name, n, m) = two photos of one person; 4 fields = two people
PAIR_KINDS = ("same_person", "different_people")
#: how the images of a pair are seen: the photos, their decoding through the full code, through the latent round trip
VIEWS = ("original", "decoded", "latent")
#: the same-image comparisons: name -> (view of image a, view of image b)
SAME_IMAGE = {
    "original_vs_decoded": ("original", "decoded"),
    "original_vs_latent": ("original", "latent"),
    "decoded_vs_latent": ("decoded", "latent"),
}
#: the view a trajectory's drift is compared with: frames are decoded from latent (whitened) states
REFERENCE_VIEW = "latent"
#: the per-start columns that :func:`drift_against_reference` adds (Table 3's calibrated comparison)
CALIBRATED_METRICS = (
    "share_below_same_person_median",
    "mean_drift_same_person_pct",
    "mean_drift_different_people_pct",
    "half_drift_same_person_pct",
    "half_drift_different_people_pct",
)
QUANTILES = {"p05": 5, "q25": 25, "median": 50, "q75": 75, "p95": 95}


# ---------------------------------------------------------------- LFW's pairs files
def _image_id(name: str, number: str, where: str) -> str:
    try:
        n = int(number)
    except ValueError:
        raise ValueError(f"{where}: image number {number!r} is not an integer") from None
    if n < 1:
        raise ValueError(f"{where}: image number {n} must be >= 1")
    return f"{name}_{n:04d}"


def parse_pairs(text: str, source: str = "pairs.txt") -> pd.DataFrame:
    """The pairs of an LFW pairs file (``pairs.txt``: a ``folds<TAB>n`` header; ``pairsDevTrain.txt``: ``n``).

    Each fold lists ``n`` matched lines ``name<TAB>i<TAB>j`` (two photos of one person) then ``n`` mismatched
    lines ``name1<TAB>i<TAB>name2<TAB>j``. Returns one row per line: ``fold``, ``kind`` (:data:`PAIR_KINDS`),
    ``person_a``, ``image_a``, ``person_b``, ``image_b`` (image ids as in the data, ``Name_0001``). The header's
    counts are checked against the lines.
    """
    lines = [(k + 1, line) for k, line in enumerate(text.splitlines()) if line.strip()]
    if not lines:
        raise ValueError(f"{source} is empty; expected LFW's pairs.txt")
    header = lines[0][1].split()
    try:
        counts = [int(v) for v in header]
    except ValueError:
        raise ValueError(f"{source}: the first line {lines[0][1]!r} must be 'folds n' or 'n' (LFW's pairs.txt)") from None
    if len(counts) not in (1, 2) or min(counts) < 1:
        raise ValueError(f"{source}: the first line {lines[0][1]!r} must be 'folds n' or 'n' with positive counts")
    folds, per_fold = (1, counts[0]) if len(counts) == 1 else counts
    body = lines[1:]
    if len(body) != 2 * folds * per_fold:
        raise ValueError(f"{source}: the header announces {folds} fold(s) of {per_fold} matched + {per_fold} mismatched "
                         f"pairs ({2 * folds * per_fold} lines); the file has {len(body)}")
    rows = []
    for k, (number, line) in enumerate(body):
        fields = line.split()
        where = f"{source} line {number}"
        fold, within = divmod(k, 2 * per_fold)
        expected = 3 if within < per_fold else 4
        if len(fields) != expected:
            raise ValueError(f"{where}: expected {expected} fields ({'matched' if expected == 3 else 'mismatched'} pair "
                             f"{within % per_fold + 1} of fold {fold + 1}); got {line!r}")
        if expected == 3:
            name, i, j = fields
            rows.append((fold, "same_person", name, _image_id(name, i, where), name, _image_id(name, j, where)))
        else:
            a, i, b, j = fields
            rows.append((fold, "different_people", a, _image_id(a, i, where), b, _image_id(b, j, where)))
    return pd.DataFrame(rows, columns=["fold", "kind", "person_a", "image_a", "person_b", "image_b"])


def select_pairs(pairs: pd.DataFrame, available, max_per_kind: int = 0, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """The pairs whose two images are both ``available``, at most ``max_per_kind`` of each kind (0 = all).

    A cap keeps a seeded random subset (in file order, so every fold stays represented). Returns the
    pairs and, per kind, how many the file lists, how many have both images, and how many are used.
    """
    if int(max_per_kind) < 0:
        raise ValueError(f"max_per_kind must be >= 0 (0 = all); got {max_per_kind}")
    have = set(np.asarray(available).astype(str).tolist())
    ok = pairs["image_a"].isin(have) & pairs["image_b"].isin(have)
    rng = np.random.default_rng(int(seed))
    keep, counts = [], {}
    for kind in PAIR_KINDS:
        rows = np.flatnonzero((pairs["kind"] == kind).to_numpy() & ok.to_numpy())
        if int(max_per_kind) and rows.size > int(max_per_kind):
            rows = np.sort(rng.choice(rows, int(max_per_kind), replace=False))
        keep.append(rows)
        counts[kind] = {"listed": int((pairs["kind"] == kind).sum()), "available": int(((pairs["kind"] == kind) & ok).sum()),
                        "used": int(rows.size)}
    used = pairs.iloc[np.sort(np.concatenate(keep))].reset_index(drop=True)
    return used, counts


# ---------------------------------------------------------------- descriptors of the three views
def describe_views(originals, encode, decode, round_trip, describe, batch_size: int = 256) -> dict:
    """dlib descriptors of every image in each of :data:`VIEWS`.

    ``originals`` (n, S, S, 3) uint8; ``encode`` images → codes and ``decode`` codes → uint8 images (the face
    code); ``round_trip`` codes → codes through the SOM's latent (whiten, then unwhiten); ``describe`` images →
    (descriptors (m, 128), detected (m,)) (:meth:`FaceID.describe_many`). Works in blocks of ``batch_size``
    images. Returns {view: (descriptors (n, 128), detected (n,))}.
    """
    originals = np.asarray(originals)
    if originals.ndim != 4 or originals.shape[-1] != 3:
        raise ValueError(f"originals must be (n, S, S, 3) RGB images; got shape {originals.shape}")
    parts = {v: ([], []) for v in VIEWS}
    n = originals.shape[0]
    for start in range(0, n, int(batch_size)):
        block = originals[start : start + int(batch_size)]
        codes = encode(block)
        images = {"original": block, "decoded": decode(codes), "latent": decode(round_trip(codes))}
        for view in VIEWS:
            d, found = describe(images[view])
            parts[view][0].append(np.asarray(d, dtype=np.float64).reshape(len(block), -1))
            parts[view][1].append(np.asarray(found, dtype=bool))
        log.info("described %d of %d images in %d views", min(start + int(batch_size), n), n, len(VIEWS))
    out = {}
    for view, (d, f) in parts.items():
        out[view] = (np.concatenate(d) if d else np.zeros((0, 128)), np.concatenate(f) if f else np.zeros(0, bool))
    return out


def _rowwise(a, b) -> np.ndarray:
    return np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64), axis=1)


def calibration_table(pairs: pd.DataFrame, image_ids, views: dict, in_training=None) -> pd.DataFrame:
    """One row per measured distance: every image's same-image comparisons, every pair in every view.

    ``pairs``: from :func:`select_pairs`; ``image_ids`` (n,): the images described, in the order of the
    descriptors of ``views`` ({view: (descriptors, detected)}, :func:`describe_views`); ``in_training`` (n,)
    bool: whether the autoencoder trained on the image (None: unknown, counted as not). Columns: ``kind``
    (``same_image`` or :data:`PAIR_KINDS`), ``view`` (a :data:`SAME_IMAGE` name or a :data:`VIEWS` name), ``fold``
    (-1 for same-image rows), ``person_a``, ``image_a``, ``person_b``, ``image_b``, ``n_trained`` (how many of the two
    images the autoencoder trained on), ``detected_a``, ``detected_b`` (dlib found a face), ``distance``.
    """
    ids = np.asarray(image_ids).astype(str)
    index = {v: k for k, v in enumerate(ids)}
    if len(index) != ids.size:
        raise ValueError("image_ids must be unique")
    for view in VIEWS:
        if view not in views or np.asarray(views[view][0]).shape[0] != ids.size:
            raise ValueError(f"views must hold view {view!r} with one descriptor per image id ({ids.size})")
    trained = np.zeros(ids.size, bool) if in_training is None else np.asarray(in_training, dtype=bool)
    if trained.shape != ids.shape:
        raise ValueError(f"in_training must have one entry per image id; got {trained.shape} for {ids.shape}")
    missing = sorted(set(pairs["image_a"]).union(pairs["image_b"]) - set(index))
    if missing:
        raise ValueError(f"{len(missing)} pair images have no descriptor, e.g. {missing[:3]}")
    person = np.array([i.rsplit("_", 1)[0] for i in ids])
    tables = []
    for name, (va, vb) in SAME_IMAGE.items():
        tables.append(pd.DataFrame({
            "kind": "same_image", "view": name, "fold": -1, "person_a": person, "image_a": ids, "person_b": person,
            "image_b": ids, "n_trained": 2 * trained.astype(int), "detected_a": views[va][1], "detected_b": views[vb][1],
            "distance": _rowwise(views[va][0], views[vb][0]),
        }))
    ia = pairs["image_a"].map(index).to_numpy(int)
    ib = pairs["image_b"].map(index).to_numpy(int)
    for view in VIEWS:
        desc, found = np.asarray(views[view][0]), np.asarray(views[view][1], dtype=bool)
        tables.append(pairs[["kind", "fold", "person_a", "image_a", "person_b", "image_b"]].assign(
            view=view, n_trained=trained[ia].astype(int) + trained[ib].astype(int), detected_a=found[ia],
            detected_b=found[ib], distance=_rowwise(desc[ia], desc[ib])))
    columns = ["kind", "view", "fold", "person_a", "image_a", "person_b", "image_b", "n_trained", "detected_a",
               "detected_b", "distance"]
    return pd.concat([t[columns] for t in tables], ignore_index=True)


# ---------------------------------------------------------------- summaries
def distribution(values) -> dict:
    """n, mean, 5 / 25 / 50 / 75 / 95 % quantiles and the share below dlib's 0.6 of a set of distances (NaN dropped)."""
    d = np.asarray(values, dtype=np.float64)
    d = d[np.isfinite(d)]
    out = {"n": int(d.size)}
    if not d.size:
        return {**out, "mean": float("nan"), **{k: float("nan") for k in QUANTILES}, "below_dlib_threshold": float("nan")}
    q = np.percentile(d, list(QUANTILES.values()))
    return {**out, "mean": float(d.mean()), **{k: float(v) for k, v in zip(QUANTILES, q)},
            "below_dlib_threshold": float(np.mean(d < SAME_PERSON_THRESHOLD))}


def roc_auc(same, different) -> float:
    """Area under the ROC curve of "same person when the distance is small": P(d_same < d_different), ties count 1/2."""
    s = np.asarray(same, dtype=np.float64)
    s = s[np.isfinite(s)]
    d = np.asarray(different, dtype=np.float64)
    d = d[np.isfinite(d)]
    if not s.size or not d.size:
        return float("nan")
    ranks = rankdata(np.concatenate([s, d]))  # mid-ranks: ties count 1/2
    u_diff = ranks[s.size :].sum() - d.size * (d.size + 1) / 2  # pairs (s, d) with d > s, plus half the ties
    return float(u_diff / (s.size * d.size))


def equal_error(same, different) -> dict:
    """The threshold where the false non-match rate (same-person distance > t) equals the false match rate
    (different-people distance <= t), and that rate: the candidate threshold (a measured distance) where the two
    rates are closest, the rate being their mean there."""
    s = np.sort(np.asarray(same, dtype=np.float64)[np.isfinite(same)])
    d = np.sort(np.asarray(different, dtype=np.float64)[np.isfinite(different)])
    if not s.size or not d.size:
        return {"threshold": float("nan"), "rate": float("nan")}
    t = np.unique(np.concatenate([s, d]))
    frr = 1.0 - np.searchsorted(s, t, side="right") / s.size
    far = np.searchsorted(d, t, side="right") / d.size
    k = int(np.argmin(np.abs(frr - far)))
    return {"threshold": float(t[k]), "rate": float((frr[k] + far[k]) / 2)}


def _distances(table: pd.DataFrame, kind: str, view: str) -> np.ndarray:
    return table.loc[(table["kind"] == kind) & (table["view"] == view), "distance"].to_numpy(float)


def summarise(table: pd.DataFrame, counts: dict | None = None) -> dict:
    """The JSON summary of a calibration table (:func:`calibration_table`).

    ``distances``: {kind: {view: :func:`distribution`}} over every row; ``unseen``: the same over the rows whose
    images the autoencoder never trained on (``n_trained`` = 0: like the held-out start faces); ``detection_rate``:
    {view: share of the described images in which dlib finds a face}; ``separation``: {view: ROC area and
    equal-error threshold and rate of same-person vs different-people pairs}; ``bands``: what a drift (between two
    decoded frames) is read against: ``same_image`` (one photo decoded through the full code and through the latent:
    the floor of two decodings of one face), ``photo_vs_decoding`` (a photo vs its decoding through the latent: what
    decoding loses), and the reference view's ``same_person`` and ``different_people`` distributions; ``pairs``:
    ``counts`` of :func:`select_pairs`.
    """
    out: dict = {"dlib_threshold": SAME_PERSON_THRESHOLD, "reference_view": REFERENCE_VIEW, "pairs": counts or {}}
    same_rows = table[table["kind"] == "same_image"]
    out["n_images"] = int(same_rows["image_a"].nunique())
    out["n_images_trained"] = int(same_rows.loc[same_rows["n_trained"] > 0, "image_a"].nunique())
    first = same_rows.drop_duplicates("image_a")
    det = {}
    for name, (va, vb) in SAME_IMAGE.items():
        rows = same_rows[same_rows["view"] == name]
        det.setdefault(va, float(rows["detected_a"].mean()) if len(rows) else float("nan"))
        det.setdefault(vb, float(rows["detected_b"].mean()) if len(rows) else float("nan"))
    out["detection_rate"] = {v: det.get(v, float("nan")) for v in VIEWS}
    out["n_images_unseen"] = int(first["n_trained"].eq(0).sum())
    kinds = {"same_image": list(SAME_IMAGE), **{k: list(VIEWS) for k in PAIR_KINDS}}
    unseen = table[table["n_trained"] == 0]
    out["distances"] = {k: {v: distribution(_distances(table, k, v)) for v in views} for k, views in kinds.items()}
    out["unseen"] = {k: {v: distribution(_distances(unseen, k, v)) for v in views} for k, views in kinds.items()}
    out["separation"] = {}
    for v in VIEWS:
        s, d = _distances(table, "same_person", v), _distances(table, "different_people", v)
        out["separation"][v] = {"auc": roc_auc(s, d), **{f"equal_error_{k}": x for k, x in equal_error(s, d).items()}}
    out["bands"] = {
        "view": REFERENCE_VIEW,
        "same_image": out["distances"]["same_image"]["decoded_vs_latent"],
        "photo_vs_decoding": out["distances"]["same_image"][f"original_vs_{REFERENCE_VIEW}"],
        "same_person": out["distances"]["same_person"][REFERENCE_VIEW],
        "different_people": out["distances"]["different_people"][REFERENCE_VIEW],
    }
    return out


# ---------------------------------------------------------------- drift against the calibration
@dataclass(frozen=True)
class DriftReference:
    """The same-person and different-people distances a drift is read against (the reference view's)."""

    same_person: np.ndarray
    different_people: np.ndarray

    def __post_init__(self):
        for name in ("same_person", "different_people"):
            d = np.asarray(getattr(self, name), dtype=np.float64)
            d = np.sort(d[np.isfinite(d)])
            if not d.size:
                raise ValueError(f"the drift reference has no {name.replace('_', ' ')} distances; the calibration used no such "
                                 "pair (raise faces.calibration.max_pairs or use more faces)")
            object.__setattr__(self, name, d)

    @classmethod
    def from_table(cls, table: pd.DataFrame, view: str = REFERENCE_VIEW) -> "DriftReference":
        """The reference of a calibration table (:func:`calibration_table`) in ``view``."""
        for col in ("kind", "view", "distance"):
            if col not in table.columns:
                raise ValueError(f"a calibration table needs the column {col!r}; got {list(table.columns)}")
        return cls(_distances(table, "same_person", view), _distances(table, "different_people", view))

    @property
    def same_person_median(self) -> float:
        return float(np.median(self.same_person))

    def percentile(self, values, kind: str) -> np.ndarray:
        """Percentile (0-100) of each value in the ``kind`` distribution (``same_person`` or ``different_people``):
        100 × (share of distances below it + half the share equal to it). NaN stays NaN."""
        if kind not in PAIR_KINDS:
            raise ValueError(f"kind must be one of {PAIR_KINDS}; got {kind!r}")
        ref = getattr(self, kind)
        v = np.asarray(values, dtype=np.float64)
        below = np.searchsorted(ref, v, side="left")
        upto = np.searchsorted(ref, v, side="right")
        pct = 100.0 * (below + 0.5 * (upto - below)) / ref.size
        return np.where(np.isfinite(v), pct, np.nan)


def drift_against_reference(measured, mean_drift: float, half_drift: float, reference: DriftReference) -> dict:
    """The columns of :data:`CALIBRATED_METRICS` for one trajectory.

    ``measured``: its identity drifts at the measured frames t >= 1; ``mean_drift``: their mean; ``half_drift``: the
    drift at half the initial cluster distance (NaN when never reached). The share of measured frames whose drift
    stays below the same-person median, and the mean and half-distance drifts as percentiles of the same-person and
    different-people distributions.
    """
    m = np.asarray(measured, dtype=np.float64)
    m = m[np.isfinite(m)]
    pct = lambda v, kind: float(reference.percentile([v], kind)[0])  # noqa: E731
    return {
        "share_below_same_person_median": float(np.mean(m < reference.same_person_median)) if m.size else float("nan"),
        "mean_drift_same_person_pct": pct(mean_drift, "same_person"),
        "mean_drift_different_people_pct": pct(mean_drift, "different_people"),
        "half_drift_same_person_pct": pct(half_drift, "same_person"),
        "half_drift_different_people_pct": pct(half_drift, "different_people"),
    }


# ---------------------------------------------------------------- claim 8's context
def calibration_context(summary: dict) -> dict[str, float]:
    """The calibration numbers a reader needs beside an identity drift: {quantity: value} (faces decoded through
    the latent unless said otherwise), from a summary of :func:`summarise`."""
    try:
        b, sep = summary["bands"], summary["separation"]
        return {
            "identity calibration: median distance between two decodings of one photo": b["same_image"]["median"],
            "identity calibration: median distance between a photo and its decoding": b["photo_vs_decoding"]["median"],
            "identity calibration: median distance of decoded same-person LFW pairs": b["same_person"]["median"],
            "identity calibration: median distance of decoded different-people LFW pairs": b["different_people"]["median"],
            "identity calibration: ROC area, same vs different people, decoded": sep[REFERENCE_VIEW]["auc"],
            "identity calibration: ROC area, same vs different people, photos": sep["original"]["auc"],
        }
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not an identity calibration summary (no {exc}); rerun faces_identity_calibration") from None


def _finite_mean(values) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def calibrated_drift_means(per_start: pd.DataFrame, target_cluster: str) -> dict[str, float]:
    """Means over the starts of the calibrated drift columns of the paths toward ``target_cluster`` (informed MUSIC,
    linear): {quantity: value}; empty when the table has none of :data:`CALIBRATED_METRICS`."""
    if not all(c in per_start.columns for c in CALIBRATED_METRICS):
        return {}
    out = {}
    for experiment, method, name in (("informed", "music", "MUSIC"), ("linear", "linear", "linear")):
        rows = per_start[(per_start["experiment"] == experiment) & (per_start["method"] == method)
                         & (per_start["cluster"] == target_cluster)]
        if not len(rows):
            continue
        out[f"mean share of frames below the same-person median, {name}"] = _finite_mean(rows["share_below_same_person_median"])
        out[f"mean identity drift as a same-person percentile, {name}"] = _finite_mean(rows["mean_drift_same_person_pct"])
        out[f"mean identity drift as a different-people percentile, {name}"] = _finite_mean(rows["mean_drift_different_people_pct"])
    return out
