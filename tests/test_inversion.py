"""Exact inversion (docs/METHOD.md §2): round-off recovery at full rank, the rank error below it, the noise bound."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musicsom.inversion import (
    ActivationInverter,
    Inverter,
    RankError,
    activations,
    invert,
    invert_per_anchor,
    invert_with_bmu_anchor,
)


@settings(max_examples=60, deadline=None)
@given(D=st.integers(1, 12), extra=st.integers(0, 20), seed=st.integers(0, 2**31 - 1), scale=st.floats(0.1, 100))
def test_inversion_recovers_input_to_round_off(D, extra, seed, scale):
    rng = np.random.default_rng(seed)
    K = D + 1 + extra
    W = scale * rng.standard_normal((K, D))
    x = scale * rng.standard_normal(D)
    a = activations(x, W)
    for ref in (0, int(np.argmin(a)), K - 1):
        x_hat = Inverter(W, ref).invert(a)
        assert np.linalg.norm(x_hat - x) <= 1e-9 * max(1.0, np.linalg.norm(x))


@settings(max_examples=40, deadline=None)
@given(D=st.integers(2, 12), deficit=st.integers(0, 5), seed=st.integers(0, 2**31 - 1))
def test_rank_error_when_too_few_prototypes(D, deficit, seed):
    rng = np.random.default_rng(seed)
    K = max(D - deficit, 1) if deficit else D  # K <= D: at most D affinely independent points
    W = rng.standard_normal((max(K, 2), D))
    with pytest.raises(RankError, match=f"at least D \\+ 1 = {D + 1}"):
        Inverter(W, 0)


def test_rank_error_for_affinely_dependent_prototypes():
    rng = np.random.default_rng(0)
    # 20 prototypes on a 2-D plane inside R^3: plenty of points, rank only 2
    W = np.c_[rng.standard_normal((20, 2)), np.zeros(20)]
    with pytest.raises(RankError, match="rank 2 < D = 3"):
        Inverter(W, 0)


def test_many_vectors_at_once_equal_one_at_a_time():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((30, 6))
    X = rng.standard_normal((50, 6))
    A = activations(X, W)
    inv = Inverter(W, 3)
    batch = inv.invert(A)
    single = np.stack([inv.invert(a) for a in A])
    np.testing.assert_allclose(batch, single, atol=1e-12)
    np.testing.assert_allclose(batch, X, atol=1e-10)


def test_subset_and_bmu_anchor():
    rng = np.random.default_rng(2)
    D = 5
    W = rng.standard_normal((40, D))
    X = rng.standard_normal((20, D))
    A = activations(X, W)
    np.testing.assert_allclose(invert_with_bmu_anchor(A, W, m=D + 1), X, atol=1e-9)
    assert np.median(np.linalg.norm(invert_with_bmu_anchor(A, W, m=D, strict=False) - X, axis=1)) > 1e-2
    np.testing.assert_allclose(invert(A[0], W, subset=np.arange(D + 1)), X[0], atol=1e-9)


def test_invert_per_anchor_groups_rows_by_anchor():
    rng = np.random.default_rng(3)
    D = 6
    W = rng.standard_normal((30, D))
    X = rng.standard_normal((50, D))
    A = activations(X, W)
    X_hat, inverters = invert_per_anchor(A, W)
    np.testing.assert_allclose(X_hat, invert_with_bmu_anchor(A, W), atol=1e-10)  # same anchors, all K prototypes
    np.testing.assert_allclose(X_hat, X, atol=1e-9)
    assert set(inverters) == set(A.argmin(1).tolist())
    fixed, only = invert_per_anchor(A, W, np.full(50, 7))
    assert list(only) == [7]
    np.testing.assert_allclose(fixed, X, atol=1e-9)
    for bad in (np.zeros(49, dtype=int), np.full(50, 30), np.zeros(50)):
        with pytest.raises(ValueError, match="anchors"):
            invert_per_anchor(A, W, bad)


def test_noise_bound_corollary_1():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((25, 4))
    x = rng.standard_normal(4)
    a = activations(x, W)
    inv = Inverter(W, 0)
    for s in (1e-6, 1e-3, 1e-1, 1.0):
        eps = s * rng.standard_normal(a.shape)
        err = np.linalg.norm(inv.invert(a + eps) - x)
        assert err <= inv.error_bound(eps) * (1 + 1e-9)
    assert inv.condition_number >= 1.0
    assert inv.sigma_min > 0


def test_weighted_least_squares_matches_closed_form():
    rng = np.random.default_rng(4)
    W = rng.standard_normal((12, 3))
    x = rng.standard_normal(3)
    a = activations(x, W) + 0.01 * rng.standard_normal(12)
    B = rng.standard_normal((11, 11))
    S = B @ B.T + 11 * np.eye(11)
    inv = Inverter(W, 0, noise_cov=S)
    A, b = inv.A, inv.rhs(a)
    Si = np.linalg.inv(S)
    expected = np.linalg.solve(A.T @ Si @ A, A.T @ Si @ b)
    np.testing.assert_allclose(inv.invert(a), expected, atol=1e-10)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([[np.nan, 1.0], [0.0, 1.0], [1.0, 0.0]]), "NaN"),
        (np.ones(3), "2-D"),
    ],
)
def test_bad_prototypes_raise_value_error(bad, match):
    with pytest.raises(ValueError, match=match):
        Inverter(bad, 0)


def test_bad_activation_shape():
    W = np.random.default_rng(0).standard_normal((5, 2))
    with pytest.raises(ValueError, match="shape"):
        Inverter(W, 0).invert(np.ones(4))


# ---------------------------------------------------------------- ActivationInverter
def test_activation_inverter_round_trip_at_offset_one_million():
    rng = np.random.default_rng(5)
    W = rng.standard_normal((40, 6)) + 1e6
    X = rng.standard_normal((200, 6)) + 1e6
    est = ActivationInverter(W)
    assert est.fit(X) is est
    A = est.transform(X)
    np.testing.assert_array_equal(A, activations(X, W))
    X_hat = est.inverse_transform(A)
    assert np.abs(X_hat - X).max() <= 16 * np.finfo(float).eps * 1e6  # round-off of x itself
    assert set(est.inverters_) >= set(A.argmin(1).tolist())  # one factorisation per anchor (BMU)
    np.testing.assert_allclose(est.inverse_transform(A[7]), X[7], rtol=0, atol=1e-9)
    np.testing.assert_allclose(est.fit_transform(X[:3]), A[:3])
    fixed = ActivationInverter(W, reference=3).fit()
    np.testing.assert_allclose(fixed.inverse_transform(A), X, rtol=0, atol=1e-8)
    assert list(fixed.inverters_) == [3]


def test_activation_inverter_params_and_clone():
    W = np.random.default_rng(6).standard_normal((8, 3))
    est = ActivationInverter(W, reference=2)
    params = est.get_params()
    assert set(params) == {"prototypes", "reference", "residual_tol"} and params["prototypes"] is W and params["reference"] == 2
    assert est.set_params(reference=None) is est and est.reference is None
    with pytest.raises(ValueError, match="invalid parameter"):
        est.set_params(alpha=1)
    base = pytest.importorskip("sklearn.base", reason="scikit-learn provides clone()")
    twin = base.clone(est)
    assert twin.reference is None and np.array_equal(twin.prototypes, W) and not hasattr(twin, "prototypes_")
    assert "ActivationInverter" in repr(est)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda W: ActivationInverter(W).transform(W), "not fitted"),
        (lambda W: ActivationInverter(None).fit(), "prototypes"),
        (lambda W: ActivationInverter(W, reference=8).fit(), "reference"),
        (lambda W: ActivationInverter(W, reference=1.0).fit(), "reference"),
        (lambda W: ActivationInverter(W).fit(np.zeros((2, 2))), "X"),
        (lambda W: ActivationInverter(W).fit().inverse_transform(np.zeros((2, 7))), "activations"),
        (lambda W: ActivationInverter(W[:3]).fit(), "D \\+ 1"),
    ],
)
def test_activation_inverter_validates(make, match):
    W = np.random.default_rng(7).standard_normal((8, 3))
    with pytest.raises(ValueError, match=match):
        make(W)


def test_integer_arguments_are_not_truncated():
    W = np.random.default_rng(8).standard_normal((8, 3))
    for bad in (2.7, 2.0, True):
        with pytest.raises(ValueError, match="reference"):
            Inverter(W, bad)
    with pytest.raises(ValueError, match="m"):
        invert_with_bmu_anchor(activations(W[:2] + 0.1, W), W, m=4.5)
    np.testing.assert_allclose(Inverter(W, np.int64(2)).invert(activations(W[0] + 0.1, W)), W[0] + 0.1, atol=1e-12)


def test_weighted_error_bound_holds_for_correlated_noise():
    """With noise_cov, the reconstruction error stays within the whitened Corollary 1 bound (it was 37× over)."""
    rng = np.random.default_rng(3)
    W = rng.standard_normal((30, 5))
    x = rng.standard_normal(5)
    a = ((x - W) ** 2).sum(1)
    m = W.shape[0] - 1
    B = rng.standard_normal((m, m))
    S = 1e-4 * (B @ B.T / m + np.eye(m))
    inv = Inverter(W, reference=0, noise_cov=S)
    L = np.linalg.cholesky(S)
    ratios = []
    for _ in range(200):
        e = L @ rng.standard_normal(m)  # anchored noise with covariance S
        eps = np.concatenate([[0.0], e])  # ε_r = 0, so e_i = ε_i
        err = np.linalg.norm(inv.invert(a + eps) - x)
        ratios.append(err / float(inv.error_bound(eps)))
    assert max(ratios) <= 1.0 + 1e-9
    assert max(ratios) > 0.05  # the bound is not vacuous
