"""Kernels against the plain NumPy reference and central finite differences (float64)."""

import numpy as np
import pytest

from skforecast_lstm._network import LSTMNetwork

from . import naive

LOSSES = {
    "mse": 2,
    "binary": 1,
    "softmax": 3,
    "pinball": 3,
    "huber": 3,
}


def _problem(loss, units, seed=0, n=6, T=5, F=3):
    rng = np.random.RandomState(seed)
    K = LOSSES[loss]
    # Huber: a threshold that puts some residuals on each side of it
    quantiles = {"pinball": [0.1, 0.5, 0.9], "huber": [0.5, 0.8, 1.2]}.get(loss)
    net = LSTMNetwork(F, units, K, loss, np.float64, quantiles=quantiles)
    # perturb the (zero) biases too, so every tensor's gradient is exercised
    theta = net.init_params(rng) + rng.normal(0, 0.1, net.n_params)
    X = rng.normal(size=(n, T, F))
    if loss in ("mse", "pinball", "huber"):
        Y = rng.normal(size=(n, K))
    elif loss == "binary":
        Y = (rng.rand(n, 1) > 0.5).astype(float)
    else:
        Y = np.eye(K)[rng.randint(0, K, n)]
    sw = rng.uniform(0.5, 2.0, n)
    return net, theta, X, Y, sw


def _kernel_loss_grad(net, theta, X, Y, sw):
    idx = np.arange(X.shape[0], dtype=np.int64)
    grads = np.zeros((2, net.n_params), dtype=theta.dtype)
    loss, n_parts = net.loss_grad(theta, X, Y, sw, idx, grads)
    return loss, grads[:n_parts].sum(axis=0)


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("units", [(4,), (5, 3)], ids=["one-layer", "stacked"])
def test_gradient_matches_finite_differences(loss, units):
    """Every parameter tensor's BPTT gradient agrees with central differences."""
    net, theta, X, Y, sw = _problem(loss, units)
    loss_value, grad = _kernel_loss_grad(net, theta, X, Y, sw)

    def f(th):
        return naive.loss(X, Y, net.state_dict(th), net.units, loss, sw, net.quantiles)

    assert loss_value == pytest.approx(f(theta), rel=1e-12)
    naive.assert_gradients_close(net, grad, naive.central_differences(f, theta))


@pytest.mark.parametrize(
    "F, n, T",
    [(1, 6, 5), (2, 6, 5), (1, 6, 1), (2, 130, 8)],
    ids=["one-input", "two-inputs", "one-step", "transposed-recurrent-weights"],
)
def test_gradient_matches_finite_differences_kernel_paths(F, n, T):
    """The kernels' shape-dependent paths: one or two inputs (GEMMs of one or two columns),
    a single step, and the forward's transposed w_hh (from 512 rows of steps per part)."""
    from skforecast_lstm._kernels import cpu

    assert (n // 2) * T >= cpu.TRANSPOSE_MIN_ROWS or n < 100
    net, theta, X, Y, sw = _problem("mse", (4, 3), n=n, T=T, F=F)
    loss_value, grad = _kernel_loss_grad(net, theta, X, Y, sw)

    def f(th):
        return naive.loss(X, Y, net.state_dict(th), net.units, "mse", sw, net.quantiles)

    assert loss_value == pytest.approx(f(theta), rel=1e-12)
    naive.assert_gradients_close(net, grad, naive.central_differences(f, theta))


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_forward_matches_reference(loss):
    """The inference kernel computes the textbook equations."""
    net, theta, X, _, _ = _problem(loss, (5, 3), n=9, T=7)
    out = net.forward(theta, X)
    ref = naive.predict(X, net.state_dict(theta), net.units, loss)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-14)


def test_float32_close_to_float64():
    """float32 kernels agree with float64 to single precision."""
    net64, theta, X, Y, sw = _problem("mse", (6, 4), n=20)
    net32 = LSTMNetwork(3, (6, 4), 2, "mse", np.float32)
    theta32 = theta.astype(np.float32)
    out64 = net64.forward(theta, X)
    out32 = net32.forward(theta32, X.astype(np.float32))
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-5)
    _, g64 = _kernel_loss_grad(net64, theta, X, Y, sw)
    _, g32 = _kernel_loss_grad(net32, theta32, X.astype(np.float32), Y.astype(np.float32),
                               sw.astype(np.float32))
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)


def test_split_minibatch_equals_whole():
    """Gradients summed over the two halves equal one pass over the batch (through the
    general path of the Keras options, an independent implementation of the same network)."""
    from skforecast_lstm import _graph

    net, theta, X, Y, sw = _problem("softmax", (5,), n=40)
    idx = np.arange(40, dtype=np.int64)
    grads = np.zeros((2, net.n_params))
    loss, n_parts = net.loss_grad(theta, X, Y, sw, idx, grads)
    assert n_parts == 2
    whole = np.zeros(net.n_params)
    total = _graph.loss_grad_part(net, theta, whole, X, Y, sw, None, 1 / 40)
    np.testing.assert_allclose(grads.sum(axis=0), whole, rtol=1e-12, atol=1e-15)
    assert loss == pytest.approx(total / 40, rel=1e-12)


def test_predictions_do_not_depend_on_batching():
    """A row's prediction is the same alone, in any batch and in any thread split."""
    net, theta, X, _, _ = _problem("mse", (6,), n=300, T=4)
    net32 = LSTMNetwork(3, (6,), 2, "mse", np.float32)
    th = theta.astype(np.float32)
    X32 = X.astype(np.float32)
    full = net32.forward(th, X32, n_threads=2)
    one = np.concatenate([net32.forward(th, X32[i : i + 1]) for i in range(0, 300, 37)])
    np.testing.assert_array_equal(full[::37], one)
    np.testing.assert_array_equal(full, net32.forward(th, X32, n_threads=1))
    perm = np.random.RandomState(1).permutation(300)
    np.testing.assert_array_equal(full[perm], net32.forward(th, X32[perm], n_threads=2))


@pytest.mark.parametrize("units", [(4,), (5, 3)], ids=["one-layer", "stacked"])
def test_id_embedding_gradient_matches_finite_differences(units):
    """The id embedding (last feature an integer id) is the plain network on the features
    with the id's learnt vector beside them at every step; its gradient sums the steps."""
    rng = np.random.RandomState(0)
    n, T, F, n_ids, dim = 7, 5, 3, 5, 2  # id 4 is in no row
    net = LSTMNetwork(F + 1, units, 2, "mse", np.float64, id_embedding=(n_ids, dim))
    theta = net.init_params(rng) + rng.normal(0, 0.1, net.n_params)
    ids = np.array([0, 1, 3, 3, 2, 0, 3])
    X = np.concatenate([rng.normal(size=(n, T, F)),
                        np.repeat(ids[:, None, None], T, axis=1).astype(float)], axis=2)
    Y = rng.normal(size=(n, 2))
    sw = rng.uniform(0.5, 2.0, n)
    loss_value, grad = _kernel_loss_grad(net, theta, X, Y, sw)

    def f(th):
        weights = net.state_dict(th)
        table = weights.pop("id_embedding.weight")
        inputs = np.concatenate([X[:, :, :F], np.repeat(table[ids][:, None], T, axis=1)],
                                axis=2)
        return naive.loss(inputs, Y, weights, net.units, "mse", sw)

    assert loss_value == pytest.approx(f(theta), rel=1e-12)
    numeric = naive.central_differences(f, theta)
    naive.assert_gradients_close(net, grad, numeric)
    # an id no row carries gets no gradient
    assert np.all(net.tensors(grad)["id_embedding.weight"][1:3].any(axis=1))
    assert not net.tensors(grad)["id_embedding.weight"][[i for i in range(n_ids)
                                                           if i not in ids]].any()
