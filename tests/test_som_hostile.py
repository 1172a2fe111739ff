"""Hostile numerics: the SOM core returns correct values (or a ValueError saying what to do), never silent garbage.

Checked on returned values, not only exception types: BMUs, squared distances, quantization and
topographic errors against exact references (rational arithmetic for arbitrary finite floats, direct
long-double sums for large cases), under common offsets (1e-6 .. 1e6), scales (1e-6 .. 1e6 and
2^±515, whose squares overflow/underflow float64), any chunk or batch size, and float32 training.
"""

import os
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from musicsom.som import (
    SOM,
    _TrainingBmus,
    best_matching_units,
    lattice_ring,
    majority_labels,
    quantization_error,
    sq_distances,
    topographic_error,
    u_matrix,
)

PROPERTY = settings(max_examples=int(os.environ.get("MUSICSOM_HYPOTHESIS_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
U = 2.0**-53


def _exact_sq(X, W):
    """Exact squared distances (rational arithmetic on the given floats)."""
    return [[sum((Fraction(float(a)) - Fraction(float(b))) ** 2 for a, b in zip(x, w)) for w in W] for x in X]


def _ld_sq(X, W):
    """Squared distances summed directly in long double (reference for larger arrays)."""
    d = X.astype(np.longdouble)[:, None, :] - W.astype(np.longdouble)[None, :, :]
    return (d * d).sum(-1)


def _clear(d2, margin):
    """Rows whose best squared distance beats the second best by more than ``margin`` (relative): no near-tie."""
    s = np.sort(d2, 1)
    return s[:, 1] - s[:, 0] > margin * s[:, 1]


# ---------------------------------------------------------------- arbitrary finite floats, exact references
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
moderate = st.floats(-1e3, 1e3, allow_nan=False)
magnitude = st.sampled_from([1.0, 1e-160, 1e-6, 1e6, 1e155, 2.0**515, 2.0**-515, 1e300, 1e-300])


@st.composite
def hostile_pair(draw):
    n, K, D = draw(st.integers(1, 4)), draw(st.integers(2, 4)), draw(st.integers(1, 3))
    if draw(st.booleans()):  # anything finite
        X = np.array(draw(st.lists(st.lists(finite, min_size=D, max_size=D), min_size=n, max_size=n)))
        W = np.array(draw(st.lists(st.lists(finite, min_size=D, max_size=D), min_size=K, max_size=K)))
    else:  # a common scale and offset on moderate values
        s, o = draw(magnitude), draw(st.sampled_from([0.0, 1.0, 1e6, -1e6, 1e-6])) * draw(magnitude)
        X = np.array(draw(st.lists(st.lists(moderate, min_size=D, max_size=D), min_size=n, max_size=n))) * s + o
        W = np.array(draw(st.lists(st.lists(moderate, min_size=D, max_size=D), min_size=K, max_size=K))) * s + o
    assume(np.all(np.isfinite(X)) and np.all(np.isfinite(W)))
    return X, W


@PROPERTY
@given(pair=hostile_pair())
def test_bmus_are_true_nearest_prototypes_for_any_finite_input(pair):
    X, W = pair
    exact = _exact_sq(X, W)
    D = X.shape[1]
    tol = Fraction(8 * (D + 4)) * Fraction(U)  # the direct float64 sum is accurate to this (relative)
    for n_best in (1, 2):
        got = best_matching_units(X, W, n_best=n_best).reshape(X.shape[0], -1)
        for row, picks in zip(exact, got):
            order = sorted(range(len(row)), key=lambda k: (row[k], k))
            for rank, k in enumerate(picks):
                # the unit in place `rank` is the true one, or within rounding of it (a genuine near-tie)
                true = row[order[rank]]
                assert row[k] <= true * (1 + tol), (rank, k, order)
            assert len(set(picks.tolist())) == len(picks)


MAX = Fraction(1.7976931348623157e308)
TINY = Fraction(2.2250738585072014e-308)


def _dec_sqrt(fr: Fraction) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        return (Decimal(fr.numerator) / Decimal(fr.denominator)).sqrt()


@PROPERTY
@given(pair=hostile_pair())
def test_distances_and_errors_are_exact_or_refused_never_inf_or_nan(pair):
    X, W = pair
    D = X.shape[1]
    exact = _exact_sq(X, W)
    best = [_dec_sqrt(min(row)) for row in exact]  # exact distances to the BMUs
    try:
        qe = quantization_error(X, W)
    except ValueError as e:  # refused only if a distance itself is beyond float64
        assert "rescale" in str(e) and max(best) > Decimal(1.7976931348623157e308)
    else:
        assert np.isfinite(qe) and qe >= 0
        assert qe == pytest.approx(float(sum(best) / len(best)), rel=1e-12, abs=0)
    try:
        d2 = sq_distances(X, W)
    except ValueError as e:  # refused only when some true value is not representable as a normal float64
        assert "rescale" in str(e)
        assert any(v > MAX or 0 < v < TINY for row in exact for v in row)
    else:
        assert np.all(np.isfinite(d2)) and np.all(d2 >= 0)
        for row, got in zip(exact, d2):
            for v, g in zip(row, got):
                assert v <= MAX
                if v >= TINY:
                    assert g == pytest.approx(float(v), rel=8 * (D + 4) * U, abs=0)
                else:  # not representable: returned only when negligible next to the coordinates, as 0 or a subnormal
                    assert g < 2.3e-308
    te = topographic_error(X, W, (1, W.shape[0]))
    assert 0.0 <= te <= 1.0
    try:
        U_ = u_matrix(W, (W.shape[0], 1))
    except ValueError as e:
        assert "rescale" in str(e)
        assert max(_dec_sqrt(v) for v in _exact_sq(W[1:], W[:-1])[0:1][0]) > Decimal(1.7976931348623157e308) or W.shape[0] > 2
    else:
        assert np.all(np.isfinite(U_)) and np.all(U_ >= 0)
        # the first unit's only neighbour is the second: U[0] is their exact distance
        assert U_[0, 0] == pytest.approx(float(_dec_sqrt(_exact_sq(W[:1], W[1:2])[0][0])), rel=1e-14, abs=0)
    som = SOM((W.shape[0], 1), "hexagonal")
    som.prototypes_ = W
    for call in (lambda: u_matrix(W, (W.shape[0], 1), "hexagonal"), som.distance_map, lambda: som.distance_map("mean")):
        try:
            out = call()
        except ValueError as e:
            assert "rescale" in str(e)
        else:
            assert np.all(np.isfinite(out)) and np.all(out >= 0)


# ---------------------------------------------------------------- offsets and scales, larger arrays
@pytest.mark.parametrize("offset", [0.0, 1e-6, -1e-6, 1e3, 1e6, -1e6])
@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
def test_offsets_and_scales_give_exact_values(offset, scale):
    rng = np.random.default_rng(11)
    X0, W0 = rng.standard_normal((3000, 6)), rng.standard_normal((40, 6))
    direction = rng.standard_normal(6)
    X, W = X0 * scale + offset * direction, W0 * scale + offset * direction
    ref = _ld_sq(X, W)
    d2 = sq_distances(X, W)
    np.testing.assert_allclose(d2, ref.astype(np.float64), rtol=40 * U, atol=0)
    clear = _clear(ref.astype(np.float64), 1e-12)
    assert clear.mean() > 0.99
    bmu = best_matching_units(X, W)
    np.testing.assert_array_equal(bmu[clear], np.argmin(ref, 1)[clear])
    np.testing.assert_array_equal(bmu, d2.argmin(1))
    two = best_matching_units(X, W, n_best=2)
    np.testing.assert_array_equal(two[:, 0], bmu)
    qe = quantization_error(X, W)
    assert qe == pytest.approx(float(np.sqrt(ref.min(1)).mean()), rel=1e-13)
    # and the same map in unshifted, unscaled coordinates gives the same ranking, up to the rounding of the shift
    # itself (|offset|·u absolute per coordinate, relative to a spread of `scale`)
    # (with offset/spread = 1e12 that rounding is a fifth of the spread: no ranking survives, nothing to compare)
    margin = max(1e-9, 1e3 * abs(offset) * 2.0**-52 / scale)
    same = _clear(_ld_sq(X0, W0).astype(np.float64), margin)
    assert margin > 1e-3 or same.mean() > 0.99
    np.testing.assert_array_equal(bmu[same & clear], best_matching_units(X0, W0)[same & clear])


@pytest.mark.parametrize("k", [515, -515, 900, -900])
def test_power_of_two_scales_are_exact_even_where_squares_overflow_or_underflow(k):
    rng = np.random.default_rng(12)
    X, W = rng.standard_normal((500, 4)), rng.standard_normal((12, 4))
    s = 2.0**k
    np.testing.assert_array_equal(best_matching_units(X * s, W * s), best_matching_units(X, W))
    np.testing.assert_array_equal(best_matching_units(X * s, W * s, n_best=3), best_matching_units(X, W, n_best=3))
    assert quantization_error(X * s, W * s) == quantization_error(X, W) * s
    assert topographic_error(X * s, W * s, (3, 4)) == topographic_error(X, W, (3, 4))
    assert topographic_error(X * s, W * s, (4, 3), "hexagonal") == topographic_error(X, W, (4, 3), "hexagonal")
    np.testing.assert_array_equal(u_matrix(W * s, (3, 4)), u_matrix(W, (3, 4)) * s)
    np.testing.assert_array_equal(u_matrix(W * s, (4, 3), "hexagonal"), u_matrix(W, (4, 3), "hexagonal") * s)
    with pytest.raises(ValueError, match="rescale"):  # squares of 2^±515 (±1e155) are outside float64
        sq_distances(X * s, W * s)
    np.testing.assert_array_equal(majority_labels(X * s, W * s, np.arange(500) % 3)[1], majority_labels(X, W, np.arange(500) % 3)[1])


@pytest.mark.parametrize("s", [1e155, 1e-160, 1e-150, 1e150])
def test_decimal_extreme_scales(s):
    rng = np.random.default_rng(13)
    X, W = rng.standard_normal((400, 3)), rng.standard_normal((9, 3))
    np.testing.assert_array_equal(best_matching_units(X * s, W * s), best_matching_units(X, W))
    assert quantization_error(X * s, W * s) == pytest.approx(quantization_error(X, W) * s, rel=1e-14)
    if s in (1e155, 1e-160):
        with pytest.raises(ValueError, match="rescale"):
            sq_distances(X * s, W * s)
    else:  # squares 1e±300: representable, so computed
        np.testing.assert_allclose(sq_distances(X * s, W * s), sq_distances(X, W) * s * s, rtol=1e-14)


@pytest.mark.parametrize("s", [1e155, 1e-160, 2.0**700])
def test_training_on_extreme_scales_is_the_scaled_training(s):
    rng = np.random.default_rng(14)
    X = rng.standard_normal((800, 3))
    for kwargs in (dict(), dict(bmu_dtype="float32"), dict(topology="hexagonal")):
        som = SOM((4, 4), epochs=5, **kwargs)
        W = som.fit(X * s).prototypes_
        W0 = SOM((4, 4), epochs=5, **kwargs).fit(X).prototypes_
        assert np.all(np.isfinite(W))
        np.testing.assert_allclose(W / s, W0, rtol=1e-9, atol=1e-9)
        assert som.quantization_error(X * s) == pytest.approx(quantization_error(X, W0) * s, rel=1e-9)
        assert 0.0 <= som.topographic_error(X * s) <= 1.0


@pytest.mark.parametrize("offset", [1e3, 1e6])
def test_float32_training_bmus_equal_float64_bmus_far_from_the_origin(offset):
    rng = np.random.default_rng(15)
    X = rng.standard_normal((4000, 8)) + offset
    W = rng.standard_normal((60, 8)) + offset
    exact = sq_distances(X, W)
    ref = best_matching_units(X, W)
    with _TrainingBmus(X, 60, np.dtype("float32"), 8192, 1) as search32, _TrainingBmus(X, 60, np.dtype("float64"), 8192, 1) as search64:
        b32, b64 = search32(W).copy(), search64(W).copy()
    clear = _clear(exact, 1e-4)  # float32 resolves gaps above ~1e-6 of the distance
    np.testing.assert_array_equal(b32[clear], ref[clear])
    np.testing.assert_array_equal(b64[_clear(exact, 1e-12)], ref[_clear(exact, 1e-12)])
    assert clear.mean() > 0.99 and (b32 == ref).mean() > 0.99
    # the whole training: float32 and float64 maps agree far from the origin as they do near it
    W32 = SOM((5, 4), epochs=6, bmu_dtype="float32").fit(X).prototypes_
    W64 = SOM((5, 4), epochs=6).fit(X).prototypes_
    np.testing.assert_allclose(W32 - offset, W64 - offset, atol=1e-6)
    np.testing.assert_allclose(W64 - offset, SOM((5, 4), epochs=6).fit(X - offset).prototypes_, atol=1e-6)


# ---------------------------------------------------------------- batch and chunk sizes change nothing
@PROPERTY
@given(seed=st.integers(0, 10_000), offset=st.sampled_from([0.0, 1e6, -1e3, 1e-6]), n=st.integers(1, 300),
       K=st.integers(2, 30), D=st.integers(1, 6), chunk=st.integers(1, 64), cut=st.integers(0, 300),
       dup=st.booleans())
def test_results_do_not_depend_on_batches_or_chunk_sizes(seed, offset, n, K, D, chunk, cut, dup):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D)) + offset
    W = rng.standard_normal((K, D)) + offset
    if dup:  # duplicate prototypes and samples sitting on prototypes: exact ties everywhere
        W[K // 2] = W[0]
        X[: min(n, 3)] = W[0]
    d2 = sq_distances(X, W)
    c = min(cut, n)
    if 0 < c < n:
        np.testing.assert_array_equal(np.vstack([sq_distances(X[:c], W), sq_distances(X[c:], W)]), d2)
    for i in rng.integers(0, n, 3):
        np.testing.assert_array_equal(sq_distances(X[i : i + 1], W)[0], d2[i])
    for n_best in (1, 2, min(3, K)):
        full = best_matching_units(X, W, n_best=n_best)
        np.testing.assert_array_equal(best_matching_units(X, W, n_best=n_best, chunk_size=chunk), full)
        ref = np.argsort(d2, axis=1, kind="stable")[:, :n_best]  # ties to the lower index
        np.testing.assert_array_equal(full.reshape(n, -1), ref)
    assert quantization_error(X, W, chunk_size=chunk) == quantization_error(X, W)
    grid = (1, K)
    assert topographic_error(X, W, grid, chunk_size=chunk) == topographic_error(X, W, grid)
    assert np.all(np.isfinite(d2))


# ---------------------------------------------------------------- integer arguments are never truncated
@PROPERTY
@given(value=st.one_of(st.floats(allow_nan=True), st.booleans(), st.text(max_size=3), st.none()),
       name=st.sampled_from(["epochs", "chunk_size", "n_threads", "random_state", "grid_rows", "grid_cols"]))
def test_non_integer_integer_arguments_are_refused_by_name(value, name):
    assume(not (name in ("n_threads", "random_state") and value is None))  # None means "all CPUs" / "fresh entropy"
    kwargs = dict(grid_shape=(3, 3), epochs=2)
    if name == "grid_rows":
        kwargs["grid_shape"] = (value, 3)
    elif name == "grid_cols":
        kwargs["grid_shape"] = (3, value)
    else:
        kwargs[name] = value
    with pytest.raises(ValueError, match=name.replace("grid_rows", r"grid_shape\[0\]").replace("grid_cols", r"grid_shape\[1\]")):
        SOM(**kwargs).fit(np.random.default_rng(0).standard_normal((30, 2)))


@PROPERTY
@given(value=st.one_of(st.floats(), st.booleans()))
def test_integer_arguments_of_the_functions_are_refused_by_name(value):
    rng = np.random.default_rng(0)
    X, W = rng.standard_normal((10, 2)), rng.standard_normal((4, 2))
    for call, name in ((lambda v: best_matching_units(X, W, n_best=v), "n_best"), (lambda v: best_matching_units(X, W, chunk_size=v), "chunk_size"),
                       (lambda v: quantization_error(X, W, chunk_size=v), "chunk_size"), (lambda v: lattice_ring(v, 1, (2, 2)), "unit"),
                       (lambda v: lattice_ring(0, v, (2, 2)), "n"), (lambda v: majority_labels(X, W, [0] * 10, n_classes=v), "n_classes"),
                       (lambda v: topographic_error(X, W, (v, 2)), "grid_shape")):
        with pytest.raises(ValueError, match=name):
            call(value)


def test_training_never_returns_nan_on_degenerate_data():
    for X in (np.ones((50, 3)), np.vstack([np.zeros((25, 2)), np.ones((25, 2))]), np.zeros((10, 1)),
              np.full((40, 2), 1e6) + np.arange(40)[:, None] * 1e-9):
        for topology in ("rectangular", "toroidal", "hexagonal", "hexagonal_toroidal"):
            som = SOM((4, 3), topology, epochs=4, bmu_dtype="float32").fit(X)
            assert np.all(np.isfinite(som.prototypes_))
            assert np.isfinite(som.quantization_error(X)) and 0.0 <= som.topographic_error(X) <= 1.0
            assert np.all(np.isfinite(som.distance_map())) and np.all(np.isfinite(som.transform(X)))
