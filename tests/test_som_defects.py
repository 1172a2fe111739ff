"""Four defects of the SOM estimator, each fixed and kept fixed.

1. ``bmu_dtype="float32"`` under a far outlier: the mean-centred float32 search could not resolve
   the other rows, and the map came out several times worse, silently. Now such data are searched in
   float64 (the float64 map exactly) with a RuntimeWarning; ordinary data keep the float32 search.
2. ``sigma_end`` above the (resolved) ``sigma_start`` made the neighbourhood grow: now a ValueError.
3. DataFrame column names were ignored (reordered columns gave other BMUs): now ``feature_names_in_``
   and scikit-learn's checks.
4. ``SOM.save`` / ``SOM.load``: a ``.npz`` round trip without pickle; a damaged file raises a
   ValueError naming the file and what is wrong.
"""

from __future__ import annotations

import os
import warnings
import zipfile

import numpy as np
import pytest

from musicsom.distances import _TrainingBmus
from musicsom.som import SOM, NotFittedError, best_matching_units, quantization_error, sq_distances


def _blobs(n=600, d=4, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(5, d))
    return centres[rng.integers(0, 5, n)] + rng.normal(size=(n, d))


def _with_outlier(n=1000, seed=0):
    X = np.random.default_rng(seed).random((n, 2))
    X[0, 0] = 1e7  # one row 1e7 away: the mean of the rows moves 1e4 away from all the others
    return X


# ---------------------------------------------------------------- 1. float32 under an outlier
def test_float32_search_under_an_outlier_matches_the_float64_map():
    X = _with_outlier()
    f64 = SOM((10, 10), bmu_dtype="float64").fit(X)
    with pytest.warns(RuntimeWarning, match=r"bmu_dtype='float32' cannot resolve these data.*runs in float64.*outliers"):
        f32 = SOM((10, 10), bmu_dtype="float32").fit(X)
    bulk = X[1:]
    qe64, qe32 = quantization_error(bulk, f64.prototypes_), quantization_error(bulk, f32.prototypes_)
    assert qe32 <= 1.02 * qe64, (qe32, qe64)  # was about 4.7 times worse
    np.testing.assert_array_equal(best_matching_units(bulk, f32.prototypes_), best_matching_units(bulk, f64.prototypes_))


def test_float32_search_is_kept_for_ordinary_data_without_a_warning():
    ordinary = {
        "clusters": _blobs(),
        "far from the origin": _blobs() * 1e-3 + 1e6,  # the frame removes the offset
        "huge": _blobs() * 1e150,  # and the scale
        "heavy tails": np.random.default_rng(1).standard_t(2, size=(600, 3)),
    }
    for what, X in ordinary.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with _TrainingBmus(X, 16, np.dtype(np.float32), 8192, 1) as search:
                assert search.Xa.dtype == np.float32, what
            SOM((4, 4), epochs=3, bmu_dtype="float32").fit(X)
    with pytest.warns(RuntimeWarning), _TrainingBmus(_with_outlier(), 16, np.dtype(np.float32), 8192, 1) as search:
        assert search.Xa.dtype == np.float64


def test_float32_fallback_gives_the_float64_map_bit_for_bit():
    X = _with_outlier(400, seed=2)
    with pytest.warns(RuntimeWarning):
        f32 = SOM((5, 5), epochs=6, bmu_dtype="float32").fit(X)
    np.testing.assert_array_equal(f32.prototypes_, SOM((5, 5), epochs=6).fit(X).prototypes_)


# ---------------------------------------------------------------- 2. a growing neighbourhood
def test_sigma_end_above_the_default_sigma_start_is_refused():
    X = _blobs(200)
    som = SOM((4, 4), epochs=5, sigma_end=3.0)  # default sigma_start: half the larger side, 2.0
    with pytest.raises(ValueError, match=r"sigma_end = 3\.0 .*sigma_start = 2\.0 .*default.*grow") as err:
        som.fit(X)
    assert "sigma_end <= sigma_start" in str(err.value) and "pass sigma_start explicitly" in str(err.value)
    assert not hasattr(som, "prototypes_")
    with pytest.raises(ValueError, match="sigma_end = 3.0"):
        som.sigmas((4, 4))
    assert som.sigmas((8, 8))[0] == 4.0  # a larger lattice: the default start is 4.0 and the range shrinks


def test_sigma_end_above_an_explicit_sigma_start_is_refused_and_equal_is_allowed():
    X = _blobs(200)
    with pytest.raises(ValueError, match=r"sigma_end = 1\.5 is larger than sigma_start = 1\.0.*sigma_end <= sigma_start"):
        SOM((4, 4), epochs=5, sigma_start=1.0, sigma_end=1.5).fit(X)
    for params in (dict(sigma_end=2.0), dict(sigma_start=1.5, sigma_end=1.5)):  # equal: a constant width
        som = SOM((4, 4), epochs=5, **params).fit(X)
        assert len({h["sigma"] for h in som.history_}) == 1


# ---------------------------------------------------------------- 3. feature names
COLUMNS = ["tempo", "energy", "valence", "loudness"]
METHODS = {
    "transform": lambda som, X: som.transform(X),
    "predict": lambda som, X: som.predict(X),
    "score": lambda som, X: som.score(X),
    "bmu": lambda som, X: som.bmu(X),
    "quantization_error": lambda som, X: som.quantization_error(X),
    "topographic_error": lambda som, X: som.topographic_error(X),
    "win_map": lambda som, X: som.win_map(X),
    "activation_response": lambda som, X: som.activation_response(X),
    "labels_map": lambda som, X: som.labels_map(X, [0] * len(X)),
}


@pytest.fixture(scope="module")
def pd():
    return pytest.importorskip("pandas", reason="the feature-name checks take a DataFrame")


@pytest.fixture(scope="module")
def named(pd):
    X = _blobs(300)
    df = pd.DataFrame(X, columns=COLUMNS)
    return SOM((4, 3), epochs=5).fit(df), df


def test_fit_on_a_dataframe_records_feature_names(named, pd):
    som, df = named
    assert isinstance(som.feature_names_in_, np.ndarray) and som.feature_names_in_.dtype == object
    assert som.feature_names_in_.tolist() == COLUMNS
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(som.transform(df), sq_distances(df.to_numpy(), som.prototypes_))
        assert som.predict(df).shape == (300,)
    assert som.get_feature_names_out().tolist() == [f"som{k}" for k in range(12)]
    assert som.get_feature_names_out(COLUMNS).shape == (12,)
    with pytest.raises(ValueError, match="input_features is not equal to feature_names_in_"):
        som.get_feature_names_out(COLUMNS[::-1])
    assert not hasattr(SOM((4, 3), epochs=2).fit(df.to_numpy()), "feature_names_in_")
    assert not hasattr(SOM((4, 3), epochs=2).fit(pd.DataFrame(df.to_numpy())), "feature_names_in_")  # 0, 1, ...: no names


@pytest.mark.parametrize("method", sorted(METHODS))
def test_reordered_or_other_names_raise(named, method):
    som, df = named
    with pytest.raises(ValueError, match="Feature names must be in the same order as they were in fit"):
        METHODS[method](som, df[COLUMNS[::-1]])
    with pytest.raises(ValueError, match="(?s)Feature names unseen at fit time:\n- bpm\n.*seen at fit time, yet now missing:\n- tempo"):
        METHODS[method](som, df.rename(columns={"tempo": "bpm"}))


@pytest.mark.parametrize("method", sorted(METHODS))
def test_names_on_one_side_only_warn_at_the_callers_line(named, method):
    som, df = named
    with pytest.warns(UserWarning, match="X does not have valid feature names, but SOM was fitted with feature names") as rec:
        METHODS[method](som, df.to_numpy())
    assert rec[0].filename == __file__
    plain = SOM((4, 3), epochs=3).fit(df.to_numpy())
    with pytest.warns(UserWarning, match="X has feature names, but SOM was fitted without feature names") as rec:
        METHODS[method](plain, df)
    assert rec[0].filename == __file__


def test_refit_on_a_plain_array_forgets_the_names_and_mixed_names_are_refused(named, pd):
    _, df = named
    som = SOM((4, 3), epochs=3).fit(df)
    som.fit(df.to_numpy())
    assert not hasattr(som, "feature_names_in_")
    with pytest.raises(ValueError, match="column names of several types"):
        SOM((4, 3), epochs=3).fit(pd.DataFrame(df.to_numpy(), columns=["a", 1, "c", "d"]))
    assert som.winner(df.to_numpy()[0]) == divmod(int(som.predict(df.to_numpy()[:1])[0]), 3)


def test_scikit_learns_own_column_name_check_passes(pd):
    pytest.importorskip("sklearn")
    from sklearn.utils.estimator_checks import check_dataframe_column_names_consistency

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Estimator SOM does not inherit from `sklearn.base.BaseEstimator`")
        check_dataframe_column_names_consistency("SOM", SOM((3, 3), epochs=3))


# ---------------------------------------------------------------- 4. save / load
def test_save_load_round_trip_is_bit_identical(tmp_path, named):
    _, df = named
    som = SOM((4, 4), "hexagonal_toroidal", epochs=4, sigma_start=1.7, bmu_dtype="float32", n_threads=2).fit(df)
    path = tmp_path / "map.som"  # written exactly there: no .npz appended
    som.save(path)
    assert sorted(os.listdir(tmp_path)) == ["map.som"]
    with np.load(path, allow_pickle=False) as archive:  # a plain .npz, readable without pickle
        assert "prototypes_" in archive.files and str(archive["format"]) == "musicsom.SOM"
    twin = SOM.load(str(path))
    assert type(twin) is SOM and twin.get_params() == som.get_params()
    for attr in ("prototypes_", "feature_names_in_"):
        np.testing.assert_array_equal(getattr(twin, attr), getattr(som, attr))
    assert twin.feature_names_in_.dtype == object
    assert (twin.grid_shape_, twin.topology_, twin.n_features_in_, twin.history_) == (som.grid_shape_, som.topology_, som.n_features_in_, som.history_)
    np.testing.assert_array_equal(twin.transform(df), som.transform(df))
    np.testing.assert_array_equal(twin.predict(df), som.predict(df))
    with pytest.raises(ValueError, match="same order"):
        twin.transform(df[df.columns[::-1]])


def test_save_load_keeps_a_generator_random_state_and_refits_alike(tmp_path):
    X = _blobs(200)
    som = SOM((3, 3), epochs=3, init="random", random_state=np.random.default_rng(7)).fit(X)
    som.save(tmp_path / "g.npz")
    twin = SOM.load(tmp_path / "g.npz")
    assert not hasattr(twin, "feature_names_in_")
    np.testing.assert_array_equal(twin.fit(X).prototypes_, som.fit(X).prototypes_)  # the same generator state


def test_save_of_an_unfitted_map_is_refused(tmp_path):
    with pytest.raises(NotFittedError):
        SOM().save(tmp_path / "never.npz")
    assert not os.listdir(tmp_path)


def _rewrite(src, dst, drop=(), **replace):
    with np.load(src, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files if k not in drop}
    arrays.update(replace)
    with open(dst, "wb") as f:
        np.savez(f, **arrays)


def _damaged(tmp_path, kind: str):
    good = tmp_path / "good.npz"
    SOM((3, 3), epochs=2).fit(_blobs(100)).save(good)
    bad = tmp_path / f"{kind}.npz"
    if kind == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif kind == "not_a_zip":
        bad.write_bytes(bytes(range(256)) * 4)
    elif kind == "text":
        bad.write_text("grid_shape: [3, 3]\n")
    elif kind == "empty":
        bad.write_bytes(b"")
    elif kind == "npy":
        with open(bad, "wb") as f:
            np.save(f, np.zeros(3))
    elif kind == "missing_key":
        _rewrite(good, bad, drop=("prototypes_",))
    elif kind == "version":
        _rewrite(good, bad, format_version=np.array(2))
    elif kind == "pickled":
        with open(bad, "wb") as f:
            np.savez(f, format=np.array("musicsom.SOM"), format_version=np.array(1), params=np.array([{"a": 1}], dtype=object))
    elif kind == "other_zip":
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("readme.txt", "hello")
    elif kind == "bad_prototypes":
        _rewrite(good, bad, prototypes_=np.full((9, 4), np.nan))
    return bad


DAMAGE = {
    "truncated": "damaged or truncated",
    "not_a_zip": r"not a \.npz \(zip\) archive",
    "text": r"not a \.npz \(zip\) archive",
    "empty": "the file is empty",
    "npy": r"a single \.npy array",
    "missing_key": r"lacks the array\(s\) \['prototypes_'\]",
    "version": "format version 2; this musicsom reads version 1",
    "pickled": "Python objects",
    "other_zip": "no format name and version",
    "bad_prototypes": "NaN",
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_a_damaged_file_raises_a_value_error_naming_it(tmp_path, kind):
    bad = _damaged(tmp_path, kind)
    with pytest.raises(ValueError, match=DAMAGE[kind]) as err:
        SOM.load(bad)
    assert type(err.value) is ValueError and str(bad) in str(err.value) and "is not a readable SOM save" in str(err.value)
    assert "allow_pickle" not in str(err.value) and err.value.__cause__ is None and err.value.__suppress_context__


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        SOM.load(tmp_path / "nowhere.npz")
    with pytest.raises(ValueError, match="path must be a file path"):
        SOM.load(3.5)
