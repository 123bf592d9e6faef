"""LSTMForecaster: pandas series in, forecasts with future dates and intervals out."""

import time
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._backtesting import backtest, fit_each_series
from ._estimators import LSTMRegressor
from ._panel import (
    as_exog,
    as_panel,
    as_static,
    check_series_length,
    encode_static,
    horizon_of,
)
from ._preprocessing import SeriesTransform, candidate_recipes
from ._time_index import describe_range
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
MAX_MATERIALISED_VALUES = 2**22
STRATEGIES = ("multi-output", "recursive")
# series_identity='auto' codes the series one-hot up to this many series, and
# trains a pure global model (no identity, new series forecastable) above it
ONEHOT_MAX_SERIES = 50

# A series with fewer non-overlapping held-out origins than this keeps every recipe:
# a paired test on fewer heavy-tailed errors drops good recipes by chance (on the
# short single series and on Tourism, dropping by a test on 2-9 origins made the
# combined forecast worse than keeping all; NOTES 19).
MIN_EVIDENCE_ORIGINS = 10


# The default network trains for about this many gradient steps (at most 100 epochs):
# a long series or a large panel gets fewer epochs over more windows, not 100 of them
# (at least 5: on Tourism 5, 10 and 20 epochs scored alike, NOTES 19).
DEFAULT_STEPS = 4000
DEFAULT_MAX_EPOCHS = 100
DEFAULT_MIN_EPOCHS = 5


def default_estimator(n_windows=None):
    """The network a forecaster trains when ``estimator=None``.

    ``LSTMRegressor(units=32, batch_size=32, learning_rate=0.005,
    loss='absolute_error', lr_schedule='plateau')`` for 100 epochs, or for
    about 4,000 gradient steps when ``n_windows`` makes 100 epochs more than
    that (never fewer than 5 epochs). The absolute error (the median)
    because forecasts are scored by MAE, MAPE and MASE; it did better than
    the squared error on both Tourism panels and on six of ten single series
    (NOTES 18). The plateau schedule: the forecaster's defaults were chosen
    and measured with it (the estimators' own default is constant).
    """
    epochs = DEFAULT_MAX_EPOCHS
    if n_windows is not None:
        batches = max(1, int(np.ceil(n_windows / 32)))
        epochs = int(np.clip(np.ceil(DEFAULT_STEPS / batches), DEFAULT_MIN_EPOCHS,
                             DEFAULT_MAX_EPOCHS))
    return LSTMRegressor(units=32, epochs=epochs, batch_size=32, learning_rate=0.005,
                         loss="absolute_error", lr_schedule="plateau")


class LSTMForecaster(BaseEstimator):
    """Forecast pandas time series with LSTMs, several steps ahead.

    Networks are trained on sliding windows of ``lags`` past values of one or
    many series (one global model per recipe). Raw series, trending or
    multiplicatively seasonal, can be passed as they are: with the default
    settings the forecaster trains one network per preprocessing recipe --
    one difference, plain standard scaling, each window centred on its mean,
    and for positive series the log with centring or with a difference -- and
    forecasts a trimmed mean of their forecasts (the highest and lowest
    dropped). No single recipe wins on every kind of series (see
    ``benchmarks/accuracy.py``), and their combination did better than any one
    of them on Tourism and most single series; each transform is undone on
    the way out. On series long enough to tell (``MIN_EVIDENCE_ORIGINS``
    non-overlapping held-out origins), recipes clearly worse than the best
    there are left out of the series' combination.

    Parameters
    ----------
    lags : int
        Past values the network reads per forecast.
    steps : int
        Forecast horizon: the default number of steps predicted, and for the
        ``'multi-output'`` strategy the width of the network's output.
    estimator : LSTMRegressor, default=None
        The network to train (a clone of it per recipe). ``None`` uses
        ``LSTMRegressor(units=32, batch_size=32, learning_rate=0.005,
        loss='absolute_error', lr_schedule='plateau')`` for 100 epochs, or
        about 4,000 gradient steps on a long series (at least 5 epochs).
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
    series_identity : {'auto', 'onehot', 'none'}, default='auto'
        How the network tells the series of a panel apart: ``'onehot'`` reads
        a one-hot code of the series at every step (its first layer grows
        with the panel, and only training series can be forecast);
        ``'none'`` trains a pure global model (as N-BEATS and neuralforecast
        do) that forecasts any series, also one not seen in fit, from its
        last window; static covariates then carry what sets series apart.
        ``'auto'``: one-hot up to 50 series, none above (or the embedding
        when ``series_embedding`` is set).
    series_embedding : int, default=None
        Tell series apart by a learnt embedding of this many values per series
        (``LSTMRegressor(id_embedding=...)``): the network reads it beside the
        values at every step, so its first layer grows by ``series_embedding``
        inputs, not by the number of series. Only training series can be
        forecast. Needs an estimator with an ``id_embedding`` parameter.
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
    verbose : int, default=0
        1: a line per network trained (recipe, windows, seconds); 2: also
        the networks' lines per epoch.

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
        series' mean absolute change: computed in fit when a series is long
        enough to test the recipes, else at the first conformal
        :meth:`predict_interval`.
    validation_scores_ : pandas.DataFrame or None
        Each recipe's mean absolute error on the held-out origins, one row
        per series, one column per recipe; filled when
        ``conformal_scores_`` is.

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
        series_identity="auto",
        series_embedding=None,
        quantiles=None,
        calibration_size=0.2,
        device=None,
        random_state=None,
        verbose=0,
    ):
        self.lags = lags
        self.steps = steps
        self.estimator = estimator
        self.strategy = strategy
        self.transform = transform
        self.differentiation = differentiation
        self.normalize_windows = normalize_windows
        self.series_identity = series_identity
        self.series_embedding = series_embedding
        self.quantiles = quantiles
        self.calibration_size = calibration_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

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
        if self.series_identity not in ("auto", "onehot", "none"):
            raise ValueError(
                "series_identity must be 'auto', 'onehot' or 'none'; got "
                f"{self.series_identity!r}."
            )
        if self.series_embedding is not None:
            check_positive_int(self.series_embedding, "series_embedding")
            if self.series_identity != "auto":
                raise ValueError(
                    f"series_embedding and series_identity={self.series_identity!r} are two "
                    "ways of telling series apart; leave series_identity='auto' with "
                    "series_embedding."
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
        if isinstance(self.verbose, bool) or not isinstance(self.verbose, Integral) or \
                self.verbose < 0:
            raise ValueError(f"verbose must be an int >= 0; got {self.verbose!r}.")
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
            if self.quantiles is not None:  # the pinball loss replaces the default's
                estimator.set_params(loss="squared_error")
        params = estimator.get_params()
        if self.random_state is not None:
            estimator.set_params(random_state=self.random_state)
        # forwarded parameters: the forecaster's value, when given, replaces the estimator's
        id_embedding = None
        if getattr(self, "identity_", None) == "embedding":
            id_embedding = (self.n_series_, int(self.series_embedding))
        for own, name, value in (("device", "device", self.device),
                                 ("quantiles", "quantiles", self.quantiles),
                                 ("series_embedding", "id_embedding", id_embedding)):
            if value is None:
                continue
            if name not in params:
                raise ValueError(
                    f"{own} needs an estimator with the parameter {name!r}, such as "
                    f"LSTMRegressor; {type(estimator).__name__} has none."
                )
            estimator.set_params(**{name: value})
        return estimator

    def _dtype(self, estimator):
        return np.dtype(getattr(estimator, "dtype", "float64"))

    def _identity(self, n_series):
        if self.series_embedding is not None:
            return "embedding"
        if self.series_identity == "auto":
            return "onehot" if 1 < n_series <= ONEHOT_MAX_SERIES else "none"
        return self.series_identity if n_series > 1 else "none"

    # ------------------------------------------------------------ fit
    def fit(self, y, exog=None, static=None, past_exog=None):
        """Train the networks on windows of ``y`` (and ``exog``, ``static``).

        Parameters
        ----------
        y : pandas.Series, pandas.DataFrame or dict
            One series; a wide DataFrame with one column per series (NaN
            before a series' first value and after its last mark a shorter
            series); a dict {series id: Series}, each on its own index; or a
            long DataFrame: a 2-level MultiIndex (series id, time) with one
            value column (or one named ``'y'``), or the columns
            ``unique_id``, ``ds``, ``y``. Indexes are DatetimeIndex or
            PeriodIndex of one frequency, or RangeIndex (integer time in a
            long frame). One global model learns from every series.
        exog : pandas.Series, pandas.DataFrame or dict, default=None
            Exogenous variables known in the future: one frame on the index
            of ``y`` shared by every series, a dict {series id: DataFrame},
            or a long frame with the keys of ``y``. Their future values are
            then needed by :meth:`predict`.
        static : pandas.DataFrame, default=None
            Static covariates, one row per series id: numeric columns are
            standardised, categorical ones one-hot encoded, and the network
            reads them at every step.
        past_exog : pandas.Series, pandas.DataFrame or dict, default=None
            Variables known only up to the forecast origin (past covariates),
            in the shapes of ``exog``: the network reads them beside each
            value of the lag window. :meth:`predict` takes them from the end
            of the training data, or from ``past_exog`` with a
            ``last_window``.

        Returns
        -------
        self : LSTMForecaster
        """
        for attr in ("estimator_", "estimators_", "conformal_scores_", "validation_scores_"):
            self.__dict__.pop(attr, None)
        self._check_params()
        panel = as_panel(y, "y")
        lags = int(self.lags)
        check_series_length(panel, lags + self.steps + 1, lags, self.steps)
        # one order of the series whatever the input's (their one-hot codes, the
        # minibatches): forecasts do not depend on it; outputs keep the input's
        self._input_ids = list(panel.ids)
        panel = panel.subset(sorted(panel.ids, key=_sort_key))
        self._panel_kind, self._panel_names = panel.kind, panel.names
        self.series_names_ = list(panel.ids)
        self.n_series_ = len(panel)
        self.frequency_ = panel.freq
        self._index_type = type(panel.indexes[0])
        self._exog_u = None
        self.exog_names_ = None
        if exog is not None:
            exog_values, self.exog_names_ = as_exog(exog, panel, "exog")
            stacked = np.vstack(exog_values)
            self._exog_center = stacked.mean(axis=0)
            spread = stacked.std(axis=0)
            self._exog_scale = np.where(spread > 0, spread, 1.0)
            self._exog_u = _Flat([(e - self._exog_center) / self._exog_scale
                                  for e in exog_values])
        self._past_u = None
        self.past_exog_names_ = None
        if past_exog is not None:
            past_values, self.past_exog_names_ = as_exog(past_exog, panel, "past_exog")
            stacked = np.vstack(past_values)
            spread = stacked.std(axis=0)
            self._past_stats = (stacked.mean(axis=0), np.where(spread > 0, spread, 1.0))
            self._past_u = _Flat([(v - self._past_stats[0]) / self._past_stats[1]
                                  for v in past_values])
        self.identity_ = self._identity(self.n_series_)
        self._static, self.static_names_, self._static_matrix = None, None, None
        if static is not None:
            self._static_matrix, self._static = as_static(static, panel.ids)
            self.static_names_ = list(self._static)
        self._constant = self._constant_inputs(np.arange(self.n_series_), self._static_matrix)

        recipes = self._recipes(panel)
        self._y_scale = np.array([_naive_scale(v) for v in panel.values])
        self._need = lags + max(r.order for r in recipes)
        self._last = panel.tail(self._need)
        shown = self._last.subset(self._input_ids)
        self.last_window_ = shown.rebuild(shown.values, shown.indexes)
        members = [self._prepare(panel.values, recipe) for recipe in recipes]
        self.conformal_scores_ = None
        self.validation_scores_ = None
        keep = np.ones((len(members), self.n_series_), dtype=bool)
        if len(members) > 1 and self._evidence_origins(members[0]).max() >= MIN_EVIDENCE_ORIGINS:
            # evidence: every recipe forecasts the held-out origins (too few origins in
            # every series: nothing to test, and the held-out networks wait for the
            # first conformal interval)
            holdouts = self._holdouts(members)
            if holdouts is not None:
                keep = self._indistinguishable(holdouts)
                self._validation_scores(members, holdouts)
                self.conformal_scores_ = self._scores(holdouts, keep)
        used = np.flatnonzero(keep.any(axis=1))
        self._members = [members[k] for k in used]
        self._keep = keep[used]
        for member in self._members:
            sources = self._sources(member, self._model_steps())
            member.estimator = self._train(member, sources,
                                           [np.arange(src[0]) for src in sources])
        self.preprocessing_ = [member.recipe.name for member in self._members]
        self.estimators_ = [member.estimator for member in self._members]
        self.estimator_ = self.estimators_[0]
        return self

    def _recipes(self, panel):
        """The candidate recipes the settings allow, with their per-series log flags."""
        positive = np.array([np.all(v > 0) for v in panel.values])
        if self.transform == "log" and not positive.all():
            bad = [panel.ids[s] for s in np.flatnonzero(~positive)][:5]
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
        """A member: the transforms of ``recipe`` fitted on every series, no network yet."""
        transform = SeriesTransform(recipe.log, recipe.order).fit(values)
        z = [transform.to_level(v, s) for s, v in enumerate(values)]
        u = [transform.transform_level(zs, s) for s, zs in enumerate(z)]
        return _Member(recipe, transform, _Flat(z), _Flat(u),
                       np.full(len(values), recipe.centring), None)

    def _holdouts(self, members):
        """Per member, its held-out forecasts on the series' scale (None: too short)."""
        out = []
        for member in members:
            try:
                series, levels, truth = self._holdout(member)
            except ValueError:  # too short to hold origins out: combine every recipe
                return None
            out.append((series, member.transform.original_units(levels, series),
                        member.transform.original_units(truth, series)))
        return out

    def _calibration_counts(self, member):
        """Per series, its forecast origins and how many of the last are held out."""
        n_origins = np.maximum(member.u.lengths - int(self.steps) - int(self.lags), 0)
        return n_origins, np.ceil(self.calibration_size * n_origins).astype(np.int64)

    def _evidence_origins(self, member):
        """Per series, its non-overlapping held-out origins (``steps`` apart)."""
        return -(-self._calibration_counts(member)[1] // int(self.steps))

    def _validation_scores(self, members, holdouts):
        """``validation_scores_``: each recipe's held-out MAE per series."""
        self.validation_scores_ = pd.DataFrame(
            [_per_series_mean(np.abs(f - t).mean(axis=1), series, self.n_series_)
             for series, f, t in holdouts],
            index=[m.recipe.name for m in members], columns=self.series_names_,
        ).T

    def _indistinguishable(self, holdouts):
        """Per series, the recipes whose held-out error is not clearly above the best one's.

        The mean absolute errors of non-overlapping held-out forecasts (origins
        ``steps`` apart) are compared with the best recipe's, paired by origin:
        a recipe is dropped when its excess error is more than two standard
        errors above zero. Fewer than ``MIN_EVIDENCE_ORIGINS`` origins (a
        short series) drop nothing; many (a long series) drop all but the
        recipes that are as good as the best.
        """
        series = holdouts[0][0]
        errors = np.stack([np.abs(f - t).mean(axis=1) for _, f, t in holdouts])
        # origins `steps` apart: every steps-th held-out origin of each series (they come
        # series by series, in time order)
        start = np.searchsorted(series, series)
        rows = np.flatnonzero((np.arange(series.size) - start) % int(self.steps) == 0)
        group, e = series[rows], errors[:, rows]
        count = np.bincount(group, minlength=self.n_series_)
        mean = np.stack([_per_series_mean(r, group, self.n_series_) for r in e])
        best = np.argmin(mean, axis=0)
        excess = e - e[best[group], np.arange(group.size)]
        excess_mean = np.stack([_per_series_mean(r, group, self.n_series_) for r in excess])
        square = np.stack([_per_series_mean(r**2, group, self.n_series_) for r in excess])
        with np.errstate(invalid="ignore", divide="ignore"):
            variance = (square - excess_mean**2) * count / (count - 1)
            spread = np.sqrt(np.maximum(variance, 0) / count)
            keep = excess_mean <= 2 * spread + 1e-12 * np.abs(mean)
        keep[:, count < MIN_EVIDENCE_ORIGINS] = True
        return keep

    def _scores(self, holdouts, keep):
        """Conformal scores: errors of the combined held-out forecasts, per series' scale."""
        series, _, truth = holdouts[0]
        combined = _combine([f for _, f, _ in holdouts], keep[:, series])
        return np.abs(truth - combined) / self._y_scale[series][:, None]

    def _sources(self, member, steps):
        """Per series, its number of windows and its first window's origin.

        Window ``w`` of series ``s`` ends at ``first_origin + w`` (its forecast
        origin) and its targets are the ``steps`` values after it; a
        differenced series starts one value later (its first ``u`` is NaN).
        """
        lags = int(self.lags)
        out = []
        for s, n in enumerate(member.u.lengths):
            start = int(member.transform.order_[s])
            out.append((max(0, n - start - lags - steps + 1), start + lags - 1))
        return out

    def _gather(self, member, sources, series, windows, dtype):
        """Encoded inputs and targets of windows ``windows`` of series ``series``.

        One gather per array from the flat storage of every series: no Python
        loop over series, whatever the size of the panel.
        """
        lags, steps = int(self.lags), self._model_steps()
        first = np.array([src[1] for src in sources], dtype=np.int64)
        origins = member.u.offsets[series] + first[series] + windows  # in the flat arrays
        raw_x = member.u.flat[origins[:, None] + np.arange(1 - lags, 1)]
        raw_y = member.u.flat[origins[:, None] + np.arange(1, steps + 1)]
        future = None
        if self._exog_u is not None:
            future = self._exog_u.flat[origins[:, None] + np.arange(1, steps + 1)]
        past = None
        if self._past_u is not None:
            past = self._past_u.flat[origins[:, None] + np.arange(1 - lags, 1)]
        constant = None if self._constant is None else self._constant[series]
        X, location = encode_inputs(raw_x, constant, member.centring[series], dtype, future,
                                    past)
        cumulative = member.transform.order_[series] == 1
        return X, encode_targets(raw_y, location, cumulative, dtype)

    def _train(self, member, sources, selection, what="final"):
        """Train a new estimator on the selected windows of each series."""
        started = time.perf_counter()
        series = np.concatenate([np.full(w.size, s) for s, w in enumerate(selection)])
        estimator = self._train_windows(member, sources, selection, series)
        if self.verbose:
            print(f"LSTMForecaster: {what} network of recipe {member.recipe.name!r} on "
                  f"{series.size:,} windows of {len(sources)} series in "
                  f"{time.perf_counter() - started:.1f}s", flush=True)
        return estimator

    def _train_windows(self, member, sources, selection, series):
        estimator = self._new_estimator(series.size)
        if self.verbose > 1 and "verbose" in estimator.get_params():
            estimator.set_params(verbose=1)
        dtype = self._dtype(estimator)
        windows = np.concatenate(selection)
        if series.size == 0:
            raise ValueError("No complete training window: y is too short for lags and steps.")
        n_exog = 0 if self._exog_u is None else self._exog_u.flat.shape[1]
        n_past = 0 if self._past_u is None else self._past_u.flat.shape[1]
        n_constant = 0 if self._constant is None else self._constant.shape[1]
        n_values = series.size * (int(self.lags) + (n_exog > 0)) * (
            1 + n_past + n_exog * self._model_steps() + n_constant)
        if n_values <= MAX_MATERIALISED_VALUES:
            return estimator.fit(*self._gather(member, sources, series, windows, dtype))
        if not hasattr(estimator, "partial_fit"):
            raise ValueError(
                f"{series.size} windows are too many to hold at once and "
                f"{type(estimator).__name__} has no partial_fit to learn from batches."
            )
        # Many windows: each epoch visits chunks of windows in random order; only
        # one chunk of windows exists in memory at a time. A plateau schedule
        # would read each chunk's loss as an epoch's: the step size stays constant.
        if "lr_schedule" in estimator.get_params():
            estimator.set_params(lr_schedule="constant")
        rng = check_random_state(estimator.get_params().get("random_state"))
        chunk = max(1, MAX_MATERIALISED_VALUES * series.size // n_values)
        for _ in range(estimator.get_params().get("epochs", 1)):
            order = rng.permutation(series.size)
            for start in range(0, series.size, chunk):
                rows = np.sort(order[start : start + chunk])
                estimator.partial_fit(*self._gather(member, sources, series[rows],
                                                    windows[rows], dtype))
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

    def _windows_to_forecast(self, last_window, ids, past_exog=None):
        """The windows to forecast from (only ``ids`` when given), and their past covariates.

        Returns the panel of raw windows and the scaled past covariates beside
        their last ``lags`` values (or None).
        """
        lags = int(self.lags)
        if past_exog is not None and self._past_u is None:
            raise ValueError(
                "past_exog was given to predict but the forecaster was fit without.")
        if last_window is None:
            if past_exog is not None:
                raise ValueError(
                    "past_exog goes with a last_window: without one, the forecast starts "
                    "from the end of the training data, whose past_exog fit has kept."
                )
            panel = self._last.subset(self._input_ids)
            past = None if self._past_u is None else dict(zip(
                self.series_names_, [self._past_u[s][-lags:]
                                     for s in range(self.n_series_)]))
        else:
            panel = as_panel(last_window, "last_window")
            if panel.kind != self._panel_kind:
                raise TypeError(
                    f"last_window must have the shape y had in fit ({self._panel_kind}); got "
                    f"{panel.kind}."
                )
            if not isinstance(panel.indexes[0], self._index_type):
                raise TypeError(
                    f"last_window has a {type(panel.indexes[0]).__name__}; y had a "
                    f"{self._index_type.__name__}."
                )
            if panel.freq != self.frequency_:
                raise ValueError(
                    f"last_window has the frequency {panel.freq}; y had {self.frequency_}."
                )
            short = [key for key, v in zip(panel.ids, panel.values) if v.size < self._need]
            if short:
                raise ValueError(
                    f"last_window has fewer than the {self._need} values the forecaster needs "
                    f"(lags plus differencing) for the series {short[:5]}."
                )
            past = None
            if self._past_u is not None:
                if past_exog is None:
                    raise ValueError(
                        f"The forecaster was fit with past_exog {self.past_exog_names_}: pass "
                        "their values on the index of last_window as past_exog."
                    )
                values, columns = as_exog(past_exog, panel, "past_exog")
                missing = [c for c in self.past_exog_names_ if c not in columns]
                if missing:
                    raise ValueError(f"past_exog lacks the columns {missing} it had in fit.")
                order = [columns.index(c) for c in self.past_exog_names_]
                past = {key: (v[-lags:, order] - self._past_stats[0]) / self._past_stats[1]
                        for key, v in zip(panel.ids, values)}
            panel = panel.tail(self._need)
        if ids is not None:
            ids = list(ids) if isinstance(ids, (list, tuple, np.ndarray, pd.Index)) else [ids]
            known = panel.position()
            missing = [key for key in ids if key not in known]
            if missing:
                raise ValueError(
                    f"levels/series {missing[:5]} are not among the series to forecast "
                    f"({panel.ids[:5]}{' ...' if len(panel) > 5 else ''})."
                )
            panel = panel.subset(ids)
        if past is not None:
            past = np.stack([past[key] for key in panel.ids])
        return panel, past

    def _rows(self, panel, static):
        """Training position of each series of ``panel`` (-1 for a new one) and its inputs."""
        where = {key: s for s, key in enumerate(self.series_names_)}
        rows = np.array([where.get(key, -1) for key in panel.ids])
        new = rows < 0
        if new.any() and self.identity_ in ("onehot", "embedding"):
            code = "a one-hot code" if self.identity_ == "onehot" else "a learnt embedding"
            raise ValueError(
                f"The series {[panel.ids[i] for i in np.flatnonzero(new)][:5]} were not in fit, "
                f"and this forecaster tells series apart by {code} of the training "
                "series; refit with series_identity='none' to forecast new series."
            )
        matrix = None
        if self._static is not None:
            if static is not None:
                matrix = encode_static(static, panel.ids, self._static)
            elif new.any():
                raise ValueError(
                    "The forecaster was fit with static covariates: pass static= rows for "
                    f"the new series {[panel.ids[i] for i in np.flatnonzero(new)][:5]}."
                )
            else:
                matrix = self._static_matrix[rows]
        elif static is not None:
            raise ValueError("static was given to predict but the forecaster was fit without.")
        return rows, self._constant_inputs(rows, matrix)

    def _constant_inputs(self, rows, static_matrix):
        """The inputs every step of a window repeats, for the training series ``rows``.

        The series' one-hot code, its static covariates, and last its index
        (what ``id_embedding`` reads); None when there are none.
        """
        blocks = []
        if self.identity_ == "onehot":
            blocks.append(np.eye(self.n_series_)[rows])
        if static_matrix is not None:
            blocks.append(static_matrix)
        if self.identity_ == "embedding":
            blocks.append(rows[:, None].astype(np.float64))
        return np.hstack(blocks) if blocks else None

    def _future_exog(self, exog, panel, horizons, steps):
        """Scaled future exog (n_series, max(steps, model steps), n_exog), or None."""
        if self.exog_names_ is None:
            if exog is not None:
                raise ValueError("exog was given to predict but the forecaster was fit without.")
            return None
        if exog is None:
            raise ValueError(
                f"The forecaster was fit with exog {self.exog_names_}: pass their future values "
                f"as exog, covering {describe_range(horizons[0])}"
                f"{' (for the first series)' if len(panel) > 1 else ''}."
            )
        values, columns = as_exog(exog, panel, "exog", horizons=horizons)
        missing = [c for c in self.exog_names_ if c not in columns]
        if missing:
            raise ValueError(f"exog lacks the columns {missing} it had in fit.")
        order = [columns.index(c) for c in self.exog_names_]
        rows = max(steps, self._model_steps())
        out = np.empty((len(panel), rows, len(order)))
        for i, block in enumerate(values):
            block = block[:rows, order]
            if block.shape[0] < rows:  # fewer steps than the network's horizon: repeat
                block = np.vstack([block, np.repeat(block[-1:], rows - block.shape[0], axis=0)])
            out[i] = block
        return (out - self._exog_center) / self._exog_scale

    def _forecast_levels(self, estimator, transform, u_windows, z_last, exog_future, constant,
                         centring, steps, past=None):
        """Forecast levels ``z`` of shape (m, steps[, n_quantiles]) from scaled windows.

        ``transform`` holds the steps of the m rows (row i is its series i);
        ``past`` the past covariates beside the windows (the recursive strategy
        carries their last values forward, as nothing newer is known).
        """
        m = u_windows.shape[0]
        rows = np.arange(m)
        dtype = self._dtype(estimator)
        model_steps = self._model_steps()
        raw = np.array(u_windows, dtype=np.float64)
        cumulative = transform.order_ == 1
        if self.strategy == "multi-output":
            future = None if exog_future is None else exog_future[:, :model_steps]
            X, location = encode_inputs(raw, constant, centring, dtype, future, past)
            out = np.asarray(estimator.predict(X), dtype=np.float64)
            out = out.reshape(m, model_steps, *out.shape[2:])[:, :steps]
            path = decode_outputs(out, location, cumulative)
        else:
            path = np.empty((m, steps))
            past = None if past is None else np.array(past)
            for h in range(steps):
                future = None if exog_future is None else exog_future[:, h : h + 1]
                X, location = encode_inputs(raw, constant, centring, dtype, future, past)
                out = np.asarray(estimator.predict(X), dtype=np.float64).reshape(m)
                path[:, h] = out + location
                raw[:, :-1] = raw[:, 1:]
                raw[:, -1] = path[:, h]
                if past is not None:
                    past[:, :-1] = past[:, 1:]
            path = np.where(cumulative[:, None], np.cumsum(path, axis=1), path)
        return transform.path_to_level(path, rows, z_last)

    def _member_transform(self, member, panel, rows):
        """``member``'s steps for the series of ``panel``; a new series' fitted on its window."""
        known = rows >= 0
        transform = member.transform.select(np.where(known, rows, 0))
        for i in np.flatnonzero(~known):
            values = panel.values[i]
            log = bool(member.recipe.log.any()) and bool(np.all(values > 0))
            fresh = SeriesTransform([log], [member.recipe.order]).fit([values])
            for name in ("log_", "order_", "center_", "scale_"):
                getattr(transform, name)[i] = getattr(fresh, name)[0]
        return transform

    def _forecast(self, steps, exog, last_window, ids=None, static=None, past_exog=None):
        """Forecasts on the series' own scale, (n_series, steps[, n_quantiles]).

        Each member network forecasts with its own recipe; the forecast is the
        trimmed mean of the members kept for each series (all of them for a
        series not seen in fit). Returns the forecasts, the panel and its horizons.
        """
        check_is_fitted(self, "estimator_")
        steps = self._check_steps(steps)
        panel, past = self._windows_to_forecast(last_window, ids, past_exog)
        horizons = [horizon_of(panel, s, steps) for s in range(len(panel))]
        exog_future = self._future_exog(exog, panel, horizons, steps)
        rows, constant = self._rows(panel, static)
        lags = int(self.lags)
        forecasts = []
        for member in self._members:
            transform = self._member_transform(member, panel, rows)
            z = [transform.to_level(v, i) for i, v in enumerate(panel.values)]
            if not all(np.isfinite(zi).all() for zi in z):
                raise ValueError(
                    "last_window has values <= 0 in series that were log-transformed in fit."
                )
            u = np.stack([transform.transform_level(zi, i)[-lags:] for i, zi in enumerate(z)])
            z_last = np.array([zi[-1] for zi in z])
            centring = np.full(len(panel), member.recipe.centring)
            levels = self._forecast_levels(member.estimator, transform, u, z_last, exog_future,
                                           constant, centring, steps, past)
            forecasts.append(transform.original_units(levels, np.arange(len(panel))))
        keep = np.ones((len(self._members), len(panel)), dtype=bool)
        known = rows >= 0
        keep[:, known] = self._keep[:, rows[known]]
        return _combine(forecasts, keep), panel, horizons, rows

    def _median_index(self):
        q = np.sort(np.asarray(self.quantiles, dtype=float))
        return int(np.argmin(np.abs(q - 0.5)))

    def predict(self, steps=None, exog=None, last_window=None, levels=None, static=None,
                past_exog=None):
        """Forecast the next ``steps`` values after the last window of each series.

        Parameters
        ----------
        steps : int, default=None
            Number of steps; ``None`` uses the forecaster's ``steps``.
        exog : pandas.Series, pandas.DataFrame or dict, default=None
            Future exogenous values, required when fit had exog, in the shape
            fit had them: each series' must start at its first forecast step
            and cover ``steps`` rows.
        last_window : pandas.Series, pandas.DataFrame or dict, default=None
            Start from these values instead of the end of the training data,
            in the shape ``y`` had in fit (at least ``lags`` values per series,
            one more when a recipe differences). With
            ``series_identity='none'`` it may hold series not seen in fit.
        levels : list, default=None
            The series to forecast (skforecast's word); ``None``: all.
        static : pandas.DataFrame, default=None
            Static covariates of series not seen in fit.
        past_exog : pandas.Series, pandas.DataFrame or dict, default=None
            With ``last_window``, when fit had ``past_exog``: their values on
            the index of ``last_window``.

        Returns
        -------
        pandas.Series, pandas.DataFrame or dict
            In the shape ``y`` had: a Series named ``'pred'`` for one series;
            a DataFrame with one column per series for a wide frame; a dict of
            Series for a dict; a long frame with a ``pred`` column for a long
            frame; each series on its own future index.
        """
        values, panel, horizons, _ = self._forecast(steps, exog, last_window, levels, static,
                                                    past_exog)
        if values.ndim == 3:
            values = values[:, :, self._median_index()]
        return panel.to_user(horizons, {"pred": list(values)})

    # ------------------------------------------------------------ intervals
    def _calibrate(self):
        """Conformal scores of a forecaster that had nothing to test in fit.

        One recipe, or series too short for the recipes' evidence: the
        held-out networks are trained now, at the first conformal interval.
        """
        holdouts = self._holdouts(self._members)
        if holdouts is None:
            self._holdout(self._members[0])  # raises the too-short error, naming the series
        if len(self._members) > 1:
            self._validation_scores(self._members, holdouts)
        return self._scores(holdouts, self._keep)

    def _holdout(self, member):
        """Forecasts of a network trained before the calibration origins, and the truth.

        Returns ``(series, levels, truth)``: the series of each held-out origin
        and the forecast and true levels ``z`` of its ``steps`` next values. The
        origins are the same for every member (differenced or not).
        """
        model_steps = self._model_steps()
        sources = self._sources(member, model_steps)
        lags, horizon = int(self.lags), int(self.steps)
        selection, cal_series, cal_origins = [], [], []
        n_origins, n_cals = self._calibration_counts(member)
        for s, (_, first_origin) in enumerate(sources):
            origins = lags + np.arange(n_origins[s])  # lags - 1, + a difference
            n_cal = int(n_cals[s])
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
        model = self._train(member, sources, selection, what="held-out")
        series = np.concatenate(cal_series)
        flat = member.u.offsets[series] + np.concatenate(cal_origins)  # origins, flat arrays
        before = flat[:, None] + np.arange(1 - lags, 1)
        after = flat[:, None] + np.arange(1, horizon + 1)
        exog_future = None if self._exog_u is None else self._exog_u.flat[after]
        past = None if self._past_u is None else self._past_u.flat[before]
        constant = None if self._constant is None else self._constant[series]
        transform = member.transform.select(series)
        levels = self._forecast_levels(model, transform, member.u.flat[before],
                                       member.z.flat[flat], exog_future, constant,
                                       member.centring[series], horizon, past)
        if levels.ndim == 3:
            levels = levels[:, :, self._median_index()]
        return series, levels, member.z.flat[after]

    def predict_interval(self, steps=None, exog=None, last_window=None, alpha=0.1,
                         method="auto", levels=None, series=None, static=None,
                         past_exog=None):
        """Forecast with a prediction interval of coverage ``1 - alpha``.

        ``method='conformal'`` gives split-conformal intervals per horizon
        step: each recipe trains a second network on all but the last
        ``calibration_size`` of each series' forecast origins, and the
        absolute errors of their combined forecast there (relative to each
        series' mean absolute change) give the half-width of step ``h`` as
        their ``ceil((n + 1)(1 - alpha)) / n`` empirical quantile. They are
        computed at the first call and kept in ``conformal_scores_``.
        ``method='quantile'`` returns the networks' quantiles ``alpha / 2``
        and ``1 - alpha / 2`` (fit with ``quantiles``), the trimmed mean over
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
        series : list, default=None
            The series to forecast (``predict``'s ``levels``); ``None``: all.
        static, past_exog : see :meth:`predict`

        Returns
        -------
        pandas.DataFrame or dict
            Columns ``pred``, ``lower``, ``upper`` (or a ``lower_<level>``,
            ``upper_<level>`` pair per level) indexed by the forecast dates;
            for a wide frame of series a ``series`` column first (long
            format); for a dict, a dict of such frames; for a long frame, a
            long frame with these columns.
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
        values, panel, horizons, rows = self._forecast(steps, exog, last_window, series,
                                                       static, past_exog)
        center = values[:, :, self._median_index()] if values.ndim == 3 else values
        scale = np.array([self._y_scale[r] if r >= 0 else _naive_scale(v)
                          for r, v in zip(rows, panel.values)])
        columns = {"pred": list(center)}
        for suffix, a in named:
            lower, upper = self._interval(values, center, a, method, scale)
            columns[f"lower{suffix}"] = list(lower)
            columns[f"upper{suffix}"] = list(upper)
        return panel.to_user(horizons, columns)

    def _interval(self, levels, center, alpha, method, scale):
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
        half = width[None, :] * scale[:, None]
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


class _Flat:
    """Arrays of several series stored end to end: one gather reads any of their windows."""

    def __init__(self, arrays):
        self.lengths = np.array([len(a) for a in arrays], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.flat = np.concatenate(arrays) if arrays else np.empty(0)

    def __getitem__(self, s):
        return self.flat[self.offsets[s] : self.offsets[s] + self.lengths[s]]


def _per_series_mean(values, series, n_series):
    """Mean of ``values`` per series code (NaN for a series without any)."""
    count = np.bincount(series, minlength=n_series)
    total = np.bincount(series, weights=values, minlength=n_series)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def _sort_key(key):
    """Series ids sort by type name, then value (str for unorderable ones)."""
    return (type(key).__name__, key if isinstance(key, (int, float, str)) else str(key))


def _naive_scale(values):
    """The mean absolute change of a series (1 where it is flat): the interval unit."""
    change = float(np.abs(np.diff(values)).mean()) if values.size > 1 else 0.0
    return change if change > 0 else 1.0


def _combine(forecasts, keep):
    """The trimmed mean, value by value, of the members' forecasts that ``keep`` marks.

    Of k kept forecasts of a value, the lowest and the highest are dropped
    when k >= 3 and the rest averaged (k = 3: the median; k <= 2: the mean):
    an average's gain over its members, without the pull of one recipe that
    failed on the series. ``forecasts``: one array (m, steps[, n_quantiles])
    per member; ``keep``: (n_members, m) booleans.
    """
    if len(forecasts) == 1:
        return forecasts[0]
    stacked = np.stack(forecasts)
    mask = np.broadcast_to(np.asarray(keep).reshape(keep.shape + (1,) * (stacked.ndim - 2)),
                           stacked.shape)
    ordered = np.sort(np.where(mask, stacked, np.inf), axis=0)  # dropped ones sort last
    k = mask.sum(axis=0)
    rank = np.arange(stacked.shape[0]).reshape((-1,) + (1,) * (stacked.ndim - 1))
    inner = np.where(k >= 3, (rank >= 1) & (rank < k - 1), rank < k)
    return np.where(inner, ordered, 0.0).sum(axis=0) / inner.sum(axis=0)
