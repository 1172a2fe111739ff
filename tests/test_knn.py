"""KnnIndex: the bound-pruned search returns exactly the brute-force float64 k smallest distances."""

import numpy as np
import pytest

from musicsom import image_metrics as im


def brute(Q, ref, k):
    """Every distance, measured as the index measures them (float64 on float32 values), k smallest ascending."""
    Q = np.asarray(Q).reshape(len(Q), -1).astype(np.float32).astype(np.float64)
    R = np.asarray(ref).reshape(len(ref), -1).astype(np.float32).astype(np.float64)
    out = np.empty((len(Q), k))
    for i, q in enumerate(Q):
        diff = q - R
        out[i] = np.sort(np.sqrt(np.einsum("ij,ij->i", diff, diff)))[:k]
    return out


def image_like(n, d, rng):
    """Non-negative rows in a low-dimensional family plus noise, like flattened digit images (so the bound prunes)."""
    basis = rng.random((12, d))
    return np.clip(rng.random((n, 12)) @ basis / 4 + 0.1 * rng.random((n, d)), 0, None)


@pytest.mark.parametrize("rank", [4, 16, 200])  # a real projection, and rank >= d (every coordinate, P = I)
def test_matches_brute_force_bitwise(rank):
    rng = np.random.default_rng(0)
    ref = image_like(3000, 64, rng)
    Q = np.concatenate([image_like(40, 64, rng), 3 * rng.random((5, 64))])  # and a few far from the data
    index = im.KnnIndex(ref, chunk=16, rank=rank)
    got = index.query(Q, k=5)
    np.testing.assert_array_equal(got, brute(Q, ref, 5))


def test_query_equal_to_a_reference_row_and_ties():
    rng = np.random.default_rng(1)
    ref = image_like(2000, 49, rng)
    ref[100:107] = ref[5]  # seven copies of row 5: ties at distance 0 across the k-th place
    ref[1500] = ref[5] + 0.25  # equidistant pair around row 5
    ref[1501] = ref[5] - 0.25
    index = im.KnnIndex(ref, chunk=7, rank=8)
    d = index.query(ref[[5, 100, 1500, 42]], k=9)
    np.testing.assert_array_equal(d, brute(ref[[5, 100, 1500, 42]], ref, 9))
    assert np.all(d[:2, :8] == 0.0) and d[0, 8] > 0.0  # itself and its 7 copies, then the next row
    assert d[3, 0] == 0.0  # a plain reference row is at distance exactly 0


def test_grid_of_exact_ties():
    # integer lattice: many reference rows at exactly the same distance from a query
    g = np.stack(np.meshgrid(*[np.arange(5.0)] * 3, indexing="ij"), -1).reshape(-1, 3)
    ref = np.repeat(g, 2, axis=1)  # 125 rows in 6-D; rank 2 < d forces the projected bound
    Q = np.array([[2.0] * 6, [2.5] * 6, [0.5, 0.5, 1.0, 1.0, 4.0, 4.0]])
    index = im.KnnIndex(ref, chunk=2, rank=2)
    np.testing.assert_array_equal(index.query(Q, k=10), brute(Q, ref, 10))


def test_results_do_not_depend_on_chunk_or_duplicates():
    rng = np.random.default_rng(2)
    ref = image_like(1500, 36, rng)
    Q = image_like(30, 36, rng)
    Q = np.concatenate([Q, Q[::3], Q[:1]])  # repeated frames (a path's end frames)
    base = im.KnnIndex(ref, chunk=1000, rank=6).query(Q, k=4)
    for chunk in (1, 5, 64):
        np.testing.assert_array_equal(im.KnnIndex(ref, chunk=chunk, rank=6).query(Q, k=4), base)
    np.testing.assert_array_equal(base[30:40], base[:30:3])
    np.testing.assert_array_equal(im.knn_distance(Q, ref, k=4), base.mean(1))


def test_large_k_small_reference_and_empty_query():
    rng = np.random.default_rng(3)
    ref = rng.random((20, 10))
    index = im.KnnIndex(ref, rank=3)
    Q = rng.random((4, 10))
    np.testing.assert_array_equal(index.query(Q, k=20), brute(Q, ref, 20))  # k = n_ref: every row
    assert index.query(np.empty((0, 10)), k=3).shape == (0, 3)
    big = im.KnnIndex(rng.random((1100, 4)), rank=2)  # k > the 1024 blocks: the no-bound path
    np.testing.assert_array_equal(big.query(Q[:, :4], k=1050), brute(Q[:, :4], big.ref, 1050))


def test_validation():
    with pytest.raises(ValueError, match="at least one"):
        im.KnnIndex(np.empty((0, 3)))
    with pytest.raises(ValueError, match="finite"):
        im.KnnIndex(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="rank"):
        im.KnnIndex(np.zeros((3, 2)), rank=0)
    index = im.KnnIndex(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="values"):
        index.query(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="NaN"):
        index.query(np.array([[np.inf, 0.0]]))
    with pytest.raises(ValueError, match="k must"):
        index.query(np.zeros((1, 2)), k=4)
