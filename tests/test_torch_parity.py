"""Forward outputs, loss and gradients against torch.nn.LSTM + nn.Linear (float64)."""

import numpy as np
import pytest

from skforecast_lstm import LSTMClassifier, LSTMRegressor
from skforecast_lstm._network import LSTMNetwork

torch = pytest.importorskip("torch")


class TorchModel(torch.nn.Module):
    def __init__(self, n_features, units, n_outputs):
        super().__init__()
        self.lstm = torch.nn.ModuleList()
        n_in = n_features
        for H in units:
            self.lstm.append(torch.nn.LSTM(n_in, H, batch_first=True, dtype=torch.float64))
            n_in = H
        self.head = torch.nn.Linear(n_in, n_outputs, dtype=torch.float64)

    def load(self, state):
        with torch.no_grad():
            for k, layer in enumerate(self.lstm):
                for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(layer, f"{kind}_l0").copy_(torch.from_numpy(state[f"{kind}_l{k}"]))
            self.head.weight.copy_(torch.from_numpy(state["head.weight"]))
            self.head.bias.copy_(torch.from_numpy(state["head.bias"]))

    def forward(self, x):
        for layer in self.lstm:
            x, _ = layer(x)
        return self.head(x[:, -1])


@pytest.mark.parametrize(
    "loss,units,K",
    [("mse", (7,), 2), ("mse", (6, 5), 1), ("binary", (5,), 1), ("softmax", (4, 3), 3)],
)
def test_matches_torch(loss, units, K):
    rng = np.random.RandomState(3)
    n, T, F = 16, 9, 4
    net = LSTMNetwork(F, units, K, loss, np.float64)
    theta = net.init_params(rng) + rng.normal(0, 0.1, net.n_params)
    X = rng.normal(size=(n, T, F))
    if loss == "mse":
        Y = rng.normal(size=(n, K))
    elif loss == "binary":
        Y = (rng.rand(n, 1) > 0.5).astype(float)
    else:
        Y = np.eye(K)[rng.randint(0, K, n)]
    sw = np.ones(n)

    model = TorchModel(F, units, K)
    model.load(net.state_dict(theta))
    xt = torch.from_numpy(X)
    z = model(xt)
    if loss == "mse":
        tloss = torch.nn.functional.mse_loss(z, torch.from_numpy(Y))
        tout = z
    elif loss == "binary":
        tloss = torch.nn.functional.binary_cross_entropy_with_logits(z, torch.from_numpy(Y))
        tout = torch.sigmoid(z)
    else:
        tloss = torch.nn.functional.cross_entropy(z, torch.from_numpy(Y.argmax(1)))
        tout = torch.softmax(z, dim=1)
    tloss.backward()

    out = net.forward(theta, X)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-13)

    idx = np.arange(n, dtype=np.int64)
    grads = np.zeros((2, net.n_params))
    value, n_parts = net.loss_grad(theta, X, Y, sw, idx, grads)
    assert value == pytest.approx(tloss.item(), rel=1e-10)
    grad = net.state_dict(grads[:n_parts].sum(axis=0))
    torch_grads = {"head.weight": model.head.weight.grad, "head.bias": model.head.bias.grad}
    for k, layer in enumerate(model.lstm):
        for kind in ("weight_ih", "weight_hh", "bias_ih"):
            torch_grads[f"{kind}_l{k}"] = getattr(layer, f"{kind}_l0").grad
    for name, tg in torch_grads.items():
        np.testing.assert_allclose(grad[name], tg.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)


def test_state_dict_round_trip_through_torch_lstm():
    """Weights exported to torch.nn.LSTM give the estimator's predictions, and back."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 6, 2))
    y = rng.normal(size=30)
    reg = LSTMRegressor(units=(5, 4), epochs=2, dtype="float64", standardize=False,
                        random_state=0).fit(X, y)
    lstm = torch.nn.LSTM(2, 5, num_layers=1, batch_first=True, dtype=torch.float64)
    model = TorchModel(2, (5, 4), 1)
    model.load(reg.state_dict())
    expected = model(torch.from_numpy(X)).detach().numpy()[:, 0]
    np.testing.assert_allclose(reg.predict(X), expected, rtol=1e-10)
    # standardised (the default): state_dict is the network's own; the scaling composes
    X_raw, y_raw = 50 + 20 * X, 1000 + 300 * y
    scaled = LSTMRegressor(units=(5, 4), epochs=2, dtype="float64", random_state=0)
    scaled.fit(X_raw, y_raw)
    model.load(scaled.state_dict())
    inputs = torch.from_numpy((X_raw - scaled.x_mean_) / scaled.x_scale_)
    expected = model(inputs).detach().numpy()[:, 0] * scaled.y_scale_[0] + scaled.y_mean_[0]
    np.testing.assert_allclose(scaled.predict(X_raw), expected, rtol=1e-10)
    # torch's own two biases are summed on the way in
    state = {k: torch.from_numpy(v.copy()) for k, v in reg.state_dict().items()}
    state["bias_hh_l0"] += 0.5
    state["bias_ih_l0"] -= 0.5
    before = reg.predict(X)
    reg.load_state_dict(state)
    np.testing.assert_allclose(reg.predict(X), before, rtol=1e-12)
    del lstm


def test_classifier_state_dict_names():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 4, 3))
    clf = LSTMClassifier(units=6, epochs=1, random_state=0).fit(X, rng.randint(0, 3, 20))
    sd = clf.state_dict()
    assert sorted(sd) == sorted(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                 "head.weight", "head.bias"])
    assert sd["weight_ih_l0"].shape == (24, 3) and sd["weight_hh_l0"].shape == (24, 6)
    assert not sd["bias_hh_l0"].any()
    lstm = torch.nn.LSTM(3, 6, batch_first=True)
    lstm.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items() if "head" not in k})


@pytest.mark.parametrize("embedding", [False, True], ids=["features", "embedding"])
def test_bidirectional_stacked_matches_torch(embedding):
    """torch.nn.LSTM(num_layers=2, bidirectional=True) (+ nn.Embedding): outputs, loss and
    gradients with our weights loaded by name; the head reads h_n of both directions."""
    from skforecast_lstm import _graph

    rng = np.random.RandomState(7)
    n, T, F, H, V, D = 6, 7, 3, 5, 11, 4
    options = dict(bidirectional=True)
    if embedding:
        options["embedding"] = (V, D, 0)
        X = rng.randint(1, V, size=(n, T))  # no padding: torch's LSTM has no masks
    else:
        X = rng.normal(size=(n, T, F))
    net = LSTMNetwork(F, (H, H), 2, "mse", np.float64, **options)
    theta = net.init_params(rng) + rng.normal(0, 0.1, net.n_params)
    state = net.state_dict(theta)
    Y = rng.normal(size=(n, 2))

    lstm = torch.nn.LSTM(D if embedding else F, H, num_layers=2, bidirectional=True,
                         batch_first=True, dtype=torch.float64)
    head = torch.nn.Linear(2 * H, 2, dtype=torch.float64)
    lstm.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()
                          if not k.startswith(("head", "embedding"))})
    head.load_state_dict({"weight": torch.from_numpy(state["head.weight"]),
                          "bias": torch.from_numpy(state["head.bias"])})
    if embedding:
        emb = torch.nn.Embedding(V, D, dtype=torch.float64)
        emb.load_state_dict({"weight": torch.from_numpy(state["embedding.weight"])})
        x = emb(torch.from_numpy(X))
    else:
        x = torch.from_numpy(X)
    _, (h_n, _) = lstm(x)
    z = head(torch.cat([h_n[-2], h_n[-1]], dim=1))  # last layer: forward, backward
    tloss = torch.nn.functional.mse_loss(z, torch.from_numpy(Y))
    tloss.backward()

    np.testing.assert_allclose(_graph.forward_part(net, theta, X), z.detach().numpy(),
                               rtol=1e-10, atol=1e-13)
    grad = np.zeros(net.n_params)
    total = _graph.loss_grad_part(net, theta, grad, X, Y, np.ones(n), None, 1 / n)
    assert total / n == pytest.approx(tloss.item(), rel=1e-10)
    ours = net.state_dict(grad)
    theirs = {name: p.grad.numpy() for name, p in lstm.named_parameters()}
    theirs["head.weight"] = head.weight.grad.numpy()
    theirs["head.bias"] = head.bias.grad.numpy()
    if embedding:
        theirs["embedding.weight"] = emb.weight.grad.numpy()
    for name, value in theirs.items():
        if name.startswith("bias_hh"):
            continue  # the one bias per gate: its gradient is in bias_ih
        np.testing.assert_allclose(ours[name], value, rtol=1e-9, atol=1e-12, err_msg=name)
