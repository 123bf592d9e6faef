"""Where a batch-1 prediction goes, and how fast it could be on this machine.

A batch-1 forward pass is T sequential steps per layer: a matrix-vector product with the
transposed recurrent weights (4H x H floats, read from L1 or L2 every step) and the cell's 5H
activations. For each configuration this script times, in one process (thread CPU time, best of
several blocks, so that waiting for a busy core does not count):

- ``predict``: ``est.predict(x)`` for a ``(1, T, F)`` float32 array;
- ``kernel``: the compiled forward pass alone (``cpu.network_forward``);
- ``matvec`` and ``cell``: one step's recurrent product (``_axpy_rows`` on one row) and cell;
- the machine's L2 read bandwidth (a vectorised sum over 256 KB).

``bound`` = T x layers x (the recurrent weights' bytes at the L2 bandwidth, or the measured
matvec if that is faster, + the measured cell): what the steps alone would take with a matvec
that streams the weights at the bandwidth limit, with no Python and no input projection.

Usage: ``python benchmarks/latency_bound.py``; writes ``results/latency_bound.md``.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
from numba import njit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from bench import CONFIGS, make_data, save_table  # noqa: E402

from skforecast_lstm import LSTMClassifier, LSTMRegressor  # noqa: E402
from skforecast_lstm._jit import jit  # noqa: E402
from skforecast_lstm._kernels import cpu  # noqa: E402


@jit
def _repeat_matvec(A, V, w_t, n):
    for _ in range(n):
        cpu._axpy_rows(A, V, w_t)


@jit
def _repeat_cell(a, cp, cn, hn, n):
    for _ in range(n):
        cpu._cell_forward(a, cp, cn, hn)


@njit(fastmath=True, cache=True)
def _sum(a, n):
    # a bandwidth probe, not a kernel: reassociation lets LLVM keep many partial sums
    acc = np.float32(0.0)
    for _ in range(n):
        for i in range(a.size):
            acc += a[i]
    return acc


def best_us(fn, calls, blocks=7):
    """Best thread CPU time per call over ``blocks`` blocks of ``calls`` calls, in us."""
    best = np.inf
    for _ in range(blocks):
        t0 = time.thread_time_ns()
        fn()
        best = min(best, (time.thread_time_ns() - t0) / calls / 1e3)
    return best


def l2_bandwidth():
    a = np.random.default_rng(0).random(64 * 1024).astype(np.float32)  # 256 KB
    _sum(a, 1)
    n = 200
    return a.nbytes * n / (best_us(lambda: _sum(a, n), 1) * 1e-6) / 1e9


def measure(key, bandwidth):
    name, N, T, F, H, B, L, task = CONFIGS[key]
    X, y = make_data(key, n=256)
    Est = LSTMRegressor if task == "regression" else LSTMClassifier
    est = Est(units=(H,) * L, batch_size=B, epochs=1, random_state=0, dtype="float32").fit(X, y)
    x1 = np.ascontiguousarray(X[:1])
    net, theta, wt = est._network, est._theta, est._inference_weights()
    out = np.empty((1, net.n_outputs), np.float32)
    est.predict(x1)
    predict = best_us(lambda: [est.predict(x1) for _ in range(200)], 200)
    shift, scale = np.zeros(x1.shape[2]), np.ones(x1.shape[2])
    kernel = best_us(lambda: [cpu.network_forward(theta, wt, net.layers, net.head, x1, shift,
                                                  scale, net.loss_code, out)
                              for _ in range(200)], 200)
    rng = np.random.default_rng(0)
    G = 4 * H
    A = (rng.normal(size=(1, G)) * 1e-3).astype(np.float32)
    V = rng.normal(size=(1, H)).astype(np.float32)
    w_t = (rng.normal(size=(H, G)) * 1e-2).astype(np.float32)
    n = 1000
    _repeat_matvec(A, V, w_t, 1)
    matvec = best_us(lambda: _repeat_matvec(A, V, w_t, n), n)
    a = rng.normal(size=G).astype(np.float32)
    cp, cn, hn = (np.zeros(H, np.float32) for _ in range(3))
    _repeat_cell(a, cp, cn, hn, 1)
    cell = best_us(lambda: _repeat_cell(a, cp, cn, hn, n), n)
    stream = w_t.nbytes / (bandwidth * 1e9) * 1e6
    bound = T * L * (min(matvec, stream) + cell)
    return {"key": key, "name": name, "T": T, "L": L, "H": H, "kb": w_t.nbytes // 1024,
            "predict": predict, "kernel": kernel, "matvec": matvec, "stream": stream,
            "cell": cell, "bound": bound}


def main():
    bandwidth = l2_bandwidth()
    rows = [measure(key, bandwidth) for key in CONFIGS]
    lines = [
        f"Batch-1 predict, float32, one thread; L2 read bandwidth {bandwidth:.0f} GB/s "
        "(thread CPU time, best of 7 blocks).",
        "",
        "| config | steps x layers | w_hh | matvec per step (at L2 bandwidth) | cell per step "
        "| bound | kernel | predict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['key']} {r['name']} | {r['T']} x {r['L']} | {r['kb']} KB "
            f"| {r['matvec']:.2f} us ({r['stream']:.2f} us) | {r['cell']:.2f} us "
            f"| {r['bound']:.0f} us | {r['kernel']:.0f} us | {r['predict']:.0f} us |"
        )
    save_table(lines, "latency_bound")


if __name__ == "__main__":
    main()
