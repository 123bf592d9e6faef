"""Holdout, interval coverage and memory figures of LSTMForecaster (see docs/forecasting.md).

Run: PYTHONPATH=. python benchmarks/forecast_co2.py
"""

import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd

from skforecast_lstm import LSTMForecaster, LSTMRegressor, backtest, make_windows
from skforecast_lstm.datasets import load_co2


def errors(truth, pred):
    e = truth - pred
    return np.mean(np.abs(e)), 100 * np.mean(np.abs(e / truth))


y = load_co2()
train, test = y.iloc[:-24], y.iloc[-24:]
truth = test.to_numpy()
rows = {"seasonal naive": errors(truth, np.tile(train.iloc[-12:].to_numpy(), 2))}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    ets = ExponentialSmoothing(train, trend="add", seasonal="add", seasonal_periods=12).fit()
    rows["ETS (A,A,A)"] = errors(truth, ets.forecast(24).to_numpy())
    sarima = SARIMAX(train, order=(1, 1, 1), seasonal_order=(0, 1, 1, 12)).fit(disp=False)
    rows["SARIMA(1,1,1)(0,1,1)12"] = errors(truth, sarima.forecast(24).to_numpy())
for seed in range(3):
    start = time.perf_counter()
    model = LSTMForecaster(lags=24, steps=24, random_state=seed).fit(train)
    rows[f"LSTMForecaster default, seed {seed}"] = errors(truth, model.predict().to_numpy())
    print(f"fit+predict {time.perf_counter() - start:.1f}s")
print(pd.DataFrame(rows, index=["MAE (ppmv)", "MAPE (%)"]).T.round(3).to_string())

# Interval coverage on the real series: one model, 10 years of 12-step folds, over
# calibration sizes and seeds (each figure carries a few points of noise).
for calibration_size in (0.1, 0.2, 0.3, 0.5):
    coverage = []
    for seed in range(3):
        model = LSTMForecaster(lags=24, steps=12, random_state=seed,
                               calibration_size=calibration_size)
        scores, _ = backtest(model, y, initial_train_size=len(y) - 120, steps=12, refit=False,
                             alpha=0.1)
        coverage.append(scores["coverage"].iloc[0])
    print(f"CO2, 90% conformal, last 120 months, calibration_size={calibration_size}: "
          f"coverage by seed {np.round(coverage, 3).tolist()}, mean {np.mean(coverage):.3f}")

# The synthetic series of tests/test_backtesting.py, with the default network.
rng = np.random.default_rng(3)
noise = np.zeros(600)
for t in range(1, 600):
    noise[t] = 0.5 * noise[t - 1] + rng.normal()
t = np.arange(600)
synthetic = pd.Series(20 + 3 * np.sin(2 * np.pi * t / 12) + noise,
                      index=pd.date_range("1990-01-01", periods=600, freq="MS"))
for alpha in (0.1, 0.2):
    model = LSTMForecaster(12, 4, random_state=0, calibration_size=0.4)
    scores, _ = backtest(model, synthetic, 360, refit=False, alpha=alpha)
    print(f"synthetic seasonal AR(1), nominal {1 - alpha:.0%}:",
          scores.round(3).to_dict("records")[0])

# Memory: windows and a streamed fit on a 1,000,000-point series.
series = pd.Series(np.sin(np.arange(1_000_000) * 2 * np.pi / 24)
                   + 0.1 * np.random.default_rng(0).normal(size=1_000_000),
                   index=pd.RangeIndex(1_000_000))
tracemalloc.start()
X, Y = make_windows(series, lags=48, steps=12)
peak = tracemalloc.get_traced_memory()[1] / 1e6
print(f"make_windows(1e6, lags=48): X {X.shape}, peak {peak:.1f} MB "
      f"(a materialised float64 X would be {X.size * 8 / 1e6:.0f} MB)")
tracemalloc.reset_peak()
start = time.perf_counter()
model = LSTMForecaster(48, 12, LSTMRegressor(units=4, epochs=1), random_state=0,
                       differentiation=0, transform=None).fit(series)
model.predict()
print(f"LSTMForecaster.fit on 1e6 points (1 epoch, streamed): peak "
      f"{tracemalloc.get_traced_memory()[1] / 1e6:.1f} MB, {time.perf_counter() - start:.0f}s; "
      f"series itself {series.nbytes / 1e6:.0f} MB")
tracemalloc.stop()
