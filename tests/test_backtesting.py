"""backtest: folds, refit policies, metrics; conformal coverage on a synthetic series."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skforecast_lstm import LSTMForecaster, LSTMRegressor, backtest

TINY = dict(units=8, epochs=8, batch_size=32, learning_rate=0.01)


def ar_seasonal(n, seed=0):
    """A seasonal AR(1): its errors are not the network's to remove."""
    rng = np.random.default_rng(seed)
    noise = np.zeros(n)
    for t in range(1, n):
        noise[t] = 0.5 * noise[t - 1] + rng.normal()
    t = np.arange(n)
    return pd.Series(20 + 3 * np.sin(2 * np.pi * t / 12) + noise,
                     index=pd.date_range("1990-01-01", periods=n, freq="MS"), name="y")


@pytest.mark.parametrize("refit, n_fits", [(True, 4), (False, 1), (2, 2)])
def test_backtest_refit_policies(refit, n_fits, monkeypatch):
    y = ar_seasonal(120)
    fits = []
    original = LSTMForecaster.fit

    def counting_fit(self, *args, **kwargs):
        fits.append(len(args[0]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LSTMForecaster, "fit", counting_fit)
    model = LSTMForecaster(12, 6, LSTMRegressor(**TINY), random_state=0)
    scores, pred = backtest(model, y, initial_train_size=96, refit=refit)
    assert len(fits) == n_fits and fits[0] == 96
    assert list(scores.columns) == ["mae", "rmse", "mape"] and list(scores.index) == ["y"]
    assert pred.index.equals(y.index[96:]) and pred["fold"].tolist() == [0] * 6 + [1] * 6 + \
        [2] * 6 + [3] * 6
    assert "estimator_" not in vars(model)  # the forecaster passed in is not fitted


def test_backtest_metrics_many_series_exog_and_errors():
    index = pd.RangeIndex(100)
    y = pd.DataFrame({"a": ar_seasonal(100, 0).to_numpy(), "b": ar_seasonal(100, 1).to_numpy()},
                     index=index)
    exog = pd.DataFrame({"x": np.cos(np.arange(100))}, index=index)
    model = LSTMForecaster(12, 5, LSTMRegressor(**TINY), random_state=0)
    scores, pred = backtest(model, y, 90, exog=exog, refit=False,
                            metrics=["mae", lambda t, p: float(np.max(np.abs(t - p)))])
    assert list(scores.index) == ["a", "b", "mean"]
    assert list(scores.columns) == ["mae", "<lambda>"]
    assert (scores["<lambda>"] >= scores["mae"]).all()
    assert list(pred.columns) == ["series", "pred", "fold"] and len(pred) == 20
    with pytest.raises(ValueError, match="initial_train_size must be"):
        backtest(model, y, 100)
    with pytest.raises(ValueError, match="refit must be"):
        backtest(model, y, 90, refit=-1)
    with pytest.raises(ValueError, match="metrics must hold"):
        backtest(model, y, 90, metrics=["r2"])


def test_conformal_intervals_cover_held_out_data():
    """Empirical coverage of 80 % conformal intervals on unseen folds is near 80 %."""
    y = ar_seasonal(600, seed=3)
    model = LSTMForecaster(12, 4, LSTMRegressor(units=8, epochs=10, learning_rate=0.01),
                           random_state=0, calibration_size=0.4)
    scores, pred = backtest(model, y, initial_train_size=360, refit=False, alpha=0.2)
    coverage = scores.loc["y", "coverage"]
    assert 0.72 <= coverage <= 0.88, coverage
    assert {"lower", "upper"} <= set(pred.columns)


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_backtest_in_parallel_equals_serial(backend):
    """n_jobs runs the refits on the active joblib backend, with the serial run's results."""
    from joblib import parallel_config

    y = pd.DataFrame({"a": ar_seasonal(108, seed=1), "b": ar_seasonal(108, seed=2) * 2})
    model = LSTMForecaster(12, 6, LSTMRegressor(**TINY), random_state=0)
    serial_scores, serial_pred = backtest(model, y, initial_train_size=84, refit=True)
    with parallel_config(backend=backend):
        scores, pred = backtest(model, y, initial_train_size=84, refit=True, n_jobs=2)
    pd.testing.assert_frame_equal(scores, serial_scores)
    pd.testing.assert_frame_equal(pred, serial_pred)


def test_fit_each_series_in_parallel_equals_serial():
    """Local models, one per column, fanned out on joblib's threads: the serial forecasts."""
    from joblib import parallel_config

    from skforecast_lstm import fit_each_series

    y = pd.DataFrame({"a": ar_seasonal(72, seed=3), "b": ar_seasonal(72, seed=4) + 5})
    model = LSTMForecaster(12, 6, LSTMRegressor(**TINY), random_state=0)
    serial = fit_each_series(model, y)
    with parallel_config(backend="threading"):
        threaded = fit_each_series(model, y, n_jobs=2)
    for name in ("a", "b"):
        pd.testing.assert_series_equal(threaded[name].predict(), serial[name].predict())
        alone = clone(model).fit(y[name]).predict()
        pd.testing.assert_series_equal(serial[name].predict(), alone)
    with pytest.raises(TypeError, match="one column per series"):
        fit_each_series(model, y["a"])
