"""Read a finished run (full or smoke) for the explorer: the MNIST map, its encoding, labels and models.

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
:class:`musicsom.explore.model.ExploreModel` steps without any UI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from musicsom.encoding import PCAWhitening

__all__ = ["RunError", "RunData", "MNIST_FILES", "load_run", "mnist_files", "music_settings"]

MNIST = "results/mnist"

#: every file the MNIST view reads: {key: (path pattern, the rule that writes it, required arrays, needed)}.
#: ``{seed}`` is the map's seed. ``needed`` False: the view works without it (an arm or a feature is switched off).
MNIST_FILES: dict[str, tuple[str, str, tuple[str, ...], bool]] = {
    "encoding": (f"{MNIST}/encoding.npz", "mnist_encode", ("mean", "components", "explained_variance"), True),
    "latent": (f"{MNIST}/latent.npz", "mnist_encode", ("x_test", "y_test"), True),
    "som": (f"{MNIST}/seed{{seed}}/som.npz", "mnist_som", ("prototypes", "grid_shape", "topology"), True),
    "labels": (f"{MNIST}/seed{{seed}}/labels.npz", "mnist_labels", ("labels", "purity"), True),
    "classifier": (f"{MNIST}/classifier.pt", "mnist_classifier", (), True),
    "vae": (f"{MNIST}/vae.pt", "mnist_vae", (), False),
    "digits": ("results/data/digits.npz", "data_fetch_digits", ("x_test", "y_test"), False),
    "config": ("results/report/config.json", "run_config", (), False),
}


class RunError(Exception):
    """A run folder the explorer cannot read: the message names the file and the rule that writes it."""


def _rule_hint(rel: str, rule: str) -> str:
    return f"it is written by the rule {rule} (rerun it: snakemake --cores 2 {rel})"


def mnist_files(run_dir, seed: int) -> dict[str, Path]:
    """{key: absolute path} of the files of :data:`MNIST_FILES` for the map of ``seed``."""
    root = Path(run_dir)
    return {k: root / pattern.format(seed=int(seed)) for k, (pattern, _, _, _) in MNIST_FILES.items()}


def _load_npz(run_dir: Path, key: str, seed: int) -> dict | None:
    pattern, rule, required, needed = MNIST_FILES[key]
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


def music_settings(config: dict) -> dict:
    """The run's MUSIC settings (``mnist.music``), completed with :class:`musicsom.music.MusicParams` defaults.

    Returns every ``MusicParams`` field; unknown keys are refused (a typo would otherwise be ignored).
    """
    from dataclasses import asdict

    from musicsom.music import MusicParams

    if not isinstance(config, dict):
        raise RunError(f"the run's config must be a mapping; got {type(config).__name__}")
    section = ((config.get("mnist") or {}).get("music") or {})
    if not isinstance(section, dict):
        raise RunError(f"mnist.music must be a mapping; got {section!r}")
    base = asdict(MusicParams())
    unknown = sorted(set(section) - set(base))
    if unknown:
        raise RunError(f"mnist.music has keys MusicParams does not know: {unknown}")
    base.update(section)
    try:
        MusicParams(**base).validate()
    except ValueError as exc:
        raise RunError(f"mnist.music is not a valid MusicParams: {exc}") from None
    return base


@dataclass
class RunData:
    """Everything the MNIST view shows, read from one run folder (arrays and plain functions; no UI).

    ``classify``: latent rows (n, D) → class probabilities (n, C). ``vae_encode``/``vae_decode``: pixel
    rows ↔ VAE latent rows, or None when the run has no VAE (the comparison then has no VAE arm).
    ``pix_test``: the test images (n, 784) in [0, 1], for the VAE arm (None without digits.npz).
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

    @property
    def K(self) -> int:
        return int(self.W.shape[0])

    @property
    def D(self) -> int:
        return int(self.W.shape[1])

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
    else:
        data.notes.append("results/data/digits.npz is missing (rule data_fetch_digits): no VAE arm")
    vae_path = run / MNIST_FILES["vae"][0]
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
