"""Tests that run on Numba's CUDA simulator, in a subprocess started by tests/test_cuda.py.

They are collected only when ``NUMBA_ENABLE_CUDASIM=1`` (the variable must be
set before Numba is imported); ``tests/test_cuda.py`` runs them that way, so
a plain ``python -m pytest`` runs them too and fails when they fail.
"""

import os

import pytest

SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"

if not SIMULATED:
    collect_ignore_glob = ["test_*.py"]

# The simulator runs every GPU thread as a Python thread: small blocks keep it
# quick, and sizes that are not multiples of them exercise every edge.
SMALL_GEOMETRY = dict(
    TILE=4,
    STEP_UNITS=2,
    STEP_ROW_THREADS=2,
    ROWS_PER_THREAD=2,
    STEP_ROWS=4,
    STEP_GATE_ROWS=8,
    STEP_K=4,
    REDUCE_THREADS=8,
    REDUCE_BLOCKS=3,
    COLUMN_CHUNKS=3,
)


@pytest.fixture(autouse=True, scope="session")
def small_geometry():
    from skforecast_lstm._kernels import cuda as kernels

    saved = {name: getattr(kernels, name) for name in SMALL_GEOMETRY}
    for name, value in SMALL_GEOMETRY.items():
        setattr(kernels, name, value)
    assert kernels.STEP_ROWS == kernels.STEP_ROW_THREADS * kernels.ROWS_PER_THREAD
    assert kernels.STEP_GATE_ROWS == 4 * kernels.STEP_UNITS
    yield
    for name, value in saved.items():
        setattr(kernels, name, value)


@pytest.fixture(autouse=True, scope="session")
def fast_thread_switching():
    # The simulator's block manager busy-polls its threads; shorter GIL
    # switch intervals cut the time each syncthreads() waits several-fold.
    import sys

    saved = sys.getswitchinterval()
    sys.setswitchinterval(5e-4)
    yield
    sys.setswitchinterval(saved)
