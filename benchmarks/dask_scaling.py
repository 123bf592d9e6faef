"""Scaling of a grid search and of many-series fits on a dask.distributed LocalCluster.

    python benchmarks/dask_scaling.py                 # full run, a few minutes
    python benchmarks/dask_scaling.py --repeats 1     # quicker, noisier

Measures, on this machine:

1. ``GridSearchCV`` of 16 candidates x 3 folds (48 fits) of a Pipeline around
   ``LSTMRegressor`` under ``joblib.parallel_config(backend="dask")``, on 1, 2
   and 4 worker processes (1 thread each) and on 1 worker process of 1, 2 and 4
   threads, against the same search run serially in this process. All clusters
   live side by side and the repetitions are interleaved, so that drift in the
   machine's load hits every configuration alike; medians are reported.
2. Per-task costs: starting a worker, its first warm_up with an empty Numba
   cache (compiling) and with the cache on disk (loading), the scheduling cost
   of one task through joblib's dask backend, and one fit of a
   "many-series" model, from which ``docs/scaling.md`` estimates a
   32-worker cluster on 10,000 series.

Writes ``benchmarks/results/dask_scaling.md`` (a table) and ``.json`` (raw times).
Every cluster binds to 127.0.0.1 and is closed at the end.
"""

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skforecast_lstm import LSTMRegressor  # noqa: E402
from skforecast_lstm.parallel import parallel_map, warm_up  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
GRID = {
    "lstmregressor__units": [8, 16],
    "lstmregressor__learning_rate": [1e-3, 3e-3, 1e-2, 3e-2],
    "lstmregressor__clipnorm": [1.0, None],
}
# the "many-series" model of the estimate: 3 years of daily data, 4 weeks of lags
SERIES_LENGTH, SERIES_LAGS, SERIES_UNITS, SERIES_EPOCHS = 1095, 28, 32, 20


def windows(series, lags):
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], lags)
    return np.ascontiguousarray(X), series[lags:]


def make_series(seed, n):
    rng = np.random.RandomState(seed)
    t = np.arange(n)
    season = np.sin(2 * np.pi * t / 7) + 0.5 * np.sin(2 * np.pi * t / 365.25)
    return season + 0.01 * t / 7 + 0.2 * rng.normal(size=n)


def grid_search(epochs):
    X, y = windows(make_series(0, 400), 12)
    pipe = make_pipeline(
        StandardScaler(),
        LSTMRegressor(epochs=epochs, batch_size=32, n_jobs=1, random_state=0),
    )
    search = GridSearchCV(pipe, GRID, cv=TimeSeriesSplit(n_splits=3), n_jobs=-1)
    return search, X, y


def noop(item):
    return item


def fit_one_series(seed):
    """The unit of work of many-series training: fit one model on one series."""
    X, y = windows(make_series(seed, SERIES_LENGTH), SERIES_LAGS)
    X = (X - X.mean()) / X.std()
    model = LSTMRegressor(units=SERIES_UNITS, epochs=SERIES_EPOCHS, batch_size=32, n_jobs=1,
                          random_state=seed)
    return model.fit(X, (y - y.mean()) / y.std()).loss_curve_[-1]


def local_cluster(distributed, n_workers, threads, processes):
    # tcp on 127.0.0.1 for both kinds (in-process workers would otherwise use inproc://,
    # whose addresses name the machine's IP); the scheduler's HTTP server, which starts
    # even without a dashboard, on a free loopback port instead of a shared 8787
    return distributed.LocalCluster(
        n_workers=n_workers, threads_per_worker=threads, processes=processes,
        protocol="tcp://", host="127.0.0.1", dashboard_address="127.0.0.1:0",
        worker_dashboard_address=None, silence_logs=logging.CRITICAL,
    )


def timed(func, *args, **kwargs):
    start = time.perf_counter()
    func(*args, **kwargs)
    return time.perf_counter() - start


def per_task_costs(distributed, repeats):
    """Worker start, cold/warm warm_up, scheduling overhead, one many-series fit."""
    costs = {}
    # a worker with an empty cache: spawned workers inherit this environment (numba reads
    # NUMBA_CACHE_DIR at import, so setting it through the nanny would come too late)
    with tempfile.TemporaryDirectory(prefix="numba-cold-") as empty_cache:
        os.environ["NUMBA_CACHE_DIR"] = empty_cache
        try:
            start = time.perf_counter()
            with local_cluster(distributed, 1, 1, True) as cluster, \
                    distributed.Client(cluster) as client:
                costs["worker_start_s"] = time.perf_counter() - start
                (cold,) = client.run(warm_up).values()
        finally:
            del os.environ["NUMBA_CACHE_DIR"]
        assert cold["cache_dir"].startswith(empty_cache), cold
        costs["warm_up_cold_s"] = cold["seconds"]
        costs["warm_up_cold_compiled"] = cold["compiled"]
    with local_cluster(distributed, 2, 1, True) as cluster, distributed.Client(cluster) as client:
        warm = list(client.run(warm_up).values())
        costs["warm_up_cached_s"] = statistics.median(r["seconds"] for r in warm)
        costs["warm_up_cached_compiled"] = max(r["compiled"] for r in warm)
        n = 400
        with parallel_config(backend="dask", client=client):
            parallel_map(noop, range(n))  # let joblib settle its batch size
            overhead = [timed(parallel_map, noop, range(n)) / n for _ in range(repeats)]
        costs["joblib_dask_task_ms"] = 1e3 * statistics.median(overhead)
        futures_overhead = []
        for _ in range(repeats):
            start = time.perf_counter()
            client.gather(client.map(noop, range(n), pure=False))
            futures_overhead.append((time.perf_counter() - start) / n)
        costs["dask_future_task_ms"] = 1e3 * statistics.median(futures_overhead)
    fit_one_series(0)
    wall, cpu = [], []
    for seed in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fit_one_series(seed)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    costs["series_fit_s"] = statistics.median(wall)
    # what a dedicated core would take: the machine is shared, wall time is inflated by load
    costs["series_fit_cpu_s"] = statistics.median(cpu)
    costs["series_shape"] = (f"{SERIES_LENGTH} points, {SERIES_LAGS} lags, {SERIES_UNITS} units, "
                             f"{SERIES_EPOCHS} epochs, batch 32, 1 thread")
    return costs


def scaling(distributed, workers, repeats, epochs):
    clusters = {}
    try:
        for n in workers:
            clusters[f"{n} processes"] = local_cluster(distributed, n, 1, True)
            clusters[f"{n} threads"] = local_cluster(distributed, 1, n, False)
        clients = {name: distributed.Client(c, set_as_default=False)
                   for name, c in clusters.items()}
        for client in clients.values():
            client.run(warm_up)
        times = {"serial": [], **{name: [] for name in clients}}
        cpu = {name: [] for name in times}
        reference = None
        for _ in range(repeats):
            search, X, y = grid_search(epochs)
            start_cpu = time.process_time()
            with parallel_config(backend="sequential"):
                times["serial"].append(timed(search.fit, X, y))
            cpu["serial"].append(time.process_time() - start_cpu)
            reference = search.cv_results_["mean_test_score"]
            for name, client in clients.items():
                search, X, y = grid_search(epochs)
                start_cpu = cpu_seconds(client)
                with parallel_config(backend="dask", client=client):
                    times[name].append(timed(search.fit, X, y))
                cpu[name].append(cpu_seconds(client) - start_cpu)
                np.testing.assert_array_equal(search.cv_results_["mean_test_score"], reference)
            print({k: round(v[-1], 2) for k, v in times.items()}, os.getloadavg(), flush=True)
        for client in clients.values():
            client.close()
    finally:
        for cluster in clusters.values():
            cluster.close()
    return times, cpu


def cpu_seconds(client):
    """CPU time of this process plus that of the cluster's worker processes."""
    own = time.process_time()
    if not client.cluster.processes:
        return own
    return own + sum(client.run(time.process_time).values())


def table(times, cpu, workers, n_fits):
    serial = statistics.median(times["serial"])
    serial_cpu = statistics.median(cpu["serial"])
    rows = ["| configuration | workers | wall time (s) | speed-up vs serial | efficiency "
            "| CPU time (s) | CPU vs serial |",
            "|---|---:|---:|---:|---:|---:|---:|",
            f"| serial, this process | 1 | {serial:.2f} | 1.00 | 100 % | {serial_cpu:.2f} | 1.00 |"]
    for kind in ("processes", "threads"):
        base = statistics.median(times[f"1 {kind}"])
        for n in workers:
            t = statistics.median(times[f"{n} {kind}"])
            c = statistics.median(cpu[f"{n} {kind}"])
            rows.append(f"| dask, {kind} | {n} | {t:.2f} | {serial / t:.2f} | "
                        f"{100 * base / (n * t):.0f} % | {c:.2f} | {c / serial_cpu:.2f} |")
    rows.append("")
    rows.append(f"{n_fits} fits per search; efficiency = T(1 worker) / (n x T(n workers)) "
                "within the same kind; CPU time: this process and the worker processes "
                "together; medians.")
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args(argv)
    import distributed

    workers = [int(w) for w in args.workers.split(",")]
    warm_up()
    n_fits = 3 * int(np.prod([len(v) for v in GRID.values()]))
    costs = per_task_costs(distributed, args.repeats)
    print(costs, flush=True)
    times, cpu = scaling(distributed, workers, args.repeats, args.epochs)

    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    cost_lines = "\n".join(f"| {k} | {v:.3g} |" if isinstance(v, float) else f"| {k} | {v} |"
                           for k, v in costs.items())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    text = (
        f"# Dask scaling ({time.strftime('%Y-%m-%d')}, {machine}, load average at the end "
        f"{load})\n\n"
        f"`python benchmarks/dask_scaling.py --workers {args.workers} --repeats {args.repeats} "
        f"--epochs {args.epochs}`\n\n"
        f"## GridSearchCV, {n_fits // 3} candidates x 3 folds\n\n"
        f"{table(times, cpu, workers, n_fits)}\n\n"
        f"## Per-task costs\n\n| quantity | value |\n|---|---:|\n{cost_lines}\n"
    )
    (RESULTS / "dask_scaling.md").write_text(text)
    raw = {"times": times, "cpu": cpu, "costs": costs}
    (RESULTS / "dask_scaling.json").write_text(json.dumps(raw, indent=1))
    print(text)


if __name__ == "__main__":
    main()
