"""A core that never lies: hostile offsets, scales and positions give exact values or a ValueError.

Every property here checks the returned values, not only exception types: inversion is exact to
round-off under common offsets and scales (1e±6, and powers of two up to 2^±500); a point's
activations do not depend on the batch it is computed in and match an extended-precision reference;
MUSIC steps are finite (never NaN) wherever x sits, and homogeneous in the scale of the map;
overflowing or underflowing results raise a ValueError that says to rescale.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musicsom import metrics
from musicsom.inversion import ActivationInverter, Inverter, activations, invert, invert_with_bmu_anchor
from musicsom.music import Music, MusicParams, jacobian, music_direction, solve_dual, solve_primal, trust_region
from musicsom.stats import holm, wilcoxon_paired

EPS = np.finfo(float).eps
SETTINGS = settings(max_examples=40, deadline=None)


def _map(seed, K, D, scale=1.0, offset=0.0):
    rng = np.random.default_rng(seed)
    W = scale * (rng.standard_normal((K, D)) + offset)
    X = scale * (rng.standard_normal((5, D)) + offset)
    return W, X


# ---------------------------------------------------------------- inversion
@SETTINGS
@given(
    D=st.integers(1, 10), extra=st.integers(0, 15), seed=st.integers(0, 2**31 - 1),
    offset=st.sampled_from([0.0, 1e6, -1e6, 1e-6, 3.7e5]), scale=st.sampled_from([1e-6, 1.0, 1e6, 2.0**-500, 2.0**480]),
)
def test_inversion_is_exact_at_any_offset_and_scale(D, extra, seed, offset, scale):
    W, X = _map(seed, D + 1 + extra, D, scale, offset)
    try:
        A = activations(X, W)
    except ValueError as exc:
        # a pair so close at so small a scale that its squared distance is subnormal: refused, never rounded silently
        assert "rescale" in str(exc)
        return
    for ref in (0, int(np.argmin(A[0]))):
        inv = Inverter(W, ref)
        X_hat = inv.invert(A)
        # round-off: the representation of x (eps |x|) plus the anchored solve (eps · cond · spread)
        tol = 64 * EPS * (np.abs(X).max() + inv.condition_number * scale * np.sqrt(D) * (1 + 4 * np.sqrt(D + extra)))
        assert np.abs(X_hat - X).max() <= tol, (np.abs(X_hat - X).max(), tol)
    assert np.all(np.isfinite(X_hat))


def test_offset_one_million_is_round_off_where_the_textbook_form_lost_four_digits():
    W, X = _map(0, 20, 3, 1.0, 1e6)
    err = np.abs(Inverter(W, 0).invert(activations(X, W)) - X).max()
    assert err <= 8 * EPS * 1e6  # was 6e-4 with the textbook right-hand side
    est = ActivationInverter(W).fit()
    np.testing.assert_allclose(est.inverse_transform(est.transform(X)), X, rtol=0, atol=8 * EPS * 1e6)


@pytest.mark.parametrize("k", [-500, -300, 300, 480])
def test_inversion_is_homogeneous_under_powers_of_two(k):
    W, X = _map(1, 12, 4)
    A = activations(X, W)
    base = Inverter(W, 2).invert(A)
    scaled = Inverter(np.ldexp(W, k), 2).invert(np.ldexp(A, 2 * k))
    np.testing.assert_allclose(np.ldexp(scaled, -k), base, rtol=0, atol=1e-13)
    np.testing.assert_allclose(np.ldexp(scaled, -k), X, rtol=0, atol=1e-12)
    s = Inverter(np.ldexp(W, k), 2)
    assert s.condition_number == pytest.approx(Inverter(W, 2).condition_number, rel=1e-12)
    assert s.sigma_min == pytest.approx(np.ldexp(Inverter(W, 2).sigma_min, k), rel=1e-12)


def test_rank_deficient_least_squares_keeps_the_minimum_norm_solution():
    rng = np.random.default_rng(2)
    W = rng.standard_normal((3, 4)) + 1e3  # 3 prototypes in R^4: rank 2
    x = rng.standard_normal(4)
    a = activations(x, W)
    inv = Inverter(W, 0, strict=False)
    expected = np.linalg.lstsq(inv.A, inv.rhs(a), rcond=None)[0]  # the textbook min-norm solution
    np.testing.assert_allclose(inv.invert(a), expected, rtol=1e-9, atol=1e-9)


def test_subnormal_activations_raise_instead_of_inverting_noise():
    W, X = _map(3, 10, 3, 2.0**-540)
    with pytest.raises(ValueError, match="rescale"):
        activations(X, W)
    with pytest.raises(ValueError, match="rescale"):
        Inverter(W, 0).invert(np.full(10, 1e-320))


# ---------------------------------------------------------------- activations
@SETTINGS
@given(
    n=st.integers(1, 150), D=st.integers(1, 60), K=st.integers(1, 40), seed=st.integers(0, 2**31 - 1),
    offset=st.sampled_from([0.0, 1e6, -1e6]), cut=st.integers(0, 150),
)
def test_activations_do_not_depend_on_the_batch(n, D, K, seed, offset, cut):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((K, D)) + offset
    X = rng.standard_normal((n, D)) + offset
    full = activations(X, W)
    cut = min(cut, n)
    parts = [activations(X[:cut], W)] if cut else []
    parts += [activations(X[cut:], W)] if cut < n else []
    np.testing.assert_array_equal(np.concatenate(parts), full)
    np.testing.assert_array_equal(activations(X[n // 2], W), full[n // 2])
    # against an extended-precision reference: a few roundings per term, relative to each value
    ref = ((X.astype(np.longdouble)[:, None, :] - W.astype(np.longdouble)[None]) ** 2).sum(-1)
    rel = np.abs(full - ref) / np.maximum(ref, np.finfo(float).tiny)
    assert float(rel.max()) <= (D + 4) * EPS


def test_activations_at_64_and_65_rows_agree_at_offset():
    W, _ = _map(0, 30, 5, 1.0, 1e6)
    X = np.random.default_rng(1).standard_normal((65, 5)) + 1e6
    np.testing.assert_array_equal(activations(X[:64], W), activations(X, W)[:64])


@pytest.mark.parametrize("k", [-480, 480])
def test_activations_are_exactly_homogeneous(k):
    W, X = _map(4, 9, 3)
    np.testing.assert_array_equal(activations(np.ldexp(X, k), np.ldexp(W, k)), np.ldexp(activations(X, W), 2 * k))


def test_activations_that_overflow_say_to_rescale():
    W, X = _map(5, 9, 3, 1e155)
    with pytest.raises(ValueError, match="float64 range.*rescale"):
        activations(X, W)
    with pytest.raises(ValueError, match="float64 range.*rescale"):
        activations(np.array([1e308, -1e308]), np.array([[-1e308, 1e308], [0.0, 0.0]]))


# ---------------------------------------------------------------- MUSIC
@SETTINGS
@given(
    seed=st.integers(0, 2**31 - 1), K=st.integers(3, 30), D=st.integers(1, 8),
    where=st.sampled_from(["on", "1e-200", "1e-160", "random"]),
    solver=st.sampled_from(["auto", "primal", "dual"]), normalise=st.booleans(), ring=st.booleans(),
)
def test_music_steps_are_finite_wherever_x_sits(seed, K, D, where, solver, normalise, ring):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((K, D))
    t = int(rng.integers(K))
    x = {"on": W[t].copy(), "1e-200": W[t] + 1e-200, "1e-160": W[t] + 1e-160, "random": rng.standard_normal(D)}[where]
    p = MusicParams(solver=solver, normalise_rows=normalise, preserve_ring=1 if ring else None, eta=0.3)
    grid = (1, K) if ring else None
    mu = Music(W, p, grid_shape=grid)
    d = mu.informed_step(x, t)
    assert np.all(np.isfinite(d)) and np.linalg.norm(d) <= 0.3 * (1 + 1e-12)
    if where == "on":
        np.testing.assert_array_equal(d, 0.0)  # the target is reached: no change toward it
    tr = mu.run(x, 5, "informed", target=t)
    assert np.all(np.isfinite(tr.states))
    assert tr.clipped.shape == (5,)
    batch = mu.run_batch(np.stack([x, x]), 5, "informed", targets=[t, t])
    assert np.all(np.isfinite(batch.states))
    # a wanted change of a distance that is 0: the row is 0, the target does not steer
    d0 = music_direction(W[t], W, [t], [1.0], np.setdiff1d(np.arange(K), [t]), solver=solver)
    np.testing.assert_array_equal(d0, 0.0)


@pytest.mark.parametrize("k", [-500, -200, 200, 500])
def test_music_direction_is_homogeneous_in_the_scale_of_the_map(k):
    rng = np.random.default_rng(6)
    W = rng.standard_normal((40, 6))
    x = rng.standard_normal(6)
    P = np.arange(1, 40)
    for solver in ("primal", "dual"):
        base = music_direction(x, W, [0], [-0.5], P, solver=solver)
        a0 = ((x - W[0]) ** 2).sum()
        scaled = music_direction(np.ldexp(x, k), np.ldexp(W, k), [0], [np.ldexp(-0.5 * a0, 2 * k) / a0], P, solver=solver)
        assert np.all(np.isfinite(scaled))
        np.testing.assert_allclose(np.ldexp(scaled, -k), base, rtol=1e-12, atol=1e-14)
    mu = Music(np.ldexp(W, k), MusicParams(eta=np.ldexp(1.0, k)))
    tr = mu.run(np.ldexp(x, k), 10, "informed", target=0)
    ref = Music(W, MusicParams(eta=1.0)).run(x, 10, "informed", target=0)
    np.testing.assert_allclose(np.ldexp(tr.states, -k), ref.states, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(tr.bmus, ref.bmus)


def test_huge_and_tiny_steps_are_clipped_not_zeroed():
    v = np.array([3.0, 4.0])
    np.testing.assert_allclose(trust_region(1e200 * v, 1.0), v / 5, rtol=1e-15)
    np.testing.assert_allclose(trust_region(1e-200 * v, 1e-250), 1e-250 * v / 5, rtol=1e-15)
    np.testing.assert_array_equal(trust_region(1e-200 * v, 1.0), 1e-200 * v)
    with pytest.raises(ValueError, match="eta"):
        trust_region(v, 0.0)
    with pytest.raises(ValueError, match="delta"):
        trust_region([np.nan, 1.0], 1.0)


def test_solvers_scale_and_agree_on_extreme_systems():
    rng = np.random.default_rng(7)
    M = rng.standard_normal((5, 8))
    y = rng.standard_normal(5)
    base = solve_primal(M, y, 0.1)
    for k in (-400, 400):
        # (2^k M, 2^k y, 4^k λ) has the same solution δ
        for solve in (solve_primal, solve_dual):
            np.testing.assert_allclose(solve(np.ldexp(M, k), np.ldexp(y, k), np.ldexp(0.1, 2 * k)), base, rtol=1e-10)


def test_overflowing_wanted_change_raises():
    W = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="overflows"):
        music_direction(np.array([1e-300, 0.0]), W, [0], [1e300], [1, 2], alpha=1.0)


# ---------------------------------------------------------------- arguments that used to be misread
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda W, x: music_direction(x, W, [-1], [-1.0], [0, 1]), "targets"),
        (lambda W, x: music_direction(x, W, [2], [-1.0], [1, 2]), "share"),
        (lambda W, x: music_direction(x, W, [2], [-1.0], [1], weights_target=[-1.0]), "weights_target"),
        (lambda W, x: music_direction(x, W, [2.0], [-1.0], [1]), "targets"),
        (lambda W, x: music_direction(x, W, [2], [np.nan], [1]), "delta_a"),
        (lambda W, x: music_direction(x, W, [2], [-1.0], [1], lam=0.0), "lam"),
        (lambda W, x: jacobian(x, W, rows=[-1]), "rows"),
        (lambda W, x: solve_primal(W, np.ones(3), 0.1), "y"),
        (lambda W, x: solve_dual(W, np.ones(W.shape[0]), -1.0), "lam"),
        (lambda W, x: Music(W, MusicParams(cluster_width=0.0)), "cluster_width"),
        (lambda W, x: Music(W).run(x, 2.5, "informed", target=1), "n_steps"),
        (lambda W, x: Music(W).run(x, 2, "informed", target=1.0), "target"),
        (lambda W, x: Music(W).informed_step(x, -1), "target"),
        (lambda W, x: Music(W, MusicParams(cluster_passes=2.0)), "cluster_passes"),
        (lambda W, x: Music(W, MusicParams(per_row_mean="false")), "per_row_mean"),
        (lambda W, x: Inverter(W, reference=2.7), "reference"),
        (lambda W, x: Inverter(W, reference=True), "reference"),
        (lambda W, x: invert_with_bmu_anchor(activations(x[None], W), W, m=3.0), "m"),
        (lambda W, x: Music(W).step(x, [1], [-1.0], weights_target=[-0.5]), "weights_target"),
    ],
)
def test_bad_arguments_are_refused_by_name(call, match):
    rng = np.random.default_rng(8)
    W = rng.standard_normal((6, 2))
    x = rng.standard_normal(2)
    with pytest.raises(ValueError, match=match):
        call(W, x)


@SETTINGS
@given(p=st.lists(st.one_of(st.floats(0, 1), st.just(np.nan)), min_size=0, max_size=12))
def test_holm_equals_statsmodels_and_stays_in_unit_interval(p):
    out = holm(p)
    arr = np.asarray(p, dtype=float)
    assert out.shape == arr.shape
    ok = ~np.isnan(arr)
    assert np.all(np.isnan(out[~ok]))
    assert np.all((out[ok] >= arr[ok]) & (out[ok] <= 1.0))
    sm = pytest.importorskip("statsmodels.stats.multitest", reason="statsmodels (pipeline extra) gives the reference values")
    if ok.any():
        np.testing.assert_array_equal(out[ok], sm.multipletests(arr[ok], method="holm")[1])


@pytest.mark.parametrize("bad", [[-0.1, 0.5], [0.2, 1.5], [np.inf], [-np.inf, 0.1]])
def test_holm_refuses_p_outside_unit_interval(bad):
    with pytest.raises(ValueError, match="pvalues"):
        holm(bad)


def test_wilcoxon_drops_nan_pairs_but_refuses_infinity():
    a = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.5])
    b = np.array([0.5, 2.5, 1.0, 3.0, 4.0, 5.0])
    assert wilcoxon_paired(a, b) == wilcoxon_paired(np.delete(a, 2), np.delete(b, 2))
    with pytest.raises(ValueError, match="infinite"):
        wilcoxon_paired(np.array([1.0, np.inf]), np.array([0.0, 1.0]))


def test_metrics_norms_do_not_overflow():
    S = np.c_[np.arange(6.0), np.zeros(6)]
    Z = np.array([[0, 0], [1, 1], [2, 0], [3, 1], [4, 0]], dtype=float)
    for s in (1e-200, 1e200):
        np.testing.assert_allclose(metrics.step_cosines(S * s), 1.0)
        np.testing.assert_allclose(metrics.step_cosines(Z * s), 0.0, atol=1e-12)
        assert metrics.geodesic_efficiency(Z * s) == pytest.approx(metrics.geodesic_efficiency(Z), rel=1e-12)
        assert metrics.convergence_ratio(S * s, np.array([10.0, 0.0]) * s) == pytest.approx(0.5, rel=1e-12)
    with pytest.raises(ValueError, match="overflow"):
        metrics.step_cosines(np.array([[-1e308, 0.0], [1e308, 0.0]]))


# ---------------------------------------------------------------- dependencies of the core
def _run_blocked(code: str, blocked: list[str]):
    pre = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in blocked)
    return subprocess.run([sys.executable, "-c", pre + textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


def test_core_imports_with_numpy_and_scipy_only():
    blocked = ["pandas", "statsmodels"]  # made unimportable; the others must simply not be imported
    proc = _run_blocked(
        """
        import numpy as np
        import musicsom.inversion, musicsom.music, musicsom.metrics, musicsom.stats
        heavy = [m for m in ("sklearn", "torch", "matplotlib", "snakemake") if sys.modules.get(m) is not None]
        print("heavy:", heavy)
        from musicsom.stats import holm, wilcoxon_paired, wilcoxon_paired, paired_comparison
        print(holm([0.01, 0.04]).tolist(), wilcoxon_paired(np.arange(8.0), np.arange(8.0)[::-1])[1] > 0)
        try:
            paired_comparison(None, [], "m", "a", "b", [])
        except ImportError as exc:
            print("ImportError:", exc)
        """,
        blocked,
    )
    assert proc.returncode == 0, proc.stderr
    assert "heavy: []" in proc.stdout
    assert "[0.02, 0.04] True" in proc.stdout
    assert "ImportError:" in proc.stdout and "musicsom[pipeline]" in proc.stdout


def test_invert_rejects_mismatched_activation_length():
    W, X = _map(9, 6, 2)
    with pytest.raises(ValueError, match="activations"):
        invert(np.ones(5), W)
