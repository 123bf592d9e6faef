"""LSTMForecaster: index types, exog, many series, strategies, reproducibility."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skforecast_lstm import LSTMForecaster, LSTMRegressor

TINY = dict(units=8, epochs=8, batch_size=32, learning_rate=0.01)


def tiny(lags=12, steps=4, **kwargs):
    return LSTMForecaster(lags, steps, LSTMRegressor(**TINY), random_state=0, **kwargs)


def seasonal(n=120, index=None, seed=0, trend=0.05):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 10 + trend * t + np.sin(2 * np.pi * t / 12) + 0.1 * rng.normal(size=n)
    if index is None:
        index = pd.date_range("2000-01-01", periods=n, freq="MS")
    return pd.Series(values, index=index, name="sales")


@pytest.mark.parametrize(
    "index, expected_first",
    [
        (pd.date_range("2000-01-01", periods=120, freq="MS"), pd.Timestamp("2010-01-01")),
        (pd.period_range("2000-01", periods=120, freq="M"), pd.Period("2010-01", freq="M")),
        (pd.RangeIndex(0, 240, 2), 240),
        (pd.date_range("2000-01-03", periods=120, freq="D"), pd.Timestamp("2000-05-02")),
    ],
)
def test_predict_index_continues_input_index(index, expected_first):
    """The forecast's index is the next `steps` labels, in the input's index type."""
    y = seasonal(index=index)
    pred = tiny().fit(y).predict()
    assert isinstance(pred, pd.Series) and pred.name == "pred" and len(pred) == 4
    assert type(pred.index) is type(index)
    assert pred.index[0] == expected_first
    if isinstance(index, pd.DatetimeIndex):
        assert pred.index.freq == index.freq
    assert np.isfinite(pred).all()


def test_datetime_index_without_freq_is_inferred():
    """A regular DatetimeIndex whose freq attribute is unset still works."""
    y = seasonal()
    y.index = pd.DatetimeIndex(list(y.index))
    assert y.index.freq is None
    pred = tiny().fit(y).predict(2)
    assert pred.index[0] == pd.Timestamp("2010-01-01")


@pytest.mark.parametrize(
    "index, error, match",
    [
        (pd.Index([f"t{i}" for i in range(120)]), TypeError, "DatetimeIndex or PeriodIndex"),
        (pd.DatetimeIndex(pd.to_datetime(np.sort(np.random.default_rng(0).integers(
            0, 10**9, 120)) * 10**9)), ValueError, "without a frequency"),
    ],
)
def test_bad_index_is_a_clear_error(index, error, match):
    y = seasonal(index=index)
    with pytest.raises(error, match=match):
        tiny().fit(y)


def test_bad_inputs_name_the_argument():
    y = seasonal()
    with pytest.raises(TypeError, match="y must be a pandas Series"):
        tiny().fit(y.to_numpy())
    with pytest.raises(ValueError, match="missing or infinite"):
        tiny().fit(y.where(y.index != y.index[5]))
    with pytest.raises(ValueError, match="lags must be a positive int"):
        LSTMForecaster(0, 3).fit(y)
    with pytest.raises(ValueError, match="strategy must be one of"):
        LSTMForecaster(12, 3, strategy="direct").fit(y)
    with pytest.raises(ValueError, match="need series of at least 121 values; 'sales' "):
        tiny(lags=60, steps=60).fit(y)
    model = tiny().fit(y)
    with pytest.raises(ValueError, match="more than the horizon"):
        model.predict(10)
    with pytest.raises(ValueError, match="exog was given"):
        model.predict(exog=pd.Series(np.ones(4)))


def exog_frame(index, seed=1):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"promo": rng.integers(0, 2, len(index)).astype(float)}, index=index)


def test_exog_is_used_and_checked():
    """Future exog is required, and its index must be the forecast dates."""
    index = pd.date_range("2000-01-01", periods=144, freq="MS")
    exog = exog_frame(index)
    y = seasonal(144) + 3 * exog["promo"]
    train, future = slice(0, 132), slice(132, 144)
    model = tiny(lags=12, steps=12).fit(y.iloc[train], exog=exog.iloc[train])
    pred = model.predict(exog=exog.iloc[future])
    assert pred.index.equals(index[future])
    flipped = model.predict(exog=1 - exog.iloc[future])
    assert not np.allclose(pred, flipped)
    with pytest.raises(ValueError, match="pass their future values"):
        model.predict()
    with pytest.raises(ValueError, match=r"expected index 2011-01-01 00:00:00 to 2011-12-01"):
        model.predict(exog=exog.iloc[131:143])
    with pytest.raises(ValueError, match="must cover"):
        model.predict(exog=exog.iloc[132:138])
    with pytest.raises(ValueError, match="lacks the columns"):
        model.predict(exog=exog.iloc[future].rename(columns={"promo": "price"}))


def test_exog_misaligned_in_fit_prints_both_ranges():
    y = seasonal()
    shifted = exog_frame(y.index.shift(1))
    with pytest.raises(ValueError, match=r"2000-01-01 00:00:00 to 2009-12-01.*2000-02-01"):
        tiny().fit(y, exog=shifted)
    with pytest.raises(ValueError, match="same index as y"):
        tiny().fit(y, exog=exog_frame(pd.date_range("2000-01-01", periods=130, freq="MS")))


@pytest.mark.parametrize("strategy", ["multi-output", "recursive"])
def test_exog_with_fewer_lags_than_steps(strategy):
    """4 lags, a 12-step horizon: the future exog of every step reaches the network."""
    rng = np.random.default_rng(0)
    n = 160
    index = pd.period_range("1980Q1", periods=n + 12, freq="Q")
    promo = pd.DataFrame({"promo": rng.binomial(1, 0.4, n + 12).astype(float)}, index=index)
    y = pd.Series(20 + 5 * promo["promo"].to_numpy() + 0.2 * rng.normal(size=n + 12),
                  index=index)
    model = LSTMForecaster(4, 12, LSTMRegressor(units=32, epochs=60), strategy=strategy,
                           random_state=0, transform=None, differentiation=0,
                           normalize_windows=False)
    pred = model.fit(y.iloc[:n], exog=promo.iloc[:n]).predict(exog=promo.iloc[n:])
    assert len(pred) == 12 and pred.index[0] == index[n]
    # the promo effect (5) is forecast at the steps beyond the 4 lags too
    errors = np.abs(pred.to_numpy() - y.iloc[n:].to_numpy())
    assert errors[4:].max() < 1.5, errors


def test_many_series_one_global_model():
    """A DataFrame is one model over all columns; predict returns one column each."""
    index = pd.period_range("2000-01", periods=100, freq="M")
    y = pd.DataFrame({"a": seasonal(100, index, 0).to_numpy(),
                      "b": 50 + 5 * seasonal(100, index, 1, trend=0).to_numpy()}, index=index)
    model = tiny().fit(y)
    pred = model.predict()
    assert list(pred.columns) == ["a", "b"] and len(pred) == 4
    assert pred.index[0] == pd.Period("2008-05", freq="M")
    assert pred["b"].mean() > 3 * pred["a"].mean()  # each series keeps its own scale
    # the one-hot identity reaches the network: 1 value + 2 series columns per step
    assert model.estimator_.n_features_in_ == 3
    intervals = model.predict_interval(alpha=0.2)
    assert list(intervals.columns) == ["series", "pred", "lower", "upper"]
    assert (intervals["lower"] <= intervals["upper"]).all()


def test_recursive_strategy_forecasts_any_horizon():
    y = seasonal()
    model = tiny(steps=3, strategy="recursive").fit(y)
    assert model.estimator_.n_outputs_ == 1
    pred = model.predict(10)
    assert len(pred) == 10 and np.isfinite(pred).all()
    assert np.allclose(pred.iloc[:3], model.predict(3))


def test_differencing_round_trip_on_a_line():
    """A straight line, differenced then undone, is forecast as the line."""
    y = pd.Series(5.0 + 2.0 * np.arange(80), index=pd.RangeIndex(80))
    model = tiny(transform=None, differentiation=1, normalize_windows=False).fit(y)
    assert model.preprocessing_ == ["difference"] and len(model.estimators_) == 1
    np.testing.assert_allclose(model.predict(), 5.0 + 2.0 * np.arange(80, 84), rtol=1e-4)


RECIPES = {
    "difference": dict(transform=None, differentiation=1, normalize_windows=False),
    "standard": dict(transform=None, differentiation=0, normalize_windows=False),
    "window": dict(transform=None, differentiation=0, normalize_windows=True),
    "log + window": dict(transform="log", differentiation=0, normalize_windows=True),
    "log + difference": dict(transform="log", differentiation=1, normalize_windows=False),
}


def _trimmed_mean(forecasts):
    ordered = np.sort(np.asarray(forecasts), axis=0)
    return ordered[1:-1].mean(axis=0) if len(forecasts) >= 3 else ordered.mean(axis=0)


def _growing(n, noise):
    t = np.arange(n)
    index = pd.date_range("2000-01-01", periods=n, freq="MS")
    rng = np.random.default_rng(0)
    return pd.Series(np.exp(0.02 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12))
                     + noise * rng.normal(size=n) + 1, index=index)


@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_auto_preprocessing_on_a_short_series_combines_every_recipe(noise):
    """Too few held-out origins to tell recipes apart: fit trains one network per recipe
    (log ones for positive series only) and forecasts their trimmed mean; the held-out
    networks are trained at the first conformal interval."""
    growing = _growing(144, noise)
    model = tiny().fit(growing)
    assert model.preprocessing_ == list(RECIPES)
    assert model.validation_scores_ is None and model.conformal_scores_ is None
    singles = [tiny(**RECIPES[name]).fit(growing).predict().to_numpy()
               for name in model.preprocessing_]
    np.testing.assert_allclose(model.predict().to_numpy(), _trimmed_mean(singles),
                               rtol=1e-12)
    model.predict_interval()
    assert model.conformal_scores_ is not None
    assert list(model.validation_scores_.columns) == list(RECIPES)


def test_auto_preprocessing_on_a_long_series_combines_the_recipes_the_evidence_keeps():
    """Enough held-out origins: recipes clearly worse than the best there are dropped,
    the best is kept, and the forecast is the trimmed mean of the kept ones."""
    growing = _growing(400, 0.3)
    model = tiny().fit(growing)
    scores = model.validation_scores_
    assert list(scores.columns) == list(RECIPES) and list(scores.index) == ["y"]
    best = scores.columns[np.argmin(scores.to_numpy())]
    assert best in model.preprocessing_
    assert set(model.preprocessing_) <= set(RECIPES)
    singles = [tiny(**RECIPES[name]).fit(growing).predict().to_numpy()
               for name in model.preprocessing_]
    np.testing.assert_allclose(model.predict().to_numpy(), _trimmed_mean(singles),
                               rtol=1e-12)
    assert model.conformal_scores_ is not None  # the held-out errors calibrate intervals


def test_recipes_follow_the_data_and_the_settings():
    t = np.arange(144)
    index = pd.date_range("2000-01-01", periods=144, freq="MS")
    signed = pd.Series(np.sin(2 * np.pi * t / 12), index=index)
    assert tiny().fit(signed).preprocessing_ == ["difference", "standard", "window"]
    positive = signed + 2
    assert tiny(differentiation=1).fit(positive).preprocessing_ == [
        "difference", "log + difference"]
    fixed = tiny(transform=None, differentiation=0, normalize_windows=True).fit(positive)
    assert fixed.preprocessing_ == ["window"] and fixed.validation_scores_ is None
    with pytest.raises(ValueError, match="transform='log' needs positive series"):
        tiny(transform="log").fit(signed)


def test_auto_preprocessing_is_never_far_worse_than_plain_scaling():
    """A mean-reverting series, where centring each window on its mean throws away the level
    the forecast needs: the default stays near plain standard scaling."""
    rng = np.random.default_rng(0)
    noise = rng.normal(size=600)
    x = np.zeros(600)
    for t in range(1, 600):
        x[t] = 0.7 * x[t - 1] + noise[t]
    y = pd.Series(100 + 10 * x[200:], index=pd.RangeIndex(400))

    def error(**recipe):
        model = LSTMForecaster(4, 8, LSTMRegressor(units=8, epochs=20), random_state=0,
                               **recipe).fit(y.iloc[:320])
        return np.mean([np.abs(model.predict(last_window=y.iloc[:o]).to_numpy()
                               - y.iloc[o : o + 8].to_numpy()).mean()
                        for o in range(320, 393, 4)])

    standard = error(transform=None, differentiation=0, normalize_windows=False)
    assert error(transform=None, differentiation=0, normalize_windows=True) > 1.15 * standard
    assert error() < 1.1 * standard


def test_last_window_starts_the_forecast_elsewhere():
    y = seasonal()
    model = tiny().fit(y.iloc[:100])
    pred = model.predict(last_window=y)
    assert pred.index[0] == pd.Timestamp("2010-01-01")
    with pytest.raises(ValueError, match="fewer than the 13 values the forecaster needs"):
        model.predict(last_window=y.iloc[:5])
    with pytest.raises(TypeError, match=r"last_window must have the shape y had in fit \(series\)"):
        model.predict(last_window=y.to_frame())


def test_inputs_are_not_modified():
    index = pd.date_range("2000-01-01", periods=120, freq="MS")
    y, exog = seasonal(120), exog_frame(index)
    y_copy, exog_copy = y.copy(), exog.copy()
    model = tiny().fit(y, exog=exog)
    model.predict(exog=exog_frame(pd.date_range("2010-01-01", periods=4, freq="MS")))
    model.predict_interval(last_window=y, alpha=0.3,
                           exog=exog_frame(pd.date_range("2010-01-01", periods=4, freq="MS")))
    pd.testing.assert_series_equal(y, y_copy)
    pd.testing.assert_frame_equal(exog, exog_copy)
    assert y.index.freq == y_copy.index.freq


def test_same_random_state_same_forecast():
    y = seasonal()
    first = tiny().fit(y).predict_interval(alpha=0.2)
    second = tiny().fit(y).predict_interval(alpha=0.2)
    pd.testing.assert_frame_equal(first, second)
    other = LSTMForecaster(12, 4, LSTMRegressor(**TINY), random_state=1).fit(y).predict()
    assert not np.allclose(first["pred"], other)


def test_sklearn_params_clone_and_nested():
    model = LSTMForecaster(12, 4, LSTMRegressor(units=8))
    params = model.get_params()
    assert params["estimator__units"] == 8 and params["lags"] == 12
    model.set_params(estimator__units=16, steps=6)
    copy = clone(model)
    assert copy.estimator.units == 16 and copy.steps == 6 and copy.estimator is not model.estimator
    assert "estimator_" not in vars(copy)


def test_default_estimator_and_quantiles():
    """quantiles trains a pinball-loss network; predict gives its median."""
    y = seasonal()
    model = LSTMForecaster(12, 4, LSTMRegressor(**TINY), quantiles=[0.1, 0.5, 0.9],
                           random_state=0).fit(y)
    assert model.estimator_.quantiles_.tolist() == [0.1, 0.5, 0.9]
    band = model.predict_interval(alpha=0.2)
    assert (band["lower"] <= band["upper"]).all()
    np.testing.assert_allclose(band["pred"], model.predict())
    with pytest.raises(ValueError, match="needs the quantiles 0.05"):
        model.predict_interval(alpha=0.1)
    with pytest.raises(ValueError, match="strategy='multi-output'"):
        LSTMForecaster(12, 4, strategy="recursive", quantiles=[0.1, 0.9]).fit(y)
    assert LSTMForecaster(12, 4).get_params()["estimator"] is None


def test_predict_interval_with_several_levels():
    """levels=[80, 95]: nested intervals around the same point forecast."""
    t = np.arange(120)
    y = pd.Series(10 + np.sin(2 * np.pi * t / 12) + 0.1 * np.random.RandomState(0).normal(size=120),
                  index=pd.date_range("2000-01-01", periods=120, freq="MS"))
    model = LSTMForecaster(12, 6, LSTMRegressor(units=8, epochs=5, learning_rate=0.01),
                           random_state=0).fit(y)
    both = model.predict_interval(levels=[80, 95])
    assert list(both.columns) == ["pred", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert (both["lower_95"] <= both["lower_80"]).all()
    assert (both["upper_80"] <= both["upper_95"]).all()
    single = model.predict_interval(alpha=0.2)
    np.testing.assert_allclose(single["lower"], both["lower_80"])
    pd.testing.assert_series_equal(single["pred"], model.predict(), check_names=False)
    with pytest.raises(ValueError, match="levels must hold coverages in percent"):
        model.predict_interval(levels=[0.9])


@pytest.mark.parametrize("index", [
    pd.date_range("2000-01-01", periods=120, freq="D")[::-1],
    pd.period_range("2000-01", periods=120, freq="M")[::-1],
    pd.RangeIndex(120, 0, -1),
])
def test_a_newest_first_series_is_refused(index):
    """A descending index (as many exports list dates) would forecast into the past."""
    y = seasonal(index=index)
    with pytest.raises(ValueError, match=r"runs backwards, newest first.*y\.sort_index\(\)"):
        tiny().fit(y)
    model = tiny().fit(y.sort_index() if not isinstance(index, pd.RangeIndex)
                       else y.reset_index(drop=True))
    with pytest.raises(ValueError, match="last_window's index runs backwards"):
        model.predict(last_window=y)


def test_combine_is_a_trimmed_mean_of_the_kept_forecasts():
    """Of k kept forecasts of a value: k >= 3 drops the lowest and highest, k <= 2 averages."""
    from skforecast_lstm.forecasting import _combine

    forecasts = [np.full((4, 2), v) for v in (1.0, 2.0, 10.0, 4.0, -50.0)]
    keep = np.array([[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]],
                    dtype=bool)
    out = _combine(forecasts, keep)
    # row 0: all five, middle three (1, 2, 4); row 1: (1, 2, 10) -> 2; row 2: (1, 2); row 3: 1
    np.testing.assert_allclose(out[:, 0], [7 / 3, 2.0, 1.5, 1.0])
    assert out.shape == (4, 2)
