"""Outcomes from planted truths: the hierarchical bootstrap and the outcome rules (musicsom.experiments.outcomes)."""

import numpy as np
import pytest

from musicsom.experiments import outcomes as oc


def nested(effect, n_seeds=5, n_pairs=10, n_starts=3, sd_seed=0.0, sd_pair=0.0, sd_start=1.0, rng=None):
    """Unit values with a planted mean ``effect`` and random effects per seed, pair and start."""
    rng = rng or np.random.default_rng(0)
    vals, levels = [], []
    for s in range(n_seeds):
        us = rng.normal(0, sd_seed)
        for p in range(n_pairs):
            up = rng.normal(0, sd_pair)
            for t in range(n_starts):
                vals.append(effect + us + up + rng.normal(0, sd_start))
                levels.append((s, p, t))
    return np.array(vals), np.array(levels)[:, :2]


def test_the_pooled_estimate_is_the_mean_of_means():
    v = np.array([1.0, 3.0, 10.0])
    lv = np.array([[0, 0], [0, 1], [1, 0]])
    # seed 0: pairs 1 and 3 -> 2; seed 1: 10; mean of seeds 6
    assert oc.hierarchical_mean(v, lv) == pytest.approx(6.0)
    assert oc.hierarchical_mean(v) == pytest.approx(14 / 3)


def test_a_real_effect_supports_and_a_reversal_contradicts():
    v, lv = nested(0.8, sd_seed=0.2, sd_pair=0.3)
    assert oc.decide(v, lv, sesoi=0.1).outcome == "supports"
    out = oc.decide(-v, lv, sesoi=0.1)
    assert out.outcome == "contradicts" and out.estimate < 0 and out.seeds_agreeing == 5


def test_a_zero_effect_with_many_units_is_negligible_with_few_undetermined():
    v, lv = nested(0.0, n_seeds=5, n_pairs=40, n_starts=10, sd_start=0.3)
    assert oc.decide(v, lv, sesoi=0.1).outcome == "negligible"
    v, lv = nested(0.0, n_seeds=2, n_pairs=3, n_starts=2, sd_start=1.0)
    out = oc.decide(v, lv, sesoi=0.1)
    assert out.outcome == "undetermined"
    assert out.mde > 0.1  # the design could not have detected an effect of the SESOI's size


def test_the_interval_widens_when_starts_share_a_pair():
    rng = np.random.default_rng(1)
    v, lv = nested(0.0, n_pairs=10, n_starts=3, sd_pair=1.0, sd_start=0.2, rng=rng)
    nested_width = np.ptp(np.quantile(oc.hierarchical_bootstrap(v, lv, 2000, 0), [0.025, 0.975]))
    flat_width = np.ptp(np.quantile(oc.hierarchical_bootstrap(v, None, 2000, 0), [0.025, 0.975]))
    assert nested_width > 1.3 * flat_width


def test_the_bootstrap_is_deterministic_and_its_spread_matches_theory_for_one_level():
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, 400)
    a, b = oc.hierarchical_bootstrap(x, None, 4000, 7), oc.hierarchical_bootstrap(x, None, 4000, 7)
    assert np.array_equal(a, b)
    assert a.std() == pytest.approx(x.std() / np.sqrt(x.size), rel=0.1)
    assert a.mean() == pytest.approx(x.mean(), abs=0.01)


@pytest.mark.parametrize("low, high, kind, expected", [
    (0.2, 0.9, "directional", "supports"),
    (-0.9, -0.2, "directional", "contradicts"),
    (-0.05, 0.08, "directional", "negligible"),
    (0.01, 0.08, "directional", "negligible"),       # real but too small to matter
    (-0.3, 0.5, "directional", "undetermined"),
    (-0.05, 0.08, "no_difference", "supports"),
    (0.2, 0.9, "no_difference", "contradicts"),
    (0.05, 0.9, "no_difference", "undetermined"),
    (-0.08, 0.5, "noninferiority", "supports"),      # MUSIC better or at most 0.08 worse
    (-0.9, -0.2, "noninferiority", "contradicts"),
    (-0.3, 0.5, "noninferiority", "undetermined"),
])
def test_outcome_rules(low, high, kind, expected):
    assert oc.classify(low, high, 0.1, kind) == expected


def test_bad_input_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="not finite"):
        oc.decide([1.0, np.nan], sesoi=0.1)
    with pytest.raises(ValueError, match="one row per value"):
        oc.decide([1.0, 2.0], np.zeros((3, 1)), sesoi=0.1)
    with pytest.raises(ValueError, match="kind"):
        oc.classify(0, 1, 0.1, "bigger")
    with pytest.raises(ValueError, match="SESOI"):
        oc.classify(0, 1, -1.0)
    with pytest.raises(ValueError, match="resamples"):
        oc.hierarchical_bootstrap([1.0, 2.0], None, 10)


def test_the_sentence_states_size_direction_interval_and_agreement():
    v, lv = nested(-0.8)
    s = oc.decide(v, lv, sesoi=0.1).sentence("frames")
    assert s.startswith("contradicts: -0.") and "frames [" in s and "5/5 seeds agree" in s


@pytest.mark.parametrize(
    "low, high, sesoi, kind, below, above",
    [
        # a directional effect [0.13, 0.23] (SESOI 0.05): negligible only if the SESOI exceeded 0.23
        (0.13, 0.23, 0.05, "directional", None, (0.23, "negligible")),
        # an undecided one [-0.01, 0.02] (SESOI 0.01): a SESOI above 0.02 would call it negligible
        (-0.01, 0.02, 0.01, "directional", None, (0.02, "negligible")),
        # non-inferiority [-0.002, 0.03] (SESOI 0.01): undetermined with a SESOI under 0.002
        (-0.002, 0.03, 0.01, "noninferiority", (0.002, "undetermined"), None),
        # a no-difference claim [0.007, 0.018] (SESOI 0.1): undetermined under 0.018, contradicted under 0.007
        (0.007, 0.018, 0.1, "no_difference", (0.018, "undetermined"), None),
        (0.007, 0.018, 0.012, "no_difference", (0.007, "contradicts"), (0.018, "supports")),
    ],
)
def test_sesoi_flips_name_the_sesoi_at_which_the_outcome_changes(low, high, sesoi, kind, below, above):
    got_below, got_above = oc.sesoi_flips(low, high, sesoi, kind)
    assert got_below == (pytest.approx(below[0]), below[1]) if below else got_below is None
    assert got_above == (pytest.approx(above[0]), above[1]) if above else got_above is None
    here = oc.classify(low, high, sesoi, kind)
    for flip in (got_below, got_above):  # and the outcome really is different on the far side
        if flip:
            side = 0.999 if flip is got_below else 1.001
            assert oc.classify(low, high, flip[0] * side, kind) == flip[1] != here
