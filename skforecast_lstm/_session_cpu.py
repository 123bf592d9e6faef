"""The CPU side of a fit: the twin of :class:`._session_cuda.CudaSession`.

A :class:`CpuSession` lives for one call of ``fit``/``partial_fit`` on the
CPU and answers the same four calls as the GPU's session: ``set_order`` once
per epoch, ``step`` per minibatch (forward, BPTT, the Keras ``l2`` penalty and
the optimizer step, all in place on the estimator's arrays), ``rollback``
after a step whose loss or gradient is not finite, and ``pull`` (nothing to
copy here: the weights never leave the host). Which kernels a step runs was
decided once, in the fit's :class:`._backend.Plan`.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._graph import draw_masks
from ._threads import N_CHUNKS

__all__ = ["CpuSession"]


class CpuSession:
    """Host state for one fit.

    Parameters
    ----------
    network : LSTMNetwork
    theta : ndarray of shape (P,)
        Parameters, updated in place.
    optimizer : Optimizer
        Its ``m``, ``v`` and ``step`` are updated in place.
    X : ndarray of shape (n, T, F)
    Y : ndarray of shape (n, K)
    sw : ndarray of shape (n,)
    plan : Plan
        The fused kernels or the general ones, dropout rates, ``l2``.
    rng : numpy.random.RandomState
        Draws the dropout masks (the estimator's generator, which also shuffles).
    n_threads : int
        Threads for the minibatch's parts (at most ``N_CHUNKS``).
    """

    def __init__(self, network, theta, optimizer, X, Y, sw, plan, rng, n_threads):
        self.network = network
        self.theta = theta
        self.X, self.Y, self.sw = X, Y, sw
        self.plan = plan
        self.rng = rng
        self.grads = np.zeros((N_CHUNKS, network.n_params), dtype=theta.dtype)
        self.pool = ThreadPoolExecutor(n_threads - 1) if n_threads > 1 else None
        self.weight_mask = network.weight_mask() if plan.l2 else None
        # the state before each step: a step that produces NaN/inf is undone
        self.state = (theta, optimizer.m, optimizer.v)
        self.backup = [a.copy() for a in self.state]
        self.order = None

    def set_order(self, order):
        """Take the sample order of this epoch (int64)."""
        self.order = order

    def step(self, start, stop, optimizer, learning_rate, beta_1, beta_2, epsilon, momentum,
             clipnorm):
        """Forward, BPTT and one optimizer step on ``order[start:stop]``.

        Returns
        -------
        loss : float
            Weighted mean loss of the minibatch (with the ``l2`` penalty).
        norm : float
            Gradient norm before clipping.
        """
        net, plan, grads, theta = self.network, self.plan, self.grads, self.theta
        idx = self.order[start:stop]
        for saved, current in zip(self.backup, self.state):
            np.copyto(saved, current)
        try:
            masks = None
            if plan.dropout or plan.recurrent_dropout:
                masks = draw_masks(net, idx.size, self.rng, plan.dropout,
                                   plan.recurrent_dropout)
            loss, n_parts = net.loss_grad(theta, self.X, self.Y, self.sw, idx, grads,
                                          self.pool, masks=masks, fused=plan.fused)
            if plan.l2:
                # Keras' l2 regulariser on every weight matrix: l2 * sum(w ** 2)
                decayed = theta * self.weight_mask
                grads[0] += (2 * plan.l2) * decayed
                loss += plan.l2 * float(np.dot(decayed, decayed))
            norm = net.apply(theta, grads, n_parts, optimizer, learning_rate, beta_1, beta_2,
                             epsilon, momentum, clipnorm)
        except KeyboardInterrupt:
            # kernels run to completion, so the state is one step or the other,
            # unless the interrupted step made it non-finite
            if not np.isfinite(theta).all():
                self._restore()
            raise
        return loss, norm

    def rollback(self, optimizer):
        """Undo the last step: its loss or gradient was not finite."""
        self._restore()
        optimizer.step -= 1

    def _restore(self):
        for saved, current in zip(self.backup, self.state):
            np.copyto(current, saved)

    def pull(self, theta, optimizer):
        """Nothing to copy: the session works on the estimator's own arrays."""

    def close(self):
        """Stop the threads and free the network's scratch buffers."""
        if self.pool is not None:
            self.pool.shutdown()
        self.network.release_workspaces()
