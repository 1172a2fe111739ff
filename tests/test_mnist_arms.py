"""The MNIST comparison's extra arms and columns on tiny synthetic data with known answers: the kNN (data-manifold)
path, slerp, the equal-decoder columns, the frames handed out for set-level metrics, and Table 2's MUSIC rank."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from musicsom import image_metrics as im
from musicsom.encoding import PCAWhitening
from musicsom.experiments import mnist as mn
from musicsom.experiments.common import linear_path
from musicsom.pipeline.mnist import table2


# ---------------------------------------------------------------- geometry helpers
def _circle(n=40, gap=range(18, 23), radius=1.0):
    """``n`` evenly spaced points on a circle with the indices in ``gap`` (around the angle π) left out."""
    keep = [i for i in range(n) if i not in set(gap)]
    ang = 2 * np.pi * np.array(keep) / n
    return radius * np.c_[np.cos(ang), np.sin(ang)], keep


def _nearest_distance(P, data):
    return np.sqrt(((P[:, None, :] - data[None]) ** 2).sum(-1)).min(1)


# ---------------------------------------------------------------- slerp
def test_slerp_known_answers_keeps_the_norm_and_falls_back_to_lerp():
    z0, z1 = np.array([2.0, 0.0]), np.array([0.0, 2.0])
    S = mn.slerp(z0, z1, 4)
    assert S.shape == (5, 2)
    np.testing.assert_array_equal(S[0], z0)
    np.testing.assert_array_equal(S[-1], z1)
    np.testing.assert_allclose(S[2], [np.sqrt(2), np.sqrt(2)], atol=1e-12)   # t = 0.5: the bisector, norm kept
    np.testing.assert_allclose(np.linalg.norm(S, axis=1), 2.0, atol=1e-12)      # equal end norms: constant norm
    np.testing.assert_allclose(np.arctan2(S[:, 1], S[:, 0]), np.linspace(0, np.pi / 2, 5), atol=1e-12)  # angle linear in t
    lerp_mid = linear_path(z0, z1, 4)[2]
    assert np.linalg.norm(lerp_mid) == pytest.approx(np.sqrt(2))                 # the straight line cuts inside
    # unequal norms, 90 degrees: p(1/2) = (z0 + z1) / (2 cos 45°)
    np.testing.assert_allclose(mn.slerp([1.0, 0.0], [0.0, 3.0], 2)[1], np.array([1.0, 3.0]) / np.sqrt(2), atol=1e-12)
    # parallel, antiparallel and zero endpoints have no unique great circle: the straight line
    for a, b in (([1.0, 0.0, 0.0], [3.0, 0.0, 0.0]), ([1.0, 2.0], [-2.0, -4.0]), ([0.0, 0.0], [1.0, 1.0])):
        np.testing.assert_allclose(mn.slerp(a, b, 6), linear_path(a, b, 6), atol=1e-12)
    with pytest.raises(ValueError, match="same length"):
        mn.slerp([1.0, 0.0], [1.0, 0.0, 0.0], 3)


# ---------------------------------------------------------------- resampling
def test_resample_polyline_equal_arc_length_and_exact_ends():
    P = np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 0.0], [3.0, 1.0]])  # a repeated point adds no length
    R = mn.resample_polyline(P, 9)
    assert R.shape == (9, 2)
    np.testing.assert_array_equal(R[[0, -1]], P[[0, -1]])
    # arc position of each frame: distance along x then along y; total length 4 -> frames every 0.5
    arc = np.where(R[:, 1] > 0, 3.0 + R[:, 1], R[:, 0])
    np.testing.assert_allclose(arc, np.linspace(0, 4, 9), atol=1e-12)
    assert np.all(np.isclose(R[:, 1], 0) | np.isclose(R[:, 0], 3))            # every frame on the polyline
    np.testing.assert_array_equal(mn.resample_polyline([[1.0, 2.0], [1.0, 2.0]], 3), [[1.0, 2.0]] * 3)
    with pytest.raises(ValueError, match="n_frames"):
        mn.resample_polyline(P, 1)


# ---------------------------------------------------------------- the kNN path
def test_knn_path_follows_the_data_around_a_gap():
    data, keep = _circle()
    g = mn.LatentGraph.build(data, k=2)
    assert g.n_components == 1 and len(g.nodes) == len(data)
    start, end = np.array([0.0, -1.0]), np.array([0.0, 1.0])   # the training points at -90 and +90 degrees
    n_steps = 50
    (S,) = mn.knn_paths(g, start[None], end[None], n_steps)
    line = linear_path(start, end, n_steps)
    assert S.shape == (n_steps + 1, 2)
    np.testing.assert_array_equal(S[[0, -1]], [start, end])
    # around the right side (the left one has the gap): half the circle, 20 chords of 2 sin(pi / 40)
    (poly,) = g.paths(start[None], end[None])
    length = np.linalg.norm(np.diff(poly, axis=0), axis=1).sum()
    assert length == pytest.approx(20 * 2 * np.sin(np.pi / 40), rel=1e-9)
    assert S[:, 0].max() == pytest.approx(1.0) and S[:, 0].min() > -1e-12
    # on the data: within half a chord of a training point everywhere; the straight line gets 1 away
    on_path, on_line = _nearest_distance(S, data).max(), _nearest_distance(line, data).max()
    assert on_path <= np.sin(np.pi / 40) + 1e-9
    assert on_line > 0.95 and on_path < on_line / 10
    # equally spaced in arc length: consecutive frames are one step of the polyline apart (less across a corner)
    step = np.linalg.norm(np.diff(S, axis=0), axis=1)
    assert np.all(step <= length / n_steps + 1e-12)
    assert np.median(step) == pytest.approx(length / n_steps, rel=1e-9)


def test_knn_graph_subset_is_seeded_and_refuses_bad_sizes():
    data = np.random.default_rng(0).normal(size=(200, 3))
    a, b = mn.LatentGraph.build(data, 4, 50, seed=3), mn.LatentGraph.build(data, 4, 50, seed=3)
    np.testing.assert_array_equal(a.node_ids, b.node_ids)
    assert len(a.node_ids) == 50 and not np.array_equal(a.node_ids, mn.LatentGraph.build(data, 4, 50, seed=4).node_ids)
    np.testing.assert_array_equal(a.nodes, data[a.node_ids])
    assert len(mn.LatentGraph.build(data, 4, 0).nodes) == 200
    with pytest.raises(ValueError, match="at least 5 codes"):
        mn.LatentGraph.build(data[:4], 4)
    with pytest.raises(ValueError, match="knn_path_k"):
        mn.LatentGraph.build(data, 0)


def test_disconnected_graph_reports_unreachable_with_a_warning(caplog):
    # two arcs far apart (each of 10 points, k = 2): two components
    left, _ = _circle(40, gap=list(range(0, 15)) + list(range(25, 40)))
    right = left + np.array([10.0, 0.0])
    g = mn.LatentGraph.build(np.vstack([left, right]), k=2)
    assert g.n_components == 2
    starts = np.array([left[0], left[0]])
    ends = np.array([left[-1], right[-1]])
    with caplog.at_level(logging.WARNING, logger="musicsom.experiments.mnist"):
        got = mn.knn_paths(g, starts, ends, 10)
    assert got[0] is not None and got[0].shape == (11, 2)
    assert got[1] is None
    assert "1 of 2 paths cannot reach" in caplog.text


# ---------------------------------------------------------------- a toy context: every arm, equal decoders, frames
def _toy_context(gap=False):
    """A 2-d whitened latent of 784-pixel images that decode inside (0, 1) (no clipping), training codes on a circle,
    prototypes on the circle, a two-class classifier, and a 'VAE' that is the PCA itself (so both decoders agree)."""
    rng = np.random.default_rng(0)
    U = np.linalg.qr(rng.normal(size=(784, 2)))[0].T          # two orthonormal pixel directions
    codes = rng.normal(size=(500, 2))
    X = 0.5 + 0.2 * codes @ U
    enc = PCAWhitening(2).fit(X)
    data, _ = _circle(60, gap=range(25, 36) if gap else ())
    z_train = 1.5 * data
    W = 1.5 * _circle(12, gap=())[0]
    centres = np.array([[0.0, -1.5], [0.0, 1.5]])

    def classify(Z):
        e = np.exp(-((np.asarray(Z)[:, None, :] - centres[None]) ** 2).sum(-1))
        return e / e.sum(1, keepdims=True)

    labels = np.where(W[:, 1] >= 0, 1, 0)
    pix_train = np.clip(enc.decode(z_train), 0, 1)
    z_test = 1.5 * np.array([[0.0, -1.0], [0.3, -0.95], [-0.3, -0.95]])
    ctx = mn.Context(enc=enc, z_test=z_test, y_test=np.zeros(3, dtype=int), pix_test=enc.decode(z_test), W=W, grid_shape=(3, 4),
                     topology="toroidal", labels=labels, purity=np.ones(len(W)), classify=classify,
                     vae_encode=lambda X: enc.encode(X), vae_decode=lambda Z: enc.decode(Z),
                     knn=im.KnnIndex(pix_train.astype(np.float32)), z_train=z_train)
    ctx.graph = mn.LatentGraph.build(z_train, k=2)
    return ctx


def _jobs(ctx):
    jobs = [mn.Job(0, 1, i, i) for i in range(len(ctx.z_test))]
    targets = np.full(len(jobs), int(np.argmax(ctx.W[:, 1])))     # the prototype at the top of the circle
    return jobs, targets, np.zeros(len(jobs), dtype=bool)


def test_decode_as_pca_round_trip_returns_pca_decoded_frames():
    ctx = _toy_context()
    frames = mn.to_images(ctx.enc, np.random.default_rng(1).normal(size=(7, 2)))
    assert 0 < frames.min() and frames.max() < 1                   # inside (0, 1): the clip does nothing
    np.testing.assert_allclose(mn.decode_as(frames, "pca", ctx.enc), frames, atol=1e-12)
    with pytest.raises(ValueError, match="needs the VAE"):
        mn.decode_as(frames, "vae", ctx.enc)
    with pytest.raises(ValueError, match="decoder must be one of"):
        mn.decode_as(frames, "jpeg", ctx.enc)


def test_trajectory_rows_every_arm_equal_decoders_and_frames():
    ctx = _toy_context()
    jobs, targets, relaxed = _jobs(ctx)
    n_steps, stride = 20, 3
    arms = ("linear", "knn_path", "vae", "slerp")
    plain = pd.DataFrame(mn.trajectory_rows(ctx, jobs, targets, relaxed, n_steps, None, 0, methods=arms, knn_stride=stride))
    frames: dict = {}
    rows = pd.DataFrame(mn.trajectory_rows(ctx, jobs, targets, relaxed, n_steps, None, 0, methods=arms, knn_stride=stride,
                                           equal_decoders=True, frames_out=frames))
    assert list(dict.fromkeys(rows["method"])) == list(arms) and len(rows) == 4 * len(jobs)
    # the rows a caller gets without asking are the same, and they have no decoder columns
    pd.testing.assert_frame_equal(rows[plain.columns], plain)
    assert not any(c.endswith(("_pca", "_vae")) for c in plain.columns)
    # with a 'VAE' that is the PCA and frames inside (0, 1), both decoders give back the same frames: every
    # equal-decoder column equals the plain metric (own decoder by definition, the other by the round trip)
    for d in mn.DECODERS:
        for k in mn.DECODER_METRICS:
            np.testing.assert_allclose(rows[f"{k}_{d}"], rows[k], rtol=1e-9, atol=1e-12, err_msg=f"{k}_{d}")
    # the kNN path and the straight line reach the same prototype; the line is straight, the graph path is not
    by = rows.set_index(["method", "start"])
    assert by.loc[("linear", 0), "geodesic_efficiency"] == pytest.approx(1.0)
    assert by.loc[("knn_path", 0), "geodesic_efficiency"] < 0.9
    assert (rows["final_label"] == 1).all()
    # frames for set-level metrics: every arm and every cross-decoded arm, endpoints excluded, every stride-th
    per_path = mn.intermediate_indices(n_steps + 1, stride)
    np.testing.assert_array_equal(per_path, [3, 6, 9, 12, 15, 18])
    assert set(frames) == set(arms) | {"linear@vae", "knn_path@vae", "vae@pca", "slerp@pca"}
    for key, F in frames.items():
        assert F.shape == (len(jobs) * per_path.size, 28, 28) and F.dtype == np.float32, key
    line = mn.to_images(ctx.enc, linear_path(ctx.z_test[0], ctx.W[targets[0]], n_steps))
    np.testing.assert_allclose(frames["linear"][: per_path.size], line[per_path], atol=1e-6)


def test_trajectory_rows_keeps_unreachable_knn_paths_as_nan_rows(caplog):
    ctx = _toy_context()
    # the graph: the lower and the upper arc of the circle, 2 apart, each point joined to its 2 neighbours on its arc;
    # the starts sit by the lower one, the target prototype on the upper one
    ctx.graph = mn.LatentGraph.build(ctx.z_train[np.abs(ctx.z_train[:, 1]) > 1.0], k=2)
    assert ctx.graph.n_components == 2
    jobs, targets, relaxed = _jobs(ctx)
    with caplog.at_level(logging.WARNING, logger="musicsom.experiments.mnist"):
        rows = pd.DataFrame(mn.trajectory_rows(ctx, jobs, targets, relaxed, 10, None, 0, methods=("linear", "knn_path"),
                                               equal_decoders=True, frames_out={}))
    knn = rows[rows["method"] == "knn_path"]
    assert len(knn) == len(jobs) and (knn["label_sequence"] == "unreachable").all()
    assert knn[["mean_confidence", "sharpness", "manifold_distance", "crossing_step", "sharpness_vae"]].isna().all().all()
    assert rows.loc[rows["method"] == "linear", "sharpness"].notna().all()
    assert "3 of 3 paths cannot reach" in caplog.text
    assert set(mn.PATH_ROW_KEYS) <= set(rows.columns)


def test_run_methods_gives_every_arm_the_same_number_of_frames():
    ctx = _toy_context()
    res = mn.run_methods(ctx.z_test[0], ctx.pix_test[0], int(np.argmax(ctx.W[:, 1])), ctx.W, None, 15, ctx.enc, ctx.classify,
                         ctx.vae_encode, ctx.vae_decode, methods=("linear", "knn_path", "vae", "slerp"), graph=ctx.graph)
    assert list(res) == ["linear", "knn_path", "vae", "slerp"]
    for m, r in res.items():
        assert r["images"].shape == (16, 28, 28) and r["probs"].shape == (16, 2), m
    np.testing.assert_allclose(res["knn_path"]["states"][[0, -1]], [ctx.z_test[0], ctx.W[int(np.argmax(ctx.W[:, 1]))]])
    # slerp and the line share their endpoints in the (here PCA) VAE latent
    np.testing.assert_allclose(res["slerp"]["states"][[0, -1]], res["vae"]["states"][[0, -1]])
    # the same path through the batch of trajectory_rows
    jobs, targets, relaxed = _jobs(ctx)
    row = mn.trajectory_rows(ctx, jobs[:1], targets[:1], relaxed[:1], 15, None, 0, methods=("knn_path",))[0]
    assert row["path_length"] == pytest.approx(np.linalg.norm(np.diff(res["knn_path"]["states"], axis=0), axis=1).sum())


# ---------------------------------------------------------------- Table 2: MUSIC's rank among the arms
def test_table2_ranks_music_among_the_arms_and_tests_each_arm():
    rng = np.random.default_rng(0)
    rows = []
    level = {"music": 5.0, "linear": 4.0, "knn_path": 3.0, "vae": 2.0, "slerp": 1.0}
    for seed in (0, 1):
        for pair in ("0->1", "2->3", "4->5"):
            for start in range(4):
                for m, v in level.items():
                    r = {"seed": seed, "pair": pair, "source": int(pair[0]), "start": start, "method": m}
                    for k in mn.PAIR_METRICS:
                        r[k] = v + 0.01 * rng.normal()
                    for k in table2.SAME_DECODER:
                        r[k] = v + 0.01 * rng.normal()
                    rows.append(r)
    frame = pd.DataFrame(rows)
    stats = table2.compare(frame)
    pooled = stats[stats["scope"] == "pooled"]
    assert set(pooled["comparison"]) == {f"music_vs_{m}" for m in ("linear", "knn_path", "vae", "slerp")}
    assert set(pooled["family"]) == {"table2", "same_decoder"}
    rank = pooled.drop_duplicates(["family", "metric"]).set_index("metric")
    # MUSIC has the largest mean everywhere: first where higher is better, last where lower is
    assert rank.loc["sharpness", "music_rank"] == 1 and rank.loc["manifold_distance", "music_rank"] == 5
    assert rank.loc["manifold_distance_vae", "music_rank"] == 5 and rank.loc["sharpness_pca", "music_rank"] == 1
    assert (rank["n_arms"] == 5).all()
    assert (pooled["groups_music_higher"] == 3).all()
    md = table2.markdown(stats, frame)
    assert "kNN path" in md and "VAE slerp" in md and "| 5/5 |" in md and "(VAE round trip)" in md
    assert table2.music_rank(pd.Series({"music": 1.0, "a": 1.0, "b": 0.5}), "higher") == 1.0  # ties share the better place
