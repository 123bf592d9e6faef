"""CPU kernels of one LSTM layer with the Keras options.

The same layout and equations as :mod:`skforecast_lstm._kernels.cpu`, with:

- ``act``: the nonlinearity of the candidate ``g`` and of the cell output
  ``h = o * act(c)`` (Keras' ``activation``), and ``rec_act``: that of the
  gates i, f, o (Keras' ``recurrent_activation``), as integer codes;
- ``step_mask`` ``(T, B)``: 0 where a step is padding. A masked step leaves
  the state as it was (``c_t = c_{t-1}``, ``h_t = h_{t-1}``), as Keras'
  ``mask_zero``; size 0 means no mask;
- ``h_mask`` ``(B, H)``: the recurrent-dropout mask, multiplied into
  ``h_{t-1}`` before the recurrent product at every step of a sequence (the
  same mask over time, as Keras); size 0 means none.

A backward-direction layer is this layer run on time-reversed inputs; the
network (``_graph.py``) reverses and concatenates. The plain default cell
(tanh/sigmoid, no mask, no dropout) runs through the tuned kernels in
``cpu.py``; these carry the options at the price of a branch per element.
"""

import numpy as np

from .._blas import gemm
from .._jit import jit
from .cpu import ONE, ZERO

# exact float32 constants of the hard sigmoid (see cpu.py on float32 constants)
HALF = np.float32(0.5)
SIX = np.float32(6.0)

ACT_TANH = 0
ACT_RELU = 1
ACT_LINEAR = 2
ACT_SIGMOID = 3
ACT_HARD_SIGMOID = 4


@jit
def activate(x, code):
    """The activation ``code`` at ``x``."""
    if code == ACT_TANH:
        return np.tanh(x)
    if code == ACT_RELU:
        return x if x > ZERO else x * ZERO
    if code == ACT_LINEAR:
        return x
    if code == ACT_SIGMOID:
        return ONE / (ONE + np.exp(-x))
    # Keras 3's hard sigmoid: clip(x / 6 + 1 / 2, 0, 1)
    y = x / SIX + HALF
    return min(max(y, y * ZERO), y * ZERO + ONE)


@jit
def derivative(y, code):
    """The derivative of activation ``code``, from its output ``y``."""
    if code == ACT_TANH:
        return ONE - y * y
    if code == ACT_RELU:
        return ONE if y > ZERO else ZERO
    if code == ACT_LINEAR:
        return ONE
    if code == ACT_SIGMOID:
        return y * (ONE - y)
    return ONE / SIX if ZERO < y < ONE else ZERO


@jit
def layer_forward(x, w_ih, w_hh, b, act, rec_act, step_mask, h_mask, gates, c, h):
    """One layer over a batch of sequences, with activations, masks, dropout.

    Parameters
    ----------
    x : ndarray of shape (T, B, F)
    w_ih, w_hh, b : ndarray
        ``(4H, F)``, ``(4H, H)``, ``(4H,)`` in gate order (i, f, g, o).
    act, rec_act : int
        Activation codes (ACT_*).
    step_mask : ndarray of shape (T, B) or (0, 0)
        1 for real steps, 0 for padding.
    h_mask : ndarray of shape (B, H) or (0, 0)
        Recurrent-dropout mask (already scaled by ``1 / (1 - rate)``).
    gates : ndarray of shape (T, B, 4H)
        Output: gate activations (zeros at masked steps).
    c, h : ndarray of shape (T + 1, B, H)
        States; index 0 holds the initial state.
    """
    T, B, F = x.shape
    H = w_hh.shape[1]
    gemm(x.reshape(T * B, F), w_ih, gates.reshape(T * B, 4 * H), False, True, 0.0)
    rec = np.empty((B, 4 * H), dtype=x.dtype)
    dropped = np.empty((B, H), dtype=x.dtype)
    masked = step_mask.shape[0] > 0
    for t in range(T):
        if h_mask.shape[0] > 0:
            for r in range(B):
                for j in range(H):
                    dropped[r, j] = h[t, r, j] * h_mask[r, j]
            gemm(dropped, w_hh, rec, False, True, 0.0)
        else:
            gemm(h[t], w_hh, rec, False, True, 0.0)
        for r in range(B):
            a = gates[t, r]
            if masked and step_mask[t, r] == 0:
                for j in range(4 * H):
                    a[j] = ZERO
                for j in range(H):
                    c[t + 1, r, j] = c[t, r, j]
                    h[t + 1, r, j] = h[t, r, j]
                continue
            for j in range(4 * H):
                a[j] = a[j] + rec[r, j] + b[j]
            for j in range(2 * H):
                a[j] = activate(a[j], rec_act)
            for j in range(2 * H, 3 * H):
                a[j] = activate(a[j], act)
            for j in range(3 * H, 4 * H):
                a[j] = activate(a[j], rec_act)
            for j in range(H):
                cc = a[H + j] * c[t, r, j] + a[j] * a[2 * H + j]
                c[t + 1, r, j] = cc
                h[t + 1, r, j] = a[3 * H + j] * activate(cc, act)


@jit
def layer_backward(x, w_ih, w_hh, gates, c, h, act, rec_act, step_mask, h_mask, dh,
                   dw_ih, dw_hh, db, dx):
    """Backpropagation through time for :func:`layer_forward`.

    ``dh`` ``(T, B, H)`` is the gradient with respect to the outputs
    ``h[1:]``; ``gates`` is overwritten with the pre-activation gradients.
    ``dw_ih``, ``dw_hh``, ``db`` are written; ``dx`` too unless of size 0.
    """
    T, B, F = x.shape
    H = w_hh.shape[1]
    dc = np.zeros((B, H), dtype=x.dtype)
    dh_next = np.zeros((B, H), dtype=x.dtype)
    through = np.empty((B, H), dtype=x.dtype)
    masked = step_mask.shape[0] > 0
    dropout = h_mask.shape[0] > 0
    for t in range(T - 1, -1, -1):
        for r in range(B):
            a = gates[t, r]
            if masked and step_mask[t, r] == 0:
                # h_t = h_{t-1}, c_t = c_{t-1}: both gradients pass through
                for j in range(H):
                    dh_next[r, j] += dh[t, r, j]
                continue
            for j in range(H):
                i = a[j]
                f = a[H + j]
                g = a[2 * H + j]
                o = a[3 * H + j]
                y = activate(c[t + 1, r, j], act)
                dhj = dh[t, r, j] + dh_next[r, j]
                dcj = dc[r, j] + dhj * o * derivative(y, act)
                a[j] = dcj * g * derivative(i, rec_act)
                a[H + j] = dcj * c[t, r, j] * derivative(f, rec_act)
                a[2 * H + j] = dcj * i * derivative(g, act)
                a[3 * H + j] = dhj * y * derivative(o, rec_act)
                dc[r, j] = dcj * f
                dh_next[r, j] = ZERO
        gemm(gates[t], w_hh, through, False, False, 0.0)
        for r in range(B):
            for j in range(H):
                m = h_mask[r, j] if dropout else ONE
                dh_next[r, j] += through[r, j] * m
    da = gates.reshape(T * B, 4 * H)
    gemm(da, x.reshape(T * B, F), dw_ih, True, False, 0.0)
    if dropout:
        dropped = np.empty((T, B, H), dtype=x.dtype)
        for t in range(T):
            for r in range(B):
                for j in range(H):
                    dropped[t, r, j] = h[t, r, j] * h_mask[r, j]
        gemm(da, dropped.reshape(T * B, H), dw_hh, True, False, 0.0)
    else:
        gemm(da, h[:T].reshape(T * B, H), dw_hh, True, False, 0.0)
    for j in range(4 * H):
        db[j] = ZERO
    for r in range(T * B):
        for j in range(4 * H):
            db[j] += da[r, j]
    if dx.size > 0:
        gemm(da, w_ih, dx.reshape(T * B, F), False, False, 0.0)


@jit
def embed(tokens, weight, out):
    """``out[t, b] = weight[tokens[b, t]]``: time-major embedded inputs."""
    B, T = tokens.shape
    D = weight.shape[1]
    for b in range(B):
        for t in range(T):
            row = weight[tokens[b, t]]
            for d in range(D):
                out[t, b, d] = row[d]


@jit
def embed_backward(tokens, dx, padding_idx, dweight):
    """Scatter-add the input gradients into the embedding's rows (none to padding)."""
    B, T = tokens.shape
    D = dweight.shape[1]
    for v in range(dweight.shape[0]):
        for d in range(D):
            dweight[v, d] = ZERO
    for b in range(B):
        for t in range(T):
            k = tokens[b, t]
            if k == padding_idx:
                continue
            for d in range(D):
                dweight[k, d] += dx[t, b, d]
