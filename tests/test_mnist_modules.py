"""Unit tests of the MNIST stage's pure modules on tiny data: encoding, image metrics, stats, models, helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wilcoxon
from statsmodels.stats.multitest import multipletests

from musicsom import image_metrics as im
from musicsom.experiments import mnist as mn
from musicsom.experiments.common import linear_path
from musicsom.pipeline.files import json_safe
from musicsom.encoding import PCAWhitening, flatten_images
from musicsom.music import MusicParams
from musicsom.stats import holm, paired_comparison, wilcoxon_paired


# ---------------------------------------------------------------- encoding
def test_pca_whitening_round_trip_is_exact_at_full_rank():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 12)) @ rng.normal(size=(12, 12))
    enc = PCAWhitening(12).fit(X)
    Z = enc.encode(X)
    np.testing.assert_allclose(enc.decode(Z), X, atol=1e-10)
    np.testing.assert_allclose(Z.std(0, ddof=1), 1.0, atol=1e-10)  # whitened
    np.testing.assert_allclose(np.cov(Z.T), np.eye(12), atol=1e-8)
    assert enc.explained_variance_ratio_.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(enc.decode(Z[3]), X[3], atol=1e-10)  # one row in, one row out


def test_pca_whitening_truncated_is_a_projection_and_rebuilds_from_arrays():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 20))
    enc = PCAWhitening(5).fit(X)
    P = enc.decode(enc.encode(X))
    np.testing.assert_allclose(enc.decode(enc.encode(P)), P, atol=1e-10)  # idempotent
    again = PCAWhitening.from_arrays(enc.mean_, enc.components_, enc.explained_variance_, enc.total_variance_)
    np.testing.assert_allclose(again.encode(X), enc.encode(X))
    assert enc.explained_variance_ratio_.sum() < 1.0


def test_pca_whitening_refuses_rank_deficient_data_and_bad_sizes():
    X = np.zeros((50, 6))
    X[:, :2] = np.random.default_rng(2).normal(size=(50, 2))
    with pytest.raises(ValueError, match="rank"):
        PCAWhitening(4).fit(X)
    with pytest.raises(ValueError, match="n_components"):
        PCAWhitening(10).fit(X)
    with pytest.raises(ValueError, match="not fitted"):
        PCAWhitening(2).encode(X)


def test_flatten_images_scales_uint8():
    imgs = np.full((2, 3, 3), 255, dtype=np.uint8)
    assert flatten_images(imgs).shape == (2, 9)
    assert flatten_images(imgs).max() == 1.0


# ---------------------------------------------------------------- image metrics
def test_sharpness_of_constant_is_zero_and_checkerboard_is_high():
    const = np.full((1, 28, 28), 0.7)
    checker = (np.indices((28, 28)).sum(0) % 2).astype(float)[None]
    blur = np.outer(np.hanning(28), np.hanning(28))[None]
    s = im.laplacian_sharpness(np.concatenate([const, checker, blur]))
    assert s[0] == 0.0
    assert s[1] == pytest.approx(16.0)  # interior Laplacian is ±4 everywhere
    assert s[1] > 100 * s[2]


def test_knn_distance_of_a_training_image_is_zero_and_matches_brute_force():
    rng = np.random.default_rng(3)
    ref = rng.random((500, 49)).astype(np.float32)
    index = im.KnnIndex(ref, chunk=37)
    d = index.query(ref[:10], k=3)
    assert np.all(d[:, 0] == 0.0)
    Q = rng.random((25, 49))
    brute = np.sort(np.sqrt(((Q.astype(np.float32).astype(float)[:, None] - ref.astype(float)[None]) ** 2).sum(-1)), 1)[:, :5]
    np.testing.assert_allclose(index.query(Q, k=5), brute, rtol=1e-12)
    np.testing.assert_allclose(im.knn_distance(Q, ref, k=5), brute.mean(1), rtol=1e-12)
    with pytest.raises(ValueError, match="k must be"):
        index.query(Q, k=0)


def test_confidence_helpers():
    labels = np.array([0, 0, 8, 0, 1, 1, 7, 1, 1])
    assert im.crossing_step(labels, 1) == 4
    assert im.commit_step(labels, 1) == 7
    assert im.commit_step(labels, 9) == -1
    assert im.crossing_step(labels, 9) == -1
    assert im.third_class_steps(labels, 0, 1) == 2
    assert im.label_sequence(labels) == "0x2 8x1 0x1 1x2 7x1 1x2"
    P = np.full((3, 10), 0.01)
    P[1, 5] = 0.9
    P[2, 3] = 0.5
    assert im.strongest_third(P, 0, 1) == 5
    np.testing.assert_allclose(im.confidence(P), [0.01, 0.9, 0.5])


# ---------------------------------------------------------------- statistics
def test_holm_matches_statsmodels_and_keeps_nan():
    p = np.array([0.01, 0.04, 0.03, 0.2, np.nan])
    out = holm(p)
    np.testing.assert_allclose(out[:4], multipletests(p[:4], method="holm")[1])
    assert np.isnan(out[4])


def test_wilcoxon_paired_matches_scipy_and_handles_ties():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=12), rng.normal(size=12) + 0.5
    stat, p = wilcoxon_paired(a, b)
    ref = wilcoxon(a, b)
    assert stat == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    assert wilcoxon_paired(a, a) == (pytest.approx(float("nan"), nan_ok=True), 1.0)


def test_paired_comparison_counts_groups_and_adjusts():
    rows = []
    for pair in range(4):
        for start in range(3):
            rows.append({"pair": pair, "start": start, "method": "A", "m1": 1.0 + pair + start, "m2": 0.0 + start})
            rows.append({"pair": pair, "start": start, "method": "B", "m1": 0.5 + pair + start, "m2": 1.0 * (pair == 0) + start})
    res = paired_comparison(pd.DataFrame(rows), ["m1", "m2"], "method", "A", "B", ["pair", "start"], group_col="pair")
    r1 = res.set_index("metric").loc["m1"]
    assert r1["groups_A_higher"] == 4 and r1["groups_B_higher"] == 0 and r1["n"] == 12
    r2 = res.set_index("metric").loc["m2"]
    assert r2["groups_A_higher"] == 0 and r2["groups_B_higher"] == 1
    np.testing.assert_allclose(res["p_holm"], multipletests(res["p_value"], method="holm")[1])
    with pytest.raises(ValueError, match="lacks"):
        paired_comparison(pd.DataFrame(rows), ["nope"], "method", "A", "B", ["pair", "start"])


# ---------------------------------------------------------------- models
def test_vae_forward_shapes_and_seeded_training():
    torch = pytest.importorskip("torch")
    from musicsom.experiments.models import VAE, train_vae, vae_decode, vae_encode

    m = VAE(n_inputs=16, hidden=8, latent=3)
    logits, mu, logvar = m(torch.rand(5, 16))
    assert logits.shape == (5, 16) and mu.shape == (5, 3) and logvar.shape == (5, 3)
    X = np.random.default_rng(5).random((64, 16))
    m1, h1 = train_vae(X, latent=3, hidden=8, epochs=2, batch_size=16, seed=7)
    m2, h2 = train_vae(X, latent=3, hidden=8, epochs=2, batch_size=16, seed=7)
    assert h1 == h2
    z = vae_encode(m1, X[:4])
    assert z.shape == (4, 3)
    rec = vae_decode(m1, z)
    assert rec.shape == (4, 16) and rec.min() >= 0 and rec.max() <= 1
    with pytest.raises(ValueError, match="0, 1"):
        train_vae(X * 3, epochs=1)


def test_classifier_learns_a_separable_toy_problem():
    pytest.importorskip("torch")
    from musicsom.experiments.models import predict_proba, train_classifier

    rng = np.random.default_rng(6)
    y = rng.integers(0, 3, 300)
    X = rng.normal(size=(300, 4)) * 0.3 + np.eye(3, 4)[y] * 3
    model, hist = train_classifier(X, y, n_classes=3, hidden=(16,), epochs=15, batch_size=32, lr=1e-2, seed=0, x_val=X, y_val=y)
    P = predict_proba(model, X)
    assert P.shape == (300, 3)
    np.testing.assert_allclose(P.sum(1), 1.0)
    assert np.mean(P.argmax(1) == y) > 0.97
    assert hist[-1]["val_accuracy"] > 0.97


# ---------------------------------------------------------------- helpers of the stage
def test_choose_starts_is_seeded_and_of_the_source_class():
    y = np.tile(np.arange(10), 20)
    a = mn.choose_starts(y, 3, 8, 4, seed=0)
    assert np.all(y[a] == 3) and len(set(a)) == 4
    np.testing.assert_array_equal(a, mn.choose_starts(y, 3, 8, 4, seed=0))
    assert not np.array_equal(a, mn.choose_starts(y, 3, 8, 4, seed=1))
    with pytest.raises(ValueError, match="only"):
        mn.choose_starts(y, 3, 8, 100, seed=0)


def test_choose_target_honours_purity_and_relaxes():
    W = np.array([[0.0, 0], [1, 0], [5, 0], [9, 9]])
    labels = np.array([1, 1, 1, 2])
    purity = np.array([0.4, 0.5, 0.9, 1.0])
    assert mn.choose_target(W, labels, purity, [0.9, 0], 1, 0.0) == (1, False)
    assert mn.choose_target(W, labels, purity, [0.9, 0], 1, 0.7) == (2, False)
    assert mn.choose_target(W, labels, purity, [0.9, 0], 1, 0.95) == (1, True)
    with pytest.raises(ValueError, match="no prototype"):
        mn.choose_target(W, labels, purity, [0, 0], 5, 0.0)


def test_paths_and_fractions():
    S = linear_path([0.0, 0.0], [2.0, 0.0], 4)
    np.testing.assert_allclose(S[[0, -1]], [[0, 0], [2, 0]])
    assert mn.arc_fraction(S, 2) == pytest.approx(0.5)
    assert np.isnan(mn.arc_fraction(S, -1))
    np.testing.assert_array_equal(mn.frame_indices(11, 4), [0, 4, 8, 10])
    assert json_safe({"a": float("nan"), "b": [np.float64(1.5), np.inf]}) == {"a": None, "b": [1.5, None]}


def _toy_problem(D=6, K=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, D))
    enc = PCAWhitening(D).fit(np.hstack([X, rng.normal(size=(400, 784 - D)) * 1e-3]))
    W = rng.normal(size=(K, D))
    return enc, W, rng


def test_run_methods_and_path_metrics_on_a_toy_map():
    enc, W, rng = _toy_problem()
    classify = lambda Z: np.exp(-((Z[:, None, :2] - np.array([[0, 0], [3, 3]])[None]) ** 2).sum(-1)) + np.full((len(Z), 2), 1e-9)  # noqa: E731
    norm_classify = lambda Z: classify(Z) / classify(Z).sum(1, keepdims=True)  # noqa: E731
    x0 = np.zeros(6)
    target = int(np.argmax(W[:, 0] + W[:, 1]))
    res = mn.run_methods(x0, np.zeros(784), target, W, MusicParams(alpha=0.5, per_row_mean=True), 30, enc, norm_classify,
                         methods=("music", "linear"))
    assert set(res) == {"music", "linear"}
    for r in res.values():
        assert r["states"].shape == (31, 6) and r["images"].shape == (31, 28, 28) and r["probs"].shape == (31, 2)
        assert r["images"].min() >= 0 and r["images"].max() <= 1
    np.testing.assert_allclose(res["linear"]["states"][-1], W[target])
    row, series = mn.path_metrics(res["linear"], 0, 1, None)
    assert row["geodesic_efficiency"] == pytest.approx(1.0)
    assert row["continuity"] == pytest.approx(1.0)
    assert row["convergence_ratio"] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(row["manifold_distance"])
    assert series["sharpness"].shape == (31,)


def test_kappa_scales_the_unclipped_step_not_its_direction():
    _, W, rng = _toy_problem(D=5, K=30, seed=1)
    x = rng.normal(size=5) * 2
    P = np.arange(1, 30)
    r1, s1 = mn.music_residual(x, W, 0, P, MusicParams(kappa=0.1))
    r2, s2 = mn.music_residual(x, W, 0, P, MusicParams(kappa=0.2))
    assert s2 == pytest.approx(2 * s1) and r2 == pytest.approx(2 * r1)
    _, big = mn.music_residual(x, W, 0, P, MusicParams(lam=1e3))
    assert big < s1  # more regularisation, shorter step
