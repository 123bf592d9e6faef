"""Forward and backward passes of networks with the Keras options.

An embedding for token ids, bidirectional and stacked layers, dropout and
recurrent dropout, per-step outputs (``return_sequences``) and an
encoder-decoder (RepeatVector) are composed here, layer by layer, from the
kernels of :mod:`skforecast_lstm._kernels.layers`. Plain networks (one
direction, tanh/sigmoid, last state, no dropout) take the fused kernels of
:mod:`skforecast_lstm._kernels.cpu` instead; the two compute the same function.

Shapes: sequences are time-major ``(T, B, F)`` inside; outputs of a
bidirectional layer are the forward and backward states concatenated per step.
"""

import numpy as np

from ._kernels import cpu, layers
from ._kernels.layout import layer_views
from ._kernels.losses import LOSS_BINARY, LOSS_SOFTMAX

__all__ = ["Masks", "draw_masks", "loss_grad_part", "forward_part", "step_mask"]

class Masks:
    """Dropout masks of one minibatch.

    ``inputs[k][d]`` ``(B, F_in)`` and ``recurrent[k][d]`` ``(B, H)`` per
    encoder layer ``k`` and direction ``d``.
    """

    def __init__(self, inputs, recurrent):
        self.inputs = inputs
        self.recurrent = recurrent

    def rows(self, lo, hi):
        """The masks of the minibatch's rows ``lo:hi``."""
        cut = [[None if m is None else m[lo:hi] for m in layer] for layer in self.inputs]
        rec = [[None if m is None else m[lo:hi] for m in layer] for layer in self.recurrent]
        return Masks(cut, rec)


def draw_masks(net, batch, rng, dropout, recurrent_dropout):
    """Inverted-dropout masks for a minibatch, fixed over its time steps (Keras)."""

    def mask(shape, rate):
        if rate <= 0:
            return None
        keep = rng.random_sample(shape) >= rate
        return (keep / (1.0 - rate)).astype(net.dtype)

    inputs, recurrent = [], []
    for k in range(len(net.units)):
        rows = net.encoder_rows(k)
        inputs.append([mask((batch, int(r[0])), dropout) for r in rows])
        recurrent.append([mask((batch, int(r[1])), recurrent_dropout) for r in rows])
    return Masks(inputs, recurrent)


def step_mask(net, X):
    """``(T, B)`` uint8: 0 where a token is padding; ``(0, 0)`` for float input."""
    if net.embedding is None:
        return np.zeros((0, 0), dtype=np.uint8)
    return np.ascontiguousarray((X != net.embedding[2]).T.astype(np.uint8))


def _empty(dtype):
    return np.zeros((0, 0), dtype=dtype)


def _ids(X):
    """The id of each row (the last feature's value at the first step)."""
    return X[:, 0, -1].astype(np.int64)


def _inputs(net, theta, X):
    """Time-major inputs of the first layer.

    Embedded tokens, or the features (with ``id_embedding``, the id feature
    replaced by its vector).
    """
    if net.id_embedding is not None:
        B, T, F = X.shape
        weight = net.tensors(theta)["id_embedding.weight"]
        x = np.empty((T, B, F - 1 + weight.shape[1]), dtype=net.dtype)
        x[:, :, : F - 1] = X[:, :, :-1].transpose(1, 0, 2)
        x[:, :, F - 1 :] = weight[_ids(X)][None]
        return x
    if net.embedding is None:
        return np.ascontiguousarray(X.transpose(1, 0, 2))
    B, T = X.shape
    weight = net.tensors(theta)["embedding.weight"]
    x = np.empty((T, B, weight.shape[1]), dtype=net.dtype)
    layers.embed(X, weight, x)
    return x


def _run_layer(net, theta, row, x, smask, h_mask, store):
    """One direction of one layer; returns its states ``(T + 1, B, H)``."""
    H = int(row[1])
    T, B, _ = x.shape
    w_ih, w_hh, bias = layer_views(theta, row)
    gates = np.empty((T, B, 4 * H), dtype=net.dtype)
    c = np.zeros((T + 1, B, H), dtype=net.dtype)
    h = np.zeros((T + 1, B, H), dtype=net.dtype)
    hm = _empty(net.dtype) if h_mask is None else h_mask
    layers.layer_forward(x, w_ih, w_hh, bias, net.act, net.rec_act,
                         smask, hm, gates, c, h)
    if store is not None:
        store.append((row, x, gates, c, h, smask, hm))
    return h


def _encoder(net, theta, x, smask, masks, store):
    """Run the encoder; returns the top layer's output sequence and last states."""
    T = x.shape[0]
    for k in range(len(net.units)):
        outs, lasts = [], []
        for d, row in enumerate(net.encoder_rows(k)):
            xin = x
            if masks is not None and masks.inputs[k][d] is not None:
                xin = x * masks.inputs[k][d][None]
            hm = None if masks is None else masks.recurrent[k][d]
            if d == 0:
                h = _run_layer(net, theta, row, np.ascontiguousarray(xin), smask, hm, store)
                outs.append(h[1:])
            else:
                rev = np.ascontiguousarray(xin[::-1])
                rmask = np.ascontiguousarray(smask[::-1]) if smask.size else smask
                h = _run_layer(net, theta, row, rev, rmask, hm, store)
                outs.append(h[1:][::-1])  # output at time t: after reading T-1 .. t
            lasts.append(h[T])
        x = np.ascontiguousarray(np.concatenate(outs, axis=2))
    return x, np.concatenate(lasts, axis=1)


def _decoder(net, theta, last, store):
    S = net.output_steps
    x = np.ascontiguousarray(np.broadcast_to(last, (S,) + last.shape))
    for row in net.decoder:
        h = _run_layer(net, theta, row, x, np.zeros((0, 0), np.uint8), None, store)
        x = np.ascontiguousarray(h[1:])
    return x


def _head_input(net, theta, X, smask, masks, store):
    """What the dense head reads: ``(rows, H)`` with rows time-major for sequences."""
    x = _inputs(net, theta, X)
    seq, last = _encoder(net, theta, x, smask, masks, store)
    if net.decoder.shape[0]:
        seq = _decoder(net, theta, last, store)
    elif not net.return_sequences:
        return last, seq
    return seq.reshape(-1, seq.shape[2]), seq


def _link(net, z):
    """Probabilities from head outputs ``z`` (overwritten) for classifiers; ``z`` otherwise."""
    if net.loss_code == LOSS_BINARY:
        # 1 / (1 + exp(-z)) as tanh: no overflow (and no warning) for very negative z
        z *= 0.5
        np.tanh(z, out=z)
        z *= 0.5
        z += 0.5
    elif net.loss_code == LOSS_SOFTMAX:
        z -= z.max(axis=-1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=-1, keepdims=True)
    return z


def forward_part(net, theta, X):
    """Head outputs (probabilities for classification) of a block of samples.

    Returns ``(B, K)`` for last-state networks, ``(B, steps, K)`` for
    ``return_sequences`` and encoder-decoder networks.
    """
    smask = step_mask(net, X)
    hin, seq = _head_input(net, theta, X, smask, None, None)
    t = net.tensors(theta)
    z = _link(net, hin @ t["head.weight"].T + t["head.bias"])
    if hin.shape[0] == X.shape[0] and not (net.return_sequences or net.decoder.shape[0]):
        return z
    steps = seq.shape[0]
    return np.ascontiguousarray(z.reshape(steps, X.shape[0], -1).transpose(1, 0, 2))


def output_rows(net, X, Y, sw, smask):
    """Targets and weights as the head's rows (time-major for sequence outputs)."""
    B = X.shape[0]
    K = net.n_outputs
    if not (net.return_sequences or net.decoder.shape[0]):
        return np.ascontiguousarray(Y), np.ascontiguousarray(sw)
    steps = Y.shape[1] // K
    y = np.ascontiguousarray(Y.reshape(B, steps, K).transpose(1, 0, 2).reshape(steps * B, K))
    w = np.broadcast_to(sw[None, :], (steps, B))
    if net.return_sequences and smask.size:
        w = w * smask  # padding steps carry no loss, as Keras' masked losses
    return y, np.ascontiguousarray(w.reshape(-1), dtype=net.dtype)


def loss_grad_part(net, theta, grad, X, Y, sw, masks, scale):
    """Loss (sum of weighted row losses) and gradient of one part of a minibatch.

    ``X``, ``Y``, ``sw`` are the part's rows; ``grad`` (all parameters) is
    written; ``scale`` multiplies the gradient (1 / rows of the minibatch).
    """
    smask = step_mask(net, X)
    store = []
    hin, seq = _head_input(net, theta, X, smask, masks, store)
    t = net.tensors(theta)
    g = net.tensors(grad)
    grad[:] = 0
    z = np.ascontiguousarray(hin @ t["head.weight"].T + t["head.bias"])
    y, w = output_rows(net, X, Y, sw, smask)
    dz = np.empty_like(z)
    loss = cpu.loss_and_dlogits(z, y, w, net.loss_code, net.quantiles, scale, dz)
    g["head.weight"][...] = dz.T @ hin
    g["head.bias"][...] = dz.sum(axis=0)
    dhin = dz @ t["head.weight"]

    T = X.shape[1]
    B = X.shape[0]
    # gradient with respect to the encoder's outputs: a sequence, or the last states
    n_dec = net.decoder.shape[0]
    if n_dec:
        dx = np.ascontiguousarray(dhin.reshape(net.output_steps, B, -1))
        for _ in range(n_dec):
            dx = _backward_layer(net, theta, grad, store.pop(), dx, need_dx=True)
        d_last, d_seq = dx.sum(axis=0), None
    elif net.return_sequences:
        d_last, d_seq = None, np.ascontiguousarray(dhin.reshape(T, B, -1))
    else:
        d_last, d_seq = dhin, None

    for k in range(len(net.units) - 1, -1, -1):
        rows = net.encoder_rows(k)
        entries = [store.pop() for _ in rows][::-1]
        widths = [int(r[1]) for r in rows]
        dx_total = None
        for d, entry in enumerate(entries):
            lo = sum(widths[:d])
            dh = np.zeros((T, B, widths[d]), dtype=net.dtype)
            if d_seq is not None:
                part = d_seq[:, :, lo : lo + widths[d]]
                dh[...] = part if d == 0 else part[::-1]
            else:
                dh[T - 1] = d_last[:, lo : lo + widths[d]]
            need_dx = k > 0 or net.embedding is not None or net.id_embedding is not None
            dx = _backward_layer(net, theta, grad, entry, dh, need_dx)
            if dx is None:
                continue
            if d == 1:
                dx = dx[::-1]
            if masks is not None and masks.inputs[k][d] is not None:
                dx = dx * masks.inputs[k][d][None]
            dx_total = dx if dx_total is None else dx_total + dx
        d_seq, d_last = dx_total, None
    if net.embedding is not None:
        layers.embed_backward(X, np.ascontiguousarray(d_seq, dtype=net.dtype),
                              net.embedding[2], g["embedding.weight"])
    if net.id_embedding is not None:
        # the embedding feeds every step: its gradient is the sum over the steps
        F = X.shape[2]
        np.add.at(g["id_embedding.weight"], _ids(X), d_seq[:, :, F - 1 :].sum(axis=0))
    return loss


def _backward_layer(net, theta, grad, entry, dh, need_dx):
    row, x, gates, c, h, smask, hm = entry
    n_in = int(row[0])
    T, B, _ = x.shape
    w_ih, w_hh, _ = layer_views(theta, row)
    gw_ih, gw_hh, gb = layer_views(grad, row)
    dx = np.empty((T, B, n_in) if need_dx else (0, 0, 0), dtype=net.dtype)
    layers.layer_backward(
        x, w_ih, w_hh, gates, c, h, net.act, net.rec_act, smask, hm,
        np.ascontiguousarray(dh, dtype=net.dtype), gw_ih, gw_hh, gb, dx,
    )
    return dx if need_dx else None
