"""Panels: dicts of series of different lengths, long frames, new series, static covariates."""

import numpy as np
import pandas as pd
import pytest

from skforecast_lstm import LSTMForecaster, LSTMRegressor, backtest

TINY = dict(units=8, epochs=6, batch_size=32, learning_rate=0.01)
ONE_RECIPE = dict(transform=None, differentiation=0, normalize_windows=True)


def tiny(lags=8, steps=4, **kwargs):
    return LSTMForecaster(lags, steps, LSTMRegressor(**TINY), random_state=0, **kwargs)


def ragged(freq="D"):
    """Three series of one frequency that start and end at different times."""
    rng = np.random.default_rng(0)
    spans = {"north": ("2020-01-01", 90), "south": ("2020-02-10", 60), "east": ("2020-01-20", 75)}
    out = {}
    for k, (key, (start, n)) in enumerate(spans.items()):
        t = np.arange(n)
        index = pd.date_range(start, periods=n, freq=freq)
        out[key] = pd.Series(10 * (k + 1) + np.sin(2 * np.pi * t / 7) + 0.1 * rng.normal(size=n),
                             index=index, name=key)
    return out


def as_long(series, nixtla=False):
    long = pd.concat(series, names=["store", "date"]).to_frame("sales")
    if nixtla:
        return long.reset_index().rename(columns={"store": "unique_id", "date": "ds",
                                                  "sales": "y"})
    return long


def test_a_ragged_dict_round_trips_to_each_series_future():
    y = ragged()
    copies = {k: v.copy() for k, v in y.items()}
    model = tiny().fit(y)
    pred = model.predict()
    assert list(pred) == ["north", "south", "east"]
    for key, series in y.items():
        assert pred[key].name == "pred" and len(pred[key]) == 4
        assert pred[key].index[0] == series.index[-1] + pd.Timedelta(days=1)
        assert np.isfinite(pred[key]).all()
    band = model.predict_interval(alpha=0.2, series=["south"])
    assert list(band) == ["south"] and list(band["south"].columns) == ["pred", "lower", "upper"]
    np.testing.assert_allclose(band["south"]["pred"], pred["south"])
    assert list(model.predict(levels=["east"])) == ["east"]
    for key in y:
        pd.testing.assert_series_equal(y[key], copies[key])  # inputs are not modified
    with pytest.raises(ValueError, match=r"\['west'\] are not among the series"):
        model.predict(levels=["west"])


@pytest.mark.parametrize("nixtla", [False, True], ids=["multiindex", "nixtla"])
def test_long_frames_in_long_frames_out(nixtla):
    series = ragged()
    long = as_long(series, nixtla)
    model = tiny(**ONE_RECIPE).fit(long)
    pred = model.predict()
    if nixtla:
        assert list(pred.columns) == ["unique_id", "ds", "pred"]
        last = pred.groupby("unique_id")["ds"].min()
    else:
        assert pred.index.names == ["store", "date"] and list(pred.columns) == ["pred"]
        last = pred.reset_index().groupby("store")["date"].min()
    for key, s in series.items():
        assert last[key] == s.index[-1] + pd.Timedelta(days=1)
    # the same forecasts as the dict of the same series
    from_dict = tiny(**ONE_RECIPE).fit(series).predict()
    values = pred["pred"].to_numpy().reshape(3, 4)
    np.testing.assert_array_equal(values, np.stack([from_dict[k].to_numpy() for k in series]))


def test_a_wide_frame_with_leading_and_trailing_gaps_is_a_ragged_panel():
    series = ragged()
    wide = pd.concat(series, axis=1)
    assert wide.isna().any().any()
    pred = tiny(**ONE_RECIPE).fit(wide).predict()
    from_dict = tiny(**ONE_RECIPE).fit(series).predict()
    for key in series:
        np.testing.assert_array_equal(pred[key].dropna().to_numpy(), from_dict[key].to_numpy())
    inner = wide.copy()
    inner.iloc[50, 0] = np.nan
    with pytest.raises(ValueError, match="missing or infinite values in series 'north'"):
        tiny().fit(inner)


def test_forecasts_do_not_depend_on_the_order_of_the_series():
    y = ragged()
    forward = tiny().fit(y).predict()
    backward = tiny().fit(dict(reversed(list(y.items())))).predict()
    assert list(backward) == ["east", "south", "north"]
    for key in y:
        pd.testing.assert_series_equal(forward[key], backward[key])
    again = tiny().fit(y).predict()
    for key in y:
        pd.testing.assert_series_equal(forward[key], again[key])


def test_a_series_too_short_is_named():
    y = ragged()
    y["tiny"] = y["north"].iloc[:10]
    with pytest.raises(ValueError, match=r"need series of at least 13 values; 'tiny' \(10\)"):
        tiny().fit(y)


def test_a_new_series_is_forecast_from_its_last_window():
    y = ragged()
    model = tiny(series_identity="none", **ONE_RECIPE).fit(y)
    new = {"west": y["north"].iloc[-20:] + 3.0}
    pred = model.predict(last_window=new)
    assert list(pred) == ["west"] and pred["west"].index[0] == y["north"].index[-1] + \
        pd.Timedelta(days=1)
    # a new series is scaled by its window's statistics, not by a history: with window
    # centring, the same window 3 higher is forecast about 3 higher
    same = model.predict(last_window={"north": y["north"]})["north"]
    np.testing.assert_allclose(pred["west"].to_numpy(), same.to_numpy() + 3.0, rtol=0.02)
    coded = tiny(series_identity="onehot", **ONE_RECIPE).fit(y)
    with pytest.raises(ValueError, match=r"\['west'\] were not in fit.*series_identity='none'"):
        coded.predict(last_window=new)


def test_static_covariates_and_per_series_exog():
    y = ragged()
    static = pd.DataFrame({"region": ["cold", "warm", "cold"], "size": [3.0, 1.0, 2.0]},
                          index=["north", "south", "east"])
    rng = np.random.default_rng(1)
    exog = {k: pd.DataFrame({"promo": rng.integers(0, 2, len(s) + 4).astype(float)},
                            index=pd.date_range(s.index[0], periods=len(s) + 4, freq="D"))
            for k, s in y.items()}
    past = {k: e.iloc[:-4] for k, e in exog.items()}
    future = {k: e.iloc[-4:] for k, e in exog.items()}
    model = tiny(series_identity="none", **ONE_RECIPE).fit(y, exog=past, static=static)
    assert model.static_names_ == ["region", "size"] and model.exog_names_ == ["promo"]
    # the network reads the value, 4 future promos and the static columns (one-hot + size)
    assert model.estimator_.n_features_in_ == 1 + 4 + 2 + 1
    pred = model.predict(exog=future)
    assert all(np.isfinite(p).all() for p in pred.values())
    with pytest.raises(ValueError, match="pass static= rows for the new series"):
        model.predict(last_window={"west": y["north"]}, exog={"west": future["north"]})
    alone = model.predict(last_window={"west": y["north"]}, exog={"west": future["north"]},
                          static=static.rename(index={"north": "west"}))
    np.testing.assert_allclose(alone["west"], pred["north"], rtol=0.05)


def test_backtest_over_a_ragged_panel():
    y = ragged()
    model = tiny(**ONE_RECIPE)
    scores, pred = backtest(model, y, initial_train_size=80, steps=4, refit=False,
                            metrics=["mae", "smape", "mase"], season=7, alpha=0.2)
    assert list(scores.index) == ["north", "south", "east", "mean"]
    assert list(scores.columns) == ["mae", "smape", "mase", "coverage", "width"]
    assert set(pred["series"]) == {"north", "south", "east"}
    # each series is forecast on its own dates after the first origin, up to its end
    calendar = pd.date_range("2020-01-01", "2020-04-09", freq="D")
    for key, s in y.items():
        dates = pred[pred["series"] == key].index
        expected = s.index[s.index >= calendar[80]]
        assert dates.equals(expected), key
    assert (scores["mase"] > 0).all() and (scores["width"] > 0).all()


@pytest.mark.parametrize("make_index", [
    lambda start, n: pd.period_range(start, periods=n, freq="M"),
    lambda start, n: pd.RangeIndex(int(start[:4]) - 2000, int(start[:4]) - 2000 + n),
], ids=["period", "range"])
def test_dicts_of_period_and_range_indexes(make_index):
    rng = np.random.default_rng(2)
    y = {key: pd.Series(rng.normal(size=n).cumsum() + 50, index=make_index(start, n))
         for key, start, n in [("a", "2001-01", 40), ("b", "2003-01", 30)]}
    pred = tiny(**ONE_RECIPE).fit(y).predict()
    for key, s in y.items():
        assert type(pred[key].index) is type(s.index)
        assert pred[key].index[0] == s.index[-1] + (1 if isinstance(s.index, pd.RangeIndex)
                                                    else s.index.freq)
    mixed = {"a": y["a"], "b": pd.Series(np.ones(30), index=pd.RangeIndex(30))}
    if not isinstance(y["b"].index, pd.RangeIndex):
        with pytest.raises(TypeError, match="same kind of index"):
            tiny().fit(mixed)


@pytest.mark.parametrize("strategy", ["multi-output", "recursive"])
def test_past_covariates_are_read_beside_the_window(strategy):
    """A variable known only in the past (yesterday's traffic drives today's sales) is read
    in the lag window; predict takes it from fit, or from past_exog with a last_window."""
    rng = np.random.default_rng(3)
    n = 300
    traffic = rng.normal(size=n)
    sales = 20 + 0.1 * rng.normal(size=n)
    sales[1:] += 3 * traffic[:-1]
    index = pd.date_range("2020-01-01", periods=n, freq="D")
    y = pd.Series(sales, index=index)
    past = pd.DataFrame({"traffic": traffic}, index=index)
    model = LSTMForecaster(4, 1, LSTMRegressor(units=8, epochs=30), strategy=strategy,
                           random_state=0, **ONE_RECIPE)
    with_past = model.fit(y.iloc[:250], past_exog=past.iloc[:250])
    assert with_past.past_exog_names_ == ["traffic"]
    assert with_past.estimator_.n_features_in_ == 2
    pred = with_past.predict()
    again = with_past.predict(last_window=y.iloc[:250], past_exog=past.iloc[:250])
    np.testing.assert_array_equal(pred.to_numpy(), again.to_numpy())
    blind = LSTMForecaster(4, 1, LSTMRegressor(units=8, epochs=30), strategy=strategy,
                           random_state=0, **ONE_RECIPE).fit(y.iloc[:250])

    def error(model, **kwargs):
        return np.mean([abs(model.predict(last_window=y.iloc[:o], **{
            k: v.iloc[:o] for k, v in kwargs.items()}).iloc[0] - y.iloc[o])
            for o in range(250, 300, 5)])

    assert error(with_past, past_exog=past) < 0.5 * error(blind)
    with pytest.raises(ValueError, match="pass their values on the index of last_window"):
        with_past.predict(last_window=y.iloc[:250])
    with pytest.raises(ValueError, match="past_exog goes with a last_window"):
        with_past.predict(past_exog=past)


def test_series_embedding_tells_series_apart_with_a_learnt_vector():
    """series_embedding=k: the network reads a learnt k-vector per series (the estimator's
    id_embedding), its input width does not grow with the panel, and new ids are refused."""
    y = ragged()
    static = pd.DataFrame({"kind": ["a", "b", "a"]}, index=["north", "south", "east"])
    model = tiny(series_embedding=2, **ONE_RECIPE).fit(y, static=static)
    assert model.identity_ == "embedding"
    assert model.estimator_.id_embedding == (3, 2)
    # value, static one-hot (2), id: not one input per series
    assert model.estimator_.n_features_in_ == 1 + 2 + 1
    pred = model.predict()
    assert set(pred) == set(y)
    again = tiny(series_embedding=2, **ONE_RECIPE).fit(
        {k: y[k] for k in ["east", "south", "north"]}, static=static)
    for key in y:  # the series' order in the input does not matter
        np.testing.assert_allclose(again.predict()[key], pred[key], rtol=1e-12)
    with pytest.raises(ValueError, match="learnt embedding of the training series"):
        model.predict(last_window={"west": y["north"]}, static=static.iloc[:1].set_axis(["west"]))
    with pytest.raises(ValueError, match="two ways of telling series apart"):
        tiny(series_embedding=2, series_identity="none").fit(y)
    from sklearn.linear_model import Ridge

    with pytest.raises(ValueError, match="series_embedding needs an estimator with the "
                                         "parameter 'id_embedding'"):
        LSTMForecaster(8, 4, Ridge(), series_embedding=2).fit(y)
