"""The identity calibration of the faces experiment (musicsom.experiments.face_calibration): LFW's pairs files,
the distance table and its summaries on planted descriptors, the drift read against the calibration, and dlib on
real LFW photos (skipped without dlib or the data mirror)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from musicsom.experiments import face_calibration as fc
from musicsom.experiments import face_id
from musicsom.experiments.faces import comparison_table, comparisons, has_calibration, per_start_metrics

# two folds of 2 matched + 2 mismatched pairs, laid out like LFW's pairs.txt
PAIRS = """2\t2
Abel_Pacheco\t1\t4
Akhmed_Zakayev\t1\t3
Abdel_Madi_Shabneh\t1\tDean_Barker\t1
Abdul_Rahman\t1\tPortia_de_Rossi\t12
Zico\t1\t2
Zico\t2\t3
Zico\t3\tAbel_Pacheco\t4
Dean_Barker\t1\tZico\t1
"""


# ---------------------------------------------------------------- pairs files
def test_pairs_file_gives_both_kinds_with_folds_and_padded_image_ids():
    p = fc.parse_pairs(PAIRS)
    assert len(p) == 8
    assert p["kind"].tolist() == ["same_person"] * 2 + ["different_people"] * 2 + ["same_person"] * 2 + ["different_people"] * 2
    assert p["fold"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert p.loc[0, ["person_a", "image_a", "person_b", "image_b"]].tolist() == [
        "Abel_Pacheco", "Abel_Pacheco_0001", "Abel_Pacheco", "Abel_Pacheco_0004"]
    assert p.loc[3, ["person_a", "image_a", "person_b", "image_b"]].tolist() == [
        "Abdul_Rahman", "Abdul_Rahman_0001", "Portia_de_Rossi", "Portia_de_Rossi_0012"]
    assert p.loc[6, "image_b"] == "Abel_Pacheco_0004"


def test_a_single_count_header_is_one_fold():
    text = "1\nZico\t1\t2\nZico\t1\tDean_Barker\t1\n"
    p = fc.parse_pairs(text)
    assert p["kind"].tolist() == ["same_person", "different_people"] and p["fold"].tolist() == [0, 0]


def test_malformed_pairs_files_are_refused_with_the_line():
    with pytest.raises(ValueError, match="announces 2 fold"):
        fc.parse_pairs(PAIRS.rsplit("\n", 2)[0])
    swapped = PAIRS.replace("Akhmed_Zakayev\t1\t3", "Akhmed_Zakayev\t1\tZico\t3")
    with pytest.raises(ValueError, match="line 3: expected 3 fields"):
        fc.parse_pairs(swapped)
    with pytest.raises(ValueError, match="not an integer"):
        fc.parse_pairs(PAIRS.replace("Zico\t1\t2", "Zico\tone\t2"))
    with pytest.raises(ValueError, match="first line"):
        fc.parse_pairs("pairs\n")


def test_pairs_need_both_images_and_a_cap_keeps_a_seeded_subset():
    p = fc.parse_pairs(PAIRS)
    have = ["Abel_Pacheco_0001", "Abel_Pacheco_0004", "Zico_0001", "Zico_0002", "Zico_0003", "Dean_Barker_0001"]
    used, counts = fc.select_pairs(p, have)
    assert counts["same_person"] == {"listed": 4, "available": 3, "used": 3}
    assert counts["different_people"] == {"listed": 4, "available": 2, "used": 2}
    assert set(used["image_a"] + used["image_b"]) <= {a + b for a in have for b in have}
    capped, counts = fc.select_pairs(p, have, max_per_kind=1, seed=3)
    assert counts["same_person"]["used"] == 1 and counts["different_people"]["used"] == 1
    again, _ = fc.select_pairs(p, have, max_per_kind=1, seed=3)
    pd.testing.assert_frame_equal(capped, again)
    with pytest.raises(ValueError, match="max_per_kind"):
        fc.select_pairs(p, have, max_per_kind=-1)


# ---------------------------------------------------------------- summaries: known answers
def test_distribution_quantiles_and_share_below_dlib_threshold():
    d = fc.distribution(np.r_[np.arange(101) / 100, np.nan])
    assert d["n"] == 101
    assert (d["p05"], d["q25"], d["median"], d["q75"], d["p95"]) == pytest.approx((0.05, 0.25, 0.5, 0.75, 0.95))
    assert d["below_dlib_threshold"] == pytest.approx(60 / 101)
    assert np.isnan(fc.distribution([])["median"])


def test_roc_area_and_equal_error_threshold():
    same, diff = [0.1, 0.2, 0.3, 0.4], [0.35, 0.5, 0.6, 0.7]
    assert fc.roc_auc(same, diff) == pytest.approx(15 / 16)
    assert fc.roc_auc([0.1], [0.9]) == 1.0 and fc.roc_auc([0.9], [0.1]) == 0.0
    assert fc.roc_auc([0.5, 0.5], [0.5]) == pytest.approx(0.5)  # ties count half
    e = fc.equal_error(same, diff)
    assert e == {"threshold": pytest.approx(0.35), "rate": pytest.approx(0.25)}
    assert fc.equal_error([0.1, 0.2], [0.8, 0.9])["rate"] == 0.0
    assert np.isnan(fc.roc_auc([], diff))


def _planted_views(ids, rng):
    """Descriptors with known distances: people 10 apart, a person's photos 0.4 apart (two of them: ±0.2 along one
    axis), decoding moves every photo by 0.3 along another axis, the latent round trip by a further 0.04."""
    persons = sorted({i.rsplit("_", 1)[0] for i in ids})
    base = {p: 10 * np.eye(128)[k + 10] for k, p in enumerate(persons)}
    orig = np.stack([base[i.rsplit("_", 1)[0]] + (0.2 if int(i[-4:]) % 2 else -0.2) * np.eye(128)[0] for i in ids])
    decoded = orig + 0.3 * np.eye(128)[1]
    latent = decoded + 0.04 * np.eye(128)[2]
    found = np.ones(len(ids), bool)
    found[0] = False
    return {"original": (orig, found), "decoded": (decoded, found.copy()), "latent": (latent, np.ones(len(ids), bool))}


def test_table_and_summary_on_planted_descriptors():
    pairs = fc.parse_pairs(PAIRS)
    ids = np.unique(np.r_[pairs["image_a"], pairs["image_b"]])
    views = _planted_views(ids, np.random.default_rng(0))
    trained = np.array([i.startswith("Zico") for i in ids])
    used, counts = fc.select_pairs(pairs, ids)
    table = fc.calibration_table(used, ids, views, trained)
    assert len(table) == 3 * ids.size + 3 * len(used)
    same = table[table["kind"] == "same_image"].set_index("view")["distance"]
    assert same["original_vs_decoded"].to_numpy() == pytest.approx(0.3)
    assert same["decoded_vs_latent"].to_numpy() == pytest.approx(0.04)
    assert same["original_vs_latent"].to_numpy() == pytest.approx(np.hypot(0.3, 0.04))
    # same person: photo numbers of different parity are 0.4 apart, of the same parity 0 apart; in every view
    sp = table[(table["kind"] == "same_person")]
    parity = lambda s: s.str[-1].astype(int) % 2  # noqa: E731
    expect = np.where(parity(sp["image_a"]) != parity(sp["image_b"]), 0.4, 0.0)
    assert sp["distance"].to_numpy() == pytest.approx(expect)
    dp = table[table["kind"] == "different_people"]["distance"].to_numpy()
    assert np.all(dp > 14)  # sqrt(10^2 + 10^2) minus at most 0.4
    zz = table[(table["image_a"] == "Zico_0001") & (table["image_b"] == "Zico_0002")]
    assert zz["n_trained"].tolist() == [2, 2, 2]
    assert table.loc[(table["kind"] == "different_people") & (table["image_a"] == "Zico_0003"), "n_trained"].eq(1).all()

    s = fc.summarise(table, counts)
    assert s["pairs"] == counts and s["n_images"] == ids.size
    assert s["n_images_unseen"] == int((~trained).sum())
    assert s["detection_rate"]["original"] == pytest.approx(1 - 1 / ids.size)
    assert s["detection_rate"]["latent"] == 1.0
    for view in fc.VIEWS:
        assert s["separation"][view]["auc"] == 1.0
        assert s["separation"][view]["equal_error_rate"] == 0.0
    assert s["bands"]["view"] == "latent"
    assert s["bands"]["same_image"]["median"] == pytest.approx(0.04)
    assert s["bands"]["photo_vs_decoding"]["median"] == pytest.approx(np.hypot(0.3, 0.04))
    assert s["bands"]["same_person"]["median"] == pytest.approx(np.median(expect))
    assert s["unseen"]["same_image"]["original_vs_decoded"]["n"] == int((~trained).sum())
    ctx = fc.calibration_context(s)
    assert ctx["identity calibration: median distance between two decodings of one photo"] == pytest.approx(0.04)
    assert ctx["identity calibration: ROC area, same vs different people, photos"] == 1.0


def test_table_refuses_missing_descriptors():
    pairs = fc.parse_pairs(PAIRS)
    ids = np.unique(np.r_[pairs["image_a"], pairs["image_b"]])
    views = _planted_views(ids, np.random.default_rng(0))
    with pytest.raises(ValueError, match="no descriptor"):
        fc.calibration_table(pairs, ids[1:], {v: (d[1:], f[1:]) for v, (d, f) in views.items()})
    with pytest.raises(ValueError, match="one descriptor per image"):
        fc.calibration_table(pairs, ids, {**views, "latent": (views["latent"][0][1:], views["latent"][1][1:])})


def test_describe_views_runs_the_face_code_in_blocks_and_keeps_the_order():
    images = np.arange(5, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    encode = lambda im: im.reshape(len(im), -1)[:, :1].astype(float)  # noqa: E731  code = the pixel value
    decode = lambda c: np.broadcast_to((c[:, 0] + 100).astype(np.uint8)[:, None, None, None], (len(c), 2, 2, 3))  # noqa: E731
    round_trip = lambda c: c + 10  # noqa: E731
    describe = lambda im: (np.repeat(im[:, :1, 0, 0].astype(float), 128, 1), im[:, 0, 0, 0] % 2 == 0)  # noqa: E731
    views = fc.describe_views(images, encode, decode, round_trip, describe, batch_size=2)
    assert views["original"][0][:, 0].tolist() == [0, 1, 2, 3, 4]
    assert views["decoded"][0][:, 0].tolist() == [100, 101, 102, 103, 104]
    assert views["latent"][0][:, 0].tolist() == [110, 111, 112, 113, 114]
    assert views["original"][1].tolist() == [True, False, True, False, True]
    assert views["latent"][0].shape == (5, 128)


# ---------------------------------------------------------------- the drift against the calibration
def test_percentiles_of_the_reference_distributions():
    ref = fc.DriftReference(np.array([0.4, 0.1, 0.3, 0.2, np.nan]), np.array([0.5, 0.6, 0.7, 0.8]))
    assert ref.same_person_median == pytest.approx(0.25)
    assert ref.percentile([0.25, 0.2, 0.0, 1.0, np.nan], "same_person")[:4].tolist() == [50.0, 37.5, 0.0, 100.0]
    assert np.isnan(ref.percentile([np.nan], "same_person")[0])
    assert ref.percentile([0.65], "different_people")[0] == 50.0
    with pytest.raises(ValueError, match="kind"):
        ref.percentile([0.1], "same_image")
    with pytest.raises(ValueError, match="no same person distances"):
        fc.DriftReference(np.array([np.nan]), np.array([0.5]))


def test_drift_against_reference_known_answer():
    ref = fc.DriftReference(np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.5, 0.6, 0.7, 0.8]))
    out = fc.drift_against_reference([0.1, 0.3, 0.5, np.nan], 0.3, 0.65, ref)
    assert out == {
        "share_below_same_person_median": pytest.approx(1 / 3),
        "mean_drift_same_person_pct": 62.5,  # 2 below, 1 equal: (2 + 0.5) / 4
        "mean_drift_different_people_pct": 0.0,
        "half_drift_same_person_pct": 100.0,
        "half_drift_different_people_pct": 50.0,
    }
    assert set(out) == set(fc.CALIBRATED_METRICS)


def _frames():
    """One seed's frames: free MUSIC/radial (no drift), and informed MUSIC / linear toward female with planted drift."""
    rows = []
    for exp, method, cluster, drifts in (("informed", "music", "female", [0.0, 0.1, 0.2, 0.9]),
                                        ("linear", "linear", "female", [0.0, 0.5, 0.6, 0.7]),
                                        ("free", "music", "", [np.nan] * 4), ("free", "radial", "", [np.nan] * 4)):
        for start in (0, 1):
            for t, d in enumerate(drifts):
                rows.append({"experiment": exp, "method": method, "cluster": cluster, "start": start, "step": t,
                             "cluster_distance": 4.0 - t if cluster else np.nan, "nearest_prototype": 1.0,
                             "start_distance": float(t), "detected": 1.0, "identity_drift": d})
    return pd.DataFrame(rows)


def test_per_start_metrics_read_the_drift_against_a_planted_reference():
    grid = (np.arange(100) + 0.5) / 100  # 0.005, 0.015, ..., 0.995: median 0.5, no drift below lands on a grid point
    ref = fc.DriftReference(grid, 1 + grid)
    plain = per_start_metrics(_frames())
    assert not has_calibration(plain)
    per = per_start_metrics(_frames(), ref)
    assert has_calibration(per)
    mus = per[(per["experiment"] == "informed")].iloc[0]
    lin = per[(per["experiment"] == "linear")].iloc[0]
    assert mus["mean_identity_drift"] == pytest.approx(0.4)
    assert mus["share_below_same_person_median"] == pytest.approx(2 / 3)  # 0.1, 0.2 below 0.5; 0.9 not
    assert mus["mean_drift_same_person_pct"] == pytest.approx(40.0)  # 40 grid points below 0.4
    assert lin["share_below_same_person_median"] == 0.0  # 0.5 is not below the median 0.5
    # half the initial cluster distance (4 -> 2) is first reached at step 2: drift 0.2 (MUSIC), 0.6 (linear)
    assert mus["half_drift_same_person_pct"] == pytest.approx(20.0)
    assert lin["half_drift_same_person_pct"] == pytest.approx(60.0)
    assert lin["mean_drift_different_people_pct"] == 0.0
    free = per[per["experiment"] == "free"]
    assert free[list(fc.CALIBRATED_METRICS)].isna().all().all()
    # Table 3: the calibrated metrics are a comparison of their own
    per.insert(0, "seed", 0)
    names = list(comparisons("female", calibrated=True))
    assert len(names) == 3 and names[2].endswith("against the identity calibration")
    comp = comparison_table(per, "female")
    assert set(comp["comparison"]) == set(names)
    means = fc.calibrated_drift_means(per, "female")
    assert means["mean share of frames below the same-person median, MUSIC"] == pytest.approx(2 / 3)
    assert means["mean identity drift as a same-person percentile, linear"] == pytest.approx(60.0)
    assert fc.calibrated_drift_means(plain, "female") == {}


# ---------------------------------------------------------------- dlib on real LFW photos
@pytest.mark.skipif(not face_id.available(), reason="dlib or face-recognition-models not installed")
def test_dlib_puts_same_person_photos_closer_than_different_people(mirror):
    """LFW's first fold: 25 matched and 25 mismatched pairs, photos cropped and resized like the data stage (64 px)."""
    from PIL import Image
    import io

    from musicsom.pipeline.datasets.lfw import crop_resize, iter_archive

    pairs = fc.parse_pairs((mirror / "lfw" / "pairs.txt").read_text())
    assert len(pairs) == 6000 and (pairs["kind"] == "same_person").sum() == 3000
    used = pd.concat([pairs[pairs["kind"] == k].head(25) for k in fc.PAIR_KINDS], ignore_index=True)
    wanted = set(used["image_a"]).union(used["image_b"])
    photos = {}
    for rel, data in iter_archive(mirror / "lfw" / "lfw-deepfunneled.tar.gz"):
        stem = rel.rsplit("/", 1)[-1].removesuffix(".jpg")
        if stem in wanted:
            with Image.open(io.BytesIO(data)) as img:
                photos[stem] = crop_resize(img, 125, 64)
    assert set(photos) == wanted
    fid = face_id.FaceID(size=150)
    ids = sorted(photos)
    desc, found = fid.describe_many([photos[i] for i in ids])
    assert found.mean() > 0.9
    row = {i: k for k, i in enumerate(ids)}
    d = np.linalg.norm(desc[used["image_a"].map(row)] - desc[used["image_b"].map(row)], axis=1)
    same, diff = d[used["kind"] == "same_person"], d[used["kind"] == "different_people"]
    assert np.median(same) < np.median(diff)
    assert fc.roc_auc(same, diff) > 0.8
