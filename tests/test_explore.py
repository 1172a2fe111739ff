"""The explorer's model and run reader (musicsom.explore), on a tiny synthetic run folder: no browser, no panel.

The browser tests on the smoke run are in tests/test_explore_browser.py.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

torch = pytest.importorskip("torch")

from musicsom.encoding import PCAWhitening  # noqa: E402
from musicsom.explore.model import GOALS, ExploreModel, torus_path  # noqa: E402
from musicsom.explore.run import MNIST_FILES, RunError, load_run, music_settings  # noqa: E402
from musicsom.music import Music, MusicParams  # noqa: E402

ROWS, COLS, D = 5, 6, 8


def write_run(root, n_test: int = 60, vae: bool = False):
    """A run folder laid out as the pipeline writes it, with random arrays and an untrained classifier."""
    from musicsom.experiments.models import MLPClassifier
    from musicsom.experiments.models import checkpoint

    rng = np.random.default_rng(0)
    pix = rng.random((300, 784))
    enc = PCAWhitening(n_components=D).fit(pix)
    z = enc.encode(pix)
    mnist = root / "results" / "mnist"
    (mnist / "seed0").mkdir(parents=True)
    np.savez(mnist / "encoding.npz", mean=enc.mean_, components=enc.components_, explained_variance=enc.explained_variance_,
             total_variance=enc.total_variance_)
    y = np.arange(300) % 10
    np.savez(mnist / "latent.npz", x_train=z[:200], y_train=y[:200], x_test=z[200:200 + n_test], y_test=y[200:200 + n_test])
    W = rng.standard_normal((ROWS * COLS, D))
    np.savez(mnist / "seed0" / "som.npz", prototypes=W, grid_shape=np.array([ROWS, COLS]), topology=np.array("toroidal"))
    labels = np.arange(ROWS * COLS) % 10
    np.savez(mnist / "seed0" / "labels.npz", labels=labels, counts=np.eye(10)[labels] * 5, purity=np.linspace(0.5, 1.0, ROWS * COLS))
    torch.manual_seed(0)
    clf = MLPClassifier(D, 10, hidden=[16], dropout=0.0)
    torch.save(checkpoint(clf, []), mnist / "seed0" / "classifier.pt")
    (root / "results" / "report").mkdir(parents=True)
    import json

    (root / "results" / "report" / "config.json").write_text(json.dumps({
        "seeds": [0], "mnist": {"music": {"alpha": 0.8, "lam": 0.01, "kappa": 0.2, "eta": 0.3, "per_row_mean": True,
                                          "preserve_ring": None}, "transition": {"n_steps": 12}, "target_min_purity": 0.7}}))
    return root


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return write_run(tmp_path_factory.mktemp("explore_run"))


@pytest.fixture
def model(run_dir):
    return ExploreModel(load_run(run_dir))


def test_the_run_is_read_with_its_own_settings(run_dir):
    run = load_run(run_dir)
    assert run.W.shape == (ROWS * COLS, D) and run.grid_shape == (ROWS, COLS) and run.topology == "toroidal"
    assert run.music["alpha"] == 0.8 and run.music["kappa"] == 0.2 and run.music["per_row_mean"] is True
    assert run.n_steps == 12 and run.min_purity == 0.7 and run.config_source.endswith("config.json")
    assert run.vae_encode is None and any("digits.npz" in n for n in run.notes)  # no VAE arm, and it says why
    P = run.classify(run.z_test[:3])
    assert P.shape == (3, 10) and np.allclose(P.sum(1), 1)


@pytest.mark.parametrize("mode, goal", [("informed", ("prototype", 7)), ("informed", ("class", 3)),
                                        ("cluster", ("class", 3)), ("cluster_random", ("class", 4)), ("free", ("free", None))])
def test_stepping_equals_one_music_run(model, mode, goal):
    """A path grown a step at a time is Music.run's path on the same inputs, bit for bit (the snippet's claim)."""
    model.set_goal(*goal, mode=mode)
    model.step(3)
    model.step(4)
    run = model.run
    music = Music(run.W, MusicParams(**run.music), grid_shape=run.grid_shape, topology=run.topology, random_state=run.seed)
    kw = {"target": model.target} if mode == "informed" else {"cluster": model.cluster} if mode != "free" else {}
    ref = music.run(run.z_test[model.start_index], 7, mode, **kw)
    assert np.array_equal(model.states(), ref.states) and np.array_equal(model.bmus(), ref.bmus)
    assert model.probs().shape == (8, 10)
    # the snippet the page shows runs as printed and gives the same path
    ns: dict = {}
    exec(model.snippet().replace("print(", "_ = ("), ns)
    assert np.array_equal(ns["path"].states, model.states())


def test_settings_start_and_goal_restart_the_path(model):
    model.step(2)
    model.set_params(alpha=0.3, preserve_ring=1)
    assert model.t == 0 and model.params.alpha == 0.3 and model.params.preserve_ring == 1
    model.step(2)
    idx = model.set_start(cls=4, rank=1)
    assert model.t == 0 and model.run.y_test[idx] == 4 and np.flatnonzero(model.run.y_test == 4)[1] == idx
    assert model.set_start(random=True) == model.start_index
    model.set_goal("prototype", 5)
    assert model.target == 5 and model.mode == "informed" and model.goal_class == model.run.labels[5]


@pytest.mark.parametrize("call, message", [
    (lambda m: m.set_goal("planet", 1), "goal must be one of"),
    (lambda m: m.set_goal("prototype", ROWS * COLS), "prototype"),
    (lambda m: m.set_goal("class", 3, mode="free"), "allows the modes"),
    (lambda m: m.set_params(alpha=1.5), "alpha"),
    (lambda m: m.set_params(beta=1), "unknown MUSIC settings"),
    (lambda m: m.set_start(cls=4, rank=99), "index within class 4"),
    (lambda m: m.step(0), "n"),
])
def test_bad_input_is_refused_with_a_message(model, call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call(model)


def test_exports(model):
    model.set_goal("prototype", 11)
    model.step(6)
    rows = list(csv.DictReader(io.StringIO(model.to_csv())))
    assert len(rows) == 7 and [int(r["bmu"]) for r in rows] == model.bmus().tolist()
    states = np.array([[float(r[f"x{d}"]) for d in range(D)] for r in rows])
    assert np.array_equal(states, model.states())  # full precision: repr round-trips
    assert model.strip_png()[:8] == b"\x89PNG\r\n\x1a\n"
    gif = model.gif()
    assert gif[:6] == b"GIF89a"
    from PIL import Image

    assert Image.open(io.BytesIO(gif)).n_frames == 7
    paths = model.compare()
    assert set(paths) == {"music", "linear"} and paths["linear"].states.shape == (model.horizon + 1, D)
    assert np.allclose(paths["linear"].states[-1], model.run.W[11])
    assert paths["music"].metrics["path_length"] > 0


def test_a_free_goal_has_nothing_to_interpolate_toward(model):
    model.set_goal("free")
    model.step(2)
    paths = model.compare()
    assert set(paths) == {"music"} and paths["music"].metrics["crossing_step"] is None


def test_torus_path_breaks_where_a_step_wraps():
    x, y = torus_path([0, 1, 5, 4], (2, 6), wrap=True)  # 1 -> 5 wraps around the columns
    assert np.isnan(x).sum() == 1 and x[~np.isnan(x)].tolist() == [0, 1, 5, 4]
    assert not np.isnan(torus_path([0, 1, 5], (2, 6), wrap=False)[0]).any()
    with pytest.raises(ValueError):
        torus_path([12], (2, 6), wrap=True)


@pytest.mark.parametrize("key", ["labels", "som", "classifier", "encoding"])
def test_a_missing_file_names_the_rule_that_writes_it(tmp_path, key):
    root = write_run(tmp_path / "run")
    pattern, rule, _, _ = MNIST_FILES[key]
    (root / pattern.format(seed=0)).unlink()
    with pytest.raises(RunError, match=rf"{re.escape(pattern.format(seed=0))} is missing: it is written by the rule {rule}"):
        load_run(root)


def test_an_older_layout_names_the_missing_arrays_and_the_rule(tmp_path):
    root = write_run(tmp_path / "run")
    path = root / "results/mnist/seed0/labels.npz"
    np.savez(path, labels=np.zeros(ROWS * COLS, dtype=int))  # before purity was saved
    with pytest.raises(RunError, match=r"lacks the arrays \['purity'\].*mnist_labels"):
        load_run(root)
    with pytest.raises(RunError, match="not a folder"):
        load_run(tmp_path / "nowhere")
    with pytest.raises(RunError, match="mnist.music has keys"):
        music_settings({"mnist": {"music": {"alpah": 0.5}}})


def test_each_file_is_an_output_of_the_rule_named_for_it():
    """MNIST_FILES names each file's rule; the rule's block in workflow/rules/*.smk must list that output."""
    text = "".join(p.read_text() for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    blocks = dict(re.findall(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", text, re.M | re.S))
    for key, (pattern, rule, _, _) in MNIST_FILES.items():
        assert rule in blocks, f"{key}: no rule {rule}"
        name = pattern.rsplit("/", 1)[-1].replace("{seed}", "")
        assert name in blocks[rule], f"{key}: rule {rule} does not write {pattern}"


def test_importing_the_package_loads_neither_panel_nor_torch():
    code = ("import sys, musicsom, musicsom.explore, musicsom.explore.model, musicsom.explore.maps\n"
            "print(sorted(m for m in ('panel', 'bokeh', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_the_command_refuses_a_folder_that_is_not_a_run(tmp_path):
    pytest.importorskip("panel")
    proc = subprocess.run([sys.executable, "-m", "musicsom", "explore", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "holds no results/ folder" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "musicsom", "explore", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "127.0.0.1" in proc.stdout


def test_the_page_builds_and_steps_without_a_server(run_dir):
    """The view on its own (no browser): a step redraws the path, the frame and the probabilities."""
    pytest.importorskip("panel")
    from musicsom.explore.app import ExplorerView

    view = ExplorerView(ExploreModel(load_run(run_dir)))
    view.select_prototype(9)
    before = view.frame_src.data["image"][0].copy()
    for _ in range(3):
        assert view.advance(1)
    assert view.model.t == 3 and len(view.prob_src.data["step"]) == 4
    assert not np.array_equal(before, view.frame_src.data["image"][0])
    assert "data-step='3'" in view.status.object and "goal: prototype 9" in view.status.object
    assert set(GOALS) == {"prototype", "class", "free"}


# ---------------------------------------------------------------- the GMM and face maps, the k-NN manifold distance
GROWS, GCOLS, GD = 4, 5, 4


def write_gmm(root, mixture: bool = True):
    """The GMM files of a run (results/gmm/seed0/{data,som}.npz) as the pipeline writes them, and its config."""
    import json

    from musicsom.experiments.gmm import standardise, synthesise_mixture

    rng = np.random.default_rng(1)
    shape = (GD, 3, 3.0, 0.5, 0.1)
    x_train, y_train, means = synthesise_mixture(400, *shape, rng)
    x_test, y_test, _ = synthesise_mixture(60, *shape, rng)
    x_train, x_test, means, mean, scale = standardise(x_train, x_test, means)
    gmm = root / "results" / "gmm" / "seed0"
    gmm.mkdir(parents=True, exist_ok=True)
    np.savez(gmm / "data.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, means=means, mean=mean, scale=scale)
    W = x_train[rng.choice(len(x_train), GROWS * GCOLS, replace=False)]
    np.savez(gmm / "som.npz", prototypes=W, grid_shape=np.array([GROWS, GCOLS]), topology=np.array("rectangular"))
    config = {"seeds": [0], "gmm": {"music": {"alpha": 0.9, "eta": 0.2, "kappa": 0.1, "lam": 0.01, "per_row_mean": False},
                                    "trajectories": {"n_steps": 15}}}
    if mixture:
        config["gmm"]["mixture"] = {"dim": GD, "components": 3, "radius": 3.0, "spread": 0.5, "noise": 0.1}
    (root / "results" / "report").mkdir(parents=True, exist_ok=True)
    (root / "results" / "report" / "config.json").write_text(json.dumps(config))
    return root


FROWS, FCOLS, FD = 4, 4, 6


def write_faces(root, every: int = 0):
    """The face files of a run (latent, som, clusters, starts, a tiny face code with a random PCA) and its config."""
    import json

    from musicsom.experiments.models import checkpoint
    from musicsom.experiments.models.face_autoencoder import FaceAutoencoder

    rng = np.random.default_rng(2)
    torch.manual_seed(0)
    ae = FaceAutoencoder(size=16, code_dim=12, width=4, depth=2)
    ae.set_pca(np.full(3 * 16 * 16, 0.5), np.linalg.qr(np.random.default_rng(3).standard_normal((3 * 16 * 16, 12)))[0].T)
    faces = root / "results" / "faces"
    (faces / "seed0").mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint(ae, []), faces / "seed0" / "autoencoder.pt")
    codes = rng.standard_normal((80, 12))
    enc = PCAWhitening(n_components=FD).fit(codes)
    z = enc.encode(codes)
    np.savez(faces / "seed0" / "latent.npz", x_train=z[:60], x_test=z[60:], pca_mean=enc.mean_, pca_components=enc.components_,
             pca_variance=enc.explained_variance_, pca_total_variance=np.array(enc.total_variance_),
             image_id_test=np.array([f"Person_{i}_0001" for i in range(20)]), person_test=np.array([f"Person_{i}" for i in range(20)]))
    np.savez(faces / "seed0" / "som.npz", prototypes=rng.standard_normal((FROWS * FCOLS, FD)), grid_shape=np.array([FROWS, FCOLS]),
             topology=np.array("rectangular"))
    clusters = {"darker_skinned": {"units": [3], "description": "d"}, "female": {"units": [5, 6, 9], "description": "f"},
                "random": {"units": [0, 6, 12, 15], "description": "r"}, "settings": {"grid_shape": [FROWS, FCOLS]}}
    (faces / "seed0" / "clusters.json").write_text(json.dumps(clusters))
    (faces / "seed0" / "starts.json").write_text(json.dumps({"test_rows": [7, 2]}))
    (root / "results" / "report").mkdir(parents=True, exist_ok=True)
    (root / "results" / "report" / "config.json").write_text(json.dumps({
        "seeds": [0], "faces": {"music": {"alpha": 0.9, "eta": 0.5, "kappa": 0.1, "lam": 0.01, "per_row_mean": True},
                                "informed": {"n_steps": 8}, "target_cluster": "female", "identity": {"every": every}}}))
    return root


@pytest.fixture(scope="module")
def gmm_dir(tmp_path_factory):
    return write_gmm(tmp_path_factory.mktemp("explore_gmm"))


@pytest.fixture(scope="module")
def face_dir(tmp_path_factory):
    return write_faces(tmp_path_factory.mktemp("explore_faces"))


def copy_run(run_dir, tmp_path):
    """A copy of the module's MNIST run folder to add to or break (write_run's PCA fit costs seconds on a loaded machine)."""
    import shutil

    return shutil.copytree(run_dir, tmp_path / "run")


def reference_path(model, T):
    """Music.run from the model's start to its goal over T steps: what the page's stepping must equal."""
    run = model.run
    music = Music(run.W, MusicParams(**run.music), grid_shape=run.grid_shape, topology=run.topology, random_state=run.seed)
    kw = {"target": model.target} if model.mode == "informed" else {"cluster": model.cluster} if model.mode != "free" else {}
    return music.run(run.z_test[model.start_index], T, model.mode, **kw)


@pytest.mark.parametrize("mode, goal", [("informed", ("prototype", 7)), ("informed", ("class", 0)), ("cluster", ("class", 2)),
                                        ("cluster_random", ("class", 1)), ("free", ("free", None))])
def test_gmm_stepping_equals_one_music_run(gmm_dir, mode, goal):
    from musicsom.explore.maps import GmmModel
    from musicsom.explore.run import load_gmm

    model = GmmModel(load_gmm(gmm_dir))
    model.set_goal(*goal, mode=mode)
    model.step(2)
    model.step(3)
    ref = reference_path(model, 5)
    assert np.array_equal(model.states(), ref.states) and np.array_equal(model.bmus(), ref.bmus)
    ns: dict = {}
    exec(model.snippet().replace("print(", "_ = ("), ns)
    assert np.array_equal(ns["path"].states, model.states())
    P = model.probs()
    assert P.shape == (6, 3) and np.allclose(P.sum(1), 1)  # the component posterior of every state
    assert model.frame().shape == (2,) and model.mean_distances().shape == (6, 3)
    if goal[0] == "class":  # the region is the pipeline's component_prototypes
        from musicsom.experiments.gmm import component_prototypes

        assert np.array_equal(model.class_units(goal[1]), component_prototypes(model.run.W, model.run.x_train, model.run.y_train, goal[1]))


def test_gmm_posterior_and_its_fallback(tmp_path, gmm_dir):
    from musicsom.explore.maps import GmmModel
    from musicsom.explore.run import load_gmm

    run = load_gmm(gmm_dir)
    assert (run.posterior(run.z_test).argmax(1) == run.y_test).mean() > 0.9  # the mixture's own labels
    paths = GmmModel(run).compare()
    assert set(paths) == {"music", "linear"} and np.allclose(paths["linear"].states[-1], run.W[GmmModel(run).target])
    bare = load_gmm(write_gmm(tmp_path / "run", mixture=False))
    assert bare.posterior is None and any("distances to the component means" in n for n in bare.notes)
    model = GmmModel(bare)
    model.step(2)
    P = model.probs()  # no mixture parameters: the BMU's component, one-hot
    assert np.array_equal(P.argmax(1), bare.labels[model.bmus()]) and set(np.unique(P)) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="no images"):
        model.gif()
    with pytest.raises(ValueError, match="component"):
        model.set_goal("class", 7)


@pytest.mark.parametrize("mode, goal", [("informed", ("prototype", 10)), ("cluster_random", ("cluster", "female")),
                                        ("cluster", ("cluster", "random")), ("informed", ("cluster", "female")),
                                        ("free", ("free", None))])
def test_face_stepping_equals_one_music_run(face_dir, mode, goal):
    from musicsom.experiments.faces import cluster_distance
    from musicsom.explore.maps import FaceModel
    from musicsom.explore.run import load_faces

    model = FaceModel(load_faces(face_dir))
    assert model.start_index == 7 and model.goal_value == "female"  # the pipeline's first start and target cluster
    model.set_goal(*goal, mode=mode)
    model.step(2)
    model.step(2)
    ref = reference_path(model, 4)
    assert np.array_equal(model.states(), ref.states) and np.array_equal(model.bmus(), ref.bmus)
    ns: dict = {}
    exec(model.snippet().replace("print(", "_ = ("), ns)
    assert np.array_equal(ns["path"].states, model.states())
    run = model.run
    assert model.frame().shape == (16, 16, 3) and model.frame().dtype == np.uint8
    assert np.array_equal(model.frame(), run.decode(model.states()[-1:])[0])
    for c, name in enumerate(model.cluster_names):  # the pipeline's cluster distance, per labelled cluster
        assert np.allclose(model.probs()[:, c], cluster_distance(model.states(), run.W, run.clusters[name]))
    if goal[0] == "cluster" and mode == "informed":  # toward the cluster's prototype nearest the start
        units = run.clusters[goal[1]]
        assert model.target == units[np.argmin(((run.W[units] - model.x0) ** 2).sum(1))]


def test_face_exports_and_bad_input(face_dir):
    from PIL import Image

    from musicsom.explore.maps import FaceModel
    from musicsom.explore.run import load_faces

    model = FaceModel(load_faces(face_dir))
    model.step(3)
    rows = list(csv.DictReader(io.StringIO(model.to_csv())))
    assert len(rows) == 4 and "cluster_distance_female" in rows[0] and "identity_drift" in rows[0]
    assert np.array_equal(np.array([[float(r[f"x{d}"]) for d in range(FD)] for r in rows]), model.states())
    assert model.strip_png()[:8] == b"\x89PNG\r\n\x1a\n" and Image.open(io.BytesIO(model.gif())).n_frames == 4
    paths = model.compare()
    assert set(paths) == {"music", "linear"} and paths["linear"].images.shape == (model.horizon + 1, 16, 16, 3)
    assert paths["music"].metrics["cluster_distance_end"] == pytest.approx(model.probs()[-1, 1])
    for call, message in [(lambda: model.set_goal("cluster", "male"), "cluster must be one of"),
                          (lambda: model.set_goal("class", 1), "goal must be one of"),
                          (lambda: model.set_start(cls=3), "no classes"), (lambda: model.set_start(index=20), "index")]:
        with pytest.raises(ValueError, match=message):
            call()


def test_face_identity_is_measured_every_nth_step_and_on_demand(tmp_path):
    """dlib's descriptors (~0.1 s a frame): every faces.identity.every steps on the worker, or on demand."""
    from musicsom.experiments import face_id
    from musicsom.explore.maps import FaceModel
    from musicsom.explore.run import load_faces

    if not face_id.available():
        pytest.skip("dlib or face-recognition-models is not installed (pip install face-recognition-models dlib)")
    model = FaceModel(load_faces(write_faces(tmp_path / "run", every=2)))
    model.step(3)
    steps, drift = model.identity()
    assert steps.tolist() == [0, 2] and drift[0] == 0.0 and np.all(drift >= 0)
    assert model.measure_identity() >= 0 and model.identity()[0].tolist() == [0, 2, 3]
    from musicsom.experiments.face_id import identity_drift

    fid = model.run.face_id()
    desc, _ = fid.describe_many([model.frame(0), model.frame(2)])
    assert drift[1] == pytest.approx(identity_drift(desc[1:], desc[0])[0])  # the pipeline's measure


@pytest.mark.parametrize("experiment, key", [("gmm", "data"), ("gmm", "som"), ("faces", "latent"), ("faces", "som"),
                                             ("faces", "clusters"), ("faces", "autoencoder")])
def test_a_missing_map_file_names_the_rule_that_writes_it(tmp_path, run_dir, experiment, key):
    from musicsom.explore.run import MAP_FILES, load_faces, load_gmm, load_maps

    root = copy_run(run_dir, tmp_path)
    write_gmm(root) if experiment == "gmm" else write_faces(root)
    pattern, rule, _, _ = MAP_FILES[experiment][key]
    (root / pattern.format(seed=0)).unlink()
    expected = rf"{re.escape(pattern.format(seed=0))} is missing: it is written by the rule {rule}"
    with pytest.raises(RunError, match=expected):
        (load_gmm if experiment == "gmm" else load_faces)(root)
    maps, notes = load_maps(root)  # the page still opens, without that map, and says why
    assert experiment not in maps and "mnist" in maps and any(re.search(expected, n) for n in notes)


def test_each_map_file_is_an_output_of_the_rule_named_for_it():
    from musicsom.explore.run import MAP_FILES

    text = "".join(p.read_text() for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    blocks = dict(re.findall(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", text, re.M | re.S))
    for experiment, files in MAP_FILES.items():
        for key, (pattern, rule, _, _) in files.items():
            assert rule in blocks, f"{experiment}.{key}: no rule {rule}"
            name = pattern.rsplit("/", 1)[-1].replace("{seed}", "")
            assert name in blocks[rule], f"{experiment}.{key}: rule {rule} does not write {pattern}"


def test_the_knn_manifold_distance_is_computing_until_the_index_is_ready(tmp_path, run_dir):
    """MNIST: the k-NN index of the training images builds on a background thread; until then the metric says so."""
    from musicsom.encoding import flatten_images
    from musicsom.explore.model import COMPUTING
    from musicsom.image_metrics import KnnIndex

    root = copy_run(run_dir, tmp_path)
    rng = np.random.default_rng(0)
    lat = np.load(root / "results/mnist/latent.npz")
    (root / "results/data").mkdir()
    np.savez(root / "results/data/digits.npz",
             x_train=rng.integers(0, 256, (150, 28, 28), dtype=np.uint8), y_train=np.arange(150) % 10,
             x_test=rng.integers(0, 256, (len(lat["y_test"]), 28, 28), dtype=np.uint8), y_test=lat["y_test"])
    run = load_run(root)
    assert run.pix_train.shape == (150, 784) and run.knn_state() == "idle"
    model = ExploreModel(run)
    model.set_goal("prototype", 4)
    model.step(3)
    assert model.compare()["music"].metrics["manifold_distance"] == COMPUTING  # the first call starts the build
    run._knn.result(timeout=60)
    assert model.fill_manifold() and run.knn_state() == "ready"
    paths = model.compare()
    knn = KnnIndex(flatten_images(np.load(root / "results/data/digits.npz")["x_train"]).astype(np.float32))
    for name in ("music", "linear"):
        expect = knn.mean_distance(paths[name].images.reshape(len(paths[name].images), -1), 5).mean()
        assert paths[name].metrics["manifold_distance"] == pytest.approx(expect)
    model.step(1)  # a step measures its new frame on the worker
    assert not np.isnan(model._manifold).any() and len(model._manifold) == 5


def test_the_gmm_and_face_pages_build_and_step_without_a_server(run_dir, tmp_path):
    pytest.importorskip("panel")
    from musicsom.explore.app import ExplorerPage, FaceView, GmmView
    from musicsom.explore.run import load_maps

    root = write_faces(write_gmm(copy_run(run_dir, tmp_path)))
    maps, notes = load_maps(root)
    assert list(maps) == ["mnist", "gmm", "faces"] and notes == []
    page = ExplorerPage(maps)
    for name, cls in (("gmm", GmmView), ("faces", FaceView)):
        view = page.show(name)
        assert isinstance(view, cls) and page.body.objects == [view.layout]
        for _ in range(3):
            assert view.advance(1)
        assert view.model.t == 3 and f"data-map='{name}'" in view.status.object and "data-step='3'" in view.status.object
        assert len(view.prob_src.data["step"]) == 4 and not view.errors
    assert page.show("mnist").model.t == 0  # each map keeps its own path
    with pytest.raises(ValueError, match="no planet map"):
        page.view("planet")
