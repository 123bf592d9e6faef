"""Accuracy on public data: our defaults against the simplest baselines and the peers.

Two parts, each a table of medians over seeds (see benchmarks/results/accuracy.md):

classification
    UCR/UEA sets bundled by aeon (ArrowHead, BasicMotions, OSULeaf, GunPoint,
    ItalyPowerDemand, JapaneseVowels). One fixed Keras-style recipe (LSTM(32) on
    the sequence, a dense softmax on the last state, Adam at our default
    learning rate 1e-2, minibatches of 32, 200 epochs everywhere) trained as
    ``LSTMClassifier`` with its defaults otherwise, and as a plain
    ``torch.nn.LSTM`` + ``nn.Linear`` with torch's defaults, at the same
    learning rate and at torch's (and Keras') default 1e-3; on the raw inputs
    and on inputs standardised per channel with the training set's statistics.
    1-NN with the Euclidean distance as yardstick.

forecasting
    Single public series of different kinds (monthly with trend and seasonality,
    weekly, half-hourly, yearly, quarterly, one with exogenous regressors), the
    last horizon held out. ``LSTMForecaster(lags, steps)`` with its defaults
    against seasonal naive and statsforecast's AutoETS, AutoARIMA and AutoTheta;
    MASE (scaled by the in-sample seasonal naive MAE) and sMAPE.

Needs the ``benchmark`` extra (aeon, statsforecast, pmdarima, statsmodels,
torch==2.13.0)::

    python benchmarks/accuracy.py                       # both parts, seeds 0-4
    python benchmarks/accuracy.py --part forecasting --seeds 0-2
    python benchmarks/accuracy.py --part electricity --seeds 0-2   # the issue's case
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from skforecast_lstm import LSTMClassifier, LSTMForecaster, LSTMRegressor  # noqa: E402

# ----------------------------------------------------------------- classification
CLASSIFICATION_SETS = ["ArrowHead", "BasicMotions", "OSULeaf", "GunPoint", "ItalyPowerDemand",
                       "JapaneseVowels"]
# the other classification sets aeon bundles, never used to choose a default:
# run them with --sets (ACSF1 has 1,460 steps: slow with torch)
HELD_OUT_SETS = ["UnitTest", "PickupGestureWiimoteZ", "ACSF1"]
RECIPE = dict(units=32, epochs=200, batch_size=32, learning_rate=1e-2)
TORCH_DEFAULT_LR = 1e-3


def load_classification_set(name):
    """Train and test sets as (n, T, F) float arrays and integer labels."""
    from aeon.datasets import load_classification

    splits = [load_classification(name, split=split) for split in ("train", "test")]
    length = max(x.shape[-1] for X, _ in splits for x in X)
    parts = []
    for X, y in splits:
        if isinstance(X, list):  # unequal lengths: pre-padded with zeros (Keras' default)
            padded = np.zeros((len(X), X[0].shape[0], length))
            for i, x in enumerate(X):
                padded[i, :, length - x.shape[1]:] = x
            X = padded
        parts.append((np.ascontiguousarray(np.transpose(X, (0, 2, 1)), dtype=np.float64),
                      np.asarray(y)))
    (X_train, y_train), (X_test, y_test) = parts
    classes = np.unique(y_train)
    return X_train, np.searchsorted(classes, y_train), X_test, np.searchsorted(classes, y_test)


def one_nn_euclidean(X_train, y_train, X_test):
    A, B = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    d = (B**2).sum(1)[:, None] - 2 * B @ A.T + (A**2).sum(1)[None, :]
    return y_train[np.argmin(d, axis=1)]


def torch_classifier(X_train, y_train, X_test, seed, units, epochs, batch_size,
                     learning_rate):
    """The same recipe in torch.nn.LSTM with torch's defaults (init, Adam, no clipping)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    n_classes = int(y_train.max()) + 1

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(X_train.shape[2], units, batch_first=True)
            self.head = nn.Linear(units, n_classes)

        def forward(self, x):
            _, (h, _) = self.lstm(x)
            return self.head(h[-1])

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=learning_rate)
    Xt = torch.from_numpy(X_train.astype(np.float32))
    yt = torch.from_numpy(y_train.astype(np.int64))
    rng = np.random.RandomState(seed)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(Xt)))
        for start in range(0, len(Xt), batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            loss_fn(net(Xt[idx]), yt[idx]).backward()
            opt.step()
    with torch.no_grad():
        return net(torch.from_numpy(X_test.astype(np.float32))).argmax(1).numpy()


def run_classification(seeds, sets, with_torch, recipe):
    rows = []
    for name in sets:
        X_train, y_train, X_test, y_test = load_classification_set(name)
        mean = X_train.mean(axis=(0, 1))
        scale = X_train.std(axis=(0, 1))
        inputs = {"raw": (X_train, X_test),
                  "standardised": ((X_train - mean) / scale, (X_test - mean) / scale)}
        nn_acc = float(np.mean(one_nn_euclidean(X_train, y_train, X_test) == y_test))
        row = {"set": name, "train x T x F": "x".join(map(str, X_train.shape)), "1-NN ED": nn_acc}
        torch_recipes = {"torch": recipe,
                         f"torch lr {TORCH_DEFAULT_LR:g}": dict(recipe,
                                                               learning_rate=TORCH_DEFAULT_LR)}
        for label, (A, B) in inputs.items():
            scores, seconds = {}, {}
            for seed in seeds:
                start = time.perf_counter()
                clf = LSTMClassifier(**recipe, random_state=seed).fit(A, y_train)
                seconds.setdefault("ours", []).append(time.perf_counter() - start)
                scores.setdefault("ours", []).append(float(np.mean(clf.predict(B) == y_test)))
                for peer, peer_recipe in torch_recipes.items() if with_torch else ():
                    start = time.perf_counter()
                    pred = torch_classifier(A, y_train, B, seed, **peer_recipe)
                    seconds.setdefault(peer, []).append(time.perf_counter() - start)
                    scores.setdefault(peer, []).append(float(np.mean(pred == y_test)))
            for who in scores:
                row[f"{who} {label}"] = _spread(scores[who])
                row[f"{who} {label} s"] = float(np.median(seconds[who]))
            print(name, label, {k: np.round(v, 3).tolist() for k, v in scores.items()},
                  flush=True)
        rows.append(row)
    return pd.DataFrame(rows)


def _spread(values):
    return f"{np.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


# ----------------------------------------------------------------- forecasting
def _monthly(values, start):
    return pd.Series(np.asarray(values, dtype=float),
                     index=pd.date_range(start, periods=len(values), freq="MS"))


def _quarterly(values, start):
    return pd.Series(np.asarray(values, dtype=float),
                     index=pd.period_range(start, periods=len(values), freq="Q"))


def _yearly(values, start):
    return pd.Series(np.asarray(values, dtype=float),
                     index=pd.period_range(str(start), periods=len(values), freq="Y"))


def load_forecasting_series():
    """name -> (y, exog or None, season, horizon, kind)."""
    import pmdarima.datasets as pm
    import statsmodels.api as sm

    out = {}
    out["AirPassengers"] = (_monthly(pm.load_airpassengers(), "1949-01"), None, 12, 12,
                            "monthly, trend, multiplicative season")
    out["wineind"] = (_monthly(pm.load_wineind(), "1980-01"), None, 12, 12,
                      "monthly, seasonal")
    co2 = sm.datasets.co2.load_pandas().data["co2"]
    co2 = co2.resample("W-SAT").mean().interpolate()
    weekly = pd.Series(co2.to_numpy(), index=pd.date_range(co2.index[0], periods=len(co2),
                                                            freq="W-SAT"))
    out["co2 weekly"] = (weekly, None, 52, 52, "weekly, trend, season")
    taylor = np.asarray(pm.load_taylor(), dtype=float)
    out["taylor"] = (pd.Series(taylor, index=pd.date_range("2000-06-05", periods=len(taylor),
                                                           freq="30min")),
                     None, 48, 48, "half-hourly electricity")
    sun = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    out["sunspots"] = (_yearly(sun, 1700), None, 1, 10, "yearly, cycles, no season")
    nile = sm.datasets.nile.load_pandas().data["volume"].to_numpy()
    out["nile"] = (_yearly(nile, 1871), None, 1, 10, "yearly, level shift")
    out["woolyrnq"] = (_quarterly(pm.load_woolyrnq(), "1965Q1"), None, 4, 8,
                       "quarterly, seasonal")
    beer = np.asarray(pm.load_ausbeer(), dtype=float)
    out["ausbeer"] = (_quarterly(beer[np.isfinite(beer)], "1956Q1"), None, 4, 8,
                      "quarterly, trend, season")
    out["lynx"] = (_yearly(pm.load_lynx(), 1821), None, 1, 10, "yearly, cycles, no season")
    us = _uschange()
    out["uschange"] = (us["Consumption"], us[["Income", "Production", "Unemployment"]], 4, 8,
                       "quarterly growth rates, exogenous regressors")
    return out


def _uschange():
    import aeon

    path = os.path.join(os.path.dirname(aeon.__file__), "datasets", "data", "Uschange",
                        "Uschange.csv")
    frame = pd.read_csv(path, index_col=0)
    frame.index = pd.period_range("1970Q1", periods=len(frame), freq="Q")
    return frame


def lags_for(season, horizon):
    """The benchmark's one rule for the window length: two seasons, or twice the horizon."""
    return 2 * season if season > 1 else max(2 * horizon, 8)


def mase(y_train, y_test, pred, season):
    y_train = np.asarray(y_train, dtype=float)
    scale = np.mean(np.abs(y_train[season:] - y_train[:-season]))
    return float(np.mean(np.abs(np.asarray(y_test) - np.asarray(pred))) / scale)


def smape(y_test, pred):
    y_test, pred = np.asarray(y_test, dtype=float), np.asarray(pred, dtype=float)
    return float(100 * np.mean(2 * np.abs(pred - y_test) / (np.abs(y_test) + np.abs(pred))))


def statistical_forecasts(y_train, exog_train, exog_test, season, horizon):
    """name -> (forecast, seconds): seasonal naive and statsforecast's automatic models."""
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    values = y_train.to_numpy(dtype=float)
    out = {}
    start = time.perf_counter()
    reps = int(np.ceil(horizon / season))
    out["seasonal naive"] = (np.tile(values[-season:], reps)[:horizon],
                             time.perf_counter() - start)
    # ETS takes seasons up to 24 (statsforecast, as R's forecast); a seasonal ARIMA of a
    # season of 48 or 52 takes tens of minutes on thousands of points, so it sees the last
    # ten seasons (what its users do with high-frequency data)
    long_season = season > 24
    models = {"AutoETS": AutoETS(season_length=1 if long_season else season),
              "AutoARIMA": AutoARIMA(season_length=season),
              "AutoTheta": AutoTheta(season_length=season)}
    for name, model in models.items():
        start = time.perf_counter()
        data = values[-10 * season:] if name == "AutoARIMA" and long_season else values
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if name == "AutoARIMA" and exog_train is not None:
                    fitted = model.fit(data, X=exog_train.to_numpy(dtype=float)[-len(data):])
                    pred = fitted.predict(horizon, X=exog_test.to_numpy(dtype=float))["mean"]
                else:
                    pred = model.fit(data).predict(horizon)["mean"]
        except Exception as exc:  # noqa: BLE001 - a baseline that fails is reported, not fatal
            print(f"  {name} failed: {exc}", flush=True)
            pred = np.full(horizon, np.nan)
        out[name] = (np.asarray(pred, dtype=float), time.perf_counter() - start)
    return out


def run_forecasting(seeds, names, forecaster_params):
    series = load_forecasting_series()
    rows = []
    for name in names:
        y, exog, season, horizon, kind = series[name]
        y_train, y_test = y.iloc[:-horizon], y.iloc[-horizon:]
        exog_train = exog_test = None
        if exog is not None:
            exog_train, exog_test = exog.iloc[:-horizon], exog.iloc[-horizon:]
        lags = lags_for(season, horizon)
        row = {"series": name, "kind": kind, "n": len(y_train), "h": horizon, "lags": lags}
        scores, seconds = [], []
        for seed in seeds:
            start = time.perf_counter()
            model = LSTMForecaster(lags, horizon, random_state=seed, **forecaster_params)
            model.fit(y_train, exog=exog_train)
            pred = model.predict(exog=exog_test).to_numpy()
            seconds.append(time.perf_counter() - start)
            scores.append((mase(y_train, y_test, pred, season), smape(y_test, pred)))
        scores = np.array(scores)
        row["ours MASE"] = float(np.median(scores[:, 0]))
        row["ours sMAPE"] = float(np.median(scores[:, 1]))
        row["ours s"] = float(np.median(seconds))
        best = np.inf
        for label, (pred, secs) in statistical_forecasts(y_train, exog_train, exog_test, season,
                                                          horizon).items():
            row[f"{label} MASE"] = mase(y_train, y_test, pred, season)
            row[f"{label} sMAPE"] = smape(y_test, pred)
            row[f"{label} s"] = secs
            if label != "seasonal naive" and np.isfinite(row[f"{label} MASE"]):
                best = min(best, row[f"{label} MASE"])
        row["beats snaive"] = row["ours MASE"] < row["seasonal naive MASE"]
        row["<= best stat"] = row["ours MASE"] <= best * 1.0
        print(f"{name}: ours MASE {row['ours MASE']:.3f} (seeds {np.round(scores[:, 0], 3)}), "
              f"snaive {row['seasonal naive MASE']:.3f}, best stat {best:.3f}, "
              f"{row['ours s']:.1f}s", flush=True)
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------- development series
def run_electricity(seeds):
    """The accuracy issue's case: half-hourly demand (pmdarima's taylor), 48 lags, 48 steps,
    its explicit network; MAE over the last seven days (one forecast a day), the default
    recipes against plain global standard scaling and the other single recipes."""
    y = load_forecasting_series()["taylor"][0]
    n, test = len(y), 48 * 7
    recipes = {
        "defaults (recipes chosen by evidence)": {},
        "plain standard scaling": dict(transform=None, differentiation=0,
                                       normalize_windows=False),
        "window centring": dict(transform=None, differentiation=0, normalize_windows=True),
        "one difference": dict(transform=None, differentiation=1, normalize_windows=False),
    }
    rows = []
    for label, params in recipes.items():
        errors, seconds, kept = [], [], None
        for seed in seeds:
            start = time.perf_counter()
            model = LSTMForecaster(48, 48, LSTMRegressor(units=32, epochs=20, batch_size=32,
                                                         learning_rate=3e-3),
                                   random_state=seed, **params).fit(y.iloc[: n - test])
            seconds.append(time.perf_counter() - start)
            errors.append(np.mean([
                np.abs(model.predict(last_window=y.iloc[:o]).to_numpy()
                       - y.iloc[o : o + 48].to_numpy()).mean()
                for o in range(n - test, n - 47, 48)]))
            kept = model.preprocessing_
        rows.append({"preprocessing": label, "MAE": _spread(errors),
                     "recipes kept (last seed)": ", ".join(kept),
                     "fit s": float(np.median(seconds))})
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------- report
def parse_seeds(text):
    """``'0-4'`` -> [0, 1, 2, 3, 4]; ``'0,3'`` -> [0, 3] (the scripts' --seeds)."""
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["classification", "forecasting", "electricity",
                                           "all"], default="all")
    parser.add_argument("--seeds", default="0-4")
    parser.add_argument("--sets", help="comma-separated subset of the sets or series")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--epochs", type=int, help="classification recipe's epochs")
    parser.add_argument("--output", default=os.path.join(HERE, "results", "accuracy.md"))
    args = parser.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    chosen = None if args.sets is None else args.sets.split(",")
    sections = []
    if args.part in ("classification", "all"):
        recipe = dict(RECIPE)
        if args.epochs:
            recipe["epochs"] = args.epochs
        sets = chosen or CLASSIFICATION_SETS
        known = CLASSIFICATION_SETS + HELD_OUT_SETS
        table = run_classification(seeds, [s for s in sets if s in known],
                                   not args.no_torch, recipe)
        sections.append(f"## Classification: accuracy, median (min-max) of seeds {args.seeds}\n\n"
                        f"Recipe: {recipe}, batches shuffled per epoch.\n\n"
                        + table.to_markdown(index=False, floatfmt=".3f"))
    if args.part in ("forecasting", "all"):
        names = list(load_forecasting_series())
        if chosen:
            names = [n for n in names if n in chosen]
        table = run_forecasting(seeds, names, {})
        sections.append(f"## Forecasting: last horizon held out, median of seeds {args.seeds}\n\n"
                        + table.to_markdown(index=False, floatfmt=".3f"))
    if args.part == "electricity":
        table = run_electricity(seeds)
        sections.append(f"## Half-hourly electricity, lags 48, steps 48, seeds {args.seeds}\n\n"
                        + table.to_markdown(index=False, floatfmt=".1f"))
    text = "\n\n".join(sections)
    print(text)
    if args.output:
        os.makedirs(os.path.dirname(args.output), exist_ok=True)
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        command = " ".join(argv or sys.argv[1:])
        with open(args.output, "w") as fh:
            fh.write(f"# Accuracy benchmark ({stamp})\n\n"
                     f"Command: `python benchmarks/accuracy.py {command}`\n\n{text}\n")


if __name__ == "__main__":
    main()
