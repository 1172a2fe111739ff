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
    torch.save(checkpoint(clf, []), mnist / "classifier.pt")
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
    code = ("import sys, musicsom, musicsom.explore, musicsom.explore.model\n"
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
