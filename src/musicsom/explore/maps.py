"""The GMM and face maps of the explorer: :class:`GmmModel` and :class:`FaceModel`, free of any UI.

Both are :class:`musicsom.explore.model.ExploreModel`\\ s: the same start, goal, mode, settings and
stepping (``Music.run(x, 1, ...)`` on one ``Music`` object, so a path equals one ``Music.run`` and its
snippet bit for bit); what differs is what a state is shown as and measured by:

- GMM (4-D or more, no images): each state is a point of the first two principal axes of the mixture's
  training data (:meth:`GmmModel.project`); per state the component posterior of the sampled mixture
  when the config gives it (else a one-hot of the BMU's component), and the distances to the component
  means. A "class" goal is a mixture component: its region is every prototype whose hits are mostly from
  it (the pipeline's ``component_prototypes``).
- Faces: each state is decoded to a face by the run's autoencoder; per state the mean distance to each
  labelled cluster's prototypes (``musicsom.experiments.faces.cluster_distance``, the pipeline's cluster
  distance), and every ``identity_every`` steps the identity distance to the start (dlib descriptors of the
  decoded frames, ``musicsom.experiments.face_id``, as faces_frames measures it; ~0.1 s a frame, too slow
  for every interactive step, hence every n-th step on the worker thread, or :meth:`FaceModel.measure_identity`
  on demand). A goal is a prototype or a labelled cluster (modes cluster_random, as the pipeline, cluster,
  or informed toward the cluster's prototype nearest the start).
"""

from __future__ import annotations

import csv
import io

import numpy as np

from musicsom import image_metrics as im
from musicsom import metrics as tm
from musicsom._validation import check_int
from musicsom.experiments.common import frame_steps, linear_path
from musicsom.som import best_matching_units

from .model import GOALS, ExploreModel, Path, to_uint8
from .run import FaceData, GmmData

__all__ = ["GmmModel", "FaceModel", "GMM_METRICS", "FACE_METRICS", "FACE_GOALS", "rgb_mosaic", "model_for"]

GMM_METRICS = ("final_component", "crossing_step", "commit_step", "mean_confidence", "min_confidence",
               "final_distance_to_goal_mean", "path_length", "convergence_ratio", "geodesic_efficiency")
FACE_METRICS = ("cluster_distance_start", "cluster_distance_end", "cluster_distance_monotone", "identity_drift",
                "identity_step", "nearest_prototype_end", "path_length", "convergence_ratio")
#: the face map's goals: a prototype, a labelled cluster (cluster_random first: the pipeline's informed runs) or free
FACE_GOALS = {"prototype": ("informed",), "cluster": ("cluster_random", "cluster", "informed"), "free": ("free",)}


def rgb_mosaic(images, rows: int, cols: int, pad: int = 1, fill: int = 255) -> np.ndarray:
    """Tile (rows·cols, h, w, 3) uint8 images row-major with ``pad`` pixels of ``fill`` between tiles: (H, W, 3) uint8."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[0] != rows * cols or images.shape[3] != 3:
        raise ValueError(f"images must be ({rows * cols}, h, w, 3) for a {rows}x{cols} grid; got {images.shape}")
    _, h, w, _ = images.shape
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), fill, dtype=np.uint8)
    for k, img in enumerate(images):
        r, c = divmod(k, cols)
        out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = img
    return out


class GmmModel(ExploreModel):
    """A MUSIC trajectory on a run's GMM map (see the module docstring); ``run``: :func:`musicsom.explore.run.load_gmm`."""

    map_name = "gmm"
    data_type = GmmData
    goals = GOALS
    som_file = "results/gmm/seed{seed}/som.npz"
    start_file = "results/gmm/seed{seed}/data.npz"

    def _setup(self) -> None:
        run = self.run
        comps = np.unique(run.y_test)
        # the pipeline's informed runs go to component 0 (gmm.trajectories.component); start from another one
        goal = int(run.labels[run.labels >= 0].min()) if np.any(run.labels >= 0) else 0
        self.start_class = int(next((c for c in comps if c != goal), comps[0]))
        self.start_rank = 0
        self.start_index = int(np.flatnonzero(run.y_test == self.start_class)[0])
        self.goal_kind, self.goal_value, self.mode = "class", goal, "informed"
        self._proto_xy = self.project(run.W)
        self._test_xy = self.project(run.z_test)

    @property
    def has_posterior(self) -> bool:
        return self.run.posterior is not None

    def project(self, X) -> np.ndarray:
        """Points (n, D) → (n, 2) coordinates on the first two principal axes of the training data."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        if X.shape[1] != self.run.D:
            raise ValueError(f"points must have D = {self.run.D} columns; got {X.shape}")
        return (X - self.run.centre) @ self.run.axes.T

    def prototypes_xy(self) -> np.ndarray:
        return self._proto_xy.copy()

    def test_xy(self) -> np.ndarray:
        return self._test_xy.copy()

    def _score(self, S) -> np.ndarray:
        S = np.atleast_2d(S)
        if self.run.posterior is not None:
            return np.asarray(self.run.posterior(S))
        # no mixture parameters: the BMU's component, one-hot (a unit without hits counts for none)
        comp = self.run.labels[best_matching_units(S, self.run.W)]
        out = np.zeros((S.shape[0], self.run.n_components))
        ok = comp >= 0
        out[np.flatnonzero(ok), comp[ok]] = 1.0
        return out

    def _decode(self, S) -> np.ndarray:
        return self.project(S)  # no images: a state is shown as its point in the 2-D projection

    def class_units(self, cls: int) -> np.ndarray:
        """The component's region: every prototype whose training hits are mostly from it (``component_prototypes``)."""
        cls = check_int(cls, "component", 0)
        return np.flatnonzero(self.run.labels == cls)

    def _check_region(self, value):
        value = check_int(value, "component", 0)
        if not np.any(self.run.labels == value):
            raise ValueError(f"no prototype of the GMM map has component {value} as its majority: no region to aim at")
        return value

    def mean_distances(self) -> np.ndarray:
        """Distances of every state of the path to each component mean: (T+1, C)."""
        return self.run.mean_distances(self.states())

    def compare(self, with_music: bool = True) -> dict[str, Path]:
        """MUSIC and linear interpolation to the target (no VAE: the mixture has no decoder); ``images`` hold the
        2-D projections of the states."""
        with self._lock:
            S, P = self.states(), self.probs()
            out = {}
            if with_music:
                out["music"] = self._gmm_path("music", S, P, self.bmus())
            if self._target is not None:
                L = linear_path(self.x0, self.run.W[self._target], self.horizon)
                out["linear"] = self._gmm_path("linear", L, self._score(L), best_matching_units(L, self.run.W))
            return out

    def _gmm_path(self, method, S, P, bmus) -> Path:
        labels = P.argmax(1)
        goal = self.goal_class
        conf = im.confidence(P)
        m = dict.fromkeys(GMM_METRICS)
        m.update(final_component=int(labels[-1]), mean_confidence=float(conf.mean()), min_confidence=float(conf.min()),
                 path_length=float(np.linalg.norm(np.diff(S, axis=0), axis=1).sum()))
        if goal is not None:
            m["final_distance_to_goal_mean"] = float(np.linalg.norm(S[-1] - self.run.means[goal]))
            if S.shape[0] > 1:
                m["crossing_step"] = im.crossing_step(labels, goal)
                m["commit_step"] = im.commit_step(labels, goal)
        if S.shape[0] > 1:
            end = self.run.W[self._target] if self._target is not None else S[-1]
            m["convergence_ratio"] = tm.convergence_ratio(S, end)
            m["geodesic_efficiency"] = tm.geodesic_efficiency(S)
        return Path(method, S, self.project(S), P, bmus, m)

    def strip_png(self, *a, **k) -> bytes:
        raise ValueError("the GMM map has no images to strip: export the CSV (or the snippet) instead")

    def gif(self, *a, **k) -> bytes:
        raise ValueError("the GMM map has no images to animate: export the CSV (or the snippet) instead")

    def _start_words(self) -> str:
        return f"test point {self.start_index} (component {self.start_class})"


class FaceModel(ExploreModel):
    """A MUSIC trajectory on a run's face map (see the module docstring); ``run``: :func:`musicsom.explore.run.load_faces`.

    ``identity_every``: measure the identity distance every n-th step (default the run's faces.identity.every;
    0: only on demand, :meth:`measure_identity`). It is None when dlib or its models are not installed.
    """

    map_name = "faces"
    data_type = FaceData
    goals = FACE_GOALS
    som_file = "results/faces/seed{seed}/som.npz"
    start_file = "results/faces/seed{seed}/latent.npz"

    def _setup(self) -> None:
        run = self.run
        self._proto_images = run.decode(run.W)
        self.cluster_names = list(run.clusters)
        self.start_index = int(run.starts[0]) if run.starts else 0  # the pipeline's first start face
        self.start_class, self.start_rank = None, self.start_index
        goal = run.target_cluster or self.cluster_names[0]
        self.goal_kind, self.goal_value, self.mode = "cluster", goal, "cluster_random"
        self.identity_every = max(0, int(run.identity.get("every", 5)))

    # ------------------------------------------------------------ map, start, goal
    def prototype_mosaic(self) -> np.ndarray:
        """The decoded prototype faces tiled on the lattice, row 0 on top: (H, W, 3) uint8."""
        rows, cols = self.grid_shape
        return rgb_mosaic(self._proto_images, rows, cols)

    def set_start(self, cls=None, rank: int = 0, index: int | None = None, random: bool = False) -> int:
        """Pick the start test face: a test ``index`` (``rank`` is an alias: faces have no classes), or a random one."""
        if cls is not None:
            raise ValueError("test faces have no classes: give index= (or random=True)")
        with self._lock:
            if random:
                index = int(self._rng.integers(len(self.run.z_test)))
            elif index is None:
                index = rank
            self.start_index = check_int(index, "index", 0, len(self.run.z_test) - 1)
            self.start_rank = self.start_index
            self.reset()
            return self.start_index

    def _check_region(self, value):
        if value not in self.run.clusters:
            raise ValueError(f"cluster must be one of {self.cluster_names}; got {value!r}")
        if self.run.clusters[value].size == 0:
            raise ValueError(f"cluster {value} holds no prototype")
        return value

    def class_units(self, name) -> np.ndarray:
        """The labelled cluster's prototypes (faces_clusters)."""
        return self.run.clusters[self._check_region(name)].copy()

    @property
    def goal_class(self):
        return None  # faces have no classes: the cluster distance and the identity are measured instead

    @property
    def target(self) -> int | None:
        """The prototype, or for a cluster its prototype nearest the start (informed mode, the linear path's end)."""
        if self.goal_kind == "prototype":
            return int(self.goal_value)
        if self.goal_kind == "cluster":
            units = self.run.clusters[self.goal_value]
            return int(units[np.argmin(((self.run.W[units] - self.x0) ** 2).sum(1))])
        return None

    @property
    def cluster(self) -> np.ndarray | None:
        return self.class_units(self.goal_value) if self.mode in ("cluster", "cluster_random") else None

    # ------------------------------------------------------------ what is measured
    def _score(self, S) -> np.ndarray:
        """Per state: the mean distance to each labelled cluster's prototypes, (n, clusters) (the pipeline's
        cluster_distance)."""
        from musicsom.experiments.faces import cluster_distance

        S = np.atleast_2d(S)
        return np.stack([cluster_distance(S, self.run.W, self.run.clusters[c]) for c in self.cluster_names], axis=1)

    def _decode(self, S) -> np.ndarray:
        return self.run.decode(S)

    def reset(self) -> None:
        with self._lock:
            super().reset()
            self._frames = [self._decode(self._states[0][None])[0]]  # every frame decoded once (on the worker when stepping)
            self._identity: dict[int, float] = {}
            self._reference = None

    def _after_steps(self, start: int) -> None:
        self._frames.extend(self._decode(np.asarray(self._states[start:])))
        if self.identity_every:
            due = [t for t in range(start, len(self._states)) if t % self.identity_every == 0]
            if due:
                self._measure(due)

    @property
    def identity_available(self) -> bool:
        return self.run.face_id() is not None

    def _measure(self, steps) -> None:
        from musicsom.experiments.face_id import identity_drift

        fid = self.run.face_id()
        if fid is None:
            return
        if self._reference is None:
            self._reference = fid.describe(self._frames[0])[0]
            self._identity[0] = 0.0
        todo = [t for t in steps if t not in self._identity]
        if todo:
            desc, _ = fid.describe_many([self._frames[t] for t in todo])
            self._identity.update(zip(todo, identity_drift(desc, self._reference).tolist()))

    def measure_identity(self, t: int | None = None) -> float | None:
        """The identity distance of frame ``t`` (default the last) to the start: dlib descriptors of the decoded
        frames (< 0.6: the same person by dlib's usual threshold). None when dlib is not installed."""
        with self._lock:
            t = self.t if t is None else check_int(t, "t", 0, self.t)
            self._measure([t])
            return self._identity.get(t)

    def identity(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, identity distances to the start) measured so far."""
        with self._lock:
            steps = np.array(sorted(self._identity), dtype=np.int64)
            return steps, np.array([self._identity[t] for t in steps.tolist()], dtype=np.float64)

    def frames(self) -> np.ndarray:
        with self._lock:
            return np.asarray(self._frames)

    def frame(self, t: int | None = None) -> np.ndarray:
        """Frame ``t`` (default the last) decoded to a face: (S, S, 3) uint8."""
        with self._lock:
            t = self.t if t is None else check_int(t, "t", 0, self.t)
            return self._frames[t]

    def goal_distance(self) -> np.ndarray:
        """Along the path: the mean distance to the goal cluster's prototypes, or to the target prototype, or None (free)."""
        S = self.states()
        if self.goal_kind == "cluster":
            return self.probs()[:, self.cluster_names.index(self.goal_value)]
        if self._target is not None:
            return np.linalg.norm(S - self.run.W[self._target], axis=1)
        return None

    # ------------------------------------------------------------ comparison and export
    def compare(self, with_music: bool = True) -> dict[str, Path]:
        """MUSIC and linear interpolation to the target (the face map has no VAE arm); images are the decoded faces."""
        with self._lock:
            out = {}
            S = self.states()
            if with_music:
                steps, drift = self.identity()
                # the latest measured identity distance (every identity_every steps, or on demand) and its step
                last = (int(steps[-1]), float(drift[-1])) if steps.size and steps[-1] > 0 else None
                out["music"] = self._face_path("music", S, self.frames(), self.probs(), self.bmus(), last)
            if self._target is None:
                return out
            key = (self.start_index, self._target, self.horizon)
            if key not in self._compare_cache:
                L = linear_path(self.x0, self.run.W[self._target], self.horizon)
                self._compare_cache = {key: (L, self._decode(L), self._score(L), best_matching_units(L, self.run.W), None)}
            L, frames, P, bmus, drift = self._compare_cache[key]
            out["linear"] = self._face_path("linear", L, frames, P, bmus, drift)
            return out

    def measure_linear_identity(self) -> float | None:
        """The identity distance of the linear path's last frame to the start (on demand: two dlib descriptors)."""
        from musicsom.experiments.face_id import identity_drift

        with self._lock:
            paths = self.compare(with_music=False)
            fid = self.run.face_id()
            if "linear" not in paths or fid is None:
                return None
            key = next(iter(self._compare_cache))
            L, frames, P, bmus, _ = self._compare_cache[key]
            desc, _ = fid.describe_many([frames[0], frames[-1]])
            drift = float(identity_drift(desc[1:], desc[0])[0])
            self._compare_cache[key] = (L, frames, P, bmus, (len(L) - 1, drift))
            return drift

    def _face_path(self, method, S, frames, P, bmus, drift) -> Path:
        from musicsom.experiments.faces import monotone_share, nearest_prototype_distance

        m = dict.fromkeys(FACE_METRICS)
        m["path_length"] = float(np.linalg.norm(np.diff(S, axis=0), axis=1).sum())
        m["nearest_prototype_end"] = float(nearest_prototype_distance(S[-1:], self.run.W)[0])
        if drift is not None:
            m["identity_step"], m["identity_drift"] = drift
        if self.goal_kind == "cluster":
            cd = P[:, self.cluster_names.index(self.goal_value)]
            m["cluster_distance_start"], m["cluster_distance_end"] = float(cd[0]), float(cd[-1])
            if S.shape[0] > 1:
                m["cluster_distance_monotone"] = monotone_share(cd)
        if S.shape[0] > 1:
            m["convergence_ratio"] = tm.convergence_ratio(S, self.run.W[self._target] if self._target is not None else S[-1])
        return Path(method, S, frames, P, bmus, m)

    def to_csv(self) -> str:
        """The trajectory as CSV: per state the step, BMU and its cell, the step's target and clip, the distance to each
        labelled cluster, the identity distance to the start (where measured), then the latent state x0..x{D-1}."""
        with self._lock:
            S, B, P = self.states(), self.bmus(), self.probs()
            targets, clipped = [""] + list(self._targets), [""] + [int(c) for c in self._clipped]
            ident = dict(self._identity)
        cols = self.grid_shape[1]
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["step", "bmu", "bmu_row", "bmu_col", "target", "clipped", *[f"cluster_distance_{c}" for c in self.cluster_names],
                    "identity_drift", *[f"x{d}" for d in range(S.shape[1])]])
        for t in range(S.shape[0]):
            w.writerow([t, int(B[t]), int(B[t]) // cols, int(B[t]) % cols, targets[t], clipped[t], *(repr(float(v)) for v in P[t]),
                        repr(ident[t]) if t in ident else "", *(repr(float(v)) for v in S[t])])
        return buf.getvalue()

    def strip_png(self, n_frames: int = 11, scale: int = 2) -> bytes:
        """About ``n_frames`` evenly spaced decoded faces per compared method (MUSIC, then linear), as PNG bytes."""
        from PIL import Image

        n_frames = check_int(n_frames, "n_frames", 2, 100)
        scale = check_int(scale, "scale", 1, 16)
        rows = []
        for path in self.compare().values():
            idx = frame_steps(path.images.shape[0] - 1, n_frames)
            tiles = np.full((n_frames, *path.images.shape[1:]), 255, dtype=np.uint8)
            tiles[: idx.size] = path.images[idx]
            rows.append(rgb_mosaic(tiles, 1, n_frames))
        img = Image.fromarray(np.vstack(rows))
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return buf.getvalue()

    def gif(self, scale: int = 2, duration_ms: int = 80, max_frames: int = 300) -> bytes:
        """Every decoded face of the path (at most ``max_frames``, evenly spaced) as an animated GIF."""
        from PIL import Image

        scale = check_int(scale, "scale", 1, 16)
        duration_ms = check_int(duration_ms, "duration_ms", 10, 10000)
        max_frames = check_int(max_frames, "max_frames", 2, 2000)
        F = self.frames()
        idx = frame_steps(F.shape[0] - 1, max_frames) if F.shape[0] > max_frames else np.arange(F.shape[0])
        side = F.shape[1] * scale
        frames = [Image.fromarray(to_uint8(f / 255.0)).resize((side, side), Image.NEAREST) for f in F[idx]]
        buf = io.BytesIO()
        frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=duration_ms, loop=0)
        return buf.getvalue()

    def _start_words(self) -> str:
        return f"test face {self.start_index} ({self.run.image_id[self.start_index]})"

    def summary(self) -> dict:
        with self._lock:
            out = super().summary()
            d = self.goal_distance()
            steps, drift = self.identity()
            out.update(start_class=None, label=None, confidence=None, start_face=str(self.run.image_id[self.start_index]),
                       goal_distance=None if d is None else float(d[-1]),
                       identity=(int(steps[-1]), float(drift[-1])) if steps.size else None)
            return out


def model_for(data) -> ExploreModel:
    """The model of a map's data: :class:`ExploreModel` (MNIST), :class:`GmmModel` or :class:`FaceModel`."""
    for cls in (GmmModel, FaceModel, ExploreModel):
        if isinstance(data, cls.data_type):
            return cls(data)
    raise ValueError(f"no explorer model reads a {type(data).__name__}")
