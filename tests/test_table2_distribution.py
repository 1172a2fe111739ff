"""Table 2's set-level metrics: every arm's frames against held-out real images, with the real floor."""

import numpy as np
import pandas as pd
import pytest

from musicsom.experiments import mnist as mn
from musicsom.pipeline.mnist import table2 as t2


def features(images):
    """A stand-in feature map with a known geometry: the mean intensity of each image row (28 features)."""
    return np.asarray(images, dtype=np.float64).reshape(len(images), 28, 28).mean(axis=2)


def test_an_arm_drawn_like_the_real_images_sits_at_the_floor_and_a_blank_arm_far_off():
    rng = np.random.default_rng(0)
    real = rng.random((600, 28, 28)) * 0.5
    train = rng.random((600, 28, 28)) * 0.5
    frames = {"music": rng.random((400, 28, 28)) * 0.5, "linear": np.zeros((400, 28, 28)) + 0.01 * rng.random((400, 28, 28))}
    rows = {r["arm"]: r for r in mn.arm_distributions(features, frames, real, train, k=5, n_subsets=20, subset_size=200, seed=0)}
    assert set(rows) == {"real_train", "music", "linear"}
    assert all(r["n_real"] == r["n_fake"] == 400 for r in rows.values())  # equal sizes: the largest arm's
    assert rows["music"]["fd"] < 0.01 and rows["real_train"]["fd"] < 0.01
    assert rows["linear"]["fd"] > 100 * rows["music"]["fd"]
    assert rows["music"]["precision"] > 0.75 and rows["music"]["coverage"] > 0.9
    assert rows["linear"]["precision"] == 0.0 and rows["linear"]["coverage"] == 0.0


def test_arm_distributions_refuses_empty_or_tiny_sets():
    with pytest.raises(ValueError, match="no arm"):
        mn.arm_distributions(features, {}, np.zeros((10, 28, 28)), np.zeros((10, 28, 28)), k=5, n_subsets=2, subset_size=5, seed=0)
    with pytest.raises(ValueError, match="too few"):
        mn.arm_distributions(features, {"music": np.zeros((3, 28, 28))}, np.zeros((10, 28, 28)), np.zeros((10, 28, 28)),
                             k=5, n_subsets=2, subset_size=5, seed=0)


def test_the_table_ranks_music_in_each_metric_s_own_direction():
    rows = []
    for seed in range(3):
        for arm, fd, prec in [("real_train", 1, 0.9), ("music", 2, 0.8), ("linear", 5, 0.9), ("knn_path", 1.5, 0.95),
                              ("vae", 3, 0.5), ("slerp", 4, 0.6), ("music@vae", 9, 0.1)]:
            rows.append({"seed": seed, "arm": arm, "fd": fd + 0.1 * seed, "kd": fd / 1e3, "kd_std": 0.0, "precision": prec,
                         "recall": prec, "density": prec, "coverage": prec, "n_real": 100, "n_fake": 100})
    t = t2.distribution_table(pd.DataFrame(rows))
    assert list(t["arm"][:6]) == ["real_train", "music", "linear", "knn_path", "vae", "slerp"]
    assert t["music_rank_fd"].iloc[0] == 2  # kNN path lower
    assert t["music_rank_precision"].iloc[0] == 3  # kNN path and linear higher
    assert t.set_index("arm").loc["music", "mean_fd"] == pytest.approx(2.1)
    md = t2.distribution_markdown(t)
    assert "real training images (floor)" in md and "MUSIC (VAE round trip)" in md
    assert "Fréchet distance 2" in md
