"""The per-seed models table of the MNIST instruments (stage mnist.models_table)."""

import json

import numpy as np
import pandas as pd
import pytest

from musicsom.pipeline.files import InputError
from musicsom.pipeline.mnist import models_table as mt


def _clf(seed, acc):
    return {"seed": seed, "test_accuracy": acc, "train_accuracy": 0.99}


def _vae(seed, elbo):
    return {"seed": seed, "test_negative_elbo": elbo, "test_kl": 20.0, "test_bce_per_image": elbo - 20.0, "test_pixel_rmse": 0.09}


def test_one_row_per_seed_sorted_with_mean_and_sd():
    frame = mt.gather({"classifier": [_clf(2, 0.96), _clf(0, 0.95)], "vae": [_vae(0, 90.0), _vae(2, 92.0)]})
    assert list(frame["seed"]) == [0, 2]
    assert list(frame["classifier_test_accuracy"]) == [0.95, 0.96]
    out = mt.with_spread(frame)
    assert list(out["seed"]) == [0, 2, "mean", "sd"]
    assert out.loc[2, "vae_test_negative_elbo"] == pytest.approx(91.0)
    assert out.loc[3, "vae_test_negative_elbo"] == pytest.approx(np.sqrt(2.0))


def test_mismatched_or_repeated_seeds_are_refused():
    with pytest.raises(InputError, match="same seeds"):
        mt.gather({"classifier": [_clf(0, 0.9), _clf(1, 0.9)], "vae": [_vae(0, 90.0)]})
    with pytest.raises(InputError, match="seed 0"):
        mt.gather({"classifier": [_clf(0, 0.9), _clf(0, 0.9)], "vae": [_vae(0, 90.0)]})


def test_the_stage_writes_csv_and_markdown(tmp_path):
    paths = {}
    for kind, items in {"classifier": [_clf(0, 0.95), _clf(1, 0.97)], "vae": [_vae(0, 90.0), _vae(1, 91.0)]}.items():
        paths[kind] = []
        for s in items:
            p = tmp_path / f"{kind}{s['seed']}.json"
            p.write_text(json.dumps(s))
            paths[kind].append(str(p))
    out = tmp_path / "models.csv"
    mt.main(["--classifier", *paths["classifier"], "--vae", *paths["vae"], "--table", str(out)])
    t = pd.read_csv(out)
    assert list(t["seed"].astype(str)) == ["0", "1", "mean", "sd"]
    assert float(t.loc[2, "classifier_test_accuracy"]) == pytest.approx(0.96)
    assert "MNIST models per seed" in out.with_suffix(".md").read_text()


def test_vae_test_loss_is_the_sum_of_its_terms_and_seeded():
    from musicsom.experiments.models import train_vae, vae_test_loss

    rng = np.random.default_rng(0)
    x = (rng.random((64, 16)) < 0.3).astype(float)
    model, _ = train_vae(x, 2, 8, 1, 32, 1e-3, 0)
    a, b = vae_test_loss(model, x, seed=3), vae_test_loss(model, x, seed=3)
    assert a == b
    assert a["negative_elbo"] == pytest.approx(a["reconstruction"] + a["kl"])
    assert a["kl"] > 0
    assert vae_test_loss(model, x, seed=4)["negative_elbo"] != a["negative_elbo"]
    with pytest.raises(ValueError, match="\\[0, 1\\]"):
        vae_test_loss(model, x * 2, seed=0)
