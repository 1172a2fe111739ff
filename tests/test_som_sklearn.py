"""SOM as a scikit-learn estimator: the library's own estimator checks, clone, Pipeline, GridSearchCV.

scikit-learn is optional for musicsom (the core needs numpy and scipy only); these tests need it.
SOM implements the estimator protocol itself (get_params, set_params, __repr__, __sklearn_tags__,
__sklearn_is_fitted__) instead of inheriting from sklearn.base.BaseEstimator, so that
``import musicsom.som`` never imports scikit-learn; the checks warn about that once, harmlessly.
"""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is optional for musicsom; these tests check SOM against its API")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError as SklearnNotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402

from musicsom.som import SOM, NotFittedError, quantization_error, sq_distances  # noqa: E402

# Checks of scikit-learn 1.9.1 that cannot apply to SOM, each with the reason (none yet: every check passes).
EXPECTED_FAILED_CHECKS: dict[str, str] = {}

ESTIMATORS = [
    SOM(grid_shape=(3, 3), epochs=3),
    SOM(grid_shape=(4, 3), topology="hexagonal_toroidal", epochs=3, bmu_dtype="float32"),
]


_NOT_BASE_ESTIMATOR = "Estimator SOM does not inherit from `sklearn.base.BaseEstimator`"  # by design, see above
with warnings.catch_warnings():  # the checks are collected here, and warn once
    warnings.filterwarnings("ignore", message=_NOT_BASE_ESTIMATOR)
    _checks = parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)


@_checks
def test_sklearn_estimator_checks(estimator, check):
    """Every check of the installed scikit-learn (its array-API checks skip themselves unless SCIPY_ARRAY_API=1)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_NOT_BASE_ESTIMATOR)
        check(estimator)


def _blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [4.0, 4.0, 0.0], [0.0, 4.0, 4.0]])
    return centres[rng.integers(0, 3, n)] + rng.normal(scale=0.5, size=(n, 3))


def test_init_stores_parameters_unchanged_and_clone_round_trips():
    grid = [5, 4]
    som = SOM(grid, "hexagonal", epochs=7.5, sigma_end=-1)  # nothing is validated before fit
    assert som.grid_shape is grid and som.epochs == 7.5 and som.sigma_end == -1
    assert som.get_params()["topology"] == "hexagonal"
    twin = clone(som)
    assert twin is not som and twin.get_params() == som.get_params()
    assert som.set_params(epochs=3, sigma_end=0.5) is som and som.epochs == 3
    with pytest.raises(ValueError, match="Invalid parameter 'epoch'"):
        som.set_params(epoch=3)
    assert repr(SOM()) == "SOM()"
    assert repr(SOM((8, 8), "hexagonal", epochs=5)) == "SOM(grid_shape=(8, 8), topology='hexagonal', epochs=5)"


def test_fitted_attributes_and_not_fitted_error():
    X = _blobs()
    som = SOM((4, 4), epochs=5)
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(som)
    with pytest.raises(SklearnNotFittedError):  # scikit-learn is loaded: musicsom's error is also sklearn's
        som.predict(X)
    with pytest.raises(NotFittedError):
        som.transform(X)
    err = pytest.raises(NotFittedError, SOM().transform, X).value
    again = pickle.loads(pickle.dumps(err))  # as joblib workers of GridSearchCV would send it back
    assert isinstance(again, SklearnNotFittedError) and isinstance(again, NotFittedError) and str(again) == str(err)
    assert som.fit(X) is som
    check_is_fitted(som)
    assert som.n_features_in_ == 3 and som.prototypes_.shape == (16, 3) and som.grid_shape_ == (4, 4)
    assert not [k for k in vars(som) if not k.endswith("_") and k not in som.get_params()]


def test_transform_is_squared_distances_predict_bmu_score_minus_qe():
    X = _blobs()
    som = SOM((4, 4), epochs=5).fit(X)
    A = som.transform(X)
    assert A.shape == (300, 16)
    np.testing.assert_allclose(A, ((X[:, None, :] - som.prototypes_[None]) ** 2).sum(-1), rtol=1e-13, atol=0)
    np.testing.assert_array_equal(som.predict(X), A.argmin(1))
    assert som.score(X) == -quantization_error(X, som.prototypes_)


def test_pipeline_with_a_scaler():
    X = _blobs() * 100.0 + 1000.0
    pipe = Pipeline([("scale", StandardScaler()), ("som", SOM((3, 4), epochs=6))]).fit(X)
    Z = StandardScaler().fit_transform(X)
    np.testing.assert_array_equal(pipe.transform(X), sq_distances(Z, pipe.named_steps["som"].prototypes_))
    assert pipe.transform(X).shape == (300, 12)
    assert pipe.score(X) == pipe.named_steps["som"].score(Z)
    assert make_pipeline(StandardScaler(), SOM((3, 3), epochs=3)).fit_transform(X).shape == (300, 9)


def test_grid_search_picks_the_larger_map_by_quantization_error():
    X = _blobs(240)
    search = GridSearchCV(SOM(epochs=5), {"grid_shape": [(2, 2), (5, 5)], "topology": ["rectangular", "hexagonal"]}, cv=3)
    search.fit(X)
    assert search.best_params_["grid_shape"] == (5, 5)  # lower held-out quantization error
    assert search.best_estimator_.prototypes_.shape == (25, 3)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_score_ < 0


def test_the_core_imports_and_works_without_scikit_learn():
    code = (
        "import sys\n"
        "for name in ('sklearn', 'threadpoolctl'):\n"
        "    sys.modules[name] = None  # any import of them fails\n"
        "import numpy as np\n"
        "import musicsom.som as s\n"
        "X = np.random.default_rng(0).standard_normal((200, 3))\n"
        "som = s.SOM((4, 4), 'hexagonal', epochs=3).fit(X)\n"
        "assert som.transform(X).shape == (200, 16) and som.predict(X).shape == (200,)\n"
        "try:\n"
        "    s.SOM().predict(X)\n"
        "except ValueError as e:\n"
        "    assert type(e) is s.NotFittedError, type(e)\n"
        "print('ok', [m for m in sys.modules if m.startswith('sklearn') and sys.modules[m] is not None])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok []"
