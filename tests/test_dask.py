"""Grid search and many-series work on a real dask.distributed LocalCluster.

One cluster of 2 worker processes, bound to 127.0.0.1, serves the whole module.
Every parallel result is compared with the serial run's: they must be equal,
bit for bit, since each fit is seeded and its arithmetic does not depend on
where or in how many threads it runs.
"""

import os
import time

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skforecast_lstm import LSTMForecaster, LSTMRegressor, backtest
from skforecast_lstm.parallel import _kernel_stats, parallel_map, warm_up

distributed = pytest.importorskip("distributed")

N_LAGS = 6


@pytest.fixture(scope="module")
def client():
    warm_up()  # fills the on-disk cache if this process is the first to compile
    # The scheduler starts an HTTP server even without a dashboard, by default on port
    # 8787; on a shared machine that port may be taken, and distributed then warns
    # (an error here). A free port on the loopback interface avoids both.
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", worker_dashboard_address=None,
    )
    with cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


def _windows(series):
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], N_LAGS)
    return X, series[N_LAGS:]


def _series(seed, n=90):
    rng = np.random.RandomState(seed)
    t = np.arange(n)
    return np.sin(2 * np.pi * t / (8 + seed % 5)) + 0.1 * rng.normal(size=n)


def _grid_search():
    X, y = _windows(_series(0))
    pipe = make_pipeline(
        StandardScaler(), LSTMRegressor(units=3, epochs=3, batch_size=16, random_state=0)
    )
    grid = {"lstmregressor__units": [2, 4], "lstmregressor__learning_rate": [0.01, 0.05]}
    search = GridSearchCV(pipe, grid, cv=TimeSeriesSplit(n_splits=3), n_jobs=-1)
    return search, X, y


def _backtest_one(series, seed):
    """A rolling-origin backtest of one series: refit at each origin, predict 5 steps."""
    X, y = _windows(series)
    predictions = []
    for origin in (60, 65, 70):
        model = LSTMRegressor(units=4, epochs=4, batch_size=16, random_state=seed)
        model.fit(X[:origin], y[:origin])
        predictions.append(model.predict(X[origin : origin + 5]))
    return np.concatenate(predictions)


def test_workers_load_kernels_from_the_cache_instead_of_compiling(client):
    """After warm_up, a worker has compiled nothing: the kernels came from disk."""
    reports = client.run(warm_up)
    assert len(reports) == 2
    for report in reports.values():
        assert report["compiled"] == 0, report
        assert report["loaded"] > 0, report
        assert report["cache_dir"] is not None
    # a fit in a task adds no compile either
    search, X, y = _grid_search()
    with parallel_config(backend="dask"):
        search.fit(X, y)
    for stats in client.run(_kernel_stats).values():
        assert stats["compiled"] == 0, stats


def test_grid_search_on_the_cluster_equals_the_serial_run(client):
    """GridSearchCV over a pipeline under the dask backend: same scores, same predictions."""
    serial, X, y = _grid_search()
    with parallel_config(backend="sequential"):
        serial.fit(X, y)
    on_dask, _, _ = _grid_search()
    with parallel_config(backend="dask"):
        on_dask.fit(X, y)

    assert len(serial.cv_results_["params"]) == 4
    for key in ("params", "rank_test_score"):
        assert list(on_dask.cv_results_[key]) == list(serial.cv_results_[key])
    for k in range(3):
        key = f"split{k}_test_score"
        np.testing.assert_array_equal(on_dask.cv_results_[key], serial.cv_results_[key])
    assert on_dask.best_params_ == serial.best_params_
    np.testing.assert_array_equal(on_dask.predict(X), serial.predict(X))


def test_many_series_backtest_on_the_cluster_equals_the_serial_run(client):
    """parallel_map of a per-series backtest: dask, threads and serial agree bit for bit."""
    many = [_series(seed) for seed in range(4)]
    serial = parallel_map(_backtest_one, many, random_state=7)
    with parallel_config(backend="dask"):
        on_dask = parallel_map(_backtest_one, many, random_state=7)
    with parallel_config(backend="threading", n_jobs=2):
        threaded = parallel_map(_backtest_one, many, random_state=7)
    assert len(on_dask) == 4
    for a, b, c in zip(serial, on_dask, threaded):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_forecaster_backtest_on_the_cluster_equals_the_serial_run(client):
    """backtest(n_jobs=...) of a two-series LSTMForecaster: its refits run on the workers."""
    index = pd.date_range("2000-01-01", periods=84, freq="MS")
    y = pd.DataFrame({"a": _series(1, 84), "b": 3 + _series(2, 84)}, index=index)
    model = LSTMForecaster(12, 6, LSTMRegressor(units=4, epochs=3, batch_size=16),
                           random_state=0)
    serial_scores, serial_pred = backtest(model, y, initial_train_size=60, refit=True)
    with parallel_config(backend="dask"):
        scores, pred = backtest(model, y, initial_train_size=60, refit=True, n_jobs=-1)
    pd.testing.assert_frame_equal(scores, serial_scores)
    pd.testing.assert_frame_equal(pred, serial_pred)


def test_tasks_are_spread_over_the_workers(client):
    """With the dask backend and n_jobs=None, parallel_map uses every worker."""
    with parallel_config(backend="dask"):
        pids = parallel_map(_slow_pid, range(8))
    assert len(set(pids)) == 2


def _slow_pid(_):
    time.sleep(0.2)
    return os.getpid()
