"""The losses: one table of names and codes, and their values in NumPy.

The network stores a loss by name; the CPU and CUDA kernels compute a loss and
its gradient by code (:data:`LOSSES` maps one to the other). Validation
scores and the blow-up yardstick of the estimators use :func:`loss_rows`, the
same losses in NumPy, without a gradient. ``param`` is the quantile of each
output for the pinball loss and the Huber loss's delta (one per output).
"""

import numpy as np

__all__ = [
    "LOSSES", "LOSS_MSE", "LOSS_BINARY", "LOSS_SOFTMAX", "LOSS_PINBALL", "LOSS_HUBER",
    "loss_rows",
]

LOSS_MSE = 0
LOSS_BINARY = 1
LOSS_SOFTMAX = 2
LOSS_PINBALL = 3
LOSS_HUBER = 4

LOSSES = {
    "mse": LOSS_MSE,
    "binary": LOSS_BINARY,
    "softmax": LOSS_SOFTMAX,
    "pinball": LOSS_PINBALL,
    "huber": LOSS_HUBER,
}


def loss_rows(code, out, Y, param):
    """The loss of each row of head outputs ``out`` against targets ``Y``, both (m, K).

    Mean over the K outputs (sum over the classes of a softmax); the
    probabilities of ``binary`` and ``softmax`` are clipped to 1e-12.
    """
    if code == LOSS_MSE:
        return ((out - Y) ** 2).mean(axis=1)
    if code == LOSS_BINARY:
        p = np.clip(out[:, 0].astype(float), 1e-12, 1 - 1e-12)
        return -(Y[:, 0] * np.log(p) + (1 - Y[:, 0]) * np.log(1 - p))
    if code == LOSS_SOFTMAX:
        return -(Y * np.log(np.clip(out.astype(float), 1e-12, None))).sum(axis=1)
    if code == LOSS_HUBER:
        e = np.abs(out - Y)
        return np.where(e <= param, 0.5 * e**2, param * (e - 0.5 * param)).mean(axis=1)
    e = Y - out
    return np.maximum(param * e, (param - 1) * e).mean(axis=1)
