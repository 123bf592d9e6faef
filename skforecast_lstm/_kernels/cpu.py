"""CPU kernels: LSTM forward pass, backpropagation through time, head, loss, optimizers.

Pure functions on NumPy arrays, compiled by Numba. No validation happens here:
the Python layer (``_network.py``) hands over C-contiguous arrays of one float
dtype (float32 or float64) and preallocated outputs.

Layout and notation
-------------------
Sequences are time-major inside the kernels: ``x`` has shape ``(T, B, F)``, so
every time step is one contiguous ``(B, F)`` matrix that BLAS can take as it is.
Weights use PyTorch's layout and gate order (i, f, g, o): ``w_ih`` is
``(4H, F)``, ``w_hh`` is ``(4H, H)`` and there is one bias ``b`` of ``4H`` (the
classic equations' one bias per gate). The cell is::

    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

with ``a = x_t @ w_ih.T + h_{t-1} @ w_hh.T + b``.

The network's parameters live in one flat vector ``theta``; ``layers`` (an
``(L, 5)`` int64 table: input size, hidden size and the offsets of ``w_ih``,
``w_hh``, ``b`` in ``theta``) and ``head`` (hidden size, outputs, offsets of
the dense weight and bias) say where each tensor is. One compiled
specialisation per dtype serves every depth and width.

Cost (flops per sample and layer, forward): ``2 * T * 4H * (F + H)``. The input
projection of all steps is one GEMM, the recurrent product is one GEMM per step,
and in the backward sweep the weight gradients are two GEMMs over all steps.
"""

import numpy as np

from .._jit import jit

# float32 constants: a Python float literal would promote float32 math to
# float64 (and halve the vector width); against float64 arrays they widen.
ZERO = np.float32(0.0)
ONE = np.float32(1.0)
TWO = np.float32(2.0)

# Loss codes (the Python side maps names to these).
LOSS_MSE = 0
LOSS_BINARY = 1
LOSS_SOFTMAX = 2
LOSS_PINBALL = 3

# Optimizer codes.
OPT_ADAM = 0
OPT_SGD = 1


@jit
def _sigmoid(x):
    return ONE / (ONE + np.exp(-x))


@jit
def _cell_forward(a, rec, b, c_prev, c_new, h_new, H):
    # Short loops over 1-D rows: each vectorises on its own.
    for j in range(4 * H):
        a[j] = a[j] + rec[j] + b[j]
    for j in range(2 * H):
        a[j] = _sigmoid(a[j])
    for j in range(2 * H, 3 * H):
        a[j] = np.tanh(a[j])
    for j in range(3 * H, 4 * H):
        a[j] = _sigmoid(a[j])
    for j in range(H):
        cc = a[H + j] * c_prev[j] + a[j] * a[2 * H + j]
        c_new[j] = cc
        h_new[j] = a[3 * H + j] * np.tanh(cc)


@jit
def lstm_layer_forward(x, w_ih, w_hh, b, gates, c, h):
    """Run one LSTM layer over a batch of sequences.

    Parameters
    ----------
    x : ndarray of shape (T, B, F)
        Time-major input.
    w_ih, w_hh, b : ndarray
        ``(4H, F)``, ``(4H, H)`` and ``(4H,)`` parameters.
    gates : ndarray of shape (T, B, 4H)
        Output: the gate activations (i, f, g, o) of every step, kept for BPTT.
    c, h : ndarray of shape (T + 1, B, H)
        Cell and hidden states; index 0 holds the initial state (read), 1..T
        are written.
    """
    T, B, F = x.shape
    H = w_hh.shape[1]
    np.dot(x.reshape(T * B, F), w_ih.T, gates.reshape(T * B, 4 * H))
    rec = np.empty((B, 4 * H), dtype=x.dtype)
    for t in range(T):
        np.dot(h[t], w_hh.T, rec)
        gt = gates[t]
        for r in range(B):
            _cell_forward(gt[r], rec[r], b, c[t, r], c[t + 1, r], h[t + 1, r], H)


@jit
def _cell_backward(a, c_prev, c_cur, dh, dh_next, dc, H):
    for j in range(H):
        i = a[j]
        f = a[H + j]
        g = a[2 * H + j]
        o = a[3 * H + j]
        tc = np.tanh(c_cur[j])
        dhj = dh[j] + dh_next[j]
        dcj = dc[j] + dhj * o * (ONE - tc * tc)
        a[j] = dcj * g * i * (ONE - i)
        a[H + j] = dcj * c_prev[j] * f * (ONE - f)
        a[2 * H + j] = dcj * i * (ONE - g * g)
        a[3 * H + j] = dhj * tc * o * (ONE - o)
        dc[j] = dcj * f


@jit
def lstm_layer_backward(x, w_ih, w_hh, gates, c, h, dh, dw_ih, dw_hh, db, dx):
    """Backpropagation through time for one layer.

    Parameters
    ----------
    x, w_ih, w_hh, gates, c, h : ndarray
        As in :func:`lstm_layer_forward`, after the forward pass. ``gates`` is
        overwritten with the gradients of the gate pre-activations.
    dh : ndarray of shape (T, B, H)
        Gradient of the loss with respect to the layer's outputs ``h[1:]``.
    dw_ih, dw_hh, db : ndarray
        Outputs: the parameter gradients (written, not accumulated).
    dx : ndarray of shape (T, B, F) or of size 0
        Output: gradient with respect to ``x``; skipped when of size 0.
    """
    T, B, F = x.shape
    H = w_hh.shape[1]
    dc = np.zeros((B, H), dtype=x.dtype)
    dh_next = np.zeros((B, H), dtype=x.dtype)
    for t in range(T - 1, -1, -1):
        gt = gates[t]
        for r in range(B):
            _cell_backward(gt[r], c[t, r], c[t + 1, r], dh[t, r], dh_next[r], dc[r], H)
        if t > 0:
            np.dot(gt, w_hh, dh_next)
    da = gates.reshape(T * B, 4 * H)
    np.dot(da.T, x.reshape(T * B, F), dw_ih)
    np.dot(da.T, h[:T].reshape(T * B, H), dw_hh)
    for j in range(4 * H):
        db[j] = ZERO
    for r in range(T * B):
        row = da[r]
        for j in range(4 * H):
            db[j] += row[j]
    if dx.size > 0:
        np.dot(da, w_ih, dx.reshape(T * B, F))


@jit
def _softplus(z):
    # log(1 + exp(z)) without overflow
    return max(z, ZERO) + np.log1p(np.exp(-abs(z)))


@jit
def loss_and_dlogits(z, y, sw, loss_kind, quantiles, scale, dz):
    """Loss of a batch and its gradient with respect to the head's outputs.

    Parameters
    ----------
    z : ndarray of shape (B, K)
        Head outputs (identity for regression, logits for classification).
    y : ndarray of shape (B, K)
        Targets: values, 0/1 for binary, one-hot rows for softmax.
    sw : ndarray of shape (B,)
        Sample weights.
    loss_kind : int
        One of LOSS_MSE, LOSS_BINARY, LOSS_SOFTMAX, LOSS_PINBALL.
    quantiles : ndarray of shape (K,)
        The quantile of each output column (pinball loss only).
    scale : float
        Factor of the gradient (1 / number of samples in the whole batch).
    dz : ndarray of shape (B, K)
        Output: ``scale * d(sum of weighted sample losses) / dz``.

    Returns
    -------
    loss : float
        Sum over the batch of weighted per-sample losses.
    """
    B, K = z.shape
    total = 0.0
    for r in range(B):
        w = sw[r]
        zr = z[r]
        yr = y[r]
        dr = dz[r]
        if loss_kind == LOSS_MSE:
            acc = 0.0
            for k in range(K):
                e = zr[k] - yr[k]
                acc += e * e
                dr[k] = TWO * e * w * scale / K
            total += w * acc / K
        elif loss_kind == LOSS_BINARY:
            zz = zr[0]
            total += w * (_softplus(zz) - yr[0] * zz)
            dr[0] = (_sigmoid(zz) - yr[0]) * w * scale
        elif loss_kind == LOSS_SOFTMAX:
            m = zr[0]
            for k in range(1, K):
                m = max(m, zr[k])
            s = 0.0
            for k in range(K):
                s += np.exp(zr[k] - m)
            lse = m + np.log(s)
            acc = 0.0
            for k in range(K):
                acc -= yr[k] * (zr[k] - lse)
                dr[k] = (np.exp(zr[k] - lse) - yr[k]) * w * scale
            total += w * acc
        else:
            acc = 0.0
            for k in range(K):
                e = yr[k] - zr[k]
                q = quantiles[k]
                if e >= 0:
                    acc += q * e
                    dr[k] = -q * w * scale / K
                else:
                    acc += (q - 1.0) * e
                    dr[k] = (1.0 - q) * w * scale / K
            total += w * acc / K
    return total


@jit
def _weights(theta, layers, k):
    n_in = layers[k, 0]
    H = layers[k, 1]
    o_ih = layers[k, 2]
    o_hh = layers[k, 3]
    o_b = layers[k, 4]
    w_ih = theta[o_ih : o_ih + 4 * H * n_in].reshape(4 * H, n_in)
    w_hh = theta[o_hh : o_hh + 4 * H * H].reshape(4 * H, H)
    b = theta[o_b : o_b + 4 * H]
    return w_ih, w_hh, b


@jit
def _head_weights(theta, head):
    H = head[0]
    K = head[1]
    w = theta[head[2] : head[2] + K * H].reshape(K, H)
    b = theta[head[3] : head[3] + K]
    return w, b


@jit
def _gather_time_major(X, idx):
    n, T, F = X.shape
    B = idx.size
    x = np.empty((T, B, F), dtype=X.dtype)
    for r in range(B):
        s = idx[r]
        for t in range(T):
            for f in range(F):
                x[t, r, f] = X[s, t, f]
    return x


@jit
def _dense(hlast, w, b, z):
    np.dot(hlast, w.T, z)
    B, K = z.shape
    for r in range(B):
        for k in range(K):
            z[r, k] += b[k]


@jit
def network_loss_grad(theta, grad, layers, head, X, Y, sw, idx, loss_kind, quantiles, scale):
    """Forward pass, loss and full BPTT for the samples ``idx`` of ``X``.

    Parameters
    ----------
    theta : ndarray of shape (P,)
        All parameters, laid out as ``layers`` and ``head`` say.
    grad : ndarray of shape (P,)
        Output: gradient of ``scale * sum of weighted sample losses``.
    layers : ndarray of shape (L, 5), int64
    head : ndarray of shape (4,), int64
    X : ndarray of shape (n, T, F)
        All samples, batch-major, as the user gave them.
    Y : ndarray of shape (n, K)
    sw : ndarray of shape (n,)
        Sample weights.
    idx : ndarray of shape (B,), int64
        The rows of ``X`` that form this (part of a) minibatch.
    loss_kind : int
    quantiles : ndarray of shape (K,)
    scale : float

    Returns
    -------
    loss : float
        Sum of the weighted sample losses over ``idx``.
    """
    L = layers.shape[0]
    B = idx.size
    T = X.shape[1]
    dtype = theta.dtype
    x = _gather_time_major(X, idx)
    inputs = [x]
    all_gates = []
    all_c = []
    all_h = []
    for k in range(L):
        H = layers[k, 1]
        w_ih, w_hh, b = _weights(theta, layers, k)
        gates = np.empty((T, B, 4 * H), dtype=dtype)
        c = np.empty((T + 1, B, H), dtype=dtype)
        h = np.empty((T + 1, B, H), dtype=dtype)
        c[0] = ZERO
        h[0] = ZERO
        lstm_layer_forward(inputs[k], w_ih, w_hh, b, gates, c, h)
        all_gates.append(gates)
        all_c.append(c)
        all_h.append(h)
        inputs.append(h[1:])

    # head and loss on the last hidden state of the top layer
    K = head[1]
    w_out, b_out = _head_weights(theta, head)
    hlast = all_h[L - 1][T]
    z = np.empty((B, K), dtype=dtype)
    _dense(hlast, w_out, b_out, z)
    yb = np.empty((B, K), dtype=dtype)
    swb = np.empty(B, dtype=dtype)
    for r in range(B):
        swb[r] = sw[idx[r]]
        for k in range(K):
            yb[r, k] = Y[idx[r], k]
    dz = np.empty((B, K), dtype=dtype)
    loss = loss_and_dlogits(z, yb, swb, loss_kind, quantiles, scale, dz)

    gw_out, gb_out = _head_weights(grad, head)
    np.dot(dz.T, hlast, gw_out)
    for k in range(K):
        gb_out[k] = ZERO
    for r in range(B):
        for k in range(K):
            gb_out[k] += dz[r, k]

    H_top = layers[L - 1, 1]
    dh = np.zeros((T, B, H_top), dtype=dtype)
    np.dot(dz, w_out, dh[T - 1])
    for k in range(L - 1, -1, -1):
        w_ih, w_hh, b = _weights(theta, layers, k)
        gw_ih, gw_hh, gb = _weights(grad, layers, k)
        if k > 0:
            dx = np.empty((T, B, layers[k, 0]), dtype=dtype)
        else:
            dx = np.empty((0, 0, 0), dtype=dtype)
        lstm_layer_backward(
            inputs[k], w_ih, w_hh, all_gates[k], all_c[k], all_h[k], dh, gw_ih, gw_hh, gb, dx
        )
        dh = dx
    return loss


@jit
def _layer_infer(seq, w_ih_t, w_hh_t, b, out):
    # One sequence through one layer, state kept in small arrays. The sums run
    # in a fixed order per row, so a row's result never depends on which other
    # rows are predicted with it (BLAS GEMM rounds rows differently by their
    # position in the block).
    T, F = seq.shape
    H = w_hh_t.shape[0]
    a = np.empty(4 * H, dtype=seq.dtype)
    h = np.zeros(H, dtype=seq.dtype)
    c = np.zeros(H, dtype=seq.dtype)
    for t in range(T):
        for j in range(4 * H):
            a[j] = b[j]
        xt = seq[t]
        for f in range(F):
            xf = xt[f]
            w = w_ih_t[f]
            for j in range(4 * H):
                a[j] += xf * w[j]
        for k in range(H):
            hk = h[k]
            w = w_hh_t[k]
            for j in range(4 * H):
                a[j] += hk * w[j]
        for j in range(2 * H):
            a[j] = _sigmoid(a[j])
        for j in range(2 * H, 3 * H):
            a[j] = np.tanh(a[j])
        for j in range(3 * H, 4 * H):
            a[j] = _sigmoid(a[j])
        for j in range(H):
            cc = a[H + j] * c[j] + a[j] * a[2 * H + j]
            c[j] = cc
            h[j] = a[3 * H + j] * np.tanh(cc)
        ot = out[t]
        for j in range(H):
            ot[j] = h[j]


@jit
def network_forward(theta, layers, head, X, out_kind, out):
    """Predict: run the stack and the head over ``X`` (batch-major) into ``out``.

    ``out_kind`` is a loss code: LOSS_BINARY applies the sigmoid,
    LOSS_SOFTMAX the softmax, the others leave the head's outputs as they are.
    Each row is computed on its own (see ``_layer_infer``), so rows can be
    split across threads in any way with identical results.
    """
    n, T, F = X.shape
    L = layers.shape[0]
    K = head[1]
    dtype = theta.dtype
    w_out, b_out = _head_weights(theta, head)
    transposed_ih = []
    transposed_hh = []
    biases = []
    for k in range(L):
        w_ih, w_hh, b = _weights(theta, layers, k)
        transposed_ih.append(np.ascontiguousarray(w_ih.T))
        transposed_hh.append(np.ascontiguousarray(w_hh.T))
        biases.append(b)
    buffers = [np.empty((T, layers[k, 1]), dtype=dtype) for k in range(L)]
    for r in range(n):
        seq = X[r]
        for k in range(L):
            _layer_infer(seq, transposed_ih[k], transposed_hh[k], biases[k], buffers[k])
            seq = buffers[k]
        hlast = seq[T - 1]
        zr = out[r]
        for k in range(K):
            acc = b_out[k]
            wk = w_out[k]
            for j in range(hlast.size):
                acc += wk[j] * hlast[j]
            zr[k] = acc
        if out_kind == LOSS_BINARY:
            zr[0] = _sigmoid(zr[0])
        elif out_kind == LOSS_SOFTMAX:
            m = zr[0]
            for k in range(1, K):
                m = max(m, zr[k])
            s = ZERO
            for k in range(K):
                zr[k] = np.exp(zr[k] - m)
                s += zr[k]
            for k in range(K):
                zr[k] = zr[k] / s


@jit
def apply_gradients(theta, grads, opt_kind, m, v, lr, beta_1, beta_2, epsilon, step, clipnorm):
    """Sum the per-chunk gradients, clip by global norm, take one optimizer step.

    Parameters
    ----------
    theta : ndarray of shape (P,)
        Parameters, updated in place.
    grads : ndarray of shape (n_chunks, P)
        Gradients of the parts of one minibatch; row 0 receives their sum.
    opt_kind : int
        OPT_ADAM or OPT_SGD.
    m, v : ndarray of shape (P,)
        Optimizer state (Adam's moments; SGD's velocity in ``m``).
    lr, beta_1, beta_2, epsilon : float
        Learning rate and Adam constants; for SGD ``beta_1`` is the momentum.
    step : int
        1-based step count (Adam's bias correction).
    clipnorm : float
        Largest allowed global gradient norm; <= 0 disables clipping.

    Returns
    -------
    norm : float
        Global norm of the gradient before clipping; inf or nan if the gradient
        or the updated parameters are not finite (the caller then restores its
        copy of the parameters: nothing is updated for a non-finite gradient).
    """
    n_chunks, P = grads.shape
    g = grads[0]
    for c in range(1, n_chunks):
        gc = grads[c]
        for p in range(P):
            g[p] += gc[p]
    sq = 0.0
    for p in range(P):
        sq += float(g[p]) * float(g[p])
    norm = np.sqrt(sq)
    if not np.isfinite(norm):
        return norm
    factor = 1.0
    if clipnorm > 0 and norm > clipnorm:
        factor = clipnorm / norm
    if opt_kind == OPT_ADAM:
        lr_t = lr * np.sqrt(1.0 - beta_2**step) / (1.0 - beta_1**step)
        for p in range(P):
            gp = g[p] * factor
            m[p] = beta_1 * m[p] + (1.0 - beta_1) * gp
            v[p] = beta_2 * v[p] + (1.0 - beta_2) * gp * gp
            theta[p] -= lr_t * m[p] / (np.sqrt(v[p]) + epsilon)
    else:
        for p in range(P):
            m[p] = beta_1 * m[p] - lr * g[p] * factor
            theta[p] += m[p]
    for p in range(P):
        if not np.isfinite(theta[p]):
            return np.inf
    return norm
