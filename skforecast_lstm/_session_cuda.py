"""The GPU side of a fit: device copies of the weights, optimizer state and data.

A :class:`CudaSession` lives for one call of ``fit``/``partial_fit`` with
``device='cuda'``; it answers the calls of its CPU twin,
:class:`._session_cpu.CpuSession`. It copies the training set, the parameters and the
optimizer state to the device once; every minibatch then runs forward, BPTT
and the optimizer step there (:mod:`._kernels.cuda`), with only the order of
the samples going up once per epoch and the loss and gradient norm (two
float64) coming back per minibatch. :meth:`CudaSession.pull` copies the
weights and optimizer state back into the estimator's NumPy arrays, so a
fitted estimator never holds a device array: it pickles, and predicts on a
machine without a GPU.

The whole minibatch runs as one piece (the CPU splits it in two for two
threads): the result is the same sum, rounded in another order.
"""

import numpy as np
from numba import cuda

from ._kernels import cuda as kernels
from ._kernels.cpu import OPT_ADAM

__all__ = ["CudaSession", "forward"]

# Predict in row chunks whose activations stay below this many bytes.
PREDICT_BYTES = 1 << 29


class CudaSession:
    """Device state for one fit.

    Parameters
    ----------
    network : LSTMNetwork
        Shapes and layout (its ``layers``, ``head``, ``loss_code``, ``quantiles``).
    theta : ndarray of shape (P,)
        Parameters (host); copied to the device.
    optimizer : Optimizer
        Its ``m``, ``v`` are copied to the device; ``step`` stays on the host.
    X : ndarray of shape (n, T, F)
    Y : ndarray of shape (n, K)
    sw : ndarray of shape (n,)
    """

    def __init__(self, network, theta, optimizer, X, Y, sw):
        self.network = network
        self.theta = cuda.to_device(theta)
        self.m = cuda.to_device(optimizer.m)
        self.v = cuda.to_device(optimizer.v if optimizer.v.size else np.zeros(1, theta.dtype))
        self.grads = cuda.device_array((1, network.n_params), dtype=theta.dtype)
        self.X = cuda.to_device(np.ascontiguousarray(X))
        self.Y = cuda.to_device(np.ascontiguousarray(Y))
        self.sw = cuda.to_device(np.ascontiguousarray(sw))
        self.quantiles = cuda.to_device(network.quantiles)
        self.workspace = kernels.Workspace()
        self.scalars = self.workspace.get("scalars", (2,), np.float64)
        self.order = None
        self.steps = 0  # steps since set_order: the host arrays hold the state before them

    def set_order(self, order):
        """Upload this epoch's sample order (int64), once per epoch."""
        self.order = cuda.to_device(np.ascontiguousarray(order, dtype=np.int64))
        self.steps = 0

    def step(self, start, stop, optimizer, learning_rate, beta_1, beta_2, epsilon, momentum,
             clipnorm):
        """Forward, BPTT and one optimizer step on ``order[start:stop]``.

        Returns
        -------
        loss : float
            Weighted mean loss of the minibatch.
        norm : float
            Gradient norm before clipping.
        """
        net = self.network
        idx = self.order[start:stop]
        size = stop - start
        kernels.network_loss_grad_async(
            self.theta, self.grads[0], net.layers, net.head, self.X, self.Y, self.sw, idx,
            net.loss_code, self.quantiles, 1.0 / size, self.workspace, self.scalars[:1],
        )
        optimizer.step += 1
        self.steps += 1
        b1 = beta_1 if optimizer.code == OPT_ADAM else momentum
        kernels.launch_apply(
            self.theta, self.grads, optimizer.code, self.m, self.v, float(learning_rate),
            float(b1), float(beta_2), float(epsilon), optimizer.step,
            -1.0 if clipnorm is None else float(clipnorm), self.workspace, self.scalars[1:],
        )
        loss, norm = self.scalars.copy_to_host()
        return float(loss) / size, float(norm)

    def rollback(self, optimizer):
        """Undo the epoch so far (a step's loss or gradient was not finite).

        The host arrays, pulled at the end of the last good epoch, are what is
        kept; the device copies are not used again.
        """
        optimizer.step -= self.steps
        self.steps = 0

    def pull(self, theta, optimizer):
        """Copy the device weights and optimizer state into the host arrays."""
        self.theta.copy_to_host(theta)
        self.m.copy_to_host(optimizer.m)
        if optimizer.v.size:
            self.v.copy_to_host(optimizer.v)

    def close(self):
        """Nothing to stop: the device arrays go with the session."""


def forward(network, theta, X):
    """Head outputs (probabilities for classification) of 3-D ``X``, as NumPy."""
    n, T, F = X.shape
    itemsize = network.dtype.itemsize
    per_row = itemsize * (T * F + sum(T * 4 * H + 2 * (T + 1) * H for H in network.units))
    chunk = int(max(1, min(n, PREDICT_BYTES // max(per_row, 1))))
    theta_d = cuda.to_device(theta)
    ws = kernels.Workspace()
    out = np.empty((n, network.n_outputs), dtype=network.dtype)
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        X_d = cuda.to_device(np.ascontiguousarray(X[lo:hi]))
        out_d = ws.get("out", (hi - lo, network.n_outputs), network.dtype)
        kernels.network_forward(
            theta_d, network.layers, network.head, X_d, network.loss_code, out_d, ws
        )
        out_d.copy_to_host(out[lo:hi])
    return out
