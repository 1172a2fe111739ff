"""Claim 2's rule tests the 1/σ_min scaling, not the noise level: the simulated null of the verdict audit fails it."""

import numpy as np
import pytest

from musicsom.experiments.claims import Bootstrap, claim2


def cases(scaling: bool, n_points=200, spread_decades=3.0, seed=0):
    """Fig 1-like cases: points × 4 noise levels; σ_min log-uniform; error either follows ||e||/σ_min or ignores it."""
    rng = np.random.default_rng(seed)
    point, level, sigma, enorm = [], [], [], []
    for p in range(n_points):
        s_p = 10 ** rng.uniform(-spread_decades, 0, 4)  # four subset sizes per point
        for lv in (1e-6, 1e-4, 1e-2, 1.0):
            for s in s_p:
                point.append(p), level.append(lv), sigma.append(s)
                enorm.append(lv * rng.lognormal(0, 0.3))
    point, level, sigma, enorm = map(np.asarray, (point, level, sigma, enorm))
    bound = enorm / sigma
    if scaling:
        error = bound * np.clip(rng.lognormal(np.log(0.17), 0.5, bound.size), 0, 0.95)
    else:
        error = enorm * 10 ** rng.uniform(-1.5, 0, bound.size)
    return error, bound, sigma, level, point


def test_the_audit_null_is_not_supported_though_spearman_passed_it():
    from scipy.stats import spearmanr

    error, bound, sigma, level, point = cases(scaling=False)
    assert spearmanr(error, bound).statistic > 0.9  # the old rule's statistic: met under the null
    slope = claim2.checks(error, bound, sigma, level, point, 0, Bootstrap())[0]
    assert slope.verdict == "failed"
    assert slope.value == pytest.approx(-1.0, abs=0.1)  # slope 0, minus the bound's 1


def test_the_bound_s_scaling_is_supported():
    error, bound, sigma, level, point = cases(scaling=True)
    checks = claim2.checks(error, bound, sigma, level, point, 0, Bootstrap())
    assert [c.verdict for c in checks] == ["held", "held"]
    assert abs(checks[0].value) < 0.05


def test_a_half_power_law_is_refused():
    error, bound, sigma, level, point = cases(scaling=True)
    error = error * sigma**0.5  # error ∝ σ_min^-0.5
    assert claim2.checks(error, bound, sigma, level, point, 0, Bootstrap())[0].verdict == "failed"


def test_the_slope_ignores_the_noise_level():
    # error proportional to the noise level only: no within-level dependence on σ_min
    error, bound, sigma, level, point = cases(scaling=True)
    error = level * 1e-3 * np.ones_like(error)
    c = claim2.checks(error, bound, sigma, level, point, 0, Bootstrap())[0]
    assert c.value == pytest.approx(-1.0, abs=0.05)


def test_cases_must_align():
    with pytest.raises(ValueError, match="one value per case"):
        claim2.checks([1.0], [1.0, 2.0], [1.0], [1.0], [0], 0, Bootstrap())
