"""A second process that compiles the backward pass and predict while a cold first fit runs.

A fresh install compiles about 9 s of kernels in its first fit and predict, one
after the other (``benchmarks/compile_time.py``). Numba's compiler holds the
GIL, so a thread cannot help, but a process can: when a plain CPU fit starts
and the on-disk cache lacks ``lstm_layer_backward`` or ``network_forward`` for
its dtype, :func:`start` launches one helper that compiles them into the
cache. This process meanwhile compiles the kernels it needs first (the gather,
the forward pass, the loss) and, where it reaches a kernel the helper owns,
waits for it (:func:`wait`) and loads it from the cache. The machine code is
the same either way; only who compiles it changes.

The helper runs only when all of this holds: the cache is on disk and cold for
that dtype; the fit may use two or more threads (so never inside a joblib
worker capped at one); no other helper holds this cache's lock;
``sys.executable`` is a Python, not a frozen application; and
``SKFORECAST_LSTM_COMPILE_HELPER`` is not ``0``. It imports the kernel modules
alone, not the package, whose scikit-learn import would take as long as the
compilation it saves. If it fails in any way this process compiles the kernels
itself. Once the cache is warm none of this runs again.
"""

import os
import subprocess
import sys
import threading
import time

__all__ = ["start", "wait", "signatures", "ENV"]

ENV = "SKFORECAST_LSTM_COMPILE_HELPER"
# what the helper compiles, in this order: the backward pass is needed first
KERNELS = ("lstm_layer_backward", "network_forward")
# seconds to wait for the helper before compiling here; a stale lock is
# ignored after as long
TIMEOUT = 300.0

_lock = threading.Lock()
_tried = set()  # dtype names: one helper at most per process and dtype
# dtype name -> _Helper, while its process runs. The backward pass and predict
# test it (empty once no helper runs: one attribute and truth test) and only
# then call wait().
helpers = {}


def _after_fork_in_child():
    # A forked child has no reader thread: it would wait for events that
    # nobody sets. It compiles for itself instead (the parent's helper, if
    # still running, holds the cache's lock, so no second one starts).
    global _lock
    _lock = threading.Lock()
    helpers.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def signatures(dtype_name):
    """The argument types of :data:`KERNELS` in a plain fit and predict of this dtype.

    A test checks them against what a fit and a predict compile, so that a
    change of a kernel's arguments cannot silently leave the helper compiling
    a specialisation nobody uses.
    """
    from numba import types

    f = getattr(types, dtype_name)

    def A(ndim):
        return types.Array(f, ndim, "C")

    def I(ndim):  # noqa: E743
        return types.Array(types.int64, ndim, "C")

    def D(ndim):
        return types.Array(types.float64, ndim, "C")

    return {
        "lstm_layer_backward": (A(3), A(2), A(2), A(3), A(3), A(3), A(3), A(2), A(2), A(1), A(3)),
        "network_forward": (A(1), A(1), I(2), I(1), A(3), D(1), D(1), types.int64, A(2)),
    }


def _cached(dispatcher, sig):
    """Whether ``sig`` is in memory or in the disk cache; None if that cannot be told."""
    if sig in dispatcher.overloads:
        return True
    try:
        # Numba's own index lookup, without loading the machine code (a miss
        # here is what the dispatcher would find on the first call)
        cache = dispatcher._cache
        key = cache._index_key(sig, dispatcher.targetctx.codegen())
        return key in cache._cache_file._load_index()
    except Exception:  # no disk cache (NullCache), or another Numba's internals
        return None


def _helper_command(package_dir, dtype_name, lock, names):
    # A stand-in package module with the real __path__: the kernel modules
    # import, the package's __init__ (scikit-learn, pandas) does not.
    code = (
        "import sys, types\n"
        "pkg = types.ModuleType('skforecast_lstm')\n"
        "pkg.__path__ = [sys.argv[1]]\n"
        "sys.modules['skforecast_lstm'] = pkg\n"
        "from skforecast_lstm import _precompile\n"
        "_precompile._main(sys.argv[2:])\n"
    )
    return [sys.executable, "-c", code, package_dir, dtype_name, lock, *names]


def _main(argv):
    """Helper process: compile ``names`` for ``dtype_name``, one line on stdout per kernel."""
    dtype_name, lock, *names = argv
    try:
        from ._kernels import cpu

        sigs = signatures(dtype_name)
        for name in names:
            getattr(cpu, name).compile(sigs[name])
            print(name, flush=True)
    finally:
        _remove(lock)


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


class _Helper:
    def __init__(self, dtype_name, proc, names, lock):
        self.dtype_name = dtype_name
        self.proc = proc
        self.lock = lock
        self.events = {name: threading.Event() for name in names}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            for line in self.proc.stdout:
                event = self.events.get(line.strip())
                if event is not None:
                    event.set()
        finally:
            # the helper exited, crashed or was killed: whatever it did not
            # report, this process compiles itself
            for event in self.events.values():
                event.set()
            self.proc.stdout.close()
            self.proc.wait()
            _remove(self.lock)  # the helper's own job, unless it died first
            with _lock:
                helpers.pop(self.dtype_name, None)


def _take_lock(cache_dir, dtype_name):
    path = os.path.join(cache_dir, f"skforecast_lstm-compile-{dtype_name}.lock")
    for _ in range(2):
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return path
        except FileExistsError:
            try:
                if time.time() - os.path.getmtime(path) < TIMEOUT:
                    return None  # another process's helper is compiling
                os.remove(path)  # left by a helper that was killed
            except OSError:
                return None
        except OSError:
            return None
    return None


def start(dtype, n_threads):
    """Launch the helper for a plain CPU fit of ``dtype`` if the cache is cold.

    Returns whether a helper was launched (at most once per process and dtype).
    """
    name = dtype.name
    if name in _tried or n_threads < 2 or os.environ.get(ENV, "").strip() == "0":
        return False
    if getattr(sys, "frozen", False) or not sys.executable:
        # a frozen application's executable is the application, not Python
        return False
    with _lock:
        if name in _tried:
            return False
        _tried.add(name)
        from ._kernels import cpu

        sigs = signatures(name)
        dispatchers = {k: getattr(cpu, k) for k in KERNELS}
        states = {k: _cached(d, sigs[k]) for k, d in dispatchers.items()}
        if None in states.values() or all(states.values()):
            return False
        names = [k for k in KERNELS if not states[k]]
        cache_dir = dispatchers[names[0]].stats.cache_path
        if not cache_dir:
            return False
        try:
            os.makedirs(cache_dir, exist_ok=True)
        except OSError:
            return False
        lock = _take_lock(cache_dir, name)
        if lock is None:
            return False
        package_dir = os.path.dirname(os.path.abspath(__file__))
        try:
            proc = subprocess.Popen(
                _helper_command(package_dir, name, lock, names),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True,
            )
        except OSError:
            _remove(lock)
            return False
        # the reader thread's pop waits for _lock: it cannot run before this
        helpers[name] = _Helper(name, proc, names, lock)
        return True


def wait(kernel, dtype):
    """Block until the helper has compiled ``kernel`` for ``dtype`` (or has given up)."""
    helper = helpers.get(dtype.name)
    if helper is not None:
        event = helper.events.get(kernel)
        if event is not None:
            event.wait(TIMEOUT)
