"""The claim rules: verdicts from intervals, claims from checks, the bootstrap, and each claim module on
hand-made data whose answer is known (held, failed or inconclusive by construction)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from musicsom.experiments import claims as C
from musicsom.experiments.claims import claim3, claim4, claim5, claim6, claim7, claim8, claim9

BOOT = C.Bootstrap(resamples=400, seed=1)


@pytest.mark.parametrize(
    "op, t, low, high, expected",
    [
        (">", 0, 0.1, 0.5, "held"), (">", 0, -0.5, -0.1, "failed"), (">", 0, -0.1, 0.1, "inconclusive"),
        (">", 0, 0.0, 0.2, "inconclusive"), (">", 0, -0.2, 0.0, "failed"),
        (">=", 1, 1, 1, "held"), (">=", 1, 0.9, 0.95, "failed"), (">=", 1, 0.9, 1.0, "inconclusive"),
        ("<", 1, 0.5, 0.9, "held"), ("<", 1, 1.0, 1.2, "failed"), ("<=", 2, 1, 2, "held"), ("<=", 2, 2.5, 3, "failed"),
        ("within", 0.01, -0.005, 0.008, "held"), ("within", 0.01, 0.02, 0.05, "failed"), ("within", 0.01, 0.0, 0.02, "inconclusive"),
        (">", 0, math.nan, 1.0, "inconclusive"),
    ],
)
def test_decide_reads_the_interval_against_the_threshold(op, t, low, high, expected):
    assert C.decide(op, t, low, high) == expected


def test_combine_and_across_seeds():
    assert C.combine(["held", "held"]) == "held"
    assert C.combine(["held", "failed", "inconclusive"]) == "partly"
    assert C.combine(["failed", "inconclusive"]) == "failed"
    assert C.combine(["held", "inconclusive"]) == "inconclusive"
    assert C.across_seeds(["held", "held"]) == "held" and C.across_seeds(["held", "failed"]) == "inconclusive"


def test_bootstrap_is_seeded_and_its_interval_covers_the_mean():
    x = np.random.default_rng(0).normal(3.0, 1.0, 60)
    a = BOOT.interval(C.mean_of(x), x.size, ("k",))
    b = BOOT.interval(C.mean_of(x), x.size, ("k",))
    assert a == b and a[1] < x.mean() < a[2] and a[0] == pytest.approx(x.mean())
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert a[2] - a[1] == pytest.approx(2 * 1.96 * se, rel=0.25)
    other = BOOT.interval(C.mean_of(x), x.size, ("other",))
    assert other != a  # another check draws other resamples


def test_stratified_indices_stay_in_their_groups():
    groups = np.repeat(["a", "b", "c"], [2, 3, 4])
    idx = BOOT.indices(groups.size, ("g",), strata=groups)
    assert np.all(groups[idx] == groups[None, :])


def test_unmeasurable_checks_count_as_failed_with_their_reason():
    c = C.unmeasurable(1, 0, "round-off", "median error", "<=", 1e-10, "K < D + 1")
    assert c.verdict == "failed" and c.reason and not c.passed
    d = C.check_from_dict(C.check_to_dict(c))
    assert d.verdict == "failed" and d.reason == "K < D + 1"


def _gmm_table(n, informed, cluster):
    rows = []
    for regime, stats in (("informed", informed), ("cluster", cluster)):
        for i in range(n):
            rows.append({"regime": regime, "trajectory": i, **{k: v(i) for k, v in stats.items()}})
    return pd.DataFrame(rows)


def _outcomes(checks, resamples=400):
    """{check name: pooled outcome} of checks from one or more seeds."""
    names = list(dict.fromkeys(c.name for c in checks))
    return {n: C.pool([c for c in checks if c.name == n], resamples=resamples).outcome for n in names}


def test_claim3_on_regimes_that_are_clearly_apart_and_on_ties():
    rng = np.random.default_rng(0)
    clear = _gmm_table(30, {"transition_rate": lambda i: 0.01, "dwell_median": lambda i: 40 + rng.integers(5),
                            "continuity": lambda i: 0.99, "geodesic_efficiency": lambda i: 0.95},
                       {"transition_rate": lambda i: 0.6, "dwell_median": lambda i: 1 + rng.integers(2),
                        "continuity": lambda i: 0.2, "geodesic_efficiency": lambda i: 0.2})
    checks = claim3.checks(clear, 0, BOOT)
    assert _outcomes(checks) == {c.name: "supports" for c in checks}
    tie = clear.copy()
    tie.loc[tie["regime"] == "cluster", "transition_rate"] = 0.01 + rng.normal(0, 0.01, 30)
    v = _outcomes(claim3.checks(tie, 0, BOOT))
    assert v["fewer transitions when informed"] == "negligible"  # a zero effect, measured well: inside ±0.05
    assert v["cluster dwells of 1-2 steps"] == "supports"
    far = clear.copy()
    far.loc[far["regime"] == "informed", "geodesic_efficiency"] = 0.6  # a path 67 % longer than the straight line
    assert _outcomes(claim3.checks(far, 0, BOOT))["informed efficiency near 1"] == "contradicts"


def _pairs(n_pairs=10, n_starts=3, music=None, linear=None, vae=None, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_pairs):
        for s in range(n_starts):
            for method, f in (("music", music), ("linear", linear), ("vae", vae)):
                if f is None:
                    continue
                rows.append({"seed": 0, "pair": f"{p}->{(p + 1) % 10}", "start": s, "method": method, **f(rng)})
    return pd.DataFrame(rows)


def _row(cross, third, conf, minc, sharp, eff, man, cont=0.99):
    """A Table 2 row maker; the equal-progress columns take the same values as the per-frame ones."""
    def make(rng):
        c, t, m, sh, mn = cross(rng), third(rng), conf(rng), sharp(rng), man(rng)
        return {"crossing_step": c, "crossing_progress": c / 200, "third_class_steps": t, "third_class_share": t / 200,
                "mean_confidence": m, "mean_confidence_arc": m, "min_confidence": minc(rng), "sharpness": sh,
                "sharpness_arc": sh, "geodesic_efficiency": eff(rng), "manifold_distance": mn, "manifold_distance_arc": mn,
                "continuity": cont}
    return make


def test_claims_4_to_6_follow_their_numbers():
    music = _row(lambda r: int(r.integers(20, 30)), lambda r: 1, lambda r: 0.95 + r.normal(0, 0.002), lambda r: 0.6 + r.normal(0, 0.01),
                 lambda r: 0.04 + r.normal(0, 0.001), lambda r: 0.6, lambda r: 5.0 + r.normal(0, 0.01))
    linear = _row(lambda r: int(r.integers(100, 120)), lambda r: 25, lambda r: 0.95 + r.normal(0, 0.002), lambda r: 0.5 + r.normal(0, 0.01),
                  lambda r: 0.02 + r.normal(0, 0.001), lambda r: 1.0, lambda r: 4.5 + r.normal(0, 0.01))
    vae = _row(lambda r: 50, lambda r: 2, lambda r: 0.9, lambda r: 0.5, lambda r: 0.05 + r.normal(0, 0.001), lambda r: 1.0,
               lambda r: 3.0 + r.normal(0, 0.01))
    rows = _pairs(music=music, linear=linear, vae=vae)
    c4 = claim4.checks(rows, 0, 200, BOOT)
    assert _outcomes(c4) == {"crosses earlier (equal progress)": "supports", "fewer third-class frames (equal progress)": "supports",
                             "crosses earlier (per step)": "supports", "fewer third-class steps (per step)": "supports"}
    assert [c.context for c in c4] == [False, False, True, True]
    assert _outcomes(claim5.checks(rows, 0, BOOT)) == {
        "mean confidence comparable": "supports", "min confidence higher": "supports", "sharpness higher": "supports",
        "sharpness higher on every pair": "supports", "manifold distance higher": "supports", "geodesic efficiency below 1": "supports"}
    assert _outcomes(claim6.checks(rows, 0, BOOT)) == {
        "VAE closer to the manifold than MUSIC": "supports", "VAE closer to the manifold than linear": "supports",
        "MUSIC sharper than the VAE": "contradicts", "MUSIC sharper than linear": "supports"}  # the VAE is the sharpest here


def test_claim5_confidence_is_non_inferiority_and_every_pair_is_pair_by_pair():
    """MUSIC 3 pp *more* confident supports "comparable" (non-inferiority); 3 pp less contradicts it; one pair
    where linear is sharper makes "on every pair" contradict while the pooled sharpness still supports."""
    base = dict(cross=lambda r: 20, third=lambda r: 0, minc=lambda r: 0.6, eff=lambda r: 0.6, man=lambda r: 5.0)
    linear = _row(lambda r: 100, lambda r: 0, lambda r: 0.92 + r.normal(0, 0.002), lambda r: 0.5, lambda r: 0.02, lambda r: 1.0,
                  lambda r: 4.5)
    better = _row(conf=lambda r: 0.95 + r.normal(0, 0.002), sharp=lambda r: 0.04, **base)
    worse = _row(conf=lambda r: 0.89 + r.normal(0, 0.002), sharp=lambda r: 0.04, **base)
    assert _outcomes(claim5.checks(_pairs(music=better, linear=linear), 0, BOOT))["mean confidence comparable"] == "supports"
    assert _outcomes(claim5.checks(_pairs(music=worse, linear=linear), 0, BOOT))["mean confidence comparable"] == "contradicts"
    rows = _pairs(music=better, linear=linear)
    one_pair = (rows["pair"] == "0->1") & (rows["method"] == "music")
    rows.loc[one_pair, ["sharpness", "sharpness_arc"]] = 0.01  # half as sharp as linear on this pair
    got = _outcomes(claim5.checks(rows, 0, BOOT))
    assert got["sharpness higher on every pair"] == "contradicts" and got["sharpness higher"] == "supports"


def test_claim7_kappa_checks_read_the_path_at_equal_arc_length():
    # more cases, with their values, in tests/test_claim7_rule.py
    def sweep(param, values, default, **cols):
        return pd.DataFrame([{"param": param, "value": v, "is_default": v == default, "start": s,
                              **{k: f(v, s) for k, f in cols.items()}} for v in values for s in range(20)])

    common = dict(first_step_cos_to_default=lambda v, s: 1.0, mean_confidence=lambda v, s: 0.95,
                  convergence_ratio=lambda v, s: 0.5)
    # a speed change (time-indexed deviation 0.3) along the same curve, every step clipped: κ has no effect
    same = sweep("kappa", [0.01, 0.1, 1.0], 0.1, path_deviation=lambda v, s: 0.0 if v == 0.1 else 0.3,
                 path_deviation_arc=lambda v, s: 1e-14, share_clipped=lambda v, s: 1.0, **common)
    differ = sweep("kappa", [0.01, 0.1, 1.0], 0.1, path_deviation=lambda v, s: 0.0 if v == 0.1 else 0.3,
                   path_deviation_arc=lambda v, s: 0.0 if v == 0.1 else 0.3, share_clipped=lambda v, s: 1.0, **common)
    outcome = lambda t: {c.name: c.outcome for c in claim7.checks({"kappa": t}, 0, BOOT)}  # noqa: E731
    assert set(outcome(same).values()) == {"supports"}
    assert outcome(differ)["kappa sets only the speed: the same curve at every kappa"] == "contradicts"
    assert outcome(differ)["kappa has no effect where every step is clipped"] == "contradicts"
    lam = sweep("lam", [1e-3, 1e-2, 1e-1, 10], 1e-2, continuity=lambda v, s: 0.5 + 0.1 * np.log10(v) + 0.001 * s,
                convergence_ratio=lambda v, s: 0.9 if v == 10 else 0.1, path_length=lambda v, s: 3.0 if v == 10 else 30.0)
    v = {c.name: c.outcome for c in claim7.checks({"lam": lam}, 0, BOOT)}
    assert v == {"continuity rises with lambda": "supports", "motion stalls at the largest lambda": "supports"}


def _faces(music_drift=0.3, linear_drift=0.6, female_share=0.97, other_share=0.97, n=15):
    rows = []
    for s in range(n):
        rows += [{"experiment": "free", "method": "music", "cluster": "", "start": s, "detection_rate": 1.0, "mean_nearest_prototype": 5.0},
                 {"experiment": "free", "method": "radial", "cluster": "", "start": s, "detection_rate": 0.5, "mean_nearest_prototype": 9.0}]
        for k in ("darker_skinned", "female", "random"):
            share = female_share if k == "female" else other_share
            rows.append({"experiment": "informed", "method": "music", "cluster": k, "start": s, "monotone_share": share + 0.001 * (s % 3),
                         "initial_cluster_distance": 5.0, "final_cluster_distance": 2.0, "mean_identity_drift": music_drift,
                         "drift_at_half_distance": music_drift + 0.01 * (s % 3)})
        rows.append({"experiment": "linear", "method": "linear", "cluster": "female", "start": s, "mean_identity_drift": linear_drift,
                     "drift_at_half_distance": linear_drift + 0.01 * (s % 2), "final_cluster_distance": 1.5})
    return pd.DataFrame(rows)


def test_claim8_and_claim9_on_clear_cases():
    c8 = claim8.checks(_faces(), 0, 0.9, BOOT)
    deciding = {c.name for c in c8 if not c.context}
    assert deciding == {"free MUSIC keeps faces detectable", "free radial drifts from the map", "informed approach monotonic",
                        "linear drifts more in identity"}
    assert {n: o for n, o in _outcomes(c8).items() if n in deciding} == dict.fromkeys(deciding, "supports")
    som = [{"seed": 0, "pair": f"{s % 10}->1", "start": s, "prototypes": "som", "continuity": 0.99, "geodesic_efficiency": 0.6,
            "mean_confidence_arc": 0.95 + 0.001 * (s % 3), "third_class_share": 0.0} for s in range(30)]
    km = [{"seed": 0, "pair": f"{s % 10}->1", "start": s, "prototypes": "kmeans", "continuity": 0.98999 + 1e-6 * (s % 2),
           "geodesic_efficiency": 0.7, "mean_confidence_arc": 0.80 + 0.001 * (s % 3), "third_class_share": 0.3} for s in range(30)]
    v9 = _outcomes(claim9.checks(pd.DataFrame(som + km), 0, BOOT))
    assert v9 == {"SOM motion more continuous": "negligible",  # 1e-5 of a cosine: below the SESOI
                  "SOM motion more confident": "supports", "fewer third-class frames on the SOM": "supports",
                  "SOM paths longer (the cost of the topology)": "supports"}


def test_claim8_monotonicity_is_decided_on_the_female_cluster_and_drift_at_matched_progress():
    """Only the cluster the paper measured decides monotonicity (the others are context), and a reversal of the
    matched-progress drift contradicts the claim."""
    c8 = claim8.checks(_faces(female_share=0.97, other_share=0.5), 0, 0.9, BOOT)
    assert _outcomes([c for c in c8 if c.name == "informed approach monotonic"]) == {"informed approach monotonic": "supports"}
    assert all(c.context for c in c8 if c.name.startswith("informed approach monotonic ("))
    reversed_ = claim8.checks(_faces(music_drift=0.7, linear_drift=0.4), 0, 0.9, BOOT)
    assert _outcomes(reversed_)["linear drifts more in identity"] == "contradicts"


def test_collect_groups_checks_by_claim_and_seed():
    checks = [C.Check(3, "a", s, "x", 1.0, 0.5, 1.5, ">", 0.0) for s in (0, 1)]
    checks.append(C.Check(3, "b", 0, "y", -1.0, -2.0, -0.5, ">", 0.0))
    checks.append(C.Check(3, "b", 1, "y", 1.0, 0.5, 2.0, ">", 0.0))
    res = {r.number: r for r in C.collect(checks)}
    c3 = res[3]
    assert c3.check_verdict("a") == "held" and c3.check_verdict("b") == "inconclusive"
    assert c3.verdict == "inconclusive" and c3.seed_verdict(0) == "partly" and c3.seed_rate == "1/2 seeds"
    assert res[1].verdict == "not judged"


@pytest.mark.parametrize(
    "effect, n_starts, expected",
    [(0.5, 3, "supports"), (-0.5, 3, "contradicts"), (0.0, 40, "negligible"), (0.0, 1, "undetermined")],
)
def test_pooled_outcome_over_seeds_finds_the_planted_truth(effect, n_starts, expected):
    """Units from five seeds × 10 pairs × n starts (sd 0.5, pair effects sd 0.1), SESOI 0.1: a real effect supports,
    a reversal contradicts, a zero effect measured on many units is negligible, on few units undetermined."""
    checks = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        pairs = np.repeat(np.arange(10), n_starts)
        values = effect + rng.normal(0, 0.1, 10)[pairs] + rng.normal(0, 0.5, pairs.size)
        checks.append(BOOT.units(4, seed, "x", "a difference", values, groups=pairs, sesoi=0.1))
    out = C.pool(checks, resamples=1000)
    assert out.outcome == expected
    assert out.n_seeds == 5 and out.n_units == 50 * n_starts
    assert out.low <= out.estimate <= out.high


def test_a_context_check_never_decides_a_claim():
    good = BOOT.units(5, 0, "real", "d", np.full(30, 0.5) + np.linspace(0, 0.01, 30), sesoi=0.1)
    tautology = BOOT.units(5, 0, "bent", "1 − efficiency", np.full(30, -0.5) + np.linspace(0, 0.01, 30), sesoi=0.0, context=True)
    (res,) = [r for r in C.collect([good, tautology]) if r.number == 5]
    assert res.outcome() == "supports"
    assert C.combine_outcomes(["supports", "contradicts"]) == "mixed"
    assert C.combine_outcomes(["negligible", "undetermined"]) == "undetermined"
    assert C.combine_outcomes(["negligible", "contradicts"]) == "contradicts"
