"""Tune an LSTM inside a scikit-learn Pipeline with GridSearchCV and TimeSeriesSplit.

A daily demand series (trend, weekly and yearly seasonality, noise) is cut into
windows of the last 14 days; the next day's value is the target. The windows are
standardised by a ``StandardScaler`` and the target by a
``TransformedTargetRegressor``, so that the LSTM sees values near zero, and
``GridSearchCV`` picks ``units`` and ``learning_rate`` with folds that always
train on the past and validate on the future (``TimeSeriesSplit``).

Run it as it is::

    python examples/grid_search_pipeline.py

``SKFORECAST_LSTM_QUICK=1`` runs a tiny version in seconds (used by the test
suite); ``SKFORECAST_LSTM_OUTDIR`` is the folder for the figure (default: the
current folder).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files, open no window
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.compose import TransformedTargetRegressor
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skforecast_lstm import LSTMRegressor

QUICK = os.environ.get("SKFORECAST_LSTM_QUICK", "") not in ("", "0")
OUTDIR = Path(os.environ.get("SKFORECAST_LSTM_OUTDIR", "."))
LAGS = 14
N_DAYS = 240 if QUICK else 3 * 365
EPOCHS = 2 if QUICK else 40
N_TEST = 28 if QUICK else 90


def daily_demand(n_days, seed=0):
    """A synthetic daily series: trend, weekly and yearly cycles, noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_days)
    weekly = np.array([0.0, 1.0, 1.5, 1.2, 2.5, 6.0, 4.5])[t % 7]  # busy weekends
    yearly = 8.0 * np.sin(2 * np.pi * t / 365.25)
    noise = rng.normal(scale=1.5, size=n_days)
    index = pd.date_range("2021-01-01", periods=n_days, freq="D")
    return pd.Series(100 + 0.02 * t + weekly + yearly + noise, index=index, name="demand")


def lag_windows(series, lags):
    """Windows of the ``lags`` previous values (2-D X) and the next value (y)."""
    values = series.to_numpy()
    X = sliding_window_view(values[:-1], lags)  # row i: values[i], ..., values[i + lags - 1]
    y = values[lags:]
    return X, y, series.index[lags:]


def main():
    series = daily_demand(N_DAYS)
    X, y, dates = lag_windows(series, LAGS)
    X_train, y_train = X[:-N_TEST], y[:-N_TEST]
    X_test, y_test = X[-N_TEST:], y[-N_TEST:]

    model = TransformedTargetRegressor(
        regressor=Pipeline([
            ("scale", StandardScaler()),
            ("lstm", LSTMRegressor(epochs=EPOCHS, batch_size=32, random_state=0)),
        ]),
        transformer=StandardScaler(),
    )
    grid = {
        "regressor__lstm__units": [8] if QUICK else [16, 32],
        "regressor__lstm__learning_rate": [0.01] if QUICK else [0.003, 0.01],
    }
    search = GridSearchCV(
        model, grid, cv=TimeSeriesSplit(n_splits=2 if QUICK else 3),
        scoring="neg_mean_absolute_error",
    )
    search.fit(X_train, y_train)

    results = pd.DataFrame(search.cv_results_)
    table = pd.DataFrame({
        "units": results["param_regressor__lstm__units"],
        "learning_rate": results["param_regressor__lstm__learning_rate"],
        "cv_mae": -results["mean_test_score"],
        "cv_mae_std": results["std_test_score"],
    }).sort_values("cv_mae")
    print("Cross-validated MAE (TimeSeriesSplit), best first:")
    print(table.to_string(index=False, float_format="{:.3f}".format))
    print("Best parameters:", search.best_params_)

    pred = search.predict(X_test)
    naive = X_test[:, -7]  # same day last week: the baseline to beat
    mae_lstm = mean_absolute_error(y_test, pred)
    mae_naive = mean_absolute_error(y_test, naive)
    print(f"Test MAE on the last {N_TEST} days: LSTM {mae_lstm:.3f}, "
          f"seasonal naive (value 7 days earlier) {mae_naive:.3f}")

    fig, (ax_cv, ax_pred) = plt.subplots(
        1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1, 2.2]}
    )
    labels = [f"units={u}\nlr={lr:g}" for u, lr in zip(table["units"], table["learning_rate"])]
    ax_cv.barh(labels, table["cv_mae"], xerr=table["cv_mae_std"], color="tab:blue", alpha=0.8,
              error_kw={"ecolor": "0.3", "capsize": 3})
    ax_cv.invert_yaxis()
    ax_cv.set_xlabel("cross-validated MAE (lower is better)")
    ax_cv.set_title("Grid search")

    test_dates = dates[-N_TEST:]
    history = series[test_dates[0] - pd.Timedelta(days=3 * N_TEST) :]
    ax_pred.plot(history.index, history.to_numpy(), color="0.6", lw=1, label="observed")
    ax_pred.plot(test_dates, pred, color="tab:red", lw=1.5,
                 label=f"LSTM one-step forecast (MAE {mae_lstm:.2f})")
    ax_pred.plot(test_dates, naive, color="tab:green", lw=1, ls="--",
                 label=f"seasonal naive (MAE {mae_naive:.2f})")
    ax_pred.axvline(test_dates[0], color="k", lw=0.8, ls=":")
    ax_pred.set_title("Best model on the held-out test period")
    ax_pred.set_ylabel("demand")
    ax_pred.legend(loc="upper left", fontsize=8)
    locator = mdates.AutoDateLocator()
    ax_pred.xaxis.set_major_locator(locator)
    ax_pred.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    fig.tight_layout()

    OUTDIR.mkdir(parents=True, exist_ok=True)
    path = OUTDIR / "grid_search_pipeline.png"
    fig.savefig(path, dpi=90, bbox_inches="tight")
    print(f"Figure written to {path}")


if __name__ == "__main__":
    main()
