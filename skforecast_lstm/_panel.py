"""The forecaster's inputs and outputs: one series, a wide frame, a dict or a long frame.

Every shape a user may pass becomes a :class:`Panel`: one float64 array and one
regular index per series, the series' ids, and what is needed to give results
back in the shape that came in (a Series for a Series, a dict for a dict, a
long frame with the same id and time names for a long frame). Nothing here
knows about networks.
"""

import numpy as np
import pandas as pd

from ._time_index import describe_range, future_index, index_frequency

__all__ = ["Panel", "as_panel", "as_exog", "as_static", "LONG_COLUMNS"]

# The column names of a long frame that are recognised without a MultiIndex
# (Nixtla's): series id, time stamp, value.
LONG_COLUMNS = ("unique_id", "ds", "y")


class Panel:
    """Series of one frequency, each on its own index.

    Attributes
    ----------
    ids : list
        Series ids (column names, dict keys, or the id level of a long frame).
    values : list of ndarray
        One float64 array per series.
    indexes : list of pandas.Index
        One regular index per series (DatetimeIndex, PeriodIndex or RangeIndex).
    freq : pandas offset or int
        The common frequency (the step of RangeIndexes).
    kind : {'series', 'wide', 'dict', 'long'}
        The shape the series came in.
    names : tuple
        What the output needs: the Series' name, or the long frame's
        (id, time) names and whether they were columns or index levels.
    """

    def __init__(self, ids, values, indexes, freq, kind, names=()):
        self.ids = list(ids)
        self.values = values
        self.indexes = indexes
        self.freq = freq
        self.kind = kind
        self.names = names

    def __len__(self):
        return len(self.ids)

    def position(self):
        """Series id to position."""
        return {key: s for s, key in enumerate(self.ids)}

    def subset(self, ids):
        """The panel of the series ``ids`` (in that order)."""
        where = self.position()
        keep = [where[key] for key in ids]
        return Panel([self.ids[s] for s in keep], [self.values[s] for s in keep],
                     [self.indexes[s] for s in keep], self.freq, self.kind, self.names)

    def tail(self, rows):
        """The last ``rows`` values of every series (all of a shorter one)."""
        return Panel(self.ids, [v[-rows:] for v in self.values],
                     [ix[-rows:] for ix in self.indexes], self.freq, self.kind, self.names)

    def rebuild(self, values, indexes, ids=None):
        """Raw series in the shape they came in: the inverse of :func:`as_panel`.

        Parameters
        ----------
        values, indexes : list
            One array and one index per series of ``ids``.
        ids : list, default=None
            The series (``None``: all).
        """
        ids = self.ids if ids is None else ids
        series = {key: pd.Series(v, index=ix) for key, v, ix in zip(ids, values, indexes)}
        if self.kind == "series":
            return series[ids[0]].rename(self.names[0])
        if self.kind == "dict":
            return {key: s.rename(key) for key, s in series.items()}
        if self.kind == "wide":
            return pd.concat(series, axis=1, sort=True)
        id_name, time_name, as_columns, value_name = self.names
        long = pd.concat(series, names=[id_name, time_name]).to_frame(value_name)
        return long.reset_index() if as_columns else long

    def to_user(self, horizons, columns, ids=None):
        """Forecasts in the shape the series came in.

        Parameters
        ----------
        horizons : list of pandas.Index
            The future index of each series of ``ids``.
        columns : dict of str to list of ndarray
            Output column name (``'pred'``, ``'lower'``, ...) to one array per
            series.
        ids : list, default=None
            The series of ``horizons`` and ``columns`` (``None``: all).

        Returns
        -------
        pandas.Series, pandas.DataFrame or dict
        """
        ids = self.ids if ids is None else ids
        frames = [pd.DataFrame({name: cols[s] for name, cols in columns.items()},
                               index=horizons[s]) for s in range(len(ids))]
        single = list(columns) == ["pred"]
        if self.kind == "series":
            return frames[0]["pred"] if single else frames[0]
        if self.kind == "dict":
            return {key: (f["pred"] if single else f) for key, f in zip(ids, frames)}
        if self.kind == "wide":
            if single:  # one column per series, on the union of their horizons
                return pd.concat({key: f["pred"] for key, f in zip(ids, frames)}, axis=1,
                                 sort=True)
            long = []
            for key, frame in zip(ids, frames):
                frame = frame.copy()
                frame.insert(0, "series", key)
                long.append(frame)
            return pd.concat(long)
        id_name, time_name, as_columns, _ = self.names
        long = pd.concat(frames, keys=ids, names=[id_name, time_name])
        return long.reset_index() if as_columns else long


def _check_values(values, name, where):
    """Float64 values of one series; a clear error for what is not a finite number."""
    if not (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        raise TypeError(f"{name} must hold numbers; {where} has dtype {values.dtype}.")
    array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(array)
    if bad.any():
        first = values.index[bad][:5]
        raise ValueError(
            f"{name} has missing or infinite values in {where} at {list(first)}"
            f"{' ...' if bad.sum() > 5 else ''}; fill or drop them first."
        )
    return array


def _trim_ragged(column):
    """A column of a wide frame without the NaN before its start and after its end."""
    valid = column.notna().to_numpy()
    if not valid.any():
        return column.iloc[:0]
    first = int(valid.argmax())
    last = len(valid) - int(valid[::-1].argmax())
    return column.iloc[first:last]


def _same_frequency(freqs, ids, name):
    first = freqs[0]
    for key, freq in zip(ids, freqs):
        if freq != first:
            raise ValueError(
                f"{name}: every series must have the same frequency; series {ids[0]!r} has "
                f"{first} and series {key!r} has {freq}."
            )
    return first


def _regular_index(index, key, name):
    """``index`` made a regular index with a frequency (the time level of a long frame)."""
    if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex, pd.RangeIndex)):
        return index
    if pd.api.types.is_integer_dtype(index):
        values = np.asarray(index)
        step = int(values[1] - values[0]) if values.size > 1 else 1
        if values.size > 1 and (step == 0 or np.any(np.diff(values) != step)):
            raise ValueError(
                f"{name}: the integer time stamps of series {key!r} are not evenly spaced "
                f"({describe_range(index)})."
            )
        start = int(values[0]) if values.size else 0
        return pd.RangeIndex(start, start + step * values.size, step or 1)
    try:
        return pd.DatetimeIndex(index)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name}: the time stamps of series {key!r} are neither dates, periods nor "
            f"integers (dtype {index.dtype})."
        ) from None


def as_panel(y, name="y"):
    """``y`` as a :class:`Panel`; a clear error for anything else.

    Parameters
    ----------
    y : pandas.Series, pandas.DataFrame or dict
        One series; a wide frame (one column per series; NaN before a
        series' start and after its end mark a shorter series); a dict of
        Series, each on its own index; or a long frame: a 2-level MultiIndex
        (series id, time) with one value column, or the columns
        ``unique_id``, ``ds``, ``y``.
    name : str
        The argument's name, for error messages.

    Returns
    -------
    Panel
    """
    if isinstance(y, pd.Series):
        key = y.name if y.name is not None else "y"
        index = y.index
        freq = index_frequency(index, name)
        return Panel([key], [_check_values(y, name, "the series")], [index], freq, "series",
                     (key,))
    if isinstance(y, dict):
        if not y:
            raise ValueError(f"{name} is an empty dict; pass at least one series.")
        series = []
        for key, value in y.items():
            if isinstance(value, pd.DataFrame) and value.shape[1] == 1:
                value = value.iloc[:, 0]
            if not isinstance(value, pd.Series):
                raise TypeError(
                    f"{name}[{key!r}] must be a pandas Series; got {type(value).__name__}."
                )
            series.append((key, value))
        kind = "dict"
    elif isinstance(y, pd.DataFrame):
        if isinstance(y.index, pd.MultiIndex) or set(LONG_COLUMNS) <= set(y.columns):
            return _long_panel(y, name)
        if y.shape[1] == 0:
            raise ValueError(f"{name} is a DataFrame without columns; pass one column per series.")
        series = [(key, _trim_ragged(y[key])) for key in y.columns]
        kind = "wide"
    else:
        raise TypeError(
            f"{name} must be a pandas Series, a DataFrame (one column per series, or long "
            f"format), or a dict of Series; got {type(y).__name__}."
        )
    ids, values, indexes, freqs = [], [], [], []
    for key, value in series:
        where = f"series {key!r}"
        if len(value) == 0:
            raise ValueError(f"{name}: {where} has no values.")
        freqs.append(index_frequency(value.index, f"{name}[{key!r}]"))
        ids.append(key)
        values.append(_check_values(value, name, where))
        indexes.append(value.index)
    kinds = {type(ix) for ix in indexes}
    if len(kinds) > 1:
        raise TypeError(
            f"{name}: every series must have the same kind of index; got "
            f"{sorted(k.__name__ for k in kinds)}."
        )
    freq = _same_frequency(freqs, ids, name)
    return Panel(ids, values, indexes, freq, kind)


def _long_panel(y, name):
    if isinstance(y.index, pd.MultiIndex):
        if y.index.nlevels != 2:
            raise ValueError(
                f"{name} has a MultiIndex of {y.index.nlevels} levels; a long frame needs two: "
                "(series id, time)."
            )
        numeric = [c for c in y.columns if pd.api.types.is_numeric_dtype(y[c])
                   and not pd.api.types.is_bool_dtype(y[c])]
        value_col = "y" if "y" in y.columns else (numeric[0] if len(numeric) == 1 else None)
        if value_col is None:
            raise ValueError(
                f"{name} is a long frame (MultiIndex) with columns {list(y.columns)}; it needs "
                "one value column, or one named 'y'."
            )
        id_name, time_name = y.index.names
        frame = y[value_col]
        names = (id_name if id_name is not None else "series",
                 time_name if time_name is not None else "time", False, value_col)
        groups = frame.groupby(level=0, sort=False)
        series = [(key, part.droplevel(0)) for key, part in groups]
    else:
        id_col, time_col, value_col = LONG_COLUMNS
        names = (id_col, time_col, True, value_col)
        series = [(key, pd.Series(part[value_col].to_numpy(), index=part[time_col].to_numpy(),
                                  name=value_col))
                  for key, part in y.groupby(id_col, sort=False)]
    ids, values, indexes, freqs = [], [], [], []
    for key, part in series:
        index = _regular_index(part.index, key, name)
        part = pd.Series(part.to_numpy(), index=index)
        freqs.append(index_frequency(index, f"{name} (series {key!r})"))
        ids.append(key)
        values.append(_check_values(part, name, f"series {key!r}"))
        indexes.append(index)
    freq = _same_frequency(freqs, ids, name)
    return Panel(ids, values, indexes, freq, "long", names)


def as_exog(exog, panel, name="exog", horizons=None):
    """Exogenous values per series, aligned with ``panel`` (or with ``horizons``).

    Parameters
    ----------
    exog : pandas.Series, pandas.DataFrame or dict
        One frame shared by every series (on their common index), a dict of
        frames per series id, or a long frame with the series' keys.
    panel : Panel
        The series, whose ids and kind ``exog`` follows.
    name : str
    horizons : list of pandas.Index, default=None
        When given, the labels each series' exog must start with (the
        forecast horizon); otherwise each series' own index.

    Returns
    -------
    values : list of ndarray
        One (n, n_exog) float64 array per series of ``panel``.
    columns : list
        The exog's column names.
    """
    from ._time_index import check_exog_index

    targets = panel.indexes if horizons is None else horizons
    what = "y" if horizons is None else "the forecast horizon"
    if isinstance(exog, pd.Series):
        exog = exog.to_frame(name=exog.name if exog.name is not None else "exog")
    if isinstance(exog, pd.DataFrame) and (isinstance(exog.index, pd.MultiIndex)
                                           or set(LONG_COLUMNS[:2]) <= set(exog.columns)):
        frames = _long_exog(exog, name)
    elif isinstance(exog, pd.DataFrame):
        frames = {key: exog for key in panel.ids}
    elif isinstance(exog, dict):
        frames = {key: (v.to_frame() if isinstance(v, pd.Series) else v)
                  for key, v in exog.items()}
    else:
        raise TypeError(
            f"{name} must be a pandas Series or DataFrame (shared by all series, or long "
            f"format) or a dict of DataFrames by series id; got {type(exog).__name__}."
        )
    out, columns = [], None
    for key, target in zip(panel.ids, targets):
        if key not in frames:
            raise ValueError(f"{name} has no values for series {key!r}.")
        frame = frames[key]
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name}[{key!r}] must be a DataFrame; got {type(frame).__name__}.")
        if columns is None:
            columns = list(frame.columns)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} for series {key!r} lacks the columns {missing}.")
        index = frame.index
        if not isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex, pd.RangeIndex)):
            index = _regular_index(index, key, name)
            frame = frame.set_axis(index)
        label = f"{name} (series {key!r})" if panel.kind != "series" else name
        check_exog_index(index, target, label, f"{what} ({describe_range(target)})")
        if horizons is None and len(index) != len(target):
            raise ValueError(
                f"{label} must have the same index as y: y is {describe_range(target)}, "
                f"exog is {describe_range(index)}."
            )
        block = frame[columns].iloc[: len(target)]
        out.append(np.column_stack([_check_values(block[c], name, f"column {c!r}")
                                    for c in columns]))
    return out, columns


def _long_exog(exog, name):
    if isinstance(exog.index, pd.MultiIndex):
        return {key: part.droplevel(0) for key, part in exog.groupby(level=0, sort=False)}
    id_col, time_col, _ = LONG_COLUMNS
    return {key: part.drop(columns=[id_col]).set_index(time_col)
            for key, part in exog.groupby(id_col, sort=False)}


def as_static(static, ids, name="static"):
    """Static covariates as a float matrix (n_series, n_columns) and its column names.

    Numeric columns are standardised over the series; categorical (object,
    category, bool) ones are one-hot encoded.

    Parameters
    ----------
    static : pandas.DataFrame
        Indexed by series id.
    ids : list
        The series, in order.

    Returns
    -------
    matrix : ndarray of shape (len(ids), n_columns)
    encoding : dict
        What :func:`encode_static` needs to encode the same columns again.
    """
    if not isinstance(static, pd.DataFrame):
        raise TypeError(f"{name} must be a DataFrame indexed by series id; got "
                        f"{type(static).__name__}.")
    missing = [key for key in ids if key not in static.index]
    if missing:
        raise ValueError(f"{name} has no row for the series {missing[:5]}.")
    encoding = {}
    for column in static.columns:
        values = static.loc[ids, column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            mean, std = float(values.mean()), float(values.std(ddof=0))
            encoding[column] = ("numeric", mean, std if std > 0 else 1.0)
        else:
            encoding[column] = ("categorical", sorted(pd.unique(values.astype(str))))
    return encode_static(static, ids, encoding, name), encoding


def encode_static(static, ids, encoding, name="static"):
    """Encode the static covariates of ``ids`` as fitted by :func:`as_static`."""
    missing = [key for key in ids if key not in static.index]
    if missing:
        raise ValueError(f"{name} has no row for the series {missing[:5]}.")
    blocks = []
    for column, spec in encoding.items():
        if column not in static.columns:
            raise ValueError(f"{name} lacks the column {column!r} it had in fit.")
        values = static.loc[ids, column]
        if spec[0] == "numeric":
            array = values.to_numpy(dtype=np.float64)
            if not np.isfinite(array).all():
                raise ValueError(f"{name} has missing values in column {column!r}.")
            blocks.append(((array - spec[1]) / spec[2])[:, None])
        else:
            labels = values.astype(str).to_numpy()
            blocks.append((labels[:, None] == np.array(spec[1])[None, :]).astype(np.float64))
    if not blocks:
        return np.zeros((len(ids), 0))
    return np.hstack(blocks)


def horizon_of(panel, s, steps):
    """The ``steps`` labels after series ``s``'s last one."""
    return future_index(panel.indexes[s], panel.freq, steps)


def check_series_length(panel, shortest, lags, steps, name="y"):
    """Raise, naming them, when series are shorter than ``shortest`` values."""
    short = [(key, v.size) for key, v in zip(panel.ids, panel.values) if v.size < shortest]
    if short:
        listed = ", ".join(f"{key!r} ({n})" for key, n in short[:5])
        more = f" and {len(short) - 5} more" if len(short) > 5 else ""
        raise ValueError(
            f"{name}: lags={lags} and steps={steps} need series of at least {shortest} "
            f"values; {listed}{more} are shorter. Drop them, or lower lags or steps."
        )

