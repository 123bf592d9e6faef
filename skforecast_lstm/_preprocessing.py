"""Per-series transforms of the forecaster: log, differencing, scaling, and their inverses.

A raw series ``y`` goes through three steps, each chosen per series and undone
on the way out:

1. ``z = log(y)`` for positive series whose amplitude grows with their level
   (multiplicative seasonality, exponential growth), else ``z = y``;
2. ``d = diff(z)`` when the KPSS test rejects level stationarity (a trend or a
   random walk), else ``d = z``;
3. ``u = (d - center) / scale``, the mean and standard deviation of ``d``.

The network only sees ``u``. All functions take and return NumPy arrays.
"""

import numpy as np

__all__ = [
    "kpss_statistic",
    "wants_log",
    "wants_differencing",
    "SeriesTransform",
    "KPSS_CRITICAL_5PCT",
]

# Kwiatkowski et al. (1992), table 1, level stationarity, 5 %.
KPSS_CRITICAL_5PCT = 0.463


def kpss_statistic(x):
    """KPSS statistic for the null hypothesis of level stationarity.

    The long-run variance uses the Bartlett kernel with
    ``ceil(12 * (n / 100) ** 0.25)`` lags, as ``statsmodels.tsa.stattools.kpss``
    with ``regression='c', nlags='legacy'``.

    Parameters
    ----------
    x : ndarray of shape (n,)
        The series, without missing values.

    Returns
    -------
    float
        Large values (above 0.463 at the 5 % level) reject stationarity.

    References
    ----------
    Kwiatkowski, D., Phillips, P. C. B., Schmidt, P. and Shin, Y. (1992).
    Testing the null hypothesis of stationarity against the alternative of a
    unit root. Journal of Econometrics 54, 159-178.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> bool(kpss_statistic(rng.normal(size=300)) < KPSS_CRITICAL_5PCT)
    True
    >>> bool(kpss_statistic(np.cumsum(rng.normal(size=300))) > KPSS_CRITICAL_5PCT)
    True
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    resid = x - x.mean()
    eta = np.sum(np.cumsum(resid) ** 2) / n**2
    n_lags = min(int(np.ceil(12.0 * (n / 100.0) ** 0.25)), n - 1)
    variance = np.dot(resid, resid)
    for lag in range(1, n_lags + 1):
        variance += 2.0 * (1.0 - lag / (n_lags + 1.0)) * np.dot(resid[lag:], resid[:-lag])
    variance /= n
    if variance <= 0:
        return 0.0
    return float(eta / variance)


def wants_differencing(z):
    """Whether ``z`` should be differenced once: KPSS rejects stationarity at 5 %.

    Parameters
    ----------
    z : ndarray of shape (n,)

    Returns
    -------
    bool
    """
    if z.size < 8 or np.ptp(z) == 0:
        return False
    return kpss_statistic(z) > KPSS_CRITICAL_5PCT


def wants_log(y, block):
    """Whether a positive series has an amplitude that grows with its level.

    The series is cut into blocks of ``block`` points; the log of each block's
    mean level is compared with the log of its mean absolute change. A
    correlation above 0.5 while the level varies by more than 50 % between
    blocks means multiplicative behaviour, which a log turns additive.

    Parameters
    ----------
    y : ndarray of shape (n,)
    block : int
        Points per block (the forecaster uses ``lags``).

    Returns
    -------
    bool
    """
    if np.any(y <= 0):
        return False
    block = max(int(block), 4)
    n_blocks = y.size // block
    if n_blocks < 4:
        return False
    blocks = y[y.size - n_blocks * block :].reshape(n_blocks, block)
    level = blocks.mean(axis=1)
    change = np.abs(np.diff(blocks, axis=1)).mean(axis=1)
    if level.max() < 1.5 * level.min() or np.any(change <= 0):
        return False
    log_level, log_change = np.log(level), np.log(change)
    if np.ptp(log_change) < 1e-12:
        return False
    corr = np.corrcoef(log_level, log_change)[0, 1]
    return bool(corr > 0.5)


class SeriesTransform:
    """The fitted log / difference / scale steps of several series.

    Parameters
    ----------
    transform : {'auto', 'log', None}
        ``'auto'`` takes the log of series for which :func:`wants_log` holds.
    differentiation : {'auto', 0, 1, None}
        ``'auto'`` differences series for which :func:`wants_differencing`
        holds.
    block : int
        Block length of :func:`wants_log`.

    Attributes
    ----------
    log_ : ndarray of bool, shape (n_series,)
    order_ : ndarray of int, shape (n_series,)
        0 or 1.
    center_, scale_ : ndarray of shape (n_series,)
        Mean and standard deviation of the (differenced) series.
    """

    def __init__(self, transform, differentiation, block):
        self.transform = transform
        self.differentiation = differentiation
        self.block = block

    def fit(self, y):
        """Choose and fit the steps on ``y`` of shape (n, n_series).

        Parameters
        ----------
        y : ndarray of shape (n, n_series)

        Returns
        -------
        self : SeriesTransform
        """
        n_series = y.shape[1]
        self.log_ = np.zeros(n_series, dtype=bool)
        self.order_ = np.zeros(n_series, dtype=np.int64)
        self.center_ = np.zeros(n_series)
        self.scale_ = np.ones(n_series)
        for s in range(n_series):
            if self.transform == "log":
                self.log_[s] = True
            elif self.transform == "auto":
                self.log_[s] = wants_log(y[:, s], self.block)
            z = np.log(y[:, s]) if self.log_[s] else y[:, s]
            if self.differentiation == "auto":
                self.order_[s] = int(wants_differencing(z))
            else:
                self.order_[s] = int(self.differentiation or 0)
            d = np.diff(z) if self.order_[s] else z
            self.center_[s] = d.mean()
            scale = d.std()
            self.scale_[s] = scale if scale > 0 else 1.0
        return self

    def to_level(self, y):
        """``z``: the log of the series where chosen, else the series."""
        z = np.array(y, dtype=np.float64)
        if self.log_.any():
            z[:, self.log_] = np.log(z[:, self.log_])
        return z

    def from_level(self, z):
        """Inverse of :meth:`to_level`."""
        y = np.array(z, dtype=np.float64)
        if self.log_.any():
            y[..., self.log_] = np.exp(y[..., self.log_])
        return y

    def transform_level(self, z):
        """``u`` from ``z`` of shape (n, n_series); the first row is NaN where differenced."""
        u = np.array(z, dtype=np.float64)
        diffed = self.order_ == 1
        if diffed.any():
            u[1:, diffed] = np.diff(z[:, diffed], axis=0)
            u[0, diffed] = np.nan
        return (u - self.center_) / self.scale_

    def path_to_level(self, path, series, z_last):
        """Levels ``z`` of forecast paths given in the network's target form.

        Parameters
        ----------
        path : ndarray of shape (m, steps, ...)
            Scaled values ``u`` for undifferenced series, their cumulative sum
            over the horizon for differenced ones.
        series : ndarray of int, shape (m,)
            Series of each row.
        z_last : ndarray of shape (m,)
            Last known level of each row (used for differenced series).

        Returns
        -------
        ndarray of the shape of ``path``
        """
        extra = (1,) * (path.ndim - 2)
        scale = self.scale_[series].reshape(-1, 1, *extra)
        center = self.center_[series].reshape(-1, 1, *extra)
        diffed = (self.order_[series] == 1).reshape(-1, 1, *extra)
        horizon = np.arange(1, path.shape[1] + 1, dtype=np.float64).reshape(1, -1, *extra)
        level = path * scale + center
        cumulative = z_last.reshape(-1, 1, *extra) + path * scale + horizon * center
        return np.where(diffed, cumulative, level)
