"""LSTMRegressor / LSTMClassifier: scikit-learn integration, learning, input handling."""

import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skforecast_lstm import LSTMClassifier, LSTMRegressor

QUICK = dict(units=8, epochs=5, learning_rate=0.01, random_state=0)


def delayed_copy(n=400, T=10, lag=3, seed=0):
    """Regression that needs memory: y is the value seen `lag` steps before the end."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, T, 1))
    return X, X[:, T - 1 - lag, 0]


def running_sum_sign(n=400, T=12, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, T, 1))
    return X, np.where(X[:, :, 0].sum(axis=1) > 0, "pos", "neg")


# ---------------------------------------------------------------- it learns
def test_regressor_learns_a_delayed_copy():
    """Recalling a value seen 3 steps earlier: R^2 > 0.95 on held-out sequences."""
    X, y = delayed_copy(1000)
    reg = LSTMRegressor(units=16, epochs=60, learning_rate=0.01, random_state=0)
    reg.fit(X[:800], y[:800])
    assert reg.score(X[800:], y[800:]) > 0.95


def test_classifier_learns_the_sign_of_a_running_sum():
    """Sign of the sum of 12 values: accuracy > 0.9 on held-out sequences."""
    X, y = running_sum_sign(1000)
    clf = LSTMClassifier(units=16, epochs=40, learning_rate=0.01, random_state=0)
    clf.fit(X[:800], y[:800])
    assert clf.score(X[800:], y[800:]) > 0.9


def test_multiclass_learns_which_step_holds_the_maximum():
    """Softmax head: which third of the sequence holds the largest value (3 classes)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1200, 9, 1))
    y = X[:, :, 0].argmax(axis=1) // 3
    clf = LSTMClassifier(units=24, epochs=60, learning_rate=0.01, random_state=0)
    clf.fit(X[:1000], y[:1000])
    assert clf.predict_proba(X[:5]).shape == (5, 3)
    np.testing.assert_allclose(clf.predict_proba(X[:5]).sum(axis=1), 1, rtol=1e-6)
    assert clf.score(X[1000:], y[1000:]) > 0.8


def test_multi_output_and_quantile_regression():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(600, 6, 2))
    Y = np.column_stack([X[:, -1, 0], X[:, -2, 1]])
    reg = LSTMRegressor(units=16, epochs=40, learning_rate=0.01, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (600, 2)
    assert reg.score(X, Y) > 0.9
    noisy = X[:, -1, 0] + rng.normal(size=600)
    q = LSTMRegressor(units=8, epochs=30, learning_rate=0.01, quantiles=[0.1, 0.5, 0.9],
                      random_state=0).fit(X, noisy)
    pred = q.predict(X)
    assert pred.shape == (600, 3)
    coverage = np.mean((noisy >= pred[:, 0]) & (noisy <= pred[:, 2]))
    assert 0.72 < coverage < 0.88


# ------------------------------------------------------- scikit-learn tools
def test_pipeline_grid_search_and_time_series_cv():
    X, y = delayed_copy(240, T=6, lag=1)
    X2 = X[:, :, 0] * 10 + 3  # a 2-D table: one column per time step
    pipe = make_pipeline(StandardScaler(), LSTMRegressor(**QUICK))
    scores = cross_val_score(pipe, X2, y, cv=TimeSeriesSplit(n_splits=3))
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    grid = GridSearchCV(pipe, {"lstmregressor__units": [4, 8]}, cv=TimeSeriesSplit(2), n_jobs=2)
    grid.fit(X2, y)
    assert grid.best_params_["lstmregressor__units"] in (4, 8)
    # results in a worker equal the serial fit with the same parameters
    serial = clone(pipe).set_params(**grid.best_params_).fit(X2, y)
    np.testing.assert_array_equal(grid.predict(X2), serial.predict(X2))


@pytest.mark.parametrize("Est,data",
                         [(LSTMRegressor, delayed_copy), (LSTMClassifier, running_sum_sign)])
def test_pickle_joblib_clone_round_trips(tmp_path, Est, data):
    X, y = data(100)
    est = Est(**QUICK).fit(X, y)
    expected = est.predict(X)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), expected)
    joblib.dump(est, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict(X), expected)
    fresh = clone(est)
    assert not hasattr(fresh, "n_iter_")
    np.testing.assert_array_equal(fresh.fit(X, y).predict(X), expected)


def test_pickle_from_another_version_warns():
    X, y = delayed_copy(50)
    est = LSTMRegressor(**QUICK).fit(X, y)
    state = est.__getstate__()
    state["_skforecast_lstm_version"] = "0.0.1"
    blank = LSTMRegressor.__new__(LSTMRegressor)
    with pytest.warns(UserWarning, match="pickled with skforecast_lstm 0.0.1"):
        blank.__setstate__(state)


# ------------------------------------------------------------ reproducible
def test_same_random_state_same_bits_whatever_n_jobs():
    X, y = delayed_copy(300)
    a = LSTMRegressor(n_jobs=1, **QUICK).fit(X, y)
    b = LSTMRegressor(n_jobs=2, **QUICK).fit(X, y)
    c = LSTMRegressor(n_jobs=2, **QUICK).fit(X, y)
    for other in (b, c):
        for name, value in a.state_dict().items():
            np.testing.assert_array_equal(value, other.state_dict()[name])
        np.testing.assert_array_equal(a.predict(X), other.predict(X))
    d = LSTMRegressor(**dict(QUICK, random_state=1)).fit(X, y)
    assert not np.array_equal(a.predict(X), d.predict(X))


# ------------------------------------------------------------------ input
def test_2d_input_with_n_features_equals_3d():
    rng = np.random.RandomState(0)
    X3 = rng.normal(size=(80, 5, 3))
    y = rng.normal(size=80)
    a = LSTMRegressor(**QUICK).fit(X3, y)
    b = LSTMRegressor(n_features=3, **QUICK).fit(X3.reshape(80, 15), y)
    np.testing.assert_array_equal(a.predict(X3), b.predict(X3.reshape(80, 15)))
    assert a.n_features_in_ == 3 and b.n_features_in_ == 15
    with pytest.raises(ValueError, match="not a multiple of n_features=3"):
        LSTMRegressor(n_features=3, **QUICK).fit(X3.reshape(80, 15)[:, :14], y)


def test_3d_predict_accepts_other_sequence_lengths():
    X, y = delayed_copy(100, T=10)
    reg = LSTMRegressor(**QUICK).fit(X, y)
    assert reg.predict(X[:, :4]).shape == (100,)
    assert reg.predict(np.concatenate([X, X], axis=1)).shape == (100,)
    assert reg.n_timesteps_in_ == 10


def test_dataframe_input_records_feature_names():
    rng = np.random.RandomState(0)
    df = pd.DataFrame(rng.normal(size=(60, 4)), columns=["t-3", "t-2", "t-1", "t0"])
    y = pd.Series(rng.normal(size=60))
    reg = LSTMRegressor(**QUICK).fit(df, y)
    assert list(reg.feature_names_in_) == list(df.columns)
    assert reg.predict(df).shape == (60,)
    with pytest.raises(ValueError, match="feature names"):
        reg.predict(df.rename(columns={"t0": "now"}))


def test_float64_and_lists():
    X, y = delayed_copy(60, T=4)
    reg = LSTMRegressor(dtype="float64", **QUICK).fit(X.tolist(), y.tolist())
    assert reg._theta.dtype == np.float64
    assert reg.predict(X).dtype == np.float64
    assert LSTMRegressor(dtype=np.float32, **QUICK).fit(X, y).predict(X).dtype == np.float64


def test_inputs_are_never_modified():
    X, y = delayed_copy(64)
    X.flags.writeable = False
    y.flags.writeable = False
    Xc, yc = X.copy(), y.copy()
    sw = np.linspace(0.5, 1.5, 64)
    swc = sw.copy()
    reg = LSTMRegressor(**QUICK).fit(X, y, sample_weight=sw)
    reg.predict(X)
    reg.partial_fit(X, y)
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(y, yc)
    np.testing.assert_array_equal(sw, swc)


BAD_X = [
    (np.full((10, 4, 1), np.nan), ValueError, "NaN"),
    (np.full((10, 4, 1), np.inf), ValueError, "infinity"),
    (np.zeros((10,)), ValueError, "2-D X"),
    (np.zeros((10, 2, 2, 2)), ValueError, "4 dimensions"),
    (np.zeros((0, 4, 1)), ValueError, "0 sample"),
    (np.zeros((10, 0, 1)), ValueError, "at least one time step"),
    (np.array([["a", "b"]] * 10), ValueError, "could not convert"),
]


@pytest.mark.parametrize("Est", [LSTMRegressor, LSTMClassifier])
@pytest.mark.parametrize("X,err,match", BAD_X)
def test_bad_X_gets_a_clear_error(Est, X, err, match):
    y = np.arange(X.shape[0]) % 2 if X.ndim else np.arange(10) % 2
    with pytest.raises(err, match=match):
        Est(**QUICK).fit(X, y)


def test_bad_y_and_lengths_and_feature_counts():
    X, y = delayed_copy(20, T=4)
    with pytest.raises(ValueError, match="y contains NaN"):
        LSTMRegressor(**QUICK).fit(X, np.full(20, np.nan))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LSTMRegressor(**QUICK).fit(X, y[:-1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LSTMClassifier(**QUICK).fit(X, (y[:-1] > 0))
    with pytest.raises(ValueError, match="only one class"):
        LSTMClassifier(**QUICK).fit(X, np.ones(20))
    with pytest.raises(ValueError, match="Unknown label type"):
        LSTMClassifier(**QUICK).fit(X, y)
    reg = LSTMRegressor(**QUICK).fit(X, y)
    expected = "2 features per time step, but LSTMRegressor is expecting 1"
    with pytest.raises(ValueError, match=expected):
        reg.predict(np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match="fitted on 3-D input"):
        reg.predict(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        reg.predict(np.full((3, 4, 1), np.nan, dtype=np.float32))


@pytest.mark.parametrize(
    "params,match",
    [
        (dict(units=0), "units"),
        (dict(units=(8, 0)), "units"),
        (dict(units="8"), "units"),
        (dict(dtype="float16"), "'dtype' parameter must be 'float32' or 'float64'"),
        (dict(learning_rate=-1), "learning_rate"),
        (dict(optimizer="rmsprop"), "optimizer"),
        (dict(validation_fraction=1.5), "validation_fraction"),
        (dict(quantiles=[0.5, 1.2]), "quantiles"),
    ],
)
def test_bad_parameters_name_themselves(params, match):
    X, y = delayed_copy(20, T=3)
    with pytest.raises(ValueError, match=match):
        LSTMRegressor(**dict(QUICK, **params)).fit(X, y)


# ------------------------------------------------------------- training API
def test_early_stopping_validates_on_the_last_samples_and_restores_best():
    X, y = delayed_copy(300)
    reg = LSTMRegressor(units=8, epochs=40, learning_rate=0.05, early_stopping=True,
                        validation_fraction=0.2, n_iter_no_change=3, random_state=0)
    reg.fit(X, y)
    assert len(reg.validation_scores_) == len(reg.loss_curve_) == reg.n_iter_
    # the restored weights are those of the best validation epoch, measured on the last 20 %
    # (the losses are those of the standardised targets)
    tail_mse = np.mean((reg.predict(X[240:]) - y[240:]) ** 2) / reg.y_scale_[0] ** 2
    assert tail_mse == pytest.approx(min(reg.validation_loss_curve_), rel=1e-4)
    assert reg.best_validation_score_ == pytest.approx(reg.score(X[240:], y[240:]), rel=1e-4)


def test_training_stops_on_the_training_loss_only_when_asked():
    X, y = delayed_copy(100)
    reg = LSTMRegressor(units=4, epochs=500, learning_rate=0.01, tol=10.0, n_iter_no_change=2,
                        early_stopping="loss", random_state=0).fit(X, y)
    assert reg.n_iter_ == 3
    assert reg.validation_scores_ is None


def test_epochs_are_a_budget_that_is_spent():
    # a plateau of the training loss (tol far above any improvement) does not stop a fit
    # without early stopping: Keras' semantics, not scikit-learn MLP's
    X, y = delayed_copy(100)
    reg = LSTMRegressor(units=4, epochs=25, learning_rate=0.01, tol=10.0, n_iter_no_change=2,
                        random_state=0).fit(X, y)
    assert reg.n_iter_ == len(reg.loss_curve_) == 25


def test_verbose_prints_one_line_per_epoch(capsys):
    X, y = delayed_copy(60)
    LSTMRegressor(units=4, epochs=3, early_stopping=True, verbose=1, random_state=0).fit(X, y)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("Epoch")]
    assert len(lines) == 3
    assert "loss:" in lines[0] and "val_loss:" in lines[0] and lines[0].endswith("s")


def test_partial_fit_and_warm_start_continue_training():
    X, y = delayed_copy(200)
    reg = LSTMRegressor(units=8, learning_rate=0.01, random_state=0)
    for _ in range(3):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 3 and len(reg.loss_curve_) == 3
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]
    warm = LSTMRegressor(units=8, epochs=2, warm_start=True, learning_rate=0.01, random_state=0)
    warm.fit(X, y)
    first = warm.state_dict()["weight_hh_l0"].copy()
    warm.fit(X, y)
    assert warm.n_iter_ == 4
    assert not np.array_equal(first, warm.state_dict()["weight_hh_l0"])
    clf = LSTMClassifier(units=4, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y > 0)
    clf.partial_fit(X[:50], y[:50] > 0, classes=[False, True])
    clf.partial_fit(X[50:], y[50:] > 0)
    assert clf.n_iter_ == 2


def test_sgd_with_momentum_and_no_clipping():
    X, y = delayed_copy(200)
    reg = LSTMRegressor(units=8, epochs=30, optimizer="sgd", learning_rate=0.1, momentum=0.9,
                        clipnorm=None, random_state=0).fit(X, y)
    assert reg.loss_curve_[-1] < 0.5 * reg.loss_curve_[0]


def test_divergence_keeps_last_finite_weights_and_warns():
    X, y = delayed_copy(100)
    reg = LSTMRegressor(units=8, epochs=20, optimizer="sgd", learning_rate=1e6, clipnorm=None,
                        random_state=0)
    with pytest.warns(RuntimeWarning, match="diverged"):
        reg.fit(X * 1e3, y * 1e6)
    assert np.all(np.isfinite(reg._theta))
    assert np.all(np.isfinite(reg.predict(X)))


def test_summary_counts_parameters_like_keras():
    X, y = delayed_copy(30, T=10)
    lines = []
    LSTMRegressor(units=(16, 8), epochs=1, random_state=0).fit(X, y).summary(print_fn=lines.append)
    text = "\n".join(lines)
    lstm0 = 4 * (16 * (1 + 16) + 16)
    lstm1 = 4 * (8 * (16 + 8) + 8)
    dense = 8 + 1
    assert f"{lstm0:,}" in text and f"{lstm1:,}" in text
    assert "(None, 10, 16)" in text and "(None, 8)" in text
    assert f"Total params: {lstm0 + lstm1 + dense:,}" in text


def test_divergence_at_the_first_step_raises():
    X, y = delayed_copy(40)
    with pytest.raises(ValueError, match="first gradient step"):
        LSTMRegressor(units=4, epochs=2, standardize=False, random_state=0).fit(X, y * 1e30)
    # standardised (the default), the same targets train as well as y itself
    big = LSTMRegressor(units=4, epochs=2, random_state=0).fit(X, y * 1e30)
    small = LSTMRegressor(units=4, epochs=2, random_state=0).fit(X, y)
    np.testing.assert_allclose(big.predict(X) / 1e30, small.predict(X), rtol=1e-6, atol=1e-12)


# ------------------------------------------------------------- raw scales, blow-ups
def test_raw_scale_targets_in_a_recursive_loop_beat_naive():
    """Raw lags in the hundreds, as sktime's make_reduction(strategy='recursive') feeds them:
    the default regressor forecasts 24 steps far better than the last value."""
    rng = np.random.default_rng(0)
    t = np.arange(240)
    y = 400 + 60 * np.sin(2 * np.pi * t / 12) + 25 * np.cos(2 * np.pi * t / 6)
    y = y + 5 * rng.normal(size=240)
    lags, horizon = 12, 24
    train = y[:-horizon]
    X = np.lib.stride_tricks.sliding_window_view(train[:-1], lags)
    reg = LSTMRegressor(epochs=30, random_state=0).fit(X, train[lags:])
    window = list(train[-lags:])
    for _ in range(horizon):
        window.append(reg.predict(np.array(window[-lags:])[None, :])[0])
    mae = np.mean(np.abs(np.array(window[lags:]) - y[-horizon:]))
    naive = np.mean(np.abs(train[-1] - y[-horizon:]))
    assert mae < naive / 3, (mae, naive)


def test_standardisation_makes_units_irrelevant():
    """Affine changes of X's and y's units change the predictions by the same change."""
    X, y = delayed_copy(200)
    X_copy = X.copy()
    small = LSTMRegressor(units=8, epochs=5, dtype="float64", random_state=0).fit(X, y)
    big = LSTMRegressor(units=8, epochs=5, dtype="float64", random_state=0)
    big.fit(1e4 + 250 * X, -3e3 + 40 * y)
    np.testing.assert_allclose(big.predict(1e4 + 250 * X), -3e3 + 40 * small.predict(X),
                               rtol=1e-8)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_allclose(big.x_mean_, 1e4 + 250 * X.mean(), rtol=1e-12)
    np.testing.assert_allclose(big.x_scale_, 250 * X.std(), rtol=1e-12)
    np.testing.assert_allclose(big.y_scale_, 40 * y.std(), rtol=1e-12)
    # the statistics of the first fit stay through partial_fit
    mean = big.x_mean_.copy()
    big.partial_fit(X, y)
    np.testing.assert_array_equal(big.x_mean_, mean)
    off = LSTMRegressor(units=8, epochs=1, standardize=False, random_state=0).fit(X, y)
    assert off.x_mean_ is None and off.y_mean_ is None
    tokens = LSTMClassifier(units=4, epochs=1, embedding_dim=3, random_state=0)
    assert tokens.fit(np.array([[1, 2, 3], [3, 2, 1]] * 5), [0, 1] * 5).x_mean_ is None


def test_a_finite_blow_up_warns():
    X, y = delayed_copy(100)
    with pytest.warns(RuntimeWarning, match="blew up while staying finite.*learning_rate"):
        LSTMRegressor(units=8, epochs=5, learning_rate=1e4, random_state=0).fit(X, y)
    with pytest.warns(RuntimeWarning, match="blew up while staying finite"):
        LSTMClassifier(units=8, epochs=5, learning_rate=1e4, random_state=0).fit(X, y > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LSTMRegressor(units=8, epochs=5, random_state=0).fit(X, y)


def test_absolute_error_trains_the_median():
    """loss='absolute_error': the median's pinball loss; heavy-tailed noise pulls it less."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 8, 1))
    y = X[:, -3, 0] + 0.3 * rng.standard_t(1.5, size=300)
    mse = LSTMRegressor(units=8, epochs=30, random_state=0).fit(X, y)
    mae = LSTMRegressor(units=8, epochs=30, loss="absolute_error", random_state=0).fit(X, y)
    assert mae.predict(X).shape == (300,) and mae.quantiles_ is None
    clean = X[:, -3, 0]
    assert np.median(np.abs(mae.predict(X) - clean)) < np.median(np.abs(mse.predict(X) - clean))
    with pytest.raises(ValueError, match="loss='absolute_error' is for last-state outputs"):
        LSTMRegressor(loss="absolute_error", quantiles=[0.5]).fit(X, y)


def test_huber_loss_is_pulled_less_by_outliers():
    """loss='huber': squared error near the target, absolute beyond huber_delta."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 8, 1))
    clean = X[:, -3, 0]
    y = clean + 0.1 * rng.normal(size=300)
    y[rng.rand(300) < 0.1] += 30.0  # one in ten samples far off, always upwards
    mse = LSTMRegressor(units=8, epochs=30, random_state=0).fit(X, y)
    huber = LSTMRegressor(units=8, epochs=30, loss="huber", huber_delta=0.2,
                          random_state=0).fit(X, y)
    bias_mse = np.median(mse.predict(X) - clean)
    bias_huber = np.median(huber.predict(X) - clean)
    assert abs(bias_huber) < 0.5 * abs(bias_mse)
    # the reported loss is the Huber loss on the standardised targets
    assert huber.loss_curve_[-1] < mse.loss_curve_[-1]
    with pytest.raises(ValueError, match="huber_delta"):
        LSTMRegressor(loss="huber", huber_delta=0.0).fit(X, y)
    with pytest.raises(ValueError, match="loss='huber' is for last-state outputs"):
        LSTMRegressor(loss="huber", quantiles=[0.5]).fit(X, y)


def test_id_embedding_learns_what_sets_each_id_apart():
    """id_embedding=(n_ids, dim): the last feature is an id whose learnt vector the network
    reads; it is not standardised, and bad ids are refused by name."""
    rng = np.random.RandomState(0)
    n, T = 500, 6
    ids = rng.randint(0, 5, n)
    x = rng.normal(size=(n, T, 1))
    X = np.concatenate([x, np.repeat(ids[:, None, None], T, axis=1).astype(float)], axis=2)
    offset = np.array([3.0, -4.0, 4.0, -3.0, 0.0])  # not monotone in the id's number
    y = x[:, -1, 0] + offset[ids]
    reg = LSTMRegressor(units=8, epochs=30, id_embedding=(5, 2), random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.95
    assert LSTMRegressor(units=8, epochs=30, random_state=0).fit(x, y).score(x, y) < 0.5
    assert reg.x_mean_[-1] == 0.0 and reg.x_scale_[-1] == 1.0
    assert reg.state_dict()["id_embedding.weight"].shape == (5, 2)
    bad = X.copy()
    bad[0, 2, 1] = 3.0  # the id changes within a sample
    with pytest.raises(ValueError, match="integer id in \\[0, 5\\)"):
        reg.predict(bad)
    with pytest.raises(ValueError, match="integer id in \\[0, 5\\)"):
        reg.predict(np.concatenate([x[:2], np.full((2, T, 1), 5.0)], axis=2))
    with pytest.raises(ValueError, match="pair \\(n_ids, dim\\)"):
        LSTMRegressor(id_embedding=(5,)).fit(X, y)
    with pytest.raises(ValueError, match="Choose one"):
        LSTMClassifier(id_embedding=(5, 2), embedding_dim=3).fit(X[:, :, 1], y > 0)
