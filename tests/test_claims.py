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


def test_claim3_on_regimes_that_are_clearly_apart_and_on_ties():
    rng = np.random.default_rng(0)
    clear = _gmm_table(30, {"transition_rate": lambda i: 0.01, "dwell_median": lambda i: 40 + rng.integers(5),
                            "continuity": lambda i: 0.99, "geodesic_efficiency": lambda i: 0.95},
                       {"transition_rate": lambda i: 0.6, "dwell_median": lambda i: 1 + rng.integers(2),
                        "continuity": lambda i: 0.2, "geodesic_efficiency": lambda i: 0.2})
    checks = claim3.checks(clear, 0, BOOT)
    assert {c.name: c.verdict for c in checks} == {c.name: "held" for c in checks}
    tie = clear.copy()
    tie.loc[tie["regime"] == "cluster", "transition_rate"] = 0.01 + rng.normal(0, 0.01, 30)
    v = {c.name: c.verdict for c in claim3.checks(tie, 0, BOOT)}
    assert v["fewer transitions when informed"] == "inconclusive"
    assert v["cluster dwells of 1-2 steps"] == "held"


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
    return lambda rng: {"crossing_step": cross(rng), "third_class_steps": third(rng), "mean_confidence": conf(rng),
                        "min_confidence": minc(rng), "sharpness": sharp(rng), "geodesic_efficiency": eff(rng),
                        "manifold_distance": man(rng), "continuity": cont}


def test_claims_4_to_6_follow_their_numbers():
    music = _row(lambda r: int(r.integers(20, 30)), lambda r: 1, lambda r: 0.95 + r.normal(0, 0.002), lambda r: 0.6 + r.normal(0, 0.01),
                 lambda r: 0.04 + r.normal(0, 0.001), lambda r: 0.6, lambda r: 5.0 + r.normal(0, 0.01))
    linear = _row(lambda r: int(r.integers(100, 120)), lambda r: 5, lambda r: 0.95 + r.normal(0, 0.002), lambda r: 0.5 + r.normal(0, 0.01),
                  lambda r: 0.02 + r.normal(0, 0.001), lambda r: 1.0, lambda r: 4.5 + r.normal(0, 0.01))
    vae = _row(lambda r: 50, lambda r: 2, lambda r: 0.9, lambda r: 0.5, lambda r: 0.05 + r.normal(0, 0.001), lambda r: 1.0,
               lambda r: 3.0 + r.normal(0, 0.01))
    rows = _pairs(music=music, linear=linear, vae=vae)
    v4 = {c.name: c.verdict for c in claim4.checks(rows, 0, 200, BOOT)}
    assert v4 == {"crosses earlier": "held", "fewer third-class steps": "held"}
    v5 = {c.name: c.verdict for c in claim5.checks(rows, 0, BOOT)}
    assert v5 == {"mean confidence equal": "held", "min confidence higher on most pairs": "held",
                  "sharpness higher on all pairs": "held", "sharpness higher": "held",
                  "geodesic efficiency below 1": "held", "manifold distance higher": "held"}
    v6 = {c.name: c.verdict for c in claim6.checks(rows, 0, BOOT)}
    assert v6 == {"VAE closest to the manifold": "held", "MUSIC sharpest": "failed"}  # the VAE is the sharpest here


def test_claim7_kappa_check_reads_the_path_deviation():
    def sweep(param, values, **cols):
        return pd.DataFrame([{"param": param, "value": v, "start": s, **{k: f(v, s) for k, f in cols.items()}}
                             for v in values for s in range(5)])

    same = sweep("kappa", [0.01, 0.1, 1.0], path_deviation=lambda v, s: 1e-14, first_step_cos_to_default=lambda v, s: 1.0,
                 share_clipped=lambda v, s: 1.0)
    differ = sweep("kappa", [0.01, 0.1, 1.0], path_deviation=lambda v, s: 0.0 if v == 0.1 else 0.3,
                   first_step_cos_to_default=lambda v, s: 1.0, share_clipped=lambda v, s: 0.2)
    assert claim7.checks({"kappa": same}, 0, BOOT)[0].verdict == "held"
    assert claim7.checks({"kappa": differ}, 0, BOOT)[0].verdict == "failed"
    lam = sweep("lam", [1e-3, 1e-1, 10], continuity=lambda v, s: 0.5 + 0.1 * np.log10(v) + 0.001 * s,
                convergence_ratio=lambda v, s: 0.9 if v == 10 else 0.1)
    v = {c.name: c.verdict for c in claim7.checks({"lam": lam}, 0, BOOT)}
    assert v == {"continuity rises with lambda": "held", "stalls at the largest lambda": "held"}


def test_claim8_and_claim9_on_clear_cases():
    rows = []
    for s in range(15):
        rows += [{"experiment": "free", "method": "music", "cluster": "", "start": s, "detection_rate": 1.0, "mean_nearest_prototype": 5.0},
                 {"experiment": "free", "method": "radial", "cluster": "", "start": s, "detection_rate": 0.5, "mean_nearest_prototype": 9.0}]
        for k in ("darker_skinned", "female", "random"):
            rows.append({"experiment": "informed", "method": "music", "cluster": k, "start": s, "monotone_share": 0.97,
                         "initial_cluster_distance": 5.0, "final_cluster_distance": 2.0, "mean_identity_drift": 0.3})
        rows.append({"experiment": "linear", "method": "linear", "cluster": "female", "start": s, "mean_identity_drift": 0.6})
    v8 = {c.name: c.verdict for c in claim8.checks(pd.DataFrame(rows), 0, 0.9, BOOT)}
    assert set(v8.values()) == {"held"} and len(v8) == 5
    som = [{"seed": 0, "pair": "0->1", "start": s, "prototypes": "som", "continuity": 0.99, "geodesic_efficiency": 0.6} for s in range(30)]
    km = [{"seed": 0, "pair": "0->1", "start": s, "prototypes": "kmeans", "continuity": 0.98, "geodesic_efficiency": 0.7} for s in range(30)]
    v9 = {c.name: c.verdict for c in claim9.checks(pd.DataFrame(som + km), 0, BOOT)}
    assert v9 == {"SOM motion more continuous": "held", "SOM paths straighter": "failed"}


def test_claim8_reads_identity_drift_toward_the_configured_target_cluster():
    """faces.target_cluster decides which paths claim 8 compares: an effect planted toward one cluster is found
    there, its reversal toward another cluster is found there, and neither leaks into the other's check."""
    rows = []
    for s in range(15):
        for k, music, linear in (("darker_skinned", 0.3, 0.6), ("female", 0.6, 0.3)):  # held / reversed
            rows.append({"experiment": "informed", "method": "music", "cluster": k, "start": s, "monotone_share": 0.97,
                         "initial_cluster_distance": 5.0, "final_cluster_distance": 2.0, "mean_identity_drift": music})
            rows.append({"experiment": "linear", "method": "linear", "cluster": k, "start": s, "mean_identity_drift": linear})
    frame = pd.DataFrame(rows)

    def drift(target):
        (check,) = [c for c in claim8.checks(frame, 0, 0.9, BOOT, target_cluster=target) if c.name == "linear drifts more in identity"]
        return check

    assert drift("darker_skinned").verdict == "held" and "darker_skinned" in drift("darker_skinned").statistic
    assert drift("female").verdict == "failed" and "female" in drift("female").statistic
    assert not [c for c in claim8.checks(frame, 0, 0.9, BOOT, target_cluster="random") if c.name == "linear drifts more in identity"]


def test_collect_groups_checks_by_claim_and_seed():
    checks = [C.Check(3, "a", s, "x", 1.0, 0.5, 1.5, ">", 0.0) for s in (0, 1)]
    checks.append(C.Check(3, "b", 0, "y", -1.0, -2.0, -0.5, ">", 0.0))
    checks.append(C.Check(3, "b", 1, "y", 1.0, 0.5, 2.0, ">", 0.0))
    res = {r.number: r for r in C.collect(checks)}
    c3 = res[3]
    assert c3.check_verdict("a") == "held" and c3.check_verdict("b") == "inconclusive"
    assert c3.verdict == "inconclusive" and c3.seed_verdict(0) == "partly" and c3.seed_rate == "1/2 seeds"
    assert res[1].verdict == "not judged"
