"""Walk-forward evaluation of a forecaster, and the forecast-error metrics."""

from functools import partial
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import clone

from .parallel import parallel_map

__all__ = ["backtest", "fit_each_series", "METRICS"]


def _mae(y_true, y_pred):
    return float(np.mean(np.abs(y_true - y_pred)))


def _rmse(y_true, y_pred):
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def _mape(y_true, y_pred):
    """Mean absolute percentage error, in percent (zeros of y_true are skipped)."""
    nonzero = y_true != 0
    if not nonzero.any():
        return float("nan")
    return float(100 * np.mean(np.abs((y_true - y_pred)[nonzero] / y_true[nonzero])))


def _smape(y_true, y_pred):
    """Symmetric MAPE, in percent, as in the M competitions (0/0 counts as 0)."""
    denominator = np.abs(y_true) + np.abs(y_pred)
    ratio = np.divide(2 * np.abs(y_pred - y_true), denominator,
                      out=np.zeros_like(denominator, dtype=float), where=denominator > 0)
    return float(100 * np.mean(ratio))


METRICS = {"mae": _mae, "rmse": _rmse, "mape": _mape, "smape": _smape, "mase": None}


def _metric_functions(metrics):
    out = {}
    for metric in [metrics] if isinstance(metrics, str) or callable(metrics) else metrics:
        if callable(metric):
            out[getattr(metric, "__name__", repr(metric))] = metric
        elif metric in METRICS:
            out[metric] = METRICS[metric]
        else:
            raise ValueError(
                f"metrics must hold names among {sorted(METRICS)} or callables "
                f"f(y_true, y_pred); got {metric!r}."
            )
    return out


def _naive_mae(history, season):
    """In-sample MAE of the seasonal naive forecast: MASE's denominator."""
    if history.size <= season:
        return float("nan")
    scale = float(np.mean(np.abs(history[season:] - history[:-season])))
    return scale if scale > 0 else float("nan")


def _run_group(group, forecaster, panel, exog, alpha, shortest, need):
    """Fit once, then forecast each fold of ``group``: one task of a backtest."""
    fit_date, folds = group
    train = [(s, panel.indexes[s] < fit_date) for s in range(len(panel))]
    train = [(s, mask) for s, mask in train if mask.sum() >= shortest]
    if not train:
        return []
    ids = [panel.ids[s] for s, _ in train]
    y = panel.rebuild([panel.values[s][m] for s, m in train],
                      [panel.indexes[s][m] for s, m in train], ids)
    past = None
    if exog is not None:
        past = {panel.ids[s]: exog[s][m] for s, m in train}
    model = clone(forecaster).fit(y, exog=past)
    frames = []
    for fold, date, horizon in folds:
        rows = []
        for s, _ in train:
            history = panel.indexes[s] < date
            future = (~history).sum()
            if history.sum() >= need and future > 0:
                rows.append((s, history, min(horizon, int(future))))
        # series whose data end inside the fold are forecast for what is left of them
        for steps in sorted({h for _, _, h in rows}):
            group = [(s, m) for s, m, h in rows if h == steps]
            window = panel.rebuild([panel.values[s][m][-need:] for s, m in group],
                                   [panel.indexes[s][m][-need:] for s, m in group],
                                   [panel.ids[s] for s, _ in group])
            future_exog = None
            if exog is not None:
                future_exog = {panel.ids[s]: exog[s][~m].iloc[:steps] for s, m in group}
            if alpha is None:
                pred = model.predict(steps, exog=future_exog, last_window=window)
            else:
                pred = model.predict_interval(steps, exog=future_exog, last_window=window,
                                              alpha=alpha)
            for s, _ in group:
                frame = _series_forecast(pred, panel, panel.ids[s]).copy()
                frame.insert(0, "series", panel.ids[s])
                frame["fold"] = fold
                frames.append(frame)
    return frames


def _series_forecast(pred, panel, key):
    """Series ``key``'s forecast (a frame with 'pred', ...) out of any output shape."""
    if isinstance(pred, dict):
        pred = pred[key]
    if panel.kind == "long":
        part = pred[pred[panel.names[0]] == key] if panel.names[2] else pred.xs(key, level=0)
        if panel.names[2]:
            part = part.drop(columns=[panel.names[0]]).set_index(panel.names[1])
        return part
    if isinstance(pred, pd.Series):
        return pred.rename("pred").to_frame()
    if panel.kind == "wide" and "series" in pred.columns:
        return pred[pred["series"] == key].drop(columns=["series"])
    if panel.kind == "wide":
        return pred[key].dropna().rename("pred").to_frame()
    return pred


def backtest(forecaster, y, initial_train_size, steps=None, refit=True, exog=None,
             metrics=("mae", "rmse", "mape"), alpha=None, n_jobs=None, season=1,
             verbose=0):
    """Walk-forward evaluation: forecast, move on by ``steps``, forecast again.

    The folds walk along the time line of all the series together (the
    union of their indexes): the first fold trains on what comes before
    position ``initial_train_size`` of that time line and forecasts the next
    ``steps``; each later fold starts ``steps`` later, from all the values
    before it (an expanding window). A series joins the trainings once it has
    ``lags + steps + 1`` values and is forecast once it has a window. The
    forecaster passed in is not changed: clones of it are trained.

    Parameters
    ----------
    forecaster : LSTMForecaster
    y : pandas.Series, pandas.DataFrame or dict
        The whole series, in any shape :meth:`LSTMForecaster.fit` takes.
    initial_train_size : int
        Time steps of the first training (positions of the time line).
    steps : int, default=None
        Time steps forecast per fold; ``None`` uses ``forecaster.steps``.
    refit : bool or int, default=True
        ``True`` retrains before every fold, ``False`` trains once and only
        moves the window, an int ``k`` retrains every ``k`` folds.
    exog : pandas.Series, pandas.DataFrame or dict, default=None
        Exogenous variables, in any shape :meth:`LSTMForecaster.fit` takes.
    metrics : sequence of str or callable, default=('mae', 'rmse', 'mape')
        Names among ``'mae'``, ``'rmse'``, ``'mape'``, ``'smape'`` (in
        percent), ``'mase'`` (scaled by the in-sample MAE of the seasonal
        naive forecast of period ``season`` before the first fold), or
        functions ``f(y_true, y_pred)``.
    alpha : float, default=None
        When given, folds use ``predict_interval(alpha=alpha)`` and the
        metrics add ``coverage`` (the fraction of values inside the
        intervals) and ``width`` (their mean width).
    n_jobs : int, default=None
        Refits run in parallel, each with the folds it forecasts, on the
        active joblib backend (loky, threading or Dask, see
        :func:`skforecast_lstm.parallel.parallel_map`). ``None``: the
        backend's choice (1 outside ``joblib.parallel_config``). Results are
        the same for any ``n_jobs``.
    season : int, default=1
        Seasonal period of ``'mase'``.
    verbose : int, default=0
        Print a line as each training and its folds are done.

    Returns
    -------
    metrics : pandas.DataFrame
        One row per series; with several series a last row ``'mean'``:
        the mean of each metric over the series (coverage over all values).
    predictions : pandas.DataFrame
        Out-of-sample forecasts indexed by date: ``pred`` (``lower`` and
        ``upper`` with ``alpha``) and ``fold``; for many series a ``series``
        column first.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skforecast_lstm import LSTMForecaster, LSTMRegressor, backtest
    >>> t = np.arange(96)
    >>> y = pd.Series(np.sin(2 * np.pi * t / 12), index=pd.RangeIndex(96))
    >>> model = LSTMForecaster(12, 6, LSTMRegressor(units=8, epochs=5), random_state=0)
    >>> scores, pred = backtest(model, y, initial_train_size=72, refit=False)
    >>> list(scores.columns), len(pred), int(pred["fold"].max())
    (['mae', 'rmse', 'mape'], 24, 3)
    """
    from ._panel import as_exog, as_panel

    functions = _metric_functions(metrics)
    panel = as_panel(y, "y")
    calendar = panel.indexes[0]
    for index in panel.indexes[1:]:
        if not index.equals(calendar):
            calendar = calendar.union(index)
    n = len(calendar)
    if (isinstance(initial_train_size, bool) or not isinstance(initial_train_size, Integral)
            or not 0 < initial_train_size < n):
        raise ValueError(
            f"initial_train_size must be an int between 1 and the length of the time line "
            f"- 1 = {n - 1}; got {initial_train_size!r}."
        )
    steps = forecaster.steps if steps is None else steps
    if isinstance(steps, bool) or not isinstance(steps, Integral) or steps < 1:
        raise ValueError(f"steps must be a positive int; got {steps!r}.")
    if isinstance(refit, bool):
        every = 1 if refit else 0
    elif isinstance(refit, Integral) and refit >= 1:
        every = int(refit)
    else:
        raise ValueError(f"refit must be True, False or a positive int; got {refit!r}.")
    if alpha is not None and (not isinstance(alpha, Real) or not 0 < alpha < 1):
        raise ValueError(f"alpha must be None or a float in (0, 1); got {alpha!r}.")
    if isinstance(season, bool) or not isinstance(season, Integral) or season < 1:
        raise ValueError(f"season must be a positive int; got {season!r}.")
    exog_frames = None
    if exog is not None:
        values, columns = as_exog(exog, panel, "exog")
        exog_frames = [pd.DataFrame(v, index=ix, columns=columns)
                       for v, ix in zip(values, panel.indexes)]

    lags = int(forecaster.lags)
    shortest = lags + int(forecaster.steps) + 1
    need = lags + (0 if forecaster.differentiation in (0, None) else 1)
    # a group is one training (at its first fold's origin) and the folds it forecasts
    groups = []
    for fold, origin in enumerate(range(initial_train_size, n, steps)):
        date = calendar[origin]
        if not groups or (every and fold % every == 0):
            groups.append((date, []))
        groups[-1][1].append((fold, date, min(steps, n - origin)))
    task = partial(_run_group, forecaster=forecaster, panel=panel, exog=exog_frames,
                   alpha=alpha, shortest=shortest, need=need)
    results = []
    for done, frames in enumerate(parallel_map(task, groups, n_jobs=n_jobs), start=1):
        results.extend(frames)
        if verbose:
            print(f"backtest: training {done}/{len(groups)} and its folds done")
    if not results:
        raise ValueError(
            f"No fold could be forecast: no series has {shortest} values before position "
            f"{initial_train_size} of the time line."
        )
    predictions = pd.concat(results)
    first = calendar[initial_train_size]

    rows, pooled = {}, []
    for s, key in enumerate(panel.ids):
        part = predictions[predictions["series"] == key]
        if part.empty:
            continue
        truth = pd.Series(panel.values[s], index=panel.indexes[s]).loc[part.index].to_numpy()
        pred = part["pred"].to_numpy()
        history = panel.values[s][panel.indexes[s] < first]
        row = {}
        for name, func in functions.items():
            if func is None:  # MASE
                row[name] = _mae(truth, pred) / _naive_mae(history, season)
            else:
                row[name] = func(truth, pred)
        if alpha is not None:
            lower, upper = part["lower"].to_numpy(), part["upper"].to_numpy()
            inside = (truth >= lower) & (truth <= upper)
            pooled.append(inside)
            row["coverage"] = float(np.mean(inside))
            row["width"] = float(np.mean(upper - lower))
        rows[key] = row
    scores = pd.DataFrame.from_dict(rows, orient="index")
    if len(panel) > 1:
        mean = scores.mean(axis=0)
        if alpha is not None:
            mean["coverage"] = float(np.mean(np.concatenate(pooled)))
        scores.loc["mean"] = mean
    else:
        predictions = predictions.drop(columns=["series"])
    return scores, predictions


def _fit_one(column, forecaster, y, exog):
    return clone(forecaster).fit(y[column], exog=exog)


def fit_each_series(forecaster, y, exog=None, n_jobs=None):
    """Fit one forecaster per series (local models), in parallel on the active joblib backend.

    ``LSTMForecaster.fit`` on a DataFrame trains one global model on all its
    columns; this trains an independent clone on each column instead, each
    task seeded by the forecaster's ``random_state``, so that many series fan
    out over the cores, or over a Dask cluster inside
    ``joblib.parallel_config(backend="dask")``. Results are the same for any
    ``n_jobs`` and backend.

    Parameters
    ----------
    forecaster : LSTMForecaster
        Cloned for each series; not changed.
    y : pandas.DataFrame
        One column per series.
    exog : pandas.Series or pandas.DataFrame, default=None
        Exogenous variables shared by all series, on the index of ``y``.
    n_jobs : int, default=None
        Fits run at once (see :func:`skforecast_lstm.parallel.parallel_map`).

    Returns
    -------
    dict
        The fitted forecaster of each column, by column name.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skforecast_lstm import LSTMForecaster, LSTMRegressor, fit_each_series
    >>> t = np.arange(60)
    >>> y = pd.DataFrame({"a": np.sin(t / 3), "b": np.cos(t / 4)})
    >>> model = LSTMForecaster(8, 3, LSTMRegressor(units=4, epochs=2), random_state=0)
    >>> fitted = fit_each_series(model, y, n_jobs=2)
    >>> sorted(fitted), len(fitted["a"].predict())
    (['a', 'b'], 3)
    """
    if not isinstance(y, pd.DataFrame):
        raise TypeError(
            f"y must be a pandas DataFrame with one column per series; got {type(y).__name__}."
        )
    task = partial(_fit_one, forecaster=forecaster, y=y, exog=exog)
    columns = list(y.columns)
    return dict(zip(columns, parallel_map(task, columns, n_jobs=n_jobs)))
