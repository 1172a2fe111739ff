"""ActivationInverter defects, each fixed: (a) activations no point can have were inverted to a confident
point; (b) it was not a scikit-learn estimator (no tags, no NotFittedError, no place in a Pipeline);
(c) it could not be saved. Every test named ``test_defect_*`` failed before the fix.

The residual tolerance (default 1e-4) was chosen by measuring the relative residual
``max_i |â_i − a_i| / max_i a_i`` of the least-squares point: exact float64 activations leave at most
2e-13 (random maps K = 4..400, D = 3..59; squashed maps up to condition 6e7; offsets 1e10; scales 2^±500;
a trained SOM), a point R away from a map of spread s about 1e-16 · R/s (1.4e-8 at R/s = 1e8, 1e-6 at
1e10), float32-computed activations up to 2e-5 (at an offset of 1e3); plain distances instead of squared
ones at least 0.54, the activations of a map whose prototypes moved by 1 % of their spread 2e-3, relative
noise of 1e-3 about 1e-3. The tests below keep the legitimate side of that measurement.
"""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pytest

from musicsom.inversion import ActivationInverter, Inverter, RankError, activations, invert_per_anchor
from musicsom.som import SOM, NotFittedError

DEFAULT_TOL = 1e-4


def _map(K=48, D=6, seed=0, n=200):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((K, D)), 1.5 * rng.standard_normal((n, D))


def _relative_error(X_hat, X):
    return float(np.max(np.linalg.norm(X_hat - X, axis=1) / np.linalg.norm(X, axis=1)))


# ---------------------------------------------------------------- (a) activations no point can have
def test_defect_plain_distances_are_refused_not_inverted():
    W, X = _map()
    est = ActivationInverter(W).fit()
    A = activations(X, W)
    # what used to come back (the same solve, unchecked): a point about 75 % off, without a word
    assert _relative_error(invert_per_anchor(np.sqrt(A), W)[0], X) > 0.3
    with pytest.raises(ValueError, match=r"squared Euclidean distances \|\|x - w_i\|\|\^2") as info:
        est.inverse_transform(np.sqrt(A))
    message = str(info.value)
    assert "row " in message and "residual_tol" in message and "of its largest activation" in message


def test_defect_the_message_names_the_worst_row_and_its_residual():
    W, X = _map(seed=1, n=6)
    A = activations(X, W)
    A[4] = np.sqrt(A[4])                         # one row of plain distances among squared ones
    A[2] = A[2] + 1e-3 * A[2].max()              # and one slightly off
    with pytest.raises(ValueError, match=r"row 4 \(worst of 2 rows over the tolerance\) differs .* by \d"):
        ActivationInverter(W).fit().inverse_transform(A)
    with pytest.raises(ValueError, match="row 0"):          # one vector (K,): its row is 0
        ActivationInverter(W).fit().inverse_transform(np.sqrt(activations(X[0], W)))


def test_defect_negative_activations_are_refused_at_once():
    W, X = _map(seed=2)
    A = activations(X, W)
    A[3, 7] = -A[3, 7]
    assert _relative_error(invert_per_anchor(A, W)[0][3:4], X[3:4]) > 0.01   # silently off before the fix
    with pytest.raises(ValueError, match=r">= 0; row 3 holds -[\d.e+-]+ at prototype 7"):
        ActivationInverter(W).fit().inverse_transform(A)


def test_defect_a_common_offset_is_caught_even_by_a_square_system():
    # K = D + 1: the anchored system is square, so only the reference's own distance can tell; it does
    W, X = _map(K=7, D=6, seed=3, n=20)
    A = activations(X, W)
    est = ActivationInverter(W).fit()
    np.testing.assert_allclose(est.inverse_transform(A), X, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="not the squared distances of any point"):
        est.inverse_transform(A + 0.01 * A.max(1, keepdims=True))


def test_legitimate_activations_pass_the_check_with_margin():
    """The legitimate side of the measurement: round-off, ill-conditioning, far points, offsets, scales, float32."""
    rng = np.random.default_rng(4)
    cases = []
    for K, D in [(4, 3), (7, 6), (48, 6), (60, 59), (400, 50)]:
        W, X = _map(K, D, seed=K + D)
        cases.append((f"random {K}x{D}", W, X))
    for squash in (1e-5, 1e-7):                       # prototypes almost on a hyperplane: condition up to 6e7
        W, X = _map(100, 20, seed=5)
        W[:, 0] *= squash
        X[:, 0] *= squash
        cases.append((f"squashed {squash}", W, X))
    W, _ = _map(20, 3, seed=6)
    U = rng.standard_normal((100, 3))
    cases.append(("1e8 map widths away", W, 1e8 * U / np.linalg.norm(U, axis=1, keepdims=True)))
    W, X = _map(40, 6, seed=7)
    cases.append(("offset 1e10", W + 1e10, X + 1e10))
    for k in (-500, 500):
        cases.append((f"scale 2^{k}", np.ldexp(W, k), np.ldexp(X, k)))
    for name, W, X in cases:
        est = ActivationInverter(W).fit()
        A = activations(X, W)
        X_hat = est.inverse_transform(A)          # no ValueError
        assert np.all(np.isfinite(X_hat)), name
        worst = max(float(np.max(Inverter(W, int(r))._invert(A[A.argmin(1) == r], residuals=True)[1])) for r in np.unique(A.argmin(1)))
        limit = DEFAULT_TOL / 1e3 if "away" not in name else DEFAULT_TOL / 50
        assert worst < limit, (name, worst)
    # activations computed in float32 (a GPU, say) leave up to 2e-5: still accepted
    W, X = _map(48, 6, seed=8)
    A32 = ((X[:, None, :].astype(np.float32) - W.astype(np.float32)) ** 2).sum(-1).astype(np.float64)
    assert _relative_error(ActivationInverter(W).fit().inverse_transform(A32), X) < 1e-5


def test_a_trained_som_and_its_activations_pass():
    X = np.random.default_rng(9).standard_normal((1000, 6)) * [5, 3, 1, 0.1, 0.01, 0.001]
    som = SOM((8, 6), epochs=8).fit(X)
    est = ActivationInverter(som.prototypes_).fit()
    np.testing.assert_allclose(est.inverse_transform(som.transform(X[:300])), X[:300], rtol=0, atol=1e-8)


def test_residual_tol_none_turns_the_checks_off_and_is_validated():
    W, X = _map(seed=10, n=5)
    A = activations(X, W)
    loose = ActivationInverter(W, residual_tol=None).fit()
    assert loose.inverse_transform(np.sqrt(A)).shape == X.shape
    assert loose.inverse_transform(A - 0.1).shape == X.shape
    tight = ActivationInverter(W, residual_tol=1e-2).fit()
    tight.inverse_transform(A * (1 + 1e-4 * np.random.default_rng(0).standard_normal(A.shape)))  # noisy, within 1e-2
    for bad in (0, -1e-3, np.inf, "small", [1e-4]):
        with pytest.raises(ValueError, match="residual_tol"):
            ActivationInverter(W, residual_tol=bad).fit()


def test_fit_on_activations_checks_them_and_stays_unfitted_when_they_do_not_belong():
    W, X = _map(seed=11)
    A = activations(X, W)
    assert ActivationInverter(W).fit(A).n_features_in_ == W.shape[1]
    other = W + 0.05 * np.random.default_rng(1).standard_normal(W.shape)
    est = ActivationInverter(other)
    with pytest.raises(ValueError, match="^fit: activations are not the squared distances"):
        est.fit(A)
    with pytest.raises(NotFittedError):
        est.inverse_transform(A)
    with pytest.raises(ValueError, match=r"X must be inputs \(n, D = 6\) or their activations \(n, K = 48\)"):
        ActivationInverter(W).fit(np.zeros((3, 5)))
    with pytest.raises(RankError):
        ActivationInverter(W[:6]).fit()


# ---------------------------------------------------------------- (b) a scikit-learn estimator
def test_defect_not_fitted_error_before_fit():
    W, X = _map(seed=12, n=3)
    est = ActivationInverter(W)
    for call in (lambda: est.transform(X), lambda: est.inverse_transform(activations(X, W)), lambda: est.save("unused.npz")):
        with pytest.raises(NotFittedError, match="This ActivationInverter instance is not fitted yet"):
            call()
    assert isinstance(NotFittedError("x"), ValueError)  # so `except ValueError` callers keep working


def test_defect_check_is_fitted_clone_and_tags():
    pytest.importorskip("sklearn", reason="scikit-learn's own helpers are what is tested")
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    from sklearn.utils import get_tags
    from sklearn.utils.validation import check_is_fitted

    W, X = _map(seed=13, n=3)
    est = ActivationInverter(W, reference=2, residual_tol=1e-6)
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(est)
    with pytest.raises(SklearnNotFittedError):
        est.transform(X)
    check_is_fitted(est.fit())
    assert get_tags(est).input_tags.two_d_array and not get_tags(est).target_tags.required
    twin = clone(est)
    assert sorted(twin.get_params()) == ["prototypes", "reference", "residual_tol"] and np.array_equal(twin.prototypes, W)
    assert twin.reference == 2 and twin.residual_tol == 1e-6 and not hasattr(twin, "prototypes_")
    assert est.set_params(residual_tol=None) is est and est.residual_tol is None
    with pytest.raises(ValueError, match="invalid parameter 'alpha'"):
        est.set_params(alpha=1)


def test_defect_last_step_of_a_som_pipeline():
    pytest.importorskip("sklearn", reason="scikit-learn's Pipeline is what is tested")
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    X = np.random.default_rng(14).standard_normal((400, 3))
    W = SOM((6, 5), epochs=5).fit(X).prototypes_        # the prototypes that SOM learns on X (deterministic)
    pipe = Pipeline([("som", SOM((6, 5), epochs=5)), ("inverse", ActivationInverter(W))])
    assert pipe.fit(X) is pipe                          # trains the SOM, then checks its activations against W
    check_is_fitted(pipe)
    X_back = pipe["inverse"].inverse_transform(pipe["som"].transform(X))
    np.testing.assert_allclose(X_back, X, rtol=0, atol=1e-9)
    assert not hasattr(pipe, "inverse_transform")       # SOM has no inverse: the inverter is it
    clone(pipe).fit(X)
    # a map that learns other prototypes (another lattice size here) fails loudly at fit
    with pytest.raises(ValueError, match="X must be inputs"):
        clone(pipe).set_params(som__grid_shape=(5, 5)).fit(X)
    with pytest.raises(ValueError, match="^fit: activations are not the squared distances"):
        clone(pipe).set_params(som__epochs=2).fit(X)


def test_defect_pipeline_transform_and_inverse_transform_after_an_invertible_step():
    pytest.importorskip("sklearn", reason="scikit-learn's Pipeline is what is tested")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(15)
    X = rng.standard_normal((300, 3)) * [1.0, 10.0, 100.0] + 1000.0
    W = rng.standard_normal((30, 3))                    # prototypes in the standardised space
    pipe = make_pipeline(StandardScaler(), ActivationInverter(W)).fit(X)
    A = pipe.transform(X)
    assert A.shape == (300, 30)
    np.testing.assert_allclose(pipe.inverse_transform(A), X, rtol=1e-12, atol=1e-9)


def test_defect_feature_names_from_a_dataframe():
    pd = pytest.importorskip("pandas")
    W, X = _map(seed=16, n=10)
    cols = [f"f{i}" for i in range(6)]
    est = ActivationInverter(W).fit(pd.DataFrame(X, columns=cols))
    assert list(est.feature_names_in_) == cols
    np.testing.assert_array_equal(est.transform(pd.DataFrame(X, columns=cols)), activations(X, W))
    est.transform(X)                                    # an array has no names to compare
    with pytest.raises(ValueError, match="columns"):
        est.transform(pd.DataFrame(X, columns=cols[::-1]))
    assert not hasattr(est.fit(X), "feature_names_in_")  # refit without names forgets them
    assert not hasattr(ActivationInverter(W).fit(pd.DataFrame(X)), "feature_names_in_")  # integer column names
    A = pd.DataFrame(activations(X, W), columns=[f"som{k}" for k in range(48)])
    assert not hasattr(ActivationInverter(W).fit(A), "feature_names_in_")  # activation columns are not input names


# ---------------------------------------------------------------- (c) save / load without pickle
@pytest.mark.parametrize("reference, residual_tol, names", [(None, 1e-4, False), (5, None, True), (0, 3e-7, False)])
def test_defect_save_and_load_give_bit_identical_answers(tmp_path, reference, residual_tol, names):
    pd = pytest.importorskip("pandas") if names else None
    W, X = _map(seed=17)
    fit_on = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]) if names else None
    est = ActivationInverter(W, reference=reference, residual_tol=residual_tol).fit(fit_on)
    A = activations(X, W)
    path = est.save(tmp_path / "inv.npz")
    assert path == tmp_path / "inv.npz" and sorted(p.name for p in tmp_path.iterdir()) == ["inv.npz"]
    with np.load(path, allow_pickle=False) as npz:       # nothing pickled: every entry loads without pickle
        assert all(npz[k].dtype.kind in "fiuU" for k in npz.files)
    back = ActivationInverter.load(path)
    assert back.reference == reference and back.residual_tol == residual_tol
    np.testing.assert_array_equal(back.prototypes_, est.prototypes_)
    np.testing.assert_array_equal(back.inverse_transform(A), est.inverse_transform(A))
    np.testing.assert_array_equal(back.transform(X), est.transform(X))
    if names:
        assert list(back.feature_names_in_) == list(est.feature_names_in_)
    else:
        assert not hasattr(back, "feature_names_in_")


def _write_npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def _good_arrays(W):
    return {"format": np.array("musicsom.ActivationInverter"), "format_version": np.array(1), "prototypes": W,
            "reference": np.array(-1), "residual_tol": np.array(1e-4)}


def _damaged_files(tmp_path, good):
    W = _map()[0]
    raw = good.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "tail_cut.npz").write_bytes(raw[:-30])
    (tmp_path / "noise.npz").write_bytes(np.random.default_rng(0).bytes(500))
    (tmp_path / "text.npz").write_text("prototypes: [[1, 2], [3, 4]]\n")
    (tmp_path / "empty.npz").write_bytes(b"")
    np.save(tmp_path / "plain.npy", W)                      # a .npy, not an archive
    corrupt = bytearray(raw)
    start = raw.index(b"prototypes.npy") + 200              # inside the prototypes' data: CRC mismatch
    corrupt[start : start + 8] = b"\xff" * 8
    (tmp_path / "corrupt.npz").write_bytes(bytes(corrupt))
    arrays = _good_arrays(W)
    _write_npz(tmp_path / "missing.npz", **{k: v for k, v in arrays.items() if k != "prototypes"})
    _write_npz(tmp_path / "version.npz", **{**arrays, "format_version": np.array(2)})
    _write_npz(tmp_path / "other_format.npz", **{**arrays, "format": np.array("musicsom.SOM")})
    _write_npz(tmp_path / "pickled.npz", **{**arrays, "reference": np.array([None], dtype=object)})
    _write_npz(tmp_path / "rank.npz", **{**arrays, "prototypes": W[:3]})
    _write_npz(tmp_path / "nan.npz", **{**arrays, "prototypes": np.full((4, 2), np.nan)})
    _write_npz(tmp_path / "ref_range.npz", **{**arrays, "reference": np.array(99)})
    _write_npz(tmp_path / "names.npz", **{**arrays, "feature_names_in_": np.array(["a", "b"])})
    with zipfile.ZipFile(tmp_path / "foreign.npz", "w") as z:  # a zip, but not one np.savez wrote
        z.writestr("readme.txt", "hello")
    _write_npz(tmp_path / "extra.npz", **arrays)
    with zipfile.ZipFile(tmp_path / "extra.npz", "a") as z:    # a save with a member that is no .npy array
        z.writestr("notes.txt", "hello")
    return {
        "foreign.npz": r"no format name and version: not a file written by ActivationInverter\.save",
        "extra.npz": r"entries \['notes\.txt'\] are not \.npy arrays",
        "truncated.npz": "damaged or truncated", "tail_cut.npz": "damaged or truncated",
        "noise.npz": r"not a \.npz \(zip\) archive", "text.npz": r"not a \.npz \(zip\) archive",
        "empty.npz": "the file is empty", "plain.npy": r"a single \.npy array, not a \.npz archive",
        "corrupt.npz": "damaged", "missing.npz": r"lacks the array\(s\) \['prototypes'\]", "version.npz": "format version",
        "other_format.npz": r"its format is 'musicsom\.SOM', not 'musicsom\.ActivationInverter'",
        "pickled.npz": "object arrays are never loaded",
        "rank.npz": "rank", "nan.npz": "NaN", "ref_range.npz": "reference", "names.npz": "feature_names_in_",
    }


def test_defect_damaged_files_raise_a_value_error_naming_file_and_problem(tmp_path):
    W, X = _map(seed=18)
    good = ActivationInverter(W).fit().save(tmp_path / "good.npz")
    for name, problem in _damaged_files(tmp_path, good).items():
        path = tmp_path / name
        with pytest.raises(ValueError) as info:
            ActivationInverter.load(path)
        message = str(info.value)
        assert f"{path} is not a readable ActivationInverter save: " in message, (name, message)
        assert re.search(problem, message), (name, message)
        assert "allow_pickle" not in message and not isinstance(info.value, zipfile.BadZipFile), (name, message)
    with pytest.raises(FileNotFoundError):                  # absent is not damaged
        ActivationInverter.load(tmp_path / "absent.npz")


def test_a_som_save_and_an_inverter_save_are_told_apart(tmp_path):
    # one reader (musicsom._npzfile) serves both classes: each refuses the other's file by its format name
    W, X = _map(seed=19)
    inverter_file = ActivationInverter(W).fit().save(tmp_path / "inverter.npz")
    som_file = tmp_path / "som.npz"
    SOM((3, 3), epochs=2).fit(X).save(som_file)
    with pytest.raises(ValueError, match=r"som\.npz is not a readable ActivationInverter save: its format is 'musicsom\.SOM'"):
        ActivationInverter.load(som_file)
    with pytest.raises(ValueError, match=r"inverter\.npz is not a readable SOM save: its format is 'musicsom\.ActivationInverter'"):
        SOM.load(inverter_file)
    with pytest.raises(ValueError, match="path must be a file path"):
        ActivationInverter.load(3.5)
