"""Per-series transforms of the forecaster: log, differencing, scaling, and their inverses.

A raw series ``y`` goes through three steps, each chosen per series and undone
on the way out:

1. ``z = log(y)`` (positive series only), else ``z = y``;
2. ``d = diff(z)``, or ``d = z``;
3. ``u = (d - center) / scale``, the mean and standard deviation of ``d``.

The network only sees ``u`` (each window optionally centred on its own mean,
see :func:`._windows.encode_inputs`). Which of the candidate recipes in
:data:`CANDIDATES` a series gets is decided by the forecaster on held-out
forecast origins. All functions take and return NumPy arrays.
"""

from collections import namedtuple

import numpy as np

__all__ = ["Recipe", "CANDIDATES", "candidate_recipes", "SeriesTransform"]

Recipe = namedtuple("Recipe", ["name", "log", "order", "centring"])
Recipe.__doc__ = """One preprocessing recipe: log or not, differencing order, window centring."""

# The recipes the forecaster chooses among (the first is the fallback when a
# series is too short to validate): plain global standard scaling, each window
# centred on its mean (a level that wanders), one difference (a trend or a random
# walk), and the log variants of the last two (an amplitude that grows with the level).
CANDIDATES = (
    Recipe("difference", False, 1, False),
    Recipe("standard", False, 0, False),
    Recipe("window", False, 0, True),
    Recipe("log + window", True, 0, True),
    Recipe("log + difference", True, 1, False),
)


def candidate_recipes(transform, differentiation, normalize_windows):
    """The recipes of :data:`CANDIDATES` that the forecaster's settings allow.

    Parameters
    ----------
    transform : {'auto', 'log', None}
    differentiation : {'auto', 0, 1, None}
    normalize_windows : {'auto', True, False}

    Returns
    -------
    list of Recipe
        In the order of :data:`CANDIDATES`; a setting that is not ``'auto'``
        fixes its part of the recipe (a fixed combination no candidate has is
        returned as a recipe of its own).
    """
    log = None if transform == "auto" else transform == "log"
    order = None if differentiation == "auto" else int(differentiation or 0)
    centring = None if normalize_windows == "auto" else bool(normalize_windows)
    chosen = [
        r for r in CANDIDATES
        if (log is None or r.log == log) and (order is None or r.order == order)
        and (centring is None or r.centring == centring)
    ]
    if chosen:
        return chosen
    return [Recipe("fixed", bool(log), int(order or 0), bool(centring))]


class SeriesTransform:
    """The fitted log / difference / scale steps of several series.

    Parameters
    ----------
    log : array-like of bool, shape (n_series,)
        Series to log-transform (they must be positive).
    order : array-like of int, shape (n_series,)
        Differencing order of each series, 0 or 1.

    Attributes
    ----------
    log_ : ndarray of bool, shape (n_series,)
    order_ : ndarray of int, shape (n_series,)
    center_, scale_ : ndarray of shape (n_series,)
        Mean and standard deviation of the (differenced) series.
    """

    def __init__(self, log, order):
        self.log = log
        self.order = order

    def fit(self, values):
        """Fit the scaling of each series.

        Parameters
        ----------
        values : list of ndarray
            One array per series (of any lengths).

        Returns
        -------
        self : SeriesTransform
        """
        n_series = len(values)
        self.log_ = np.broadcast_to(np.asarray(self.log, dtype=bool), (n_series,)).copy()
        self.order_ = np.broadcast_to(np.asarray(self.order, dtype=np.int64), (n_series,)).copy()
        self.center_ = np.zeros(n_series)
        self.scale_ = np.ones(n_series)
        for s, y in enumerate(values):
            d = self.transform_level(self.to_level(y, s), s, scale=False)[self.order_[s]:]
            self.center_[s] = d.mean()
            scale = d.std()
            self.scale_[s] = scale if scale > 0 else 1.0
        return self

    def select(self, rows):
        """The fitted steps of the series ``rows`` (an index array), in that order."""
        out = SeriesTransform(self.log_[rows], self.order_[rows])
        out.log_, out.order_ = self.log_[rows], self.order_[rows]
        out.center_, out.scale_ = self.center_[rows], self.scale_[rows]
        return out

    def to_level(self, y, s):
        """``z`` of series ``s``: its log where chosen, else its values."""
        y = np.asarray(y, dtype=np.float64)
        return np.log(y) if self.log_[s] else y.copy()

    def transform_level(self, z, s, scale=True):
        """``u`` of series ``s`` from ``z``; the first value is NaN where differenced."""
        u = np.array(z, dtype=np.float64)
        if self.order_[s]:
            u[1:] = np.diff(z)
            u[0] = np.nan
        return (u - self.center_[s]) / self.scale_[s] if scale else u

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

    def original_units(self, levels, series):
        """Levels ``z`` of rows of ``series`` on the series' own scale (undo the log)."""
        log = self.log_[series].reshape(-1, *(1,) * (levels.ndim - 1))
        with np.errstate(over="ignore"):
            return np.where(log, np.exp(levels), levels)
