"""Comparisons at equal progress (musicsom.experiments.progress): known answers on hand-made paths."""

import numpy as np
import pytest

from musicsom.experiments import progress as pg


def fast_then_rest(n=11):
    """A path that reaches its end in 2 steps and then rests (MUSIC-like), on the segment [0, 1]."""
    x = np.minimum(np.arange(n) * 0.5, 1.0)
    return x[:, None]


def even(n=11):
    return np.linspace(0, 1, n)[:, None]


def test_progress_and_crossing():
    assert pg.progress(even(5)).tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert pg.progress(fast_then_rest())[:4].tolist() == [0, 0.5, 1, 1]
    assert pg.crossing_progress(fast_then_rest(), 1) == 0.5
    assert np.isnan(pg.crossing_progress(even(), -1))


def test_a_value_linear_in_position_averages_to_its_midpoint_whatever_the_speed():
    for path in (even(), fast_then_rest()):
        v = path[:, 0] * 2 + 1  # 1 at the start, 3 at the end
        assert pg.arc_mean(v, path) == pytest.approx(2.0)
    # the frame average differs between the two speeds; the progress average does not
    assert np.mean(fast_then_rest()[:, 0] * 2 + 1) == pytest.approx(30 / 11)


def test_time_spent_at_rest_does_not_count_as_progress():
    path = fast_then_rest()
    third = path[:, 0] >= 1.0  # "in a third class" from the end point on
    assert third.sum() == 9  # nine frames there
    assert pg.arc_share(third, path) == pytest.approx(0.25)  # but only the last half segment of the way


def test_weights_sum_to_one_and_a_still_path_has_no_progress():
    w = pg.arc_weights(np.random.default_rng(0).normal(size=(20, 3)))
    assert w.sum() == pytest.approx(1.0) and np.all(w >= 0)
    still = np.zeros((5, 2))
    assert np.isnan(pg.arc_mean(np.ones(5), still))
    with pytest.raises(ValueError, match="no length"):
        pg.resample_by_arc(still, 3)


def test_resampling_gives_equally_spaced_points_on_the_path():
    path = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 3.0]])  # an L of length 4 with a pause
    R = pg.resample_by_arc(path, 5)
    assert R.tolist() == [[0, 0], [1, 0], [1, 1], [1, 2], [1, 3]]
    assert np.allclose(np.linalg.norm(np.diff(R, axis=0), axis=1), 1.0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="two frames"):
        pg.progress(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="one value per frame"):
        pg.arc_mean([1.0, 2.0], even(5))
    with pytest.raises(ValueError, match="beyond"):
        pg.crossing_progress(even(5), 7)
