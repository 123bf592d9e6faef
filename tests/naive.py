"""A slow, plain NumPy LSTM: the reference the kernels are tested against."""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def central_differences(f, theta, eps=1e-6):
    """Numerical gradient of the scalar function ``f`` at ``theta``."""
    numeric = np.empty_like(theta)
    for p in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[p] += eps
        down[p] -= eps
        numeric[p] = (f(up) - f(down)) / (2 * eps)
    return numeric


def assert_gradients_close(net, grad, numeric, rtol=1e-6, skip_rows=None):
    """Every named tensor of ``grad`` matches ``numeric``, relative to the tensor's scale.

    ``skip_rows`` maps a tensor name to rows whose numerical gradient is not
    defined by the kernels (the padding row of an embedding).
    """
    views = net.tensors(grad)
    for name, view in net.tensors(numeric).items():
        if skip_rows and name in skip_rows:
            view = view.copy()
            view[skip_rows[name]] = 0
        scale = max(np.abs(view).max(), 1e-3)
        err = np.abs(views[name] - view).max() / scale
        assert err < rtol, f"{name}: relative error {err:.2e}"


def lstm_forward(X, weights, units):
    """Run stacked LSTM layers over batch-major ``X`` (n, T, F); return all hidden states.

    ``weights`` maps PyTorch names (``weight_ih_l0``, ``weight_hh_l0``,
    ``bias_ih_l0``, ``bias_hh_l0``, ...) to arrays.
    """
    seq = np.asarray(X, dtype=np.float64)
    n, T, _ = seq.shape
    for k, H in enumerate(units):
        w_ih = weights[f"weight_ih_l{k}"]
        w_hh = weights[f"weight_hh_l{k}"]
        b = weights[f"bias_ih_l{k}"] + weights[f"bias_hh_l{k}"]
        h = np.zeros((n, H))
        c = np.zeros((n, H))
        out = np.zeros((n, T, H))
        for t in range(T):
            a = seq[:, t] @ w_ih.T + h @ w_hh.T + b
            i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
            g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
            out[:, t] = h
        seq = out
    return seq


def predict(X, weights, units, loss):
    """Head outputs on the last hidden state (probabilities for classification)."""
    h = lstm_forward(X, weights, units)[:, -1]
    z = h @ weights["head.weight"].T + weights["head.bias"]
    if loss == "binary":
        return sigmoid(z)
    if loss == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return z


def loss(X, Y, weights, units, kind, sample_weight=None, quantiles=None):
    """Weighted mean loss as the kernels define it."""
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    p = predict(X, weights, units, kind)
    if kind == "mse":
        per = ((p - Y) ** 2).mean(axis=1)
    elif kind == "binary":
        per = -(Y[:, 0] * np.log(p[:, 0]) + (1 - Y[:, 0]) * np.log(1 - p[:, 0]))
    elif kind == "softmax":
        per = -(Y * np.log(p)).sum(axis=1)
    elif kind == "huber":
        e = np.abs(p - Y)
        d = np.asarray(quantiles, float)
        per = np.where(e <= d, 0.5 * e**2, d * (e - 0.5 * d)).mean(axis=1)
    else:
        e = Y - p
        q = np.asarray(quantiles, float)
        per = np.maximum(q * e, (q - 1) * e).mean(axis=1)
    return float((sw * per).sum() / n)


# ---------------------------------------------------------------- Keras options
ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "linear": lambda x: x,
    "sigmoid": sigmoid,
    "hard_sigmoid": lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
}


def lstm_layer(x, w_ih, w_hh, b, act="tanh", rec_act="sigmoid", step_mask=None, h_mask=None):
    """One direction over batch-major ``x`` (n, T, F): all hidden states (n, T, H).

    ``step_mask`` (n, T): 0 at padding steps, which leave the state unchanged;
    ``h_mask`` (n, H): recurrent dropout, the same at every step.
    """
    f_act, f_rec = ACTIVATIONS[act], ACTIVATIONS[rec_act]
    n, T, _ = x.shape
    H = w_hh.shape[1]
    h = np.zeros((n, H))
    c = np.zeros((n, H))
    out = np.zeros((n, T, H))
    for t in range(T):
        hin = h if h_mask is None else h * h_mask
        a = x[:, t] @ w_ih.T + hin @ w_hh.T + b
        i, f = f_rec(a[:, :H]), f_rec(a[:, H:2 * H])
        g, o = f_act(a[:, 2 * H:3 * H]), f_rec(a[:, 3 * H:])
        c_new = f * c + i * g
        h_new = o * f_act(c_new)
        keep = np.ones((n, 1)) if step_mask is None else step_mask[:, t:t + 1]
        c = keep * c_new + (1 - keep) * c
        h = keep * h_new + (1 - keep) * h
        out[:, t] = h
    return out


def general_predict(X, weights, cfg, masks=None):
    """Head outputs of a network with Keras options.

    ``cfg``: units, bidirectional, act, rec_act, embedding (padding_idx or None),
    return_sequences, decoder_units, output_steps, loss. ``masks``: optional
    dict ``{(k, d): (input_mask (n, F), recurrent_mask (n, H))}``.
    """
    masks = masks or {}
    step_mask = None
    if cfg.get("embedding") is not None:
        tokens = np.asarray(X)
        step_mask = (tokens != cfg["embedding"]).astype(float)
        seq = weights["embedding.weight"][tokens]
    else:
        seq = np.asarray(X, dtype=np.float64)
    n, T = seq.shape[:2]
    dirs = ["", "_reverse"] if cfg.get("bidirectional") else [""]
    lasts = None
    for k, _ in enumerate(cfg["units"]):
        outs, lasts = [], []
        for d, sfx in enumerate(dirs):
            xm, hm = masks.get((k, d), (None, None))
            xin = seq if xm is None else seq * xm[:, None, :]
            args = [weights[f"weight_ih_l{k}{sfx}"], weights[f"weight_hh_l{k}{sfx}"],
                    weights[f"bias_ih_l{k}{sfx}"] + weights[f"bias_hh_l{k}{sfx}"],
                    cfg.get("act", "tanh"), cfg.get("rec_act", "sigmoid")]
            if d == 0:
                hs = lstm_layer(xin, *args, step_mask=step_mask, h_mask=hm)
                outs.append(hs)
                lasts.append(hs[:, -1])
            else:
                rmask = None if step_mask is None else step_mask[:, ::-1]
                hs = lstm_layer(xin[:, ::-1], *args, step_mask=rmask, h_mask=hm)
                outs.append(hs[:, ::-1])
                lasts.append(hs[:, -1])
        seq = np.concatenate(outs, axis=2)
    last = np.concatenate(lasts, axis=1)
    if cfg.get("decoder_units"):
        dec = np.repeat(last[:, None, :], cfg["output_steps"], axis=1)
        for k, _ in enumerate(cfg["decoder_units"]):
            dec = lstm_layer(dec, weights[f"decoder.weight_ih_l{k}"],
                             weights[f"decoder.weight_hh_l{k}"],
                             weights[f"decoder.bias_ih_l{k}"] + weights[f"decoder.bias_hh_l{k}"],
                             cfg.get("act", "tanh"), cfg.get("rec_act", "sigmoid"))
        hin = dec
    elif cfg.get("return_sequences"):
        hin = seq
    else:
        hin = last
    z = hin @ weights["head.weight"].T + weights["head.bias"]
    if cfg["loss"] == "binary":
        return sigmoid(z)
    if cfg["loss"] == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    return z


def general_loss(X, Y, weights, cfg, sample_weight, masks=None):
    """Mean over (unpadded) output rows of the weighted row losses, as the kernels define it.

    ``Y`` has the head's layout: (n, K) or (n, steps, K).
    """
    p = general_predict(X, weights, cfg, masks)
    sw = np.asarray(sample_weight, dtype=float)
    if p.ndim == 2:
        p, Y, w = p[:, None], Y[:, None], sw[:, None]
    else:
        w = np.repeat(sw[:, None], p.shape[1], axis=1)
        if cfg.get("return_sequences") and cfg.get("embedding") is not None:
            w = w * (np.asarray(X) != cfg["embedding"])
    if cfg["loss"] == "mse":
        per = ((p - Y) ** 2).mean(axis=-1)
    elif cfg["loss"] == "binary":
        per = -(Y[..., 0] * np.log(p[..., 0]) + (1 - Y[..., 0]) * np.log(1 - p[..., 0]))
    else:
        per = -(Y * np.log(p)).sum(axis=-1)
    rows = w.size if not (cfg.get("return_sequences") and cfg.get("embedding") is not None) \
        else max(1, int((np.asarray(X) != cfg["embedding"]).sum()))
    return float((w * per).sum() / rows)
