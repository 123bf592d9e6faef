"""Command line: ``python -m skforecast_lstm demo``."""

import argparse
import sys


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
    demo = sub.add_parser("demo", help="fit and score a small LSTM on a synthetic series")
    demo.add_argument("--n", type=int, default=400)
    demo.add_argument("--lags", type=int, default=12)
    demo.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["demo"] + (argv or []))
    return _demo(args)


if __name__ == "__main__":
    sys.exit(main())
