"""make_windows: values, views, memory; the preprocessing helpers."""

import tracemalloc

import numpy as np
import pytest

from skforecast_lstm import LSTMRegressor, make_windows
from skforecast_lstm._preprocessing import SeriesTransform, candidate_recipes


def test_windows_values_and_exog_shift():
    y = np.arange(10.0)
    exog = 100 + np.arange(10.0)
    X, Y = make_windows(y, lags=4, steps=2, exog=exog)
    assert X.shape == (5, 4, 2) and Y.shape == (5, 2)
    np.testing.assert_array_equal(X[1, :, 0], [1, 2, 3, 4])
    np.testing.assert_array_equal(Y[1], [5, 6])
    # exog is read `steps` ahead: the last two positions carry the horizon's values
    np.testing.assert_array_equal(X[1, :, 1], [103, 104, 105, 106])
    assert not X.flags.writeable


def test_windows_are_views_memory_grows_with_series_not_lags():
    """Windows of 1,000,000 points cost about one copy of the series."""
    y = np.random.default_rng(0).normal(size=1_000_000)
    tracemalloc.start()
    X, Y = make_windows(y, lags=48, steps=12)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert X.shape == (1_000_000 - 59, 48, 1)
    assert peak < 2 * y.nbytes  # a materialised X would be 48 times y
    assert np.shares_memory(X, Y)


def test_windows_feed_the_plain_estimator():
    y = np.sin(np.arange(200) * 2 * np.pi / 12)
    X, Y = make_windows(y, lags=12, steps=3)
    model = LSTMRegressor(units=8, epochs=30, learning_rate=0.01, random_state=0).fit(X, Y)
    assert model.predict(X[-2:]).shape == (2, 3)
    assert model.score(X, Y) > 0.8


def test_windows_errors():
    with pytest.raises(ValueError, match="lags must be a positive int"):
        make_windows(np.arange(10.0), 0, 1)
    with pytest.raises(ValueError, match="at least lags \\+ steps = 12"):
        make_windows(np.arange(10.0), 10, 2)
    with pytest.raises(ValueError, match="exog has 9 rows"):
        make_windows(np.arange(10.0), 3, 2, exog=np.ones(9))
    with pytest.raises(ValueError, match="y must be 1-D"):
        make_windows(np.ones((10, 2)), 3, 2)


def test_series_transform_round_trip():
    rng = np.random.default_rng(0)
    y = [np.exp(np.cumsum(rng.normal(0.01, 0.05, size=n))) for n in (100, 70)]
    transform = SeriesTransform(True, 1).fit(y)
    z = [transform.to_level(v, s) for s, v in enumerate(y)]
    u = [transform.transform_level(zs, s) for s, zs in enumerate(z)]
    # the network's cumulative target form of the last 5 steps of each series
    path = np.stack([np.cumsum(us[-5:]) for us in u])
    levels = transform.path_to_level(path, np.array([0, 1]), np.array([z[0][-6], z[1][-6]]))
    original = transform.original_units(levels, np.array([0, 1]))
    np.testing.assert_allclose(original, np.stack([v[-5:] for v in y]))


def test_candidate_recipes_follow_the_fixed_settings():
    names = [r.name for r in candidate_recipes("auto", "auto", "auto")]
    assert names == ["difference", "standard", "window", "log + window", "log + difference"]
    assert [r.name for r in candidate_recipes(None, "auto", "auto")] == [
        "difference", "standard", "window"]
    assert [r.name for r in candidate_recipes("auto", 1, "auto")] == [
        "difference", "log + difference"]
    only = candidate_recipes(None, 0, False)
    assert [r.name for r in only] == ["standard"]
    fixed = candidate_recipes("log", 1, True)   # a combination no candidate has
    assert len(fixed) == 1 and (fixed[0].log, fixed[0].order, fixed[0].centring) == (True, 1, True)
