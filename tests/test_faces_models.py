"""The face autoencoder (shapes, a short training run) and the dlib wrapper (skipped without dlib)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from musicsom.experiments import face_id  # noqa: E402
from musicsom.experiments.models.face_autoencoder import (  # noqa: E402
    FaceAutoencoder,
    decode_codes,
    encode_images,
    psnr,
    train_autoencoder,
)


@pytest.mark.parametrize("size, channels", [(64, (32, 64, 128, 256)), (32, (8, 16, 32)), (32, (16, 32, 64, 128))])
def test_autoencoder_shapes(size, channels):
    model = FaceAutoencoder(size, 512, channels).eval()
    x = torch.rand(3, 3, size, size)
    with torch.no_grad():
        z = model.encode(x)
        y = model.decode(z)
    assert z.shape == (3, 512)
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1


def test_autoencoder_refuses_an_indivisible_side():
    with pytest.raises(ValueError, match="multiple of"):
        FaceAutoencoder(40, 512, (8, 16, 32, 64))


def test_training_lowers_the_error_and_codes_round_trip():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, size=(4, 16, 16, 3))
    images = np.concatenate([base] * 8).astype(np.uint8)
    model, hist = train_autoencoder(images, images[:4], code_dim=16, channels=(8, 16), epochs=3, batch_size=8, lr=3e-3, seed=0, progress=False)
    assert [h["epoch"] for h in hist] == [1, 2, 3]
    assert hist[-1]["train_mse"] < hist[0]["train_mse"]
    codes = encode_images(model, images[:5])
    assert codes.shape == (5, 16)
    rec = decode_codes(model, codes)
    assert rec.shape == (5, 16, 16, 3) and rec.dtype == np.uint8
    # seeded: the same run gives the same weights
    model2, _ = train_autoencoder(images, None, code_dim=16, channels=(8, 16), epochs=3, batch_size=8, lr=3e-3, seed=0, progress=False)
    assert np.allclose(encode_images(model2, images[:5]), codes, atol=1e-5)


def test_psnr():
    a = np.zeros((2, 4, 4, 3), np.uint8)
    assert np.all(psnr(a, a) > 100)
    b = np.full((1, 4, 4, 3), 0.1)
    assert psnr(np.zeros_like(b), b)[0] == pytest.approx(20.0)


@pytest.mark.skipif(not face_id.available(), reason="dlib or face-recognition-models not installed")
def test_dlib_descriptor_of_an_image_and_itself():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(64, 64, 3)).astype(np.uint8)
    fid = face_id.FaceID(size=150)
    d1, found = fid.describe(img)
    d2, _ = fid.describe(img.copy())
    assert d1.shape == (128,)
    assert not found  # noise is no face: the descriptor falls back to the full frame
    assert face_id.identity_drift(d2[None], d1)[0] == pytest.approx(0.0, abs=1e-9)
    other, _ = fid.describe(255 - img)
    assert face_id.identity_drift(other[None], d1)[0] > 0
    assert fid.detect_many([img, img]).tolist() == [False, False]
