"""CUDA twins of the CPU kernels: LSTM forward pass, BPTT, head and loss, optimizer step.

Every public function here has the name and the signature of its twin in
:mod:`skforecast_lstm._kernels.cpu` and computes the same thing (within
floating-point rounding: sums run in another order). The arrays are Numba
device arrays (host arrays also work; Numba then copies them at every call,
which is what the training driver avoids). Each public function is a small
host-side Python function that launches one or more ``@cuda.jit`` kernels;
functions that return a float (the loss, the gradient norm) read one scalar
back, which waits for the GPU.

This module imports :mod:`numba.cuda`; nothing imports it but
:mod:`skforecast_lstm._backend` when ``device='cuda'`` is asked for, and no
kernel is compiled before its first launch.

Design: flop and byte counts
----------------------------
Notation: ``B`` batch rows, ``H`` hidden units, ``F`` input features, ``T``
steps, ``s`` bytes per float (4 or 8).

*Input projection* (all steps at once, one launch): ``x (TB, F) @ w_ih.T``,
``2 TB 4H F`` flops, ``s (TB F + 4HF + TB 4H)`` bytes: with small ``F`` it is
a write of the gate buffer, bandwidth-bound; the tiled GEMM below does it.

*Recurrent product, per step* (``T`` times, strictly in sequence):
``h_{t-1} (B, H) @ w_hh.T (H, 4H)`` is ``8 B H^2`` flops; it reads
``w_hh`` (``4 H^2 s`` bytes), ``h_{t-1}`` (``B H s``) and the gate row
(``4 B H s``) and writes ``4 B H s`` (activations) ``+ 2 B H s`` (``c``, ``h``).
For ``B = 64, H = 256`` in float32 that is 33.6 Mflop against 1.8 MB: 19
flop/byte, at the ridge point of an H100 (about 60 Tflop/s fp32 over 3.3 TB/s);
``w_hh`` (1 MB) stays in L2 from step to step, so from ``B`` of about 64 up
the step is compute-bound *if* every weight loaded from L2 is reused across
many batch rows. Below that, and at every size in absolute terms, a step is
only microseconds of work, so what counts is (a) the number of launches per
step, since each Numba launch costs several microseconds of host time, and
(b) not writing ``h_{t-1} @ w_hh.T`` to global memory only to read it back
for the gate nonlinearity.

Hence a **fused per-step kernel** rather than a GEMM launch followed by a cell
launch: one launch per step computes, for a tile of ``STEP_ROWS`` batch rows
and ``STEP_UNITS`` hidden units, the four gate pre-activations of those units
(the tile holds the rows ``j, H + j, 2H + j, 3H + j`` of ``w_hh`` for its units
``j``, so the cell update needs nothing from other blocks), staged through
shared memory in ``STEP_K``-wide slices of the reduction, with
``ROWS_PER_THREAD`` rows per thread held in registers (4 gates x 4 rows = 16
accumulators: 8 shared loads for 16 FMAs). Then it applies the gate
nonlinearities and writes ``c_t``, ``h_t`` and the activations: the recurrent
product never goes to global memory. Arithmetic intensity against L2: every
``w_hh`` element loaded into shared memory serves ``STEP_ROWS = 16`` rows,
i.e. 32 flops per element, 8 flop/byte in float32; against ``h`` every element
serves ``4 * STEP_UNITS = 128`` gate rows. Batch rows are independent, so no
grid-wide synchronisation is needed inside a step; the launch boundary is the
synchronisation between steps. Grid: ``ceil(H / 32) x ceil(B / 16)`` blocks
of 128 threads (``B = 64, H = 256``: 32 blocks; ``B = 1024, H = 512``: 1024).

*Backward, per step*: ``dh_next = da_{t+1} (B, 4H) @ w_hh (4H, H)`` is again
``8 B H^2`` flops and the same bytes. The fused backward-step kernel computes
``dh_next`` for its tile of rows and units straight from ``da_{t+1}`` (kept in
the gate buffer, overwritten step by step as on the CPU), adds ``dh_t`` and
runs the cell's backward rule for its units: one launch per step, no
``dh_next`` buffer.

*Weight gradients* (once per layer and batch): ``dw_hh = da^T (4H, TB) @ h``
(``8 TB H^2`` flops), ``dw_ih = da^T @ x``, ``dx = da @ w_ih``: the tiled
shared-memory GEMM (``TILE x TILE`` threads, each output element from
``K / TILE`` shared tiles, every global element loaded once per tile: ``TILE``
flops per loaded element). ``db`` and the head's bias gradient are column
sums in two deterministic passes (partial sums over row chunks, then over
chunks).

*Loss and optimizer*: one block reduces the loss in float64 shared memory;
the optimizer sums the gradient parts and the squared norm per block (float64)
in one launch, and a second launch reduces the block sums, clips and steps
every parameter. No atomics anywhere: the same inputs give the same bits on
the same GPU.

Launches per minibatch and layer: ``2 T`` step kernels plus about 10 others,
independent of ``B`` and ``H``. Weights, optimizer state, activations and the
whole training set stay on the device for a fit (the driver is
:mod:`skforecast_lstm._session_cuda`); per minibatch only the loss and the
gradient norm (two float64) come back, to stop on divergence as the CPU does.

The geometry constants below are read when a kernel is compiled; the tests
set small values for the simulator (``NUMBA_ENABLE_CUDASIM=1``), where every
thread is a Python thread. This has not yet run on a real GPU.
"""

import math

import numpy as np
from numba import cuda, float64
from numba.core import config

from .cpu import OPT_ADAM
from .layout import head_views, layer_views
from .losses import LOSS_BINARY, LOSS_HUBER, LOSS_MSE, LOSS_PINBALL, LOSS_SOFTMAX

__all__ = [
    "lstm_layer_forward",
    "lstm_layer_backward",
    "loss_and_dlogits",
    "apply_gradients",
    "network_loss_grad",
    "network_forward",
    "Workspace",
]

# float32 constants: they keep float32 math in float32 and widen for float64.
ZERO = np.float32(0.0)
ONE = np.float32(1.0)
TWO = np.float32(2.0)
if config.ENABLE_CUDASIM:
    # The simulator runs the kernels as Python, where math.exp & co. return
    # Python floats and NumPy 2 lets a float32 constant absorb them (NEP 50):
    # float64 data would be computed in float32. Python floats keep float64
    # data in float64 there (float32 data is then computed in float64).
    ZERO, ONE, TWO = 0.0, 1.0, 2.0

# ---------------------------------------------------------------- geometry
# Tiled GEMM: TILE x TILE threads per block.
TILE = 16
# Fused step kernels: STEP_UNITS x STEP_ROW_THREADS threads per block, each
# thread owning one hidden unit and ROWS_PER_THREAD batch rows.
STEP_UNITS = 32
STEP_ROW_THREADS = 4
ROWS_PER_THREAD = 4
STEP_ROWS = 16  # = STEP_ROW_THREADS * ROWS_PER_THREAD (Numba needs a literal)
STEP_GATE_ROWS = 128  # = 4 * STEP_UNITS
STEP_K = 16
# Reductions: threads per block (a power of two) and blocks of the first pass.
REDUCE_THREADS = 256
REDUCE_BLOCKS = 128
# Column sums: row chunks of the first pass.
COLUMN_CHUNKS = 64


def _blocks(n, per_block):
    return max(1, (n + per_block - 1) // per_block)


# ----------------------------------------------------------------- devices
@cuda.jit(device=True)
def _sigmoid(x):
    return ONE / (ONE + math.exp(-x))


@cuda.jit(device=True)
def _softplus(z):
    # log(1 + exp(z)) without overflow. No max()/min() in kernels: Numba
    # 0.68's built-in CUDA target cannot compile them (numba-cuda can).
    positive = z if z > ZERO else ZERO
    return positive + math.log1p(math.exp(-math.fabs(z)))


@cuda.jit(device=True)
def _block_sum(shared, tid, value):
    # Sum of value over the REDUCE_THREADS threads of a block: a tree in
    # shared memory, in a fixed order (deterministic, no atomics).
    shared[tid] = value
    cuda.syncthreads()
    step = REDUCE_THREADS // 2
    while step > 0:
        if tid < step:
            shared[tid] += shared[tid + step]
        cuda.syncthreads()
        step //= 2
    return shared[0]


# ------------------------------------------------------------- elementwise
@cuda.jit
def _fill(a, value):
    for p in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        a[p] = value


def _zero(a):
    flat = a.reshape(a.size)
    _fill[_blocks(a.size, REDUCE_THREADS), REDUCE_THREADS](flat, 0.0)


# -------------------------------------------------------------------- GEMM
@cuda.jit(device=True)
def _load_tile(src, tile, o0, k0, n_outer, K, src_k_major, tile_k_major):
    # Element (o, k) of the operand is src[k, o] if src_k_major else src[o, k];
    # it goes to tile[k - k0, o - o0] if tile_k_major else tile[o - o0, k - k0].
    # Consecutive threads (tx) walk the source's contiguous index: coalesced.
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    if src_k_major:
        o_l = tx
        k_l = ty
    else:
        o_l = ty
        k_l = tx
    o = o0 + o_l
    k = k0 + k_l
    value = ZERO
    if o < n_outer and k < K:
        value = src[k, o] if src_k_major else src[o, k]
    if tile_k_major:
        tile[k_l, o_l] = value
    else:
        tile[o_l, k_l] = value


@cuda.jit
def _gemm(a, b, c, bias, trans_a, trans_b, use_bias):
    # c (M, N) = op(a) @ op(b) (+ bias[j]); op(a) is (M, K), op(b) is (K, N).
    M, N = c.shape
    K = a.shape[0] if trans_a else a.shape[1]
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    row0 = cuda.blockIdx.y * TILE
    col0 = cuda.blockIdx.x * TILE
    a_tile = cuda.shared.array((TILE, TILE), dtype=c.dtype)  # [i, k]
    b_tile = cuda.shared.array((TILE, TILE), dtype=c.dtype)  # [k, j]
    acc = ZERO
    for k0 in range(0, K, TILE):
        _load_tile(a, a_tile, row0, k0, M, K, trans_a, False)
        _load_tile(b, b_tile, col0, k0, N, K, not trans_b, True)
        cuda.syncthreads()
        for kk in range(TILE):
            acc += a_tile[ty, kk] * b_tile[kk, tx]
        cuda.syncthreads()
    i = row0 + ty
    j = col0 + tx
    if i < M and j < N:
        if use_bias:
            acc += bias[j]
        c[i, j] = acc


def _matmul(a, b, c, trans_a=False, trans_b=False, bias=None):
    M, N = c.shape
    grid = (_blocks(N, TILE), _blocks(M, TILE))
    use_bias = bias is not None
    _gemm[grid, (TILE, TILE)](a, b, c, bias if use_bias else c[0], trans_a, trans_b, use_bias)


# ------------------------------------------------------- column sums (bias)
@cuda.jit
def _column_partials(a, partial):
    # partial[q, j] = sum of a[r, j] over the rows r of chunk q
    R, N = a.shape
    n_chunks = partial.shape[0]
    j = cuda.grid(1)
    q = cuda.blockIdx.y
    per = (R + n_chunks - 1) // n_chunks
    if j < N:
        acc = ZERO
        stop = (q + 1) * per
        if stop > R:
            stop = R
        for r in range(q * per, stop):
            acc += a[r, j]
        partial[q, j] = acc


@cuda.jit
def _column_finish(partial, out):
    n_chunks, N = partial.shape
    j = cuda.grid(1)
    if j < N:
        acc = ZERO
        for q in range(n_chunks):
            acc += partial[q, j]
        out[j] = acc


def _column_sums(a, out, partial):
    # partial: (COLUMN_CHUNKS, >= N) scratch of a's dtype
    R, N = a.shape
    n_chunks = max(1, min(COLUMN_CHUNKS, R))
    part = partial[:n_chunks, :N]
    _column_partials[(_blocks(N, REDUCE_THREADS), n_chunks), REDUCE_THREADS](a, part)
    _column_finish[_blocks(N, REDUCE_THREADS), REDUCE_THREADS](part, out)


# ------------------------------------------------------- fused step kernels
@cuda.jit(device=True)
def _load_rows(src, t, tile, row0, k0, tid, n_threads):
    # tile[rr, kk] = src[t, row0 + rr, k0 + kk] (zero outside), all threads
    # of the block together, consecutive threads on consecutive k: coalesced.
    B = src.shape[1]
    K = src.shape[2]
    for e in range(tid, STEP_ROWS * STEP_K, n_threads):
        rr = e // STEP_K
        kk = e % STEP_K
        r = row0 + rr
        k = k0 + kk
        tile[rr, kk] = src[t, r, k] if (r < B and k < K) else ZERO


@cuda.jit
def _forward_step(gates, w_hh, b, c, h, t):
    # gates[t] holds x_t @ w_ih.T on entry and the activations (i, f, g, o)
    # on exit; c[t + 1], h[t + 1] are written.
    B = gates.shape[1]
    H = w_hh.shape[1]
    u = cuda.threadIdx.x
    ry = cuda.threadIdx.y
    tid = ry * STEP_UNITS + u
    n_threads = STEP_UNITS * STEP_ROW_THREADS
    unit0 = cuda.blockIdx.x * STEP_UNITS
    row0 = cuda.blockIdx.y * STEP_ROWS
    h_tile = cuda.shared.array((STEP_ROWS, STEP_K), dtype=gates.dtype)  # [row, k]
    w_tile = cuda.shared.array((STEP_K, STEP_GATE_ROWS), dtype=gates.dtype)  # [k, gate*unit]
    acc = cuda.local.array((4, ROWS_PER_THREAD), dtype=gates.dtype)
    for g in range(4):
        for q in range(ROWS_PER_THREAD):
            acc[g, q] = ZERO
    for k0 in range(0, H, STEP_K):
        _load_rows(h, t, h_tile, row0, k0, tid, n_threads)
        for e in range(tid, STEP_GATE_ROWS * STEP_K, n_threads):
            gu = e // STEP_K
            kk = e % STEP_K
            g = gu // STEP_UNITS
            j = unit0 + gu % STEP_UNITS
            k = k0 + kk
            w_tile[kk, gu] = w_hh[g * H + j, k] if (j < H and k < H) else ZERO
        cuda.syncthreads()
        for kk in range(STEP_K):
            w_i = w_tile[kk, u]
            w_f = w_tile[kk, STEP_UNITS + u]
            w_g = w_tile[kk, 2 * STEP_UNITS + u]
            w_o = w_tile[kk, 3 * STEP_UNITS + u]
            for q in range(ROWS_PER_THREAD):
                hv = h_tile[ry + q * STEP_ROW_THREADS, kk]
                acc[0, q] += w_i * hv
                acc[1, q] += w_f * hv
                acc[2, q] += w_g * hv
                acc[3, q] += w_o * hv
        cuda.syncthreads()
    j = unit0 + u
    if j < H:
        for q in range(ROWS_PER_THREAD):
            r = row0 + ry + q * STEP_ROW_THREADS
            if r < B:
                gi = _sigmoid(gates[t, r, j] + acc[0, q] + b[j])
                gf = _sigmoid(gates[t, r, H + j] + acc[1, q] + b[H + j])
                gg = math.tanh(gates[t, r, 2 * H + j] + acc[2, q] + b[2 * H + j])
                go = _sigmoid(gates[t, r, 3 * H + j] + acc[3, q] + b[3 * H + j])
                gates[t, r, j] = gi
                gates[t, r, H + j] = gf
                gates[t, r, 2 * H + j] = gg
                gates[t, r, 3 * H + j] = go
                # read back the stored (rounded) values, as the CPU does
                cc = gates[t, r, H + j] * c[t, r, j] + gates[t, r, j] * gates[t, r, 2 * H + j]
                c[t + 1, r, j] = cc
                h[t + 1, r, j] = gates[t, r, 3 * H + j] * math.tanh(c[t + 1, r, j])


@cuda.jit
def _backward_step(gates, w_hh, c, dh, dc, t):
    # dh_next = da_{t+1} @ w_hh (da_{t+1} is gates[t + 1] after its step);
    # then the cell's backward rule turns gates[t] into da_t and updates dc.
    T = gates.shape[0]
    B = gates.shape[1]
    H = w_hh.shape[1]
    G = 4 * H
    u = cuda.threadIdx.x
    ry = cuda.threadIdx.y
    tid = ry * STEP_UNITS + u
    n_threads = STEP_UNITS * STEP_ROW_THREADS
    unit0 = cuda.blockIdx.x * STEP_UNITS
    row0 = cuda.blockIdx.y * STEP_ROWS
    da_tile = cuda.shared.array((STEP_ROWS, STEP_K), dtype=gates.dtype)  # [row, k]
    w_tile = cuda.shared.array((STEP_K, STEP_UNITS), dtype=gates.dtype)  # [k, unit]
    acc = cuda.local.array(ROWS_PER_THREAD, dtype=gates.dtype)
    for q in range(ROWS_PER_THREAD):
        acc[q] = ZERO
    if t + 1 < T:
        for k0 in range(0, G, STEP_K):
            _load_rows(gates, t + 1, da_tile, row0, k0, tid, n_threads)
            for e in range(tid, STEP_K * STEP_UNITS, n_threads):
                kk = e // STEP_UNITS
                uu = e % STEP_UNITS
                j = unit0 + uu
                k = k0 + kk
                w_tile[kk, uu] = w_hh[k, j] if (j < H and k < G) else ZERO
            cuda.syncthreads()
            for kk in range(STEP_K):
                wv = w_tile[kk, u]
                for q in range(ROWS_PER_THREAD):
                    acc[q] += da_tile[ry + q * STEP_ROW_THREADS, kk] * wv
            cuda.syncthreads()
    j = unit0 + u
    if j < H:
        for q in range(ROWS_PER_THREAD):
            r = row0 + ry + q * STEP_ROW_THREADS
            if r < B:
                gi = gates[t, r, j]
                gf = gates[t, r, H + j]
                gg = gates[t, r, 2 * H + j]
                go = gates[t, r, 3 * H + j]
                tc = math.tanh(c[t + 1, r, j])
                dhj = dh[t, r, j] + acc[q]
                dcj = dc[r, j] + dhj * go * (ONE - tc * tc)
                gates[t, r, j] = dcj * gg * gi * (ONE - gi)
                gates[t, r, H + j] = dcj * c[t, r, j] * gf * (ONE - gf)
                gates[t, r, 2 * H + j] = dcj * gi * (ONE - gg * gg)
                gates[t, r, 3 * H + j] = dhj * tc * go * (ONE - go)
                dc[r, j] = dcj * gf


def _step_grid(B, H):
    return (_blocks(H, STEP_UNITS), _blocks(B, STEP_ROWS)), (STEP_UNITS, STEP_ROW_THREADS)


# ---------------------------------------------------------------- layers
def lstm_layer_forward(x, w_ih, w_hh, b, gates, c, h):
    """Run one LSTM layer over a batch of sequences (twin of the CPU kernel).

    Parameters
    ----------
    x : device array of shape (T, B, F)
        Time-major input.
    w_ih, w_hh, b : device array
        ``(4H, F)``, ``(4H, H)`` and ``(4H,)`` parameters.
    gates : device array of shape (T, B, 4H)
        Output: the gate activations (i, f, g, o) of every step.
    c, h : device array of shape (T + 1, B, H)
        Cell and hidden states; index 0 holds the initial state (read).
    """
    T, B, F = x.shape
    H = w_hh.shape[1]
    _matmul(x.reshape(T * B, F), w_ih, gates.reshape(T * B, 4 * H), trans_b=True)
    grid, block = _step_grid(B, H)
    for t in range(T):
        _forward_step[grid, block](gates, w_hh, b, c, h, t)


def lstm_layer_backward(x, w_ih, w_hh, gates, c, h, dh, dw_ih, dw_hh, db, dx, workspace=None):
    """Backpropagation through time for one layer (twin of the CPU kernel).

    Parameters
    ----------
    x, w_ih, w_hh, gates, c, h : device array
        As in :func:`lstm_layer_forward`, after the forward pass. ``gates`` is
        overwritten with the gradients of the gate pre-activations.
    dh : device array of shape (T, B, H)
        Gradient of the loss with respect to the layer's outputs ``h[1:]``.
    dw_ih, dw_hh, db : device array
        Outputs: the parameter gradients (written, not accumulated).
    dx : device array of shape (T, B, F) or of size 0
        Output: gradient with respect to ``x``; skipped when of size 0.
    workspace : Workspace, optional
        Reused scratch buffers (allocated when not given).
    """
    T, B, F = x.shape
    H = w_hh.shape[1]
    ws = Workspace() if workspace is None else workspace
    dc = ws.get(f"dc_{H}", (B, H), gates.dtype)
    _zero(dc)
    grid, block = _step_grid(B, H)
    for t in range(T - 1, -1, -1):
        _backward_step[grid, block](gates, w_hh, c, dh, dc, t)
    da = gates.reshape(T * B, 4 * H)
    _matmul(da, x.reshape(T * B, F), dw_ih, trans_a=True)
    _matmul(da, h[:T].reshape(T * B, H), dw_hh, trans_a=True)
    partial = ws.get(f"column_partials_{4 * H}", (COLUMN_CHUNKS, 4 * H), gates.dtype)
    _column_sums(da, db, partial)
    if dx.size > 0:
        _matmul(da, w_ih, dx.reshape(T * B, F))


# --------------------------------------------------------------- head, loss
@cuda.jit
def _loss_kernel(z, y, sw, loss_kind, quantiles, scale, dz, out):
    # one block; out[0] = sum of weighted sample losses (float64)
    B, K = z.shape
    tid = cuda.threadIdx.x
    partial = cuda.shared.array(REDUCE_THREADS, dtype=float64)
    total = 0.0
    for r in range(tid, B, REDUCE_THREADS):
        w = sw[r]
        if loss_kind == LOSS_MSE:
            acc = 0.0
            for k in range(K):
                e = z[r, k] - y[r, k]
                acc += e * e
                dz[r, k] = TWO * e * w * scale / K
            total += w * acc / K
        elif loss_kind == LOSS_BINARY:
            zz = z[r, 0]
            total += w * (_softplus(zz) - y[r, 0] * zz)
            dz[r, 0] = (_sigmoid(zz) - y[r, 0]) * w * scale
        elif loss_kind == LOSS_SOFTMAX:
            m = z[r, 0]
            for k in range(1, K):
                if z[r, k] > m:
                    m = z[r, k]
            s = 0.0
            for k in range(K):
                s += math.exp(z[r, k] - m)
            lse = m + math.log(s)
            acc = 0.0
            for k in range(K):
                acc -= y[r, k] * (z[r, k] - lse)
                dz[r, k] = (math.exp(z[r, k] - lse) - y[r, k]) * w * scale
            total += w * acc
        elif loss_kind == LOSS_HUBER:
            acc = 0.0
            for k in range(K):
                e = z[r, k] - y[r, k]
                d = quantiles[k]  # the threshold delta
                if abs(e) <= d:
                    acc += 0.5 * e * e
                    dz[r, k] = e * w * scale / K
                else:
                    acc += d * (abs(e) - 0.5 * d)
                    dz[r, k] = (d if e > 0 else -d) * w * scale / K
            total += w * acc / K
        else:
            acc = 0.0
            for k in range(K):
                e = y[r, k] - z[r, k]
                q = quantiles[k]
                if e >= 0:
                    acc += q * e
                    dz[r, k] = -q * w * scale / K
                else:
                    acc += (q - 1.0) * e
                    dz[r, k] = (1.0 - q) * w * scale / K
            total += w * acc / K
    total = _block_sum(partial, tid, total)
    if tid == 0:
        out[0] = total


def _launch_loss(z, y, sw, loss_kind, quantiles, scale, dz, out):
    _loss_kernel[1, REDUCE_THREADS](z, y, sw, loss_kind, quantiles, float(scale), dz, out)


def loss_and_dlogits(z, y, sw, loss_kind, quantiles, scale, dz, workspace=None):
    """Loss of a batch and its gradient with respect to the head's outputs.

    Twin of the CPU kernel: same arguments (device arrays), same codes.

    Returns
    -------
    loss : float
        Sum over the batch of weighted per-sample losses (read back from the
        device, which waits for the GPU).
    """
    ws = Workspace() if workspace is None else workspace
    out = ws.get("scalars", (2,), np.float64)
    _launch_loss(z, y, sw, loss_kind, quantiles, scale, dz, out[:1])
    return float(out[:1].copy_to_host()[0])


@cuda.jit
def _output_transform(z, out_kind):
    # sigmoid / softmax of each row, in place (predict only)
    B, K = z.shape
    r = cuda.grid(1)
    if r < B:
        if out_kind == LOSS_BINARY:
            z[r, 0] = _sigmoid(z[r, 0])
        elif out_kind == LOSS_SOFTMAX:
            m = z[r, 0]
            for k in range(1, K):
                if z[r, k] > m:
                    m = z[r, k]
            s = ZERO
            for k in range(K):
                z[r, k] = math.exp(z[r, k] - m)
                s += z[r, k]
            for k in range(K):
                z[r, k] = z[r, k] / s


# --------------------------------------------------------------- optimizer
@cuda.jit
def _sum_parts_and_square(grads, partial):
    # grads[0] receives the sum of the rows; partial[block] = its sum of squares
    n_chunks, P = grads.shape
    tid = cuda.threadIdx.x
    shared = cuda.shared.array(REDUCE_THREADS, dtype=float64)
    acc = 0.0
    for p in range(cuda.grid(1), P, cuda.gridsize(1)):
        g = grads[0, p]
        for q in range(1, n_chunks):
            g += grads[q, p]
        grads[0, p] = g
        gd = float(grads[0, p])
        acc += gd * gd
    acc = _block_sum(shared, tid, acc)
    if tid == 0:
        partial[cuda.blockIdx.x] = acc


@cuda.jit
def _optimizer_update(theta, g, m, v, partial, opt_kind, lr, lr_t, beta_1, beta_2, epsilon,
                      clipnorm, norm_out):
    # every block reduces the per-block sums itself (no extra launch, no sync)
    P = theta.size
    tid = cuda.threadIdx.x
    shared = cuda.shared.array(REDUCE_THREADS, dtype=float64)
    acc = 0.0
    for q in range(tid, partial.size, REDUCE_THREADS):
        acc += partial[q]
    norm = math.sqrt(_block_sum(shared, tid, acc))
    factor = 1.0
    if clipnorm > 0 and norm > clipnorm:
        factor = clipnorm / norm
    if cuda.grid(1) == 0:
        norm_out[0] = norm
    for p in range(cuda.grid(1), P, cuda.gridsize(1)):
        if opt_kind == OPT_ADAM:
            gp = g[p] * factor
            m[p] = beta_1 * m[p] + (1.0 - beta_1) * gp
            v[p] = beta_2 * v[p] + (1.0 - beta_2) * gp * gp
            theta[p] -= lr_t * m[p] / (math.sqrt(v[p]) + epsilon)
        else:
            m[p] = beta_1 * m[p] - lr * g[p] * factor
            theta[p] += m[p]


def launch_apply(theta, grads, opt_kind, m, v, lr, beta_1, beta_2, epsilon, step, clipnorm,
                  ws, norm_out):
    partial = ws.get("norm_partials", (REDUCE_BLOCKS,), np.float64)
    _sum_parts_and_square[REDUCE_BLOCKS, REDUCE_THREADS](grads, partial)
    lr_t = 0.0
    if opt_kind == OPT_ADAM:
        lr_t = lr * math.sqrt(1.0 - beta_2**step) / (1.0 - beta_1**step)
    n_blocks = min(REDUCE_BLOCKS, _blocks(theta.size, REDUCE_THREADS))
    _optimizer_update[n_blocks, REDUCE_THREADS](
        theta, grads[0], m, v, partial, opt_kind, float(lr), float(lr_t), float(beta_1),
        float(beta_2), float(epsilon), float(clipnorm), norm_out,
    )


def apply_gradients(theta, grads, opt_kind, m, v, lr, beta_1, beta_2, epsilon, step, clipnorm,
                    workspace=None):
    """Sum the per-chunk gradients, clip by global norm, take one optimizer step.

    Twin of the CPU kernel (same arguments, device arrays).

    Returns
    -------
    norm : float
        Global norm of the gradient before clipping, read back from the device.
    """
    ws = Workspace() if workspace is None else workspace
    out = ws.get("scalars", (2,), np.float64)
    launch_apply(theta, grads, opt_kind, m, v, lr, beta_1, beta_2, epsilon, step, clipnorm,
                  ws, out[1:])
    return float(out[1:].copy_to_host()[0])


# ----------------------------------------------------------------- network
class Workspace:
    """Device buffers reused from one minibatch to the next.

    ``get(name, shape, dtype)`` returns the buffer under ``name``, allocated
    again only when the shape or dtype changes (e.g. the last, smaller batch
    of an epoch).
    """

    def __init__(self):
        self._buffers = {}

    def get(self, name, shape, dtype):
        """Buffer ``name`` of ``shape`` and ``dtype`` (contents undefined)."""
        shape = tuple(int(s) for s in shape)
        dtype = np.dtype(dtype)
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = cuda.device_array(shape, dtype=dtype)
            self._buffers[name] = buf
        return buf


@cuda.jit
def _gather_time_major(X, idx, x):
    # x[t, r, f] = X[idx[r], t, f]
    T, B, F = x.shape
    for e in range(cuda.grid(1), T * B * F, cuda.gridsize(1)):
        f = e % F
        r = (e // F) % B
        t = e // (F * B)
        x[t, r, f] = X[idx[r], t, f]


@cuda.jit
def _gather_rows(Y, sw, idx, yb, swb):
    B, K = yb.shape
    r = cuda.grid(1)
    if r < B:
        swb[r] = sw[idx[r]]
        for k in range(K):
            yb[r, k] = Y[idx[r], k]


@cuda.jit
def _to_time_major(X, x):
    # x[t, r, f] = X[r, t, f]
    T, B, F = x.shape
    for e in range(cuda.grid(1), T * B * F, cuda.gridsize(1)):
        f = e % F
        r = (e // F) % B
        t = e // (F * B)
        x[t, r, f] = X[r, t, f]


def _forward_layers(theta, layers, x, ws, prefix):
    # run the stack over time-major x; returns per layer (input, gates, c, h)
    T, B, _ = x.shape
    dtype = x.dtype
    stack = []
    inputs = x
    for k in range(len(layers)):
        H = int(layers[k][1])
        w_ih, w_hh, b = layer_views(theta, layers[k])
        gates = ws.get(f"{prefix}gates{k}", (T, B, 4 * H), dtype)
        c = ws.get(f"{prefix}c{k}", (T + 1, B, H), dtype)
        h = ws.get(f"{prefix}h{k}", (T + 1, B, H), dtype)
        _zero(c[0])
        _zero(h[0])
        lstm_layer_forward(inputs, w_ih, w_hh, b, gates, c, h)
        stack.append((inputs, gates, c, h))
        inputs = h[1:]
    return stack


def network_loss_grad_async(theta, grad, layers, head, X, Y, sw, idx, loss_kind, quantiles,
                             scale, ws, loss_out):
    # as network_loss_grad, but the loss stays on the device in loss_out[0]
    layers = np.asarray(layers)
    head = np.asarray(head)
    B = idx.shape[0]
    T, F = X.shape[1], X.shape[2]
    dtype = theta.dtype
    x = ws.get("x", (T, B, F), dtype)
    _gather_time_major[_blocks(T * B * F, REDUCE_THREADS), REDUCE_THREADS](X, idx, x)
    stack = _forward_layers(theta, layers, x, ws, "")

    K = int(head[1])
    w_out, b_out = head_views(theta, head)
    hlast = stack[-1][3][T]
    z = ws.get("z", (B, K), dtype)
    _matmul(hlast, w_out, z, trans_b=True, bias=b_out)
    yb = ws.get("yb", (B, K), dtype)
    swb = ws.get("swb", (B,), dtype)
    _gather_rows[_blocks(B, REDUCE_THREADS), REDUCE_THREADS](Y, sw, idx, yb, swb)
    dz = ws.get("dz", (B, K), dtype)
    _launch_loss(z, yb, swb, loss_kind, quantiles, scale, dz, loss_out)

    gw_out, gb_out = head_views(grad, head)
    _matmul(dz, hlast, gw_out, trans_a=True)
    _column_sums(dz, gb_out, ws.get("head_partials", (COLUMN_CHUNKS, K), dtype))
    H_top = int(layers[-1][1])
    dh = ws.get(f"dh{len(layers) - 1}", (T, B, H_top), dtype)
    _zero(dh)
    _matmul(dz, w_out, dh[T - 1])
    for k in range(len(layers) - 1, -1, -1):
        inputs, gates, c, h = stack[k]
        w_ih, w_hh, _ = layer_views(theta, layers[k])
        gw_ih, gw_hh, gb = layer_views(grad, layers[k])
        if k > 0:
            dx = ws.get(f"dh{k - 1}", (T, B, int(layers[k][0])), dtype)
        else:
            dx = ws.get("no_dx", (0, 0, 0), dtype)
        lstm_layer_backward(inputs, w_ih, w_hh, gates, c, h, dh, gw_ih, gw_hh, gb, dx, ws)
        dh = dx


def network_loss_grad(theta, grad, layers, head, X, Y, sw, idx, loss_kind, quantiles, scale,
                      workspace=None):
    """Forward pass, loss and full BPTT for the samples ``idx`` of ``X``.

    Twin of the CPU kernel: ``theta``, ``grad``, ``X``, ``Y``, ``sw``,
    ``idx`` and ``quantiles`` are device arrays, ``layers`` and ``head`` the
    same small int64 tables (host arrays: they only say where the tensors are).

    Returns
    -------
    loss : float
        Sum of the weighted sample losses over ``idx``.
    """
    ws = Workspace() if workspace is None else workspace
    out = ws.get("scalars", (2,), np.float64)
    network_loss_grad_async(theta, grad, layers, head, X, Y, sw, idx, loss_kind, quantiles,
                             scale, ws, out[:1])
    return float(out[:1].copy_to_host()[0])


def network_forward(theta, layers, head, X, out_kind, out, workspace=None):
    """Predict: run the stack and the head over ``X`` (batch-major) into ``out``.

    Twin of the CPU kernel (device arrays; ``layers`` and ``head`` on the
    host). ``out_kind`` LOSS_BINARY applies the sigmoid, LOSS_SOFTMAX the
    softmax. Each row's sums run in a fixed order that does not depend on the
    other rows.
    """
    ws = Workspace() if workspace is None else workspace
    layers = np.asarray(layers)
    head = np.asarray(head)
    n, T, F = X.shape
    dtype = theta.dtype
    x = ws.get("x", (T, n, F), dtype)
    _to_time_major[_blocks(T * n * F, REDUCE_THREADS), REDUCE_THREADS](X, x)
    stack = _forward_layers(theta, layers, x, ws, "")
    w_out, b_out = head_views(theta, head)
    _matmul(stack[-1][3][T], w_out, out, trans_b=True, bias=b_out)
    if out_kind == LOSS_BINARY or out_kind == LOSS_SOFTMAX:
        _output_transform[_blocks(n, REDUCE_THREADS), REDUCE_THREADS](out, out_kind)


# Kernels by name, for the tests that lower each one for both dtypes.
KERNELS = {
    "_fill": _fill,
    "_gemm": _gemm,
    "_column_partials": _column_partials,
    "_column_finish": _column_finish,
    "_forward_step": _forward_step,
    "_backward_step": _backward_step,
    "_loss_kernel": _loss_kernel,
    "_output_transform": _output_transform,
    "_sum_parts_and_square": _sum_parts_and_square,
    "_optimizer_update": _optimizer_update,
    "_gather_time_major": _gather_time_major,
    "_gather_rows": _gather_rows,
    "_to_time_major": _to_time_major,
}
_ = LOSS_PINBALL  # the pinball loss is the loss kernel's else branch
