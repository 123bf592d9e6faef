"""How many threads a fit or predict uses, and BLAS kept to one thread inside them.

Our kernels split every minibatch into ``N_CHUNKS`` parts and run them in
threads of our own; BLAS threads inside those would oversubscribe the cores,
so every fit and predict runs with BLAS limited to one thread. Inside a
parallel scikit-learn/joblib/Dask job the number of threads follows the job's
allowance, and :func:`thread_budget` can cap it per calling thread. Results
never depend on the number of threads.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

__all__ = [
    "N_CHUNKS", "PARALLEL_PREDICT_ROWS", "blas_single_thread", "effective_n_threads",
    "in_threads", "thread_budget",
]

# parts per minibatch: at most this many threads train, and the split (which fixes
# the bits of the summed gradient) depends on the batch size only
N_CHUNKS = 2
# predict on fewer rows than this runs in the calling thread (latency path)
PARALLEL_PREDICT_ROWS = 256


def in_threads(n, n_threads, run):
    """``run(lo, hi)`` over ``n`` rows split evenly across ``n_threads``; its results."""
    bounds = np.linspace(0, n, n_threads + 1).astype(int)
    with blas_single_thread(), ThreadPoolExecutor(n_threads - 1) as pool:
        futures = [pool.submit(run, bounds[p], bounds[p + 1]) for p in range(1, n_threads)]
        first = run(bounds[0], bounds[1])
        return [first] + [f.result() for f in futures]


_budget = threading.local()


@contextmanager
def thread_budget(n_threads):
    """Cap the threads of fits and predicts with ``n_jobs=None`` in this thread.

    Process-wide limits (``OMP_NUM_THREADS``, set by joblib's loky workers and
    dask's nannies) cannot tell apart several tasks that share one process as
    threads; this per-thread cap can. Results do not depend on it.
    """
    previous = getattr(_budget, "n_threads", None)
    _budget.n_threads = n_threads
    try:
        yield
    finally:
        _budget.n_threads = previous


def effective_n_threads(n_jobs):
    """Number of threads a fit or predict may use.

    ``None`` means all cores (at most ``N_CHUNKS``), unless this process is a
    worker of a parallel scikit-learn/joblib job: then the threads joblib
    allows per worker (``OMP_NUM_THREADS`` in process workers, one thread in
    thread workers), so that ``GridSearchCV(n_jobs=2)`` does not run 2 x 2
    threads on 2 cores; :func:`thread_budget` can lower it further.
    Negative values count back from the number of cores, as in joblib.
    """
    n_cpus = os.cpu_count() or 1
    if n_jobs is None:
        limit = os.environ.get("OMP_NUM_THREADS", "")
        n = int(limit) if limit.isdigit() and int(limit) > 0 else None
        if n is None:
            n = 1 if _inside_joblib_worker() else n_cpus
        cap = getattr(_budget, "n_threads", None)
        if cap is not None:
            n = min(n, cap)
        return max(1, min(n, n_cpus, N_CHUNKS))
    if n_jobs < 0:
        n_jobs = max(1, n_cpus + 1 + n_jobs)
    return max(1, min(n_jobs, N_CHUNKS))


def _inside_joblib_worker():
    # joblib runs tasks under a nested backend whose nesting level is >= 1
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    return (getattr(backend, "nesting_level", 0) or 0) >= 1


_blas_lock = threading.Lock()
_blas_state = {"users": 0, "controller": None, "restore": None}


def _blas_controller():
    if _blas_state["controller"] is None:
        # Every kernel calls NumPy's OpenBLAS (see _blas.py), loaded with NumPy;
        # where NumPy has none, _blas's fallback calls np.dot, i.e. SciPy's BLAS,
        # which must be loaded before threadpoolctl looks for libraries to limit.
        import scipy.linalg.cython_blas  # noqa: F401
        from threadpoolctl import ThreadpoolController

        _blas_state["controller"] = ThreadpoolController()
    return _blas_state["controller"]


@contextmanager
def blas_single_thread():
    """Limit BLAS to one thread while any fit or predict of ours runs.

    Our own threads split the work; BLAS threads inside them would
    oversubscribe the cores. Reference-counted, so concurrent fits in several
    threads restore the user's setting only when the last one ends.
    """
    with _blas_lock:
        if _blas_state["users"] == 0:
            controller = _blas_controller()
            _blas_state["restore"] = controller.limit(limits=1, user_api="blas")
        _blas_state["users"] += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_state["users"] -= 1
            if _blas_state["users"] == 0:
                _blas_state["restore"].restore_original_limits()
                _blas_state["restore"] = None
