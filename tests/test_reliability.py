"""Hostile input, interruption and concurrency: never a crash, a Numba error or a silent NaN."""

import threading
import warnings

import joblib
import numba.core.errors
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.model_selection import GridSearchCV

from skforecast_lstm import LSTMClassifier, LSTMRegressor
from skforecast_lstm._network import LSTMNetwork
from skforecast_lstm._threads import effective_n_threads

TINY = dict(units=2, epochs=1, batch_size=4, random_state=0, n_jobs=1)
N_CASES = 1500  # per estimator and per test: a few thousand generated cases per estimator


@st.composite
def hostile_arrays(draw, max_dims=4):
    """Arrays (or lists/frames) of awkward shapes, dtypes, values and layouts."""
    ndim = draw(st.sampled_from([1, 2, 2, 3, 3, 3, 4]))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    kind = draw(st.sampled_from(
        ["float64", "float32", "float16", "int64", "int8", "bool", "complex", "object_num",
         "object_str"]
    ))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    values = rng.normal(size=shape) * draw(st.sampled_from([1.0, 1e-30, 1e30, 1e300]))
    special = draw(st.sampled_from([None, np.nan, np.inf, -np.inf]))
    if special is not None and values.size:
        values.flat[draw(st.integers(0, values.size - 1))] = special
    if kind == "complex":
        arr = values + 1j
    elif kind == "object_num":
        arr = values.astype(object)
    elif kind == "object_str":
        arr = values.astype(str).astype(object)
    elif kind in ("int64", "int8", "bool"):
        with np.errstate(invalid="ignore", over="ignore"):
            arr = np.nan_to_num(values, posinf=0, neginf=0).astype(kind)
    else:
        with np.errstate(over="ignore"):
            arr = values.astype(kind)
    layout = draw(st.sampled_from(["c", "f", "strided", "readonly", "list", "frame"]))
    if layout == "f":
        arr = np.asfortranarray(arr)
    elif layout == "strided" and arr.ndim >= 1:
        arr = np.repeat(arr, 2, axis=0)[::2]
    elif layout == "readonly":
        arr = arr.copy()
        arr.flags.writeable = False
    elif layout == "list":
        return arr.tolist()
    elif layout == "frame" and arr.ndim == 2:
        frame = pd.DataFrame(arr)
        if kind in ("int64", "int8") and draw(st.booleans()):
            frame = frame.astype("Int64")
            if frame.size:
                frame.iloc[0, 0] = pd.NA
        elif kind == "object_str" and draw(st.booleans()):
            frame = frame.astype("category")
        return frame
    return arr


def _labels(draw, n, classification):
    kind = draw(st.sampled_from(["ok", "short", "nan", "str", "2d", "one_class", "float"]))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    if kind == "short":
        n = max(0, n - 1)
    y = rng.normal(size=n)
    if kind == "nan" and n:
        y[0] = np.nan
    if kind == "str":
        return np.array(["a", "b"] * n)[:n]
    if kind == "2d":
        return np.column_stack([y, y])
    if kind == "one_class":
        return np.ones(n)
    if classification and kind == "ok":
        return (y > 0).astype(int)
    return y


def _check_outcome(Est, X, y):
    """Fit/predict either works with finite output or raises a clear ValueError/TypeError."""
    try:
        with warnings.catch_warnings():
            # a column-vector y is accepted with scikit-learn's DataConversionWarning
            warnings.simplefilter("ignore", category=UserWarning)
            est = Est(**TINY).fit(X, y)
            pred = est.predict(X)
            if Est is LSTMRegressor:
                assert np.all(np.isfinite(pred)), "silent NaN in predictions"
            else:
                assert np.all(np.isfinite(est.predict_proba(X)))
    except (ValueError, TypeError) as exc:
        assert not isinstance(exc, numba.core.errors.NumbaError), repr(exc)
        message = str(exc)
        assert any(word in message for word in ("X", "y", "sample_weight", "class")), message


@pytest.mark.parametrize("Est", [LSTMRegressor, LSTMClassifier])
@settings(max_examples=N_CASES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hostile_X_never_crashes(Est, data):
    X = data.draw(hostile_arrays())
    n = len(X) if not hasattr(X, "shape") else (X.shape[0] if X.ndim else 0)
    y = _labels(data.draw, n, Est is LSTMClassifier) if data.draw(st.booleans()) else (
        np.arange(n) % 2
    )
    _check_outcome(Est, X, y)


@pytest.mark.parametrize("Est", [LSTMRegressor, LSTMClassifier])
@settings(max_examples=N_CASES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hostile_y_never_crashes(Est, data):
    n = data.draw(st.integers(1, 6))
    X = np.random.RandomState(n).normal(size=(n, 3, 1))
    y = data.draw(hostile_arrays())
    if data.draw(st.booleans()):
        y = _labels(data.draw, n, Est is LSTMClassifier)
    _check_outcome(Est, X, y)


# ------------------------------------------------------------- interruption
def test_keyboard_interrupt_keeps_a_usable_model(monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 6, 1))
    y = X[:, -2, 0]
    calls = {"n": 0}
    original = LSTMNetwork.apply

    def interrupt_later(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 20:  # in the middle of the third epoch
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LSTMNetwork, "apply", interrupt_later)
    reg = LSTMRegressor(units=4, epochs=10, batch_size=25, random_state=0)
    with pytest.warns(UserWarning, match="interrupted .* after 2 complete epochs"):
        reg.fit(X, y)
    assert reg.n_iter_ == 2
    assert np.all(np.isfinite(reg.predict(X)))
    monkeypatch.setattr(LSTMNetwork, "apply", original)
    reg.partial_fit(X, y)  # and it can train on
    assert reg.n_iter_ == 3


# -------------------------------------------------------------- concurrency
def _fitted():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(600, 8, 2)).astype(np.float32)
    y = X[:, -3, 0] - X[:, -1, 1]
    return LSTMRegressor(units=8, epochs=3, random_state=0).fit(X, y), X, y


def test_predict_from_eight_threads_equals_serial():
    reg, X, _ = _fitted()
    expected = reg.predict(X)
    results = [None] * 8
    barrier = threading.Barrier(8)

    def work(i):
        barrier.wait()
        results[i] = reg.predict(X[: 300 + 30 * i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, res in enumerate(results):
        np.testing.assert_array_equal(res, expected[: 300 + 30 * i])


def test_two_fits_at_once_in_threads_equal_serial():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(300, 6, 1))
    y = X[:, -2, 0]
    serial = [LSTMRegressor(units=6, epochs=3, random_state=s).fit(X, y).predict(X)
              for s in (0, 1)]
    out = [None, None]

    def work(s):
        out[s] = LSTMRegressor(units=6, epochs=3, random_state=s).fit(X, y).predict(X)

    threads = [threading.Thread(target=work, args=(s,)) for s in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in (0, 1):
        np.testing.assert_array_equal(out[s], serial[s])


@pytest.mark.parametrize("backend", ["loky", "threading", "multiprocessing"])
def test_grid_search_on_every_joblib_backend(backend):
    rng = np.random.RandomState(2)
    X = rng.normal(size=(120, 5, 1))
    y = X[:, -2, 0]
    grid = {"units": [3, 4], "learning_rate": [0.01, 0.02]}
    base = LSTMRegressor(epochs=2, random_state=0)
    serial = GridSearchCV(base, grid, cv=2, n_jobs=1).fit(X, y)
    with joblib.parallel_backend(backend, n_jobs=2):
        parallel = GridSearchCV(base, grid, cv=2, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(serial.cv_results_["mean_test_score"],
                                  parallel.cv_results_["mean_test_score"])
    # each of the 2 workers gets one thread per fit: no 2 x 2 threads on 2 cores
    inner = joblib.Parallel(n_jobs=2, backend=backend)(
        joblib.delayed(effective_n_threads)(None) for _ in range(2)
    )
    assert inner == [1, 1]


# ------------------------------------------------------------- forecaster
@st.composite
def hostile_series(draw):
    """Series/frames with awkward indexes, values, dtypes and lengths."""
    n = draw(st.sampled_from([30, 40, 12, 8, 0, 1, 5]))
    index_kind = draw(st.sampled_from(
        ["daily", "range", "period", "monthly_nofreq", "step2", "irregular", "strings",
         "unsorted", "duplicated"]
    ))
    if index_kind == "range":
        index = pd.RangeIndex(n)
    elif index_kind == "step2":
        index = pd.RangeIndex(0, 2 * n, 2)
    elif index_kind == "daily":
        index = pd.date_range("2020-01-01", periods=n, freq="D")
    elif index_kind == "monthly_nofreq":
        index = pd.DatetimeIndex(pd.date_range("2020-01-01", periods=n, freq="MS").to_list())
    elif index_kind == "period":
        index = pd.period_range("2020-01", periods=n, freq="M")
    elif index_kind == "irregular":
        days = np.cumsum(np.random.RandomState(n).randint(1, 4, n))
        index = pd.DatetimeIndex(pd.Timestamp("2020-01-01") + pd.to_timedelta(days, "D"))
    elif index_kind == "strings":
        index = pd.Index([f"t{i}" for i in range(n)])
    elif index_kind == "unsorted":
        index = pd.date_range("2020-01-01", periods=n, freq="D")[::-1]
    else:
        index = pd.DatetimeIndex(["2020-01-01"] * n)
    rng = np.random.RandomState(draw(st.integers(0, 999)))
    values = 10 + np.cumsum(rng.normal(size=n)) * draw(st.sampled_from([1.0, 1e-12, 1e12]))
    special = draw(st.sampled_from([None, None, np.nan, np.inf]))
    if special is not None and n:
        values[draw(st.integers(0, n - 1))] = special
    kind = draw(st.sampled_from(["float", "int", "float", "nullable", "bool", "object", "str"]))
    series = pd.Series(values, index=index, name="y")
    if kind == "int":
        series = pd.Series(np.nan_to_num(values, posinf=0).astype(np.int64), index=index)
    elif kind == "bool":
        series = series > 10
    elif kind == "object":
        series = series.astype(object)
    elif kind == "str":
        series = series.astype(str)
    elif kind == "nullable":
        series = series.astype("Float64")
    if draw(st.booleans()):
        return series.to_frame("a").assign(b=series.to_numpy())
    return series


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(y=hostile_series(), lags=st.sampled_from([3, 5, 1, 3, 5, 0, 1.5, "3"]),
       steps=st.sampled_from([2, 1, 4, 2, 0, None]))
def test_hostile_series_never_crash_the_forecaster(y, lags, steps):
    from skforecast_lstm import LSTMForecaster

    y_before = y.copy()
    try:
        model = LSTMForecaster(lags, steps, LSTMRegressor(units=2, epochs=1), random_state=0)
        pred = model.fit(y).predict()
        assert np.all(np.isfinite(np.asarray(pred, dtype=float))), "silent NaN in the forecast"
    except (ValueError, TypeError) as exc:
        assert not isinstance(exc, numba.core.errors.NumbaError), repr(exc)
    if isinstance(y, pd.DataFrame):
        pd.testing.assert_frame_equal(y, y_before)
    else:
        pd.testing.assert_series_equal(y, y_before)
