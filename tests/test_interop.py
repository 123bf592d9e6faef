"""LSTMRegressor inside other forecasting libraries; plot_forecast."""

import numpy as np
import pandas as pd
import pytest

from skforecast_lstm import LSTMRegressor


def test_lstm_regressor_as_skforecast_regressor():
    """skforecast's ForecasterRecursive takes any regressor of 2-D lag matrices."""
    recursive = pytest.importorskip("skforecast.recursive")
    t = np.arange(150)
    y = pd.Series(np.sin(2 * np.pi * t / 12), index=pd.RangeIndex(150), name="y")
    forecaster = recursive.ForecasterRecursive(
        LSTMRegressor(units=8, epochs=30, learning_rate=0.01, random_state=0), lags=12
    )
    forecaster.fit(y)
    pred = forecaster.predict(steps=12)
    assert np.mean(np.abs(pred.to_numpy() - np.sin(2 * np.pi * np.arange(150, 162) / 12))) < 0.3


def test_lstm_regressor_on_a_2d_lag_matrix_in_a_pipeline():
    """The plain contract those libraries rely on: fit/predict on 2-D lags, in a Pipeline."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = np.sin(2 * np.pi * np.arange(200) / 12)
    X = np.lib.stride_tricks.sliding_window_view(y[:-1], 12)
    target = y[12:]
    model = make_pipeline(StandardScaler(),
                          LSTMRegressor(units=8, epochs=30, learning_rate=0.01, random_state=0))
    assert model.fit(X, target).score(X, target) > 0.9


def test_plot_forecast_draws_interval():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from skforecast_lstm.plotting import plot_forecast

    y = pd.Series(np.arange(30.0), index=pd.period_range("2020-01", periods=30, freq="M"))
    future = pd.period_range("2022-07", periods=3, freq="M")
    table = pd.DataFrame({"pred": [30.0, 31, 32], "lower": [29.0, 29, 29],
                          "upper": [31.0, 33, 35]}, index=future)
    ax = plot_forecast(y, table, history=12)
    assert len(ax.collections) == 1 and len(ax.get_lines()) == 2
    with pytest.raises(ValueError, match="'pred' column"):
        plot_forecast(y, table.drop(columns="pred"))
