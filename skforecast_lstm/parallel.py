"""Run many fits in parallel on any joblib backend: threads, processes or a Dask cluster.

Two helpers:

- :func:`warm_up` loads (or, the first time, compiles) the Numba kernels in
  the calling process. Run it once per worker process before the first task,
  e.g. ``client.run(warm_up)`` on a ``dask.distributed`` client, so that no
  task pays the compile time and the kernels come from the on-disk cache.
- :func:`parallel_map` applies a function to many items through
  :class:`joblib.Parallel`, so it runs on whichever backend is active:
  sequential by default, loky or threads with ``n_jobs``, a Dask cluster inside
  ``joblib.parallel_config(backend="dask")``. Results come back in the order
  of the items, and seeds are drawn up front, so they are the same as a serial
  run's. Forecasting helpers that take ``n_jobs`` (backtesting, fitting many
  series) are built on it.

scikit-learn's own parallel tools (``GridSearchCV``, ``cross_validate``) need
neither: they use joblib already. See ``docs/scaling.md`` for the recipe.
"""

import os
import threading
import time
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.utils import check_random_state

from ._threads import thread_budget
from ._validation import resolve_dtype

__all__ = ["parallel_map", "warm_up"]


def _dispatchers():
    from numba.core.registry import CPUDispatcher

    from ._kernels import cpu

    return [obj for obj in vars(cpu).values() if isinstance(obj, CPUDispatcher)]


def _kernel_stats():
    """Kernel signatures compiled and loaded from the disk cache in this process."""
    compiled = loaded = 0
    for dispatcher in _dispatchers():
        stats = dispatcher.stats
        compiled += sum(stats.cache_misses.values())
        loaded += sum(stats.cache_hits.values())
    return {"compiled": compiled, "loaded": loaded}


def warm_up(dtype="float32"):
    """Load or compile the kernels of a fit and a predict in this process.

    A fresh process with an empty Numba cache spends seconds per dtype
    compiling before its first fit; with the cache on disk (next to the
    package's source, or in ``NUMBA_CACHE_DIR``) loading takes a fraction of
    a second. Running this once per worker moves that cost out of the tasks
    and, on the first worker of a machine, fills the cache for the others.

    Parameters
    ----------
    dtype : {'float32', 'float64'} or sequence of them, default='float32'
        Compute dtype(s) of the estimators the worker will fit.

    Returns
    -------
    dict
        ``seconds`` spent here; ``compiled`` and ``loaded``: kernel
        signatures compiled so far in this process and loaded from the disk
        cache; ``cache_dir``: where Numba keeps the cache (``None`` when it
        could not write one and compiles in memory only); ``pid``.

    See Also
    --------
    parallel_map : Apply a function to many items on the active joblib backend.

    Notes
    -----
    On a ``dask.distributed`` cluster: ``client.run(warm_up)`` runs it on
    every worker now; a ``WorkerPlugin`` whose ``setup`` calls it also covers
    workers started later (see ``docs/scaling.md``).

    Examples
    --------
    >>> from skforecast_lstm.parallel import warm_up
    >>> report = warm_up()
    >>> sorted(report)
    ['cache_dir', 'compiled', 'loaded', 'pid', 'seconds']
    >>> report["compiled"] + report["loaded"] > 0
    True
    """
    from ._estimators import LSTMRegressor

    dtypes = [dtype] if isinstance(dtype, str) or not np.iterable(dtype) else list(dtype)
    for name in dtypes:
        resolve_dtype(name)  # names the choices on a wrong value
    start = time.perf_counter()
    X = np.sin(np.linspace(0.0, 12.0, 96)).reshape(16, 6, 1)
    y = X[:, -1, 0]
    for name in dtypes:
        model = LSTMRegressor(units=2, epochs=1, batch_size=16, dtype=name, n_jobs=1,
                              random_state=0)
        model.fit(X, y).predict(X[:2])
    cache_dir = _dispatchers()[0].stats.cache_path
    return {
        "seconds": time.perf_counter() - start,
        **_kernel_stats(),
        "cache_dir": cache_dir,
        "pid": os.getpid(),
    }


class _Task:
    """``func`` with a thread cap for fits when tasks share a process as threads."""

    def __init__(self, func, caller, n_threads):
        self.func = func
        self.caller = caller
        self.n_threads = n_threads

    def __call__(self, *args, **kwargs):
        if (os.getpid(), threading.get_ident()) == self.caller or self.caller[0] != os.getpid():
            # the caller's own thread (sequential) or another process: the process-wide
            # limits set by the backend (OMP_NUM_THREADS) hold
            return self.func(*args, **kwargs)
        with thread_budget(self.n_threads):
            return self.func(*args, **kwargs)


def parallel_map(func, items, *, n_jobs=None, random_state=None, verbose=0):
    """Apply ``func`` to every item on the active joblib backend, in order.

    Parameters
    ----------
    func : callable
        Called as ``func(item)``, or ``func(item, seed=seed)`` when
        ``random_state`` is given. With process backends (loky, Dask) it must
        be picklable, e.g. a module-level function.
    items : iterable
        One task per item.
    n_jobs : int, default=None
        Tasks run at once. ``None`` means the active backend's choice: 1
        (sequential) unless inside ``joblib.parallel_config``, all workers of
        the cluster in ``parallel_config(backend="dask")``. ``-1``: all cores
        (or workers).
    random_state : int, RandomState instance or None, default=None
        When given, one integer seed per item is drawn from it up front, in
        the calling process, and passed as ``seed=``: results do not depend on
        which worker runs which task or in which order.
    verbose : int, default=0
        joblib's progress messages.

    Returns
    -------
    list
        ``func``'s results, in the order of ``items``.

    See Also
    --------
    warm_up : Load the kernels once per worker before the tasks.

    Notes
    -----
    Threads per fit: an estimator with ``n_jobs=None`` uses up to 2 threads
    unless ``OMP_NUM_THREADS`` says fewer. Process backends set that variable
    in their workers (loky: cores / workers; Dask's nanny: 1). When tasks run
    as threads of one process (the threading backend, an in-process Dask
    cluster), each task's fits are capped at ``cores // n_jobs`` threads, at
    least 1, so that they do not oversubscribe the cores. An explicit
    ``n_jobs`` on the estimator is always obeyed. Results never depend on the
    number of threads.

    Examples
    --------
    >>> import numpy as np
    >>> from joblib import parallel_config
    >>> from skforecast_lstm.parallel import parallel_map
    >>> parallel_map(np.square, [1, 2, 3])
    [np.int64(1), np.int64(4), np.int64(9)]

    With ``random_state``, every task gets its own seed, whatever the backend:

    >>> def draw(item, seed):
    ...     return item + np.random.RandomState(seed).randint(100)
    >>> serial = parallel_map(draw, [0, 1000, 2000], random_state=0)
    >>> with parallel_config(backend="threading", n_jobs=2):
    ...     threaded = parallel_map(draw, [0, 1000, 2000], random_state=0)
    >>> threaded == serial
    True
    """
    if not callable(func):
        raise TypeError(f"func must be callable; got {type(func).__name__} {func!r}.")
    if n_jobs is not None and (not isinstance(n_jobs, Integral) or isinstance(n_jobs, bool)
                               or n_jobs == 0):
        raise ValueError(
            f"n_jobs must be None or a non-zero integer (-1 for all cores or workers); "
            f"got {n_jobs!r}."
        )
    items = list(items)
    n_workers = effective_n_jobs(n_jobs)
    n_threads = max(1, (os.cpu_count() or 1) // max(1, n_workers))
    task = _Task(func, (os.getpid(), threading.get_ident()), n_threads)
    if random_state is None:
        calls = [delayed(task)(item) for item in items]
    else:
        seeds = check_random_state(random_state).randint(np.iinfo(np.int32).max,
                                                          size=len(items))
        calls = [delayed(task)(item, seed=int(seed)) for item, seed in zip(items, seeds)]
    return Parallel(n_jobs=n_jobs, verbose=verbose)(calls)
