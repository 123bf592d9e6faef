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


METRICS = {"mae": _mae, "rmse": _rmse, "mape": _mape}


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


def _fold_frame(pred, name, was_frame):
    """Long-format frame of one fold's forecast."""
    if isinstance(pred, pd.Series):
        return pred.to_frame()
    if "series" in pred.columns or not was_frame:
        return pred
    frames = [pd.DataFrame({"series": c, "pred": pred[c]}, index=pred.index) for c in pred]
    return pd.concat(frames)


def _run_group(group, forecaster, y, exog, alpha, was_frame):
    """Fit once, then forecast each fold of ``group``: one task of a backtest."""
    fit_origin, folds = group
    past_exog = None if exog is None else exog.iloc[:fit_origin]
    model = clone(forecaster).fit(y.iloc[:fit_origin], exog=past_exog)
    frames = []
    for fold, origin, horizon in folds:
        future_exog = None if exog is None else exog.iloc[origin : origin + horizon]
        if alpha is None:
            pred = model.predict(horizon, exog=future_exog, last_window=y.iloc[:origin])
        else:
            pred = model.predict_interval(horizon, exog=future_exog,
                                          last_window=y.iloc[:origin], alpha=alpha)
        frame = _fold_frame(pred, y.name if not was_frame else None, was_frame)
        frame["fold"] = fold
        frames.append(frame)
    return frames


def backtest(forecaster, y, initial_train_size, steps=None, refit=True, exog=None,
             metrics=("mae", "rmse", "mape"), alpha=None, n_jobs=None):
    """Walk-forward evaluation: forecast, move on by ``steps``, forecast again.

    The first fold trains on the first ``initial_train_size`` rows and
    forecasts the next ``steps``; each later fold starts ``steps`` rows later,
    from all the values before it (an expanding window). The forecaster
    passed in is not changed: clones of it are trained.

    Parameters
    ----------
    forecaster : LSTMForecaster
    y : pandas.Series or pandas.DataFrame
        The whole series (or one column per series).
    initial_train_size : int
        Rows of the first training set.
    steps : int, default=None
        Rows forecast per fold; ``None`` uses ``forecaster.steps``.
    refit : bool or int, default=True
        ``True`` retrains before every fold, ``False`` trains once and only
        moves the window, an int ``k`` retrains every ``k`` folds.
    exog : pandas.Series or pandas.DataFrame, default=None
        Exogenous variables on the index of ``y``.
    metrics : sequence of str or callable, default=('mae', 'rmse', 'mape')
        Names among ``'mae'``, ``'rmse'``, ``'mape'`` (in percent), or
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

    Returns
    -------
    metrics : pandas.DataFrame
        One row per series.
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
    functions = _metric_functions(metrics)
    if not isinstance(y, (pd.Series, pd.DataFrame)):
        raise TypeError(f"y must be a pandas Series or DataFrame; got {type(y).__name__}.")
    n = len(y)
    if (isinstance(initial_train_size, bool) or not isinstance(initial_train_size, Integral)
            or not 0 < initial_train_size < n):
        raise ValueError(
            f"initial_train_size must be an int between 1 and len(y) - 1 = {n - 1}; "
            f"got {initial_train_size!r}."
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
    if exog is not None and len(exog) != n:
        raise ValueError(f"exog has {len(exog)} rows and y {n}; give exog on the index of y.")

    was_frame = isinstance(y, pd.DataFrame)
    # a group is one training (at its first fold's origin) and the folds it forecasts
    groups = []
    for fold, origin in enumerate(range(initial_train_size, n, steps)):
        if not groups or (every and fold % every == 0):
            groups.append((origin, []))
        groups[-1][1].append((fold, origin, min(steps, n - origin)))
    task = partial(_run_group, forecaster=forecaster, y=y, exog=exog, alpha=alpha,
                   was_frame=was_frame)
    results = parallel_map(task, groups, n_jobs=n_jobs)
    predictions = pd.concat([frame for frames in results for frame in frames])

    names = list(y.columns) if was_frame else [y.name if y.name is not None else "y"]
    rows = {}
    for name in names:
        part = predictions[predictions["series"] == name] if was_frame else predictions
        truth = (y[name] if was_frame else y).loc[part.index].to_numpy(dtype=float)
        pred = part["pred"].to_numpy()
        row = {metric: func(truth, pred) for metric, func in functions.items()}
        if alpha is not None:
            lower, upper = part["lower"].to_numpy(), part["upper"].to_numpy()
            row["coverage"] = float(np.mean((truth >= lower) & (truth <= upper)))
            row["width"] = float(np.mean(upper - lower))
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index"), predictions


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
