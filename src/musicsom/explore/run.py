"""Read a finished run (full or smoke) for the explorer: the MNIST, GMM and face maps with what each view needs.

Only the run's own files are read (nothing is recomputed or downloaded). Each file is named with the
Snakemake rule that writes it (``workflow/rules/*.smk``), so that a run folder missing a file, or one
written by an older layout (an array missing from an ``.npz``), gets a message that says what to rerun:

    results/mnist/seed0/labels.npz is missing: it is written by the rule mnist_labels
    (snakemake --cores 2 results/mnist/seed0/labels.npz)

The settings come from the run itself: ``results/report/config.json`` (rule ``run_config``: the
validated config with every schema default applied), else the run folder's ``config.yaml``; keys
missing from either take the :class:`musicsom.music.MusicParams` defaults (never the repository's
``config.yaml``, which may describe another run).

No panel here: :func:`load_run` returns a :class:`RunData` of arrays and plain callables, which
:class:`musicsom.explore.model.ExploreModel` steps without any UI; :func:`load_gmm` and :func:`load_faces`
read the GMM and face maps (:class:`GmmData`, :class:`FaceData`, stepped by the models of
:mod:`musicsom.explore.maps`), and :func:`load_maps` every map the run has.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from musicsom.encoding import PCAWhitening

__all__ = ["RunError", "RunData", "GmmData", "FaceData", "MNIST_FILES", "GMM_FILES", "FACE_FILES", "MAP_FILES", "MAPS",
           "load_run", "load_gmm", "load_faces", "load_maps", "mnist_files", "music_settings"]

MNIST = "results/mnist"

#: every file the MNIST view reads: {key: (path pattern, the rule that writes it, required arrays, needed)}.
#: ``{seed}`` is the map's seed. ``needed`` False: the view works without it (an arm or a feature is switched off).
MNIST_FILES: dict[str, tuple[str, str, tuple[str, ...], bool]] = {
    "encoding": (f"{MNIST}/encoding.npz", "mnist_encode", ("mean", "components", "explained_variance"), True),
    "latent": (f"{MNIST}/latent.npz", "mnist_encode", ("x_test", "y_test"), True),
    "som": (f"{MNIST}/seed{{seed}}/som.npz", "mnist_som", ("prototypes", "grid_shape", "topology"), True),
    "labels": (f"{MNIST}/seed{{seed}}/labels.npz", "mnist_labels", ("labels", "purity"), True),
    "classifier": (f"{MNIST}/seed{{seed}}/classifier.pt", "mnist_classifier", (), True),
    "vae": (f"{MNIST}/seed{{seed}}/vae.pt", "mnist_vae", (), False),
    "digits": ("results/data/digits.npz", "data_fetch_digits", ("x_test", "y_test"), False),
    "config": ("results/report/config.json", "run_config", (), False),
}


GMM = "results/gmm"
#: the GMM view's files (same layout as MNIST_FILES)
GMM_FILES: dict[str, tuple[str, str, tuple[str, ...], bool]] = {
    "data": (f"{GMM}/seed{{seed}}/data.npz", "gmm_standardise", ("x_train", "y_train", "x_test", "y_test", "means"), True),
    "som": (f"{GMM}/seed{{seed}}/som.npz", "gmm_som", ("prototypes", "grid_shape", "topology"), True),
}

FACES = "results/faces"
#: the face view's files (same layout as MNIST_FILES); starts.json only picks the first start shown
FACE_FILES: dict[str, tuple[str, str, tuple[str, ...], bool]] = {
    "latent": (f"{FACES}/seed{{seed}}/latent.npz", "faces_latent", ("x_train", "x_test", "pca_mean", "pca_components", "pca_variance"), True),
    "som": (f"{FACES}/seed{{seed}}/som.npz", "faces_som", ("prototypes", "grid_shape", "topology"), True),
    "clusters": (f"{FACES}/seed{{seed}}/clusters.json", "faces_clusters", (), True),
    "autoencoder": (f"{FACES}/seed{{seed}}/autoencoder.pt", "faces_autoencoder", (), True),
    "starts": (f"{FACES}/seed{{seed}}/starts.json", "faces_starts", (), False),
}

#: the maps the explorer can show, in the order of the page's switch
MAPS = ("mnist", "gmm", "faces")
MAP_FILES = {"mnist": MNIST_FILES, "gmm": GMM_FILES, "faces": FACE_FILES}


class RunError(Exception):
    """A run folder the explorer cannot read: the message names the file and the rule that writes it."""


def _rule_hint(rel: str, rule: str) -> str:
    return f"it is written by the rule {rule} (rerun it: snakemake --cores 2 {rel})"


def mnist_files(run_dir, seed: int) -> dict[str, Path]:
    """{key: absolute path} of the files of :data:`MNIST_FILES` for the map of ``seed``."""
    root = Path(run_dir)
    return {k: root / pattern.format(seed=int(seed)) for k, (pattern, _, _, _) in MNIST_FILES.items()}


def _load_npz(run_dir: Path, key: str, seed: int, files: dict | None = None) -> dict | None:
    pattern, rule, required, needed = (MNIST_FILES if files is None else files)[key]
    rel = pattern.format(seed=seed)
    path = run_dir / rel
    if not path.is_file():
        if needed:
            raise RunError(f"{path} is missing: {_rule_hint(rel, rule)}")
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            out = {k: data[k] for k in data.files}
    except Exception as exc:  # truncated, not a zip, a damaged member: all say the same thing to the user
        raise RunError(f"{path} cannot be read ({type(exc).__name__}: {exc}): {_rule_hint(rel, rule)}") from None
    missing = [k for k in required if k not in out]
    if missing:
        # an older layout (before an array was added) or a foreign file: rerunning the rule writes the current one
        raise RunError(f"{path} lacks the arrays {missing} (an older layout?); it holds {sorted(out)}: {_rule_hint(rel, rule)}")
    return out


def _read_config(run_dir: Path) -> tuple[dict, str]:
    """(config, where it came from): results/report/config.json, else RUN_DIR/config.yaml, else {}."""
    resolved = run_dir / MNIST_FILES["config"][0]
    if resolved.is_file():
        try:
            return json.loads(resolved.read_text(encoding="utf-8")), str(resolved)
        except ValueError as exc:
            raise RunError(f"{resolved} is not valid JSON ({exc}): {_rule_hint(MNIST_FILES['config'][0], 'run_config')}") from None
    plain = run_dir / "config.yaml"
    if plain.is_file():
        try:
            import yaml
        except ImportError:  # pyyaml comes with the pipeline extra; without it the defaults serve
            return {}, "MusicParams defaults (pyyaml is not installed to read config.yaml)"
        return (yaml.safe_load(plain.read_text(encoding="utf-8")) or {}), str(plain)
    return {}, "MusicParams defaults (no results/report/config.json or config.yaml in the run folder)"


MUSIC_KEYS = ("alpha", "lam", "kappa", "eta", "per_row_mean", "preserve_ring")


def music_settings(config: dict, experiment: str = "mnist") -> dict:
    """The run's MUSIC settings (``<experiment>.music``: mnist, gmm or faces), completed with
    :class:`musicsom.music.MusicParams` defaults.

    Returns every ``MusicParams`` field; unknown keys are refused (a typo would otherwise be ignored).
    """
    from dataclasses import asdict

    from musicsom.music import MusicParams

    if experiment not in MAPS:
        raise ValueError(f"experiment must be one of {list(MAPS)}; got {experiment!r}")
    if not isinstance(config, dict):
        raise RunError(f"the run's config must be a mapping; got {type(config).__name__}")
    name = f"{experiment}.music"
    section = ((config.get(experiment) or {}).get("music") or {})
    if not isinstance(section, dict):
        raise RunError(f"{name} must be a mapping; got {section!r}")
    base = asdict(MusicParams())
    unknown = sorted(set(section) - set(base))
    if unknown:
        raise RunError(f"{name} has keys MusicParams does not know: {unknown}")
    base.update(section)
    try:
        MusicParams(**base).validate()
    except ValueError as exc:
        raise RunError(f"{name} is not a valid MusicParams: {exc}") from None
    return base


@dataclass
class RunData:
    """Everything the MNIST view shows, read from one run folder (arrays and plain functions; no UI).

    ``classify``: latent rows (n, D) → class probabilities (n, C). ``vae_encode``/``vae_decode``: pixel
    rows ↔ VAE latent rows, or None when the run has no VAE (the comparison then has no VAE arm).
    ``pix_test``: the test images (n, 784) in [0, 1], for the VAE arm (None without digits.npz).
    ``pix_train``: the training images the pipeline's k-NN manifold distance compares frames with (the first
    ``mnist.n_train`` of digits.npz, as ``musicsom.pipeline.mnist.context.load_context``), float32, or None;
    :meth:`knn_index` builds their :class:`musicsom.image_metrics.KnnIndex` once, on a background thread.
    """

    run_dir: Path
    seed: int
    W: np.ndarray
    grid_shape: tuple[int, int]
    topology: str
    labels: np.ndarray
    purity: np.ndarray
    enc: PCAWhitening
    z_test: np.ndarray
    y_test: np.ndarray
    classify: Callable[[np.ndarray], np.ndarray]
    music: dict
    n_steps: int = 200
    min_purity: float = 0.7
    pix_test: np.ndarray | None = None
    vae_encode: Callable | None = None
    vae_decode: Callable | None = None
    config_source: str = ""
    notes: list[str] = field(default_factory=list)
    pix_train: np.ndarray | None = None
    knn_k: int = 5
    _knn: Future | None = field(default=None, repr=False, compare=False)

    @property
    def K(self) -> int:
        return int(self.W.shape[0])

    @property
    def D(self) -> int:
        return int(self.W.shape[1])

    def knn_index(self, start: bool = True):
        """The k-NN index of :attr:`pix_train` once built, else None.

        The first call (``start``) submits the build to a background thread and returns None at once: the
        page must not wait ~1 s (60,000 images) for it; every session of the server shares the one index.
        """
        if self.pix_train is None:
            return None
        with _KNN_LOCK:
            if self._knn is None and start:
                self._knn = _knn_pool().submit(_build_knn, self.pix_train, self.knn_k)
            future = self._knn
        if future is None or not future.done() or future.exception() is not None:
            return None
        return future.result()

    def knn_state(self) -> str:
        """``off`` (no training pixels), ``idle`` (not asked for yet), ``computing``, ``ready`` or ``failed: ...``."""
        if self.pix_train is None:
            return "off"
        future = self._knn
        if future is None:
            return "idle"
        if not future.done():
            return "computing"
        exc = future.exception()
        return "ready" if exc is None else f"failed: {type(exc).__name__}: {exc}"

    def validate(self) -> "RunData":
        """Check the shapes agree (map vs encoding vs codes vs labels); raises RunError naming the mismatch."""
        K, D = self.W.shape
        rows, cols = self.grid_shape
        if rows * cols != K:
            raise RunError(f"the map's grid {rows}x{cols} does not hold its {K} prototypes")
        if self.enc.components_.shape[0] != D:
            raise RunError(f"the encoding has D = {self.enc.components_.shape[0]} but the map's prototypes have D = {D}: "
                           "the map was trained on another encoding; rerun mnist_som")
        if self.z_test.ndim != 2 or self.z_test.shape[1] != D:
            raise RunError(f"the test codes have shape {self.z_test.shape}, not (n, {D}): rerun mnist_encode")
        if self.labels.shape != (K,) or self.purity.shape != (K,):
            raise RunError(f"the labels ({self.labels.shape}) and purity ({self.purity.shape}) do not have one entry "
                           f"per prototype ({K}): rerun mnist_labels")
        if len(self.y_test) != len(self.z_test) or len(self.z_test) == 0:
            raise RunError("the test codes and labels differ in length (or are empty): rerun mnist_encode")
        return self


_KNN_LOCK = threading.Lock()
_KNN_POOL: list[ThreadPoolExecutor] = []


def _knn_pool() -> ThreadPoolExecutor:
    # one background thread for the index builds of every run the process serves (created on first use)
    if not _KNN_POOL:
        _KNN_POOL.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="musicsom-explore-knn"))
    return _KNN_POOL[0]


def _build_knn(reference: np.ndarray, k: int):
    from musicsom.image_metrics import KnnIndex

    index = KnnIndex(reference)
    index.mean_distance(reference[:1], k)  # builds the bound space now (else the first query would pay for it)
    return index


def load_run(run_dir=".", seed: int | None = None, threads: int = 1) -> RunData:
    """Read the MNIST view of a finished run: map (seed ``seed``, default the run's first seed), encoding,
    test codes, labels, classifier and (when present) the VAE and the test pixels.

    Raises :class:`RunError` naming the missing or outdated file and the rule that writes it.
    Needs torch (the run's classifier is a torch model: the ``pipeline`` extra).
    """
    run = Path(run_dir).expanduser().resolve()
    if not run.is_dir():
        raise RunError(f"{run} is not a folder: give the folder a run was made in (snakemake --directory ...)")
    if not (run / "results").is_dir():
        raise RunError(f"{run} holds no results/ folder: it is not a run folder (or the run has not started)")
    config, source = _read_config(run)
    if seed is None:
        seeds = config.get("seeds") or [0]
        seed = int(seeds[0])
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise RunError(f"seed must be an integer >= 0; got {seed!r}")
    seed = int(seed)
    enc_a = _load_npz(run, "encoding", seed)
    lat = _load_npz(run, "latent", seed)
    som = _load_npz(run, "som", seed)
    lab = _load_npz(run, "labels", seed)
    enc = PCAWhitening.from_arrays(enc_a["mean"], enc_a["components"], enc_a["explained_variance"], enc_a.get("total_variance"))
    mnist = config.get("mnist") or {}
    data = RunData(
        run_dir=run,
        seed=seed,
        W=np.asarray(som["prototypes"], dtype=np.float64),
        grid_shape=tuple(int(v) for v in som["grid_shape"]),
        topology=str(som["topology"]),
        labels=np.asarray(lab["labels"], dtype=np.int64),
        purity=np.asarray(lab["purity"], dtype=np.float64),
        enc=enc,
        z_test=np.asarray(lat["x_test"], dtype=np.float64),
        y_test=np.asarray(lat["y_test"], dtype=np.int64),
        classify=_classifier(run, seed, threads),
        music=music_settings(config),
        n_steps=int((mnist.get("transition") or {}).get("n_steps", 200)),
        min_purity=float(mnist.get("target_min_purity", 0.7)),
        config_source=source,
    )
    data.validate()
    digits = _load_npz(run, "digits", seed)
    if digits is not None:
        from musicsom.encoding import flatten_images

        n = len(data.z_test)  # the latent holds the first n_test test images (mnist_encode's slice)
        if len(digits["x_test"]) >= n and np.array_equal(np.asarray(digits["y_test"][:n], dtype=np.int64), data.y_test):
            data.pix_test = flatten_images(digits["x_test"][:n])
        else:
            data.notes.append("results/data/digits.npz does not match the test codes: no VAE arm")
        n_train = int(mnist.get("n_train", 0) or 0)
        if "x_train" in digits and 0 <= n_train <= len(digits["x_train"]):
            # the k-NN reference of the pipeline's manifold distance: the first mnist.n_train training images (0 = all)
            data.pix_train = flatten_images(digits["x_train"][: n_train or len(digits["x_train"])]).astype(np.float32)
            data.knn_k = int(mnist.get("knn_k", 5))
        else:
            data.notes.append("results/data/digits.npz holds no training images for mnist.n_train: no k-NN manifold distance")
    else:
        data.notes.append("results/data/digits.npz is missing (rule data_fetch_digits): no VAE arm, no k-NN manifold distance")
    vae_path = run / MNIST_FILES["vae"][0].format(seed=seed)
    if data.pix_test is not None and vae_path.is_file():
        data.vae_encode, data.vae_decode = _vae(run, seed)
    elif data.pix_test is not None:
        data.notes.append(f"{MNIST_FILES['vae'][0]} is missing (rule mnist_vae): no VAE arm")
    return data


def _torch_model(run: Path, key: str, seed: int, cls_name: str):
    pattern, rule, _, _ = MNIST_FILES[key]
    rel = pattern.format(seed=seed)
    path = run / rel
    if not path.is_file():
        raise RunError(f"{path} is missing: {_rule_hint(rel, rule)}")
    try:
        import torch
    except ImportError:
        raise RunError('the run\'s classifier is a torch model: install the pipeline extra (pip install "musicsom[pipeline,explore]")') from None
    from musicsom.experiments import models

    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
        model = getattr(models, cls_name)(**ck["config"])
        model.load_state_dict(ck["state_dict"])
    except Exception as exc:  # a damaged or foreign checkpoint, or one of an older architecture
        raise RunError(f"{path} cannot be loaded ({type(exc).__name__}: {exc}): {_rule_hint(rel, rule)}") from None
    return model.eval()


def _classifier(run: Path, seed: int, threads: int):
    import torch

    from musicsom.experiments.models import predict_proba

    # one thread: the UI and the MUSIC solve share the machine (torch would take every core)
    torch.set_num_threads(max(1, int(threads)))
    model = _torch_model(run, "classifier", seed, "MLPClassifier")

    def classify(Z):
        with torch.no_grad():
            return predict_proba(model, np.atleast_2d(np.asarray(Z, dtype=np.float64)))

    return classify


def _vae(run: Path, seed: int):
    from musicsom.experiments.models import vae_decode, vae_encode

    model = _torch_model(run, "vae", seed, "VAE")
    return (lambda X: vae_encode(model, X)), (lambda Z: vae_decode(model, Z))


# ---------------------------------------------------------------- the GMM map
def _seed_of(config: dict, seed) -> int:
    if seed is None:
        seeds = config.get("seeds") or [0]
        seed = seeds[0]
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise RunError(f"seed must be an integer >= 0; got {seed!r}")
    return int(seed)


def _run_folder(run_dir) -> Path:
    run = Path(run_dir).expanduser().resolve()
    if not run.is_dir():
        raise RunError(f"{run} is not a folder: give the folder a run was made in (snakemake --directory ...)")
    if not (run / "results").is_dir():
        raise RunError(f"{run} holds no results/ folder: it is not a run folder (or the run has not started)")
    return run


def _lattice(som: dict, K: int, name: str, rule: str) -> tuple[tuple[int, int], str]:
    grid = tuple(int(v) for v in som["grid_shape"])
    if len(grid) != 2 or grid[0] * grid[1] != K:
        raise RunError(f"the {name} map's grid {grid} does not hold its {K} prototypes: rerun {rule}")
    return grid, str(som["topology"])


@dataclass
class GmmData:
    """The GMM view of a run: the mixture's SOM, its standardised data and the component of each unit.

    ``labels``/``purity``: each prototype's majority component among the training points it is the BMU
    of, and that component's share of its hits (``musicsom.som.majority_labels``, as the pipeline's
    ``component_prototypes``; -1 and 0 for a unit without hits). ``posterior``: points (n, D) → component
    posterior (n, C) under the mixture the run sampled (equal weights, the config's ``spread`` and
    ``noise`` per coordinate, in standardised units), or None when the config does not give them.
    ``axes``/``centre``: the first two principal axes of the training data (the view's 2-D projection).
    """

    run_dir: Path
    seed: int
    W: np.ndarray
    grid_shape: tuple[int, int]
    topology: str
    labels: np.ndarray
    purity: np.ndarray
    x_train: np.ndarray
    y_train: np.ndarray
    z_test: np.ndarray
    y_test: np.ndarray
    means: np.ndarray
    music: dict
    axes: np.ndarray
    centre: np.ndarray
    posterior: Callable[[np.ndarray], np.ndarray] | None = None
    n_steps: int = 200
    min_purity: float = 0.0
    config_source: str = ""
    notes: list[str] = field(default_factory=list)

    K = RunData.K
    D = RunData.D

    @property
    def n_components(self) -> int:
        return int(self.means.shape[0])

    def mean_distances(self, X) -> np.ndarray:
        """Euclidean distances of points (n, D) to each component mean: (n, C)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        return np.sqrt(((X[:, None, :] - self.means[None]) ** 2).sum(-1))

    def validate(self) -> "GmmData":
        K, D = self.W.shape
        if self.grid_shape[0] * self.grid_shape[1] != K:
            raise RunError(f"the GMM map's grid {self.grid_shape} does not hold its {K} prototypes: rerun gmm_som")
        for name, X in (("train", self.x_train), ("test", self.z_test)):
            if X.ndim != 2 or X.shape[1] != D or len(X) == 0:
                raise RunError(f"the mixture's {name} points have shape {X.shape}, not (n, {D}): the map was trained on "
                               "other data; rerun gmm_standardise and gmm_som")
        if self.means.ndim != 2 or self.means.shape[1] != D:
            raise RunError(f"the component means have shape {self.means.shape}, not (C, {D}): rerun gmm_standardise")
        if len(self.y_test) != len(self.z_test) or len(self.y_train) != len(self.x_train):
            raise RunError("the mixture's points and component labels differ in length: rerun gmm_synthesise")
        return self


def _gmm_posterior(config: dict, data: dict, D: int):
    """The exact component posterior of the sampled mixture (musicsom.experiments.gmm.synthesise_mixture), or None."""
    mix = (config.get("gmm") or {}).get("mixture") or {}
    if "spread" not in mix or "noise" not in mix or "scale" not in data or int(mix.get("dim", D)) != D:
        return None
    var = np.full(D, float(mix["noise"]) ** 2)
    var[:2] = float(mix["spread"]) ** 2
    var = var / np.asarray(data["scale"], dtype=np.float64) ** 2  # standardised units
    if not np.all(np.isfinite(var)) or np.any(var <= 0):
        return None
    means = np.asarray(data["means"], dtype=np.float64)

    def posterior(X):
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        logp = -0.5 * (((X[:, None, :] - means[None]) ** 2) / var).sum(-1)  # equal weights: the draw is uniform
        logp -= logp.max(1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(1, keepdims=True)

    return posterior


def load_gmm(run_dir=".", seed: int | None = None) -> GmmData:
    """Read the GMM view of a finished run (map of ``seed``, default the run's first seed).

    Raises :class:`RunError` naming the missing or outdated file and the rule that writes it.
    """
    from musicsom.som import majority_labels

    run = _run_folder(run_dir)
    config, source = _read_config(run)
    seed = _seed_of(config, seed)
    data = _load_npz(run, "data", seed, GMM_FILES)
    som = _load_npz(run, "som", seed, GMM_FILES)
    W = np.asarray(som["prototypes"], dtype=np.float64)
    grid, topology = _lattice(som, W.shape[0], "GMM", "gmm_som")
    x_train = np.asarray(data["x_train"], dtype=np.float64)
    y_train = np.asarray(data["y_train"], dtype=np.int64)
    if x_train.ndim != 2 or x_train.shape[1] != W.shape[1]:
        raise RunError(f"the mixture's training points have shape {x_train.shape}, the map D = {W.shape[1]}: rerun gmm_som")
    major, counts = majority_labels(x_train, W, y_train, n_classes=int(np.asarray(data["means"]).shape[0]))
    hits = counts.sum(1)
    purity = np.where(hits > 0, counts.max(1) / np.maximum(hits, 1), 0.0)
    centre = x_train.mean(0)
    # the principal axes of the training data: the 2-D view of the states (the mixture lives in its first two)
    _, _, vt = np.linalg.svd(x_train - centre, full_matrices=False)
    gmm = config.get("gmm") or {}
    out = GmmData(
        run_dir=run, seed=seed, W=W, grid_shape=grid, topology=topology, labels=np.asarray(major, dtype=np.int64),
        purity=purity, x_train=x_train, y_train=y_train, z_test=np.asarray(data["x_test"], dtype=np.float64),
        y_test=np.asarray(data["y_test"], dtype=np.int64), means=np.asarray(data["means"], dtype=np.float64),
        music=music_settings(config, "gmm"), axes=vt[:2].copy(), centre=centre,
        posterior=_gmm_posterior(config, data, W.shape[1]),
        n_steps=int((gmm.get("trajectories") or {}).get("n_steps", 200)), config_source=source,
    )
    if out.posterior is None:
        out.notes.append("GMM: the config does not give gmm.mixture.spread and noise (or data.npz lacks scale): "
                         "the view shows the distances to the component means, not the posterior")
    return out.validate()


# ---------------------------------------------------------------- the face map
@dataclass
class FaceData:
    """The face view of a run: the face SOM, the whitened codes, the labelled clusters and the decoder.

    ``decode``: whitened states (n, D) → uint8 faces (n, S, S, 3) (undo the whitening, then the autoencoder's
    decoder: ``musicsom.pipeline.faces.decoding.LatentDecoder``). ``clusters``: {name: prototype indices} of
    faces_clusters (female, darker_skinned, random). ``identity``: faces.identity (size, detector_upsample,
    every): how the pipeline measures identity with dlib; :meth:`face_id` loads dlib's models once.
    """

    run_dir: Path
    seed: int
    W: np.ndarray
    grid_shape: tuple[int, int]
    topology: str
    enc: PCAWhitening
    z_test: np.ndarray
    image_id: np.ndarray
    person: np.ndarray
    clusters: dict[str, np.ndarray]
    descriptions: dict[str, str]
    decode: Callable[[np.ndarray], np.ndarray]
    music: dict
    n_steps: int = 10
    target_cluster: str | None = None
    identity: dict = field(default_factory=dict)
    starts: list[int] = field(default_factory=list)
    config_source: str = ""
    notes: list[str] = field(default_factory=list)
    _fid: list = field(default_factory=list, repr=False, compare=False)
    _fid_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    K = RunData.K
    D = RunData.D

    def face_id(self):
        """dlib's detector and descriptor (musicsom.experiments.face_id.FaceID) at the run's faces.identity settings,
        loaded on first use (~1 s) and shared; None when dlib or face-recognition-models is not installed."""
        with self._fid_lock:
            if not self._fid:
                from musicsom.experiments import face_id

                self._fid.append(face_id.FaceID(int(self.identity.get("size", 150)), int(self.identity.get("detector_upsample", 0)))
                                 if face_id.available() else None)
            return self._fid[0]

    def validate(self) -> "FaceData":
        K, D = self.W.shape
        if self.enc.components_.shape[0] != D:
            raise RunError(f"the face whitening has D = {self.enc.components_.shape[0]} but the map's prototypes have D = {D}: "
                           "rerun faces_som")
        if self.z_test.ndim != 2 or self.z_test.shape[1] != D or len(self.z_test) == 0:
            raise RunError(f"the test faces' codes have shape {self.z_test.shape}, not (n, {D}): rerun faces_latent")
        for name, units in self.clusters.items():
            if units.size and (units.min() < 0 or units.max() >= K):
                raise RunError(f"cluster {name} names prototypes outside the map's {K}: rerun faces_clusters")
        return self


def load_faces(run_dir=".", seed: int | None = None, threads: int = 1) -> FaceData:
    """Read the face view of a finished run (map of ``seed``, default the run's first seed): latent codes and their
    whitening, SOM, labelled clusters, the autoencoder's decoder (torch) and the pipeline's start faces.

    Raises :class:`RunError` naming the missing or outdated file and the rule that writes it.
    """
    run = _run_folder(run_dir)
    config, source = _read_config(run)
    seed = _seed_of(config, seed)
    lat = _load_npz(run, "latent", seed, FACE_FILES)
    som = _load_npz(run, "som", seed, FACE_FILES)
    clusters_raw = _load_json(run, "clusters", seed, FACE_FILES)
    W = np.asarray(som["prototypes"], dtype=np.float64)
    grid, topology = _lattice(som, W.shape[0], "face", "faces_som")
    clusters = {k: np.asarray(v["units"], dtype=np.int64) for k, v in clusters_raw.items()
                if isinstance(v, dict) and "units" in v}
    if not clusters:
        rel = FACE_FILES["clusters"][0].format(seed=seed)
        raise RunError(f"{run / rel} holds no cluster with units (an older layout?): {_rule_hint(rel, 'faces_clusters')}")
    enc = PCAWhitening.from_arrays(lat["pca_mean"], lat["pca_components"], lat["pca_variance"], lat.get("pca_total_variance"))
    decode = _face_decoder(run, seed, enc, threads)
    faces = config.get("faces") or {}
    n_test = len(lat["x_test"])
    out = FaceData(
        run_dir=run, seed=seed, W=W, grid_shape=grid, topology=topology, enc=enc,
        z_test=np.asarray(lat["x_test"], dtype=np.float64),
        image_id=np.asarray(lat["image_id_test"]) if "image_id_test" in lat else np.array([f"test {i}" for i in range(n_test)]),
        person=np.asarray(lat["person_test"]) if "person_test" in lat else np.array([""] * n_test),
        clusters=clusters, descriptions={k: str(v.get("description", "")) for k, v in clusters_raw.items() if k in clusters},
        decode=decode, music=music_settings(config, "faces"),
        n_steps=int((faces.get("informed") or {}).get("n_steps", 10)),
        target_cluster=faces.get("target_cluster") if faces.get("target_cluster") in clusters else None,
        identity={"size": 150, "detector_upsample": 0, "every": 5, **(faces.get("identity") or {})},
        config_source=source,
    )
    starts = _load_json(run, "starts", seed, FACE_FILES)
    if starts is not None:
        out.starts = [int(r) for r in starts.get("test_rows", []) if 0 <= int(r) < n_test]
    return out.validate()


def _load_json(run_dir: Path, key: str, seed: int, files: dict):
    pattern, rule, _, needed = files[key]
    rel = pattern.format(seed=seed)
    path = run_dir / rel
    if not path.is_file():
        if needed:
            raise RunError(f"{path} is missing: {_rule_hint(rel, rule)}")
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RunError(f"{path} is not valid JSON ({exc}): {_rule_hint(rel, rule)}") from None
    if not isinstance(data, dict):
        raise RunError(f"{path} does not hold a JSON object: {_rule_hint(rel, rule)}")
    return data


def _face_decoder(run: Path, seed: int, enc: PCAWhitening, threads: int):
    pattern, rule, _, _ = FACE_FILES["autoencoder"]
    pattern = pattern.format(seed=seed)
    path = run / pattern
    if not path.is_file():
        raise RunError(f"{path} is missing: {_rule_hint(pattern, rule)}")
    try:
        import torch
    except ImportError:
        raise RunError('the face decoder is a torch model: install the pipeline extra (pip install "musicsom[pipeline,explore]")') from None
    from musicsom.experiments.models.face_autoencoder import FaceAutoencoder, decode_codes

    torch.set_num_threads(max(1, int(threads)))
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
        model = FaceAutoencoder(**ck["config"])
        model.load_state_dict(ck["state_dict"])
    except Exception as exc:  # a damaged or foreign checkpoint, or one of an older architecture
        raise RunError(f"{path} cannot be loaded ({type(exc).__name__}: {exc}): {_rule_hint(pattern, rule)}") from None
    model.eval()

    def decode(states):
        with torch.no_grad():
            return decode_codes(model, enc.decode(np.atleast_2d(np.asarray(states, dtype=np.float64))))

    return decode


# ---------------------------------------------------------------- every map of a run
def load_maps(run_dir=".", seed: int | None = None, threads: int = 1) -> tuple[dict, list[str]]:
    """({map name: its data} for every map the run has, notes on the maps left out).

    A map is left out, with a note naming the file and its rule, when a file it needs is missing or
    outdated. When no map can be read, the MNIST map's :class:`RunError` is raised (the run is not usable).
    """
    run = _run_folder(run_dir)
    loaders = {"mnist": lambda: load_run(run, seed=seed, threads=threads), "gmm": lambda: load_gmm(run, seed=seed),
               "faces": lambda: load_faces(run, seed=seed, threads=threads)}
    maps, notes, first_error = {}, [], None
    for name in MAPS:
        try:
            maps[name] = loaders[name]()
        except RunError as exc:
            first_error = first_error or exc
            notes.append(f"no {name.upper() if name != 'faces' else 'face'} map: {exc}")
    if not maps:
        raise first_error
    return maps, notes
