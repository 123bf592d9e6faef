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


class InputError(Exception):
    """A problem with the user's input: one line on stderr and exit status 2."""


def _read_csv(args):
    import pandas as pd

    try:
        frame = pd.read_csv(args.csv)
    except FileNotFoundError:
        raise InputError(f"no such file: {args.csv}") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read {args.csv} as CSV: {first}") from None
    for option, column in (("--time-col", args.time_col), ("--value-col", args.value_col)):
        if column is not None and column not in frame.columns:
            raise InputError(
                f"{option} {column!r} is not a column of {args.csv}; "
                f"columns: {list(frame.columns)}"
            )
    value_col = args.value_col
    if value_col is None:
        numeric = [c for c in frame.columns
                   if c != args.time_col and pd.api.types.is_numeric_dtype(frame[c])]
        others = [c for c in frame.columns if c != args.time_col]
        if not numeric and len(others) != 1:
            raise InputError(f"{args.csv} has no numeric column; pass --value-col")
        value_col = numeric[0] if numeric else others[0]
    values = pd.to_numeric(frame[value_col], errors="coerce")
    bad = values.isna() & frame[value_col].notna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise InputError(
            f"column {value_col!r} of {args.csv} holds a value that is not a number: "
            f"{frame[value_col].iloc[row]!r} in data row {row + 1}"
        )
    if args.time_col is None:
        y = values.reset_index(drop=True).rename(value_col)
        return _fill_or_refuse(y, args, "row")
    dates = pd.to_datetime(frame[args.time_col], errors="coerce")
    if dates.isna().any():
        row = int(dates.isna().to_numpy().argmax())
        raise InputError(
            f"column {args.time_col!r} of {args.csv} holds a value that is not a date: "
            f"{frame[args.time_col].iloc[row]!r} in data row {row + 1}"
        )
    y = pd.Series(values.to_numpy(), index=pd.DatetimeIndex(dates), name=value_col)
    if not y.index.is_monotonic_increasing:
        # exports often list the newest date first: put them in time order, and say so
        y = y.sort_index(kind="stable")
        print(f"note: sorted {len(y)} rows of {args.csv} by {args.time_col!r}, oldest first")
    if y.index.has_duplicates:
        dup = y.index[y.index.duplicated()][0]
        raise InputError(f"the date {dup} appears more than once in {args.time_col!r}")
    return _fill_or_refuse(y, args, "date")


def _regular_frequency(index):
    """The frequency of dates that may have gaps: the one most runs of 5 dates agree on."""
    import numpy as np
    import pandas as pd

    found = {}
    if len(index) < 5:
        return None
    for start in np.unique(np.linspace(0, len(index) - 5, 200).astype(int)):
        try:
            freq = pd.DatetimeIndex(index[start : start + 5], freq="infer").freq
        except ValueError:
            freq = None
        if freq is not None:
            found[freq] = found.get(freq, 0) + 1
    return max(found, key=found.get) if found else None


def _fill_or_refuse(y, args, unit):
    """``y`` with a regular index; gaps and empty cells filled when --fill-gaps asks."""
    import pandas as pd

    from ._time_index import index_frequency

    empty = int(y.isna().sum())
    if empty and not args.fill_gaps:
        first = y.index[y.isna().to_numpy().argmax()]
        raise InputError(
            f"column {y.name!r} has {empty} empty values (the first at {unit} {first}); "
            "pass --fill-gaps to fill them by linear interpolation"
        )
    notes = []
    if unit == "date":
        try:
            freq = index_frequency(y.index, "the time column")
        except ValueError:
            freq = None
        if freq is None:
            freq = _regular_frequency(y.index)
            if freq is None:
                raise InputError(
                    f"the dates in {args.time_col!r} follow no regular frequency (daily, "
                    "weekly, monthly, ...); regularise them or leave out --time-col"
                )
            full = pd.date_range(y.index[0], y.index[-1], freq=freq)
            missing = full.difference(y.index)
            if not args.fill_gaps:
                raise InputError(
                    f"{len(missing)} dates are missing from the {freq.freqstr} dates in "
                    f"{args.time_col!r} (the first: {missing[0].date()}); pass --fill-gaps "
                    "to fill them by linear interpolation"
                )
            y = y.reindex(full)
            notes.append(f"{len(missing)} missing dates")
        y = pd.Series(y.to_numpy(), index=pd.DatetimeIndex(y.index, freq=freq), name=y.name)
    if empty:
        notes.append(f"{empty} empty values")
    if notes:
        if pd.isna(y.iloc[0]) or pd.isna(y.iloc[-1]):
            y = y.loc[y.first_valid_index() : y.last_valid_index()]
            print("note: dropped empty values at the start or end of the series")
        y = y.interpolate()
        print(f"note: filled {' and '.join(notes)} by linear interpolation")
    return y


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
          f"(trimmed mean of {len(forecaster.estimators_)} networks: "
          f"{', '.join(forecaster.preprocessing_)}; {epochs} epochs, "
          f"{time.perf_counter() - start:.1f}s):")
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
    forecast.add_argument("--fill-gaps", action="store_true",
                          help="fill missing dates and empty values by linear interpolation")
    demo = sub.add_parser("demo", help="fit and score a small LSTM on a synthetic series")
    demo.add_argument("--n", type=int, default=400)
    demo.add_argument("--lags", type=int, default=12)
    demo.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["forecast"])
    if args.command == "demo":
        return _demo(args)
    try:
        return _forecast(args)
    except (InputError, ValueError, TypeError) as exc:
        # the user's data or options: one line, as argparse reports a bad option
        message = " ".join(str(exc).split())
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
