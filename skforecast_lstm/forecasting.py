"""LSTMForecaster: pandas series in, forecasts with future dates and intervals out."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._backtesting import backtest, fit_each_series
from ._estimators import LSTMRegressor
from ._preprocessing import SeriesTransform, candidate_recipes
from ._time_index import check_exog_index, describe_range, future_index, index_frequency
from ._windows import (
    check_positive_int,
    decode_outputs,
    encode_inputs,
    encode_targets,
    make_windows,
)

__all__ = ["LSTMForecaster", "backtest", "fit_each_series", "make_windows"]

# Above this many input values (windows x lags x features), training streams
# batches through ``partial_fit`` instead of materialising every window.
MAX_MATERIALISED_VALUES = 2**20
STRATEGIES = ("multi-output", "recursive")


# The default network trains for about this many gradient steps (at most 100 epochs):
# a long series gets fewer epochs over more windows, not 100 of them.
DEFAULT_STEPS = 4000
DEFAULT_MAX_EPOCHS = 100


def default_estimator(n_windows=None):
    """The network a forecaster trains when ``estimator=None``.

    ``LSTMRegressor(units=32, batch_size=32, learning_rate=0.005)`` for 100
    epochs, or for about 4,000 gradient steps when ``n_windows`` makes 100
    epochs more than that (never fewer than 10 epochs).
    """
    epochs = DEFAULT_MAX_EPOCHS
    if n_windows is not None:
        batches = max(1, int(np.ceil(n_windows / 32)))
        epochs = int(np.clip(np.ceil(DEFAULT_STEPS / batches), 10, DEFAULT_MAX_EPOCHS))
    return LSTMRegressor(units=32, epochs=epochs, batch_size=32, learning_rate=0.005)


def _series_frame(y, name):
    """``y`` as (values (n, S), index, column names, was_frame); clear errors."""
    if isinstance(y, pd.Series):
        frame = y.to_frame(name=y.name if y.name is not None else "y")
        was_frame = False
    elif isinstance(y, pd.DataFrame):
        frame = y
        was_frame = True
        if frame.shape[1] == 0:
            raise ValueError(f"{name} is a DataFrame without columns; pass one column per series.")
    else:
        raise TypeError(
            f"{name} must be a pandas Series (one series) or DataFrame (one column per "
            f"series); got {type(y).__name__}."
        )
    non_numeric = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])
                   or pd.api.types.is_bool_dtype(frame[c])]
    if non_numeric:
        raise TypeError(f"{name} must hold numbers; columns {non_numeric} do not "
                        f"(dtypes {[str(frame[c].dtype) for c in non_numeric]}).")
    values = frame.to_numpy(dtype=np.float64, copy=True)
    if not np.isfinite(values).all():
        bad = frame.index[~np.isfinite(values).all(axis=1)]
        raise ValueError(
            f"{name} has missing or infinite values at {list(bad[:5])}"
            f"{' ...' if len(bad) > 5 else ''}; fill or drop them first."
        )
    return values, frame.index, list(frame.columns), was_frame


def _exog_frame(exog, name):
    if isinstance(exog, pd.Series):
        return exog.to_frame(name=exog.name if exog.name is not None else "exog")
    if isinstance(exog, pd.DataFrame):
        return exog
    raise TypeError(f"{name} must be a pandas Series or DataFrame; got {type(exog).__name__}.")


class LSTMForecaster(BaseEstimator):
    """Forecast pandas time series with LSTMs, several steps ahead.

    Networks are trained on sliding windows of ``lags`` past values of one or
    many series (one global model per recipe). Raw series, trending or
    multiplicatively seasonal, can be passed as they are: with the default
    settings the forecaster trains one network per preprocessing recipe --
    one difference, plain standard scaling, each window centred on its mean,
    and for positive series the log with centring or with a difference -- and
    forecasts the median of their forecasts. No single recipe wins on every
    kind of series (see ``benchmarks/accuracy.py``), and the median of several
    is never far from the best of them; each transform is undone on the way
    out.

    Parameters
    ----------
    lags : int
        Past values the network reads per forecast.
    steps : int
        Forecast horizon: the default number of steps predicted, and for the
        ``'multi-output'`` strategy the width of the network's output.
    estimator : LSTMRegressor, default=None
        The network to train (a clone of it per recipe). ``None`` uses
        ``LSTMRegressor(units=32, batch_size=32, learning_rate=0.005)`` for
        100 epochs, or about 4,000 gradient steps on a long series (at least
        10 epochs).
    strategy : {'multi-output', 'recursive'}, default='multi-output'
        ``'multi-output'``: the network predicts all ``steps`` at once.
        ``'recursive'``: a one-step network is fed its own predictions.
    transform : {'auto', 'log', None}, default='auto'
        ``'log'`` takes the log of every series (they must be positive),
        ``None`` of none; ``'auto'`` combines recipes with and without.
    differentiation : {'auto', 0, 1, None}, default='auto'
        ``1`` differences every series once, ``0``/``None`` never; ``'auto'``
        combines recipes with and without.
    normalize_windows : {'auto', True, False}, default='auto'
        Centre each input window, and its targets, on the window's mean;
        ``'auto'`` combines recipes with and without. Setting all three
        picks one recipe and trains one network.
    quantiles : array-like of float, default=None
        Train the network with the pinball loss for these quantiles (e.g.
        ``[0.05, 0.5, 0.95]``; ``'multi-output'`` only). :meth:`predict`
        then returns the quantile nearest 0.5, and
        ``predict_interval(method='quantile')`` the quantiles ``alpha / 2``
        and ``1 - alpha / 2``.
    calibration_size : float, default=0.2
        Fraction of each series' last forecast origins held out to calibrate
        conformal intervals (see :meth:`predict_interval`).
    device : {'cpu', 'cuda', 'auto'}, default=None
        When not None, replaces the estimator's ``device`` (see
        :class:`LSTMRegressor`).
    random_state : int, RandomState instance or None, default=None
        When not None, replaces the estimator's ``random_state``: the same
        seed gives identical forecasts.

    Attributes
    ----------
    estimators_ : list of LSTMRegressor
        The trained networks, one per recipe.
    estimator_ : LSTMRegressor
        The first of them.
    preprocessing_ : list of str
        The recipes of ``estimators_``: ``'difference'``, ``'standard'``,
        ``'window'``, ``'log + window'``, ``'log + difference'`` (the log
        ones only for positive series), or ``'fixed'``.
    series_names_ : list
        Names of the series (``y.name``, or the DataFrame's columns).
    frequency_ : pandas offset or int
        Frequency of the index (the step of a RangeIndex).
    last_window_ : pandas.Series or pandas.DataFrame
        The last values of ``y`` seen in fit, from which :meth:`predict`
        starts.
    exog_names_ : list or None
        Columns of ``exog`` in fit.
    conformal_scores_ : ndarray of shape (n_calibration, steps) or None
        Absolute out-of-sample errors per horizon step, divided by each
        series' mean absolute change, computed at the first conformal
        :meth:`predict_interval`.

    See Also
    --------
    backtest : Walk-forward evaluation.
    make_windows : The windows, for use with a plain :class:`LSTMRegressor`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skforecast_lstm import LSTMForecaster, LSTMRegressor
    >>> t = np.arange(120)
    >>> y = pd.Series(10 + 0.1 * t + np.sin(2 * np.pi * t / 12),
    ...               index=pd.date_range("2000-01", periods=120, freq="MS"))
    >>> model = LSTMForecaster(lags=24, steps=6, random_state=0,
    ...                        estimator=LSTMRegressor(units=8, epochs=20))
    >>> pred = model.fit(y).predict()
    >>> pred.index[0], pred.name, len(pred)
    (Timestamp('2010-01-01 00:00:00'), 'pred', 6)
    """

    def __init__(
        self,
        lags,
        steps,
        estimator=None,
        *,
        strategy="multi-output",
        transform="auto",
        differentiation="auto",
        normalize_windows="auto",
        quantiles=None,
        calibration_size=0.2,
        device=None,
        random_state=None,
    ):
        self.lags = lags
        self.steps = steps
        self.estimator = estimator
        self.strategy = strategy
        self.transform = transform
        self.differentiation = differentiation
        self.normalize_windows = normalize_windows
        self.quantiles = quantiles
        self.calibration_size = calibration_size
        self.device = device
        self.random_state = random_state

    # ------------------------------------------------------------ parameters
    def _check_params(self):
        check_positive_int(self.lags, "lags")
        check_positive_int(self.steps, "steps")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}; got {self.strategy!r}.")
        if self.transform not in ("auto", "log", None):
            raise ValueError(f"transform must be 'auto', 'log' or None; got {self.transform!r}.")
        if not (self.differentiation in ("auto", None) or (
            isinstance(self.differentiation, Integral) and self.differentiation in (0, 1)
        )):
            raise ValueError(
                f"differentiation must be 'auto', 0, 1 or None; got {self.differentiation!r}."
            )
        if self.normalize_windows not in ("auto", True, False):
            raise ValueError(
                f"normalize_windows must be 'auto', True or False; got {self.normalize_windows!r}."
            )
        if not isinstance(self.calibration_size, Real) or not 0 < self.calibration_size < 1:
            raise ValueError(
                f"calibration_size must be a float in (0, 1); got {self.calibration_size!r}."
            )
        if self.quantiles is not None and self.strategy != "multi-output":
            raise ValueError(
                "quantiles need strategy='multi-output' (quantiles of a recursive forecast "
                "are not the quantiles of its steps); use conformal intervals instead."
            )
        if self.estimator is not None and not (
            hasattr(self.estimator, "fit") and hasattr(self.estimator, "predict")
        ):
            raise TypeError(
                f"estimator must be a regressor with fit and predict, such as LSTMRegressor; "
                f"got {type(self.estimator).__name__}."
            )

    def _model_steps(self):
        return self.steps if self.strategy == "multi-output" else 1

    def _new_estimator(self, n_windows=None):
        if self.estimator is not None:
            estimator = clone(self.estimator)
        else:
            estimator = default_estimator(n_windows)
        params = estimator.get_params()
        if self.random_state is not None:
            estimator.set_params(random_state=self.random_state)
        # forwarded parameters: the forecaster's value, when given, replaces the estimator's
        for name, value in (("device", self.device), ("quantiles", self.quantiles)):
            if value is None:
                continue
            if name not in params:
                raise ValueError(
                    f"{name} needs an estimator with a {name!r} parameter such as "
                    f"LSTMRegressor; {type(estimator).__name__} has none."
                )
            estimator.set_params(**{name: value})
        return estimator

    def _normalize(self, series):
        return self._centring[series]

    def _dtype(self, estimator):
        return np.dtype(getattr(estimator, "dtype", "float64"))

    # ------------------------------------------------------------ fit
    def fit(self, y, exog=None):
        """Train the network on windows of ``y`` (and ``exog``).

        Parameters
        ----------
        y : pandas.Series or pandas.DataFrame
            One series, or one column per series (one global model). The
            index is a DatetimeIndex or PeriodIndex with a frequency, or a
            RangeIndex.
        exog : pandas.Series or pandas.DataFrame, default=None
            Exogenous variables on the same index as ``y``; their future
            values are then needed by :meth:`predict`.

        Returns
        -------
        self : LSTMForecaster
        """
        for attr in ("estimator_", "conformal_scores_", "_calibration_model"):
            self.__dict__.pop(attr, None)
        self._check_params()
        values, index, names, was_frame = _series_frame(y, "y")
        freq = index_frequency(index, "y")
        lags = int(self.lags)
        exog_values = None
        self.exog_names_ = None
        if exog is not None:
            frame = _exog_frame(exog, "exog")
            check_exog_index(frame.index, index, "exog", f"y (index {describe_range(index)})")
            if len(frame.index) != len(index):
                raise ValueError(
                    f"exog must have the same index as y: y is {describe_range(index)}, "
                    f"exog is {describe_range(frame.index)}."
                )
            exog_values, _, self.exog_names_, _ = _series_frame(frame, "exog")
        if values.shape[0] < lags + self.steps + 1:  # before any statistics of y
            raise ValueError(
                f"y has {values.shape[0]} rows; lags={lags} and steps={self.steps} need at "
                f"least {lags + self.steps + 1}."
            )
        if exog_values is not None:
            self._exog_center = exog_values.mean(axis=0)
            spread = exog_values.std(axis=0)
            self._exog_scale = np.where(spread > 0, spread, 1.0)
            exog_values = (exog_values - self._exog_center) / self._exog_scale
        self._exog_u = exog_values
        self.series_names_ = names
        self._was_frame = was_frame
        self.frequency_ = freq
        self.n_series_ = values.shape[1]

        recipes = self._recipes(values)
        self._y_scale = _naive_scale(values)
        self.last_window_ = y.iloc[-(lags + max(r.order for r in recipes)):].copy()
        members = []
        for recipe in recipes:
            self._prepare(values, recipe)
            members.append(_Member(recipe, self._transform, self._z, self._u, self._centring,
                                   None))
        self.conformal_scores_ = None
        self.validation_scores_ = None
        keep = np.ones((len(members), self.n_series_), dtype=bool)
        if len(members) > 1:
            # evidence: every recipe forecasts the held-out origins
            holdouts = self._holdouts(members)
            if holdouts is not None:
                keep = self._indistinguishable(holdouts)
                self.validation_scores_ = pd.DataFrame(
                    [[np.abs(f - t)[series == s].mean() for s in range(self.n_series_)]
                     for series, f, t in holdouts],
                    index=[m.recipe.name for m in members], columns=self.series_names_,
                ).T
                self.conformal_scores_ = self._scores(holdouts, keep)
        used = np.flatnonzero(keep.any(axis=1))
        self._members = [members[k] for k in used]
        self._keep = keep[used]
        for member in self._members:
            self._use(member)
            sources = self._sources(self._model_steps())
            member.estimator = self._train(sources,
                                           [np.arange(len(src[1])) for src in sources])
        self.preprocessing_ = [member.recipe.name for member in self._members]
        self.estimators_ = [member.estimator for member in self._members]
        self.estimator_ = self.estimators_[0]
        return self

    def _holdouts(self, members):
        """Per member, its held-out forecasts on the series' scale (None: too short)."""
        out = []
        for member in members:
            self._use(member)
            try:
                series, levels, truth = self._holdout()
            except ValueError:  # too short to hold origins out: combine every recipe
                return None
            out.append((series, _original_units(member.transform, levels, series),
                        _original_units(member.transform, truth, series)))
        return out

    def _indistinguishable(self, holdouts):
        """Per series, the recipes whose held-out error is not clearly above the best one's.

        The mean absolute errors of non-overlapping held-out forecasts (origins
        ``steps`` apart) are compared with the best recipe's, paired by origin:
        a recipe is dropped when its excess error is more than two standard
        errors above zero. Few origins (a short series) drop nothing; many (a
        long series) drop all but the recipes that are as good as the best.
        """
        series = holdouts[0][0]
        errors = np.stack([np.abs(f - t).mean(axis=1) for _, f, t in holdouts])
        keep = np.ones((len(holdouts), self.n_series_), dtype=bool)
        for s in range(self.n_series_):
            rows = np.flatnonzero(series == s)[:: int(self.steps)]
            if rows.size < 2:
                continue
            e = errors[:, rows]
            excess = e - e[np.argmin(e.mean(axis=1))]
            spread = excess.std(axis=1, ddof=1) / np.sqrt(rows.size)
            keep[:, s] = excess.mean(axis=1) <= 2 * spread
        return keep

    def _scores(self, holdouts, keep):
        """Conformal scores: errors of the combined held-out forecasts, per series' scale."""
        series, _, truth = holdouts[0]
        combined = _combine([f for _, f, _ in holdouts], keep[:, series])
        return np.abs(truth - combined) / self._y_scale[series][:, None]

    def _recipes(self, values):
        """The candidate recipes the settings allow, with their per-series log flags."""
        positive = np.all(values > 0, axis=0)
        if self.transform == "log" and not positive.all():
            bad = [self.series_names_[s] for s in np.flatnonzero(~positive)]
            raise ValueError(
                f"transform='log' needs positive series; {bad} have values <= 0. Use "
                "transform=None or 'auto'."
            )
        out, seen = [], set()
        for recipe in candidate_recipes(self.transform, self.differentiation,
                                        self.normalize_windows):
            log = recipe.log & positive  # no log for a series with values <= 0
            key = (log.tobytes(), recipe.order, recipe.centring)
            if key not in seen:
                seen.add(key)
                out.append(recipe._replace(log=log))
        return out

    def _prepare(self, values, recipe):
        """Fit the transforms of ``recipe`` and make them the current member's."""
        transform = SeriesTransform(recipe.log, recipe.order).fit(values)
        shortest = int(self.lags) + self.steps + recipe.order + 1
        if values.shape[0] < shortest:
            raise ValueError(
                f"y has {values.shape[0]} rows; lags={self.lags} and steps={self.steps} "
                f"(plus differencing) need at least {shortest}."
            )
        self._use(_Member(recipe, transform, None, None,
                          np.full(values.shape[1], recipe.centring), None))
        self._z = transform.to_level(values)
        self._u = transform.transform_level(self._z)

    def _use(self, member):
        """Make ``member``'s transforms and data the ones the window methods read."""
        self._transform = member.transform
        self._z, self._u = member.z, member.u
        self._centring = member.centring

    def _sources(self, steps):
        """Window views per series: ``(X, Y, first_origin)``; X holds the values only."""
        out = []
        for s in range(self.n_series_):
            start = int(self._transform.order_[s])
            X, Y = make_windows(self._u[start:, s], self.lags, steps)
            out.append((X, Y, start + int(self.lags) - 1))
        return out

    def _horizon_exog(self, origins, steps):
        """Scaled exog of the ``steps`` values after each origin, (m, steps, n_exog)."""
        offsets = np.asarray(origins)[:, None] + np.arange(1, steps + 1)
        return self._exog_u[offsets]

    def _gather(self, sources, series, windows, dtype):
        lags = int(self.lags)
        raw_x = np.empty((series.size, lags))
        raw_y = np.empty((series.size, sources[0][1].shape[1]))
        origins = np.empty(series.size, dtype=np.int64)
        for s in np.unique(series):
            rows = series == s
            raw_x[rows] = sources[s][0][windows[rows], :, 0]
            raw_y[rows] = sources[s][1][windows[rows]]
            origins[rows] = sources[s][2] + windows[rows]
        future = None
        if self._exog_u is not None:
            future = self._horizon_exog(origins, self._model_steps())
        X, location = encode_inputs(raw_x, series, self.n_series_, self._normalize(series),
                                    dtype, future)
        cumulative = self._transform.order_[series] == 1
        return X, encode_targets(raw_y, location, cumulative, dtype)

    def _train(self, sources, selection):
        """Train a new estimator on the selected windows of each series."""
        series = np.concatenate([np.full(w.size, s) for s, w in enumerate(selection)])
        estimator = self._new_estimator(series.size)
        dtype = self._dtype(estimator)
        windows = np.concatenate(selection)
        if series.size == 0:
            raise ValueError("No complete training window: y is too short for lags and steps.")
        n_exog = 0 if self._exog_u is None else self._exog_u.shape[1]
        n_values = series.size * (int(self.lags) + (n_exog > 0)) * (
            1 + n_exog * self._model_steps() + (self.n_series_ if self.n_series_ > 1 else 0)
        )
        if n_values <= MAX_MATERIALISED_VALUES:
            return estimator.fit(*self._gather(sources, series, windows, dtype))
        if not hasattr(estimator, "partial_fit"):
            raise ValueError(
                f"{series.size} windows are too many to hold at once and "
                f"{type(estimator).__name__} has no partial_fit to learn from batches."
            )
        # Long series: each epoch visits chunks of windows in random order;
        # only one chunk of windows exists in memory at a time.
        rng = check_random_state(estimator.get_params().get("random_state"))
        chunk = max(1, MAX_MATERIALISED_VALUES * series.size // n_values)
        for _ in range(estimator.get_params().get("epochs", 1)):
            order = rng.permutation(series.size)
            for start in range(0, series.size, chunk):
                rows = np.sort(order[start : start + chunk])
                estimator.partial_fit(*self._gather(sources, series[rows], windows[rows], dtype))
        return estimator

    # ------------------------------------------------------------ predict
    def _check_steps(self, steps):
        if steps is None:
            return int(self.steps)
        steps = check_positive_int(steps, "steps")
        if self.strategy == "multi-output" and steps > self.steps:
            raise ValueError(
                f"steps={steps} is more than the horizon the multi-output network was trained "
                f"for (steps={self.steps}); refit with a larger steps or use "
                f"strategy='recursive'."
            )
        return steps

    def _window_values(self, last_window):
        """Raw values of the window a forecast starts from, and its index."""
        need = len(self.last_window_)
        if last_window is None:
            values = self.last_window_.to_numpy(dtype=np.float64).reshape(need, -1)
            return values, self.last_window_.index
        if self._was_frame != isinstance(last_window, pd.DataFrame):
            kind = "DataFrame" if self._was_frame else "Series"
            raise TypeError(f"last_window must be a {kind}, as y was in fit.")
        values, index, names, _ = _series_frame(last_window, "last_window")
        if self._was_frame and names != self.series_names_:
            raise ValueError(
                f"last_window has columns {names}; the forecaster was fit on "
                f"{self.series_names_}."
            )
        if type(index) is not type(self.last_window_.index):
            raise TypeError(
                f"last_window has a {type(index).__name__}; y had a "
                f"{type(self.last_window_.index).__name__}."
            )
        index_frequency(index, "last_window")
        if values.shape[0] < need:
            raise ValueError(
                f"last_window has {values.shape[0]} rows; the forecaster needs the last "
                f"{need} (lags plus differencing)."
            )
        logged = np.any([m.transform.log_ for m in self._members], axis=0)
        if np.any(values[:, logged] <= 0):
            raise ValueError(
                "last_window has values <= 0 in series that were log-transformed in fit."
            )
        return values[-need:], index[-need:]

    def _future_exog(self, exog, index, steps):
        """Scaled future exog of shape (max(steps, model steps), n_exog), or None."""
        horizon = future_index(index, self.frequency_, steps)
        if self.exog_names_ is None:
            if exog is not None:
                raise ValueError("exog was given to predict but the forecaster was fit without.")
            return None, horizon
        if exog is None:
            raise ValueError(
                f"The forecaster was fit with exog {self.exog_names_}: pass their future values "
                f"as exog, covering {describe_range(horizon)}."
            )
        frame = _exog_frame(exog, "exog")
        check_exog_index(frame.index, horizon, "exog",
                         "the forecast horizon (the steps after the last window)")
        missing = [c for c in self.exog_names_ if c not in frame.columns]
        if missing:
            raise ValueError(f"exog lacks the columns {missing} it had in fit.")
        values, _, _, _ = _series_frame(frame[self.exog_names_], "exog")
        rows = max(steps, self._model_steps())
        values = values[:rows]
        if values.shape[0] < rows:  # fewer steps than the network's horizon: repeat the last
            values = np.vstack([values, np.repeat(values[-1:], rows - values.shape[0], axis=0)])
        return (values - self._exog_center) / self._exog_scale, horizon

    def _forecast_levels(self, estimator, u_windows, series, z_last, exog_future, steps):
        """Forecast levels ``z`` of shape (m, steps[, n_quantiles]) from scaled windows.

        ``u_windows`` (m, lags); ``exog_future`` (m, >= steps, n_exog) or None.
        """
        m = u_windows.shape[0]
        dtype = self._dtype(estimator)
        model_steps = self._model_steps()
        raw = np.array(u_windows, dtype=np.float64)
        normalize = self._normalize(series)
        cumulative = self._transform.order_[series] == 1
        if self.strategy == "multi-output":
            future = None if exog_future is None else exog_future[:, :model_steps]
            X, location = encode_inputs(raw, series, self.n_series_, normalize, dtype, future)
            out = np.asarray(estimator.predict(X), dtype=np.float64)
            out = out.reshape(m, model_steps, *out.shape[2:])[:, :steps]
            path = decode_outputs(out, location, cumulative)
        else:
            path = np.empty((m, steps))
            for h in range(steps):
                future = None if exog_future is None else exog_future[:, h : h + 1]
                X, location = encode_inputs(raw, series, self.n_series_, normalize, dtype,
                                            future)
                out = np.asarray(estimator.predict(X), dtype=np.float64).reshape(m)
                path[:, h] = out + location
                raw[:, :-1] = raw[:, 1:]
                raw[:, -1] = path[:, h]
            path = np.where(cumulative[:, None], np.cumsum(path, axis=1), path)
        return self._transform.path_to_level(path, series, z_last)

    def _forecast(self, steps, exog, last_window):
        """Forecasts on the series' own scale, (n_series, steps[, n_quantiles]), and dates.

        Each member network forecasts with its own recipe; the forecast is
        their median, value by value.
        """
        check_is_fitted(self, "estimator_")
        steps = self._check_steps(steps)
        values, index = self._window_values(last_window)
        exog_future, horizon = self._future_exog(exog, index, steps)
        series = np.arange(self.n_series_)
        if exog_future is not None:
            exog_future = np.broadcast_to(exog_future, (self.n_series_, *exog_future.shape))
        forecasts = []
        for member in self._members:
            self._use(member)
            z = member.transform.to_level(values)
            u = member.transform.transform_level(z)[-int(self.lags) :]
            levels = self._forecast_levels(member.estimator, u.T, series, z[-1], exog_future,
                                           steps)
            forecasts.append(_original_units(member.transform, levels, series))
        return _combine(forecasts, self._keep), horizon

    def _median_index(self):
        q = np.sort(np.asarray(self.quantiles, dtype=float))
        return int(np.argmin(np.abs(q - 0.5)))

    def _to_pandas(self, values, horizon):
        """(n_series, steps) to a Series named 'pred' or a DataFrame of series."""
        if self._was_frame:
            return pd.DataFrame(values.T, index=horizon, columns=self.series_names_)
        return pd.Series(values[0], index=horizon, name="pred")

    def predict(self, steps=None, exog=None, last_window=None):
        """Forecast the next ``steps`` values after the last window.

        Parameters
        ----------
        steps : int, default=None
            Number of steps; ``None`` uses the forecaster's ``steps``.
        exog : pandas.Series or pandas.DataFrame, default=None
            Future exogenous values, required when fit had exog: their index
            must start at the first forecast step and cover ``steps`` rows.
        last_window : pandas.Series or pandas.DataFrame, default=None
            Start from these values instead of the end of the training data
            (at least ``lags`` rows, one more when a series is differenced).

        Returns
        -------
        pandas.Series or pandas.DataFrame
            A Series named ``'pred'`` for one series, a DataFrame with one
            column per series for many, indexed by the next ``steps``
            timestamps in the input's index type.
        """
        values, horizon = self._forecast(steps, exog, last_window)
        if values.ndim == 3:
            values = values[:, :, self._median_index()]
        return self._to_pandas(values, horizon)

    # ------------------------------------------------------------ intervals
    def _calibrate(self):
        """Conformal scores of a forecaster that had nothing to choose (one recipe)."""
        holdouts = self._holdouts(self._members)
        if holdouts is None:
            self._use(self._members[0])
            self._holdout()  # raises the too-short error, naming the series
        return self._scores(holdouts, self._keep)

    def _holdout(self):
        """Forecasts of a network trained before the calibration origins, and the truth.

        Returns ``(series, levels, truth)``: the series of each held-out origin
        and the forecast and true levels ``z`` of its ``steps`` next values. The
        origins are the same for every member (differenced or not).
        """
        model_steps = self._model_steps()
        sources = self._sources(model_steps)
        lags, horizon = int(self.lags), int(self.steps)
        n = self._u.shape[0]
        selection, cal_series, cal_origins = [], [], []
        for s, (_, Y, first_origin) in enumerate(sources):
            origins = np.arange(lags, n - horizon)  # lags - 1, plus a difference
            n_cal = int(np.ceil(self.calibration_size * origins.size))
            if origins.size - n_cal < 1:
                raise ValueError(
                    f"Series {self.series_names_[s]!r} is too short to hold out "
                    f"calibration_size={self.calibration_size} of its forecast origins."
                )
            first_cal = origins[-n_cal]
            # train windows whose targets end before the first calibration target
            last_window = first_cal - model_steps - first_origin
            selection.append(np.arange(max(last_window + 1, 0)))
            cal_series.append(np.full(n_cal, s))
            cal_origins.append(origins[-n_cal:])
        model = self._train(sources, selection)
        series = np.concatenate(cal_series)
        origins = np.concatenate(cal_origins)
        u_windows = np.stack([self._u[o - lags + 1 : o + 1, s] for s, o in zip(series, origins)])
        exog_future = None
        if self._exog_u is not None:
            exog_future = np.stack([self._exog_u[o + 1 : o + 1 + horizon] for o in origins])
        z_last = self._z[origins, series]
        levels = self._forecast_levels(model, u_windows, series, z_last, exog_future, horizon)
        if levels.ndim == 3:
            levels = levels[:, :, self._median_index()]
        truth = np.stack([self._z[o + 1 : o + 1 + horizon, s] for s, o in zip(series, origins)])
        return series, levels, truth

    def predict_interval(self, steps=None, exog=None, last_window=None, alpha=0.1,
                         method="auto", levels=None):
        """Forecast with a prediction interval of coverage ``1 - alpha``.

        ``method='conformal'`` gives split-conformal intervals per horizon
        step: each recipe trains a second network on all but the last
        ``calibration_size`` of each series' forecast origins, and the
        absolute errors of their median forecast there (relative to each
        series' mean absolute change) give the half-width of step ``h`` as
        their ``ceil((n + 1)(1 - alpha)) / n`` empirical quantile. They are
        computed at the first call and kept in ``conformal_scores_``.
        ``method='quantile'`` returns the networks' quantiles ``alpha / 2``
        and ``1 - alpha / 2`` (fit with ``quantiles``), the median over
        recipes of each.

        Parameters
        ----------
        steps : int, default=None
        exog : pandas.Series or pandas.DataFrame, default=None
        last_window : pandas.Series or pandas.DataFrame, default=None
            As in :meth:`predict`.
        alpha : float, default=0.1
            Miscoverage: 0.1 gives a 90 % interval.
        method : {'auto', 'conformal', 'quantile'}, default='auto'
            ``'auto'``: ``'quantile'`` when the forecaster has ``quantiles``,
            else ``'conformal'``.
        levels : sequence of float, default=None
            Several coverages at once, in percent (e.g. ``[80, 95]``); replaces
            ``alpha`` and gives columns ``lower_80``, ``upper_80``, ...

        Returns
        -------
        pandas.DataFrame
            Columns ``pred``, ``lower``, ``upper`` (or a ``lower_<level>``,
            ``upper_<level>`` pair per level) indexed by the forecast dates;
            for many series a ``series`` column first (long format).
        """
        if levels is None:
            if not isinstance(alpha, Real) or not 0 < alpha < 1:
                raise ValueError(f"alpha must be a float in (0, 1), e.g. 0.1; got {alpha!r}.")
            named = [("", float(alpha))]
        else:
            values = list(np.atleast_1d(levels))
            # below 1 % is a probability passed by mistake (0.9 for 90 %), not a coverage
            if not values or not all(isinstance(v, Real) and 1 <= v < 100 for v in values):
                raise ValueError(
                    f"levels must hold coverages in percent between 1 and 100, e.g. [80, 95] "
                    f"(90 for a 90 % interval); got {levels!r}."
                )
            named = [(f"_{v:g}", 1 - float(v) / 100) for v in values]
        if method == "auto":
            method = "quantile" if self.quantiles is not None else "conformal"
        if method not in ("conformal", "quantile"):
            raise ValueError(
                f"method must be 'auto', 'conformal' or 'quantile'; got {method!r}."
            )
        values, horizon = self._forecast(steps, exog, last_window)
        center = values[:, :, self._median_index()] if values.ndim == 3 else values
        bounds = [(suffix, *self._interval(values, center, a, method)) for suffix, a in named]
        frames = []
        for s, name in enumerate(self.series_names_):
            columns = {"pred": center[s]}
            for suffix, lower, upper in bounds:
                columns[f"lower{suffix}"] = lower[s]
                columns[f"upper{suffix}"] = upper[s]
            frame = pd.DataFrame(columns, index=horizon)
            if self._was_frame:
                frame.insert(0, "series", name)
            frames.append(frame)
        return pd.concat(frames) if self._was_frame else frames[0]

    def _interval(self, levels, center, alpha, method):
        """Lower and upper bounds of one coverage ``1 - alpha``."""
        steps = levels.shape[1]
        if method == "quantile":
            if levels.ndim != 3:
                raise ValueError(
                    "method='quantile' needs a forecaster fit with quantiles, e.g. "
                    "quantiles=[alpha / 2, 0.5, 1 - alpha / 2]."
                )
            q = np.sort(np.asarray(self.quantiles, dtype=float))
            found = [np.flatnonzero(np.isclose(q, p)) for p in (alpha / 2, 1 - alpha / 2)]
            if any(f.size == 0 for f in found):
                raise ValueError(
                    f"alpha={alpha:g} needs the quantiles {alpha / 2:g} and {1 - alpha / 2:g}; "
                    f"the forecaster has {q.tolist()}."
                )
            return levels[:, :, found[0][0]], levels[:, :, found[1][0]]
        if self.conformal_scores_ is None:
            # set by fit when recipes were compared; else computed once here
            self.conformal_scores_ = self._calibrate()
        scores = self.conformal_scores_[:, :steps]
        n_cal = scores.shape[0]
        rank = int(np.ceil((n_cal + 1) * (1 - alpha)))
        if rank > n_cal:
            raise ValueError(
                f"alpha={alpha:g} needs at least {int(np.ceil(1 / alpha)) - 1} calibration "
                f"errors per step; there are {n_cal}. Raise alpha, calibration_size, or "
                f"the length of y."
            )
        width = np.sort(scores, axis=0)[rank - 1]
        half = width[None, :] * self._y_scale[:, None]
        return center - half, center + half


class _Member:
    """One recipe's fitted state: transforms, transformed series and network."""

    def __init__(self, recipe, transform, z, u, centring, estimator):
        self.recipe = recipe
        self.transform = transform
        self.z = z
        self.u = u
        self.centring = centring
        self.estimator = estimator


def _naive_scale(values):
    """Per series, the mean absolute change (1 where the series is flat): the interval unit."""
    change = np.abs(np.diff(values, axis=0)).mean(axis=0)
    return np.where(change > 0, change, 1.0)


def _original_units(transform, levels, series):
    """Levels ``z`` of rows of ``series`` on the series' own scale (undo the log)."""
    log = transform.log_[series].reshape(-1, *(1,) * (levels.ndim - 1))
    with np.errstate(over="ignore"):
        return np.where(log, np.exp(levels), levels)


def _combine(forecasts, keep):
    """The median, value by value, of the members' forecasts that ``keep`` marks per row.

    ``forecasts``: one array (m, steps[, n_quantiles]) per member; ``keep``:
    (n_members, m) booleans.
    """
    if len(forecasts) == 1:
        return forecasts[0]
    stacked = np.stack(forecasts)
    mask = np.asarray(keep).reshape(keep.shape + (1,) * (stacked.ndim - 2))
    return np.nanmedian(np.where(mask, stacked, np.nan), axis=0)
