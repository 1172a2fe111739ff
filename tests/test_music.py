"""MUSIC (docs/METHOD.md §4): the two solver forms agree, κ does not steer informed mode, λ damps, modes behave."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musicsom.music import Music, MusicParams, jacobian, music_direction, solve_dual, solve_primal, trust_region


@settings(max_examples=50, deadline=None)
@given(k=st.integers(1, 40), D=st.integers(1, 40), lam=st.floats(1e-4, 10.0), seed=st.integers(0, 2**31 - 1))
def test_primal_and_dual_solutions_agree(k, D, lam, seed):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((k, D))
    y = rng.standard_normal(k)
    p, d = solve_primal(M, y, lam), solve_dual(M, y, lam)
    assert np.max(np.abs(p - d)) <= 1e-10 * max(1.0, np.max(np.abs(p)))


def _setup(seed=0, K=60, D=8):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((K, D)), rng.standard_normal(D)


def test_music_direction_solver_forms_agree_on_real_system():
    W, x = _setup()
    P = np.arange(1, 60)
    kw = dict(alpha=0.9, lam=0.01)
    primal = music_direction(x, W, [0], [-1.0], P, solver="primal", **kw)
    dual = music_direction(x, W, [0], [-1.0], P, solver="dual", **kw)
    np.testing.assert_allclose(primal, dual, atol=1e-10)


@pytest.mark.parametrize("kappa", [0.01, 0.1, 0.5, 1.0])
def test_informed_direction_does_not_depend_on_kappa(kappa):
    W, x = _setup()
    ref = Music(W, MusicParams(kappa=0.2, eta=1e9)).informed_step(x, 5)
    step = Music(W, MusicParams(kappa=kappa, eta=1e9)).informed_step(x, 5)
    cos = step @ ref / (np.linalg.norm(step) * np.linalg.norm(ref))
    assert cos == pytest.approx(1.0, abs=1e-12)
    assert np.linalg.norm(step) / np.linalg.norm(ref) == pytest.approx(kappa / 0.2, rel=1e-9)


def test_step_vanishes_as_lambda_grows():
    W, x = _setup()
    norms = [np.linalg.norm(Music(W, MusicParams(lam=lam, eta=1e9)).informed_step(x, 3)) for lam in (1e-2, 1, 1e2, 1e4, 1e6)]
    assert all(a > b for a, b in zip(norms, norms[1:]))
    assert norms[-1] < 1e-5 * norms[0]


def test_first_order_target_change_without_preservation():
    W, x = _setup()
    # α = 1, nothing preserved, tiny λ: the unit-row system asks r̂_tᵀ δ = Δa_t / (2 d_t) exactly
    d = music_direction(x, W, [4], [-0.3], np.array([], dtype=int), alpha=1.0, lam=1e-12)
    r = x - W[4]
    assert (r / np.linalg.norm(r)) @ d == pytest.approx(-0.3 / (2 * np.linalg.norm(r)), rel=1e-6)


def test_trust_region_clips_only_long_steps():
    v = np.array([3.0, 4.0])
    np.testing.assert_allclose(trust_region(v, 1.0), v / 5)
    np.testing.assert_allclose(trust_region(v, 10.0), v)


def test_informed_trajectory_converges_and_records():
    W, x = _setup(1)
    tr = Music(W, MusicParams(alpha=0.9, lam=0.01, kappa=0.1, eta=0.2)).run(x, 100, "informed", target=7)
    assert tr.states.shape == (101, 8) and tr.bmus.shape == (101,) and len(tr.targets) == 100
    assert np.linalg.norm(tr.states[-1] - W[7]) < 0.5 * np.linalg.norm(tr.states[0] - W[7])
    assert np.all(np.linalg.norm(tr.steps, axis=1) <= 0.2 + 1e-12)


def test_cluster_and_free_modes_are_seeded():
    W, x = _setup(2)
    runs = [Music(W, MusicParams(), random_state=5).run(x, 20, "cluster_random", cluster=[1, 2, 3]) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].states, runs[1].states)
    assert set(runs[0].targets) <= {1, 2, 3}
    free = Music(W, MusicParams(eta=0.05), random_state=1).run(x, 10, "free")
    np.testing.assert_allclose(np.linalg.norm(free.steps, axis=1), 0.05)
    cl = Music(W, MusicParams(cluster_passes=3), random_state=1).run(x, 10, "cluster", cluster=[1, 2, 3])
    assert np.linalg.norm(cl.states[-1] - W[[1, 2, 3]].mean(0)) < np.linalg.norm(x - W[[1, 2, 3]].mean(0))


def test_ring_preservation_needs_grid():
    W, _ = _setup(K=16)
    with pytest.raises(ValueError, match="grid_shape"):
        Music(W, MusicParams(preserve_ring=1))
    mu = Music(W, MusicParams(preserve_ring=1), grid_shape=(4, 4), topology="toroidal")
    P = mu.preserved_set(W[5] + 1e-3, exclude=[5])
    assert set(P) == {0, 1, 2, 4, 6, 8, 9, 10}


def test_noise_injection_changes_steps_but_is_seeded():
    W, x = _setup(3)
    p = MusicParams(sigma_step=0.01, sigma_target=0.1, jitter=0.01)
    a = Music(W, p, random_state=9).run(x, 5, "informed", target=2)
    b = Music(W, p, random_state=9).run(x, 5, "informed", target=2)
    c = Music(W, MusicParams(), random_state=9).run(x, 5, "informed", target=2)
    np.testing.assert_array_equal(a.states, b.states)
    assert not np.allclose(a.states, c.states)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(alpha=1.5), "alpha"),
        (dict(lam=0.0), "lam"),
        (dict(kappa=0.0), "kappa"),
        (dict(eta=-1.0), "eta"),
        (dict(solver="qr"), "solver"),
    ],
)
def test_bad_params_raise(params, match):
    W, _ = _setup()
    with pytest.raises(ValueError, match=match):
        Music(W, MusicParams(**params))


def test_bad_inputs_raise():
    W, x = _setup()
    mu = Music(W)
    with pytest.raises(ValueError, match="targets is empty"):
        mu.step(x, [], [])
    with pytest.raises(ValueError, match="NaN"):
        mu.informed_step(np.full(8, np.nan), 1)
    with pytest.raises(ValueError, match="length 8"):
        mu.run(np.zeros(3), 2, "informed", target=1)
    with pytest.raises(ValueError, match="duplicate rows"):
        Music(np.vstack([W, W[:1]]))
    with pytest.raises(ValueError, match="share prototypes"):
        mu.step(x, [1], [-1.0], preserved=[1, 2])


def test_public_building_blocks_validate():
    W, x = _setup()
    with pytest.raises(ValueError, match="targets"):
        music_direction(x, W, [-1], [-1.0], [0, 1])  # −1 used to mean the last prototype
    with pytest.raises(ValueError, match="share"):
        music_direction(x, W, [3], [-1.0], [3, 4])
    with pytest.raises(ValueError, match="weights_preserved"):
        music_direction(x, W, [3], [-1.0], [4, 5], weights_preserved=[1.0])
    with pytest.raises(ValueError, match="solver"):
        music_direction(x, W, [3], [-1.0], [4], solver="qr")
    with pytest.raises(ValueError, match="x"):
        jacobian(x[:3], W)
    with pytest.raises(ValueError, match="M"):
        solve_primal(np.ones(3), np.ones(3), 0.1)
    with pytest.raises(ValueError, match="lam"):
        solve_dual(np.ones((2, 3)), np.ones(2), np.nan)


def test_jacobian_rows_and_scale():
    W, x = _setup()
    J, scale = jacobian(x, W, rows=[2, 5])
    r = x - W[[2, 5]]
    np.testing.assert_allclose(J, r / np.linalg.norm(r, axis=1)[:, None])
    np.testing.assert_allclose(scale, 2 * np.linalg.norm(r, axis=1))
    J0, s0 = jacobian(W[2], W, rows=[2])
    np.testing.assert_array_equal(J0, 0.0)
    assert np.all(np.isfinite(s0)) and s0[0] > 0
    raw, one = jacobian(x, W, rows=[2], normalise=False)
    np.testing.assert_allclose(raw, 2 * r[:1])
    np.testing.assert_array_equal(one, 1.0)
