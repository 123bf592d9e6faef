"""skforecast_lstm: LSTM networks as scikit-learn estimators and pandas forecasters.

The forward pass and backpropagation through time are Numba kernels on NumPy
arrays; no deep-learning framework is needed.
"""

__version__ = "0.1.0.dev0"

from ._estimators import LSTMClassifier, LSTMRegressor
from .forecasting import LSTMForecaster, backtest, fit_each_series, make_windows

__all__ = [
    "LSTMRegressor",
    "LSTMClassifier",
    "LSTMForecaster",
    "backtest",
    "fit_each_series",
    "make_windows",
    "__version__",
]
