"""Trajectory metrics (docs/METHOD.md §5) on hand-made trajectories with known answers."""

import numpy as np
import pytest

from musicsom import metrics

STRAIGHT = np.c_[np.arange(6.0), np.zeros(6)]  # 5 unit steps along x
ZIGZAG = np.array([[0, 0], [1, 1], [2, 0], [3, 1], [4, 0]], dtype=float)


def test_straight_line():
    np.testing.assert_allclose(metrics.step_cosines(STRAIGHT), 1.0)
    np.testing.assert_allclose(metrics.cosines_to_first(STRAIGHT), 1.0)
    assert metrics.geodesic_efficiency(STRAIGHT) == pytest.approx(1.0)


def test_zigzag():
    np.testing.assert_allclose(metrics.step_cosines(ZIGZAG), 0.0, atol=1e-12)  # right angles
    np.testing.assert_allclose(metrics.cosines_to_first(ZIGZAG), [1, 0, 1, 0], atol=1e-12)
    assert metrics.geodesic_efficiency(ZIGZAG) == pytest.approx(4 / (4 * np.sqrt(2)))


def test_back_and_forth_has_zero_efficiency_and_minus_one_continuity():
    S = np.array([[0.0, 0], [1, 0], [0, 0], [1, 0], [0, 0]])
    np.testing.assert_allclose(metrics.step_cosines(S), -1.0)
    assert metrics.geodesic_efficiency(S) == 0.0


def test_transitions_and_dwells():
    bmus = [3, 3, 3, 5, 5, 1, 1, 1, 1]
    assert metrics.transition_rate(bmus) == pytest.approx(2 / 8)
    np.testing.assert_array_equal(metrics.dwell_lengths(bmus), [3, 2, 4])
    assert metrics.dwell_lengths(bmus).sum() == len(bmus)


def test_curvature_within_and_across():
    # steps 1..4 on ZIGZAG turn by 90° and have length sqrt(2); the BMU changes on step 3 only
    bmus = [0, 0, 0, 1, 1]
    within, across = metrics.curvature(ZIGZAG, bmus)
    k = (np.pi / 2) / np.sqrt(2)
    np.testing.assert_allclose(within, [k, k])  # pairs (1,2) and (3,4) end in unchanged cells
    np.testing.assert_allclose(across, [k])  # pair (2,3): step 3 crosses


def test_segmented_continuity():
    # a straight run inside cell 0, then a zigzag inside cell 1
    S = np.array([[0, 0], [1, 0], [2, 0], [3, 0], [4, 1], [5, 0], [6, 1]], dtype=float)
    bmus = [0, 0, 0, 0, 1, 1, 1]
    seg = metrics.segmented_continuity(S, bmus)
    np.testing.assert_allclose(seg, [1.0, 0.0], atol=1e-12)


def test_zero_steps_are_nan_and_skipped():
    S = np.array([[0.0, 0], [0, 0], [1, 0], [2, 0]])
    cos = metrics.step_cosines(S)
    assert np.isnan(cos[0]) and cos[1] == pytest.approx(1.0)
    summary = metrics.trajectory_summary(S, [0, 0, 0, 0])
    assert summary["continuity"] == pytest.approx(1.0)


def test_convergence_ratio_and_summary_keys():
    assert metrics.convergence_ratio(STRAIGHT, [10.0, 0.0]) == pytest.approx(5 / 10)
    s = metrics.trajectory_summary(STRAIGHT, [0, 0, 1, 1, 1, 2])
    assert set(s) == {
        "continuity", "transition_rate", "dwell_median", "dwell_iqr", "curvature_within",
        "curvature_across", "geodesic_efficiency", "segmented_continuity",
    }
    assert s["transition_rate"] == pytest.approx(0.4)
    assert metrics.median_iqr([1, 2, 3, 4, np.nan]) == pytest.approx((2.5, 1.75, 3.25))


def test_bad_shapes():
    with pytest.raises(ValueError, match="T >= 1"):
        metrics.step_cosines(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="at least two"):
        metrics.transition_rate([1])


def test_bmus_must_be_one_dimensional():
    with pytest.raises(ValueError, match="bmus"):
        metrics.transition_rate(np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError, match="bmus"):
        metrics.dwell_lengths(np.zeros((3, 2), dtype=int))
