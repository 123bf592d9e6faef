"""CPU kernels: LSTM forward pass, backpropagation through time, head, loss, optimizers.

Pure functions on NumPy arrays, compiled by Numba, except for a few small steps
that take longer to compile than they ever run (the head's products around the
compiled loss, the optimizer step, the transposed inference weights: plain
NumPy, since every compiled function adds to the first fit's compilation). No validation
happens here: the Python layer (``_network.py``) hands over C-contiguous arrays
of one float dtype (float32 or float64) and preallocated outputs.

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
projection of all steps is one GEMM, the recurrent product is one GEMM per step
(accumulated by BLAS into the gates, see ``_blas.gemm``), and in the backward
sweep the weight gradients are two GEMMs over all steps. float32 gate functions
use a vectorisable rational tanh (``fast_tanh``/``fast_sigmoid``, max abs error
~4e-7); float64 uses NumPy's.
"""

import math

import numpy as np
from numba import types
from numba.extending import overload

from .._blas import gemm
from .._jit import OPTIONS, jit, jit_inline
from .layout import head_views, layer_views
from .losses import LOSS_BINARY, LOSS_SOFTMAX

# the twins of the CUDA module's kernels carry the same names; the rest are CPU-only
__all__ = [
    "lstm_layer_forward",
    "lstm_layer_backward",
    "loss_and_dlogits",
    "apply_gradients",
    "network_loss_grad",
    "network_forward",
    "Workspace",
    "fast_tanh",
    "fast_sigmoid",
    "gather_time_major",
    "head_loss_grad",
    "inference_weights",
]

# float32 constants: a Python float literal would promote float32 math to
# float64 (and halve the vector width); against float64 arrays they widen.
ZERO = np.float32(0.0)
ONE = np.float32(1.0)
TWO = np.float32(2.0)


# lstm_layer_forward transposes w_hh for its per-step products from this many
# rows (T * B) on.
TRANSPOSE_MIN_ROWS = 512

# network_forward runs this many rows at a time through each pass over the
# weights (so that they are read from L1, not L2, by all but the first).
INFER_ROWS = 8

# Optimizer codes.
OPT_ADAM = 0
OPT_SGD = 1


# ---------------------------------------------------------------- activations
# float32: a rational approximation of tanh (Eigen's ptanh_float coefficients)
# built from +, *, / and compares only, so LLVM vectorises the gate loops
# (libm's expf/tanhf are scalar calls: about 80 % of a step's time). Max
# absolute error about 6e-8 for tanh and 5e-8 for the sigmoid (tests check it);
# NaN propagates. float64 keeps NumPy's exact functions, so float64 gradients
# match finite differences to 1e-10.
TANH_CLAMP = np.float32(7.90531110763549805)
HALF = np.float32(0.5)
_A1 = np.float32(4.89352455891786e-03)
_A3 = np.float32(6.37261928875436e-04)
_A5 = np.float32(1.48572235717979e-05)
_A7 = np.float32(5.12229709037114e-08)
_A9 = np.float32(-8.60467152213735e-11)
_A11 = np.float32(2.00018790482477e-13)
_A13 = np.float32(-2.76076847742355e-16)
_B0 = np.float32(4.89352518554385e-03)
_B2 = np.float32(2.26843463243900e-03)
_B4 = np.float32(1.18534705686654e-04)
_B6 = np.float32(1.19825839466702e-06)


def _tanh_f32(x):
    # NaN fails both compares and flows through; +-inf are clamped. No special
    # case near 0 (Eigen returns x below 4e-4): there p / q = x (1 - 1.3e-7),
    # one float32 ulp, and the two extra compares cost 20 % of the function.
    y = x
    if y > TANH_CLAMP:
        y = TANH_CLAMP
    if y < -TANH_CLAMP:
        y = -TANH_CLAMP
    y2 = y * y
    p = y2 * _A13 + _A11
    p = y2 * p + _A9
    p = y2 * p + _A7
    p = y2 * p + _A5
    p = y2 * p + _A3
    p = y2 * p + _A1
    p = y * p
    q = y2 * _B6 + _B4
    q = y2 * q + _B2
    q = y2 * q + _B0
    return p / q


def fast_tanh(x):
    """tanh: the rational approximation for float32, ``np.tanh`` for float64."""
    return np.tanh(x)


def fast_sigmoid(x):
    """Logistic function, as ``0.5 + 0.5 * tanh(x / 2)`` for float32."""
    return 1.0 / (1.0 + np.exp(-x))


_OVERLOAD_OPTIONS = {k: v for k, v in OPTIONS.items() if k in ("error_model", "fastmath")}


@overload(fast_tanh, jit_options=_OVERLOAD_OPTIONS)
def _fast_tanh_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return _tanh_f32
    return lambda x: np.tanh(x)


def _sigmoid_f32(x):
    return HALF + HALF * fast_tanh(HALF * x)


def _sigmoid_exact(x):
    return ONE / (ONE + np.exp(-x))


@overload(fast_sigmoid, jit_options=_OVERLOAD_OPTIONS)
def _fast_sigmoid_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return _sigmoid_f32
    return _sigmoid_exact


@jit_inline
def _zero2(a):
    for r in range(a.shape[0]):
        row = a[r]
        for j in range(row.size):
            row[j] = ZERO


# Loops over few arrays: LLVM vectorises a loop only when it can rule out
# overlaps with a handful of run-time checks (at most 8), so no loop below
# touches more than five arrays (see benchmarks/NOTES.md). Gates are passed
# as one view each: a[H + j] would carry a negative-index check (H is not
# known to be >= 0) that stops vectorisation.
@jit_inline
def _sigmoid_rows(s):
    # sigmoid(z) = 0.5 * tanh(z / 2) + 0.5
    for j in range(s.size):
        s[j] = HALF * fast_tanh(HALF * s[j]) + HALF


# Compiled on its own (not jit_inline): the training forward and the predict
# kernel link the same machine code; inlined, Numba typed and lowered it twice.
@jit
def _cell_forward(a, cp, cn, hn):
    # a: one row of gate pre-activations (i, f, g, o); c_{t-1} (cp) in, c_t
    # (cn) and h_t (hn) out; a is overwritten with the activations (for BPTT).
    H = cn.size
    _sigmoid_rows(a[: 2 * H])
    i = a[:H]
    f = a[H : 2 * H]
    g = a[2 * H : 3 * H]
    o = a[3 * H :]
    for j in range(H):
        gj = fast_tanh(g[j])
        g[j] = gj
        cn[j] = f[j] * cp[j] + i[j] * gj
    for j in range(H):
        oj = HALF * fast_tanh(HALF * o[j]) + HALF
        o[j] = oj
        hn[j] = oj * fast_tanh(cn[j])


@jit_inline
def _cell_backward(a, cp, cn, dh, dc):
    # a: the row's gate activations, overwritten with the gradients of the
    # pre-activations; c_{t-1} (cp), c_t (cn); dh: dL/dh_t (all paths); dc:
    # dL/dc_t from step t+1 in, dL/dc_{t-1} out.
    H = cn.size
    i = a[:H]
    f = a[H : 2 * H]
    g = a[2 * H : 3 * H]
    o = a[3 * H :]
    for j in range(H):
        t = fast_tanh(cn[j])
        d = dh[j]
        oj = o[j]
        dc[j] = dc[j] + d * oj * (ONE - t * t)
        o[j] = d * t * oj * (ONE - oj)
    for j in range(H):
        gj = g[j]
        ij = i[j]
        d = dc[j]
        g[j] = d * ij * (ONE - gj * gj)
        i[j] = d * gj * ij * (ONE - ij)
    for j in range(H):
        fj = f[j]
        d = dc[j]
        f[j] = d * cp[j] * fj * (ONE - fj)
        dc[j] = d * fj


@jit_inline
def _transpose_into(w, out):
    for k in range(w.shape[1]):
        row = out[k]
        for j in range(w.shape[0]):
            row[j] = w[j, k]


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
    G = 4 * H
    # gates = b + x @ w_ih.T for all steps at once, then per step
    # gates[t] += h[t] @ w_hh.T (BLAS accumulates: no separate add pass)
    g2 = gates.reshape(T * B, G)
    for r in range(T * B):
        row = g2[r]
        for j in range(G):
            row[j] = b[j]
    gemm(x.reshape(T * B, F), w_ih, g2, False, True, 1.0)
    # BLAS repacks its right operand on every call; from (H, 4H) it does so
    # ~10 % faster than from a transposed (4H, H). The transpose itself costs
    # about what 350 rows of steps save (benchmarks/NOTES.md, 9.)
    transpose = T * B >= TRANSPOSE_MIN_ROWS
    w_hh_t = w_hh
    if transpose:
        w_hh_t = np.empty((H, G), dtype=w_hh.dtype)
        _transpose_into(w_hh, w_hh_t)
    for t in range(T):
        gt = gates[t]
        gemm(h[t], w_hh_t, gt, False, not transpose, 1.0)
        c0 = c[t]
        c1 = c[t + 1]
        h1 = h[t + 1]
        # 1-D row views: indices from range() are provably >= 0, so no
        # negative-index wraparound blocks vectorisation.
        for r in range(B):
            _cell_forward(gt[r], c0[r], c1[r], h1[r])


@jit
def lstm_layer_backward(x, w_ih, w_hh, gates, c, h, dh, dw_ih, dw_hh, db, dx):
    """Backpropagation through time for one layer.

    Parameters
    ----------
    x, w_ih, w_hh, gates, c, h : ndarray
        As in :func:`lstm_layer_forward`, after the forward pass. ``gates`` is
        overwritten with the gradients of the gate pre-activations.
    dh : ndarray of shape (T, B, H) or (1, B, H)
        Gradient of the loss with respect to the layer's outputs ``h[1:]``;
        of shape (1, B, H) when only the last output reaches the loss (the
        top layer under a dense head on the last state). A (T, B, H) ``dh``
        is overwritten: the recurrent gradient is accumulated into it.
    dw_ih, dw_hh, db : ndarray
        Outputs: the parameter gradients (written, not accumulated).
    dx : ndarray of shape (T, B, F) or of size 0
        Output: gradient with respect to ``x``; skipped when of size 0.
    """
    T, B, F = x.shape
    H = w_hh.shape[1]
    G = 4 * H
    last_only = dh.shape[0] == 1 and T > 1
    # np.empty + loops everywhere: every distinct np.zeros/np.full/fill
    # signature is one more function for Numba to compile on first use.
    dc = np.empty((B, H), dtype=x.dtype)
    _zero2(dc)
    # dL/dh_t over both paths (output and step t+1): BLAS adds the recurrent
    # part into dh[t - 1] (beta = 1), or into dnext when dh is the last step's
    dnext = np.empty((B, H), dtype=x.dtype)
    for t in range(T - 1, -1, -1):
        gt = gates[t]
        c0 = c[t]
        c1 = c[t + 1]
        if not last_only:
            dht = dh[t]
        elif t == T - 1:
            dht = dh[0]
        else:
            dht = dnext
        for r in range(B):
            _cell_backward(gt[r], c0[r], c1[r], dht[r], dc[r])
        if t > 0:
            if last_only:
                gemm(gt, w_hh, dnext, False, False, 0.0)
            else:
                gemm(gt, w_hh, dh[t - 1], False, False, 1.0)
    da = gates.reshape(T * B, G)
    x2 = x.reshape(T * B, F)
    gemm(da, h[:T].reshape(T * B, H), dw_hh, True, False, 0.0)
    for j in range(G):
        db[j] = ZERO
    for r in range(T * B):
        row = da[r]
        for j in range(G):
            db[j] += row[j]
    gemm(da, x2, dw_ih, True, False, 0.0)
    if dx.size > 0:
        gemm(da, w_ih, dx.reshape(T * B, F), False, False, 0.0)


# One small kernel per loss, chosen in Python: a fit compiles only the loss it
# uses (all four in one kernel took ~1 s of the first fit's compilation).
# Each returns the sum over the batch of the weighted sample losses and writes
# dz = scale * d(that sum) / dz.
@jit
def _mse_loss(z, y, sw, quantiles, scale, dz):
    B, K = z.shape
    total = 0.0
    for r in range(B):
        w = sw[r]
        zr = z[r]
        yr = y[r]
        dr = dz[r]
        acc = 0.0
        for k in range(K):
            e = zr[k] - yr[k]
            acc += e * e
            dr[k] = TWO * e * w * scale / K
        total += w * acc / K
    return total


@jit
def _binary_loss(z, y, sw, quantiles, scale, dz):
    total = 0.0
    for r in range(z.shape[0]):
        w = sw[r]
        zz = z[r, 0]
        yy = y[r, 0]
        # softplus(z) = log(1 + exp(z)) without overflow
        softplus = max(zz, ZERO) + np.log1p(np.exp(-abs(zz)))
        total += w * (softplus - yy * zz)
        dz[r, 0] = (fast_sigmoid(zz) - yy) * w * scale
    return total


@jit
def _softmax_loss(z, y, sw, quantiles, scale, dz):
    B, K = z.shape
    total = 0.0
    for r in range(B):
        w = sw[r]
        zr = z[r]
        yr = y[r]
        dr = dz[r]
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
    return total


@jit
def _pinball_loss(z, y, sw, quantiles, scale, dz):
    B, K = z.shape
    total = 0.0
    for r in range(B):
        w = sw[r]
        zr = z[r]
        yr = y[r]
        dr = dz[r]
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
def _huber_loss(z, y, sw, quantiles, scale, dz):
    # quantiles[k] holds the Huber threshold delta of column k: squared error
    # within it, linear beyond (torch.nn.HuberLoss, Keras' Huber)
    B, K = z.shape
    total = 0.0
    for r in range(B):
        w = sw[r]
        zr = z[r]
        yr = y[r]
        dr = dz[r]
        acc = 0.0
        for k in range(K):
            e = zr[k] - yr[k]
            d = quantiles[k]
            if abs(e) <= d:
                acc += 0.5 * e * e
                dr[k] = e * w * scale / K
            else:
                acc += d * (abs(e) - 0.5 * d)
                dr[k] = (d if e > 0 else -d) * w * scale / K
        total += w * acc / K
    return total


LOSS_KERNELS = (_mse_loss, _binary_loss, _softmax_loss, _pinball_loss, _huber_loss)


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
        One of LOSS_MSE, LOSS_BINARY, LOSS_SOFTMAX, LOSS_PINBALL, LOSS_HUBER.
    quantiles : ndarray of shape (K,)
        The loss's parameter of each output column: the quantile (pinball
        loss) or the threshold delta (Huber loss); unused by the others.
    scale : float
        Factor of the gradient (1 / number of samples in the whole batch).
    dz : ndarray of shape (B, K)
        Output: ``scale * d(sum of weighted sample losses) / dz``.

    Returns
    -------
    loss : float
        Sum over the batch of weighted per-sample losses.
    """
    return LOSS_KERNELS[loss_kind](z, y, sw, quantiles, scale, dz)


_head_views = jit_inline(head_views)


@jit
def gather_time_major(X, idx, x):
    """Rows ``idx`` of batch-major ``X`` (n, T, F) into time-major ``x`` (T, B, F)."""
    T = X.shape[1]
    for r in range(idx.size):
        s = idx[r]
        for t in range(T):
            src = X[s, t]
            dst = x[t, r]
            for f in range(src.size):
                dst[f] = src[f]


def head_loss_grad(hlast, w_out, b_out, gw_out, gb_out, Y, sw, idx, loss_kind, quantiles, scale,
                   z, yb, swb, dz, dh_last):
    """Dense head on the last hidden state, loss, head gradients and dL/dh_T.

    ``z``, ``yb``, ``swb``, ``dz`` are (B, K), (B, K), (B,), (B, K) workspaces;
    ``gw_out``/``gb_out`` receive the head's gradients and ``dh_last`` (B, H)
    the gradient flowing into the top layer's last hidden state. Returns the
    sum of the weighted sample losses.

    The head's products are NumPy around the compiled loss: compiled, one
    kernel per loss took longer to compile than NumPy takes over a whole fit
    (figures in ``benchmarks/NOTES.md``, 20).
    """
    np.matmul(hlast, w_out.T, out=z)
    z += b_out
    np.take(Y, idx, axis=0, out=yb)
    np.take(sw, idx, out=swb)
    loss = loss_and_dlogits(z, yb, swb, loss_kind, quantiles, scale, dz)
    np.matmul(dz.T, hlast, out=gw_out)
    np.sum(dz, axis=0, out=gb_out)
    np.matmul(dz, w_out, out=dh_last)
    return loss


# values past the end of every workspace buffer (see Workspace)
PAD = 64


class Workspace:
    """Flat scratch buffers for one part of a minibatch (at most ``rows`` rows).

    ``view(name, *shape)`` gives a C-contiguous array over the start of a
    buffer, so a smaller last minibatch reuses the same memory; the twin of
    the CUDA module's ``Workspace``.
    """

    def __init__(self, layers, n_outputs, T, rows, dtype):
        self.T = T
        self.rows = rows
        units = [int(r[1]) for r in layers]
        H_max = max(units)
        K = n_outputs
        sizes = {"x": T * rows * int(layers[0][0]), "dh": T * rows * H_max,
                 "dx": T * rows * H_max, "z": rows * K, "yb": rows * K, "dz": rows * K,
                 "swb": rows}
        for k, H in enumerate(units):
            sizes[f"gates{k}"] = T * rows * 4 * H
            sizes[f"c{k}"] = sizes[f"h{k}"] = (T + 1) * rows * H
        # zeroed, with a margin: BLAS may load a few values past a matrix it reads
        # (vector lanes it then discards); never-written memory there can hold bit
        # patterns that raise a spurious "invalid value" flag in NumPy's products
        self.buffers = {name: np.zeros(n + PAD, dtype=dtype) for name, n in sizes.items()}
        self.empty = np.empty((0, 0, 0), dtype=dtype)

    def view(self, name, *shape):
        """The start of buffer ``name`` as a C-contiguous array of ``shape``."""
        # math.prod: np.prod costs microseconds a call, and a minibatch asks for a dozen
        return self.buffers[name][: math.prod(shape)].reshape(shape)

    def swap(self, a, b):
        """Exchange two buffers (the gradient flowing down the stack)."""
        self.buffers[a], self.buffers[b] = self.buffers[b], self.buffers[a]


def network_loss_grad(theta, grad, layers, head, X, Y, sw, idx, loss_kind, quantiles, scale,
                      workspace):
    """Forward pass, loss and full BPTT of a plain network for the samples ``idx`` of ``X``.

    The CPU twin of the CUDA module's ``network_loss_grad``: ``grad`` (P,)
    receives the gradient (overwritten), ``layers`` and ``head`` are the
    layout tables, ``workspace`` a :class:`Workspace` with room for
    ``idx.size`` rows. A handful of compiled kernels called from Python: one
    compiled function around them took far longer to compile than the calls
    cost. Returns the sum of the weighted sample losses, times ``scale`` in
    the gradient only.
    """
    ws = workspace
    rows = layers.tolist()
    T = X.shape[1]
    b = idx.size
    x = ws.view("x", T, b, X.shape[2])
    gather_time_major(X, idx, x)
    params = [layer_views(theta, row) for row in rows]
    inputs, states = [x], []
    for k, (w_ih, w_hh, bias) in enumerate(params):
        H = rows[k][1]
        gates = ws.view(f"gates{k}", T, b, 4 * H)
        c = ws.view(f"c{k}", T + 1, b, H)
        h = ws.view(f"h{k}", T + 1, b, H)
        c[0] = 0.0
        h[0] = 0.0
        lstm_layer_forward(inputs[k], w_ih, w_hh, bias, gates, c, h)
        states.append((gates, c, h))
        inputs.append(h[1:])
    head = head.tolist()
    w_out, b_out = head_views(theta, head)
    gw_out, gb_out = head_views(grad, head)
    K = head[1]
    # only the last step's output reaches the head: the top layer's dh is
    # that step alone (lstm_layer_backward's (1, B, H) form)
    dh = ws.view("dh", 1, b, rows[-1][1])
    loss = head_loss_grad(
        states[-1][2][T], w_out, b_out, gw_out, gb_out, Y, sw, idx, loss_kind, quantiles,
        scale, ws.view("z", b, K), ws.view("yb", b, K), ws.view("swb", b), ws.view("dz", b, K),
        dh[0],
    )
    for k in range(len(rows) - 1, -1, -1):
        w_ih, w_hh, _ = params[k]
        gw_ih, gw_hh, gb = layer_views(grad, rows[k])
        dx = ws.view("dx", T, b, rows[k][0]) if k > 0 else ws.empty
        gates, c, h = states[k]
        lstm_layer_backward(inputs[k], w_ih, w_hh, gates, c, h, dh, gw_ih, gw_hh, gb, dx)
        ws.swap("dh", "dx")
        dh = dx
    return loss


@jit
def _axpy_rows(A, V, w_t):
    # A[r] += V[r] @ w_t for every row r. Four rows of w_t per pass over a row
    # of A (a quarter of its loads and stores), and each group of four serves
    # all rows while it sits in L1: the weights stream from L2 once per block
    # of rows, not once per row. Every row is summed k = 0, 1, 2, ... in order,
    # ((a + v0 w0) + v1 w1) + ..., by the same code whatever the number of
    # rows, so a row's result never depends on the rows beside it. Groups of
    # eight predicted the same (the bits too: the same sums in the same order)
    # at a batch-1 latency within this machine's noise, for 0.5 s more of the
    # first predict's compilation (twice the run-time alias checks; NOTES 16).
    R = A.shape[0]
    K = V.shape[1]
    G = A.shape[1]
    k = 0
    while k + 4 <= K:
        w0, w1, w2, w3 = w_t[k], w_t[k + 1], w_t[k + 2], w_t[k + 3]
        for r in range(R):
            a = A[r]
            v = V[r]
            v0, v1, v2, v3 = v[k], v[k + 1], v[k + 2], v[k + 3]
            for j in range(G):
                a[j] = a[j] + v0 * w0[j] + v1 * w1[j] + v2 * w2[j] + v3 * w3[j]
        k += 4
    while k < K:
        wk = w_t[k]
        for r in range(R):
            a = A[r]
            vk = V[r, k]
            for j in range(G):
                a[j] = a[j] + vk * wk[j]
        k += 1


# Inlined into network_forward, its one caller: compiled on its own, it cost
# 1.1 s more of the first predict (NOTES 15).
@jit_inline
def _layer_infer(seq, w_ih_t, w_hh_t, b, proj, c, out):
    # A block of R sequences, time-major (T, R, F), through one layer into
    # out (T, R, H). proj (T, R, 4H) receives the gates; c (2, R, H) holds
    # c_{t-1} and c_t in two buffers, so that no loop reads and writes one
    # array (LLVM would fall back to scalar code).
    T, R, F = seq.shape
    G = b.size
    P = proj.reshape(T * R, G)
    for q in range(T * R):
        row = P[q]
        for j in range(G):
            row[j] = b[j]
    # the input projection of all rows and steps in one pass over w_ih.T
    _axpy_rows(P, seq.reshape(T * R, F), w_ih_t)
    cp = c[0]
    cn = c[1]
    _zero2(cp)
    for t in range(T):
        A = proj[t]
        if t > 0:
            _axpy_rows(A, out[t - 1], w_hh_t)
        for r in range(R):
            _cell_forward(A[r], cp[r], cn[r], out[t, r])
        cp, cn = cn, cp


def inference_weights(theta, layers):
    """All layers' transposed weights (``w_ih.T``, ``w_hh.T``) in one flat buffer.

    :func:`network_forward` reads rows of ``w.T``; the estimators compute this
    once per set of weights, not once per predict call (for C the transposes
    cost more than a batch-1 forward pass). Plain NumPy copies, which compile
    nothing.
    """
    parts = []
    for row in layers.tolist():
        w_ih, w_hh, _ = layer_views(theta, row)
        parts.append(w_ih.T.ravel())
        parts.append(w_hh.T.ravel())
    return np.concatenate(parts)


@jit
def network_forward(theta, wt, layers, head, X, x_shift, x_scale, out_kind, out):
    """Predict: run the stack and the head over ``X`` (batch-major) into ``out``.

    ``wt`` comes from :func:`inference_weights` for the same ``theta``.
    Each input feature ``f`` is standardised on the way in, as
    ``(float64(x) - x_shift[f]) / x_scale[f]`` rounded to ``theta``'s dtype:
    the estimators' standardisation, bit for bit, without a NumPy pass over
    a batch-1 input (zeros and ones leave ``X`` as it is). Returns whether
    every standardised value is finite (the estimators' fast path leaves
    that check to this pass over the data).

    ``out_kind`` is a loss code: LOSS_BINARY applies the sigmoid,
    LOSS_SOFTMAX the softmax, the others leave the head's outputs as they are
    (written with ``np.exp`` and comparisons, which compile faster than
    ``fast_sigmoid`` and ``max()``; the link stays in the kernel because in
    NumPy it slowed a batch-1 classifier predict).
    Rows go through in blocks of ``INFER_ROWS``, which share each pass over
    the weights; every row is still computed by the same sequence of
    operations (see ``_axpy_rows``), so its result does not depend on the
    rows predicted with it, and rows can be split across threads in any way.
    """
    n, T, F = X.shape
    L = layers.shape[0]
    K = head[1]
    w_out, b_out = _head_views(theta, head)
    # comparisons, not max() / min(): each builtin is one more function to
    # compile on the first predict
    H_max = 0
    for k in range(L):
        if layers[k, 1] > H_max:
            H_max = layers[k, 1]
    R_max = n if n < INFER_ROWS else INFER_ROWS
    n_xs = T * R_max * F
    n_proj = T * R_max * 4 * H_max
    n_c = 2 * R_max * H_max
    n_h = T * R_max * H_max
    # One buffer, allocated with the 2-D signature of np.empty that the
    # training kernels compile too (a 1-D one cost 0.1-0.3 s more here).
    work = np.empty((1, n_xs + n_proj + n_c + 2 * n_h), dtype=theta.dtype)[0]
    xs = work[:n_xs]
    proj = work[n_xs : n_xs + n_proj]
    c = work[n_xs + n_proj : n_xs + n_proj + n_c]
    hbuf = work[n_xs + n_proj + n_c :]
    bad = ZERO
    for r0 in range(0, n, R_max):
        R = n - r0 if n - r0 < R_max else R_max
        seq = xs[: T * R * F].reshape(T, R, F)
        for r in range(R):
            src = X[r0 + r]
            for t in range(T):
                dst = seq[t, r]
                row = src[t]
                for f in range(F):
                    dst[f] = (np.float64(row[f]) - x_shift[f]) / x_scale[f]
                    v = dst[f]
                    # v - v: +0 for every finite v, NaN for NaN and +-inf, so
                    # the sum stays 0 until one is not finite. No ufunc and no
                    # branch: 0.3 s less of the first predict's compilation
                    # than a test per value (NOTES 16)
                    bad += v - v
        o = 0
        for k in range(L):
            n_in = layers[k, 0]
            H = layers[k, 1]
            w_ih_t = wt[o : o + n_in * 4 * H].reshape(n_in, 4 * H)
            o += n_in * 4 * H
            w_hh_t = wt[o : o + H * 4 * H].reshape(H, 4 * H)
            o += H * 4 * H
            b = theta[layers[k, 4] : layers[k, 4] + 4 * H]
            h0 = (k % 2) * n_h
            hseq = hbuf[h0 : h0 + T * R * H].reshape(T, R, H)
            _layer_infer(seq, w_ih_t, w_hh_t, b, proj[: T * R * 4 * H].reshape(T, R, 4 * H),
                         c[: 2 * R * H].reshape(2, R, H), hseq)
            seq = hseq
        for r in range(R):
            hlast = seq[T - 1, r]
            zr = out[r0 + r]
            for k in range(K):
                acc = b_out[k]
                wk = w_out[k]
                for j in range(hlast.size):
                    acc += wk[j] * hlast[j]
                zr[k] = acc
            if out_kind == LOSS_BINARY:
                # exp(-z) = inf for very negative z gives 0, no error in compiled code
                zr[0] = ONE / (ONE + np.exp(-zr[0]))
            elif out_kind == LOSS_SOFTMAX:
                m = zr[0]
                for k in range(1, K):
                    if zr[k] > m:
                        m = zr[k]
                s = ZERO
                for k in range(K):
                    zr[k] = np.exp(zr[k] - m)
                    s += zr[k]
                for k in range(K):
                    zr[k] = zr[k] / s
    return bad == ZERO


def apply_gradients(theta, grads, opt_kind, m, v, lr, beta_1, beta_2, epsilon, step, clipnorm):
    """Sum the per-chunk gradients, clip by global norm, take one optimizer step.

    In NumPy, not compiled: compiling it cost the first fit more than NumPy
    costs an epoch (figures in ``benchmarks/NOTES.md``, 20).

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
    # overflow to inf is reported by the return value (the caller restores
    # theta), as the compiled kernels do, not by NumPy's warnings
    with np.errstate(over="ignore", invalid="ignore"):
        return _optimizer_step(theta, grads, opt_kind, m, v, lr, beta_1, beta_2, epsilon, step,
                               clipnorm)


def _optimizer_step(theta, grads, opt_kind, m, v, lr, beta_1, beta_2, epsilon, step, clipnorm):
    g = grads[0]
    for part in grads[1:]:
        g += part
    sq = float(np.dot(g, g))
    if not math.isfinite(sq) and g.dtype != np.float64:
        # float32 squares overflow from 1.8e19 on: the norm of a finite gradient in float64
        g64 = g.astype(np.float64)
        sq = float(np.dot(g64, g64))
    norm = math.sqrt(sq)
    if not math.isfinite(norm):
        return norm
    factor = clipnorm / norm if clipnorm > 0 and norm > clipnorm else 1.0
    tmp = np.multiply(g, factor, dtype=theta.dtype)  # the clipped gradient; g stays the sum
    if opt_kind == OPT_ADAM:
        lr_t = lr * math.sqrt(1.0 - beta_2**step) / (1.0 - beta_1**step)
        m *= beta_1
        m += (1.0 - beta_1) * tmp
        tmp *= math.sqrt(1.0 - beta_2)  # scaled before squaring: no float32 overflow
        np.square(tmp, out=tmp)
        v *= beta_2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp += epsilon
        np.divide(m, tmp, out=tmp)
        tmp *= lr_t
        theta -= tmp
    else:
        m *= beta_1
        tmp *= lr
        m -= tmp
        theta += m
    return norm if np.isfinite(theta).all() else math.inf
