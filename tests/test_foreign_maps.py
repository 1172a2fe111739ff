"""Any prototype map: invert and steer prototypes trained by other libraries.

MiniSom (a lattice: ``get_weights()`` reshaped row-major, ring preservation on its grid),
scikit-learn ``KMeans`` (``cluster_centers_``, no topology: every other prototype preserved) and a
growing neural gas from ``minigng`` (nodes and edges: the preserved set is the graph neighbourhood of
the BMU). Each map's activations are inverted exactly (ActivationInverter) and MUSIC walks toward a
target. The extra test packages are optional: ``pip install minisom minigng`` (scikit-learn is a
dependency of the project).
"""

from __future__ import annotations

import numpy as np
import pytest

from musicsom.inversion import ActivationInverter
from musicsom.music import Music, MusicParams


def _blobs(n=400, D=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = 4.0 * rng.standard_normal((5, D))
    return centres[rng.integers(0, 5, n)] + rng.standard_normal((n, D))


def _check_inversion(W, X):
    est = ActivationInverter(W).fit(X)
    A = est.transform(X)
    assert A.shape == (X.shape[0], W.shape[0])
    np.testing.assert_allclose(est.inverse_transform(A), X, rtol=0, atol=1e-9 * max(1.0, np.abs(X).max()))


def _check_steering(music: Music, x0, target: int, n_steps=150):
    tr = music.run(x0, n_steps, "informed", target=target)
    d0 = np.linalg.norm(x0 - music.W[target])
    assert np.linalg.norm(tr.states[-1] - music.W[target]) < 0.5 * d0
    assert np.all(np.linalg.norm(tr.steps, axis=1) <= music.params.eta * (1 + 1e-12))
    assert tr.bmus[-1] == target or np.linalg.norm(tr.states[-1] - music.W[target]) < 0.1 * d0
    return tr


def test_minisom_lattice():
    minisom = pytest.importorskip("minisom", reason="MiniSom is an optional test package: pip install minisom")
    X = _blobs()
    rows, cols = 6, 5
    som = minisom.MiniSom(rows, cols, X.shape[1], sigma=1.5, learning_rate=0.5, random_seed=0)
    som.random_weights_init(X)
    som.train(X, 2000, random_order=False)
    W = som.get_weights().reshape(rows * cols, X.shape[1])  # unit (i, j) -> row i * cols + j
    i, j = som.winner(X[0])
    assert np.argmin(((X[0] - W) ** 2).sum(1)) == i * cols + j  # same unit numbering as musicsom's lattice
    _check_inversion(W, X)
    music = Music(W, MusicParams(preserve_ring=1, eta=0.2), grid_shape=(rows, cols))
    tr = _check_steering(music, X[0], target=int(np.argmax(((X[0] - W) ** 2).sum(1))))
    # the preserved set at each state is the BMU's 1-ring on the MiniSom grid
    P = music.preserved_set(tr.states[10], exclude=[])
    r0, c0 = divmod(int(tr.bmus[10]), cols)
    expected = [r * cols + c for r in range(rows) for c in range(cols) if max(abs(r - r0), abs(c - c0)) <= 1]
    np.testing.assert_array_equal(P, expected)


def test_sklearn_kmeans_centres():
    cluster = pytest.importorskip("sklearn.cluster", reason="scikit-learn gives the k-means reference map")
    base = pytest.importorskip("sklearn.base", reason="scikit-learn gives clone()")
    X = _blobs(D=4, seed=1)
    km = cluster.KMeans(n_clusters=12, n_init=3, random_state=0).fit(X)
    W = km.cluster_centers_
    _check_inversion(W, X)
    # scikit-learn habits: clone keeps the parameters, refits independently
    est = ActivationInverter(W, reference=None).fit()
    twin = base.clone(est)
    assert twin.get_params()["prototypes"] is not est.prototypes and np.array_equal(twin.get_params()["prototypes"], W)
    np.testing.assert_array_equal(twin.fit().transform(X[:5]), est.transform(X[:5]))
    # BMU of the activations = k-means' own labels
    np.testing.assert_array_equal(est.transform(X).argmin(1), km.predict(X))
    music = Music(W, MusicParams(eta=0.2, per_row_mean=True))
    _check_steering(music, X[3], target=int(np.argmax(((X[3] - W) ** 2).sum(1))))
    batch = music.run_batch(X[:4], 150, "informed", targets=[0, 1, 2, 3])
    assert np.all(np.linalg.norm(batch.states[:, -1] - W[:4], axis=1) < np.linalg.norm(X[:4] - W[:4], axis=1))


def test_minigng_graph():
    minigng = pytest.importorskip("minigng", reason="minigng (a growing neural gas) is an optional test package: pip install minigng")
    X = _blobs(n=300, D=3, seed=2)
    np.random.seed(0)  # minigng draws from numpy's global generator
    gng = minigng.MiniGNG(n_epochs=20, sigma=50, max_units=25, max_edge_age=50).fit(X)
    index = {id(u): k for k, u in enumerate(gng.units)}
    W = np.array([u.prototype for u in gng.units], dtype=float)
    edges = np.array(sorted({tuple(sorted((index[id(e.source)], index[id(e.target)]))) for e in gng.edges}))
    assert W.shape[0] >= X.shape[1] + 1 and edges.shape[1] == 2
    _check_inversion(W, X)
    music = Music(W, MusicParams(preserve_ring=1, eta=0.2), edges=edges)
    x0 = X[0]
    target = int(np.argmax(((x0 - W) ** 2).sum(1)))
    c = music.bmu(x0)
    neighbours = {c} | {int(j) for i, j in edges if i == c} | {int(i) for i, j in edges if j == c}
    np.testing.assert_array_equal(music.preserved_set(x0, exclude=[target]), sorted(neighbours - {target}))
    two = Music(W, MusicParams(preserve_ring=2), edges=edges).preserved_set(x0, exclude=[])
    assert set(neighbours) <= set(two.tolist())
    tr = music.run(x0, 150, "informed", target=target)
    assert np.linalg.norm(tr.states[-1] - W[target]) < np.linalg.norm(x0 - W[target])
    batch = music.run_batch(np.stack([x0, X[1]]), 150, "informed", targets=[target, target])
    np.testing.assert_allclose(batch.states[0], tr.states, rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    "edges, match",
    [
        (np.array([[0, 1], [2, 2]]), "self loops"),
        (np.array([[0, 1], [1, 30]]), "outside"),
        (np.array([[0.0, 1.0]]), "integer"),
        (np.array([0, 1, 2]), r"\(E, 2\)"),
    ],
)
def test_edges_are_validated(edges, match):
    W = np.random.default_rng(0).standard_normal((10, 2))
    with pytest.raises(ValueError, match=match):
        Music(W, MusicParams(preserve_ring=1), edges=edges)
    with pytest.raises(ValueError, match="not both"):
        Music(W, MusicParams(preserve_ring=1), grid_shape=(2, 5), edges=np.array([[0, 1]]))
    with pytest.raises(ValueError, match="grid_shape.*edges"):
        Music(W, MusicParams(preserve_ring=1))
