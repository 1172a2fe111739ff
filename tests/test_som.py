"""The batch SOM: lattice geometry, ordering on a grid-like dataset, BMUs, errors, labels, MiniSom-style methods.

The float64 training of rectangular and toroidal maps is pinned bit for bit against a verbatim copy
of the previous implementation (``_reference_fit`` below, from commit cd9fbbf): the pipeline's
outputs are compared byte for byte across commits.
"""

import contextlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import sparse

from musicsom.som import (
    SOM,
    TOPOLOGIES,
    NotFittedError,
    available_cpus,
    best_matching_units,
    lattice_coordinates,
    lattice_ring,
    lattice_sq_distances,
    majority_labels,
    quantization_error,
    sq_distances,
    topographic_error,
    u_matrix,
)


# ---------------------------------------------------------------- the previous implementation, verbatim (commit cd9fbbf)
def _ref_axis_offsets(n, toroidal):
    d = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
    return np.minimum(d, n - d) if toroidal else d


def _ref_gaussian_1d(n, sigma, toroidal):
    d = _ref_axis_offsets(n, toroidal).astype(np.float64)
    return np.exp(-(d * d) / (2.0 * sigma**2))


def _ref_single_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _ref_bmu_augmented(Xa, W, out, bufs, pool):
    D = W.shape[1]
    Wa = np.empty((W.shape[0], D + 1), dtype=Xa.dtype)
    Wa[:, :D] = -2.0 * W
    Wa[:, D] = (W * W).sum(1)
    WaT = Wa.T
    block = bufs[0].shape[0]
    starts = range(0, Xa.shape[0], block)

    def work(i):
        buf = bufs[i]
        for s in starts[i :: len(bufs)]:
            xs = Xa[s : s + block]
            part = buf[: xs.shape[0]]
            np.matmul(xs, WaT, out=part)
            np.argmin(part, axis=1, out=out[s : s + block])

    others = [pool.submit(work, i) for i in range(1, len(bufs))] if pool is not None else []
    work(0)
    for f in others:
        f.result()
    return out


def _reference_fit(X, grid_shape=(10, 10), topology="rectangular", epochs=20, sigma_start=None, sigma_end=1.0,
                   init="pca", random_state=0, chunk_size=8192, bmu_dtype="float64", n_threads=None):
    """SOM(...).fit(X).prototypes_ as computed by the previous implementation."""
    X = np.asarray(X, dtype=np.float64)
    rows, cols = grid_shape
    K = rows * cols
    if init == "random":
        W = X[np.random.default_rng(random_state).choice(X.shape[0], K, replace=False)].copy()
    else:
        mean = X.mean(0)
        sub = X[:: max(1, X.shape[0] // 20000)] - mean
        with _ref_single_blas_thread():
            _, s, vt = np.linalg.svd(sub, full_matrices=False)
        scale = s[:2] / np.sqrt(sub.shape[0])
        if vt.shape[0] < 2:
            vt = np.vstack([vt, np.zeros_like(vt)])
            scale = np.append(scale, 0.0)
        r, c = np.divmod(np.arange(K), cols)
        coords = np.stack([r, c], axis=1).astype(float)
        u = np.linspace(-1, 1, rows)[coords[:, 0].astype(int)] if rows > 1 else np.zeros(K)
        v = np.linspace(-1, 1, cols)[coords[:, 1].astype(int)] if cols > 1 else np.zeros(K)
        a, b = (u, v) if rows >= cols else (v, u)
        W = mean + 2.0 * (a[:, None] * scale[0] * vt[0] + b[:, None] * scale[1] * vt[1])
    start = sigma_start if sigma_start is not None else max(grid_shape) / 2.0
    sigmas = np.array([float(sigma_end)]) if epochs == 1 else start * (sigma_end / start) ** (np.arange(epochs) / (epochs - 1))
    n, D = X.shape
    dtype = np.dtype(bmu_dtype)
    Xa = np.empty((n, D + 1), dtype=dtype)
    Xa[:, :D] = X
    Xa[:, D] = 1.0
    block = max(1, min(int(chunk_size), n, max(256, 500_000 // K)))
    threads = max(1, min(int(n_threads or available_cpus()), -(-n // block)))
    bufs = [np.empty((block, K), dtype=dtype) for _ in range(threads)]
    bmu = np.empty(n, dtype=np.int64)
    indptr, ones = np.arange(n + 1), np.ones(n)
    tor = topology == "toroidal"
    pool = ThreadPoolExecutor(threads - 1) if threads > 1 else None
    try:
        with _ref_single_blas_thread():
            for sigma in sigmas:
                _ref_bmu_augmented(Xa, W, bmu, bufs, pool)
                hits = sparse.csr_matrix((ones, bmu, indptr), shape=(n, K))
                sums = np.asarray(hits.T @ X)
                counts = np.bincount(bmu, minlength=K).astype(np.float64)
                h_r = _ref_gaussian_1d(rows, sigma, tor)
                h_c = _ref_gaussian_1d(cols, sigma, tor)
                denom = (h_r @ counts.reshape(rows, cols) @ h_c).ravel()
                numer = (h_c @ (h_r @ sums.reshape(rows, cols * D)).reshape(rows, cols, D)).reshape(K, D)
                ok = denom > 1e-12 * max(denom.max(), 1e-300)
                W = np.where(ok[:, None], numer / np.where(ok, denom, 1.0)[:, None], W)
    finally:
        if pool is not None:
            pool.shutdown()
    return W


_RNG = np.random.default_rng(20260)
_DATA = {
    "gauss": _RNG.standard_normal((3000, 12)),
    "uniform2d": _RNG.uniform(0, 1, (2500, 2)),
    "wide": _RNG.standard_normal((9000, 30)) * 2.0 + 0.3,
    "sigmoid_codes": 1.0 / (1.0 + np.exp(-_RNG.standard_normal((4000, 8)))),  # mean 0.5, spread 0.2: used as is
}
PINNED = [
    ("gauss", dict(grid_shape=(9, 7), topology="rectangular", epochs=8)),
    ("gauss", dict(grid_shape=(6, 10), topology="toroidal", epochs=6, sigma_start=4.0, sigma_end=0.8)),
    ("uniform2d", dict(grid_shape=(8, 8), epochs=10, init="random", random_state=3, sigma_end=0.7)),
    ("wide", dict(grid_shape=(15, 12), topology="toroidal", epochs=4, chunk_size=1000, n_threads=2)),
    ("wide", dict(grid_shape=(12, 12), epochs=3, n_threads=1, chunk_size=333)),
    ("sigmoid_codes", dict(grid_shape=(5, 4), epochs=1)),
    ("gauss", dict(grid_shape=(30, 30), topology="toroidal", epochs=3, sigma_end=0.5)),
]


@pytest.mark.parametrize("data, kwargs", PINNED, ids=[f"{d}-{i}" for i, (d, _) in enumerate(PINNED)])
def test_float64_training_is_bit_for_bit_the_previous_implementation(data, kwargs):
    X = _DATA[data]
    got = SOM(**kwargs).fit(X).prototypes_
    np.testing.assert_array_equal(got, _reference_fit(X, **kwargs))


def test_positional_constructor_of_train_som_still_works():
    X = _DATA["gauss"]
    som = SOM((6, 5), "toroidal", 4, None, 1.0, "pca", 0).fit(X)  # the call of musicsom.train_som
    np.testing.assert_array_equal(som.prototypes_, _reference_fit(X, (6, 5), "toroidal", 4))
    assert som.grid_shape == (6, 5) and som.topology == "toroidal"
    assert som.sigmas((6, 5)).shape == (4,)


# ---------------------------------------------------------------- lattices
def test_toroidal_distances_wrap():
    d2 = lattice_sq_distances((5, 4), "toroidal")
    unit = lambda r, c: r * 4 + c  # noqa: E731
    assert d2[unit(0, 0), unit(4, 0)] == 1  # wraps vertically
    assert d2[unit(0, 0), unit(0, 3)] == 1  # wraps horizontally
    assert d2[unit(0, 0), unit(4, 3)] == 2
    assert lattice_sq_distances((5, 4), "rectangular")[unit(0, 0), unit(4, 3)] == 16 + 9
    np.testing.assert_array_equal(d2, d2.T)


def test_lattice_ring():
    assert set(lattice_ring(0, 1, (3, 3), "rectangular")) == {1, 3, 4}
    assert len(lattice_ring(0, 1, (5, 5), "toroidal")) == 8
    assert len(lattice_ring(12, 2, (5, 5), "rectangular")) == 24
    assert lattice_ring(4, 0, (3, 3)).size == 0


def test_lattice_coordinates_are_row_major():
    np.testing.assert_array_equal(lattice_coordinates((2, 3)), [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]])
    assert TOPOLOGIES == ("rectangular", "toroidal", "hexagonal", "hexagonal_toroidal")


# ---------------------------------------------------------------- training and map quality
def test_som_orders_itself_on_grid_like_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(4000, 2))
    history = []
    som = SOM((8, 8), epochs=25, sigma_end=0.7, random_state=0, init="random")
    som.fit(X, callback=lambda e, s, W: history.append(quantization_error(X, W)))
    assert som.topographic_error(X) < 0.05
    assert history[-1] < 0.5 * history[0]
    assert som.quantization_error(X) < 0.07
    # neighbouring units hold neighbouring prototypes: mean lattice-neighbour distance is small
    assert u_matrix(som.prototypes_, (8, 8)).mean() < 0.2
    assert [h["epoch"] for h in som.history_] == list(range(25))


def test_pca_init_is_deterministic_and_toroidal_fit_works():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((1500, 5))
    a = SOM((6, 5), "toroidal", epochs=5).fit(X).prototypes_
    b = SOM((6, 5), "toroidal", epochs=5).fit(X).prototypes_
    np.testing.assert_array_equal(a, b)


def test_bmus_errors_and_labels():
    W = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    X = np.array([[1.0, 0.0], [9.0, 1.0], [0.0, 8.0], [0.5, 0.5]])
    np.testing.assert_array_equal(best_matching_units(X, W), [0, 1, 2, 0])
    np.testing.assert_array_equal(best_matching_units(X, W, n_best=2)[:, 0], [0, 1, 2, 0])
    np.testing.assert_array_equal(best_matching_units(X, W, n_best=3), [[0, 1, 2], [1, 0, 2], [2, 0, 1], [0, 1, 2]])
    np.testing.assert_allclose(sq_distances(X, W)[0], [1.0, 81.0, 101.0])
    assert quantization_error(X, W) == pytest.approx((1 + np.sqrt(2) + 2 + np.sqrt(0.5)) / 4)
    major, counts = majority_labels(X, W, [7, 1, 2, 7], n_classes=8)
    np.testing.assert_array_equal(major, [7, 1, 2])
    assert counts.shape == (3, 8) and counts.sum() == 4
    assert 0.0 <= topographic_error(X, W, (1, 3)) <= 1.0


def test_ties_go_to_the_lower_index():
    W = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 5.0], [1.0, 0.0]])
    X = np.array([[0.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(best_matching_units(X, W), [0, 0])
    np.testing.assert_array_equal(best_matching_units(X, W, n_best=3), [[0, 1, 3], [0, 3, 1]])


def test_chunking_gives_same_bmus():
    rng = np.random.default_rng(2)
    X, W = rng.standard_normal((1000, 7)), rng.standard_normal((50, 7))
    np.testing.assert_array_equal(best_matching_units(X, W, chunk_size=64), best_matching_units(X, W))
    np.testing.assert_array_equal(best_matching_units(X, W), sq_distances(X, W).argmin(1))


def test_topographic_error_counts_diagonal_neighbours_and_wraps():
    W = np.zeros((9, 1))
    W[[0, 4, 8], 0] = [0.0, 1.0, 10.0]  # a 3 × 3 map; units 0 and 4 are diagonal neighbours
    W[[1, 2, 3, 5, 6, 7], 0] = [50, 60, 70, 80, 90, 100]
    assert topographic_error([[0.4]], W, (3, 3)) == 0.0  # BMUs 0 and 4
    assert topographic_error([[6.0]], W, (3, 3)) == 0.0  # BMUs 8 and 4: diagonal neighbours too
    W2 = W.copy()
    W2[4, 0] = 200.0
    assert topographic_error([[4.0]], W2, (3, 3)) == 1.0  # BMUs 0 and 8: opposite corners
    assert topographic_error([[4.0]], W2, (3, 3), "toroidal") == 0.0  # ... which touch on the torus


def test_majority_labels_refuses_negative_and_non_integer_labels():
    W = np.array([[0.0], [10.0]])
    X = np.array([[0.0], [1.0], [9.0]])
    with pytest.raises(ValueError, match="labels >= 0"):
        majority_labels(X, W, [0, -1, 1])
    with pytest.raises(ValueError, match="integer class indices"):
        majority_labels(X, W, [0, 1.5, 1])
    with pytest.raises(ValueError, match="n_classes"):
        majority_labels(X, W, [0, 1, 2], n_classes=2)
    with pytest.raises(ValueError, match="one entry per row"):
        majority_labels(X, W, [0, 1])
    major, counts = majority_labels(X, W, np.array([0.0, 1.0, 1.0]))  # integral floats are lossless: accepted
    np.testing.assert_array_equal(major, [0, 1])
    np.testing.assert_array_equal(counts, [[1, 1], [0, 1]])
    major, _ = majority_labels(X, np.vstack([W, [[100.0]]]), [2, 2, 0])
    assert major[2] == -1  # a unit without hits


def test_u_matrix_refuses_a_grid_that_does_not_match():
    W = np.random.default_rng(0).standard_normal((12, 3))
    with pytest.raises(ValueError, match="holds 10 units but there are 12 prototypes"):
        u_matrix(W, (2, 5))
    assert u_matrix(W, (3, 4)).shape == (3, 4)
    assert u_matrix(W, (4, 3), "toroidal").shape == (4, 3)


# ---------------------------------------------------------------- argument checks
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(topology="spherical"), "topology"),
        (dict(grid_shape=(1, 1)), "at least 2 units"),
        (dict(grid_shape=(2.5, 4)), r"grid_shape\[0\] \(rows\) must be an integer"),
        (dict(grid_shape=(3, 4.0)), r"grid_shape\[1\] \(cols\) must be an integer"),
        (dict(grid_shape=(3, 4, 5)), "pair"),
        (dict(grid_shape=7), "pair"),
        (dict(grid_shape=(True, 4)), "must be an integer"),
        (dict(init="kmeans"), "init"),
        (dict(epochs=0), "epochs"),
        (dict(epochs=2.0), "epochs must be an integer"),
        (dict(chunk_size=1.5), "chunk_size must be an integer"),
        (dict(chunk_size=0), "chunk_size must be >= 1"),
        (dict(n_threads=1.5), "n_threads"),
        (dict(n_threads=0), "n_threads"),
        (dict(random_state=1.5), "random_state"),
        (dict(random_state=-1), "random_state"),
        (dict(bmu_dtype="float16"), "bmu_dtype"),
        (dict(bmu_dtype=None), "bmu_dtype"),
        (dict(sigma_end=0.0), "sigma_end"),
        (dict(sigma_start=0.5, sigma_end=1.0), "sigma_end <= sigma_start"),
        (dict(sigma_end=float("nan")), "sigma_end must be finite"),
        (dict(topology="hexagonal_toroidal", grid_shape=(5, 4)), "even number of rows"),
    ],
)
def test_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SOM(**kwargs).fit(np.random.default_rng(0).standard_normal((100, 3)))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda X, W: best_matching_units(X, W, n_best=1.0), "n_best must be an integer"),
        (lambda X, W: best_matching_units(X, W, n_best=6), r"n_best must be in \[1, 5\]"),
        (lambda X, W: best_matching_units(X, W, chunk_size=2.0), "chunk_size must be an integer"),
        (lambda X, W: quantization_error(X, W, chunk_size=0), "chunk_size"),
        (lambda X, W: topographic_error(X, W, (5, 1.0)), "must be an integer"),
        (lambda X, W: topographic_error(X, W, (2, 2)), "holds 4 units but there are 5"),
        (lambda X, W: lattice_ring(1.5, 1, (5, 1)), "unit must be an integer"),
        (lambda X, W: lattice_ring(5, 1, (5, 1)), "unit must be <= 4"),
        (lambda X, W: lattice_ring(0, 1.0, (5, 1)), "n must be an integer"),
        (lambda X, W: lattice_ring(0, 1, (5, 1), "hexagonal_toroidal"), "even number of rows"),
        (lambda X, W: lattice_sq_distances((0, 3)), "must be >= 1"),
        (lambda X, W: sq_distances(X[:, :2], W), "must have 3 columns"),
        (lambda X, W: sq_distances(X[0], W), "Reshape your data"),
        (lambda X, W: sq_distances(sparse.csr_matrix(X), W), "sparse"),
        (lambda X, W: sq_distances(X + 1j, W), "Complex data not supported"),
        (lambda X, W: u_matrix(W, (5, 1), "hex"), "topology"),
    ],
)
def test_bad_arguments_of_the_functions(call, match):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=match):
        call(rng.standard_normal((20, 3)), rng.standard_normal((5, 3)))


def test_bad_data():
    with pytest.raises(ValueError, match="NaN"):
        SOM((3, 3)).fit(np.array([[np.nan, 1.0]] * 20))
    with pytest.raises(ValueError, match="1 sample"):
        SOM((3, 3)).fit(np.ones((1, 4)))
    with pytest.raises(ValueError, match="random init needs at least as many samples"):
        SOM((3, 3), init="random").fit(np.ones((5, 4)))


def test_fit_does_not_change_the_parameters():
    som = SOM([3, 4], epochs=2)
    som.fit(np.random.default_rng(0).standard_normal((50, 3)))
    assert som.grid_shape == [3, 4] and som.grid_shape_ == (3, 4) and som.topology_ == "rectangular"


# ---------------------------------------------------------------- the fitted map: estimator and MiniSom-style methods
@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(5)
    X = rng.uniform(0, 1, (600, 3))
    return SOM((4, 5), epochs=10, sigma_end=0.7).fit(X), X


def test_methods_before_fit_raise_not_fitted():
    som = SOM((3, 3))
    for method in (som.transform, som.predict, som.score, som.bmu, som.quantization_error, som.topographic_error,
                   som.activation_response, som.win_map):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            method(np.ones((4, 2)))
    with pytest.raises(ValueError, match="not fitted yet"):
        som.get_weights()
    with pytest.raises(AttributeError):
        som.distance_map()


def test_estimator_outputs_agree(fitted):
    som, X = fitted
    W = som.prototypes_
    assert som.n_features_in_ == 3
    np.testing.assert_array_equal(som.transform(X), sq_distances(X, W))
    np.testing.assert_array_equal(som.predict(X), best_matching_units(X, W))
    np.testing.assert_array_equal(som.predict(X), som.transform(X).argmin(1))
    np.testing.assert_array_equal(som.bmu(X), som.predict(X))
    assert som.score(X) == -som.quantization_error(X) == -quantization_error(X, W)
    np.testing.assert_array_equal(SOM((4, 5), epochs=10, sigma_end=0.7).fit_transform(X), som.transform(X))
    with pytest.raises(ValueError, match="X has 2 features, but SOM is expecting 3 features as input"):
        som.predict(X[:, :2])
    assert list(som.get_feature_names_out()[:2]) == ["som0", "som1"]


def test_get_weights_winner_win_map_activation_response_labels_map(fitted):
    som, X = fitted
    G = som.get_weights()
    assert G.shape == (4, 5, 3)
    np.testing.assert_array_equal(G[2, 3], som.prototypes_[2 * 5 + 3])
    G[0, 0] = 99.0
    assert som.prototypes_[0, 0] != 99.0  # a copy
    bmu = som.predict(X)
    assert som.winner(X[7]) == divmod(int(bmu[7]), 5)
    with pytest.raises(ValueError, match="one sample"):
        som.winner(X[:2])

    wm = som.win_map(X)
    assert sum(len(v) for v in wm.values()) == X.shape[0]
    for (r, c), rows in wm.items():
        for x in rows:
            assert best_matching_units(x[None, :], som.prototypes_)[0] == r * 5 + c
    wi = som.win_map(X, return_indices=True)
    assert sorted(i for v in wi.values() for i in v) == list(range(X.shape[0]))
    assert all(bmu[i] == r * 5 + c for (r, c), v in wi.items() for i in v)

    hits = som.activation_response(X)
    assert hits.shape == (4, 5) and hits.sum() == X.shape[0]
    np.testing.assert_array_equal(hits.ravel(), np.bincount(bmu, minlength=20))
    assert all(hits[k] == len(v) for k, v in wm.items())

    labels = np.where(X[:, 0] > 0.5, "right", "left")
    lm = som.labels_map(X, labels)
    assert all(isinstance(v, Counter) for v in lm.values())
    assert sum(sum(v.values()) for v in lm.values()) == X.shape[0]
    assert lm[(0, 0)] == Counter(labels[bmu == 0])
    with pytest.raises(ValueError, match="one entry per row"):
        som.labels_map(X, labels[:-1])


def test_distance_map_is_minisom_u_matrix_normalised(fitted):
    som, _ = fitted
    dm = som.distance_map()
    assert dm.shape == (4, 5) and dm.max() == 1.0 and dm.min() > 0
    G = som.get_weights()
    # corner (0, 0): neighbours (0, 1), (1, 0), (1, 1), summed
    corner = sum(np.linalg.norm(G[0, 0] - G[r, c]) for r, c in ((0, 1), (1, 0), (1, 1)))
    total = np.array([[sum(np.linalg.norm(G[r, c] - G[r + i, c + j]) for i in (-1, 0, 1) for j in (-1, 0, 1)
                           if (i or j) and 0 <= r + i < 4 and 0 <= c + j < 5) for c in range(5)] for r in range(4)])
    assert dm[0, 0] == pytest.approx(corner / total.max())
    np.testing.assert_allclose(dm, total / total.max())
    mean = som.distance_map(scaling="mean")
    assert mean.max() == 1.0
    with pytest.raises(ValueError, match="scaling"):
        som.distance_map(scaling="puppies")
    flat = SOM((2, 2)).set_params()
    flat.prototypes_ = np.ones((4, 2))
    np.testing.assert_array_equal(flat.distance_map(), np.zeros((2, 2)))  # no NaN for identical prototypes
