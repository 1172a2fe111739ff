"""Unit tests of the faces helpers (musicsom.experiments.faces): person split, cluster growing, free-evolution steps."""

from __future__ import annotations

import numpy as np
import pytest

from musicsom.experiments.common import linear_path
from musicsom.experiments.faces import (
    cluster_distance,
    draw_free_sequence,
    free_evolution,
    free_music_step,
    free_radial_step,
    grow_cluster,
    label_shares,
    monotone_share,
    nearest_prototype_distance,
    split_people,
)


def test_split_people_keeps_every_identity_on_one_side():
    person = np.repeat([f"p{i}" for i in range(40)], 3)
    held = split_people(person, 0.1, seed=0)
    assert np.unique(person[held]).size == 4
    assert not set(person[held]) & set(person[~held])
    assert np.array_equal(held, split_people(person, 0.1, seed=0))
    assert not np.array_equal(held, split_people(person, 0.1, seed=1))


def test_label_shares_ignore_unknown_labels():
    bmu = np.array([0, 0, 0, 1, 1, 2])
    positive = np.array([True, False, False, True, False, False])
    known = np.array([True, True, False, True, True, False])
    s = label_shares(bmu, positive, known, 4)
    assert s["hits"].tolist() == [3, 2, 1, 0]
    assert s["known"].tolist() == [2, 2, 0, 0]
    assert s["share"][0] == 0.5 and s["share"][1] == 0.5
    assert np.isnan(s["share"][2]) and np.isnan(s["share"][3])


def test_grow_cluster_on_a_hand_made_grid():
    # 4 x 5 lattice, 10 labelled hits per unit; a high-share blob top left and a lone high unit far away
    share = np.array([
        [0.9, 0.8, 0.2, 0.1, 0.0],
        [0.7, 0.6, 0.1, 0.0, 0.0],
        [0.1, 0.4, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.9],
    ]).ravel()
    known = np.full(20, 10)
    positive = (share * 10).round().astype(int)
    c = grow_cluster(positive, known, (4, 5), threshold=0.5, max_size=10, min_hits=1)
    assert c["seed_unit"] == 0
    # best-first: 0.9, 0.8, 0.7, 0.6 (pooled 0.75), then 0.4 (pooled 0.68), then 0.2 (pooled 0.6),
    # then a 0.1 unit would bring the pooled share to 0.529, the next 0.1 to 0.475 < 0.5: stop.
    assert c["units"].tolist()[:6] == [0, 1, 5, 6, 11, 2]
    assert c["size"] == 7 and c["share"] == pytest.approx(37 / 70) and c["share"] >= 0.5
    assert c["min_member_share"] == pytest.approx(0.1)
    assert 19 not in c["units"]  # the far unit is not connected
    assert not c["seed_below_threshold"]
    # a stricter threshold keeps only the core
    assert grow_cluster(positive, known, (4, 5), threshold=0.7, max_size=10)["units"].tolist() == [0, 1, 5, 6]
    # the size cap
    assert grow_cluster(positive, known, (4, 5), threshold=0.5, max_size=2)["units"].tolist() == [0, 1]
    # a unit with too few labelled hits can neither seed nor join
    few = known.copy()
    few[0] = 1
    c2 = grow_cluster(np.minimum(positive, few), few, (4, 5), threshold=0.5, max_size=10, min_hits=5)
    assert 0 not in c2["units"] and c2["seed_unit"] == 19
    # nothing above the threshold: the best prototype alone, flagged
    low = grow_cluster(np.minimum(positive, 3), known, (4, 5), threshold=0.5)
    assert low["size"] == 1 and low["seed_below_threshold"]


def test_grow_cluster_refuses_when_no_unit_is_eligible():
    with pytest.raises(ValueError, match="min_hits"):
        grow_cluster(np.zeros(4, int), np.zeros(4, int), (2, 2), min_hits=1)


def _cloud(seed=0, K=60, D=20):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((K, D))
    x = W[:5].mean(0) + 0.3 * rng.standard_normal(D)
    return W, x


@pytest.mark.parametrize("per_row_mean", [False, True])
def test_free_steps_have_the_same_length_and_music_preserves_the_nearest(per_row_mean):
    W, x = _cloud()
    rng = np.random.default_rng(1)
    near = np.argsort(((W - x) ** 2).sum(1))
    errs_music, errs_radial = [], []
    for _ in range(30):
        j = int(rng.choice(near[4:]))  # a prototype outside the preserved set
        da = rng.uniform(-0.1, 0.1) * ((x - W[j]) ** 2).sum()
        dm = free_music_step(x, W, j, da, n_preserve=4, alpha=0.9, lam=1e-4, eta=0.05, per_row_mean=per_row_mean)
        dr = free_radial_step(x, W, j, da, eta=0.05)
        assert np.linalg.norm(dm) == pytest.approx(0.05) and np.linalg.norm(dr) == pytest.approx(0.05)
        P = near[:4]
        a0 = ((x - W[P]) ** 2).sum(1)
        errs_music.append(np.abs(((x + dm - W[P]) ** 2).sum(1) - a0).max())
        errs_radial.append(np.abs(((x + dr - W[P]) ** 2).sum(1) - a0).max())
        # both move the target's squared distance the asked way
        aj = ((x - W[j]) ** 2).sum()
        assert np.sign(((x + dm - W[j]) ** 2).sum() - aj) == np.sign(da)
        assert np.sign(((x + dr - W[j]) ** 2).sum() - aj) == np.sign(da)
    # first order preserved: only the η² term is left for MUSIC
    assert np.median(errs_music) < 0.1 * np.median(errs_radial)
    assert max(errs_music) < 3 * 0.05**2


def test_free_evolution_shares_the_draws_and_is_seeded():
    W, x = _cloud(2)
    u, rel = draw_free_sequence(15, W.shape[0], np.random.default_rng(0))
    u2, rel2 = draw_free_sequence(15, W.shape[0], np.random.default_rng(0))
    assert np.array_equal(u, u2) and np.array_equal(rel, rel2)
    for method in ("music", "radial"):
        S = free_evolution(x, W, u, rel, method, eta=0.1)
        assert S.shape == (16, 20)
        assert np.allclose(np.linalg.norm(np.diff(S, axis=0), axis=1), 0.1)
    with pytest.raises(ValueError, match="method"):
        free_evolution(x, W, u, rel, "tangent")


def test_linear_path_and_distances():
    W = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    S = linear_path([4.0, 4.0], W[[1, 2]].mean(0), 4)
    assert S.shape == (5, 2) and np.allclose(S[-1], [1.0, 1.0]) and np.allclose(S[0], [4.0, 4.0])
    d = cluster_distance(S, W, [1, 2])
    assert np.all(np.diff(d) < 0) and monotone_share(d) == 1.0
    assert d[-1] == pytest.approx(np.sqrt(2))
    assert nearest_prototype_distance(np.array([[2.0, 1.0]]), W)[0] == pytest.approx(1.0)
    assert monotone_share([3, 2, 2.5, 1]) == pytest.approx(2 / 3)
