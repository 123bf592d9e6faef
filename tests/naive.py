"""A slow, plain NumPy LSTM: the reference the kernels are tested against."""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_forward(X, weights, units):
    """Run stacked LSTM layers over batch-major ``X`` (n, T, F); return all hidden states.

    ``weights`` maps PyTorch names (``weight_ih_l0``, ``weight_hh_l0``,
    ``bias_ih_l0``, ``bias_hh_l0``, ...) to arrays.
    """
    seq = np.asarray(X, dtype=np.float64)
    n, T, _ = seq.shape
    for k, H in enumerate(units):
        w_ih = weights[f"weight_ih_l{k}"]
        w_hh = weights[f"weight_hh_l{k}"]
        b = weights[f"bias_ih_l{k}"] + weights[f"bias_hh_l{k}"]
        h = np.zeros((n, H))
        c = np.zeros((n, H))
        out = np.zeros((n, T, H))
        for t in range(T):
            a = seq[:, t] @ w_ih.T + h @ w_hh.T + b
            i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
            out[:, t] = h
        seq = out
    return seq


def predict(X, weights, units, loss):
    """Head outputs on the last hidden state (probabilities for classification)."""
    h = lstm_forward(X, weights, units)[:, -1]
    z = h @ weights["head.weight"].T + weights["head.bias"]
    if loss == "binary":
        return sigmoid(z)
    if loss == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return z


def loss(X, Y, weights, units, kind, sample_weight=None, quantiles=None):
    """Weighted mean loss as the kernels define it."""
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    p = predict(X, weights, units, kind)
    if kind == "mse":
        per = ((p - Y) ** 2).mean(axis=1)
    elif kind == "binary":
        per = -(Y[:, 0] * np.log(p[:, 0]) + (1 - Y[:, 0]) * np.log(1 - p[:, 0]))
    elif kind == "softmax":
        per = -(Y * np.log(p)).sum(axis=1)
    else:
        e = Y - p
        q = np.asarray(quantiles, float)
        per = np.maximum(q * e, (q - 1) * e).mean(axis=1)
    return float((sw * per).sum() / n)
