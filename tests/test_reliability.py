"""Failure behaviour: bad configs are refused before any job runs, bad library inputs raise ValueError.

Config cases run ``snakemake -n`` in a temporary folder holding the smoke config with one fault
(all cases at once, four at a time, in a module fixture); each must exit non-zero, leave no
``results/`` behind, and name the key and what it allows. Library cases call the public API with
NaN/inf, wrong shapes, empty index sets and degenerate prototypes; a property test throws random
shapes and values at the whole API and accepts no exception other than ValueError (RankError is
one), and not numpy's LinAlgError (also a ValueError) either: that one would be a solver failing,
not an argument being refused.
"""

from __future__ import annotations

import copy
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SCHEMA, SMOKE, snakemake
from musicsom import metrics
from musicsom.inversion import Inverter, RankError, activations, invert, invert_with_bmu_anchor
from musicsom.music import Music, MusicParams
from musicsom.som import SOM, best_matching_units, quantization_error, topographic_error



def schema_has(path: str) -> bool:
    node = SCHEMA
    for key in path.split("."):
        node = node.get("properties", {})
        if key not in node:
            return False
        node = node[key]
    return True


def edit(path: str, value):
    """A function that sets ``path`` (dot-separated) in a config dict, creating sections on the way."""

    def apply(cfg):
        *parents, leaf = path.split(".")
        node = cfg
        for key in parents:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[leaf] = value
        return cfg

    return apply


def first_latent_key(section: str) -> str | None:
    for key in ("latent_dim", "pca_components", "dim"):
        if schema_has(f"{section}.{key}"):
            return key
    return None


# (id, edit, required schema key or None, substrings the message must contain)
CASES = [
    ("unknown_top_key", edit("gmmm", {}), None, ["gmmm: unknown key", "Allowed keys", "gmm", "seeds"]),
    ("unknown_nested_key", edit("gmm.som.epochz", 5), None, ["gmm.som.epochz: unknown key", "epochs", "rows"]),
    ("wrong_type", edit("gmm.mixture.dim", "ten"), None, ["gmm.mixture.dim = 'ten'", "not of type 'integer'", "Allowed: integer"]),
    ("negative_steps", edit("gmm.trajectories.n_steps", -5), None, ["gmm.trajectories.n_steps = -5", ">= 1"]),
    ("alpha_above_one", edit("gmm.music.alpha", 1.5), None, ["gmm.music.alpha = 1.5", ">= 0", "<= 1"]),
    ("alpha_below_zero", edit("gmm.music.alpha", -0.1), None, ["gmm.music.alpha = -0.1", ">= 0", "<= 1"]),
    ("lambda_zero", edit("gmm.music.lam", 0), None, ["gmm.music.lam = 0", "> 0"]),
    ("lambda_negative", edit("gmm.music.lam", -0.01), None, ["gmm.music.lam = -0.01", "> 0"]),
    ("kappa_above_one", edit("gmm.music.kappa", 2.0), None, ["gmm.music.kappa = 2.0", "<= 1"]),
    ("som_too_small", lambda c: edit("gmm.som", {"rows": 2, "cols": 2})(c), None,
     ["gmm.som", "K = 4", "gmm.mixture.dim + 1 = 5", "cannot be inverted"]),
    ("noise_m_below_rank", edit("gmm.inversion.noise_m_values", [3, 10]), None,
     ["gmm.inversion.noise_m_values", "[3]", "D + 1"]),
    ("unknown_topology", edit("gmm.som.topology", "triangular"), None,
     ["gmm.som.topology = 'triangular'", "'rectangular'", "'toroidal'"]),
    ("unknown_dataset", edit("data.digits", "cifar10"), "data.digits",
     ["data.digits = 'cifar10'", "'mnist'", "'fashion_mnist'"]),
    ("duplicate_seeds", edit("seeds", [0, 0]), None, ["seeds = [0, 0]", "non-unique", "no duplicates"]),
    ("empty_seeds", edit("seeds", []), None, ["seeds = []", "at least 1 item"]),
    ("missing_mirror", edit("data.mirror", "/nonexistent/musicsom-mirror"), "data.mirror",
     ["data.mirror", "/nonexistent/musicsom-mirror", "does not exist"]),
    ("empty_pairs", edit("mnist.pairs", []), "mnist.pairs", ["mnist.pairs = []", "at least 1 item"]),
    ("mnist_som_too_small", "mnist_som_too_small", None, ["mnist.som", "K = 25", "+ 1 = 51", "cannot be inverted"]),
    ("faces_som_too_small", "faces_som_too_small", None, ["faces.som", "K = 25", "faces.pca_components + 1 = 51", "cannot be inverted"]),
    # non-finite numbers: the schema's bounds let NaN through, and .inf collapses a map
    ("nan_sigma", edit("gmm.som.sigma_end", float("nan")), None, ["gmm.som.sigma_end = nan", "must be finite"]),
    ("inf_sigma", edit("gmm.som.sigma_end", float("inf")), None, ["gmm.som.sigma_end = inf", "must be finite"]),
    ("nan_in_list", edit("mnist.sweep.alpha", [0.3, float("nan")]), None, ["mnist.sweep.alpha[1] = nan", "must be finite"]),
    ("growing_neighbourhood", edit("gmm.som.sigma_start", 0.5), None,
     ["gmm.som.sigma_end = 1.0", "larger than gmm.som.sigma_start = 0.5", "grow"]),
    ("component_beyond_mixture", edit("gmm.trajectories.component", 3), None,
     ["gmm.trajectories.component = 3", "3-component mixture", "0..2"]),
    ("more_starts_than_points", edit("gmm.trajectories.n_starts", 400), None,
     ["gmm.trajectories.n_starts = 400", "300 test points", "gmm.mixture.n_test"]),
    ("random_init_too_few_images", edit("mnist.n_train", 50), None,
     ["mnist.som.init = random", "only 50 training samples", "64 units"]),
    # "every other prototype" is null, never 0; a ring needs a lattice, which the k-means control has not
    ("ring_zero", edit("mnist.music.preserve_ring", 0), None, ["mnist.music.preserve_ring = 0", ">= 1"]),
    ("ring_with_kmeans", edit("mnist.music.preserve_ring", 1), None,
     ["mnist.music.preserve_ring = 1", "k-means", "preserve_ring to null"]),
    # the YAML text itself (written as is, not through a dict)
    ("duplicate_key", "text:seeds: [7]\n", None, ["duplicate key 'seeds'", "first at line", "remove one"]),
    ("invalid_yaml", "text:gmm: {dim: [4\n", None, ["config.yaml, line", "column", "Fix the YAML"]),
    ("unreadable_mirror_env", "env:MUSICSOM_DATA_MIRROR=/nonexistent/env-mirror", None,
     ["$MUSICSOM_DATA_MIRROR", "/nonexistent/env-mirror", "does not exist"]),
]


def _som_too_small(section: str, cfg: dict) -> dict:
    """A 5×5 map (K = 25) for a 50-dimensional latent space: K < D + 1."""
    cfg.setdefault(section, {})
    cfg[section][first_latent_key(section)] = 50
    cfg[section]["som"] = {**cfg[section].get("som", {}), "rows": 5, "cols": 5}
    return cfg


def missing(case) -> str | None:
    """Why a case cannot run against the current schema (a key it needs is not there yet), else None."""
    name, change, needs, _ = case
    if needs is not None and not schema_has(needs):
        return f"the schema has no {needs} yet"
    if change in ("mnist_som_too_small", "faces_som_too_small"):
        section = change.split("_")[0]
        if not (schema_has(f"{section}.som.rows") and schema_has(f"{section}.som.cols")):
            return f"the schema has no {section}.som.rows/cols yet"
        if first_latent_key(section) is None:
            return f"the schema names no latent dimension of {section} (latent_dim / pca_components / dim)"
    return None


def make_config(case) -> dict:
    _, change, _, _ = case
    cfg = copy.deepcopy(SMOKE)
    if change == "mnist_som_too_small":
        return _som_too_small("mnist", cfg)
    if change == "faces_som_too_small":
        return _som_too_small("faces", cfg)
    if isinstance(change, str):  # text or environment cases start from the valid smoke config
        return cfg
    return change(cfg)


def _dry_run(case, base: Path):
    workdir = base / case[0]
    workdir.mkdir()
    text = yaml.safe_dump(make_config(case))
    env = {}
    change = case[1]
    if isinstance(change, str) and change.startswith("text:"):
        text += change[len("text:"):]
    if isinstance(change, str) and change.startswith("env:"):
        key, value = change[len("env:"):].split("=", 1)
        env[key] = value
    (workdir / "config.yaml").write_text(text)
    proc = snakemake(workdir, "-n", timeout=600, check=False, env=env)
    return workdir, proc.returncode, proc.stdout


@pytest.fixture(scope="module")
def rejected(tmp_path_factory):
    """Every config case dry-run once (in parallel); {case id: (workdir, exit code, output)}."""
    base = tmp_path_factory.mktemp("bad_configs")
    runnable = [c for c in CASES if missing(c) is None]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda c: _dry_run(c, base), runnable))
    return {c[0]: r for c, r in zip(runnable, results)}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_config_is_rejected_before_any_job(case, rejected):
    name, _, _, expected = case
    if (why := missing(case)) is not None:
        pytest.skip(why)
    workdir, code, out = rejected[name]
    assert code != 0, f"{name}: snakemake accepted the config:\n{out[-3000:]}"
    assert not (workdir / "results").exists(), f"{name}: results/ was created before the config was refused"
    assert "Job stats" not in out, f"{name}: a DAG was built"
    for text in expected:
        assert text in out, f"{name}: the message lacks {text!r}:\n{out[-3000:]}"


def test_smoke_config_itself_is_valid():
    """The base of every case above is valid, so each failure comes from its one fault."""
    import jsonschema

    jsonschema.Draft202012Validator(SCHEMA).validate(copy.deepcopy(SMOKE))


# ---------------------------------------------------------------- library inputs
RNG = np.random.default_rng(0)
W8 = RNG.standard_normal((12, 3))
X8 = RNG.standard_normal((40, 3))


def _with(a, index, value):
    a = np.array(a, dtype=float)
    a[index] = value
    return a


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize(
    "call, name",
    [
        (lambda v: Inverter(_with(W8, (2, 1), v)), "prototypes"),
        (lambda v: Inverter(W8).invert(_with(activations(X8[0], W8), 3, v)), "activations"),
        (lambda v: invert_with_bmu_anchor(_with(activations(X8[:4], W8), (1, 2), v), W8), "activations"),
        (lambda v: Inverter(W8, noise_cov=_with(np.eye(11), (0, 0), v)), "noise_cov"),
        (lambda v: activations(_with(X8, (0, 0), v), W8), "X"),
        (lambda v: SOM((3, 3), epochs=2).fit(_with(X8, (5, 1), v)), "X"),
        (lambda v: best_matching_units(X8, _with(W8, (0, 0), v)), "prototypes"),
        (lambda v: Music(_with(W8, (4, 2), v)), "prototypes"),
        (lambda v: Music(W8).run(_with(X8[0], 1, v), 3, "informed", target=2), "x"),
        (lambda v: Music(W8, MusicParams(alpha=v)), "alpha"),
        (lambda v: Music(W8, MusicParams(lam=v)), "lam"),
        (lambda v: metrics.trajectory_summary(_with(X8[:6], (2, 0), v), np.zeros(6, int)), "states"),
        (lambda v: metrics.geodesic_efficiency(_with(X8[:6], (5, 2), v)), "states"),
    ],
)
def test_non_finite_values_are_refused_by_name(call, name, bad):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call(bad)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: Inverter(W8[0]), "prototypes"),
        (lambda: Inverter(W8).invert(np.zeros(5)), "activations"),
        (lambda: Inverter(W8).invert(np.zeros((2, 3, 12))), "activations"),
        (lambda: Inverter(W8, reference=12), "reference"),
        (lambda: Inverter(W8, subset=[0, 1, 99]), "subset"),
        (lambda: Inverter(W8, noise_cov=np.eye(3)), "noise_cov"),
        (lambda: invert_with_bmu_anchor(np.zeros(12), W8), "activations"),
        (lambda: invert_with_bmu_anchor(activations(X8[:3], W8), W8, m=1), "m"),
        (lambda: activations(X8[:, :2], W8), "X"),
        (lambda: SOM((3, 3)).fit(X8[:, 0]), "X"),
        (lambda: SOM((3, 3)).fit(X8[:1]), "X"),
        (lambda: SOM((0, 3)).fit(X8), "grid_shape"),
        (lambda: best_matching_units(X8[:, :2], W8), "X"),
        (lambda: best_matching_units(X8, W8, n_best=13), "n_best"),
        (lambda: topographic_error(X8, W8, (3, 3)), "grid_shape"),
        (lambda: Music(W8).run(X8[0, :2], 3, "informed", target=1), "x"),
        (lambda: Music(W8).run(X8[0], -1, "informed", target=1), "n_steps"),
        (lambda: Music(W8).run(X8[0], 3, "sideways"), "mode"),
        (lambda: Music(W8, grid_shape=(5, 5)), "grid_shape"),
        (lambda: metrics.step_cosines(X8[:1]), "states"),
        (lambda: metrics.transition_rate([3]), "bmus"),
    ],
)
def test_wrong_shapes_are_refused_by_name(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: Music(W8).step(X8[0], [], -1.0), "targets"),
        (lambda: Music(W8).step(X8[0], [2], -1.0, preserved=[]), "preserved"),
        (lambda: Music(W8).run(X8[0], 3, "cluster", cluster=[]), "cluster"),
        (lambda: Music(W8).run(X8[0], 3, "cluster_random", cluster=np.array([], int)), "cluster"),
        (lambda: Music(W8).step(X8[0], [2, 2], -1.0), "targets"),
        (lambda: Music(W8).step(X8[0], [2], -1.0, preserved=[2, 3]), "preserved"),
        (lambda: Inverter(W8, subset=[]), "subset"),
        (lambda: metrics.dwell_lengths([]), "bmus"),
    ],
)
def test_empty_or_overlapping_index_sets_are_refused_by_name(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()


def test_duplicate_and_rank_deficient_prototypes_are_refused():
    dup = np.vstack([W8, W8[3:4]])
    with pytest.raises(ValueError, match=r"prototypes holds duplicate rows"):
        Music(dup)
    flat = np.column_stack([W8[:, :2], np.zeros(12)])  # every prototype in one plane of R³
    with pytest.raises(RankError, match=r"prototypes.*D \+ 1 = 4"):
        Inverter(flat)
    with pytest.raises(RankError, match=r"rank 2 < D = 3"):
        invert(activations(X8[0], flat), flat)
    with pytest.raises(RankError):
        invert_with_bmu_anchor(activations(X8[:3], W8), W8, m=3)  # m = D: one prototype short
    # a duplicate of the anchor adds a zero row: fine while the rest has full rank
    x = Inverter(dup, reference=3).invert(activations(X8[0], dup))
    np.testing.assert_allclose(x, X8[0], atol=1e-10)


# ---------------------------------------------------------------- property test: nothing but ValueError
# Half of the examples are well-formed (so that the deep code paths run), half hostile: special
# values, empty or zero-width shapes, out-of-range indices and parameters.
special = st.sampled_from([0.0, 1e-300, -1e-300, 1e150, -1e150, np.nan, np.inf, -np.inf])
finite_or_not = st.one_of(st.floats(-1e3, 1e3, allow_nan=False), special)


@st.composite
def arrays(draw, shape, clean=False):
    n = int(np.prod(shape))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([1e-6, 1.0, 1e3] if clean else [1e-8, 1.0, 1e4, 1e150]))
    a = np.random.default_rng(seed).standard_normal(shape) * scale
    if len(shape) == 2 and shape[0] > 2 and draw(st.booleans()):  # repeat a row: duplicates, ties, rank loss
        a[-1] = a[0]
    if not clean and n and draw(st.booleans()):
        for _ in range(draw(st.integers(1, 3))):
            a.flat[draw(st.integers(0, n - 1))] = draw(special)
    return a


def _allowed(exc: BaseException) -> bool:
    return isinstance(exc, ValueError) and not isinstance(exc, np.linalg.LinAlgError)


def _call(fn, *args, **kwargs):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow to inf/nan in extreme inputs is not a crash
            return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the point of the test
        if not _allowed(exc):
            raise AssertionError(f"{fn.__qualname__} raised {type(exc).__name__}: {exc}") from exc
        assert str(exc), f"{fn.__qualname__} raised an empty {type(exc).__name__}"
        return None


# MUSICSOM_PROPERTY_EXAMPLES=2000 for a longer search than CI's
PROPERTY = settings(max_examples=int(os.environ.get("MUSICSOM_PROPERTY_EXAMPLES", 150)), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(data=st.data(), clean=st.booleans())
def test_inversion_and_metrics_raise_nothing_but_value_errors(data, clean):
    K = data.draw(st.integers(2, 12) if clean else st.integers(0, 9))
    D = data.draw(st.integers(1, 5) if clean else st.integers(0, 5))
    n = data.draw(st.integers(1, 6) if clean else st.integers(0, 6))
    W = data.draw(arrays((K, D), clean))
    X = data.draw(arrays((n, D), clean))
    A = _call(activations, X, W) if clean else data.draw(arrays((n, K)))
    A = data.draw(arrays((n, K))) if A is None else A
    ref = data.draw(st.integers(0, K - 1) if clean else st.integers(-1, K + 1))
    subset = data.draw(st.one_of(st.none(), st.lists(st.integers(0, K - 1) if clean else st.integers(-1, K), max_size=K, unique=clean)))
    if clean and subset is not None and ref not in subset:
        subset = [ref, *subset]
    cov = None if clean or data.draw(st.booleans()) else data.draw(arrays((2, 2)))
    inv = _call(Inverter, W, ref, subset, cov, data.draw(st.booleans()))
    if inv is not None:
        _call(inv.invert, A)
        _call(inv.invert, A[0] if n else np.zeros(K))
        _call(inv.error_bound, A if clean else data.draw(arrays((n, max(K - 1, 0)))))
        _ = inv.sigma_min, inv.condition_number
    m = data.draw(st.one_of(st.none(), st.integers(2, K) if clean else st.integers(-1, K + 1)))
    _call(invert_with_bmu_anchor, A, W, m, data.draw(st.booleans()))
    _call(invert, A[0] if n else np.zeros(K), W, None, None, data.draw(st.booleans()))
    T = data.draw(st.integers(2, 8) if clean else st.integers(0, 8))
    states = data.draw(arrays((T, D), clean))
    bmus = data.draw(st.lists(st.integers(0, 3), min_size=T, max_size=T) if clean else st.lists(st.integers(0, 3), max_size=9))
    _call(metrics.trajectory_summary, states, bmus)
    _call(metrics.cosines_to_first, states)
    _call(metrics.convergence_ratio, states, data.draw(arrays((D,), clean)))
    _call(metrics.median_iqr, data.draw(arrays((T,), clean)))


@PROPERTY
@given(
    data=st.data(),
    clean=st.booleans(),
    mode=st.sampled_from(["informed", "cluster", "cluster_random", "free"]),
    ring=st.sampled_from([None, None, 1, 2]),
)
def test_music_raises_nothing_but_value_errors(data, clean, mode, ring):
    w_clean = clean or data.draw(st.booleans())  # hostile run/step arguments need a map that was accepted
    K = data.draw(st.integers(2, 16) if w_clean else st.integers(0, 9))
    D = data.draw(st.integers(1, 6) if w_clean else st.integers(0, 5))
    W = data.draw(arrays((K, D), w_clean))
    if w_clean:
        W = np.unique(W, axis=0)
        K = W.shape[0]
    x0 = data.draw(arrays((D + (0 if clean or data.draw(st.booleans()) else 1),), clean))
    if clean or data.draw(st.booleans()):  # hostile data with sound parameters half of the time
        params = dict(
            alpha=data.draw(st.floats(0, 1)), lam=data.draw(st.sampled_from([1e-12, 1e-4, 0.01, 10.0])),
            kappa=data.draw(st.sampled_from([1e-3, 0.1, 1.0])), eta=data.draw(st.sampled_from([1e-3, 0.2, 5.0])),
            per_row_mean=data.draw(st.booleans()), normalise_rows=data.draw(st.booleans()),
            solver=data.draw(st.sampled_from(["auto", "primal", "dual"])), cluster_passes=data.draw(st.integers(1, 3)),
            sigma_step=data.draw(st.sampled_from([0.0, 0.1])), sigma_target=data.draw(st.sampled_from([0.0, 0.1])),
            jitter=data.draw(st.sampled_from([0.0, 1e-3])), radial_pull=data.draw(st.sampled_from([0.0, 0.3])),
        )
    else:
        params = dict(alpha=data.draw(st.sampled_from([0.5, 1.5, -0.1, np.nan])), lam=data.draw(st.sampled_from([0.01, 0.0, -1.0, np.inf])),
                      solver=data.draw(st.sampled_from(["auto", "qr"])), cluster_passes=data.draw(st.integers(0, 2)))
    side = data.draw(st.integers(1, 4))
    grid = (side, K // side) if ring is not None and K and K % side == 0 else None
    p = _call(MusicParams, preserve_ring=ring if (grid or not clean) else None, **params)
    music = _call(Music, W, p, grid, data.draw(st.sampled_from(["rectangular", "toroidal"])), 0)
    if music is None:
        return
    idx = st.integers(0, K - 1) if clean else st.integers(-1, K)
    target = data.draw(idx)
    cluster = data.draw(st.lists(idx, min_size=1 if clean else 0, max_size=min(K, 4), unique=clean))
    steps = data.draw(st.integers(0, 4) if clean else st.integers(-1, 2))
    tr = _call(music.run, x0, steps, mode, target=target, cluster=cluster)
    if clean and tr is not None and tr.states.shape[0] > 2:
        _call(metrics.trajectory_summary, tr.states, tr.bmus)
    targets = data.draw(st.lists(idx, min_size=1 if clean else 0, max_size=3, unique=clean))
    others = [i for i in range(K) if i not in targets]
    preserved = data.draw(st.one_of(st.none(), st.lists(st.sampled_from(others), min_size=1, max_size=4, unique=True))) if clean and others else (
        None if clean else data.draw(st.one_of(st.none(), st.lists(idx, max_size=4))))
    delta = data.draw(st.floats(-10, 10) if clean else finite_or_not)
    _call(music.step, x0, targets, delta, preserved)


@PROPERTY
@given(data=st.data(), clean=st.booleans())
def test_som_raises_nothing_but_value_errors(data, clean):
    if clean:
        n, D = data.draw(st.integers(2, 40)), data.draw(st.integers(1, 4))
        grid = data.draw(st.tuples(st.integers(1, 4), st.integers(1, 4)).filter(lambda g: g[0] * g[1] >= 2))
        epochs = data.draw(st.integers(1, 3))
        init = data.draw(st.sampled_from(["pca", "random"]))
        topology = data.draw(st.sampled_from(["rectangular", "toroidal"]))
        end = data.draw(st.sampled_from([0.1, 1.0]))
        start = data.draw(st.sampled_from([None, end, 3.0 * end]))
        dtype = data.draw(st.sampled_from(["float64", "float32"]))
    else:
        n, D = data.draw(st.integers(0, 30)), data.draw(st.integers(0, 4))
        grid = data.draw(st.tuples(st.integers(-1, 4), st.integers(-1, 4)))
        epochs = data.draw(st.integers(-1, 3))
        init = data.draw(st.sampled_from(["pca", "random", "kmeans"]))
        topology = data.draw(st.sampled_from(["rectangular", "toroidal", "hexagonal"]))
        start, end = data.draw(st.sampled_from([None, 0.5, -1.0])), data.draw(st.sampled_from([1.0, 0.0]))
        dtype = data.draw(st.sampled_from(["float64", "float16"]))
    X = data.draw(arrays((n, D), clean))
    som = SOM(grid, topology, epochs, start, end, init, 0, chunk_size=data.draw(st.sampled_from([1, 7, 8192])), bmu_dtype=dtype,
              n_threads=data.draw(st.sampled_from([None, 1, 2])))
    fitted = _call(som.fit, X)
    if fitted is not None:
        W = fitted.prototypes_
        assert W.shape == (grid[0] * grid[1], D)
        if clean:
            assert np.all(np.isfinite(W))
        _call(quantization_error, X, W)
        _call(topographic_error, X, W, grid, topology)
        _call(best_matching_units, X, W, data.draw(st.integers(0, 3)))
        _call(fitted.bmu, X)


# ---------------------------------------------------------------- the fast SOM equals the textbook batch rule
def _textbook_batch_som(X, W, grid_shape, topology, sigmas):
    """Dense K × K Gaussian kernel, explicit squared distances, per-unit sums by np.add.at."""
    rows, cols = grid_shape
    r, c = np.divmod(np.arange(rows * cols), cols)
    dr, dc = np.abs(r[:, None] - r[None, :]), np.abs(c[:, None] - c[None, :])
    if topology == "toroidal":
        dr, dc = np.minimum(dr, rows - dr), np.minimum(dc, cols - dc)
    d2 = (dr**2 + dc**2).astype(float)
    for sigma in sigmas:
        bmu = (((X[:, None, :] - W[None, :, :]) ** 2).sum(2)).argmin(1)
        sums = np.zeros_like(W)
        np.add.at(sums, bmu, X)
        counts = np.bincount(bmu, minlength=W.shape[0]).astype(float)
        H = np.exp(-d2 / (2 * sigma**2))
        denom, numer = H @ counts, H @ sums
        ok = denom > 1e-12 * denom.max()
        W = np.where(ok[:, None], numer / np.where(ok, denom, 1.0)[:, None], W)
    return W


@pytest.mark.parametrize("topology, grid", [("rectangular", (7, 5)), ("toroidal", (6, 6))])
def test_fast_som_equals_textbook_batch_rule_whatever_the_threads(topology, grid):
    X = np.random.default_rng(3).standard_normal((2000, 6))
    fits = [SOM(grid, topology, epochs=6, n_threads=t, chunk_size=cs).fit(X) for t, cs in ((1, 8192), (2, 300), (3, 64))]
    W0 = fits[0].initial_prototypes(X, grid)
    ref = _textbook_batch_som(X, W0, grid, topology, fits[0].sigmas(grid))
    for som in fits:
        np.testing.assert_allclose(som.prototypes_, ref, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(fits[0].prototypes_, fits[1].prototypes_)  # threads and blocks change nothing
    np.testing.assert_array_equal(fits[0].prototypes_, fits[2].prototypes_)


def test_schema_nodes_hold_only_json_schema_keywords():
    """A flow-style description with an unquoted comma makes YAML read part of it as a key (it happened twice)."""
    keywords = {"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "default", "description", "enum",
                "properties", "additionalProperties", "items", "minItems", "maxItems", "uniqueItems", "required", "$schema",
                "title", "anyOf", "oneOf", "const", "pattern"}
    stray = []

    def walk(node, path):
        if isinstance(node, dict):
            if {"properties", "type", "enum", "anyOf", "const"} & set(node):
                stray.extend(f"{path}: {k!r}" for k in set(node) - keywords)
            for key, sub in node.get("properties", {}).items():
                walk(sub, f"{path}.{key}")
            if isinstance(node.get("items"), dict):
                walk(node["items"], f"{path}[]")

    walk(SCHEMA, "")
    assert not stray, f"schema nodes with keys that are not JSON-schema keywords (unquoted commas?): {stray}"


def test_a_stage_stopped_by_sigterm_leaves_neither_output_nor_temporary_file(tmp_path):
    """Snakemake stops jobs with SIGTERM; an atomic write in progress must leave nothing behind."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "figure.png"
    script = tmp_path / "stage.py"
    script.write_text(
        "import time\n"
        "from musicsom.pipeline import files\n"
        "def main(argv):\n"
        f"    with files.atomic_path({str(out)!r}) as tmp:\n"
        "        tmp.write_bytes(b'partial')\n"
        "        print('writing', flush=True)\n"
        "        time.sleep(60)\n"
        "files.run_main(main)\n"
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    assert len(list(tmp_path.glob(".figure.png.*"))) == 1  # the temporary file exists while the stage writes
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    time.sleep(0.1)
    assert not out.exists()
    assert list(tmp_path.glob(".figure.png.*")) == []


def test_rewriting_an_output_removes_the_temporary_files_of_a_killed_writer(tmp_path):
    """After a SIGKILL the temporary file stays; the rerun that writes the same output removes it."""
    import signal
    import subprocess
    import sys

    from musicsom.pipeline import files

    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom musicsom.pipeline import files\n"
         f"with files.atomic_path({str(tmp_path / 'fig.png')!r}) as tmp:\n"
         "    tmp.write_bytes(b'partial')\n    print('writing', flush=True)\n    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    writer.send_signal(signal.SIGKILL)  # a killed job: its temporary file stays (it names the writer's PID)
    writer.wait(timeout=30)
    assert len(list(tmp_path.glob(".fig.png.*"))) == 1
    (tmp_path / ".other.png.abc123.png").write_bytes(b"someone else's")
    files.save_json(tmp_path / "fig.png", {"a": 1})  # any atomic write of fig.png
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.png.abc123.png", "fig.png"]
