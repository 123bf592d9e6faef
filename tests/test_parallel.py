"""parallel_map and warm_up without a cluster: order, seeds, thread caps, bad input."""

import os

import numpy as np
import pytest
from joblib import parallel_config

from skforecast_lstm._threads import effective_n_threads, thread_budget
from skforecast_lstm.parallel import parallel_map, warm_up


def _threads_of_a_default_fit(_):
    return effective_n_threads(None), effective_n_threads(2)


def _seed_of(item, seed):
    return item, seed


def test_results_keep_the_order_of_the_items():
    with parallel_config(backend="threading", n_jobs=3):
        assert parallel_map(str, range(20)) == [str(k) for k in range(20)]


def test_seeds_are_drawn_up_front_and_do_not_depend_on_the_backend():
    serial = parallel_map(_seed_of, range(6), random_state=3)
    with parallel_config(backend="threading", n_jobs=2):
        threaded = parallel_map(_seed_of, range(6), random_state=3)
    assert threaded == serial
    seeds = [seed for _, seed in serial]
    assert len(set(seeds)) == 6
    assert parallel_map(_seed_of, range(6), random_state=np.random.RandomState(3)) == serial


def test_tasks_sharing_a_process_as_threads_get_a_thread_cap():
    """n_jobs=None fits take cores // tasks threads; an explicit n_jobs is obeyed."""
    n_cpus = os.cpu_count() or 1
    with parallel_config(backend="threading", n_jobs=n_cpus):
        inside = parallel_map(_threads_of_a_default_fit, range(4))
    assert all(threads == (1, min(2, n_cpus)) for threads in inside)
    # sequential: the caller's own limits hold
    assert parallel_map(_threads_of_a_default_fit, [0]) == [(effective_n_threads(None),
                                                             min(2, n_cpus))]


def test_thread_budget_is_restored():
    before = effective_n_threads(None)
    with thread_budget(1):
        assert effective_n_threads(None) == 1
    assert effective_n_threads(None) == before


@pytest.mark.parametrize("n_jobs", [0, 1.5, "2", True])
def test_bad_n_jobs_is_named(n_jobs):
    with pytest.raises(ValueError, match="n_jobs must be None or a non-zero integer"):
        parallel_map(str, [1], n_jobs=n_jobs)


def test_func_must_be_callable():
    with pytest.raises(TypeError, match="func must be callable"):
        parallel_map("not a function", [1])


def test_warm_up_names_a_wrong_dtype():
    with pytest.raises(ValueError, match="'dtype' parameter must be 'float32' or 'float64'"):
        warm_up(dtype="float16")
