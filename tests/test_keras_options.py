"""The Keras options: gradients by finite differences, forward against the NumPy reference."""

import numpy as np
import pytest

from skforecast_lstm import _graph
from skforecast_lstm._network import LSTMNetwork

from . import naive

# (name, network options, loss, K, token input)
CASES = [
    ("relu-cell", dict(activation="relu"), "mse", 2, False),
    ("hard-sigmoid-gates", dict(recurrent_activation="hard_sigmoid", activation="linear"),
     "mse", 1, False),
    ("sigmoid-cell-softmax", dict(activation="sigmoid"), "softmax", 3, False),
    ("bidirectional-stacked", dict(bidirectional=True), "mse", 2, False),
    ("embedding-padding", dict(embedding=(9, 3, 0)), "binary", 1, True),
    ("embedding-bidirectional-sequences", dict(embedding=(9, 3, 0), bidirectional=True,
                                               return_sequences=True), "mse", 2, True),
    ("return-sequences-relu", dict(return_sequences=True, activation="relu"), "softmax", 3,
     False),
    ("encoder-decoder", dict(decoder_units=(4, 3), output_steps=3), "mse", 2, False),
    ("bidirectional-encoder-decoder", dict(bidirectional=True, decoder_units=(4,),
                                           output_steps=2), "softmax", 3, False),
]
UNITS = (4, 3)


def _config(options, loss):
    emb = options.get("embedding")
    return dict(
        units=UNITS, bidirectional=options.get("bidirectional", False),
        act=options.get("activation", "tanh"),
        rec_act=options.get("recurrent_activation", "sigmoid"),
        embedding=None if emb is None else emb[2],
        return_sequences=options.get("return_sequences", False),
        decoder_units=options.get("decoder_units", ()), output_steps=options.get("output_steps"),
        loss=loss,
    )


def _problem(options, loss, K, tokens, seed=0, n=5, T=6, F=2):
    rng = np.random.RandomState(seed)
    net = LSTMNetwork(F, UNITS, K, loss, np.float64, **options)
    theta = net.init_params(rng) + rng.normal(0, 0.2, net.n_params)
    if tokens:
        X = rng.randint(1, 9, size=(n, T))
        for i, length in enumerate([6, 4, 2, 5, 3][:n]):
            X[i, length:] = 0  # padding at the end
    else:
        X = rng.normal(size=(n, T, F))
    steps = options.get("output_steps") or (T if options.get("return_sequences") else 1)
    if loss == "mse":
        Y = rng.normal(size=(n, steps, K))
    elif loss == "binary":
        Y = (rng.rand(n, steps, 1) > 0.5).astype(float)
    else:
        Y = np.eye(K)[rng.randint(0, K, (n, steps))]
    if not (options.get("output_steps") or options.get("return_sequences")):
        Y = Y[:, 0]  # last-state networks: one row of K outputs per sample
    sw = rng.uniform(0.5, 2.0, n)
    return net, theta, X, Y, sw


def _rows(net, X, Y):
    return net._output_rows(X, Y.reshape(len(X), -1), np.arange(len(X)))


@pytest.mark.parametrize("name,options,loss,K,tokens", CASES, ids=[c[0] for c in CASES])
def test_forward_matches_the_reference(name, options, loss, K, tokens):
    net, theta, X, _, _ = _problem(options, loss, K, tokens)
    out = _graph.forward_part(net, theta, X)
    ref = naive.general_predict(X, net.state_dict(theta), _config(options, loss))
    if ref.ndim == 3 and out.ndim == 2:
        ref = ref[:, :, 0]
    np.testing.assert_allclose(out, ref.reshape(out.shape), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("name,options,loss,K,tokens", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dropout", [False, True], ids=["", "dropout"])
def test_gradient_matches_finite_differences(name, options, loss, K, tokens, dropout):
    """Every tensor, every option: BPTT against central differences in float64."""
    net, theta, X, Y, sw = _problem(options, loss, K, tokens)
    n = len(X)
    masks = None
    ref_masks = None
    if dropout:
        masks = _graph.draw_masks(net, n, np.random.RandomState(5), 0.3, 0.4)
        ref_masks = {(k, d): (masks.inputs[k][d], masks.recurrent[k][d])
                     for k in range(len(UNITS)) for d in range(len(masks.inputs[k]))}
    rows = _rows(net, X, Y)
    grad = np.zeros(net.n_params)
    total = _graph.loss_grad_part(net, theta, grad, X, Y.reshape(n, -1), sw, masks, 1 / rows)
    cfg = _config(options, loss)

    def f(th):
        return naive.general_loss(X, Y, net.state_dict(th), cfg, sw, ref_masks)

    assert total / rows == pytest.approx(f(theta), rel=1e-11)
    # the padding row of an embedding: masked steps never read it
    naive.assert_gradients_close(net, grad, naive.central_differences(f, theta),
                                 skip_rows={"embedding.weight": 0})


def test_padding_never_changes_the_state():
    """Extra padding, anywhere after the tokens, leaves every output as it was."""
    rng = np.random.RandomState(1)
    for options in (dict(embedding=(12, 4, 0)), dict(embedding=(12, 4, 0), bidirectional=True)):
        net = LSTMNetwork(1, (5,), 2, "mse", np.float64, **options)
        theta = net.init_params(rng)
        short = rng.randint(1, 12, size=(3, 5))
        padded = np.concatenate([short, np.zeros((3, 7), dtype=int)], axis=1)
        np.testing.assert_allclose(_graph.forward_part(net, theta, padded),
                                   _graph.forward_part(net, theta, short), rtol=1e-13)


def test_draw_masks_are_inverted_dropout_fixed_per_sequence():
    net = LSTMNetwork(3, (50,), 1, "mse", np.float32, bidirectional=True)
    masks = _graph.draw_masks(net, 400, np.random.RandomState(0), 0.25, 0.5)
    inp, rec = masks.inputs[0][1], masks.recurrent[0][1]
    assert inp.shape == (400, 3) and rec.shape == (400, 50) and inp.dtype == np.float32
    assert set(np.unique(rec)) == {0.0, 2.0}
    assert abs((inp == 0).mean() - 0.25) < 0.05 and abs((rec == 0).mean() - 0.5) < 0.02
    assert not np.array_equal(masks.inputs[0][0], masks.inputs[0][1])
