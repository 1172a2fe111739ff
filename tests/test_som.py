"""The batch SOM: lattice geometry, ordering on a grid-like dataset, BMUs, errors, labels."""

import numpy as np
import pytest

from musicsom.som import (
    SOM,
    best_matching_units,
    lattice_ring,
    lattice_sq_distances,
    majority_labels,
    quantization_error,
    sq_distances,
    topographic_error,
    u_matrix,
)


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
    np.testing.assert_allclose(sq_distances(X, W)[0], [1.0, 81.0, 101.0])
    assert quantization_error(X, W) == pytest.approx((1 + np.sqrt(2) + 2 + np.sqrt(0.5)) / 4)
    major, counts = majority_labels(X, W, [7, 1, 2, 7], n_classes=8)
    np.testing.assert_array_equal(major, [7, 1, 2])
    assert 0.0 <= topographic_error(X, W, (1, 3)) <= 1.0


def test_chunking_gives_same_bmus():
    rng = np.random.default_rng(2)
    X, W = rng.standard_normal((1000, 7)), rng.standard_normal((50, 7))
    np.testing.assert_array_equal(best_matching_units(X, W, chunk_size=64), best_matching_units(X, W))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(topology="hexagonal"), "topology"),
        (dict(grid_shape=(1, 1)), "at least 2 units"),
        (dict(init="kmeans"), "init"),
        (dict(epochs=0), "epochs"),
    ],
)
def test_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SOM(**kwargs).fit(np.random.default_rng(0).standard_normal((100, 3)))


def test_bad_data():
    with pytest.raises(ValueError, match="NaN"):
        SOM((3, 3)).fit(np.array([[np.nan, 1.0]] * 20))
