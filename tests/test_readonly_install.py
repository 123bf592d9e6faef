"""Import, fit and predict work when Numba cannot write any cache folder."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import warnings
    warnings.simplefilter("error")
    import numba.core.caching as caching

    def read_only(self):
        raise OSError("read-only file system (simulated)")

    # every cache locator (next to the source, user-wide, NUMBA_CACHE_DIR) fails,
    # as on a read-only install with no writable home
    caching._CacheLocator.ensure_cache_path = read_only

    import numpy as np
    from skforecast_lstm import LSTMRegressor
    from skforecast_lstm._kernels import cpu

    assert not cpu.lstm_layer_forward._cache.__class__.__name__ == "FunctionCache"
    rng = np.random.RandomState(0)
    X = rng.normal(size=(64, 5, 1))
    y = X[:, -2, 0]
    reg = LSTMRegressor(units=4, epochs=2, random_state=0).fit(X, y)
    print("ok", reg.predict(X[:2]).shape)
    """
)


def test_import_fit_predict_without_a_writable_cache():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ok (2,)" in result.stdout
