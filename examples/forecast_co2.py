"""Forecast the bundled Mauna Loa CO2 series two years ahead, with a 90 % interval.

Writes ``forecast_co2.png`` into ``SKFORECAST_LSTM_OUTDIR`` (default: the
current folder), or to the path given as the first argument.
``SKFORECAST_LSTM_QUICK=1`` trains briefly on the last 15 years only.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")

from skforecast_lstm import LSTMForecaster, LSTMRegressor, backtest  # noqa: E402
from skforecast_lstm.datasets import load_co2  # noqa: E402
from skforecast_lstm.plotting import plot_forecast  # noqa: E402

quick = os.environ.get("SKFORECAST_LSTM_QUICK", "") not in ("", "0")
outdir = os.environ.get("SKFORECAST_LSTM_OUTDIR", ".")
output = sys.argv[1] if len(sys.argv) > 1 else os.path.join(outdir, "forecast_co2.png")

y = load_co2()
if quick:
    y = y.iloc[-180:]
train, test = y.iloc[:-24], y.iloc[-24:]

forecaster = LSTMForecaster(
    lags=24, steps=24, random_state=0,
    estimator=LSTMRegressor(units=32, epochs=10 if quick else 100, learning_rate=0.005),
)
forecaster.fit(train)
forecast = forecaster.predict_interval(alpha=0.1)
print(forecast.round(2).head())
mae = (forecast["pred"] - test).abs().mean()
inside = ((test >= forecast["lower"]) & (test <= forecast["upper"])).mean()
print(f"holdout MAE {mae:.3f} ppmv, 90% interval covers {inside:.0%} of the 24 months")

# Walk-forward: one model, moved through the last four years a year at a time.
scores, _ = backtest(forecaster, y, initial_train_size=len(y) - 48, steps=12, refit=False)
print(scores.round(3))

ax = plot_forecast(y, forecast, history=96, title="Mauna Loa CO2 (ppmv): 24-month forecast")
ax.figure.tight_layout()
os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
ax.figure.savefig(output, dpi=110)
print(f"figure written to {os.path.abspath(output)}")
