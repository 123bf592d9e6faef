"""What the speed work must not break: accuracy of the fast activations, determinism, caching."""

import pickle

import numpy as np
import pytest

from skforecast_lstm import LSTMClassifier, LSTMRegressor
from skforecast_lstm._jit import jit
from skforecast_lstm._kernels import cpu, losses
from skforecast_lstm._network import LSTMNetwork
from skforecast_lstm._threads import PARALLEL_PREDICT_ROWS

from . import naive


@jit
def _apply(x, out, kind):
    for i in range(x.size):
        out[i] = cpu.fast_tanh(x[i]) if kind == 0 else cpu.fast_sigmoid(x[i])


def _grid(dtype):
    x = np.linspace(-30, 30, 600_001)
    x = np.concatenate([x, np.linspace(-1e-3, 1e-3, 20_001), [1e-30, -1e-30, 0.0]])
    return x.astype(dtype)


def _reference(kind, x):
    x = x.astype(np.float64)
    return np.tanh(x) if kind == 0 else 1.0 / (1.0 + np.exp(-x))


@pytest.mark.parametrize("kind, bound", [(0, 4e-7), (1, 3e-7)])
def test_fast_activation_float32_max_error(kind, bound):
    """The float32 rational approximation stays within a few float32 ulps of 1."""
    x = _grid(np.float32)
    out = np.empty_like(x)
    _apply(x, out, kind)
    assert out.dtype == np.float32
    assert np.max(np.abs(out - _reference(kind, x))) < bound


@pytest.mark.parametrize("kind", [0, 1])
def test_fast_activation_float64_is_exact(kind):
    """float64 keeps NumPy's functions, so finite-difference tests stay tight."""
    x = _grid(np.float64)
    out = np.empty_like(x)
    _apply(x, out, kind)
    assert np.max(np.abs(out - _reference(kind, x))) < 1e-15


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", [0, 1])
def test_fast_activation_special_values(dtype, kind):
    """NaN propagates (divergence must stay visible); infinities saturate.

    float64 saturates exactly; the float32 approximation (evaluated with fused
    multiply-adds) stops two ulps short of the limits, and never crosses them.
    """
    x = np.array([np.nan, np.inf, -np.inf], dtype=dtype)
    out = np.empty_like(x)
    _apply(x, out, kind)
    assert np.isnan(out[0])
    tol = 0.0 if dtype == np.float64 else 3e-7
    low = -1.0 if kind == 0 else 0.0
    assert 1.0 - tol <= out[1] <= 1.0
    assert low <= out[2] <= low + tol
    grid = _grid(dtype)
    values = np.empty_like(grid)
    _apply(grid, values, kind)
    assert low <= values.min() and values.max() <= 1.0


def _data(n=300, T=9, F=2, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, T, F))
    y = X[:, -2, 0] + 0.5 * X[:, -4, 1]
    return X, y


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fit_bit_identical_for_any_n_jobs(dtype):
    """The minibatch split depends on the batch size only, not on the thread count."""
    X, y = _data()
    fits = [
        LSTMRegressor(units=(6, 5), epochs=3, batch_size=40, dtype=dtype, n_jobs=n_jobs,
                      random_state=1).fit(X, y)
        for n_jobs in (1, 2, None)
    ]
    for other in fits[1:]:
        np.testing.assert_array_equal(fits[0]._theta, other._theta)
        assert fits[0].loss_curve_ == other.loss_curve_


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_rows_independent_of_batching_and_threads(dtype):
    """A row's prediction is the same alone, in a block, and split across threads."""
    X, y = _data(n=PARALLEL_PREDICT_ROWS + 37)
    one = LSTMRegressor(units=7, epochs=1, dtype=dtype, n_jobs=1, random_state=0).fit(X, y)
    two = LSTMRegressor(units=7, epochs=1, dtype=dtype, n_jobs=2, random_state=0).fit(X, y)
    full = one.predict(X)
    np.testing.assert_array_equal(full, two.predict(X))
    for i in (0, 5, PARALLEL_PREDICT_ROWS + 36):
        np.testing.assert_array_equal(full[i : i + 1], one.predict(X[i : i + 1]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_predict_blocks_of_rows_equal_rows_alone(dtype):
    """Rows that share passes over the weights (blocks of INFER_ROWS, a shorter last block)
    get the bits they get alone; widths of 8+ exercise the eight-row weight groups."""
    rng = np.random.RandomState(4)
    net = LSTMNetwork(9, (16, 11), 2, "mse", dtype)
    theta = (net.init_params(rng) + rng.normal(0, 0.2, net.n_params)).astype(dtype)
    n = 2 * cpu.INFER_ROWS + 3
    X = rng.normal(size=(n, 6, 9)).astype(dtype)
    full = net.forward(theta, X)
    alone = np.concatenate([net.forward(theta, X[i : i + 1]) for i in range(n)])
    np.testing.assert_array_equal(full, alone)
    ref = naive.predict(X.astype(np.float64), net.state_dict(theta.astype(np.float64)),
                        net.units, "mse")
    np.testing.assert_allclose(full, ref, rtol=1e-4 if dtype == np.float32 else 1e-12,
                               atol=1e-5 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [3, PARALLEL_PREDICT_ROWS + 5])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_predict_pass_finds_one_non_finite_value(bad, n, dtype):
    """The compiled predict pass (one thread and two) flags a single NaN or +-inf."""
    X, y = _data()
    # unstandardised, so that the kernel itself sees the largest finite values
    est = LSTMRegressor(units=4, epochs=1, random_state=0, dtype=dtype, standardize=False)
    est.fit(X, y)
    Xp = np.zeros((n,) + X.shape[1:], dtype)
    Xp[n - 1, -1, -1] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        est.predict(Xp)
    # large but finite, everywhere: predicted
    Xp[...] = np.finfo(dtype).max
    Xp[0, 0, 0] = -np.finfo(dtype).max
    assert np.isfinite(est.predict(Xp)).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_probabilities_of_extreme_logits(dtype):
    """Logits far outside exp's range give exact 0 / 1 probabilities, without a warning,
    in the compiled predict pass and in the NumPy link of the networks with options."""
    from types import SimpleNamespace

    from skforecast_lstm._graph import _link

    X = np.zeros((2, 3, 2), dtype)
    for loss, K, bias, expected in [("binary", 1, [-1e4], [0.0]),
                                    ("softmax", 3, [1e4, 0.0, -1e4], [1.0, 0.0, 0.0])]:
        net = LSTMNetwork(2, (4,), K, loss, dtype)
        theta = net.init_params(np.random.RandomState(0)).astype(dtype)
        theta[net.head[3] : net.head[3] + K] = bias
        np.testing.assert_array_equal(net.forward(theta, X), [expected] * 2)
        z = np.array([bias], dtype)
        np.testing.assert_array_equal(_link(SimpleNamespace(loss_code=net.loss_code), z),
                                      [expected])


@pytest.mark.parametrize("units", [(8,), (8, 5), (4, 9)])
def test_float32_forward_matches_reference(units):
    """The float32 kernels (fast activations) agree with a float64 NumPy LSTM."""
    rng = np.random.RandomState(3)
    net = LSTMNetwork(3, units, 2, "mse", np.float32)
    theta = net.init_params(rng) + rng.normal(0, 0.2, net.n_params).astype(np.float32)
    X = rng.normal(size=(11, 13, 3)).astype(np.float32)
    out = net.forward(theta, X)
    ref = naive.predict(X, net.state_dict(theta.astype(np.float64)), units, "mse")
    np.testing.assert_allclose(out, ref, atol=2e-5)


def test_float32_gradient_close_to_float64():
    """float32 gradients (fast activations) agree with the exact float64 ones."""
    rng = np.random.RandomState(4)
    X = rng.normal(size=(40, 12, 2))
    Y = rng.normal(size=(40, 1))
    sw = np.ones(40)
    idx = np.arange(40, dtype=np.int64)
    grads = {}
    for dtype in (np.float32, np.float64):
        net = LSTMNetwork(2, (16, 8), 1, "mse", dtype)
        theta = net.init_params(np.random.RandomState(0))
        g = np.zeros((2, net.n_params), dtype=dtype)
        _, n_parts = net.loss_grad(theta, X.astype(dtype), Y.astype(dtype), sw.astype(dtype),
                                   idx, g)
        grads[dtype] = g[:n_parts].astype(np.float64).sum(axis=0)
    g32, g64 = grads[np.float32], grads[np.float64]
    assert np.max(np.abs(g32 - g64)) < 1e-4 * np.max(np.abs(g64))


def test_inference_cache_follows_the_weights():
    """Predictions follow partial_fit, load_state_dict and pickling."""
    X, y = _data()
    est = LSTMRegressor(units=5, epochs=2, random_state=0).fit(X, y)
    before = est.predict(X)
    est.partial_fit(X, y)
    after = est.predict(X)
    assert not np.array_equal(before, after)
    fresh = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(fresh.predict(X), after)
    other = LSTMRegressor(units=5, epochs=1, random_state=1).fit(X, y)
    other.load_state_dict(est.state_dict())
    np.testing.assert_array_equal(other.predict(X), after)


def test_classifier_latency_path_matches_generic_path():
    """The 3-D float32 fast path and the validated path give the same probabilities."""
    X, _ = _data(n=60)
    y = (X[:, -1, 0] > 0).astype(int)
    clf = LSTMClassifier(units=4, epochs=2, random_state=0).fit(X, y)
    fast = clf.predict_proba(X.astype(np.float32))
    slow = clf.predict_proba(X.astype(np.float32).tolist())
    np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize(
    "name", ["gather_time_major", "network_forward", "lstm_layer_forward", "lstm_layer_backward",
             "_mse_loss", "_binary_loss", "_softmax_loss", "_pinball_loss", "_huber_loss"],
)
def test_kernels_are_cached_on_disk(name):
    """Every compiled kernel is cached on disk (the cold start depends on it)."""
    from numba.core.caching import NullCache

    assert not isinstance(getattr(cpu, name)._cache, NullCache)


def test_python_dispatchers_reach_every_kernel():
    """The per-loss kernels behind the Python dispatchers are all listed."""
    assert len(cpu.LOSS_KERNELS) == len(losses.LOSSES)
    assert {name: cpu.LOSS_KERNELS[code].py_func.__name__
            for name, code in losses.LOSSES.items()} == {
        "mse": "_mse_loss", "binary": "_binary_loss", "softmax": "_softmax_loss",
        "pinball": "_pinball_loss", "huber": "_huber_loss"}


@pytest.mark.parametrize("name", sorted(losses.LOSSES))
def test_kernel_losses_equal_the_table_numpy_losses(name):
    """Training (the kernels) and validation scoring (loss_rows) compute one loss."""
    rng = np.random.default_rng(0)
    code = losses.LOSSES[name]
    n, K = 7, 1 if name == "binary" else 3
    z = rng.normal(size=(n, K))
    if name == "binary":
        y = rng.integers(0, 2, size=(n, 1)).astype(float)
        out = 1 / (1 + np.exp(-z))
    elif name == "softmax":
        y = np.eye(K)[rng.integers(0, K, size=n)]
        out = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    else:
        y = rng.normal(size=(n, K))
        out = z
    param = np.array([0.1, 0.5, 0.9][:K]) if name == "pinball" else np.full(K, 0.7)
    sw = rng.uniform(0.5, 2.0, size=n)
    dz = np.empty_like(z)
    kernel = cpu.loss_and_dlogits(z, y, sw, code, param, 1.0 / n, dz)
    expected = float((sw * losses.loss_rows(code, out, y, param)).sum())  # unscaled sum
    assert kernel == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("clipnorm", [-1.0, 0.05])
def test_adam_step_matches_the_textbook_update(clipnorm):
    """The NumPy optimizer step: parts summed, clipped by the global norm, Adam's update."""
    rng = np.random.RandomState(0)
    P = 50
    theta = rng.normal(size=P).astype(np.float32)
    grads = (rng.normal(size=(2, P)) * 0.1).astype(np.float32)
    m = (rng.normal(size=P) * 0.01).astype(np.float32)
    v = np.abs(rng.normal(size=P) * 0.01).astype(np.float32)
    g = grads.astype(np.float64).sum(axis=0)
    norm = np.sqrt(g @ g)
    g = g * (clipnorm / norm if 0 < clipnorm < norm else 1.0)
    lr, b1, b2, eps, step = 0.01, 0.9, 0.999, 1e-7, 3
    m_ref = b1 * m + (1 - b1) * g
    v_ref = b2 * v + (1 - b2) * g * g
    lr_t = lr * np.sqrt(1 - b2**step) / (1 - b1**step)
    theta_ref = theta - lr_t * m_ref / (np.sqrt(v_ref) + eps)
    got = cpu.apply_gradients(theta, grads, cpu.OPT_ADAM, m, v, lr, b1, b2, eps, step, clipnorm)
    assert got == pytest.approx(norm, rel=1e-6)
    np.testing.assert_allclose(theta, theta_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v, v_ref, rtol=1e-5)


def test_adam_step_non_finite_and_huge_gradients():
    """A non-finite gradient changes nothing; a huge finite one does not overflow float32."""
    P = 8
    theta = np.ones(P, np.float32)
    m, v = np.zeros(P, np.float32), np.zeros(P, np.float32)
    grads = np.full((2, P), np.nan, np.float32)
    assert np.isnan(cpu.apply_gradients(theta, grads, cpu.OPT_ADAM, m, v, 1e-3, 0.9, 0.999,
                                        1e-7, 1, -1.0))
    assert (theta == 1).all() and (m == 0).all() and (v == 0).all()
    grads = np.full((2, P), 1e19, np.float32)  # its square overflows float32, (1 - beta_2) g^2 not
    norm = cpu.apply_gradients(theta, grads, cpu.OPT_ADAM, m, v, 1e-3, 0.9, 0.999, 1e-7, 1, -1.0)
    assert np.isfinite(norm) and np.isfinite(v).all() and (theta < 1).all()


def test_blas_fallback_gives_the_same_model(tmp_path):
    """Without NumPy's OpenBLAS the kernels reach BLAS through np.dot adapters."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from skforecast_lstm import LSTMRegressor\n"
        "from skforecast_lstm._blas import BLAS_SOURCE\n"
        "rng = np.random.RandomState(0)\n"
        "X = rng.normal(size=(120, 6, 2)); y = X[:, -2, 0]\n"
        "est = LSTMRegressor(units=(5, 4), epochs=3, batch_size=30, dtype='float64',\n"
        "                    random_state=0).fit(X, y)\n"
        "print(BLAS_SOURCE); print(repr(est.predict(X[:4]).tolist()))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    outs = []
    for mode in ("", "fallback"):
        env = dict(os.environ, SKFORECAST_LSTM_BLAS=mode, PYTHONPATH=root,
                   NUMBA_CACHE_DIR=str(tmp_path / (mode or "default")))
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, timeout=600)
        assert res.returncode == 0, res.stderr[-2000:]
        outs.append(res.stdout.splitlines())
    assert "fallback" not in outs[0][0] and "fallback" in outs[1][0]
    np.testing.assert_allclose(eval(outs[0][1]), eval(outs[1][1]), rtol=1e-10)


def test_cache_reused_by_new_processes_and_joblib_workers(tmp_path):
    """A second process, and a loky worker, load every kernel from the disk cache."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from joblib import Parallel, delayed\n"
        "def fit():\n"
        "    from skforecast_lstm import LSTMRegressor\n"
        "    from skforecast_lstm._kernels import cpu\n"
        "    rng = np.random.RandomState(0)\n"
        "    X = rng.normal(size=(64, 5, 1)); y = X[:, -1, 0]\n"
        "    LSTMRegressor(units=4, epochs=1, batch_size=32, random_state=0).fit(X, y)\n"
        "    kernels = [cpu.gather_time_major, cpu.lstm_layer_forward, cpu._mse_loss,\n"
        "               cpu.lstm_layer_backward]\n"
        "    return sum(sum(k.stats.cache_misses.values()) for k in kernels)\n"
        "import sys\n"
        "if sys.argv[1] == 'worker':\n"
        "    print(Parallel(n_jobs=2)(delayed(fit)() for _ in range(2)))\n"
        "else:\n"
        "    print([fit()])\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root, NUMBA_CACHE_DIR=str(tmp_path))
    misses = []
    for mode in ("first", "second", "worker"):
        res = subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True,
                             env=env, timeout=600)
        assert res.returncode == 0, res.stderr[-2000:]
        misses.append(eval(res.stdout.strip().splitlines()[-1]))
    assert misses[0][0] > 0  # the first process compiled
    assert misses[1] == [0]  # a new process found everything on disk
    assert misses[2] == [0, 0]  # so did joblib's worker processes
