"""Plots of forecasts (needs matplotlib, the ``plot`` extra)."""

import pandas as pd

__all__ = ["plot_forecast"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "plot_forecast needs matplotlib: pip install 'skforecast-lstm[plot]'."
        ) from None
    return plt


def _as_timestamps(index):
    return index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index


def plot_forecast(y, pred, interval=None, *, ax=None, history=None, title=None):
    """Plot a series, its forecast and, optionally, a prediction interval.

    Parameters
    ----------
    y : pandas.Series
        Observed values (history, and the actual future values if known).
    pred : pandas.Series or pandas.DataFrame
        The forecast: a Series, or a frame with a ``pred`` column (as
        returned by ``predict_interval``).
    interval : pandas.DataFrame, default=None
        With ``lower`` and ``upper`` columns; ``None`` uses those of
        ``pred`` when it has them.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when ``None``.
    history : int, default=None
        Show only the last ``history`` observations before the forecast.
    title : str, default=None

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from skforecast_lstm.plotting import plot_forecast
    >>> y = pd.Series(range(10), index=pd.date_range("2020", periods=10, freq="D"))
    >>> pred = pd.Series([10.0, 11.0], index=pd.date_range("2020-01-11", periods=2),
    ...                  name="pred")
    >>> ax = plot_forecast(y, pred)
    >>> [line.get_label() for line in ax.get_lines()]
    ['observed', 'forecast']
    """
    plt = _pyplot()
    if not isinstance(y, pd.Series):
        raise TypeError(f"y must be a pandas Series; got {type(y).__name__}.")
    if isinstance(pred, pd.DataFrame):
        if "pred" not in pred.columns:
            raise ValueError(f"pred must have a 'pred' column; it has {list(pred.columns)}.")
        if interval is None and {"lower", "upper"} <= set(pred.columns):
            interval = pred
        pred = pred["pred"]
    elif not isinstance(pred, pd.Series):
        raise TypeError(f"pred must be a pandas Series or DataFrame; got {type(pred).__name__}.")
    if interval is not None and not {"lower", "upper"} <= set(interval.columns):
        raise ValueError(
            f"interval must have 'lower' and 'upper' columns; it has {list(interval.columns)}."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4))
    observed = y
    if history is not None and len(pred):
        before = y[y.index < pred.index[0]]
        observed = pd.concat([before.iloc[-history:], y[y.index >= pred.index[0]]])
    ax.plot(_as_timestamps(observed.index), observed.to_numpy(), color="0.2", lw=1.2,
            label="observed")
    ax.plot(_as_timestamps(pred.index), pred.to_numpy(), color="C1", lw=1.8, label="forecast")
    if interval is not None:
        ax.fill_between(_as_timestamps(interval.index), interval["lower"].to_numpy(),
                        interval["upper"].to_numpy(), color="C1", alpha=0.25,
                        label="prediction interval")
    ax.set_title(title if title is not None else (y.name if y.name is not None else ""))
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return ax
