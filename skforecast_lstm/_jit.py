"""The one place where Numba's jit options are set.

Every kernel of the package is compiled through :func:`jit`, so the options
that matter for speed and reproducibility live here:

- ``cache=True``: compiled machine code is written to disk and reused by later
  processes (and by joblib workers), which is what keeps the cold start short.
  When no cache folder can be written (a read-only install with no writable
  ``NUMBA_CACHE_DIR`` or home folder), Numba refuses ``cache=True`` at
  decoration time; we then compile without a cache instead of failing the
  import.
- ``nogil=True``: kernels release the GIL, so the training loop can run the two
  halves of a minibatch in two Python threads.
- ``error_model="numpy"``: without it every float division carries a
  zero-division check that stops LLVM from vectorising the gate loops.
- ``fastmath={"contract"}`` and nothing more: LLVM may fuse a multiply and an
  add into one FMA instruction (faster float32 activations), but
  may not reorder sums or assume away NaN and infinity. Results stay
  bit-identical run to run on one machine; on a CPU without FMA they differ by
  rounding.
"""

import warnings

from numba import njit

__all__ = ["jit", "jit_inline", "OPTIONS"]

OPTIONS = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": {"contract"}}


def _njit(func, **extra):
    try:
        return njit(**OPTIONS, **extra)(func)
    except RuntimeError as exc:  # "cannot cache function ...: no locator available"
        if "cache" not in str(exc):
            raise
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return njit(**dict(OPTIONS, cache=False), **extra)(func)


def jit(func):
    """Compile ``func`` with the package's options; fall back to no cache.

    Parameters
    ----------
    func : callable
        A module-level Python function (closures cannot be cached).

    Returns
    -------
    numba.core.registry.CPUDispatcher
        The lazily compiled dispatcher.
    """
    return _njit(func)


def jit_inline(func):
    """Like :func:`jit`, and inlined into its compiled callers at Numba's IR level.

    For the small helpers that one kernel calls: a helper inlined this way is
    not compiled as a function of its own (every separately compiled function
    adds to the first fit's compilation), and runs as fast. A helper
    that several kernels call stays a :func:`jit` function: inlined, it would
    be typed and lowered again in each of them. Called from Python, it compiles
    and caches as any kernel.

    Parameters
    ----------
    func : callable
        A module-level Python function.

    Returns
    -------
    numba.core.registry.CPUDispatcher
    """
    return _njit(func, inline="always")
