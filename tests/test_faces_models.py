"""The face code (PCA encoder, PCA decoder + learned correction: known answers, training, seeding, bad settings)
and the dlib wrapper (skipped without dlib)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("pytorch_msssim")

from musicsom.experiments import face_id  # noqa: E402
from musicsom.experiments.models.face_autoencoder import (  # noqa: E402
    FaceAutoencoder,
    decode_codes,
    encode_images,
    fit_pca,
    psnr,
    ssim,
    train_autoencoder,
)


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread, as the pipeline trains (and the same weights on every machine's thread count)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def two_tone_faces(n: int = 64, size: int = 16, seed: int = 0) -> np.ndarray:
    """uint8 (n, size, size, 3) images with two levels (50, 200): the sign of a random smooth field per channel.
    A few principal axes blur the edges; a correction that pushes values back toward the two levels helps."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    field = np.zeros((n, size, size, 3))
    for a in range(3):
        for b in range(3):
            field += rng.standard_normal((n, 1, 1, 3)) * np.cos(np.pi * (a * yy + b * xx))[None, :, :, None]
    return np.where(field > 0, 200, 50).astype(np.uint8)


def test_fit_pca_finds_the_exact_axes_of_a_low_rank_set():
    rng = np.random.default_rng(1)
    axes = np.linalg.qr(rng.standard_normal((30, 4)))[0].T  # 4 orthonormal axes in 30-d
    x = 0.3 + (rng.standard_normal((200, 4)) * [5.0, 3.0, 2.0, 1.0]) @ axes
    mean, comp = fit_pca(torch.tensor(x, dtype=torch.float32), 4, iterations=2, seed=0)
    assert np.allclose(mean.numpy(), x.mean(0), atol=1e-5)
    assert np.allclose(comp.numpy() @ comp.numpy().T, np.eye(4), atol=1e-5)
    exact = np.linalg.svd(x - x.mean(0), full_matrices=False)[2][:4]  # the sample's principal axes, in order
    assert np.allclose(np.abs(comp.numpy() @ exact.T), np.eye(4), atol=1e-4)
    assert np.allclose(np.linalg.svd(comp.numpy() @ axes.T)[1], 1.0, atol=1e-5)  # the set's 4-d subspace
    assert np.all(comp.numpy()[np.arange(4), np.abs(comp.numpy()).argmax(1)] > 0)  # signs fixed


def test_an_untrained_decoder_is_the_pca_reconstruction():
    images = two_tone_faces(40)
    model, hist = train_autoencoder(images, images[:8], code_dim=10, width=4, depth=3, epochs=0, seed=0, progress=False)
    assert [h["epoch"] for h in hist] == [0]
    x_chw = images[:6].transpose(0, 3, 1, 2).reshape(6, -1).astype(np.float64) / 255
    mean, comp = model.mean.double().numpy(), model.components.double().numpy()
    expected = np.clip(mean + (x_chw - mean) @ comp.T @ comp, 0, 1).reshape(6, 3, 16, 16).transpose(0, 2, 3, 1)
    codes = encode_images(model, images[:6])
    assert codes.shape == (6, 10) and np.allclose(codes, (x_chw - mean) @ comp.T, atol=1e-4)
    rec = decode_codes(model, codes)
    assert rec.dtype == np.uint8 and rec.shape == (6, 16, 16, 3)
    assert np.abs(rec.astype(int) - np.round(expected * 255)).max() <= 1
    assert np.array_equal(rec, decode_codes(model, codes, corrected=False))


def test_the_correction_keeps_the_code():
    """The correction is projected off the principal axes: a corrected image encodes to its own code."""
    torch.manual_seed(0)
    model = FaceAutoencoder(16, 10, width=4, depth=3)
    model.set_pca(torch.full((768,), 0.5), torch.linalg.qr(torch.randn(768, 10)).Q.T)
    for p in model.correction.parameters():
        torch.nn.init.normal_(p, std=0.3)
    z = torch.randn(5, 10) * 0.2
    with torch.no_grad():
        corrected = model.correct(model.linear_decode(z))
        assert not torch.allclose(corrected, model.linear_decode(z), atol=1e-3)
        assert torch.allclose(model.encode(corrected), z, atol=1e-4)


def test_training_lowers_the_loss_and_beats_the_pca_decoder():
    images = two_tone_faces(64)
    kw = dict(code_dim=20, width=16, depth=3, epochs=20, batch_size=8, lr=5e-3, warmup=5, seed=0, progress=False)
    model, hist = train_autoencoder(images, images[:16], ssim_weight=0.2, **kw)
    assert [h["epoch"] for h in hist] == list(range(21))
    assert hist[-1]["train_loss"] < hist[1]["train_loss"] - 0.005
    # on (training) images the error drops below the PCA reconstruction's, where the decoder started
    assert hist[-1]["val_psnr"] > hist[0]["val_psnr"] and hist[-1]["val_ssim"] > hist[0]["val_ssim"]


def test_seeds_give_different_weights_and_a_seed_repeats():
    images = two_tone_faces(32)
    kw = dict(code_dim=6, width=4, depth=3, epochs=1, batch_size=8, warmup=2, progress=False)
    a, _ = train_autoencoder(images, seed=0, **kw)
    b, _ = train_autoencoder(images, seed=0, **kw)
    c, _ = train_autoencoder(images, seed=1, **kw)
    wa, wb, wc = (torch.cat([p.flatten() for p in m.correction.parameters()]) for m in (a, b, c))
    assert torch.equal(wa, wb) and torch.equal(a.components, b.components)
    assert not torch.allclose(wa, wc)
    # the same data: both seeds find the same principal subspace (the axes up to round-off)
    assert torch.allclose((a.components @ c.components.T).abs(), torch.eye(6), atol=1e-3)


@pytest.mark.parametrize("kwargs, message", [
    (dict(code_dim=0), "code_dim must be an integer >= 1"),
    (dict(code_dim=40), r"n_components <= min\(faces - 1"),
    (dict(width=0), "width must be an integer >= 1"),
    (dict(depth=1), "depth must be an integer >= 2"),
    (dict(epochs=-1), "epochs must be an integer >= 0"),
    (dict(batch_size=0), "batch_size must be an integer >= 1"),
    (dict(lr=0.0), "lr must be a positive number"),
    (dict(ssim_weight=1.5), r"ssim_weight must be in \[0, 1\]"),
    (dict(pca_iterations=2.5), "pca_iterations must be an integer"),
])
def test_bad_settings_are_refused_with_the_key(kwargs, message):
    images = two_tone_faces(32)
    with pytest.raises(ValueError, match=message):
        train_autoencoder(images, **{"code_dim": 6, "width": 4, "depth": 3, "epochs": 1, "progress": False, **kwargs})


def test_the_config_refuses_bad_face_code_settings_by_key():
    """The schema names a bad value of faces.autoencoder; the cross-key check a code wider than the training faces."""
    import copy

    from snakemake.utils import validate

    from conftest import SCHEMA, SCHEMA_PATH, SMOKE
    from musicsom.pipeline import config_check

    def checked(size=None, **autoencoder):
        cfg = copy.deepcopy(SMOKE)
        cfg["faces"]["autoencoder"] = {**cfg["faces"].get("autoencoder", {}), **autoencoder}
        if size is not None:
            cfg.setdefault("data", {}).setdefault("lfw", {})["size"] = size
        errors = config_check.schema_errors(cfg, SCHEMA)
        if errors:
            return "\n".join(errors)
        validate(cfg, str(SCHEMA_PATH))  # fills the defaults
        return "\n".join(config_check.cross_key_errors(cfg))

    assert checked() == ""
    assert "faces.autoencoder.width = 0" in checked(width=0)
    assert "faces.autoencoder.depth = 1" in checked(depth=1)
    assert "faces.autoencoder.ssim_weight = 2" in checked(ssim_weight=2)
    assert "faces.autoencoder.channels" in checked(channels=[16, 32])  # the earlier model's key is gone
    out = checked(code_dim=300)  # the smoke run keeps about 270 training faces of its 300
    assert "faces.autoencoder.code_dim = 300: a PCA of 270 training faces" in out and "at most 269 components" in out, out
    assert "data.lfw.size = 63 is odd" in checked(size=63)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="multiple of 2"):
        FaceAutoencoder(15, 8)
    with pytest.raises(ValueError, match="exceeds the 768 pixel values"):
        FaceAutoencoder(16, 1000)
    with pytest.raises(ValueError, match="square RGB"):
        train_autoencoder(np.zeros((8, 16, 12, 3), np.uint8), progress=False)
    model = FaceAutoencoder(16, 8)
    with pytest.raises(ValueError, match=r"codes must be \(n, 8\)"):
        decode_codes(model, np.zeros((2, 7)))
    with pytest.raises(ValueError, match="the PCA must be"):
        model.set_pca(np.zeros(768), np.zeros((7, 768)))


def test_a_saved_face_code_loads_with_its_pca(tmp_path):
    from musicsom.experiments.models import checkpoint
    from musicsom.pipeline.files import load_model

    images = two_tone_faces(32)
    model, hist = train_autoencoder(images, code_dim=6, width=4, depth=3, epochs=1, batch_size=8, progress=False)
    torch.save(checkpoint(model, hist), tmp_path / "code.pt")
    loaded = load_model(tmp_path / "code.pt", FaceAutoencoder)
    codes = encode_images(model, images[:4])
    assert np.array_equal(encode_images(loaded, images[:4]), codes)
    assert np.array_equal(decode_codes(loaded, codes), decode_codes(model, codes))


def test_psnr_and_ssim():
    a = np.zeros((2, 16, 16, 3), np.uint8)
    assert np.all(psnr(a, a) > 100)
    b = np.full((1, 4, 4, 3), 0.1)
    assert psnr(np.zeros_like(b), b)[0] == pytest.approx(20.0)
    faces = two_tone_faces(3)
    assert np.allclose(ssim(faces, faces), 1.0, atol=1e-6)
    noisy = np.clip(faces + np.random.default_rng(0).normal(0, 40, faces.shape), 0, 255).astype(np.uint8)
    s = ssim(faces, noisy)
    assert s.shape == (3,) and np.all(s < 0.9)
    with pytest.raises(ValueError, match="at least 11"):
        ssim(np.zeros((1, 8, 8, 3)), np.zeros((1, 8, 8, 3)))


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
