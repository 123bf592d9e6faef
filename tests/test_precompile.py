"""The compile helper: a cold cache's backward pass and predict compiled in a second process."""

import os
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

from skforecast_lstm import LSTMClassifier, LSTMRegressor, _precompile
from skforecast_lstm._kernels import cpu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("Est", [LSTMRegressor, LSTMClassifier])
def test_signatures_are_what_a_fit_and_predict_compile(Est, dtype):
    # if a kernel's arguments change, the helper would compile a specialisation
    # nobody calls: this fails first
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 5, 2))
    y = X[:, -1, 0] > 0 if Est is LSTMClassifier else X[:, -1, 0]
    Est(units=3, epochs=1, batch_size=20, dtype=dtype, random_state=0).fit(X, y).predict(X[:2])
    for name, sig in _precompile.signatures(dtype).items():
        assert sig in getattr(cpu, name).overloads, (name, getattr(cpu, name).signatures)


def test_no_helper_when_switched_off_single_threaded_or_warm(monkeypatch):
    f32 = np.dtype("float32")
    monkeypatch.setattr(_precompile, "_tried", set())
    monkeypatch.setenv(_precompile.ENV, "0")
    assert not _precompile.start(f32, 2)
    monkeypatch.delenv(_precompile.ENV)
    assert not _precompile.start(f32, 1)
    assert _precompile._tried == set()
    # warm: this process has compiled both kernels (the test above)
    LSTMRegressor(units=2, epochs=1, batch_size=8, random_state=0).fit(
        np.ones((8, 3, 1)), np.ones(8)).predict(np.ones((1, 3, 1)))
    monkeypatch.setattr(_precompile, "_tried", set())
    # (with a cold cache an earlier fit of this session may have started one)
    helpers = dict(_precompile.helpers)
    assert not _precompile.start(f32, 2)
    assert _precompile.helpers == helpers


def test_one_lock_per_cache_and_dtype(tmp_path):
    lock = _precompile._take_lock(str(tmp_path), "float32")
    assert lock is not None and os.path.exists(lock)
    assert _precompile._take_lock(str(tmp_path), "float32") is None  # a helper is running
    assert _precompile._take_lock(str(tmp_path), "float64") is not None
    old = time.time() - 2 * _precompile.TIMEOUT
    os.utime(lock, (old, old))  # left behind by a killed helper
    assert _precompile._take_lock(str(tmp_path), "float32") == lock


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_does_not_wait_for_its_parents_helper(monkeypatch):
    class Pending:  # a helper that has not reported yet
        events = {"network_forward": threading.Event()}

    monkeypatch.setitem(_precompile.helpers, "float32", Pending())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads running
        pid = os.fork()
    if pid == 0:  # the child: no reader thread would ever set the event
        if _precompile.helpers:
            os._exit(1)
        _precompile.wait("network_forward", np.dtype("float32"))  # returns at once
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert "float32" in _precompile.helpers  # the parent's state is untouched


SCRIPT = """
import sys
import numpy as np
from skforecast_lstm import LSTMRegressor, _precompile
from skforecast_lstm._kernels import cpu
if sys.argv[1] == "broken":
    _precompile._helper_command = lambda *a: [sys.executable, "-c", "raise SystemExit(3)"]
rng = np.random.RandomState(0)
X = rng.normal(size=(64, 6, 2)).astype(np.float32); y = X[:, -1, 0]
est = LSTMRegressor(units=4, epochs=2, batch_size=32, n_jobs=2, random_state=0).fit(X, y)
print(repr(est.predict(X[:5]).tolist()))
print({k: [sum(getattr(cpu, k).stats.cache_hits.values()),
           sum(getattr(cpu, k).stats.cache_misses.values())]
       for k in ("lstm_layer_forward", "lstm_layer_backward", "network_forward")})
"""


def test_cold_cache_helper_compiles_backward_and_predict_same_result(tmp_path):
    runs = {}
    for mode in ("helper", "broken"):
        env = dict(os.environ, PYTHONPATH=ROOT, NUMBA_CACHE_DIR=str(tmp_path / mode))
        env.pop(_precompile.ENV, None)
        res = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True,
                             text=True, env=env, timeout=600)
        assert res.returncode == 0, res.stderr[-2000:]
        runs[mode] = res.stdout.strip().splitlines()[-2:]
    # the helper compiled the backward pass and predict; this process loaded them
    stats = eval(runs["helper"][1])
    assert stats["lstm_layer_forward"] == [0, 1]
    assert stats["lstm_layer_backward"] == [1, 0]
    assert stats["network_forward"] == [1, 0]
    # a helper that fails: this process compiles them itself
    stats = eval(runs["broken"][1])
    assert stats["lstm_layer_backward"] == [0, 1]
    assert stats["network_forward"] == [0, 1]
    # the same machine code either way: the same predictions, bit for bit
    assert runs["helper"][0] == runs["broken"][0]
    deadline = time.time() + 60
    while list(tmp_path.glob("**/*.lock")) and time.time() < deadline:
        time.sleep(0.1)
    assert not list(tmp_path.glob("**/*.lock"))  # the helper removed its lock
