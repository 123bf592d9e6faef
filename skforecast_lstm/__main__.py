"""Command line: ``python -m skforecast_lstm [forecast | demo]``.

With no arguments, ``forecast`` runs on the bundled Mauna Loa CO2 series.
``SKFORECAST_LSTM_QUICK=1`` trains for fewer epochs.
"""

import argparse
import os
import sys
import time


def _quick():
    return os.environ.get("SKFORECAST_LSTM_QUICK", "") not in ("", "0")


def _read_csv(args):
    import pandas as pd

    frame = pd.read_csv(args.csv)
    for option, column in (("--time-col", args.time_col), ("--value-col", args.value_col)):
        if column is not None and column not in frame.columns:
            raise SystemExit(
                f"error: {option} {column!r} is not a column of {args.csv}; "
                f"columns: {list(frame.columns)}"
            )
    value_col = args.value_col
    if value_col is None:
        numeric = [c for c in frame.columns
                   if c != args.time_col and pd.api.types.is_numeric_dtype(frame[c])]
        if not numeric:
            raise SystemExit(f"error: {args.csv} has no numeric column; pass --value-col")
        value_col = numeric[0]
    y = frame[value_col].astype(float)
    if args.time_col is None:
        return y.reset_index(drop=True).rename(value_col)
    from ._time_index import index_frequency

    index = pd.DatetimeIndex(pd.to_datetime(frame[args.time_col]))
    try:
        freq = index_frequency(index, "the time column")
    except ValueError:
        freq = None
    if freq is None:
        raise SystemExit(
            f"error: the dates in {args.time_col!r} are not regular (no frequency can be "
            "inferred); regularise them or leave out --time-col"
        )
    return pd.Series(y.to_numpy(), index=pd.DatetimeIndex(index, freq=freq), name=value_col)


def _forecast(args):
    from . import LSTMForecaster, LSTMRegressor
    from .datasets import load_co2

    start = time.perf_counter()
    if args.csv is None:
        y = load_co2()
        source = "bundled Mauna Loa CO2 series (monthly, ppmv)"
    else:
        y = _read_csv(args)
        source = args.csv
    steps = args.steps
    lags = args.lags if args.lags is not None else 24
    lags = min(lags, max(1, (len(y) - steps) // 3))
    epochs = args.epochs if args.epochs is not None else (15 if _quick() else 100)
    forecaster = LSTMForecaster(
        lags, steps, LSTMRegressor(units=32, epochs=epochs, learning_rate=0.005),
        random_state=0,
    )
    forecaster.fit(y)
    table = forecaster.predict_interval(alpha=args.alpha)
    print(f"{steps}-step forecast of {source}, {len(y)} values, "
          f"{int(round(100 * (1 - args.alpha)))}% conformal interval "
          f"(log: {bool(forecaster.log_[0])}, differenced: {int(forecaster.differentiation_[0])}, "
          f"{epochs} epochs, {time.perf_counter() - start:.1f}s):")
    print(table.round(3).to_string())
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: plot skipped (pip install 'skforecast-lstm[plot]').")
        return 0
    from .plotting import plot_forecast

    ax = plot_forecast(y, table, history=max(4 * steps, 48))
    path = os.path.abspath(args.output)
    ax.figure.tight_layout()
    ax.figure.savefig(path, dpi=110)
    plt.close(ax.figure)
    print(f"plot written to {path}")
    return 0


def _demo(args):
    import numpy as np

    from . import LSTMRegressor

    rng = np.random.RandomState(0)
    t = np.arange(args.n + args.lags + 1)
    series = np.sin(2 * np.pi * t / 12) + 0.1 * rng.normal(size=t.size)
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], args.lags)[:, :, None]
    y = series[args.lags :]
    n_train = int(0.8 * len(y))
    model = LSTMRegressor(units=16, epochs=args.epochs, learning_rate=0.01, random_state=0)
    model.fit(X[:n_train], y[:n_train])
    print(f"one-step forecast of a noisy sine, R^2 on the last 20%: "
          f"{model.score(X[n_train:], y[n_train:]):.3f}")
    return 0


def main(argv=None):
    """Entry point of ``python -m skforecast_lstm``."""
    parser = argparse.ArgumentParser(prog="python -m skforecast_lstm")
    sub = parser.add_subparsers(dest="command")
    forecast = sub.add_parser(
        "forecast", help="forecast a CSV column, or the bundled CO2 series (the default job)"
    )
    forecast.add_argument("--csv", help="CSV file; without it, the bundled CO2 series")
    forecast.add_argument("--time-col", help="column of dates (default: a plain row count)")
    forecast.add_argument("--value-col", help="column to forecast (default: first numeric)")
    forecast.add_argument("--steps", type=int, default=24, help="horizon (default 24)")
    forecast.add_argument("--lags", type=int, help="past values read (default 24)")
    forecast.add_argument("--epochs", type=int, help="training epochs (default 100, quick 15)")
    forecast.add_argument("--alpha", type=float, default=0.1, help="1 - interval coverage")
    forecast.add_argument("--output", default="forecast.png", help="PNG file of the plot")
    demo = sub.add_parser("demo", help="fit and score a small LSTM on a synthetic series")
    demo.add_argument("--n", type=int, default=400)
    demo.add_argument("--lags", type=int, default=12)
    demo.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["forecast"])
    return _demo(args) if args.command == "demo" else _forecast(args)


if __name__ == "__main__":
    sys.exit(main())
