"""Claim 1's rules on maps whose answer is known: a full-rank map inverts to round-off (supports), a rank-deficient
one is measured by its minimum-norm inversion (not "unmeasurable"), and planted errors contradict. Also the
variance-share reading of D that brackets where exact inversion breaks on MNIST."""

from __future__ import annotations

import numpy as np
import pytest

from musicsom.encoding import PCAWhitening
from musicsom.experiments import claims as C
from musicsom.experiments.claims import claim1
from musicsom.pipeline.files import InputError
from musicsom.pipeline.mnist.encode import n_components

BOOT = C.Bootstrap(resamples=300, seed=3)


def encoded(D: int = 5, P: int = 8, tail_std: float = 1.0, n: int = 400, seed: int = 0):
    """Pixel rows (n, P) whose D-th principal direction has std ``tail_std`` (the others about 1), their whitening
    to D dimensions and the whitened codes of a held-out half."""
    rng = np.random.default_rng(seed)
    stds = np.r_[np.linspace(3.0, 1.5, D - 1), tail_std, np.full(P - D, 1e-9)]
    basis = np.linalg.qr(rng.standard_normal((P, P)))[0]
    X = 0.5 + 0.05 * (rng.standard_normal((n, P)) * stds) @ basis.T
    enc = PCAWhitening(D).fit(X[: n // 2])
    return enc, enc.encode(X[: n // 2]), enc.encode(X[n // 2 :])


def outcome(checks, name):
    return C.pool([c for c in checks if c.name == name], resamples=300)


def test_a_full_rank_map_inverts_to_round_off_and_decodes_exactly():
    enc, Ztr, Zte = encoded()
    W = Ztr[:40] + 0.1 * np.random.default_rng(1).standard_normal((40, 5))  # K = 40 prototypes in general position
    res = claim1.invert_codes(Zte, W, enc)
    assert np.all(res["rank"] == 5) and res["relative_errors"].max() < 1e-12
    checks = [c for seed in (0, 1) for c in claim1.mnist_checks(res["relative_errors"], seed, BOOT, pixel_errors=res["pixel_errors"],
                                                                 rank=int(res["rank"].min()), dim=5,
                                                                 condition_number=float(np.median(res["condition_number"])))]
    assert {c.name for c in checks} == {"round-off on the MNIST test set", "decoded images faithful (MNIST)"}
    assert all(c.units.size == len(Zte) and not c.reason for c in checks)
    for name in ("round-off on the MNIST test set", "decoded images faithful (MNIST)"):
        pooled = outcome(checks, name)  # no code misses: minus the failing share is exactly 0 on both seeds
        assert (pooled.outcome, pooled.estimate, pooled.low, pooled.n_seeds) == ("supports", 0.0, 0.0, 2), name


def test_a_rank_deficient_map_gives_the_min_norm_checks_not_unmeasurable():
    # the prototypes all have z_5 = 0: they span 4 of D = 5 dimensions, so the min-norm inversion loses exactly z_5,
    # whose pixel direction has a tiny variance (as MNIST's trailing components): latent error large, images intact
    enc, Ztr, Zte = encoded(tail_std=1e-4)
    W = Ztr[:40].copy()
    W[:, 4] = 0.0
    res = claim1.invert_codes(Zte, W, enc)
    assert np.all(res["rank"] == 4)
    lost = np.abs(Zte[:, 4]) / np.linalg.norm(Zte, axis=1)
    np.testing.assert_allclose(res["relative_errors"], lost, rtol=1e-6, atol=1e-12)  # the known answer: |z_5| / ||z||
    reason = "the anchored systems are rank-deficient: rank 4 < D = 5"
    checks = claim1.mnist_checks(res["relative_errors"], 0, BOOT, reason=reason, pixel_errors=res["pixel_errors"],
                                 rank=4, dim=5)
    assert len(checks) == 2 and not any(c.reason for c in checks)  # measured, not "unmeasurable"
    roundoff, faithful = checks
    rank_ev = [e for e in roundoff.evidence if e.quantity.startswith("numerical rank")]
    assert rank_ev and rank_ev[0].value == 4 and reason in rank_ev[0].quantity and "D = 5" in rank_ev[0].quantity
    assert any(e.quantity == "median min-norm relative error" and e.value == pytest.approx(np.median(lost)) for e in roundoff.evidence)
    assert roundoff.outcome == "contradicts"  # the paper's "errors near machine precision" fails on such a map
    assert faithful.outcome == "supports"  # ... while its practical point (images decode faithfully) holds
    assert res["pixel_errors"].max() < 0.1 * claim1.GREY_LEVEL


def test_a_rank_deficient_map_whose_lost_direction_is_visible_is_not_faithful():
    enc, Ztr, Zte = encoded(tail_std=1.0)  # the lost direction carries as much pixel variance as the others
    W = Ztr[:40].copy()
    W[:, 4] = 0.0
    res = claim1.invert_codes(Zte * 20, W, enc)  # codes far out, so the lost part spans many grey levels
    checks = claim1.mnist_checks(res["relative_errors"], 0, BOOT, pixel_errors=res["pixel_errors"], rank=4, dim=5)
    assert [c.outcome for c in checks] == ["contradicts", "contradicts"]
    assert "the prototypes span only 4 of D = 5 dimensions" in checks[0].evidence[0].quantity


def planted(n: int, share: float, error: float, seed: int = 2) -> np.ndarray:
    """Round-off errors (1e-16 .. 1e-14) with ``error`` planted on the first ``share`` of the n codes."""
    good = 10 ** np.random.default_rng(seed).uniform(-16, -14, n)
    return np.where(np.arange(n) < round(share * n), error, good)


@pytest.mark.parametrize("share, expected", [(0.0, "supports"), (0.002, "supports"), (0.1, "contradicts"),
                                             (0.5, "contradicts"), (1.0, "contradicts")])
def test_planted_large_errors_contradict(share, expected):
    # one code in 500 is within the 1 % the rule allows; a tenth is not. A mean of log-errors would read half the
    # codes at 1e-3 and half at 1e-15 as 1e-9, "near round-off": the share of units does not average them away
    (check,) = claim1.mnist_checks(planted(2000, share, 1e-3), 0, BOOT)
    assert check.outcome == expected and check.value == pytest.approx(-share), (check.value, check.low, check.high)
    good = planted(2000, 0.0, 0.0)
    _, faithful = claim1.mnist_checks(good, 0, BOOT, pixel_errors=planted(2000, share, 3 * claim1.GREY_LEVEL))
    assert faithful.outcome == expected, (faithful.value, faithful.low, faithful.high)


def test_a_nan_error_counts_as_a_miss_and_nothing_measured_is_unmeasurable():
    errors = planted(400, 0.0, 0.0)
    errors[:40] = np.nan  # an inversion that produced no number
    (check,) = claim1.mnist_checks(errors, 0, BOOT)
    assert check.value == pytest.approx(-0.1) and check.outcome == "contradicts"
    good = errors[40:]
    (nothing,) = claim1.mnist_checks(None, 0, BOOT, reason="K = 10 prototypes < D + 1 = 21")
    assert nothing.reason and nothing.outcome == "undetermined"
    with pytest.raises(ValueError, match="one value per test code"):
        claim1.mnist_checks(good, 0, BOOT, pixel_errors=np.zeros(3))


def test_gmm_checks_take_the_test_point_as_unit_on_every_seed():
    rng = np.random.default_rng(4)
    m = np.arange(2, 16)
    D = 5
    E = np.where(m[None, :] <= D, 10 ** rng.uniform(-1, 0.5, (200, m.size)), 10 ** rng.uniform(-15, -13, (200, m.size)))
    checks = [c for seed in (0, 1, 2) for c in claim1.gmm_checks(E, m, D, seed, BOOT)]
    for name in ("round-off from m = D + 1", "large below D + 1"):
        mine = [c for c in checks if c.name == name]
        assert [c.seed for c in mine] == [0, 1, 2] and all(c.units.size == 200 for c in mine)
        assert C.pool(mine, resamples=300).outcome == "supports", name
    bad = E.copy()
    bad[:, m == D + 3] = 1e-6  # an error far above round-off at one m >= D + 1
    roundoff, _ = claim1.gmm_checks(bad, m, D, 0, BOOT)
    assert roundoff.outcome == "contradicts"
    small = np.where(m[None, :] <= D, 1e-4, E)  # "large" below D + 1 is not large
    _, large = claim1.gmm_checks(small, m, D, 0, BOOT)
    assert large.outcome == "contradicts" and large.value == pytest.approx(-0.5)
    one_m = E.copy()
    one_m[:120, m == D] = 1e-3  # 60 % of the points lose their large error at m = D: the median is no longer large
    _, large = claim1.gmm_checks(one_m, m, D, 0, BOOT)
    assert large.value == pytest.approx(0.4 - 0.5) and large.outcome == "contradicts"
    with pytest.raises(ValueError, match="m values"):
        claim1.gmm_checks(E[:, :3], m, D, 0, BOOT)


def test_variance_share_keeps_the_fewest_components_holding_it():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((300, 6)) * np.array([4.0, 2.0, 1.0, 0.5, 0.1, 0.01])
    ratios = PCAWhitening(6).fit(X).explained_variance_ratio_
    for share in (0.5, 0.9, 0.99, 0.999):
        enc = PCAWhitening(share).fit(X)
        D = int(np.searchsorted(np.cumsum(ratios), share) + 1)  # the first D whose leading components hold the share
        assert enc.n_components_ == D == enc.components_.shape[0]
        assert ratios[:D].sum() >= share > ratios[: D - 1].sum()
    for bad in (1.0, 0.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="share of the variance"):
            PCAWhitening(bad).fit(X)


@pytest.mark.parametrize("text, expected", [("full", "full"), ("712", 712), ("var99.9", 0.999), ("var99", 0.99),
                                            ("var0.5", 0.005)])
def test_the_config_spelling_of_d(text, expected):
    assert n_components(text) == expected


@pytest.mark.parametrize("text", ["var100", "var", "var0", "99.9", "0.999", "var99.", "Var99", "-5", "0"])
def test_a_bad_spelling_of_d_names_the_fix(text):
    with pytest.raises(InputError, match="var99.9"):
        n_components(text)


def test_anchor_sample_keeps_every_code_of_the_drawn_anchors_and_nothing_else():
    enc, Ztr, Zte = encoded(n=1200)
    W = Ztr[:30] + 0.1 * np.random.default_rng(2).standard_normal((30, 5))
    bmus = claim1.activations(Zte, W).argmin(1)
    kept = claim1.anchor_sample(Zte, W, 4, seed=7)
    assert np.unique(bmus[kept]).size == 4  # exactly the drawn anchors
    assert np.array_equal(kept, np.flatnonzero(np.isin(bmus, bmus[kept])))  # and all of their codes, in order
    assert np.array_equal(kept, claim1.anchor_sample(Zte, W, 4, seed=7))  # the seed fixes the draw
    assert not np.array_equal(kept, claim1.anchor_sample(Zte, W, 4, seed=8))
    everything = np.arange(len(Zte))
    assert np.array_equal(claim1.anchor_sample(Zte, W, 0, seed=7), everything)
    assert np.array_equal(claim1.anchor_sample(Zte, W, 10_000, seed=7), everything)
    with pytest.raises(ValueError, match="n_anchors"):
        claim1.anchor_sample(Zte, W, -1, seed=7)


def test_the_codes_of_one_anchor_are_resampled_together():
    # 10 anchors with 50 codes each; the misses all sit on 2 anchors. Resampling codes as independent would give a
    # narrow interval; resampling anchors first gives the wide one the 10 anchors justify
    errors = np.where(np.repeat(np.arange(10), 50) < 2, 1.0, 1e-15)
    anchors = np.repeat(np.arange(10), 50)
    (flat,) = claim1.mnist_checks(errors, 0, BOOT)
    (grouped,) = claim1.mnist_checks(errors, 0, BOOT, anchors=anchors)
    assert flat.value == grouped.value == pytest.approx(-0.2)
    assert (grouped.high - grouped.low) > 2 * (flat.high - flat.low)
    with pytest.raises(ValueError, match="one value per test code"):
        claim1.mnist_checks(errors, 0, BOOT, anchors=anchors[:10])
