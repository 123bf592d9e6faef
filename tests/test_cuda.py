"""The GPU path without a GPU: device selection, kernel compilation, and the simulator suite.

- The simulator tests (``tests/cuda_sim``) compare every CUDA kernel and a
  whole fit with ``device='cuda'`` against the CPU. Numba reads
  ``NUMBA_ENABLE_CUDASIM`` when it is imported, so they run in a subprocess.
- The simulator runs kernels as Python and never types them: here every
  kernel is also typed and lowered to NVVM IR by Numba's real CUDA compiler,
  for float32 and float64, which needs neither a GPU nor the CUDA toolkit.
- Device selection and its errors, in this process (no simulator, no GPU).
"""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skforecast_lstm import LSTMClassifier, LSTMRegressor, _backend

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------- simulator suite
@pytest.fixture(scope="module")
def simulator_run(tmp_path_factory):
    """Run tests/cuda_sim under NUMBA_ENABLE_CUDASIM=1; returns (result, artifacts dir)."""
    artifacts = tmp_path_factory.mktemp("cuda_sim")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", SKFORECAST_LSTM_ARTIFACTS=str(artifacts))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header",
         "tests/cuda_sim"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    return result, artifacts


def test_simulator_suite_passes(simulator_run):
    """Every CUDA kernel and a cuda fit agree with the CPU under the simulator."""
    result, _ = simulator_run
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]


def test_gpu_trained_model_predicts_without_gpu(simulator_run):
    """A model fitted with device='cuda' (simulated) pickles as NumPy and predicts on the CPU."""
    result, artifacts = simulator_run
    assert result.returncode == 0, result.stdout[-4000:]
    with open(artifacts / "model.pkl", "rb") as fh:
        model = pickle.load(fh)
    saved = np.load(artifacts / "predictions.npz")
    assert model.device_ == "cuda"
    assert isinstance(model._theta, np.ndarray)
    assert all(isinstance(a, np.ndarray) for a in (model._optimizer.m, model._optimizer.v))
    # this process has no GPU (and no simulator): device='cuda' says how to fix it
    with pytest.raises(RuntimeError, match=r"device='cuda'.*set_params\(device='cpu'\)"):
        _unavailable(model).predict(saved["X"])
    model.set_params(device="cpu")
    np.testing.assert_allclose(model.predict(saved["X"]), saved["cuda"], rtol=1e-10, atol=1e-12)


def _unavailable(model):
    # what predict meets on a machine without a GPU, here made certain
    if _backend._probe()[0]:
        pytest.skip("this machine has a usable GPU")
    return model


# --------------------------------------------------------- kernel lowering
def _argtypes(name, dt):
    from numba import types

    a1, a2, a3 = dt[::1], dt[:, ::1], dt[:, :, ::1]
    i64, f64, b1 = types.int64, types.float64, types.boolean
    f1 = types.float64[::1]
    return {
        "_fill": (a1, f64),
        "_gemm": (a2, a2, a2, a1, b1, b1, b1),
        "_column_partials": (a2, a2),
        "_column_finish": (a2, a1),
        "_forward_step": (a3, a2, a1, a3, a3, i64),
        "_backward_step": (a3, a2, a3, a3, a2, i64),
        "_loss_kernel": (a2, a2, a1, i64, a1, f64, a2, f1),
        "_output_transform": (a2, i64),
        "_sum_parts_and_square": (a2, f1),
        "_optimizer_update": (a1, a1, a1, a1, f1, i64, f64, f64, f64, f64, f64, f64, f1),
        "_gather_time_major": (a3, types.int64[::1], a3),
        "_gather_rows": (a2, a1, types.int64[::1], a2, a1),
        "_to_time_major": (a3, a3),
    }[name]


class _Sm80:
    compute_capability = (8, 0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_kernel_types_and_lowers_for_the_gpu(dtype, monkeypatch):
    """Numba's CUDA compiler accepts every kernel (typing + NVVM IR), no GPU needed."""
    import numba.cuda.dispatcher
    from numba import types
    from numba.cuda.compiler import compile_cuda

    # device functions are compiled for "the current device": name one
    monkeypatch.setattr(numba.cuda.dispatcher, "get_current_device", _Sm80)

    from skforecast_lstm._kernels import cuda as kernels

    dt = getattr(types, dtype)
    for name, kernel in kernels.KERNELS.items():
        cres = compile_cuda(kernel.py_func, types.void, _argtypes(name, dt), cc=(8, 0))
        ir = cres.library.get_llvm_str()
        # float32 kernels must not fall back to float64 arithmetic in the hot loops
        if dtype == "float32" and name in ("_gemm", "_forward_step", "_backward_step"):
            assert "fadd double" not in ir and "fmul double" not in ir, name


# ---------------------------------------------------------- device choice
@pytest.fixture
def no_gpu(monkeypatch):
    reason = "numba.cuda.is_available() is False: no NVIDIA GPU (test)"
    monkeypatch.setattr(_backend, "_probe", lambda: (False, reason, False))


def test_cuda_without_gpu_is_a_clear_error(no_gpu):
    """device='cuda' with no usable GPU names the parameter, the cause and the fix."""
    X = np.random.default_rng(0).normal(size=(20, 4, 1))
    with pytest.raises(RuntimeError) as info:
        LSTMRegressor(units=3, epochs=1, device="cuda").fit(X, X[:, -1, 0])
    message = str(info.value)
    assert "device='cuda'" in message
    assert "no NVIDIA GPU" in message
    assert "pip install 'skforecast-lstm[cuda]'" in message
    assert "device='cpu'" in message


def test_auto_without_gpu_runs_on_cpu(no_gpu):
    """device='auto' falls back to the CPU, with the same weights as device='cpu'."""
    X = np.random.default_rng(0).normal(size=(20, 4, 1))
    y = X[:, -1, 0] > 0
    auto = LSTMClassifier(units=3, epochs=2, device="auto", random_state=0).fit(X, y)
    cpu = LSTMClassifier(units=3, epochs=2, device="cpu", random_state=0).fit(X, y)
    assert auto.device_ == "cpu"
    np.testing.assert_array_equal(auto._theta, cpu._theta)


def test_auto_stays_on_cpu_under_the_simulator(monkeypatch):
    """The simulator is usable for device='cuda' only; 'auto' never picks it."""
    monkeypatch.setattr(_backend, "_probe", lambda: (True, "", True))
    assert _backend.resolve_device("auto") == "cpu"
    assert _backend.resolve_device("cuda") == "cuda"


def test_bad_device_is_refused():
    """An unknown device is refused by the parameter validation, naming the choices."""
    X = np.zeros((10, 3, 1)) + 0.5
    with pytest.raises(ValueError, match="'device' parameter"):
        LSTMRegressor(device="gpu").fit(X, X[:, 0, 0])


def test_importing_the_package_does_not_import_numba_cuda():
    """Nothing probes the GPU at import: numba.cuda is imported only when asked for."""
    code = (
        "import sys, skforecast_lstm; "
        "print([m for m in sys.modules if m.startswith(('numba.cuda', 'numba_cuda'))])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"
