"""The optional torch backend (musicsom._torch_backend) gives the numpy path's results, on the CPU.

``SOM(..., backend="torch")`` against the numpy fit: the same prototypes to round-off (float64) and the
same BMUs, on every lattice and both BMU precisions, with the same history and callback calls.
``Music.run_batch(..., backend="torch")`` against the numpy engine: the same states to round-off, the
same BMUs, clipped flags and targets, in informed and cluster_random modes, all-preserved and ring
neighbourhoods, with noise, and on maps scaled far out of the plain range (where steps fall back to the
numpy engine). The errors: a bad backend or device name, a missing torch, a missing CUDA device.
Every test runs on the CPU (never needs a GPU); the module's doctests run here as well, since the
documentation tests collect only the library modules, which need no torch.
"""

from __future__ import annotations

import doctest
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import musicsom._torch_backend as tb  # noqa: E402
from musicsom.music import Music, MusicParams  # noqa: E402
from musicsom.som import SOM  # noqa: E402

RTOL_SOM = 1e-10
ATOL_MUSIC = 1e-9


def _rel(a, b) -> float:
    return float(np.abs(a - b).max() / np.abs(a).max())


# ---------------------------------------------------------------- SOM.fit
@pytest.fixture(scope="module")
def som_data():
    rng = np.random.default_rng(1)
    centres = 3.0 * rng.standard_normal((5, 6))
    return centres[rng.integers(0, 5, 1500)] + rng.standard_normal((1500, 6))


@pytest.mark.parametrize("topology, grid", [("rectangular", (7, 6)), ("toroidal", (6, 6)),
                                            ("hexagonal", (7, 5)), ("hexagonal_toroidal", (6, 5))])
@pytest.mark.parametrize("bmu_dtype", ["float64", "float32"])
def test_som_fit_matches_numpy(som_data, topology, grid, bmu_dtype):
    kw = dict(grid_shape=grid, topology=topology, epochs=10, bmu_dtype=bmu_dtype)
    a = SOM(**kw).fit(som_data)
    seen = []
    b = SOM(**kw, backend="torch", device="cpu").fit(som_data, callback=lambda e, s, W: seen.append((e, s, W.copy())))
    assert type(b.prototypes_) is np.ndarray and b.prototypes_.dtype == np.float64
    assert _rel(a.prototypes_, b.prototypes_) < RTOL_SOM
    assert np.array_equal(a.predict(som_data), b.predict(som_data))
    assert a.history_ == b.history_
    assert [e for e, _, _ in seen] == list(range(10)) and [s for _, s, _ in seen] == [h["sigma"] for h in a.history_]
    assert np.array_equal(seen[-1][2], b.prototypes_)


def test_som_fit_matches_numpy_on_far_data_and_random_init(som_data):
    # data far from the origin: the BMU search runs in fit's frame (centred), on both backends
    X = som_data + 1e7
    for kw in (dict(), dict(init="random", random_state=3, sigma_start=2.0)):
        a = SOM((5, 5), epochs=6, **kw).fit(X)
        b = SOM((5, 5), epochs=6, backend="torch", **kw).fit(X)
        assert _rel(a.prototypes_, b.prototypes_) < RTOL_SOM
        assert np.array_equal(a.predict(X), b.predict(X))


def test_som_torch_params_are_stored_saved_and_loaded(tmp_path, som_data):
    som = SOM((4, 4), epochs=3, backend="torch", device="auto")
    assert som.get_params()["backend"] == "torch" and som.get_params()["device"] == "auto"
    assert repr(som) == "SOM(grid_shape=(4, 4), epochs=3, backend='torch', device='auto')"
    som.fit(som_data)
    som.save(tmp_path / "som.npz")
    twin = SOM.load(tmp_path / "som.npz")
    assert twin.get_params() == som.get_params()
    assert np.array_equal(twin.prototypes_, som.prototypes_)


def test_som_loads_a_save_written_before_the_backend_parameters(tmp_path, som_data, monkeypatch):
    # saves of earlier versions hold no backend/device: they load with the numpy defaults
    import musicsom.som as som_module

    real = som_module._params_to_json
    monkeypatch.setattr(som_module, "_params_to_json",
                        lambda p: real({k: v for k, v in p.items() if k not in ("backend", "device")}))
    SOM((3, 3), epochs=2).fit(som_data).save(tmp_path / "old.npz")
    monkeypatch.undo()
    twin = SOM.load(tmp_path / "old.npz")
    assert twin.backend == "numpy" and twin.device == "cpu"


# ---------------------------------------------------------------- Music.run_batch
@pytest.fixture(scope="module")
def music_setup():
    rng = np.random.default_rng(0)
    W = SOM((6, 5), epochs=8).fit(rng.standard_normal((600, 5))).prototypes_
    X0 = 1.2 * rng.standard_normal((10, 5))
    targets = rng.integers(0, 30, 10)
    return W, X0, targets


CASES = {
    "all": dict(),
    "ring": dict(preserve_ring=1),
    "ring2-per-row-mean": dict(preserve_ring=2, per_row_mean=True),
    "raw-rows-dual": dict(normalise_rows=False, lam=0.1, solver="dual"),
    "noise": dict(sigma_step=0.01, sigma_target=0.1, jitter=0.05),
    "ring-noise": dict(preserve_ring=1, sigma_step=0.02, jitter=0.05, sigma_target=0.1),
}


def _pair(W, params, mode, X0, run_kw, scale=1.0, steps=20, **music_kw):
    def run(**backend):
        music = Music(W * scale, params, grid_shape=(6, 5), random_state=3, **music_kw)
        return music.run_batch(X0 * scale, steps, mode, **run_kw, **backend)

    return run(), run(backend="torch", device="cpu")


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("mode", ["informed", "cluster_random"])
def test_run_batch_matches_numpy(music_setup, case, mode):
    W, X0, targets = music_setup
    run_kw = dict(targets=targets) if mode == "informed" else dict(cluster=[0, 3, 7, 12])
    a, b = _pair(W, MusicParams(**CASES[case]), mode, X0, run_kw)
    assert type(b.states) is np.ndarray and b.states.shape == a.states.shape
    assert np.abs(a.states - b.states).max() <= ATOL_MUSIC * max(1.0, np.abs(a.states).max())
    assert np.array_equal(a.bmus, b.bmus)
    assert np.array_equal(a.clipped, b.clipped) and a.clipped.any()
    assert np.array_equal(a.targets, b.targets)


@pytest.mark.parametrize("scale", [1e160, 1e-160])
@pytest.mark.parametrize("ring", [None, 1])
def test_run_batch_matches_numpy_far_out_of_range(music_setup, scale, ring):
    # squared distances beyond float64's plain range: those steps run on the numpy engine (same draws)
    W, X0, targets = music_setup
    params = MusicParams(eta=0.2 * scale, preserve_ring=ring, sigma_step=0.01 * scale)
    a, b = _pair(W, params, "informed", X0, dict(targets=targets), scale=scale, steps=8)
    assert _rel(a.states, b.states) < ATOL_MUSIC
    assert np.array_equal(a.bmus, b.bmus) and np.array_equal(a.clipped, b.clipped)


def test_run_batch_matches_numpy_on_a_graph(music_setup):
    W, X0, _ = music_setup
    chain = [[i, i + 1] for i in range(29)]

    def run(**backend):
        return Music(W, MusicParams(preserve_ring=2), edges=chain, random_state=1).run_batch(
            X0, 10, "cluster_random", cluster=[1, 5, 9], **backend)

    a, b = run(), run(backend="torch")
    assert np.abs(a.states - b.states).max() < ATOL_MUSIC and np.array_equal(a.bmus, b.bmus)


def test_device_bmu_search_equals_the_exact_one(music_setup):
    # the ring's BMU search of a GPU (direct distances on the device), run here on CPU tensors
    from musicsom.music import _bmus_exact

    W, _, _ = music_setup
    X = np.random.default_rng(5).standard_normal((500, W.shape[1]))
    X[:3] = W[[0, 4, 9]] + 1e-9  # right by a prototype
    got = tb._bmus_t(torch, torch.as_tensor(X), torch.as_tensor(W))
    assert np.array_equal(got, _bmus_exact(X, W))
    with pytest.raises(tb._NotPlain):  # squared distances beyond float64: the numpy engine takes the step
        tb._bmus_t(torch, torch.as_tensor(X * 1e160), torch.as_tensor(W * 1e160))


def test_run_batch_torch_refuses_an_unknown_solver(music_setup):
    W, X0, targets = music_setup
    music = Music(W)
    music.params.solver = "iterative"  # the torch engine solves directly only
    with pytest.raises(NotImplementedError, match="backend='torch' supports solver"):
        music.run_batch(X0, 2, "informed", targets=targets, backend="torch")


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("backend, device, match", [
    ("jax", "cpu", "backend must be 'numpy' or 'torch'"),
    (None, "cpu", "backend must be 'numpy' or 'torch'"),
    ("torch", "gpu", "device must be 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto'"),
    ("torch", "cuda:x", "device must be"),
    ("torch", 0, "device must be"),
    ("numpy", "cuda", "needs backend='torch'"),
])
def test_bad_backend_or_device_names(som_data, music_setup, backend, device, match):
    with pytest.raises(ValueError, match=match):
        SOM((3, 3), epochs=2, backend=backend, device=device).fit(som_data)
    W, X0, targets = music_setup
    with pytest.raises(ValueError, match=match):
        Music(W).run_batch(X0, 2, "informed", targets=targets, backend=backend, device=device)


def test_missing_cuda_is_a_clear_error(som_data, music_setup, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for device in ("cuda", "cuda:0"):
        with pytest.raises(RuntimeError, match=f"device='{device}', but CUDA is not available"):
            SOM((3, 3), epochs=2, backend="torch", device=device).fit(som_data)
    W, X0, targets = music_setup
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        Music(W).run_batch(X0, 2, "informed", targets=targets, backend="torch", device="cuda")
    assert tb.resolve_device("auto") == torch.device("cpu")  # auto: the CPU when there is no GPU


def test_a_cuda_index_beyond_the_devices_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(RuntimeError, match="1 CUDA device"):
        tb.resolve_device("cuda:1")


def test_missing_torch_names_pip_install(som_data, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(ImportError, match="pip install torch"):
        SOM((3, 3), epochs=2, backend="torch").fit(som_data)
    SOM((3, 3), epochs=2).fit(som_data)  # the numpy backend needs no torch


def test_module_doctests_pass():
    failed, attempted = doctest.testmod(tb, optionflags=doctest.ELLIPSIS)
    assert failed == 0 and attempted >= 5
