"""GEMM for the kernels: NumPy's own OpenBLAS, called by symbol name from compiled code.

Why not ``np.dot`` inside ``@njit``: Numba's ``np.dot`` calls SciPy's OpenBLAS, whose build
serialised calls made at the same time from two threads, so the two halves of a minibatch ran
their GEMMs one after the other (``benchmarks/NOTES.md``, 5). ``np.dot`` also has no ``beta``
(accumulate into the output) and compiles one specialisation per operand layout. Every compiled
kernel, the plain cell's and the Keras options', calls :func:`gemm`: one BLAS in play.

How: at import, the address of ``cblas_sgemm``/``cblas_dgemm`` in NumPy's bundled OpenBLAS is
registered with LLVM under a fixed name (``llvmlite.binding.add_symbol``); kernels call that name
through ``types.ExternalFunction``, so cached machine code refers to the name, never to an
address, and stays valid in every new process. Where NumPy carries no OpenBLAS (other builds), or
with ``SKFORECAST_LSTM_BLAS=fallback``, the names point to small ``cfunc`` adapters that call
``np.dot`` (SciPy's BLAS) instead.
"""

import ctypes
import glob
import os

import numpy as np
from llvmlite import binding as llvm
from numba import carray, cfunc, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

__all__ = ["gemm", "BLAS_SOURCE"]

ROW_MAJOR = 101
NO_TRANS = 111
TRANS = 112

_NAMES = {"s": "skforecast_lstm_cblas_sgemm", "d": "skforecast_lstm_cblas_dgemm"}


def _numpy_openblas():
    """Path of the OpenBLAS that NumPy's wheel bundles, or None."""
    base = os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))
    for folder in ("numpy.libs", os.path.join("numpy", ".dylibs")):
        for pattern in ("libscipy_openblas64_*", "libopenblas64_*", "libscipy_openblas*",
                        "libopenblas*"):
            found = sorted(glob.glob(os.path.join(base, folder, pattern)))
            if found:
                return found[0]
    return None


def _register():
    # SKFORECAST_LSTM_BLAS=fallback forces the np.dot adapters (tests use it).
    forced = os.environ.get("SKFORECAST_LSTM_BLAS", "") == "fallback"
    path = None if forced else _numpy_openblas()
    if path is not None:
        try:
            lib = ctypes.CDLL(path)
            for prefix, name in _NAMES.items():
                for symbol in (f"scipy_cblas_{prefix}gemm64_", f"cblas_{prefix}gemm64_",
                               f"cblas_{prefix}gemm"):
                    if hasattr(lib, symbol):
                        break
                else:
                    raise AttributeError(symbol)
                ilp64 = symbol.endswith("64_")
                if not ilp64:
                    raise AttributeError("LP64 OpenBLAS: use the fallback")
                llvm.add_symbol(name, ctypes.cast(getattr(lib, symbol), ctypes.c_void_p).value)
            return f"numpy's OpenBLAS ({os.path.basename(path)})"
        except (OSError, AttributeError):
            pass
    for prefix, name in _NAMES.items():
        llvm.add_symbol(name, _fallback(prefix).address)
    return "np.dot fallback (SciPy's BLAS)"


def _fallback(prefix):
    dtype = types.float32 if prefix == "s" else types.float64
    ptr = types.CPointer(dtype)
    sig = types.void(types.int32, types.int32, types.int32, types.int64, types.int64,
                     types.int64, dtype, ptr, types.int64, ptr, types.int64, dtype, ptr,
                     types.int64)

    def gemm_via_dot(order, ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc):
        A = carray(a, (K, lda) if ta == TRANS else (M, lda))
        B = carray(b, (N, ldb) if tb == TRANS else (K, ldb))
        C = carray(c, (M, ldc))
        opa = A[:, :M].T if ta == TRANS else A[:, :K]
        opb = B[:, :K].T if tb == TRANS else B[:, :N]
        prod = np.dot(np.ascontiguousarray(opa), np.ascontiguousarray(opb))
        for i in range(M):
            for j in range(N):
                C[i, j] = alpha * prod[i, j] + (beta * C[i, j] if beta != 0 else 0)

    return cfunc(sig, nopython=True, cache=True)(gemm_via_dot)


BLAS_SOURCE = _register()


def _external(prefix):
    dtype = types.float32 if prefix == "s" else types.float64
    return types.ExternalFunction(
        _NAMES[prefix],
        types.void(types.int32, types.int32, types.int32, types.int64, types.int64, types.int64,
                   dtype, types.voidptr, types.int64, types.voidptr, types.int64, dtype,
                   types.voidptr, types.int64),
    )


_sgemm = _external("s")
_dgemm = _external("d")


def gemm(a, b, c, trans_a, trans_b, beta):
    """``c = op(a) @ op(b) + beta * c`` on C-contiguous 2-D arrays of one float dtype.

    ``op(x)`` is ``x.T`` when the matching ``trans_*`` flag is true. Callable from
    ``@njit`` code only.
    """
    raise NotImplementedError("gemm is for compiled code")


@intrinsic
def _data(typingctx, arr):
    # the array's data pointer as void*: what ``arr.ctypes`` gives, without
    # typing and lowering a ctypes object (0.1-0.3 s of a first fit, NOTES 15)
    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        return builder.bitcast(ary.data, cgutils.voidptr_t)

    return types.voidptr(arr), codegen


@overload(gemm, jit_options={"error_model": "numpy"})
def _gemm_impl(a, b, c, trans_a, trans_b, beta):
    if a.dtype == types.float32:
        fn, cast = _sgemm, np.float32
    else:
        fn, cast = _dgemm, np.float64

    def impl(a, b, c, trans_a, trans_b, beta):
        M, N = c.shape
        K = a.shape[0] if trans_a else a.shape[1]
        if M == 0 or N == 0:
            return
        # leading dimensions >= 1; conditionals, not max(): the builtin is one
        # more function to compile on the first fit (~0.3 s)
        lda = a.shape[1] if a.shape[1] > 0 else 1
        ldb = b.shape[1] if b.shape[1] > 0 else 1
        ldc = c.shape[1] if c.shape[1] > 0 else 1
        fn(ROW_MAJOR, TRANS if trans_a else NO_TRANS, TRANS if trans_b else NO_TRANS, M, N, K,
           cast(1.0), _data(a), lda, _data(b), ldb, cast(beta), _data(c), ldc)

    return impl
