"""The explorer's state and logic, free of any UI: start, goal, mode, settings, stepping, comparison, export.

:class:`ExploreModel` holds one trajectory of :class:`musicsom.music.Music` on a run's MNIST map and
grows it a step at a time (the GMM and face maps subclass it: :mod:`musicsom.explore.maps`). Stepping calls ``Music.run(x, 1, ...)`` on one ``Music`` object, which
performs the same arithmetic and draws the same random numbers (cluster_random, free) as one
``Music.run(x0, T, ...)``: the states it exports are those of the snippet it shows, bit for bit.
Changing the start, the goal, the mode or a setting restarts the trajectory for the same reason.

The view (:mod:`musicsom.explore.app`) calls :meth:`ExploreModel.step` off the UI thread; every
public method takes the model's lock, so a step and a read never interleave.
"""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import asdict, dataclass, replace

import numpy as np

from musicsom._validation import check_int
from musicsom.experiments import mnist as mn
from musicsom.experiments.common import frame_steps, linear_path
from musicsom.music import Music, MusicParams
from musicsom.som import best_matching_units, u_matrix

from .run import MUSIC_KEYS, RunData

__all__ = ["GOALS", "MODES", "METRICS", "COMPUTING", "ExploreModel", "Path", "mosaic", "torus_path", "to_uint8"]

#: what the user can aim at, and the MUSIC modes each allows (the first is the default)
GOALS = {"prototype": ("informed",), "class": ("informed", "cluster", "cluster_random"), "free": ("free",)}
MODES = ("informed", "cluster", "cluster_random", "free")
#: the metrics shown for each compared path (keys of musicsom.experiments.mnist.path_metrics)
METRICS = ("mean_confidence", "min_confidence", "crossing_step", "commit_step", "third_class_steps", "final_label",
           "sharpness", "manifold_distance", "path_length", "convergence_ratio")
#: what the manifold distance shows while the k-NN index of the training images is being built
COMPUTING = "computing…"
SIDE = mn.SIDE
MAX_STEPS = 5000  # a trajectory longer than this is refused: the page would hold its every frame


def mosaic(images, rows: int, cols: int, pad: int = 1, fill: float = 1.0) -> np.ndarray:
    """Tile (rows·cols, h, w) images row-major into one array with ``pad`` pixels of ``fill`` between tiles."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or images.shape[0] != rows * cols:
        raise ValueError(f"images must be ({rows * cols}, h, w) for a {rows}x{cols} grid; got {images.shape}")
    n, h, w = images.shape
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), fill)
    for k in range(n):
        r, c = divmod(k, cols)
        out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = images[k]
    return out


def to_uint8(image) -> np.ndarray:
    """A [0, 1] grey image as uint8 (values outside are clipped)."""
    return (np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def torus_path(bmus, grid_shape, wrap: bool) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) display coordinates of a BMU path (unit k at column k % cols, row k // cols; y points up, row 0
    on top), with NaN gaps where a step wraps around a torus (drawing it straight would cross the map)."""
    rows, cols = (int(v) for v in grid_shape)
    b = np.asarray(bmus, dtype=np.int64).ravel()
    if b.size and (b.min() < 0 or b.max() >= rows * cols):
        raise ValueError(f"bmus must be unit indices in [0, {rows * cols}); got {b.min()}..{b.max()}")
    r, c = np.divmod(b, cols)
    x, y = c.astype(float), (rows - 1 - r).astype(float)
    if not wrap or b.size < 2:
        return x, y
    jump = (np.abs(np.diff(r)) > rows / 2) | (np.abs(np.diff(c)) > cols / 2)
    if not jump.any():
        return x, y
    xs, ys = [x[0]], [y[0]]
    for i in range(1, b.size):
        if jump[i - 1]:
            xs.append(np.nan)
            ys.append(np.nan)
        xs.append(x[i])
        ys.append(y[i])
    return np.asarray(xs), np.asarray(ys)


@dataclass
class Path:
    """One compared path: latent states (or VAE latent), decoded images, class probabilities, BMUs (latent
    methods; None for the VAE) and its metrics."""

    method: str
    states: np.ndarray
    images: np.ndarray
    probs: np.ndarray
    bmus: np.ndarray | None
    metrics: dict


class ExploreModel:
    """A MUSIC trajectory on a run's MNIST map, grown step by step (no UI; see the module docstring).

    The GMM and face maps (:mod:`musicsom.explore.maps`) subclass it: they replace the hooks ``_setup``
    (what the map draws), ``_score`` (what is measured per state), ``_decode``, the goals and the exports.

    Parameters
    ----------
    run : the :class:`musicsom.explore.run.RunData` of :func:`musicsom.explore.run.load_run`.
    """

    #: the map's name (the page's switch) and the data it reads
    map_name = "mnist"
    data_type: type = RunData
    goals = GOALS
    #: where the snippet finds the map and the start (relative to the run folder)
    som_file = "results/mnist/seed{seed}/som.npz"
    start_file = "results/mnist/latent.npz"

    def __init__(self, run):
        if not isinstance(run, self.data_type):
            raise ValueError(f"run must be a {self.data_type.__name__} (musicsom.explore.run); got {type(run).__name__}")
        self.run = run.validate()
        self._lock = threading.RLock()
        self._rng = np.random.default_rng(run.seed)
        self.params = MusicParams(**run.music).validate()
        self.horizon = max(1, int(run.n_steps))
        self.wrap = "toroidal" in run.topology
        self._umatrix = u_matrix(run.W, run.grid_shape, run.topology)
        self._compare_cache: dict = {}
        self._setup()
        self.reset()

    def _setup(self) -> None:
        """The map's own state and the first start and goal (MNIST: decoded prototypes, class 0 -> 1)."""
        run = self.run
        self._proto_images = mn.to_images(run.enc, run.W)
        # the start: the first test image of the class of the run's own transition (0 -> 1 unless configured)
        classes = np.unique(run.y_test)
        self.start_class = int(classes[0])
        self.start_rank = 0
        self.start_index = int(np.flatnonzero(run.y_test == self.start_class)[0])
        goal = 1 if np.any(run.labels == 1) and self.start_class != 1 else int(run.labels[0])
        self.goal_kind, self.goal_value, self.mode = "class", goal, "informed"

    # ------------------------------------------------------------ what each map measures (hooks)
    def _score(self, S) -> np.ndarray:
        """Per state (n, D) → the row shown along the path (MNIST: the classifier's class probabilities)."""
        return np.asarray(self.run.classify(np.atleast_2d(S)))

    def _decode(self, S) -> np.ndarray:
        """States (n, D) → images (MNIST: (n, 28, 28) in [0, 1])."""
        return mn.to_images(self.run.enc, S)

    def _after_steps(self, start: int) -> None:
        """Called (lock held, worker thread) after states ``start``.. were added: per-step measures beyond ``_score``."""

    # ------------------------------------------------------------ the map
    @property
    def grid_shape(self) -> tuple[int, int]:
        return self.run.grid_shape

    def prototype_mosaic(self) -> np.ndarray:
        """The decoded prototypes tiled on the lattice (dark strokes on white), row 0 on top: (H, W) in [0, 1]."""
        rows, cols = self.grid_shape
        return mosaic(1.0 - self._proto_images, rows, cols)

    def umatrix(self) -> np.ndarray:
        """(rows, cols) mean distance of each prototype to its lattice neighbours (wrapping on a torus)."""
        return self._umatrix.copy()

    def class_units(self, cls: int) -> np.ndarray:
        """The class region: prototypes labelled ``cls`` with purity >= the run's target_min_purity (all of the
        class when none reaches it). Empty when no prototype has that label."""
        cls = check_int(cls, "class", 0)
        of = np.flatnonzero(self.run.labels == cls)
        pure = of[self.run.purity[of] >= self.run.min_purity]
        return pure if pure.size else of

    # ------------------------------------------------------------ start, goal, mode, settings
    def set_start(self, cls: int | None = None, rank: int = 0, index: int | None = None, random: bool = False) -> int:
        """Pick the start test image: the ``rank``-th of class ``cls``, a test ``index``, or a random one.

        Returns the test index. Restarts the trajectory.
        """
        y = self.run.y_test
        with self._lock:
            if random:
                index = int(self._rng.integers(len(y)))
            if index is not None:
                index = check_int(index, "index", 0, len(y) - 1)
                cls = int(y[index])
                rank = int(np.sum(y[:index] == cls))
            else:
                cls = check_int(cls, "class", 0)
                of = np.flatnonzero(y == cls)
                if of.size == 0:
                    raise ValueError(f"the run's test images hold no image of class {cls}")
                rank = check_int(rank, f"index within class {cls}", 0, of.size - 1)
                index = int(of[rank])
            self.start_class, self.start_rank, self.start_index = int(cls), int(rank), int(index)
            self.reset()
            return self.start_index

    def set_goal(self, kind: str, value: int | None = None, mode: str | None = None) -> None:
        """Aim at a ``prototype`` (its index), a ``class`` region (a digit) or nothing (``free``).

        ``mode``: one of :data:`GOALS`\\[kind] (default: keep the current mode when allowed, else the first).
        Restarts the trajectory.
        """
        if kind not in self.goals:
            raise ValueError(f"goal must be one of {list(self.goals)}; got {kind!r}")
        if kind == "prototype":
            value = check_int(value, "prototype", 0, self.run.K - 1)
        elif kind == "free":
            value = None
        else:
            value = self._check_region(value)
        allowed = self.goals[kind]
        if mode is None:
            mode = self.mode if self.mode in allowed else allowed[0]
        if mode not in allowed:
            raise ValueError(f"a {kind} goal allows the modes {list(allowed)}; got {mode!r}")
        with self._lock:
            self.goal_kind, self.goal_value, self.mode = kind, value, mode
            self.reset()

    def _check_region(self, value):
        value = check_int(value, "class", 0)
        if not np.any(self.run.labels == value):
            raise ValueError(f"no prototype of the map is labelled {value}: that class has no region to aim at")
        return value

    def set_params(self, **changes) -> MusicParams:
        """Change MUSIC settings (``alpha``, ``lam``, ``kappa``, ``eta``, ``per_row_mean``, ``preserve_ring``, or any
        other :class:`MusicParams` field); validated, then the trajectory restarts."""
        unknown = set(changes) - set(asdict(self.params))
        if unknown:
            raise ValueError(f"unknown MUSIC settings {sorted(unknown)}; MusicParams has {sorted(asdict(self.params))}")
        params = replace(self.params, **changes).validate()
        with self._lock:
            self.params = params
            self.reset()
        return params

    def set_horizon(self, n_steps: int) -> None:
        """Frames of the linear and VAE paths (and of the play button): ``n_steps`` + 1."""
        with self._lock:
            self.horizon = check_int(n_steps, "n_steps", 1, MAX_STEPS)

    # ------------------------------------------------------------ what the goal means
    @property
    def x0(self) -> np.ndarray:
        return self.run.z_test[self.start_index]

    @property
    def goal_class(self) -> int | None:
        """The class the path should end in: the prototype's label, the class, or None (free)."""
        if self.goal_kind == "prototype":
            return int(self.run.labels[self.goal_value])
        return self.goal_value if self.goal_kind == "class" else None

    @property
    def target(self) -> int | None:
        """The target prototype (informed mode; also the end of the linear path for a class goal), or None."""
        if self.goal_kind == "prototype":
            return int(self.goal_value)
        if self.goal_kind == "class":
            # the pipeline's choice (mnist.choose_target): the nearest prototype of the class with enough purity
            return mn.choose_target(self.run.W, self.run.labels, self.run.purity, self.x0, self.goal_value, self.run.min_purity)[0]
        return None

    @property
    def cluster(self) -> np.ndarray | None:
        return self.class_units(self.goal_value) if self.mode in ("cluster", "cluster_random") else None

    def _run_kwargs(self) -> dict:
        if self.mode == "informed":
            return {"target": self._target}
        if self.mode in ("cluster", "cluster_random"):
            return {"cluster": self._cluster}
        return {}

    # ------------------------------------------------------------ stepping
    def reset(self) -> None:
        """Back to the start: a fresh ``Music`` (seeded by the run's seed) and a trajectory of one state."""
        with self._lock:
            r = self.run
            lattice = r.topology in ("rectangular", "toroidal", "hexagonal", "hexagonal_toroidal")
            self._music = Music(r.W, self.params, grid_shape=r.grid_shape if lattice else None,
                                topology=r.topology if lattice else "rectangular", random_state=r.seed)
            self._target = self.target
            self._cluster = self.cluster
            x0 = np.array(self.x0, dtype=np.float64)
            self._states = [x0]
            self._bmus = [int(self._music.bmu(x0))]
            self._targets: list[int] = []
            self._clipped: list[bool] = []
            self._probs = [self._score(x0[None])[0]]
            self._manifold = [np.nan]  # per MUSIC frame: the k-NN manifold distance, filled once the index is ready

    def step(self, n: int = 1) -> int:
        """Take ``n`` MUSIC steps (1 ≤ n ≤ 1000); returns the number of steps taken so far."""
        n = check_int(n, "n", 1, 1000)
        with self._lock:
            if len(self._states) - 1 + n > MAX_STEPS:
                raise ValueError(f"a trajectory holds at most {MAX_STEPS} steps; reset first")
            x = self._states[-1]
            new = []
            for _ in range(n):
                tr = self._music.run(x, 1, self.mode, **self._run_kwargs())
                x = tr.states[-1]
                new.append(x)
                self._bmus.append(int(tr.bmus[-1]))
                self._targets.append(int(tr.targets[0]))
                self._clipped.append(bool(tr.clipped[0]))
            first = len(self._states)
            self._states.extend(new)
            self._probs.extend(self._score(np.asarray(new)))
            self._manifold.extend([np.nan] * len(new))
            self._after_steps(first)
            if isinstance(self.run, RunData) and self.run.knn_state() == "ready":  # the new frames' manifold distances, here on the worker thread
                self.fill_manifold()
            return len(self._states) - 1

    @property
    def t(self) -> int:
        """Steps taken."""
        return len(self._states) - 1

    def states(self) -> np.ndarray:
        with self._lock:
            return np.asarray(self._states)

    def bmus(self) -> np.ndarray:
        with self._lock:
            return np.asarray(self._bmus, dtype=np.int64)

    def probs(self) -> np.ndarray:
        with self._lock:
            return np.asarray(self._probs)

    def activations(self, t: int | None = None) -> np.ndarray:
        """Squared distances of state ``t`` (default the last) to every prototype: (K,)."""
        with self._lock:
            t = self.t if t is None else check_int(t, "t", 0, self.t)
            x = self._states[t]
        return ((self.run.W - x) ** 2).sum(1)

    def frame(self, t: int | None = None) -> np.ndarray:
        """State ``t`` (default the last) decoded to an image (MNIST: (28, 28) in [0, 1], the run's PCA decoder, clipped)."""
        with self._lock:
            t = self.t if t is None else check_int(t, "t", 0, self.t)
            x = self._states[t]
        return self._decode(x[None])[0]

    def bmu_path(self) -> tuple[np.ndarray, np.ndarray]:
        """Display coordinates of the BMU path (:func:`torus_path`)."""
        return torus_path(self.bmus(), self.grid_shape, self.wrap)

    # ------------------------------------------------------------ comparison
    def compare(self, with_music: bool = True) -> dict[str, Path]:
        """MUSIC (the trajectory so far), linear interpolation and the VAE arm (when the run has one) from the same
        start to the same goal; the linear and VAE paths have ``horizon`` + 1 frames. A free goal has no end
        point, so only MUSIC is returned."""
        with self._lock:
            S = self.states()
            P = self.probs()
            self.run.knn_index()  # starts the index build (on its own thread) the first time
            out = {}
            if with_music:
                music = None if np.isnan(self._manifold).any() else np.asarray(self._manifold)
                out["music"] = self._path("music", S, mn.to_images(self.run.enc, S), P, self.bmus(), music)
            if self._target is None:
                return out
            cached = self._baseline_paths()
            for m in [k for k in cached if not k.endswith(":manifold")]:
                states, images, probs, bmus = cached[m]
                out[m] = self._path(m, states, images, probs, bmus, cached.get(f"{m}:manifold"))
            return out

    def _baseline_paths(self) -> dict:
        key = (self.start_index, self._target, self.horizon)
        if key not in self._compare_cache:
            self._compare_cache = {key: self._baselines()}
        return self._compare_cache[key]

    def fill_manifold(self) -> bool:
        """Measure the k-NN manifold distance of every frame not measured yet (MUSIC, linear, VAE): ~1 ms a frame, so
        the page calls it on its worker thread (after each step, and once the index is ready), never in a redraw.

        Returns True when every compared path is measured, False while the index is not ready (or the run has none).
        """
        knn = self.run.knn_index()
        if knn is None:
            return False
        with self._lock:
            todo = [i for i, v in enumerate(self._manifold) if np.isnan(v)]
            if todo:
                images = mn.to_images(self.run.enc, np.asarray(self._states)[todo])
                for i, v in zip(todo, knn.mean_distance(images.reshape(len(todo), -1), self.run.knn_k)):
                    self._manifold[i] = float(v)
            if self._target is not None:
                cached = self._baseline_paths()
                for m in [k for k in cached if not k.endswith(":manifold")]:
                    if f"{m}:manifold" not in cached:  # once per path
                        images = cached[m][1]
                        cached[f"{m}:manifold"] = knn.mean_distance(images.reshape(len(images), -1), self.run.knn_k)
        return True

    def manifold_state(self) -> str:
        """The k-NN manifold distance: ``off`` (the run has no training pixels), ``computing``, ``ready`` or ``failed: ...``."""
        state = self.run.knn_state()
        return "computing" if state == "idle" else state

    def _baselines(self) -> dict:
        r, t, H = self.run, self._target, self.horizon
        S = linear_path(self.x0, r.W[t], H)
        out = {"linear": (S, mn.to_images(r.enc, S), r.classify(S), best_matching_units(S, r.W))}
        if r.vae_encode is not None and r.pix_test is not None:
            target_image = mn.to_images(r.enc, r.W[t]).reshape(1, -1)
            z = r.vae_encode(np.vstack([r.pix_test[self.start_index][None], target_image]))
            Z = linear_path(z[0], z[1], H)
            frames = np.asarray(r.vae_decode(Z)).reshape(-1, SIDE, SIDE)
            out["vae"] = (Z, frames, r.classify(r.enc.encode(frames.reshape(len(frames), -1))), None)
        return out

    def _path(self, method, states, images, probs, bmus, manifold=None) -> Path:
        goal = self.goal_class
        pending = self.manifold_state() in ("computing", "ready")  # the index or this path's series is not measured yet
        if states.shape[0] < 2:  # no step yet: the path metrics need a step; show the start's confidence only
            conf = float(np.max(probs[0]))
            metrics = dict.fromkeys(METRICS)
            metrics.update(mean_confidence=conf, min_confidence=conf, final_label=int(np.argmax(probs[0])), path_length=0.0)
            if manifold is not None:
                metrics["manifold_distance"] = float(manifold[0])
            elif pending:
                metrics["manifold_distance"] = COMPUTING
            return Path(method, states, images, probs, bmus, metrics)
        end = self.run.W[self._target] if self._target is not None and method != "vae" else states[-1]
        # the pipeline's metrics (musicsom.experiments.mnist.path_metrics), with the manifold series measured here
        series = np.full(states.shape[0], np.nan) if manifold is None else np.asarray(manifold, dtype=np.float64)
        row, _ = mn.path_metrics({"states": states, "probs": probs, "images": images, "target_state": end},
                                 self.start_class, -1 if goal is None else goal, knn=None, manifold=series)
        metrics = {k: row[k] for k in METRICS}
        if manifold is None:
            metrics["manifold_distance"] = COMPUTING if pending else None
        if goal is None:  # no goal class: the crossing metrics mean nothing
            for k in ("crossing_step", "commit_step", "third_class_steps"):
                metrics[k] = None
        return Path(method, states, images, probs, bmus, metrics)

    # ------------------------------------------------------------ export
    def to_csv(self) -> str:
        """The trajectory as CSV: one row per state (step, BMU and its lattice cell, the step's target and clip,
        the predicted label and class probabilities, then the latent state x0..x{D-1} at full precision)."""
        with self._lock:
            S, B, P = self.states(), self.bmus(), self.probs()
            targets, clipped = [""] + list(self._targets), [""] + [int(c) for c in self._clipped]
        cols = self.grid_shape[1]
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["step", "bmu", "bmu_row", "bmu_col", "target", "clipped", "label", "confidence",
                    *[f"p{c}" for c in range(P.shape[1])], *[f"x{d}" for d in range(S.shape[1])]])
        for t in range(S.shape[0]):
            w.writerow([t, int(B[t]), int(B[t]) // cols, int(B[t]) % cols, targets[t], clipped[t], int(P[t].argmax()),
                        repr(float(P[t].max())), *(repr(float(v)) for v in P[t]), *(repr(float(v)) for v in S[t])])
        return buf.getvalue()

    def strip_png(self, n_frames: int = 11, scale: int = 3) -> bytes:
        """About ``n_frames`` evenly spaced decoded frames of the trajectory side by side, as PNG bytes
        (one row per compared method: MUSIC, then linear and VAE when the goal has an end point)."""
        from PIL import Image

        n_frames = check_int(n_frames, "n_frames", 2, 100)
        scale = check_int(scale, "scale", 1, 16)
        rows = []
        for path in self.compare().values():
            idx = frame_steps(path.images.shape[0] - 1, n_frames)
            tiles = np.ones((n_frames, SIDE, SIDE))
            tiles[: idx.size] = path.images[idx]
            rows.append(mosaic(1.0 - tiles, 1, n_frames))
        img = Image.fromarray(to_uint8(np.vstack(rows))).resize((rows[0].shape[1] * scale, sum(r.shape[0] for r in rows) * scale),
                                                               Image.NEAREST)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return buf.getvalue()

    def gif(self, scale: int = 4, duration_ms: int = 80, max_frames: int = 300) -> bytes:
        """Every decoded frame (at most ``max_frames``, evenly spaced) as an animated GIF."""
        from PIL import Image

        scale = check_int(scale, "scale", 1, 16)
        duration_ms = check_int(duration_ms, "duration_ms", 10, 10000)
        max_frames = check_int(max_frames, "max_frames", 2, 2000)
        S = self.states()
        idx = frame_steps(S.shape[0] - 1, max_frames) if S.shape[0] > max_frames else np.arange(S.shape[0])
        frames = [Image.fromarray(to_uint8(1.0 - im)).resize((SIDE * scale, SIDE * scale), Image.NEAREST)
                  for im in mn.to_images(self.run.enc, S[idx])]
        buf = io.BytesIO()
        frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=duration_ms, loop=0)
        return buf.getvalue()

    def snippet(self) -> str:
        """Python that reproduces the trajectory with the library alone (numpy + musicsom)."""
        r, p = self.run, self.params
        som = self.som_file.format(seed=r.seed)
        settings = ", ".join(f"{k}={getattr(p, k)!r}" for k in MUSIC_KEYS)
        rest = {k: v for k, v in asdict(p).items() if k not in MUSIC_KEYS and v != getattr(MusicParams(), k)}
        if rest:
            settings += ", " + ", ".join(f"{k}={v!r}" for k, v in rest.items())
        if self.mode == "informed":
            call = f'"informed", target={self._target}'
        elif self.mode in ("cluster", "cluster_random"):
            call = f'"{self.mode}", cluster={self._cluster.tolist()}'
        else:
            call = '"free"'
        return (
            "import numpy as np\n"
            "from musicsom.music import Music, MusicParams\n\n"
            f"run = {str(r.run_dir)!r}\n"
            f'som = np.load(f"{{run}}/{som}")\n'
            f'x0 = np.load(f"{{run}}/{self.start_file.format(seed=r.seed)}")["x_test"][{self.start_index}]   # {self._start_words()}\n'
            f"params = MusicParams({settings})\n"
            f'music = Music(som["prototypes"], params, grid_shape=tuple(som["grid_shape"]), topology=str(som["topology"]), random_state={r.seed})\n'
            f"path = music.run(x0, {self.t}, {call})\n"
            "print(path.states.shape, path.bmus)\n"
        )

    def _start_words(self) -> str:
        return f"test image {self.start_index} (a {self.start_class})"

    def summary(self) -> dict:
        """What the page prints above the map: start, goal, mode, step, BMU, predicted class."""
        with self._lock:
            p = self._probs[-1]
            return {"map": self.map_name, "start_index": self.start_index, "start_class": self.start_class,
                    "start_rank": self.start_rank, "goal": self.goal_kind, "goal_value": self.goal_value, "mode": self.mode,
                    "target": self._target, "t": self.t, "bmu": self._bmus[-1], "label": int(np.argmax(p)),
                    "confidence": float(np.max(p))}
