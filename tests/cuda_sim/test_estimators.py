"""Fit and predict with device='cuda' (on the CUDA simulator) against device='cpu'.

Same random_state, same initial weights (drawn in NumPy), same sample order:
the fitted weights, loss curves and predictions agree within float64
rounding. The CPU splits a minibatch in two parts, the GPU sums it whole, so
the two are not bit-identical.
"""

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from skforecast_lstm import LSTMClassifier, LSTMRegressor

RTOL = 1e-10
SMALL = dict(units=(4, 3), epochs=2, batch_size=8, learning_rate=0.05, dtype="float64",
             random_state=0)


def _data(n=12, T=3, F=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, T, F))
    return X, X[:, -1, 0] - 0.5 * X[:, 0, 1]


def _assert_same_fit(gpu, cpu):
    assert gpu.device_ == "cuda" and cpu.device_ == "cpu"
    assert gpu.n_iter_ == cpu.n_iter_
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=RTOL)
    np.testing.assert_allclose(gpu._theta, cpu._theta, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(gpu._optimizer.m, cpu._optimizer.m, rtol=1e-8, atol=1e-12)
    assert type(gpu._theta) is np.ndarray and type(gpu._optimizer.m) is np.ndarray


def test_regressor_fit_predict_matches_cpu():
    """Two stacked layers, a short last batch (8 + 4 rows), shuffling, clipping: as on the CPU."""
    X, y = _data()
    gpu = LSTMRegressor(**SMALL, device="cuda").fit(X, y)
    cpu = LSTMRegressor(**SMALL, device="cpu").fit(X, y)
    _assert_same_fit(gpu, cpu)
    X_new = _data(n=5, seed=1)[0]
    pred = gpu.predict(X_new)
    np.testing.assert_allclose(pred, cpu.predict(X_new), rtol=RTOL, atol=1e-12)

    # for tests/test_cuda.py: a GPU-trained model, loaded where there is no GPU
    artifacts = os.environ.get("SKFORECAST_LSTM_ARTIFACTS")
    if artifacts:
        with open(Path(artifacts) / "model.pkl", "wb") as fh:
            pickle.dump(gpu, fh)
        np.savez(Path(artifacts) / "predictions.npz", X=X_new, cuda=pred)


def test_classifier_early_stopping_sgd_matches_cpu():
    """Softmax, SGD with momentum and validation on the GPU: as on the CPU."""
    X, _ = _data(n=16)
    y = np.digitize(X[:, -1, 0], [-0.5, 0.5])  # three classes
    params = dict(SMALL, units=4, optimizer="sgd", early_stopping=True,
                  validation_fraction=0.25)
    gpu = LSTMClassifier(**params, device="cuda").fit(X, y)
    cpu = LSTMClassifier(**params, device="cpu").fit(X, y)
    _assert_same_fit(gpu, cpu)
    np.testing.assert_allclose(gpu.validation_loss_curve_, cpu.validation_loss_curve_,
                               rtol=RTOL)
    np.testing.assert_allclose(gpu.predict_proba(X[:6]), cpu.predict_proba(X[:6]),
                               rtol=RTOL, atol=1e-12)


def test_partial_fit_moves_state_between_devices():
    """A CPU fit continued on the GPU with partial_fit equals one continued on the CPU."""
    X, y = _data()
    params = dict(SMALL, units=3, epochs=1)
    gpu = LSTMRegressor(**params).fit(X, y).set_params(device="cuda").partial_fit(X, y)
    cpu = LSTMRegressor(**params).fit(X, y).partial_fit(X, y)
    assert gpu._optimizer.step == cpu._optimizer.step == 4
    np.testing.assert_allclose(gpu._optimizer.v, cpu._optimizer.v, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(gpu._theta, cpu._theta, rtol=RTOL, atol=1e-12)


def test_float32_fit_is_close_to_cpu():
    """float32 on the GPU stays within float32 rounding of the CPU fit."""
    X, y = _data()
    params = dict(SMALL, units=3, epochs=1, dtype="float32")
    gpu = LSTMRegressor(**params, device="cuda").fit(X, y)
    cpu = LSTMRegressor(**params, device="cpu").fit(X, y)
    assert gpu._theta.dtype == np.float32
    np.testing.assert_allclose(gpu._theta, cpu._theta, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("device", ["auto"])
def test_auto_does_not_pick_the_simulator(device):
    """Under the simulator, device='auto' trains on the CPU."""
    X, y = _data(n=10)
    assert LSTMRegressor(units=2, epochs=1, device=device).fit(X, y).device_ == "cpu"
