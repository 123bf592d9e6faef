"""Every CUDA kernel against its CPU twin, on random inputs, under the CUDA simulator.

Sizes are small and deliberately not multiples of the (small) block sizes set
in conftest.py, so partial tiles, partial blocks and the grid-stride loops
are all exercised.
"""

import numpy as np
import pytest
from numba import cuda

from skforecast_lstm._kernels import cpu, losses
from skforecast_lstm._kernels import cuda as gpu

T, B, F, H = 3, 7, 3, 5
RTOL = {np.float64: 1e-12, np.float32: 2e-5}


def _random(rng, shape, dtype, scale=0.5):
    return np.ascontiguousarray(rng.normal(scale=scale, size=shape), dtype=dtype)


def _close(actual, expected, dtype, factor=1.0):
    host = actual.copy_to_host() if hasattr(actual, "copy_to_host") else actual
    tol = RTOL[dtype] * factor
    np.testing.assert_allclose(host, expected, rtol=tol, atol=tol)


def _layer_inputs(rng, dtype, n_in=F):
    x = _random(rng, (T, B, n_in), dtype, 1.0)
    w_ih = _random(rng, (4 * H, n_in), dtype)
    w_hh = _random(rng, (4 * H, H), dtype)
    b = _random(rng, (4 * H,), dtype)
    c = np.zeros((T + 1, B, H), dtype)
    h = np.zeros((T + 1, B, H), dtype)
    c[0] = _random(rng, (B, H), dtype)  # a non-zero initial state
    h[0] = _random(rng, (B, H), dtype)
    return x, w_ih, w_hh, b, np.empty((T, B, 4 * H), dtype), c, h


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lstm_layer_forward(dtype):
    """Gates, cell and hidden states of every step match the CPU kernel."""
    rng = np.random.default_rng(1)
    x, w_ih, w_hh, b, gates, c, h = _layer_inputs(rng, dtype)
    dev = [cuda.to_device(a) for a in (x, w_ih, w_hh, b, gates, c, h)]
    cpu.lstm_layer_forward(x, w_ih, w_hh, b, gates, c, h)
    gpu.lstm_layer_forward(*dev)
    for d, expected in zip(dev[4:], (gates, c, h)):
        _close(d, expected, dtype)


@pytest.mark.parametrize(
    "dtype, with_dx", [(np.float64, True), (np.float64, False), (np.float32, True)]
)
def test_lstm_layer_backward(dtype, with_dx):
    """Parameter gradients, input gradient and gate gradients match the CPU kernel."""
    rng = np.random.default_rng(2)
    x, w_ih, w_hh, b, gates, c, h = _layer_inputs(rng, dtype)
    cpu.lstm_layer_forward(x, w_ih, w_hh, b, gates, c, h)
    dh = _random(rng, (T, B, H), dtype, 1.0)
    dev = [cuda.to_device(a) for a in (x, w_ih, w_hh, gates, c, h, dh)]
    dx_shape = (T, B, F) if with_dx else (0, 0, 0)
    outs = [np.empty((4 * H, F), dtype), np.empty((4 * H, H), dtype), np.empty(4 * H, dtype),
            np.empty(dx_shape, dtype)]
    dev_outs = [cuda.device_array(o.shape, dtype) for o in outs]
    cpu.lstm_layer_backward(x, w_ih, w_hh, gates, c, h, dh, *outs)
    gpu.lstm_layer_backward(*dev, *dev_outs)
    for d, expected in zip(dev_outs, outs):
        _close(d, expected, dtype, factor=10)
    _close(dev[3], gates, dtype, factor=10)  # overwritten with the gate gradients


def _loss_inputs(rng, loss_kind, dtype, K=3):
    z = _random(rng, (B, K), dtype, 1.5)
    if loss_kind == losses.LOSS_BINARY:
        z = z[:, :1].copy()
        y = (rng.random((B, 1)) > 0.5).astype(dtype)
    elif loss_kind == losses.LOSS_SOFTMAX:
        y = np.eye(K, dtype=dtype)[rng.integers(0, K, B)]
    else:
        y = _random(rng, (B, K), dtype, 1.0)
    sw = np.ascontiguousarray(rng.uniform(0.5, 2.0, B), dtype=dtype)
    q = np.ascontiguousarray(np.linspace(0.1, 0.9, z.shape[1]), dtype=dtype)
    return z, y, sw, q


@pytest.mark.parametrize(
    "loss_kind",
    sorted(losses.LOSSES.values()),
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_and_dlogits(loss_kind, dtype):
    """Loss and its gradient match the CPU kernel for every loss."""
    rng = np.random.default_rng(3 + loss_kind)
    z, y, sw, q = _loss_inputs(rng, loss_kind, dtype)
    dz = np.empty_like(z)
    dz_dev = cuda.device_array_like(dz)
    expected = cpu.loss_and_dlogits(z, y, sw, loss_kind, q, 1.0 / 13, dz)
    got = gpu.loss_and_dlogits(*(cuda.to_device(a) for a in (z, y, sw)), loss_kind,
                               cuda.to_device(q), 1.0 / 13, dz_dev)
    assert got == pytest.approx(expected, rel=RTOL[dtype] * 10)
    _close(dz_dev, dz, dtype)


@pytest.mark.parametrize(
    "opt_kind, clipnorm", [(cpu.OPT_ADAM, 0.3), (cpu.OPT_ADAM, -1.0), (cpu.OPT_SGD, 0.3)]
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_apply_gradients(opt_kind, clipnorm, dtype):
    """Summed parts, norm, clipping and the Adam/SGD step match the CPU kernel."""
    rng = np.random.default_rng(4)
    P = 29
    theta = _random(rng, P, dtype)
    grads = _random(rng, (2, P), dtype)
    m = _random(rng, P, dtype, 0.1)
    v = np.abs(_random(rng, P, dtype, 0.1))
    dev = [cuda.to_device(a) for a in (theta, grads, m, v)]
    args = (0.01, 0.9, 0.999, 1e-7, 3, clipnorm)
    expected = cpu.apply_gradients(theta, grads, opt_kind, m, v, *args)
    got = gpu.apply_gradients(dev[0], dev[1], opt_kind, dev[2], dev[3], *args)
    assert got == pytest.approx(expected, rel=RTOL[dtype])
    for d, e in zip(dev, (theta, grads, m, v)):
        _close(d[0] if e.ndim == 2 else d, e[0] if e.ndim == 2 else e, dtype)


def _network(rng, dtype, loss, K):
    from skforecast_lstm._network import LSTMNetwork

    net = LSTMNetwork(F, (H, 4), K, loss, dtype, quantiles=np.linspace(0.2, 0.8, K))
    theta = net.init_params(np.random.RandomState(0))
    theta += _random(rng, theta.size, dtype, 0.1)  # biases non-zero too
    return net, theta


@pytest.mark.parametrize("loss", ["mse", "softmax"])
def test_network_loss_grad(loss):
    """Two stacked layers: loss and the whole gradient vector match the CPU (float64)."""
    dtype = np.float64
    rng = np.random.default_rng(5)
    K = 3
    net, theta = _network(rng, dtype, loss, K)
    n = 11
    X = _random(rng, (n, T, F), dtype, 1.0)
    Y = (np.eye(K)[rng.integers(0, K, n)] if loss == "softmax" else _random(rng, (n, K), dtype))
    Y = np.ascontiguousarray(Y, dtype)
    sw = np.ascontiguousarray(rng.uniform(0.5, 2.0, n), dtype)
    idx = np.array([3, 0, 9, 4, 4, 10], dtype=np.int64)
    # the CPU's forward + BPTT of one part (idx has fewer rows than two parts need)
    grads = np.zeros((2, theta.size), dtype)
    expected = net._part_loss_grad(theta, grads, 0, X, Y, sw, idx, 0.25)
    grad = grads[0]
    grad_dev = cuda.device_array_like(grad)
    got = gpu.network_loss_grad(
        cuda.to_device(theta), grad_dev, net.layers, net.head, cuda.to_device(X),
        cuda.to_device(Y), cuda.to_device(sw), cuda.to_device(idx), net.loss_code,
        cuda.to_device(net.quantiles), 0.25,
    )
    assert got == pytest.approx(expected, rel=1e-12)
    _close(grad_dev, grad, dtype, factor=10)


@pytest.mark.parametrize("loss, K", [("binary", 1), ("softmax", 3)])
def test_network_forward(loss, K):
    """Predictions (with sigmoid / softmax) match the CPU kernel (float64)."""
    dtype = np.float64
    rng = np.random.default_rng(6)
    net, theta = _network(rng, dtype, loss, K)
    X = _random(rng, (9, T, F), dtype, 1.0)
    out = np.empty((9, K), dtype)
    cpu.network_forward(theta, cpu.inference_weights(theta, net.layers), net.layers, net.head,
                        X, np.zeros(F), np.ones(F), net.loss_code, out)
    out_dev = cuda.device_array_like(out)
    gpu.network_forward(cuda.to_device(theta), net.layers, net.head, cuda.to_device(X),
                        net.loss_code, out_dev)
    _close(out_dev, out, dtype)
