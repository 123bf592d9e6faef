"""Sliding windows over series, as strided views; the forecaster's per-batch encoding.

:func:`make_windows` never copies a window: ``X`` and ``Y`` are read-only
views into one array the size of the series, so a long series costs memory
proportional to its length, not to ``lags`` times its length. The forecaster
copies and encodes only the rows of one batch at a time (:func:`encode_inputs`,
:func:`encode_targets`).
"""

from numbers import Integral

import numpy as np

__all__ = ["make_windows", "encode_inputs", "encode_targets", "check_positive_int"]


def check_positive_int(value, name):
    """``value`` as an int >= 1, or a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}.")
    return int(value)


def _as_float_array(values, name, ndim):
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must hold numbers; could not convert it: {exc}") from None
    if arr.ndim not in ndim:
        raise ValueError(f"{name} must be {' or '.join(f'{d}-D' for d in ndim)}; got {arr.ndim}-D.")
    return arr


def make_windows(y, lags, steps, exog=None):
    """Input windows and multi-step targets of one series, as strided views.

    Window ``i`` ends at time ``t = i + lags - 1``: ``X[i, :, 0]`` holds
    ``y[t - lags + 1 : t + 1]`` and ``Y[i]`` holds ``y[t + 1 : t + steps + 1]``.
    Exogenous values are read ``steps`` ahead of ``y``: ``X[i, j, 1:]`` is
    ``exog[t - lags + 1 + j + steps]``, so the last ``steps`` positions of a
    window carry the exogenous values of the forecast horizon (all of them
    when ``lags >= steps``).

    Parameters
    ----------
    y : array-like of shape (n,)
        The series (a pandas Series is read by position).
    lags : int
        Length of the input windows.
    steps : int
        Number of future values per target row.
    exog : array-like of shape (n,) or (n, n_exog), default=None
        Exogenous variables aligned with ``y``.

    Returns
    -------
    X : ndarray of shape (n - lags - steps + 1, lags, 1 + n_exog)
        Read-only view; ``np.ascontiguousarray(X)`` makes a copy.
    Y : ndarray of shape (n - lags - steps + 1, steps)
        Read-only view.

    Examples
    --------
    >>> import numpy as np
    >>> from skforecast_lstm import make_windows
    >>> X, Y = make_windows(np.arange(10.0), lags=3, steps=2)
    >>> X.shape, Y.shape
    ((6, 3, 1), (6, 2))
    >>> X[0, :, 0], Y[0]
    (array([0., 1., 2.]), array([3., 4.]))
    >>> np.shares_memory(X, Y)
    True
    """
    lags = check_positive_int(lags, "lags")
    steps = check_positive_int(steps, "steps")
    y = _as_float_array(y, "y", (1,))
    n = y.shape[0]
    if n < lags + steps:
        raise ValueError(
            f"y has {n} values; windows of lags={lags} inputs and steps={steps} targets "
            f"need at least lags + steps = {lags + steps}."
        )
    if exog is None:
        n_exog = 0
    else:
        exog = _as_float_array(exog, "exog", (1, 2)).reshape(len(exog), -1)
        if exog.shape[0] != n:
            raise ValueError(
                f"exog has {exog.shape[0]} rows but y has {n} values; they must be aligned."
            )
        n_exog = exog.shape[1]
    # One array of the size of the series: y, then exog shifted by `steps`.
    table = np.empty((n, 1 + n_exog), dtype=np.float64)
    table[:, 0] = y
    if n_exog:
        table[: n - steps, 1:] = exog[steps:]
        table[n - steps :, 1:] = np.nan  # never inside a window
    X = np.lib.stride_tricks.sliding_window_view(table[: n - steps], lags, axis=0)
    X = X.transpose(0, 2, 1)
    Y = np.lib.stride_tricks.sliding_window_view(table[lags:, 0], steps)
    return X, Y


def encode_inputs(raw, constant, normalize, dtype, future_exog=None, past=None):
    """Network inputs from raw windows (a copy of the batch's rows only).

    The lag window is the sequence the LSTM reads; with exogenous variables one
    more step follows it, whose inputs are the exog of every step of the
    horizon side by side. The last state, which the head reads, thereby sees
    each future value directly, however many steps the horizon has and however
    few lags the window. Per-series inputs that do not change over time (the
    series' identity, static covariates) are repeated at every step.

    Parameters
    ----------
    raw : ndarray of shape (m, lags)
        Windows of scaled values.
    constant : ndarray of shape (m, n_constant) or None
        Inputs of each row repeated at every step.
    normalize : bool or ndarray of bool, shape (m,)
        Subtract each window's mean from its values (per row when an array).
    dtype : numpy dtype
    future_exog : ndarray of shape (m, steps, n_exog), default=None
        Scaled exogenous values of the ``steps`` forecast steps of each row.
    past : ndarray of shape (m, lags, n_past), default=None
        Scaled values of variables known only in the past, beside each value
        of the window (past covariates).

    Returns
    -------
    X : ndarray of shape (m, lags [+ 1], 1 [+ n_past] [+ steps * n_exog] [+ n_constant])
    location : ndarray of shape (m,)
        The subtracted means (zeros without ``normalize``).
    """
    m, lags = raw.shape
    n_past = 0 if past is None else past.shape[2]
    n_constant = 0 if constant is None else constant.shape[1]
    n_future = 0 if future_exog is None else future_exog.shape[1] * future_exog.shape[2]
    length = lags + (1 if n_future else 0)
    X = np.zeros((m, length, 1 + n_past + n_future + n_constant), dtype=dtype)
    location = np.where(normalize, raw.mean(axis=1), 0.0)
    X[:, :lags, 0] = raw - location[:, None]
    if n_past:
        X[:, :lags, 1 : 1 + n_past] = past
    if n_future:
        X[:, lags, 1 + n_past : 1 + n_past + n_future] = future_exog.reshape(m, n_future)
    if n_constant:
        X[:, :, 1 + n_past + n_future :] = constant[:, None, :]
    return X, location


def encode_targets(raw, location, cumulative, dtype):
    """Network targets from raw target rows.

    Parameters
    ----------
    raw : ndarray of shape (m, steps)
        Future scaled values.
    location : ndarray of shape (m,)
        As returned by :func:`encode_inputs`.
    cumulative : ndarray of bool, shape (m,)
        Rows of differenced series: their targets are the running sum over the
        horizon (the change of level since the window's end), so that any
        quantile of a target maps to a quantile of the level.
    dtype : numpy dtype

    Returns
    -------
    ndarray of shape (m, steps)
    """
    horizon = np.arange(1, raw.shape[1] + 1)
    summed = np.cumsum(raw, axis=1) - location[:, None] * horizon
    plain = raw - location[:, None]
    return np.where(np.asarray(cumulative)[:, None], summed, plain).astype(dtype)


def decode_outputs(out, location, cumulative):
    """Inverse of :func:`encode_targets` on predictions of any trailing shape."""
    extra = (1,) * (out.ndim - 2)
    loc = location.reshape(-1, 1, *extra)
    horizon = np.arange(1, out.shape[1] + 1, dtype=np.float64).reshape(1, -1, *extra)
    cum = np.asarray(cumulative).reshape(-1, 1, *extra)
    return np.where(cum, out + loc * horizon, out + loc)
