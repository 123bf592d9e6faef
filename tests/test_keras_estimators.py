"""The Keras options through the estimators: summary counts, names, tokens, weights."""

import numpy as np
import pytest

from skforecast_lstm import LSTMClassifier, LSTMRegressor
from skforecast_lstm._network import LSTMNetwork


def lstm_params(units, n_in):
    """Keras' count for LSTM(units) on n_in features: 4 * (units * (units + n_in) + units)."""
    return 4 * (units * (units + n_in) + units)


def _summary(est):
    lines = []
    est.summary(print_fn=lines.append)
    return "\n".join(lines)


def _total(text):
    line = next(ln for ln in text.splitlines() if ln.startswith("Total params:"))
    return int(line.split(":")[1].replace(",", ""))


def test_summary_of_the_keras_seed_models():
    rng = np.random.RandomState(0)
    # LSTM(128, input_shape=(10, 50)) + Dense(1, sigmoid): 91,648 + 129
    X = rng.normal(size=(16, 10, 50)).astype(np.float32)
    clf = LSTMClassifier(units=128, epochs=1, random_state=0).fit(X, rng.randint(0, 2, 16))
    text = _summary(clf)
    assert _total(text) == lstm_params(128, 50) + 129 == 91_777
    assert "(None, 128)" in text and "(None, 1)" in text

    # LSTM(50, activation='relu', input_shape=(3, 1)) + Dense(1)
    reg = LSTMRegressor(units=50, activation="relu", epochs=1, random_state=0)
    reg.fit(rng.normal(size=(16, 3, 1)), rng.normal(size=16))
    assert _total(_summary(reg)) == lstm_params(50, 1) + 51 == 10_451

    # Embedding(max_features, 32) + LSTM(32, dropout, recurrent_dropout) + Dense(1, sigmoid)
    tokens = rng.randint(1, 200, size=(16, 20))
    sent = LSTMClassifier(units=32, embedding_dim=32, vocab_size=200, dropout=0.2,
                          recurrent_dropout=0.2, epochs=1, random_state=0)
    text = _summary(sent.fit(tokens, rng.randint(0, 2, 16)))
    assert "embedding (Embedding)" in text and "(None, 20, 32)" in text
    assert _total(text) == 200 * 32 + lstm_params(32, 32) + 33

    # encoder-decoder: LSTM(16) -> RepeatVector(4) -> LSTM(8, return_sequences) -> Dense(3)
    encdec = LSTMClassifier(units=16, decoder_units=8, output_steps=4, epochs=1,
                            random_state=0)
    text = _summary(encdec.fit(rng.normal(size=(16, 6, 2)), rng.randint(0, 3, (16, 4))))
    assert "repeat_vector (RepeatVector)" in text and "(None, 4, 16)" in text
    assert "(None, 4, 3)" in text
    assert _total(text) == lstm_params(16, 2) + lstm_params(8, 16) + 8 * 3 + 3

    # Bidirectional(LSTM(8)), stacked on Bidirectional(LSTM(8, return_sequences=True))
    bi = LSTMRegressor(units=(8, 8), bidirectional=True, epochs=1, random_state=0)
    text = _summary(bi.fit(rng.normal(size=(16, 5, 3)), rng.normal(size=16)))
    assert "bidirectional (Bidirectional)" in text and "(None, 5, 16)" in text
    assert "forward_lstm (LSTM)" in text and "backward_lstm_1 (LSTM)" in text
    assert _total(text) == 2 * lstm_params(8, 3) + 2 * lstm_params(8, 16) + 17


def test_state_dict_names_follow_pytorch():
    rng = np.random.RandomState(0)
    tokens = rng.randint(1, 30, size=(12, 7))
    reg = LSTMRegressor(units=(4, 3), bidirectional=True, embedding_dim=5, decoder_units=2,
                        output_steps=2, epochs=1, random_state=0)
    reg.fit(tokens, rng.normal(size=(12, 2)))
    names = set(reg.state_dict())
    assert {"embedding.weight", "weight_ih_l0", "weight_ih_l0_reverse", "bias_hh_l1_reverse",
            "decoder.weight_hh_l0", "decoder.bias_ih_l0", "head.weight"} <= names
    assert reg.state_dict()["weight_ih_l1"].shape == (12, 8)  # reads both directions
    before = reg.predict(tokens)
    reg.load_state_dict(reg.state_dict())
    np.testing.assert_array_equal(reg.predict(tokens), before)


def test_tokens_padding_and_ragged_lists():
    """A list of sequences of different lengths equals the padded array; padding is ignored."""
    rng = np.random.RandomState(0)
    seqs = [rng.randint(1, 40, size=rng.randint(2, 15)) for _ in range(80)]
    y = np.array([int(s.mean() > 20) for s in seqs])
    clf = LSTMClassifier(units=8, embedding_dim=8, epochs=5, learning_rate=0.01,
                         random_state=0).fit(seqs, y)
    padded = np.zeros((80, 14), dtype=np.int64)
    for i, s in enumerate(seqs):
        padded[i, : s.size] = s
    more = np.concatenate([padded, np.zeros((80, 6), dtype=np.int64)], axis=1)
    np.testing.assert_allclose(clf.predict_proba(seqs), clf.predict_proba(padded), rtol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(more), clf.predict_proba(padded), rtol=1e-6)
    assert clf.vocab_size_ == max(s.max() for s in seqs) + 1
    with pytest.raises(ValueError, match="vocab_size_"):
        clf.predict(padded + 100)
    with pytest.raises(TypeError, match="integer token ids"):
        clf.predict(padded + 0.5)
    with pytest.raises(ValueError, match="negative token ids"):
        clf.predict(padded - 1)


def test_sequence_labelling_and_encoder_decoder_classification():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 8, 1))
    # label each step: is the running sum positive?
    y = np.where(np.cumsum(X[:, :, 0], axis=1) > 0, "pos", "neg")
    clf = LSTMClassifier(units=16, return_sequences=True, epochs=25, learning_rate=0.01,
                         random_state=0).fit(X, y)
    assert clf.predict(X).shape == (300, 8) and clf.predict_proba(X).shape == (300, 8, 2)
    assert clf.score(X, y) > 0.9
    # a label per output step from the encoder's summary: the signs of the last 3 values
    yd = (X[:, -3:, 0] > 0).astype(int)
    dec = LSTMClassifier(units=16, decoder_units=8, output_steps=3, epochs=25,
                         learning_rate=0.01, random_state=0).fit(X, yd)
    assert dec.predict(X).shape == (300, 3)
    assert dec.score(X, yd) > 0.85


def test_encoder_decoder_regression_forecasts_several_steps():
    t = np.arange(600)
    series = np.sin(2 * np.pi * t / 12)
    X = np.lib.stride_tricks.sliding_window_view(series[:-4], 12)[:, :, None]
    Y = np.lib.stride_tricks.sliding_window_view(series[12:], 4)[: len(X)]
    reg = LSTMRegressor(units=16, decoder_units=16, output_steps=4, epochs=30,
                        learning_rate=0.01, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == Y.shape
    assert reg.score(X, Y) > 0.95


def test_dropout_trains_reproducibly_and_predicts_deterministically():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 6, 2))
    y = X[:, -2, 0]
    kw = dict(units=8, dropout=0.3, recurrent_dropout=0.3, epochs=3, random_state=0)
    a = LSTMRegressor(**kw).fit(X, y)
    b = LSTMRegressor(n_jobs=1, **kw).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    np.testing.assert_array_equal(a.predict(X), a.predict(X))
    plain = LSTMRegressor(units=8, epochs=3, random_state=0).fit(X, y)
    assert not np.array_equal(a.predict(X), plain.predict(X))


def test_unit_forget_bias_l2_and_class_weight():
    net = LSTMNetwork(3, (4,), 1, "mse", np.float64)
    for flag, value in ((True, 1.0), (False, 0.0)):
        b = net.tensors(net.init_params(np.random.RandomState(0), flag))["bias_l0"]
        assert np.all(b[4:8] == value) and not np.any(b[:4]) and not np.any(b[8:])

    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 6, 2))
    y = X[:, -1, 0] + rng.normal(size=200)
    free = LSTMRegressor(units=8, epochs=10, learning_rate=0.01, random_state=0).fit(X, y)
    decayed = LSTMRegressor(units=8, epochs=10, learning_rate=0.01, l2=0.05,
                            random_state=0).fit(X, y)
    norm = lambda est: np.linalg.norm(est.state_dict()["weight_hh_l0"])  # noqa: E731
    assert norm(decayed) < 0.8 * norm(free)

    labels = (X[:, -1, 0] > 0.8).astype(int)  # imbalanced
    weighted = LSTMClassifier(units=4, epochs=3, class_weight="balanced", random_state=0)
    weighted.fit(X, labels)
    share = np.bincount(labels) / len(labels)
    manual = LSTMClassifier(units=4, epochs=3, random_state=0)
    manual.fit(X, labels, sample_weight=(1 / (2 * share))[labels])
    np.testing.assert_allclose(weighted.predict_proba(X), manual.predict_proba(X), rtol=1e-6)


def test_option_errors_are_clear():
    X = np.zeros((10, 4, 1))
    with pytest.raises(ValueError, match="decoder_units and output_steps go together"):
        LSTMRegressor(decoder_units=4, epochs=1).fit(X, np.zeros(10))
    with pytest.raises(ValueError, match="choose one"):
        LSTMRegressor(decoder_units=4, output_steps=2, return_sequences=True,
                      epochs=1).fit(X, np.zeros((10, 2)))
    with pytest.raises(ValueError, match=r"shape \(n_samples, 4\)"):
        LSTMRegressor(return_sequences=True, epochs=1).fit(X, np.zeros(10))
    with pytest.raises(ValueError, match="activation"):
        LSTMRegressor(activation="swish", epochs=1).fit(X, np.zeros(10))
    with pytest.raises(ValueError, match="class_weight"):
        LSTMClassifier(return_sequences=True, class_weight="balanced",
                       epochs=1).fit(X, np.arange(40).reshape(10, 4) % 2)
