"""Many series and exogenous variables: weekly sales of four stores, with promotions.

Four stores share one global ``LSTMForecaster``. Their weekly sales have a yearly
cycle, a trend of their own and a lift in the weeks of a promotion; a temperature
series and the promotion calendar are the exogenous variables, known in advance for
the forecast horizon. The last 12 weeks are held out: the script forecasts them with
90 % intervals, compares the MAE with a seasonal-naive forecast (the same week a year
earlier) and with the same network without the exogenous variables, and writes
``forecast_multiseries_exog.png``.

``SKFORECAST_LSTM_QUICK=1`` trains briefly (used by the test suite);
``SKFORECAST_LSTM_OUTDIR`` is the folder for the figure (default: the current folder).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files, open no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from skforecast_lstm import LSTMForecaster, LSTMRegressor  # noqa: E402
from skforecast_lstm.plotting import plot_forecast  # noqa: E402

QUICK = os.environ.get("SKFORECAST_LSTM_QUICK", "") not in ("", "0")
OUTDIR = Path(os.environ.get("SKFORECAST_LSTM_OUTDIR", "."))
rng = np.random.RandomState(0)

weeks = pd.date_range("2018-01-07", periods=260, freq="W-SUN")
t = np.arange(len(weeks))
temperature = 12 + 10 * np.sin(2 * np.pi * (t - 13) / 52) + rng.normal(0, 2, len(t))
promotion = (rng.rand(len(t)) < 0.15).astype(float)
exog = pd.DataFrame({"temperature": temperature, "promotion": promotion}, index=weeks)
sales = {}
for s, (level, growth, season) in enumerate([(200, 0.4, 30), (120, 0.1, 15), (80, 0.25, 25),
                                             (150, -0.05, 20)]):
    sales[f"store_{s + 1}"] = (level + growth * t + season * np.sin(2 * np.pi * t / 52)
                               + 1.5 * (temperature - 12) + 35 * promotion
                               + rng.normal(0, 6, len(t)))
y = pd.DataFrame(sales, index=weeks)

horizon = 12
train, test = y.iloc[:-horizon], y.iloc[-horizon:]
epochs = 5 if QUICK else 150


def forecaster():
    return LSTMForecaster(lags=26, steps=horizon, random_state=0,
                          estimator=LSTMRegressor(units=32, epochs=epochs,
                                                  learning_rate=0.005))


with_exog = forecaster().fit(train, exog=exog.iloc[:-horizon])
intervals = with_exog.predict_interval(exog=exog.iloc[-horizon:], alpha=0.1)
pred = with_exog.predict(exog=exog.iloc[-horizon:])
without = forecaster().fit(train).predict()
naive = y.iloc[-horizon - 52 : -52].set_axis(test.index)

rows = {}
for name in y.columns:
    inside = intervals[intervals["series"] == name]
    rows[name] = {
        "MAE LSTM + exog": (pred[name] - test[name]).abs().mean(),
        "MAE LSTM, no exog": (without[name] - test[name]).abs().mean(),
        "MAE seasonal naive": (naive[name] - test[name]).abs().mean(),
        "90% interval coverage": ((test[name] >= inside["lower"])
                                  & (test[name] <= inside["upper"])).mean(),
    }
table = pd.DataFrame(rows).T
print(table.round(2).to_string())
print("\nmean over stores:")
print(table.mean().round(2).to_string())

fig, axes = plt.subplots(2, 2, figsize=(11, 6), sharex=True)
for ax, name in zip(axes.ravel(), y.columns):
    interval = intervals[intervals["series"] == name].drop(columns="series")
    plot_forecast(y[name], interval, history=60, ax=ax, title=name)
fig.autofmt_xdate()
fig.suptitle("Weekly sales of four stores: one LSTM with temperature and promotions")
fig.tight_layout()
OUTDIR.mkdir(parents=True, exist_ok=True)
path = OUTDIR / "forecast_multiseries_exog.png"
fig.savefig(path, dpi=100, bbox_inches="tight")
print(f"figure written to {path.resolve()}")
