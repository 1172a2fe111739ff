"""Batched MUSIC (Music.run_batch): the same trajectories as the single loop, many at once.

Informed mode has no randomness, so each batch trajectory must equal Music.run to round-off (every
other prototype preserved, a lattice ring on a torus, graph neighbours, primal and dual forms);
cluster_random is reproducible under a seed; the clipped flags and energy weights are checked.
"""

from __future__ import annotations

import numpy as np
import pytest

from musicsom.music import Music, MusicParams, TrajectoryBatch, energy_coefficients, music_direction


def _loop(W, params, X0, targets, T, **kw):
    runs = [Music(W, params, **kw).run(X0[b], T, "informed", target=int(targets[b])) for b in range(X0.shape[0])]
    return (np.stack([r.states for r in runs]), np.stack([r.bmus for r in runs]), np.stack([r.clipped for r in runs]))


def _assert_same(batch: TrajectoryBatch, loop, targets):
    S, bm, cl = loop
    scale = np.abs(S).max()
    assert np.abs(batch.states - S).max() <= 1e-9 * scale
    np.testing.assert_array_equal(batch.bmus, bm)
    np.testing.assert_array_equal(batch.clipped, cl)
    np.testing.assert_array_equal(batch.targets, np.repeat(np.asarray(targets)[:, None], S.shape[1] - 1, axis=1))


def test_informed_batch_equals_the_loop_all_others_preserved():
    rng = np.random.default_rng(0)
    K, D, B, T = 900, 50, 30, 200
    W = rng.standard_normal((K, D))
    X0 = 1.5 * rng.standard_normal((B, D))
    targets = rng.integers(0, K, B)
    params = MusicParams(alpha=0.9, lam=0.01, kappa=0.1, eta=0.2, per_row_mean=True)
    batch = Music(W, params).run_batch(X0, T, "informed", targets=targets)
    assert batch.states.shape == (B, T + 1, D) and batch.bmus.shape == (B, T + 1)
    assert batch.targets.shape == (B, T) and batch.clipped.shape == (B, T) and batch.clipped.dtype == bool
    _assert_same(batch, _loop(W, params, X0, targets, T), targets)
    assert batch.clipped[:, 0].all()  # far from the target the first steps hit the trust radius


@pytest.mark.parametrize("ring, per_row_mean, D", [(1, False, 6), (2, True, 6), (1, True, 40)])
def test_informed_batch_equals_the_loop_with_a_ring_on_a_torus(ring, per_row_mean, D):
    # D = 40 with a 1-ring (k = 9 < D) runs the dual form; D = 6 the primal one
    rng = np.random.default_rng(ring + D)
    grid = (12, 10)
    K = grid[0] * grid[1]
    W = rng.standard_normal((K, D))
    X0 = rng.standard_normal((12, D))
    targets = rng.integers(0, K, 12)
    params = MusicParams(preserve_ring=ring, per_row_mean=per_row_mean, eta=0.2)
    kw = dict(grid_shape=grid, topology="toroidal")
    batch = Music(W, params, **kw).run_batch(X0, 200, "informed", targets=targets)
    _assert_same(batch, _loop(W, params, X0, targets, 200, **kw), targets)


def test_informed_batch_equals_the_loop_on_a_rectangular_lattice_and_a_graph():
    rng = np.random.default_rng(3)
    grid = (7, 6)
    K, D = 42, 5
    W = rng.standard_normal((K, D))
    X0 = rng.standard_normal((9, D))
    targets = rng.integers(0, K, 9)
    params = MusicParams(preserve_ring=1)
    kw = dict(grid_shape=grid, topology="rectangular")  # ragged rings at the border: padded rows
    batch = Music(W, params, **kw).run_batch(X0, 60, "informed", targets=targets)
    _assert_same(batch, _loop(W, params, X0, targets, 60, **kw), targets)
    edges = np.array([(i, j) for i in range(K) for j in range(i + 1, K) if rng.random() < 0.08])
    kw = dict(edges=edges)
    batch = Music(W, MusicParams(preserve_ring=2), **kw).run_batch(X0, 60, "informed", targets=targets)
    _assert_same(batch, _loop(W, MusicParams(preserve_ring=2), X0, targets, 60, **kw), targets)


def test_solver_forms_and_raw_rows_in_batch():
    rng = np.random.default_rng(4)
    W = rng.standard_normal((30, 8))
    X0 = rng.standard_normal((5, 8))
    targets = np.arange(5)
    for params in (MusicParams(solver="dual"), MusicParams(solver="primal", alpha=0.5), MusicParams(normalise_rows=False, lam=1.0)):
        batch = Music(W, params).run_batch(X0, 40, "informed", targets=targets)
        _assert_same(batch, _loop(W, params, X0, targets, 40), targets)


def test_cluster_random_is_seeded_and_draws_from_the_cluster():
    rng = np.random.default_rng(5)
    W = rng.standard_normal((50, 4))
    X0 = rng.standard_normal((20, 4))
    cluster = [3, 7, 11, 19]
    a = Music(W, random_state=9).run_batch(X0, 30, "cluster_random", cluster=cluster)
    b = Music(W, random_state=9).run_batch(X0, 30, "cluster_random", cluster=cluster)
    c = Music(W, random_state=10).run_batch(X0, 30, "cluster_random", cluster=cluster)
    np.testing.assert_array_equal(a.states, b.states)
    np.testing.assert_array_equal(a.targets, b.targets)
    assert not np.array_equal(a.targets, c.targets)
    assert set(np.unique(a.targets)) <= set(cluster)
    assert len(set(map(tuple, a.targets))) > 1  # each trajectory draws its own targets
    # each step is the informed step toward the drawn target
    mu = Music(W)
    for bi in (0, 7):
        for t in (0, 13):
            d = mu.informed_step(a.states[bi, t], int(a.targets[bi, t]))
            np.testing.assert_allclose(a.states[bi, t + 1] - a.states[bi, t], d, atol=1e-12)
    tr = a.trajectory(3)
    np.testing.assert_array_equal(tr.states, a.states[3])
    assert tr.targets == a.targets[3].tolist() and len(a) == 20


def test_noise_in_batch_is_seeded_and_finite():
    rng = np.random.default_rng(6)
    W = rng.standard_normal((40, 5))
    X0 = rng.standard_normal((6, 5))
    p = MusicParams(sigma_step=0.01, sigma_target=0.1, jitter=0.01)
    a = Music(W, p, random_state=1).run_batch(X0, 20, "informed", targets=2)
    b = Music(W, p, random_state=1).run_batch(X0, 20, "informed", targets=2)
    np.testing.assert_array_equal(a.states, b.states)
    assert np.all(np.isfinite(a.states))
    assert np.all(np.linalg.norm(a.steps, axis=2) <= p.eta * (1 + 1e-12))


def test_trajectory_records_clipping():
    rng = np.random.default_rng(7)
    W = rng.standard_normal((30, 4))
    x = 3 * rng.standard_normal(4)
    short = Music(W, MusicParams(eta=1e-3)).run(x, 10, "informed", target=1)
    assert short.clipped.shape == (10,) and short.clipped.all()
    np.testing.assert_allclose(np.linalg.norm(short.steps, axis=1), 1e-3)
    free = Music(W, MusicParams(eta=1e6)).run(x, 10, "informed", target=1)
    assert not free.clipped.any()
    mixed = Music(W, MusicParams(eta=0.5)).run(x, 60, "informed", target=1)
    n = np.linalg.norm(mixed.steps, axis=1)
    np.testing.assert_array_equal(mixed.clipped, np.isclose(n, 0.5, rtol=1e-12) & mixed.clipped)
    assert np.all(n[~mixed.clipped] <= 0.5)


def test_reached_target_gives_zero_steps_in_batch():
    rng = np.random.default_rng(8)
    W = rng.standard_normal((20, 3))
    batch = Music(W).run_batch(np.stack([W[4], W[5]]), 3, "informed", targets=[4, 5])
    np.testing.assert_array_equal(batch.steps, 0.0)
    assert not batch.clipped.any()


def test_energy_coefficients():
    assert energy_coefficients(0.9, 10, 1) == pytest.approx((0.1, 0.9))
    assert energy_coefficients(0.9, 10, 2, per_row_mean=True) == pytest.approx((0.01, 0.45))
    assert energy_coefficients(0.5, 0, 0, per_row_mean=True) == pytest.approx((0.5, 0.5))
    for bad, match in (((1.5, 1, 1), "alpha"), ((0.5, -1, 1), "n_preserved"), ((0.5, 1, 2.0), "n_targets")):
        with pytest.raises(ValueError, match=match):
            energy_coefficients(*bad)
    # the weights music_direction uses: with α = 1 nothing is preserved, whatever the preserved set
    rng = np.random.default_rng(9)
    W = rng.standard_normal((10, 3))
    x = rng.standard_normal(3)
    np.testing.assert_allclose(
        music_direction(x, W, [0], [-1.0], np.arange(1, 10), alpha=1.0, per_row_mean=True),
        music_direction(x, W, [0], [-1.0], [], alpha=1.0), atol=1e-15,
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(mode="informed"), "targets"),
        (dict(mode="informed", targets=[1, 2]), "targets"),
        (dict(mode="informed", targets=[1.0, 2.0, 3.0]), "targets"),
        (dict(mode="informed", targets=[1, 2, 99]), "targets"),
        (dict(mode="cluster_random"), "cluster"),
        (dict(mode="cluster_random", cluster=[-1, 2]), "cluster"),
        (dict(mode="free"), "mode"),
        (dict(mode="informed", targets=1, n_steps=2.5), "n_steps"),
    ],
)
def test_run_batch_validates(kwargs, match):
    W = np.random.default_rng(10).standard_normal((12, 2))
    kwargs = {"n_steps": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        Music(W).run_batch(np.zeros((3, 2)), **kwargs)
    with pytest.raises(ValueError, match="X0"):
        Music(W).run_batch(np.zeros((3, 5)), 3, "informed", targets=1)
