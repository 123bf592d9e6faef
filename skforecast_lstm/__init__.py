"""skforecast_lstm: LSTM networks as scikit-learn estimators and pandas forecasters.

The forward pass and backpropagation through time are Numba kernels on NumPy
arrays; no deep-learning framework is needed.
"""

__version__ = "0.1.0.dev0"

from ._estimators import LSTMClassifier, LSTMRegressor

__all__ = ["LSTMRegressor", "LSTMClassifier", "__version__"]
