"""Distribution metrics (musicsom.experiments.distribution), the LeNet of their features, and its stage.

Known answers: identical sets, sets far apart, the Fréchet distance of Gaussians with given means and
covariances (closed forms), PRDC of a hand-worked 1-D example. Cross-checks against computations written
here, independent of the module and of the ``prdc`` package it calls: brute-force distances for PRDC,
the symmetric-eigenvalue route for the Fréchet trace term, explicit double sums for the kernel distance.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from musicsom.experiments import distribution as dist
from musicsom.experiments.distribution import (METRIC_KEYS, compare_sets, frechet_distance, frechet_distance_gaussians,
                                               kernel_distance, prdc)


# ---------------------------------------------------------------- independent references
def brute_prdc(real, fake, k):
    r_rad = np.sort(cdist(real, real), axis=1)[:, k]  # column 0: the point itself
    f_rad = np.sort(cdist(fake, fake), axis=1)[:, k]
    d = cdist(real, fake)
    inside = d < r_rad[:, None]
    return {"precision": inside.any(0).mean(), "recall": (d < f_rad[None, :]).any(1).mean(),
            "density": inside.sum(0).mean() / k, "coverage": (d.min(1) < r_rad).mean()}


def eigh_fd_gaussians(m1, s1, m2, s2):
    """‖Δμ‖² + tr s1 + tr s2 − 2 Σ sqrt(eig(s1^½ s2 s1^½)): symmetric eigenproblems only."""
    w, v = np.linalg.eigh(s1)
    w[w < 1e-12 * w.max()] = 0.0
    root = (v * np.sqrt(w)) @ v.T
    lam = np.linalg.eigvalsh(root @ s2 @ root)
    lam[lam < 1e-12 * lam.max()] = 0.0
    return float((m1 - m2) @ (m1 - m2) + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(lam).sum())


def loop_mmd2(x, y):
    """Unbiased MMD², k(x, y) = (x·y / d + 1)³, by explicit double sums."""
    m, d = x.shape
    k = lambda u, v: (float(u @ v) / d + 1.0) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def with_moments(rng, n, mean, cov):
    """``n`` samples whose sample mean and (unbiased) covariance are exactly ``mean`` and ``cov``."""
    z = rng.standard_normal((n, len(mean)))
    z -= z.mean(0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T  # whitened: sample covariance = I
    return z @ np.linalg.cholesky(cov).T + mean


# ---------------------------------------------------------------- identical and far-apart sets
def test_identical_sets_give_zero_distances_and_full_prdc():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((600, 8))
    b = a.copy()
    fd = frechet_distance(a, b)
    assert abs(fd) < 1e-10 * np.trace(np.cov(a, rowvar=False))
    kd, kd_std = kernel_distance(a, b, n_subsets=20, subset_size=200, seed=1)
    shifted, _ = kernel_distance(a, a + 0.5, n_subsets=20, subset_size=200, seed=1)
    # unbiased: the subset estimates scatter around ~0 (slightly below: a cross pair may be a point with itself)
    assert abs(kd) < 0.05 * shifted and kd_std > 0
    p = prdc(a, b, k=5)
    assert p["precision"] == 1.0 and p["recall"] == 1.0 and p["coverage"] == 1.0
    # each point is in its own ball and in the balls of the reals it is among the k - 1 nearest of; the
    # k-th nearest sits on the ball's edge (strict <): k per ball, so density is 1 up to round-off ties
    assert p["density"] == pytest.approx(1.0, abs=0.01)


def test_disjoint_gaussian_sets_are_far_apart_in_every_metric():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((500, 5))
    b = rng.standard_normal((500, 5)) + np.array([12.0, 0, 0, 0, 0])
    fd = frechet_distance(a, b)
    assert fd == pytest.approx(144.0, rel=0.05)  # ‖Δμ‖² = 144 dominates; the covariances nearly agree
    assert fd > 100 * frechet_distance(a, rng.standard_normal((500, 5)))  # vs a second sample of a's distribution
    kd, _ = kernel_distance(a, b, n_subsets=10, subset_size=200, seed=0)
    kd_same, _ = kernel_distance(a, rng.standard_normal((500, 5)), n_subsets=10, subset_size=200, seed=0)
    assert kd > 100 * abs(kd_same)
    p = prdc(a, b, k=5)
    assert p == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_a_narrower_fake_set_has_precision_but_little_recall():
    """Fakes collapsed near the real mode: all inside real balls (precision 1), covering few reals."""
    rng = np.random.default_rng(2)
    real = rng.standard_normal((1000, 4))
    fake = 0.2 * rng.standard_normal((1000, 4))
    p = prdc(real, fake, k=5)
    assert p["precision"] > 0.99 and p["recall"] < 0.2 and p["coverage"] < 0.5 and p["density"] > 1.0


# ---------------------------------------------------------------- the Fréchet distance
def test_frechet_distance_of_commuting_gaussians_is_the_closed_form():
    m1, m2 = np.array([1.0, -2.0, 0.5]), np.array([0.0, 1.0, 0.5])
    v1, v2 = np.array([4.0, 1.0, 0.25]), np.array([1.0, 9.0, 0.25])
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)  # 10 + (1 + 4 + 0) = 15
    assert expected == 15.0
    assert frechet_distance_gaussians(m1, np.diag(v1), m2, np.diag(v2)) == pytest.approx(15.0, rel=1e-12)


def test_frechet_distance_of_non_commuting_2d_gaussians_is_the_closed_form():
    """In 2-D, tr (AB)^½ = sqrt(tr AB + 2 sqrt(det A det B)) (the two eigenvalues' roots, summed)."""
    A = np.array([[2.0, 0.6], [0.6, 1.0]])
    B = np.array([[1.0, -0.8], [-0.8, 3.0]])
    m1, m2 = np.array([0.0, 0.0]), np.array([3.0, 4.0])
    tr_root = np.sqrt(np.trace(A @ B) + 2 * np.sqrt(np.linalg.det(A) * np.linalg.det(B)))
    expected = 25.0 + np.trace(A) + np.trace(B) - 2 * tr_root
    assert not np.allclose(A @ B, B @ A)
    assert frechet_distance_gaussians(m1, A, m2, B) == pytest.approx(expected, rel=1e-12)
    # and from samples whose mean and covariance are exactly those
    rng = np.random.default_rng(3)
    a, b = with_moments(rng, 400, m1, A), with_moments(rng, 300, m2, B)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-10)
    assert frechet_distance(b, a) == pytest.approx(expected, rel=1e-10)  # symmetric


# rank-deficient covariances (fewer samples than features): ~50 zero eigenvalues of the product come out as
# round-off of either sign, and their square roots (~1e-7 each) are where any two routes differ
@pytest.mark.parametrize("n_a, n_b, d, dead, rel", [(2000, 1500, 20, 0, 1e-10), (30, 40, 84, 0, 1e-6), (500, 500, 30, 6, 1e-10)])
def test_frechet_distance_agrees_with_the_symmetric_eigenvalue_route(n_a, n_b, d, dead, rel):
    """Full-rank covariances, rank-deficient ones (fewer samples than features), and features silent in
    both sets (post-ReLU units that never fire: zero rows and columns)."""
    rng = np.random.default_rng(n_a + d)
    a = np.maximum(rng.standard_normal((n_a, d)) @ rng.standard_normal((d, d)) * 0.3, 0)
    b = np.maximum(rng.standard_normal((n_b, d)) @ rng.standard_normal((d, d)) * 0.3 + 0.1, 0)
    a[:, :dead] = 0.0
    b[:, :dead] = 0.0
    ref = eigh_fd_gaussians(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert frechet_distance(a, b) == pytest.approx(ref, rel=rel)


def test_when_sqrtm_fails_the_covariances_are_shifted_and_the_shift_is_counted(monkeypatch):
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((300, 6)), 1.5 * rng.standard_normal((300, 6))
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    real_sqrtm, calls = dist.linalg.sqrtm, []

    def first_fails(m):
        calls.append(m)
        return np.full_like(m, np.nan) if len(calls) == 1 else real_sqrtm(m)

    monkeypatch.setattr(dist.linalg, "sqrtm", first_fails)
    got = frechet_distance(a, b, eps=1e-3)
    assert len(calls) == 2
    shift = 1e-3 * (np.trace(s1) + np.trace(s2)) / 12
    expected = eigh_fd_gaussians(a.mean(0), s1 + shift * np.eye(6), b.mean(0), s2 + shift * np.eye(6))
    assert got == pytest.approx(expected, rel=1e-10)
    assert got != pytest.approx(frechet_distance_gaussians(a.mean(0), s1, b.mean(0), s2), rel=1e-6)


def test_a_root_with_large_imaginary_parts_is_refused_small_ones_are_dropped(monkeypatch):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((200, 4)), rng.standard_normal((200, 4))
    real_sqrtm = dist.linalg.sqrtm
    exact = frechet_distance(a, b)
    monkeypatch.setattr(dist.linalg, "sqrtm", lambda m: real_sqrtm(m) + 1e-12j * np.eye(len(m)))
    assert frechet_distance(a, b) == pytest.approx(exact, rel=1e-12)
    monkeypatch.undo()
    # a "covariance" with a negative eigenvalue: an exact root exists, but it is complex
    with pytest.raises(ValueError, match="imaginary parts"):
        frechet_distance_gaussians(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))


# ---------------------------------------------------------------- the kernel distance
def test_kernel_distance_over_the_whole_sets_equals_the_explicit_double_sums():
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((25, 3)), rng.standard_normal((25, 3)) + 0.3
    # one subset of every sample: a permutation of each set, which the estimate does not see
    kd, kd_std = kernel_distance(x, y, n_subsets=3, subset_size=25, seed=0)
    assert kd == pytest.approx(loop_mmd2(x, y), rel=1e-12) and kd_std == pytest.approx(0.0, abs=1e-12)


def test_kernel_distance_is_seeded_and_unbiased():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((400, 6)), rng.standard_normal((400, 6))
    assert kernel_distance(a, b, 10, 100, seed=3) == kernel_distance(a, b, 10, 100, seed=3)
    assert kernel_distance(a, b, 10, 100, seed=3) != kernel_distance(a, b, 10, 100, seed=4)
    # two samples of one distribution: the unbiased estimates scatter around 0 (some negative), the
    # biased V-statistic (diagonal included) would sit above 0 on every subset
    values = [kernel_distance(a, b, 1, 50, seed=s)[0] for s in range(40)]
    assert min(values) < 0 < max(values)
    mean, _ = kernel_distance(a, b, 40, 50, seed=0)
    # the biased estimate on the same kind of subsets: kernel means with the diagonal included
    rng = np.random.default_rng(0)
    biased = []
    for _ in range(40):
        x, y = a[rng.choice(400, 50, replace=False)], b[rng.choice(400, 50, replace=False)]
        kern = lambda u, v: (u @ v.T / 6 + 1.0) ** 3  # noqa: E731
        biased.append(kern(x, x).mean() + kern(y, y).mean() - 2 * kern(x, y).mean())
    assert min(biased) > 0 and abs(mean) < 0.2 * np.mean(biased)


# ---------------------------------------------------------------- PRDC
def test_prdc_of_a_hand_worked_example():
    """1-D, k = 1. Reals 0, 1, 3, 7, 12: nearest-other distances 1, 1, 2, 4, 5, so the real balls are
    (−1, 1), (0, 2), (1, 5), (3, 11), (7, 17). Fakes 0.5, 5.5, 20, 21: radii 5, 5, 1, 1, balls (−4.5, 5.5),
    (0.5, 10.5), (19, 21), (20, 22). Every comparison is at least 0.5 from its threshold (no ties).

    precision: 0.5 ∈ ball(0), 5.5 ∈ ball(7); 20 and 21 in none -> 2/4.
    recall: 0, 1, 3 ∈ ball(0.5); 7 ∈ ball(5.5); 12 in none -> 4/5.
    density: 0.5 in the balls of 0 and 1, 5.5 in that of 7, 20 and 21 in none -> (2 + 1 + 0 + 0) / 4 / k = 3/4.
    coverage: nearest fakes of 0, 1, 3, 7, 12 at 0.5, 0.5, 2.5, 1.5, 6.5 vs radii 1, 1, 2, 4, 5 -> 3/5.
    """
    real = np.array([[0.0], [1.0], [3.0], [7.0], [12.0]])
    fake = np.array([[0.5], [5.5], [20.0], [21.0]])
    assert prdc(real, fake, k=1) == pytest.approx({"precision": 0.5, "recall": 0.8, "density": 0.75, "coverage": 0.6})
    assert brute_prdc(real, fake, 1) == pytest.approx({"precision": 0.5, "recall": 0.8, "density": 0.75, "coverage": 0.6})


@pytest.mark.parametrize("k", [1, 3, 5])
def test_prdc_agrees_with_brute_force_distances(k):
    rng = np.random.default_rng(8 + k)
    real = np.maximum(rng.standard_normal((400, 20)), 0)
    fake = np.maximum(1.2 * rng.standard_normal((300, 20)) + 0.1, 0)
    got, ref = prdc(real, fake, k), brute_prdc(real, fake, k)
    assert got == pytest.approx(ref, abs=1e-12)
    assert 0 < got["precision"] < 1 and 0 < got["recall"] < 1


# ---------------------------------------------------------------- compare_sets
def test_compare_sets_returns_every_metric_under_stable_keys():
    rng = np.random.default_rng(9)
    real, fake = rng.standard_normal((120, 7)), rng.standard_normal((90, 7)) + 0.2
    out = compare_sets(real, fake, k=3, n_subsets=4, subset_size=50, seed=2)
    assert tuple(out) == METRIC_KEYS == ("fd", "kd", "kd_std", "precision", "recall", "density", "coverage", "n_real", "n_fake")
    assert out["n_real"] == 120 and out["n_fake"] == 90 and isinstance(out["n_real"], int)
    assert out["fd"] == frechet_distance(real, fake)
    assert (out["kd"], out["kd_std"]) == kernel_distance(real, fake, 4, 50, 2)
    assert {key: out[key] for key in ("precision", "recall", "density", "coverage")} == prdc(real, fake, 3)
    json.dumps(out)  # plain floats and ints


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, match", [
    (lambda a: frechet_distance(a[0], a), "2-D array"),
    (lambda a: frechet_distance(a[None], a), "2-D array"),
    (lambda a: frechet_distance(a, a[:, :3]), "same number of features"),
    (lambda a: frechet_distance(a[:1], a), "at least 2"),
    (lambda a: frechet_distance(np.where(a > 1, np.nan, a), a), "NaN"),
    (lambda a: kernel_distance(a, a, n_subsets=2, subset_size=51), "exceeds the smaller set"),
    (lambda a: kernel_distance(a, a, n_subsets=2, subset_size=1), "subset_size must be >= 2"),
    (lambda a: kernel_distance(a, a, n_subsets=0, subset_size=10), "n_subsets must be >= 1"),
    (lambda a: prdc(a, a[:5], k=5), "fake set has 5 samples, too few for k = 5"),
    (lambda a: prdc(a[:3], a, k=5), "real set has 3 samples"),
    (lambda a: prdc(a, a, k=0), "k must be >= 1"),
    (lambda a: compare_sets(a, a[:, :2], k=3, n_subsets=2, subset_size=10, seed=0), "same number of features"),
    (lambda a: frechet_distance_gaussians(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3)), "d × d covariances"),
])
def test_bad_input_is_refused_with_a_message_naming_it(call, match):
    a = np.random.default_rng(10).standard_normal((50, 4))
    with pytest.raises(ValueError, match=match):
        call(a)


# ---------------------------------------------------------------- the LeNet
@pytest.fixture(scope="module")
def lenet():
    """The LeNet module (torch is in the pipeline extra; skipped without it)."""
    pytest.importorskip("torch")
    from musicsom.experiments.models import lenet

    return lenet


@pytest.fixture(scope="module")
def tiny_mnist(mirror):
    """The first 600 training and 300 test images of the real MNIST (the data mirror)."""
    from musicsom.pipeline.datasets.mnist import read_idx

    folder = mirror / "mnist"
    x = read_idx(folder / "train-images-idx3-ubyte.gz")[:600]
    y = read_idx(folder / "train-labels-idx1-ubyte.gz")[:600].astype(np.int64)
    xt = read_idx(folder / "t10k-images-idx3-ubyte.gz")[:300]
    yt = read_idx(folder / "t10k-labels-idx1-ubyte.gz")[:300].astype(np.int64)
    return x, y, xt, yt


def test_lenet_training_on_a_tiny_subset_lowers_the_loss_and_learns(lenet, tiny_mnist):
    from musicsom.experiments.models import seed_everything

    train_lenet, lenet_accuracy, lenet_features = lenet.train_lenet, lenet.lenet_accuracy, lenet.lenet_features
    x, y, xt, yt = tiny_mnist
    seed_everything(0, threads=1)
    model, history = train_lenet(x, y, epochs=4, batch_size=32, lr=0.005, seed=0, x_val=xt, y_val=yt)
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    assert lenet_accuracy(model, xt, yt) == history[-1]["val_accuracy"] > 0.7  # chance is 0.1
    f = lenet_features(model, xt)
    assert f.shape == (300, 84) and f.dtype == np.float64 and f.min() >= 0  # post-ReLU
    # uint8, [0, 1] floats, flat rows and channel-first images are the same input
    for same in (xt.astype(np.float64) / 255, (xt.astype(np.float32) / 255).reshape(300, 784), xt[:, None] / 255.0):
        np.testing.assert_allclose(lenet_features(model, same), f, rtol=1e-6, atol=1e-6)
    assert lenet_features(model, xt[:0]).shape == (0, 84)


def test_lenet_seeds_give_different_weights_and_one_seed_the_same(lenet, tiny_mnist):
    import torch

    from musicsom.experiments.models import seed_everything

    x, y, _, _ = tiny_mnist

    def weights(seed):
        seed_everything(seed, threads=1)
        model, _ = lenet.train_lenet(x[:128], y[:128], epochs=1, batch_size=32, seed=seed)
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    w0, w0_again, w1 = weights(0), weights(0), weights(1)
    assert torch.equal(w0, w0_again)
    assert not torch.allclose(w0, w1)


def test_lenet_refuses_bad_images_and_labels(lenet):
    train_lenet = lenet.train_lenet
    x = np.zeros((4, 28, 28))
    with pytest.raises(ValueError, match="28 × 28"):
        train_lenet(np.zeros((4, 27, 27)), [0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        train_lenet(x + 2.0, [0, 1, 2, 3])
    with pytest.raises(ValueError, match="one label per image"):
        train_lenet(x, [0, 1, 2])
    with pytest.raises(ValueError, match="labels must be integers in"):
        train_lenet(x, [0, 1, 2, 10])
    with pytest.raises(ValueError, match="epochs >= 1"):
        train_lenet(x, [0, 1, 2, 3], epochs=0)
    with pytest.raises(ValueError, match="28 × 28"):
        lenet.lenet_features(lenet.LeNet(), np.zeros((2, 700)))


# ---------------------------------------------------------------- the stage
def _digits_npz(path, tiny):
    x, y, xt, yt = tiny
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    return path


FEATURES = {"epochs": 1, "batch_size": 64, "lr": 0.005, "n_floor": 100, "k": 3, "n_subsets": 3, "subset_size": 50}


def test_the_stage_writes_the_model_and_the_floor(tmp_path, lenet, tiny_mnist):
    from musicsom.pipeline.files import load_model
    from musicsom.pipeline.mnist import features

    data = _digits_npz(tmp_path / "digits.npz", tiny_mnist)
    features.main(["--data", str(data), "--n-train", "0", "--n-test", "0", "--features", json.dumps(FEATURES),
                   "--seed", "3", "--threads", "1", "--device", "cpu", "--model", str(tmp_path / "lenet.pt"),
                   "--summary", str(tmp_path / "lenet.json")])
    summary = json.loads((tmp_path / "lenet.json").read_text())
    assert summary["seed"] == 3 and summary["n_train"] == 600 and summary["n_test"] == 300
    assert 0.1 < summary["test_accuracy"] <= 1 and summary["train_seconds"] > 0
    floor = summary["floor"]
    assert set(METRIC_KEYS) <= set(floor) and floor["n_real"] == floor["n_fake"] == 100
    model = load_model(tmp_path / "lenet.pt", lenet.LeNet)
    x, y, xt, yt = tiny_mnist
    assert lenet.lenet_accuracy(model, xt, yt) == summary["test_accuracy"]
    # the floor is reproducible from the checkpoint and the documented draw
    i_train, i_test = features.floor_indices(600, 300, 100, 3)
    again = compare_sets(lenet.lenet_features(model, xt[i_test]), lenet.lenet_features(model, x[i_train]), k=3, n_subsets=3,
                         subset_size=50, seed=3)
    assert again == {key: floor[key] for key in METRIC_KEYS}


@pytest.mark.parametrize("change, match", [
    ({"n_floor": 400}, "n_floor = 400 exceeds the images at hand"),
    ({"subset_size": 200}, "subset_size = 200 exceeds n_floor"),
    ({"k": 100}, "needs more than k floor images"),
])
def test_the_stage_refuses_a_floor_larger_than_its_images(tmp_path, lenet, tiny_mnist, change, match):
    from musicsom.pipeline.files import InputError
    from musicsom.pipeline.mnist import features

    data = _digits_npz(tmp_path / "digits.npz", tiny_mnist)
    with pytest.raises(InputError, match=match):
        features.main(["--data", str(data), "--n-train", "0", "--n-test", "0", "--features",
                       json.dumps({**FEATURES, **change}), "--seed", "0", "--device", "cpu",
                       "--model", str(tmp_path / "m.pt"), "--summary", str(tmp_path / "s.json")])
