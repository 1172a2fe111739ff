"""Claim 7's rule on sweep tables whose truth is planted: one value per start image, κ compared as a curve.

Each table is what :func:`musicsom.experiments.mnist.sweep_rows` writes (one row per value and start); the checks
must read the planted effect back (value, outcome, reason), whatever else the table holds. The arc-length path
deviation itself is tested on paths whose answer is known, and on a toy map through ``sweep_rows``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from musicsom.experiments import mnist as mn
from musicsom.experiments.claims import Bootstrap, claim7, pool
from musicsom.music import MusicParams

BOOT = Bootstrap(resamples=400, seed=1)
N = 20  # starts per seed, as in config.yaml
KAPPAS = [0.01, 0.03, 0.1, 0.3, 1.0]
LAMS = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]
ALPHAS = [0.1, 0.3, 0.5, 0.7, 0.9]


def table(param, values, default, n=N, **cols):
    """Sweep rows: ``cols`` maps a column to f(value, start) (or to a constant)."""
    rows = []
    for v in values:
        for s in range(n):
            row = {"param": param, "value": v, "is_default": v == default, "start": s}
            row.update({k: (f(v, s) if callable(f) else f) for k, f in cols.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def kappa_table(arc, clipped, n=N, time=lambda v, s: 0.0 if v == 0.1 else 0.3, confidence=lambda v, s: 0.95,
                convergence=lambda v, s: 0.5, default_clipped=None):
    cols = dict(path_deviation_arc=arc, path_deviation=time, share_clipped=clipped, mean_confidence=confidence,
                convergence_ratio=convergence, first_step_cos_to_default=1.0, crossing_arc=lambda v, s: 0.4)
    if default_clipped is not None:
        cols["share_clipped_default"] = default_clipped
    return table("kappa", KAPPAS, 0.1, n, **cols)


def by_name(checks):
    return {c.name: c for c in checks}


FULL = "kappa has no effect where every step is clipped"
CURVE = "kappa sets only the speed: the same curve at every kappa"
KCONF = "kappa leaves mean confidence unchanged"
KCONV = "kappa leaves the convergence ratio unchanged"


# ---------------------------------------------------------------- κ
def test_a_kappa_that_changes_only_the_speed_supports():
    # κ >= 0.1 clips every step (identical paths up to round-off); the smaller κ move slower along nearly the same
    # curve: a large time-indexed deviation, a tiny arc-length one
    arc = lambda v, s: 0.0 if v == 0.1 else (1e-14 * (1 + s % 3) if v > 0.1 else 2e-4 * (1 + s % 4))  # noqa: E731
    clipped = lambda v, s: 1.0 if v >= 0.1 else 0.7  # noqa: E731
    c = by_name(claim7.checks({"kappa": kappa_table(arc, clipped)}, 0, BOOT))
    full, curve = c[FULL], c[CURVE]
    assert full.outcome == "supports" and full.n == N
    assert full.value == pytest.approx(np.mean([1e-14 * (1 + s % 3) for s in range(N)]))
    ev = {e.quantity: e.value for e in full.evidence}
    assert ev["smallest such kappa"] == 0.3
    assert ev["kappa values (other than the default) that clip every step on every start"] == 2
    assert ev["share of starts whose every step kappa = 0.03 clips"] == 0.0
    assert curve.outcome == "supports"
    assert curve.value == pytest.approx(np.mean([2e-4 * (1 + s % 4) for s in range(N)]))
    cev = {e.quantity: e.value for e in curve.evidence}
    assert cev["largest time-indexed deviation from the default-kappa path (the speed, not the path)"] == 0.3
    assert cev["kappa = 0.01: largest share of steps clipped"] == 0.7
    assert c[KCONF].outcome == "supports" and c[KCONF].value == 0.0
    assert c[KCONV].outcome == "supports"


def test_a_kappa_that_changes_the_path_contradicts():
    # the unclipped κ = 0.01 leaves the curve by 5 % of the distance on every start: the curve check contradicts,
    # while the fully clipped κ values still coincide (the paper's premise holds for them)
    arc = lambda v, s: 0.05 + 0.001 * s if v == 0.01 else 0.0  # noqa: E731
    clipped = lambda v, s: 0.5 if v == 0.01 else 1.0  # noqa: E731
    c = by_name(claim7.checks({"kappa": kappa_table(arc, clipped)}, 0, BOOT))
    assert c[CURVE].outcome == "contradicts"
    assert c[CURVE].value == pytest.approx(0.05 + 0.001 * np.mean(range(N)))
    assert c[FULL].outcome == "supports" and c[FULL].value == 0.0


def test_a_fully_clipped_kappa_that_changes_the_path_contradicts_the_premise_check():
    arc = lambda v, s: 0.03 if v == 1.0 else 0.0  # noqa: E731
    c = by_name(claim7.checks({"kappa": kappa_table(arc, lambda v, s: 1.0)}, 0, BOOT))
    assert c[FULL].outcome == "contradicts" and c[FULL].value == pytest.approx(0.03)


def test_no_fully_clipped_kappa_is_unmeasurable_with_its_reason():
    clipped = lambda v, s: 1.0 if v == 0.1 else 0.6  # noqa: E731
    c = by_name(claim7.checks({"kappa": kappa_table(lambda v, s: 0.0, clipped)}, 3, BOOT))
    full = c[FULL]
    assert full.reason.startswith("no kappa value other than the default clips every step on every start")
    assert "0.3: 0.00" in full.reason and "0.1: 1.00" in full.reason
    assert math.isnan(full.value) and full.kind == "no_difference" and full.sesoi == claim7.PATH_SESOI
    assert pool([full]).outcome == "undetermined"  # unmeasurable: the premise does not hold, nothing is decided
    assert c[CURVE].outcome == "supports"  # the curve check does not need the premise


def test_starts_whose_default_run_is_not_fully_clipped_are_left_out():
    # on starts 0-4 the default κ run has unclipped steps: its path is not the clipped one, so those starts
    # (planted with a large deviation) leave the premise check
    arc = lambda v, s: (0.4 if s < 5 else 1e-15) if v in (0.3, 1.0) else 0.0  # noqa: E731
    clipped = lambda v, s: 1.0 if v in (0.3, 1.0) else (0.9 if s < 5 else 1.0)  # noqa: E731
    t = kappa_table(arc, clipped, default_clipped=lambda v, s: 0.9 if s < 5 else 1.0)
    full = by_name(claim7.checks({"kappa": t}, 0, BOOT))[FULL]
    assert full.n == N - 5 and full.value == pytest.approx(1e-15) and full.outcome == "supports"
    assert {e.quantity: e.value for e in full.evidence}["starts left out: their default-kappa run does not clip every step"] == 5
    # without the share_clipped_default column the default's own rows give the same answer
    full2 = by_name(claim7.checks({"kappa": t.drop(columns="share_clipped_default")}, 0, BOOT))[FULL]
    assert full2.n == N - 5 and full2.value == full.value


def test_a_table_from_before_the_arc_deviation_is_unmeasurable_for_the_path_but_not_the_metrics():
    t = kappa_table(lambda v, s: 0.0, lambda v, s: 1.0, confidence=lambda v, s: 0.95 + 0.02 * (v == 1.0),
                    convergence=lambda v, s: 0.4 + 0.2 * (v == 0.01)).drop(columns="path_deviation_arc")
    c = by_name(claim7.checks({"kappa": t}, 0, BOOT))
    assert "lacks ['path_deviation_arc']" in c[FULL].reason and "lacks ['path_deviation_arc']" in c[CURVE].reason
    # 2 pp of mean confidence and 0.2 of the convergence ratio on every start: both metric checks contradict
    assert c[KCONF].value == pytest.approx(2.0) and c[KCONF].outcome == "contradicts"
    assert c[KCONV].value == pytest.approx(0.2) and c[KCONV].outcome == "contradicts"


# ---------------------------------------------------------------- α
@pytest.mark.parametrize("spread_pp, expected", [(3.0, "contradicts"), (0.2, "supports")])
def test_alpha_range_of_mean_confidence_per_start(spread_pp, expected):
    # every start's mean confidence moves by spread_pp over the α grid (its level differs between starts)
    conf = lambda v, s: 0.9 + 0.004 * s + spread_pp / 100 * (v - 0.1) / 0.8  # noqa: E731
    c = claim7.checks({"alpha": table("alpha", ALPHAS, 0.5, mean_confidence=conf)}, 0, BOOT)[0]
    assert c.name == "alpha changes mean confidence by under 1 pp" and c.unit == "pp" and c.kind == "no_difference"
    assert c.value == pytest.approx(spread_pp) and c.n == N
    assert c.outcome == expected


def test_alpha_ranges_are_per_start_not_of_the_mean():
    # starts move in opposite directions by 2 pp: the mean over starts is flat (the old statistic: 0 pp),
    # yet every trajectory varies by 2 pp
    conf = lambda v, s: 0.9 + (1 if s % 2 else -1) * 0.02 * (v - 0.1) / 0.8  # noqa: E731
    c = claim7.checks({"alpha": table("alpha", ALPHAS, 0.5, mean_confidence=conf)}, 0, BOOT)[0]
    assert c.value == pytest.approx(2.0) and c.outcome == "contradicts"
    assert {e.quantity: e.value for e in c.evidence}["range over alpha of the mean (over starts) mean confidence (pp)"] == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------- λ
def lam_table(continuity, path_length, n=N):
    return table("lam", LAMS, 1e-2, n, continuity=continuity, path_length=path_length,
                 convergence_ratio=lambda v, s: 0.5)


def test_continuity_rising_with_lambda_and_a_stall_support():
    rng = np.random.default_rng(0)
    swap = {s: rng.integers(0, 5) for s in range(N)}  # one neighbour swap per start: rho = 1 - 6*2/210

    def cont(v, s):
        r = LAMS.index(v)
        r = r + 1 if r == swap[s] else r - 1 if r == swap[s] + 1 else r
        return 0.9 + 0.01 * r

    length = lambda v, s: 30.0 if v <= 1e-2 else (20.0 if v < 10 else 6.0 + 0.1 * s)  # noqa: E731
    c = by_name(claim7.checks({"lam": lam_table(cont, length)}, 0, BOOT))
    rise, stall = c["continuity rises with lambda"], c["motion stalls at the largest lambda"]
    assert rise.value == pytest.approx(1 - 12 / 210) and rise.outcome == "supports"
    assert stall.value == pytest.approx(0.5 - np.mean([(6.0 + 0.1 * s) / 30 for s in range(N)]))
    assert stall.outcome == "supports"


def test_falling_continuity_and_a_moving_flow_contradict():
    c = by_name(claim7.checks({"lam": lam_table(lambda v, s: 1 - 0.01 * LAMS.index(v) - 1e-4 * s,
                                                lambda v, s: 30.0 if v < 10 else 27.0)}, 0, BOOT))
    assert c["continuity rises with lambda"].value == pytest.approx(-1.0)
    assert c["continuity rises with lambda"].outcome == "contradicts"
    assert c["motion stalls at the largest lambda"].value == pytest.approx(0.5 - 0.9)
    assert c["motion stalls at the largest lambda"].outcome == "contradicts"


def test_round_off_differences_in_continuity_are_ties():
    # continuity is 1 up to round-off at every λ: no trend to read (every start's correlation is undefined)
    c = by_name(claim7.checks({"lam": lam_table(lambda v, s: 1 - 1e-13 * ((7 * LAMS.index(v) + s) % 5),
                                                lambda v, s: 30.0)}, 0, BOOT))["continuity rises with lambda"]
    assert c.n == 0 and math.isnan(c.value)
    assert {e.quantity: e.value for e in c.evidence}["units dropped (not finite)"] == N


def test_the_stall_compares_with_the_longest_path_at_the_other_lambdas():
    # the operating range moves 30 (the step budget), the smallest λ wanders 12: the reference is the 30
    length = lambda v, s: 12.0 if v == 1e-4 else (3.0 if v == 10 else 30.0)  # noqa: E731
    t = lam_table(lambda v, s: LAMS.index(v), length).assign(is_default=False)  # no default in the grid: still measured
    stall = by_name(claim7.checks({"lam": t}, 0, BOOT))["motion stalls at the largest lambda"]
    assert not stall.reason and stall.value == pytest.approx(0.5 - 0.1)
    one = by_name(claim7.checks({"lam": table("lam", [1.0], 1.0, continuity=1.0, path_length=3.0, convergence_ratio=0.5)},
                                0, BOOT))["motion stalls at the largest lambda"]
    assert "one value" in one.reason


# ---------------------------------------------------------------- seeds and shape
def test_seeds_pool_their_starts():
    arc = lambda v, s: 1e-4 if v != 0.1 else 0.0  # noqa: E731
    per_seed = [by_name(claim7.checks({"kappa": kappa_table(arc, lambda v, s: 1.0)}, seed, BOOT))[CURVE] for seed in (0, 1, 2)]
    o = pool(per_seed)
    assert o.n_units == 3 * N and o.n_seeds == 3 and o.outcome == "supports"
    assert o.estimate == pytest.approx(1e-4)


def test_unknown_sweeps_are_refused():
    with pytest.raises(ValueError, match="alpha, lam or kappa"):
        claim7.checks({"eta": pd.DataFrame()}, 0, BOOT)


# ---------------------------------------------------------------- the arc-length deviation
def test_arc_deviation_ignores_speed_and_reads_a_bend():
    line = lambda n, step: np.column_stack([np.arange(n + 1) * step, np.zeros(n + 1)])  # noqa: E731
    ref = line(100, 0.1)  # 0 -> 10 along x in 100 steps
    slow = line(20, 0.3)  # the same line, 3x faster, stopping at 6: the common length is 6
    assert mn._arc_deviation(slow, ref, scale=10.0) == pytest.approx(0.0, abs=1e-12)
    time_indexed = np.linalg.norm(slow - ref[:21], axis=1).max() / 10.0
    assert time_indexed == pytest.approx(0.4)  # the old statistic reads the speed
    # a path that turns a right angle after 3 units: at arc length 6 it is at (3, 3), the line at (6, 0)
    bent = np.vstack([line(30, 0.1), np.column_stack([np.full(30, 3.0), np.arange(1, 31) * 0.1])])
    assert mn._arc_deviation(bent, ref, scale=10.0) == pytest.approx(np.hypot(3, 3) / 10.0, rel=1e-9)
    assert math.isnan(mn._arc_deviation(np.zeros((5, 2)), ref, scale=10.0))  # a path of no length


def test_sweep_rows_on_a_toy_map_separate_speed_from_path():
    rng = np.random.default_rng(3)
    D, K = 6, 40
    W = rng.normal(size=(K, D))
    Z = rng.normal(size=(8, D)) * 2
    centres = np.array([[0.0, 0.0], [3.0, 3.0]])
    classify = lambda X: (lambda p: p / p.sum(1, keepdims=True))(  # noqa: E731
        np.exp(-((X[:, None, :2] - centres[None]) ** 2).sum(-1)) + 1e-9)
    from musicsom.encoding import PCAWhitening

    enc = PCAWhitening(D).fit(np.hstack([rng.normal(size=(300, D)), rng.normal(size=(300, 784 - D)) * 1e-3]))
    ctx = mn.Context(enc=enc, z_test=Z, y_test=np.zeros(8, int), pix_test=np.zeros((8, 784)), W=W, grid_shape=(5, 8),
                     topology="rectangular", labels=np.zeros(K, int), purity=np.ones(K), classify=classify)
    jobs = [mn.Job(0, 1, s, s) for s in range(4)]
    targets = np.array([int(np.argmin(np.linalg.norm(W - Z[s], axis=1) * -1)) for s in range(4)])
    # a tiny trust radius clips every step at every κ: the paths coincide step for step
    clipped = pd.DataFrame(mn.sweep_rows(ctx, jobs, targets, "kappa", [0.05, 0.1, 0.5], MusicParams(kappa=0.1, eta=1e-3), 30, 0))
    assert (clipped["share_clipped"] == 1).all() and (clipped["share_clipped_default"] == 1).all()
    assert clipped["path_deviation"].max() < 1e-12 and clipped["path_deviation_arc"].max() < 1e-12
    # a huge trust radius clips nothing: small κ values move at different speeds along nearly one curve
    free = pd.DataFrame(mn.sweep_rows(ctx, jobs, targets, "kappa", [0.005, 0.01], MusicParams(kappa=0.01, eta=1e6), 40, 0))
    assert (free["share_clipped"] == 0).all()
    other = free[free["value"] == 0.005]
    assert (other["path_deviation"] > 10 * other["path_deviation_arc"]).all()
    default = free[free["is_default"]]
    assert (default["path_deviation"] == 0).all() and (default["path_deviation_arc"] == 0).all()
