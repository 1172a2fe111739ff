"""Hexagonal lattices: geometry (checked against MiniSom), lattice distance and rings, training, TE, U-matrix, MUSIC rings.

Our layout: unit (r, c) at row position r·√3/2 and column position c + 0.5·(r mod 2). MiniSom's
``MiniSom(x, y, topology="hexagonal")`` puts neuron (i, j) at (i − 0.5·[j shifted], j·√3/2), the
shifted rows being j = y − 1, y − 3, ...: its hexagonal rows are indexed by its *second* index. So our
(rows, cols) lattice is MiniSom's (x=cols, y=rows) with our (r, c) = its (j, i) when the number of
rows is odd (MiniSom then shifts the even rows left, the same lattice moved by half a unit), and its
(j, cols − 1 − i), a mirror image, when it is even.
"""

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from musicsom.music import Music, MusicParams
from musicsom.som import (
    HEX_ROW_HEIGHT,
    SOM,
    lattice_positions,
    lattice_ring,
    lattice_sq_distances,
    quantization_error,
    topographic_error,
    u_matrix,
)

SHAPES = [(1, 5), (2, 2), (3, 4), (4, 3), (5, 5), (6, 7), (7, 2), (2, 9), (10, 3), (8, 8)]


def _minisom_to_ours(rows, cols):
    """(cols, rows) array: our unit index of MiniSom neuron (i, j) of MiniSom(cols, rows, hexagonal)."""
    i, j = np.meshgrid(np.arange(cols), np.arange(rows), indexing="ij")
    c = i if rows % 2 else cols - 1 - i
    return j * cols + c


def _minisom(rows, cols, W=None, topology="hexagonal"):
    minisom = pytest.importorskip("minisom", reason="MiniSom (test-only extra) checks the hexagonal geometry")
    if topology == "hexagonal":
        som = minisom.MiniSom(cols, rows, 1 if W is None else W.shape[1], topology="hexagonal", random_seed=0)
        if W is not None:
            som._weights = W[_minisom_to_ours(rows, cols)].copy()
    else:
        som = minisom.MiniSom(rows, cols, W.shape[1], topology="rectangular", random_seed=0)
        som._weights = W.reshape(rows, cols, -1).copy()
    return som


@pytest.mark.parametrize("rows, cols", SHAPES)
def test_hexagonal_positions_and_distances_match_minisom(rows, cols):
    som = _minisom(rows, cols)
    xx, yy = som.get_euclidean_coordinates()  # (cols, rows): neuron (i, j)
    ours = _minisom_to_ours(rows, cols).ravel()
    theirs = np.stack([yy.ravel(), xx.ravel()], axis=1)  # (row position, column position)
    d2_theirs = ((theirs[:, None, :] - theirs[None, :, :]) ** 2).sum(-1)
    d2 = lattice_sq_distances((rows, cols), "hexagonal")
    np.testing.assert_allclose(d2[np.ix_(ours, ours)], d2_theirs, rtol=0, atol=1e-12)
    pos = lattice_positions((rows, cols), "hexagonal")
    np.testing.assert_allclose(pos[:, 0], np.repeat(np.arange(rows), cols) * np.sqrt(3) / 2)
    np.testing.assert_allclose(pos[:, 1], np.tile(np.arange(cols), rows) + 0.5 * (np.repeat(np.arange(rows), cols) % 2))
    assert HEX_ROW_HEIGHT == np.sqrt(3) / 2


def _hex_adjacency(rows, cols, toroidal):
    """Units 1 apart in the plane (over the wrapped images on a torus), built from positions only."""
    r, c = np.divmod(np.arange(rows * cols), cols)
    y, x = r * np.sqrt(3) / 2, c + 0.5 * (r % 2)
    shifts = [(a * rows * np.sqrt(3) / 2, b * cols) for a in (-1, 0, 1) for b in (-1, 0, 1)] if toroidal else [(0.0, 0.0)]
    A = np.zeros((rows * cols, rows * cols), bool)
    for dy, dx in shifts:
        A |= np.isclose(np.hypot(y[:, None] - y[None, :] + dy, x[:, None] - x[None, :] + dx), 1.0)
    np.fill_diagonal(A, False)
    return A


def _bfs_steps(A):
    return shortest_path(csr_matrix(A.astype(float)), unweighted=True, directed=False)


@pytest.mark.parametrize("topology", ["hexagonal", "hexagonal_toroidal"])
@pytest.mark.parametrize("rows, cols", [(2, 1), (2, 2), (2, 5), (4, 3), (4, 4), (6, 7), (8, 2), (10, 3), (2, 9), (12, 5), (3, 3), (5, 8)])
def test_rings_are_hexagonal_lattice_distance_balls(rows, cols, topology):
    if topology == "hexagonal_toroidal" and rows % 2:
        with pytest.raises(ValueError, match="even number of rows"):
            lattice_ring(0, 1, (rows, cols), topology)
        return
    steps = _bfs_steps(_hex_adjacency(rows, cols, topology == "hexagonal_toroidal"))
    K = rows * cols
    for unit in range(K):
        for n in range(0, rows + cols + 1):
            expected = np.flatnonzero((steps[unit] <= n) & (np.arange(K) != unit))
            np.testing.assert_array_equal(lattice_ring(unit, n, (rows, cols), topology), expected, err_msg=f"unit {unit}, n {n}")


def test_interior_rings_have_3n_n_plus_1_units_and_neighbours_are_at_distance_one():
    grid = (15, 15)
    centre = 7 * 15 + 7
    for n in range(1, 5):
        assert len(lattice_ring(centre, n, grid, "hexagonal")) == 3 * n * (n + 1)
        assert len(lattice_ring(0, n, (16, 16), "hexagonal_toroidal")) == 3 * n * (n + 1)  # no edges on a torus
    d2 = lattice_sq_distances(grid, "hexagonal")
    np.testing.assert_allclose(d2[centre, lattice_ring(centre, 1, grid, "hexagonal")], 1.0)
    assert np.sum(np.isclose(d2[centre], 1.0)) == 6
    # even row 2, column 3: neighbours (2, 2), (2, 4), (1, 2), (1, 3), (3, 2), (3, 3); odd row 3, column 3: (3, 2), (3, 4), (2, 3), (2, 4), (4, 3), (4, 4)
    u = lambda r, c: r * 15 + c  # noqa: E731
    assert set(lattice_ring(u(2, 3), 1, grid, "hexagonal")) == {u(2, 2), u(2, 4), u(1, 2), u(1, 3), u(3, 2), u(3, 3)}
    assert set(lattice_ring(u(3, 3), 1, grid, "hexagonal")) == {u(3, 2), u(3, 4), u(2, 3), u(2, 4), u(4, 3), u(4, 4)}


def test_hexagonal_torus_distances_wrap_and_need_even_rows():
    d2 = lattice_sq_distances((6, 5), "hexagonal_toroidal")
    np.testing.assert_allclose(d2, d2.T)
    assert np.all(np.isclose(d2, 1.0).sum(1) == 6)  # every unit has 6 neighbours at distance 1
    np.testing.assert_allclose(d2[0, 5 * 5], 1.0)  # (0, 0) and (5, 0) touch across the seam
    np.testing.assert_allclose(d2[0, 4], 1.0)  # (0, 0) and (0, 4)
    for call in (lambda: lattice_sq_distances((5, 4), "hexagonal_toroidal"), lambda: SOM((5, 4), "hexagonal_toroidal").fit(np.ones((30, 2)))):
        with pytest.raises(ValueError, match="even number of rows"):
            call()


def _textbook_hex_som(X, W, grid, topology, sigmas):
    """Dense Gaussian kernel of squared hexagonal lattice distances, explicit squared data distances."""
    rows, cols = grid
    r, c = np.divmod(np.arange(rows * cols), cols)
    y, x = r * np.sqrt(3) / 2, c + 0.5 * (r % 2)
    dy, dx = np.abs(y[:, None] - y[None, :]), np.abs(x[:, None] - x[None, :])
    if topology == "hexagonal_toroidal":
        dy, dx = np.minimum(dy, rows * np.sqrt(3) / 2 - dy), np.minimum(dx, cols - dx)
    d2 = dy**2 + dx**2
    for sigma in sigmas:
        bmu = (((X[:, None, :] - W[None, :, :]) ** 2).sum(2)).argmin(1)
        sums = np.zeros_like(W)
        np.add.at(sums, bmu, X)
        counts = np.bincount(bmu, minlength=W.shape[0]).astype(float)
        H = np.exp(-d2 / (2 * sigma**2))
        denom, numer = H @ counts, H @ sums
        ok = denom > 1e-12 * denom.max()
        W = np.where(ok[:, None], numer / np.where(ok, denom, 1.0)[:, None], W)
    return W


@pytest.mark.parametrize("topology, grid", [("hexagonal", (7, 5)), ("hexagonal_toroidal", (6, 6))])
def test_hexagonal_training_is_the_textbook_batch_rule(topology, grid):
    X = np.random.default_rng(3).standard_normal((1500, 4))
    fits = [SOM(grid, topology, epochs=6, n_threads=t, chunk_size=cs).fit(X) for t, cs in ((1, 8192), (2, 100))]
    W0 = fits[0].initial_prototypes(X, grid)
    ref = _textbook_hex_som(X, W0, grid, topology, fits[0].sigmas(grid))
    np.testing.assert_allclose(fits[0].prototypes_, ref, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(fits[0].prototypes_, fits[1].prototypes_)


def test_hexagonal_som_orders_itself():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (4000, 2)) * [1.0, np.sqrt(3) / 2]  # the lattice's own aspect ratio
    som = SOM((8, 8), "hexagonal", epochs=25, sigma_end=0.7, init="random").fit(X)
    assert som.topographic_error(X) < 0.05
    assert som.quantization_error(X) < 0.06
    assert u_matrix(som.prototypes_, (8, 8), "hexagonal").mean() < 0.2
    assert som.get_weights().shape == (8, 8, 2)
    tor = SOM((8, 8), "hexagonal_toroidal", epochs=10).fit(X)
    assert np.all(np.isfinite(tor.prototypes_)) and tor.quantization_error(X) < 0.1


@pytest.mark.parametrize("rows, cols", [(3, 4), (4, 3), (5, 6), (6, 5)])
def test_hexagonal_topographic_error_matches_minisom(rows, cols):
    rng = np.random.default_rng(rows * 10 + cols)
    W = rng.standard_normal((rows * cols, 3))
    X = rng.standard_normal((400, 3))
    ref = _minisom(rows, cols, W).topographic_error(X)
    assert topographic_error(X, W, (rows, cols), "hexagonal") == pytest.approx(ref, abs=1e-12)
    assert 0.0 < ref < 1.0


@pytest.mark.parametrize("rows, cols", [(3, 4), (4, 5)])
def test_rectangular_topographic_error_and_distance_map_match_minisom(rows, cols):
    rng = np.random.default_rng(7)
    W = rng.standard_normal((rows * cols, 3))
    X = rng.standard_normal((400, 3))
    ms = _minisom(rows, cols, W, "rectangular")
    assert topographic_error(X, W, (rows, cols)) == pytest.approx(ms.topographic_error(X), abs=1e-12)
    som = SOM((rows, cols)).set_params()
    som.prototypes_ = W
    for scaling in ("sum", "mean"):
        np.testing.assert_allclose(som.distance_map(scaling), ms.distance_map(scaling), rtol=1e-12)


@pytest.mark.parametrize("rows, cols", [(3, 4), (5, 3), (7, 6)])
def test_hexagonal_distance_map_matches_minisom_for_odd_row_counts(rows, cols):
    # MiniSom's distance_map picks hexagonal neighbours by the parity of its row index, which agrees with
    # its own coordinates only when the number of rows is odd; with an even count it differs from its
    # coordinates (and from its own topographic error), so only odd counts are compared.
    W = np.random.default_rng(rows + cols).standard_normal((rows * cols, 2))
    som = SOM((rows, cols), "hexagonal").set_params()
    som.prototypes_ = W
    ms = _minisom(rows, cols, W)
    back = np.argsort(_minisom_to_ours(rows, cols).ravel())  # MiniSom's flat index of each of our units
    for scaling in ("sum", "mean"):
        theirs = ms.distance_map(scaling).ravel()[back].reshape(rows, cols)
        np.testing.assert_allclose(som.distance_map(scaling), theirs, rtol=1e-12)


def test_hexagonal_u_matrix_by_hand():
    W = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0], [6.0, 8.0]])  # 2 × 2: (0,0) (0,1) / (1,0) (1,1)
    U = u_matrix(W, (2, 2), "hexagonal")
    # (0,0): neighbours (0,1), (1,0); (0,1): (0,0), (1,0), (1,1); (1,0) odd row: (1,1), (0,0), (0,1); (1,1): (1,0), (0,1)
    d = lambda a, b: np.linalg.norm(W[a] - W[b])  # noqa: E731
    expected = [[(d(0, 1) + d(0, 2)) / 2, (d(1, 0) + d(1, 2) + d(1, 3)) / 3],
                [(d(2, 3) + d(2, 0) + d(2, 1)) / 3, (d(3, 2) + d(3, 1)) / 2]]
    np.testing.assert_allclose(U, expected)
    tor = u_matrix(np.random.default_rng(0).standard_normal((8, 3)), (2, 4), "hexagonal_toroidal")
    assert tor.shape == (2, 4) and np.all(np.isfinite(tor)) and np.all(tor > 0)


def test_music_preserves_the_hexagonal_ring_of_the_bmu():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((800, 3))
    grid = (6, 6)
    som = SOM(grid, "hexagonal", epochs=8).fit(X)
    music = Music(som.prototypes_, MusicParams(preserve_ring=1), grid_shape=grid, topology="hexagonal")
    x = X[0]
    bmu = int(som.predict(x[None, :])[0])
    exclude = 0 if bmu != 0 else 1
    expected = np.setdiff1d(np.append(lattice_ring(bmu, 1, grid, "hexagonal"), bmu), [exclude])
    np.testing.assert_array_equal(music.preserved_set(x, exclude), expected)
    assert len(lattice_ring(bmu, 1, grid, "hexagonal")) <= 6
    tr = music.run(x, 5, "informed", target=35)
    assert np.all(np.isfinite(tr.states))
    assert quantization_error(tr.states, som.prototypes_) >= 0
