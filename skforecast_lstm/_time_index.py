"""Time indexes of the forecaster's pandas inputs: checks, future dates, exog alignment."""

import pandas as pd

__all__ = ["index_frequency", "future_index", "describe_range", "check_exog_index"]


def index_frequency(index, name):
    """The frequency of ``index`` (an offset, or the step of a RangeIndex).

    Parameters
    ----------
    index : pandas.Index
    name : str
        Argument name for error messages.

    Returns
    -------
    pandas offset or int
    """
    if len(index) > 1 and isinstance(index, (pd.RangeIndex, pd.PeriodIndex, pd.DatetimeIndex)):
        if index.is_monotonic_decreasing:
            raise ValueError(
                f"{name}'s index runs backwards, newest first (from {index[0]} down to "
                f"{index[-1]}); forecasts would be dated before the data. Sort it oldest "
                f"first: {name}.sort_index()."
            )
        if not isinstance(index, pd.RangeIndex) and not index.is_monotonic_increasing:
            raise ValueError(
                f"{name}'s index is not in time order (it starts at {index[0]} and ends at "
                f"{index[-1]}); sort it: {name}.sort_index()."
            )
    if isinstance(index, pd.RangeIndex):
        return index.step
    if isinstance(index, pd.PeriodIndex):
        if len(index) > 1 and not index.equals(
            pd.period_range(index[0], periods=len(index), freq=index.freq)
        ):
            raise ValueError(
                f"{name}'s PeriodIndex has gaps or is not sorted: from {index[0]} to "
                f"{index[-1]} there should be {len(index)} consecutive periods."
            )
        return index.freq
    if isinstance(index, pd.DatetimeIndex):
        freq = index.freq
        if freq is None and len(index) >= 3:
            try:
                freq = pd.DatetimeIndex(index, freq="infer").freq
            except ValueError:  # duplicated or unsorted dates
                freq = None
        if freq is None:
            raise ValueError(
                f"{name} has a DatetimeIndex without a frequency, and none can be inferred "
                f"(irregular dates from {index.min()} to {index.max()}). Regularise it, "
                f"e.g. {name}.asfreq('MS') or {name}.resample('D').mean()."
            )
        return freq
    raise TypeError(
        f"{name} must have a DatetimeIndex or PeriodIndex with a frequency, or a "
        f"RangeIndex; got {type(index).__name__}. Set one with "
        f"{name}.index = pd.date_range(start, periods=len({name}), freq=...) or "
        f"{name}.reset_index(drop=True)."
    )


def future_index(index, freq, steps):
    """The ``steps`` labels after the end of ``index``, in its type."""
    if isinstance(index, pd.RangeIndex):
        start = index[-1] + freq if len(index) else 0
        return pd.RangeIndex(start, start + steps * freq, freq)
    if isinstance(index, pd.PeriodIndex):
        return pd.period_range(index[-1] + 1, periods=steps, freq=freq)
    return pd.date_range(index[-1] + freq, periods=steps, freq=freq, tz=index.tz)


def describe_range(index):
    """``'<first> to <last> (<n> rows)'`` for error messages."""
    if len(index) == 0:
        return "no rows"
    return f"{index[0]} to {index[-1]} ({len(index)} rows)"


def check_exog_index(exog_index, expected, name, target):
    """Raise if ``exog_index`` does not start with ``expected``; print both ranges.

    Parameters
    ----------
    exog_index : pandas.Index
    expected : pandas.Index
        The labels that exog must cover, in order.
    name : str
        The exog argument's name.
    target : str
        What ``expected`` is, e.g. ``"y"`` or ``"the forecast horizon"``.
    """
    if len(exog_index) < len(expected):
        raise ValueError(
            f"{name} has {len(exog_index)} rows but must cover {target}: expected "
            f"{describe_range(expected)}, got {describe_range(exog_index)}."
        )
    head = exog_index[: len(expected)]
    same_type = type(head) is type(expected) or (
        isinstance(head, pd.RangeIndex) and pd.api.types.is_integer_dtype(expected)
    )
    if not same_type or not head.equals(expected):
        raise ValueError(
            f"{name} is not aligned with {target}: expected index "
            f"{describe_range(expected)}, got {describe_range(exog_index)} "
            f"({type(exog_index).__name__})."
        )
