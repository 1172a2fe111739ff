"""The iterative MUSIC solve (PCG on a held Cholesky factor) against the direct one: the accuracy contract.

Per step the iterative δ equals the direct δ to 1e-9 relative; whole trajectories (single and batched)
agree to 1e-9 of the map's scale with identical BMU sequences; "auto" picks the direct solve where the
iterative one does not pay; row-set changes, give-ups and out-of-range numbers fall back to the direct
solve. Maps: synthetic stand-ins of the pipeline's (whitened prototypes, K >= D, the plain energy at
α = 0.999 and 0.5, the per-row-mean energy), kept small so that the file runs in a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest

import musicsom.music as mu
from musicsom.music import Music, MusicParams, music_direction

ENERGIES = [
    dict(alpha=0.999, per_row_mean=False),  # the paper setup's plain energy (condition ~1e2)
    dict(alpha=0.5, per_row_mean=False),  # plain, condition ~1e4
    dict(alpha=0.5, per_row_mean=True),  # the default pipeline's per-row-mean energy
]


def whitened_map(K=160, D=64, seed=0):
    """Prototypes like a SOM on whitened data: correlated Gaussian rows, then every feature standardised."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((K, D)) @ np.diag(np.linspace(1.0, 0.2, D))
    W = W + 0.3 * rng.standard_normal((K, 1)) * W[:, :1]  # some structure beyond the spectrum
    return (W - W.mean(0)) / W.std(0), rng


def _rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.mark.parametrize("energy", ENERGIES)
@pytest.mark.parametrize("normalise", [True, False])
def test_each_iterative_step_equals_the_direct_step(energy, normalise):
    W, rng = whitened_map()
    K, D = W.shape
    lam = 0.01 if normalise else 1.0
    x, t = rng.standard_normal(D), 7
    targets = np.array([t])
    preserved = np.setdiff1d(np.arange(K), targets)
    cache = mu._RunSolver(W)
    for _ in range(30):
        kw = dict(rel=np.array([-0.1]), normalise=normalise, per_row_mean=energy["per_row_mean"])
        d_it = mu._direction(x, W, targets, preserved, energy["alpha"], lam, cache=cache, **kw)
        d_dir = mu._direction(x, W, targets, preserved, energy["alpha"], lam, solver="direct", **kw)
        assert np.linalg.norm(d_it - d_dir) <= 1e-9 * np.linalg.norm(d_dir)
        x = x + mu._trust_region(d_dir, 0.2)[0]
    f = cache.factors
    assert f.pcg_steps >= 20, "the iterative path must actually run (most steps by PCG)"
    assert 0 < f.iterations / f.pcg_steps <= 15


@pytest.mark.parametrize("energy", ENERGIES)
def test_single_trajectories_agree_and_bmus_are_identical(energy):
    W, rng = whitened_map(seed=1)
    D = W.shape[1]
    scale = np.abs(W).max()
    for mode, kw in (("informed", dict(target=11)), ("cluster", dict(cluster=[3, 4, 5])), ("cluster_random", dict(cluster=[20, 21, 22]))):
        x0 = rng.standard_normal(D)
        runs = {}
        for solver in ("direct", "iterative"):
            music = Music(W, MusicParams(lam=0.01, kappa=0.1, eta=0.2, solver=solver, **energy), random_state=3)
            runs[solver] = music.run(x0, 60, mode, **kw)
        a, b = runs["direct"], runs["iterative"]
        assert np.abs(a.states - b.states).max() <= 1e-9 * scale, mode
        assert np.array_equal(a.bmus, b.bmus), mode
        assert a.targets == b.targets
        assert music._last_solver_stats["mean_iterations"] > 0


@pytest.mark.parametrize("energy", ENERGIES)
def test_batched_trajectories_agree_and_bmus_are_identical(energy):
    W, rng = whitened_map(seed=2)
    K, D = W.shape
    X0 = rng.standard_normal((6, D))
    scale = np.abs(W).max()
    for mode, kw in (("informed", dict(targets=rng.integers(0, K, 6))), ("cluster_random", dict(cluster=[1, 2, 3]))):
        out = {}
        for solver in ("direct", "iterative"):
            music = Music(W, MusicParams(lam=0.01, kappa=0.1, eta=0.2, solver=solver, **energy), random_state=5)
            out[solver] = music.run_batch(X0, 50, mode, **kw)
            if solver == "iterative":
                stats = music._last_solver_stats
        a, b = out["direct"], out["iterative"]
        assert np.abs(a.states - b.states).max() <= 1e-9 * scale, mode
        assert np.array_equal(a.bmus, b.bmus), mode
        assert np.array_equal(a.targets, b.targets)
        assert stats["mean_iterations"] > 0 and stats["refactors_per_100_steps"] < 50


def test_batch_matches_single_run_with_the_iterative_solver():
    W, rng = whitened_map(seed=4)
    X0, targets = rng.standard_normal((3, W.shape[1])), np.array([5, 50, 150])
    music = Music(W, MusicParams(alpha=0.5, solver="iterative"))
    batch = music.run_batch(X0, 40, "informed", targets=targets)
    for b in range(3):
        one = music.run(X0[b], 40, "informed", target=int(targets[b]))
        assert np.abs(batch.states[b] - one.states).max() <= 1e-9 * np.abs(W).max()
        assert np.array_equal(batch.bmus[b], one.bmus)


def test_iterative_runs_are_deterministic():
    W, rng = whitened_map(seed=6)
    X0 = rng.standard_normal((4, W.shape[1]))
    music = Music(W, MusicParams(alpha=0.5, solver="iterative"))
    a = music.run_batch(X0, 30, "informed", targets=[1, 2, 3, 4])
    b = music.run_batch(X0, 30, "informed", targets=[1, 2, 3, 4])
    assert np.array_equal(a.states, b.states)  # refactor decisions depend on the numbers only
    s1 = music.run(X0[0], 30, "informed", target=9).states
    s2 = music.run(X0[0], 30, "informed", target=9).states
    assert np.array_equal(s1, s2)  # and the factors of one run do not leak into the next


def test_auto_picks_direct_where_iterative_does_not_pay():
    assert not mu._use_iterative("auto", 50, 200, 0.0)  # D = 50: the direct solve is cheaper
    assert mu._use_iterative("auto", 712, 200, 0.0)
    assert not mu._use_iterative("auto", 712, 2, 0.0)  # too short to reuse a factor
    assert not mu._use_iterative("auto", 712, 200, 0.1)  # jitter: a new random M every step
    assert not mu._use_iterative("primal", 712, 200, 0.0) and not mu._use_iterative("direct", 712, 200, 0.0)
    assert mu._use_iterative("iterative", 3, 1, 0.0)
    # at D = 50, auto is today's direct solve, to the bit
    W, rng = whitened_map(K=200, D=50, seed=7)
    x0 = rng.standard_normal(50)
    a = Music(W, MusicParams(solver="auto")).run(x0, 20, "informed", target=3).states
    b = Music(W, MusicParams(solver="direct")).run(x0, 20, "informed", target=3).states
    assert np.array_equal(a, b)


def test_changed_row_set_refactors_and_still_agrees():
    """A ring neighbourhood (k >= D here, so the primal form) changes with the BMU: a new set gets a new factor."""
    rng = np.random.default_rng(8)
    grid = (12, 12)
    W = rng.standard_normal((144, 3)) + np.repeat(np.arange(144)[:, None] / 20.0, 3, axis=1)
    x0 = W[0] + 0.1
    runs = {}
    for solver in ("direct", "iterative"):
        music = Music(W, MusicParams(alpha=0.5, preserve_ring=2, solver=solver, eta=0.05), grid_shape=grid)
        runs[solver] = music.run(x0, 80, "informed", target=143)
    a, b = runs["direct"], runs["iterative"]
    assert np.abs(a.states - b.states).max() <= 1e-9 * np.abs(W).max()
    assert np.array_equal(a.bmus, b.bmus)
    assert len(np.unique(a.bmus)) > 3  # the set changed several times ...
    assert music._last_solver_stats["refactors_per_100_steps"] * 0.8 >= 100 * (len(np.unique(a.bmus)) - 1) / 80  # ... each time refactored


def test_giving_up_falls_back_to_the_direct_solve(monkeypatch):
    W, rng = whitened_map(seed=9)
    x0 = rng.standard_normal(W.shape[1])
    ref = Music(W, MusicParams(alpha=0.5, solver="direct")).run(x0, 20, "informed", target=4)
    monkeypatch.setattr(mu, "_PCG_MAXIT", 1)  # PCG never converges in one iteration: every step goes direct
    music = Music(W, MusicParams(alpha=0.5, solver="iterative"))
    run = music.run(x0, 20, "informed", target=4)
    assert np.array_equal(run.states, ref.states)
    assert music._last_solver_stats["refactors_per_100_steps"] == 100.0
    batch = music.run_batch(x0[None, :], 20, "informed", targets=4)
    assert np.allclose(batch.states[0], ref.states, rtol=0, atol=1e-12)


def test_out_of_range_maps_go_direct_and_still_agree():
    """A map of scale 2^450 leaves the implicit products' range: the scaled direct solve takes every step."""
    W, rng = whitened_map(K=150, D=130, seed=10)
    x0 = rng.standard_normal(130)
    s = 2.0**450
    a = Music(W * s, MusicParams(solver="iterative", eta=0.2 * s)).run(x0 * s, 10, "informed", target=2)
    b = Music(W * s, MusicParams(solver="direct", eta=0.2 * s)).run(x0 * s, 10, "informed", target=2)
    assert np.array_equal(a.states, b.states)


def test_solver_values_are_validated():
    for ok in ("auto", "direct", "iterative", "primal", "dual"):
        assert MusicParams(solver=ok).validate().solver == ok
    with pytest.raises(ValueError, match="'direct', 'iterative'"):
        MusicParams(solver="cg").validate()
    W, rng = whitened_map(K=20, D=5, seed=11)
    x = rng.standard_normal(5)
    d = [music_direction(x, W, [0], [-1.0], np.arange(1, 20), solver=s) for s in ("direct", "iterative", "primal")]
    assert np.allclose(d[0], d[1]) and np.allclose(d[0], d[2])  # a single solve has no history: direct
    with pytest.raises(ValueError, match="solver"):
        music_direction(x, W, [0], [-1.0], [1], solver=None)
