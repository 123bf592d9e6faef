"""The network core: parameter layout, initialisation, state dicts, minibatch steps.

An :class:`LSTMNetwork` knows the shapes (features, stacked units, outputs,
loss) and where each tensor lives in one flat parameter vector. It owns no
data and no estimator state: the estimators hand it arrays and get arrays back,
and the arithmetic happens in :mod:`skforecast_lstm._kernels.cpu`.

Two cores are used by splitting every minibatch into a fixed number of parts
(``N_CHUNKS``), each run through forward + BPTT by one thread with single-
threaded BLAS, then summing the parts' gradients for one optimizer step. The
split depends only on the batch size, never on how many threads run it, so a
fit gives bit-identical weights with ``n_jobs=1`` and ``n_jobs=2``.
"""


import numpy as np

from . import _graph
from ._kernels import cpu, layers
from ._kernels.layout import head_views, layer_views
from ._kernels.losses import LOSSES
from ._threads import N_CHUNKS, PARALLEL_PREDICT_ROWS, in_threads

__all__ = ["LSTMNetwork", "Optimizer"]

OPTIMIZERS = {"adam": cpu.OPT_ADAM, "sgd": cpu.OPT_SGD}

MIN_CHUNK_ROWS = 8
# rows per block of the BLAS-based predict of networks with options
PREDICT_BLOCK = 256


NON_FINITE_INPUT = "Input X contains NaN or infinity."


class Optimizer:
    """Optimizer state as plain arrays (picklable, no Numba objects).

    Parameters
    ----------
    name : {'adam', 'sgd'}
    n_params : int
    dtype : numpy dtype
    """

    def __init__(self, name, n_params, dtype):
        self.name = name
        self.code = OPTIMIZERS[name]
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params if name == "adam" else 0, dtype=dtype)
        self.step = 0


ACTIVATIONS = {
    "tanh": layers.ACT_TANH,
    "relu": layers.ACT_RELU,
    "linear": layers.ACT_LINEAR,
    "sigmoid": layers.ACT_SIGMOID,
    "hard_sigmoid": layers.ACT_HARD_SIGMOID,
}


class LSTMNetwork:
    """Shapes and parameter layout of an LSTM network with a dense head.

    Parameters
    ----------
    n_features : int
        Features per time step (ignored with an ``embedding``).
    units : tuple of int
        Hidden size of each stacked encoder layer.
    n_outputs : int
        Width of the dense head.
    loss : {'mse', 'binary', 'softmax', 'pinball', 'huber'}
    dtype : numpy dtype
        float32 or float64.
    quantiles : array-like of shape (n_outputs,), optional
        The loss's parameter of each output column: the quantile for the
        pinball loss, the threshold delta for the Huber loss.
    bidirectional : bool, default=False
        A backward-direction twin of every encoder layer, outputs concatenated.
    embedding : tuple (vocab_size, dim, padding_idx), optional
        Token ids in, through a learnt embedding; ``padding_idx`` steps are masked.
    id_embedding : tuple (n_ids, dim), optional
        The last input feature is an integer id (a series, a store), read at
        the first step: its learnt embedding replaces it beside the other
        features at every step of the first layer.
    decoder_units : tuple of int, default=()
        Encoder-decoder: the encoder's last state repeated ``output_steps``
        times (RepeatVector) into these decoder layers, the head on every step.
    output_steps : int, optional
        Steps of the decoder.
    return_sequences : bool, default=False
        The head on every step of the top encoder layer.
    activation, recurrent_activation : str
        Keras' names, see ``ACTIVATIONS``.
    """

    def __init__(self, n_features, units, n_outputs, loss, dtype, quantiles=None, *,
                 bidirectional=False, embedding=None, id_embedding=None, decoder_units=(),
                 output_steps=None,
                 return_sequences=False, activation="tanh", recurrent_activation="sigmoid"):
        self.n_features = int(n_features)
        self.units = tuple(int(u) for u in units)
        self.n_outputs = int(n_outputs)
        self.loss = loss
        self.loss_code = LOSSES[loss]
        self.dtype = np.dtype(dtype)
        q = np.zeros(self.n_outputs) if quantiles is None else np.asarray(quantiles, float)
        self.quantiles = np.ascontiguousarray(q, dtype=self.dtype)
        self.bidirectional = bool(bidirectional)
        self.embedding = None if embedding is None else tuple(int(v) for v in embedding)
        self.id_embedding = None if id_embedding is None else tuple(int(v) for v in id_embedding)
        self.decoder_units = tuple(int(u) for u in decoder_units)
        self.output_steps = None if output_steps is None else int(output_steps)
        self.return_sequences = bool(return_sequences)
        self.activation = activation
        self.recurrent_activation = recurrent_activation
        self.act = ACTIVATIONS[activation]
        self.rec_act = ACTIVATIONS[recurrent_activation]

        offset = 0
        if self.embedding is not None:
            self.embedding_offset = 0
            offset = self.embedding[0] * self.embedding[1]
            n_in = self.embedding[1]
        elif self.id_embedding is not None:
            offset = self.id_embedding[0] * self.id_embedding[1]
            n_in = self.n_features - 1 + self.id_embedding[1]
        else:
            n_in = self.n_features
        n_dirs = 2 if self.bidirectional else 1

        def lstm_rows(n_in, sizes, directions):
            nonlocal offset
            rows = []
            for H in sizes:
                for _ in range(directions):
                    o_ih = offset
                    o_hh = o_ih + 4 * H * n_in
                    o_b = o_hh + 4 * H * H
                    offset = o_b + 4 * H
                    rows.append((n_in, H, o_ih, o_hh, o_b))
                n_in = H * directions
            return np.array(rows, dtype=np.int64).reshape(len(rows), 5), n_in

        # one row per layer and direction (forward, then backward)
        self.layers, n_in = lstm_rows(n_in, self.units, n_dirs)
        self.decoder, n_in = lstm_rows(n_in, self.decoder_units, 1)
        o_w = offset
        o_bias = o_w + self.n_outputs * n_in
        offset = o_bias + self.n_outputs
        self.head = np.array([n_in, self.n_outputs, o_w, o_bias], dtype=np.int64)
        self.n_params = offset

    @property
    def plain(self):
        """Whether the fused kernels of ``cpu.py`` compute this network."""
        return not (self.bidirectional or self.embedding or self.id_embedding
                    or self.decoder_units
                    or self.return_sequences or self.activation != "tanh"
                    or self.recurrent_activation != "sigmoid")

    def encoder_rows(self, k):
        """The layout rows of encoder layer ``k`` (forward, then backward)."""
        n_dirs = 2 if self.bidirectional else 1
        return self.layers[k * n_dirs : (k + 1) * n_dirs]

    # ------------------------------------------------------------------ params
    def _named_rows(self):
        n_dirs = 2 if self.bidirectional else 1
        for i, row in enumerate(self.layers.tolist()):
            k, d = divmod(i, n_dirs)
            yield "", f"l{k}" + ("_reverse" if d else ""), row
        for k, row in enumerate(self.decoder.tolist()):
            yield "decoder.", f"l{k}", row

    def tensors(self, theta):
        """Named views into ``theta`` (PyTorch names, no copies)."""
        out = {}
        if self.embedding is not None:
            V, D, _ = self.embedding
            out["embedding.weight"] = theta[:V * D].reshape(V, D)
        if self.id_embedding is not None:
            V, D = self.id_embedding
            out["id_embedding.weight"] = theta[:V * D].reshape(V, D)
        for prefix, suffix, row in self._named_rows():
            w_ih, w_hh, bias = layer_views(theta, row)
            out[f"{prefix}weight_ih_{suffix}"] = w_ih
            out[f"{prefix}weight_hh_{suffix}"] = w_hh
            out[f"{prefix}bias_{suffix}"] = bias
        out["head.weight"], out["head.bias"] = head_views(theta, self.head)
        return out

    def weight_mask(self):
        """1 for weight matrices, 0 for biases: what ``l2`` decays (as Keras' kernels)."""
        mask = np.zeros(self.n_params, dtype=self.dtype)
        for name, view in self.tensors(mask).items():
            if "bias" not in name:
                view[...] = 1
        return mask

    def init_params(self, rng, unit_forget_bias=True):
        """Initialise the parameters as Keras does.

        Glorot-uniform input and head weights, orthogonal recurrent weights,
        zero biases (forget gate 1), embeddings uniform in [-0.05, 0.05] (the
        padding row zero).
        """
        theta = np.zeros(self.n_params, dtype=self.dtype)
        views = self.tensors(theta)
        if self.embedding is not None:
            V, D, pad = self.embedding
            views["embedding.weight"][...] = rng.uniform(-0.05, 0.05, size=(V, D))
            views["embedding.weight"][pad] = 0
        if self.id_embedding is not None:
            views["id_embedding.weight"][...] = rng.uniform(-0.05, 0.05,
                                                            size=self.id_embedding)
        for prefix, suffix, (n_in, H, *_) in self._named_rows():
            limit = np.sqrt(6.0 / (n_in + 4 * H))
            views[f"{prefix}weight_ih_{suffix}"][...] = rng.uniform(-limit, limit,
                                                                     size=(4 * H, n_in))
            q, r = np.linalg.qr(rng.standard_normal((4 * H, H)))
            views[f"{prefix}weight_hh_{suffix}"][...] = q * np.sign(np.diag(r))
            if unit_forget_bias:
                views[f"{prefix}bias_{suffix}"][H : 2 * H] = 1.0
        n_in, K = int(self.head[0]), int(self.head[1])
        limit = np.sqrt(6.0 / (n_in + K))
        views["head.weight"][...] = rng.uniform(-limit, limit, size=(K, n_in))
        return theta

    def state_dict(self, theta):
        """Copies of the tensors under PyTorch's names.

        Names of ``torch.nn.LSTM``, ``nn.Embedding`` and ``nn.Linear``. The
        one bias per gate is given as ``bias_ih_l{k}``; ``bias_hh_l{k}`` is
        all zeros, so that ``torch`` computes the same function.
        """
        out = {}
        for name, view in self.tensors(theta).items():
            if "bias_l" in name:
                out[name.replace("bias_l", "bias_ih_l")] = view.copy()
                out[name.replace("bias_l", "bias_hh_l")] = np.zeros_like(view)
            else:
                out[name] = view.copy()
        return out

    def load_state_dict(self, state):
        """Flat parameters from a state dict; PyTorch's two biases are added."""
        theta = np.zeros(self.n_params, dtype=self.dtype)
        views = self.tensors(theta)
        expected = set(self.state_dict(theta))
        given = {str(k) for k in state}
        if given != expected:
            missing = sorted(expected - given)
            extra = sorted(given - expected)
            raise ValueError(
                f"state_dict does not fit this network: missing keys {missing}, "
                f"unexpected keys {extra}."
            )
        for name, view in views.items():
            if "bias_l" in name:
                parts = [state[name.replace("bias_l", "bias_ih_l")],
                         state[name.replace("bias_l", "bias_hh_l")]]
                value = sum(_as_numpy(p).astype(np.float64) for p in parts)
            else:
                value = _as_numpy(state[name])
            if value.shape != view.shape:
                raise ValueError(
                    f"state_dict[{name!r}] has shape {value.shape}; expected {view.shape}."
                )
            view[...] = value
        return theta

    # ----------------------------------------------------------------- compute
    def chunks(self, idx):
        """Split a minibatch's rows into the fixed parts (see module docstring)."""
        n_parts = N_CHUNKS if idx.size >= N_CHUNKS * MIN_CHUNK_ROWS else 1
        # np.array_split's bounds (the first parts take the remainder), by slicing
        size, extra = divmod(idx.size, n_parts)
        bounds = [k * size + min(k, extra) for k in range(n_parts + 1)]
        return [idx[bounds[k] : bounds[k + 1]] for k in range(n_parts)]

    def loss_grad(self, theta, X, Y, sw, idx, grads, pool=None, batch_weight=None,
                  masks=None, fused=None):
        """Weighted mean loss of the rows ``idx`` and its gradient.

        The gradient of each part goes to a row of ``grads``
        (shape ``(N_CHUNKS, n_params)``); :meth:`apply` sums them. ``masks``
        (:class:`_graph.Masks`) are the minibatch's dropout masks. ``fused``:
        the plan's choice of kernels (None: the fused ones for a plain
        network without masks). Returns ``(loss, n_parts)``.
        """
        if fused is None:
            fused = self.plain and masks is None
        parts = self.chunks(idx)
        if batch_weight is None:
            batch_weight = self._output_rows(X, Y, idx)
        denom = float(batch_weight)
        scale = 1.0 / denom
        if fused:

            def run(p):
                return self._part_loss_grad(theta, grads, p, X, Y, sw, parts[p], scale)
        else:
            bounds = np.cumsum([0] + [p.size for p in parts])

            def run(p):
                rows = parts[p]
                return _graph.loss_grad_part(
                    self, theta, grads[p], X[rows], Y[rows], sw[rows],
                    None if masks is None else masks.rows(bounds[p], bounds[p + 1]), scale,
                )

        if pool is not None and len(parts) > 1:
            futures = [pool.submit(_quiet, run, p) for p in range(1, len(parts))]
            total = _quiet(run, 0) + sum(f.result() for f in futures)
        else:
            total = sum(_quiet(run, p) for p in range(len(parts)))
        return total / denom, len(parts)

    def _output_rows(self, X, Y, idx):
        """Rows of the loss in a minibatch: samples, or their (unpadded) steps."""
        if not (self.return_sequences or self.decoder_units):
            return idx.size
        if self.return_sequences and self.embedding is not None:
            return max(1, int(np.count_nonzero(X[idx] != self.embedding[2])))
        return idx.size * (Y.shape[1] // self.n_outputs)

    def _part_loss_grad(self, theta, grads, p, X, Y, sw, idx, scale):
        ws = self._workspace(p, X.shape[1], idx.size)
        return cpu.network_loss_grad(theta, grads[p], self.layers, self.head, X, Y, sw, idx,
                                     self.loss_code, self.quantiles, scale, ws)

    def _workspace(self, p, T, rows):
        spaces = self.__dict__.setdefault("_spaces", {})
        ws = spaces.get(p)
        if ws is None or ws.T != T or ws.rows < rows:
            ws = spaces[p] = cpu.Workspace(self.layers, self.n_outputs, T, rows, self.dtype)
        return ws

    def release_workspaces(self):
        """Free the scratch buffers (a fit calls this when it ends)."""
        self.__dict__.pop("_spaces", None)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_spaces", None)  # scratch buffers, rebuilt on demand
        return state

    def apply(self, theta, grads, n_parts, opt, learning_rate, beta_1, beta_2, epsilon,
              momentum, clipnorm):
        """Sum the parts' gradients, clip, step the optimizer. Returns the norm."""
        opt.step += 1
        b1 = beta_1 if opt.code == cpu.OPT_ADAM else momentum
        return cpu.apply_gradients(
            theta, grads[:n_parts], opt.code, opt.m, opt.v, float(learning_rate),
            float(b1), float(beta_2), float(epsilon), opt.step,
            -1.0 if clipnorm is None else float(clipnorm),
        )

    def inference_weights(self, theta):
        """Transposed weights for :meth:`forward`; recompute whenever ``theta`` changes."""
        return cpu.inference_weights(theta, self.layers)

    def forward(self, theta, X, n_threads=1, wt=None, x_stats=None, fused=None):
        """Outputs of the head (probabilities for classification).

        ``(n, K)``, or ``(n, steps, K)`` for sequence outputs. ``fused``: the
        plan's choice of kernels (None: the fused ones for a plain network).
        The fused kernels compute each row on its own (results independent of
        batching), with
        ``wt``, the :meth:`inference_weights` of ``theta`` (computed here if
        None), standardise ``X`` on the way with ``x_stats`` (``(shift,
        scale)``, float64 per feature; None: ``X`` is standardised already)
        and check that it is finite (``ValueError`` otherwise); the others
        run blocks of ``PREDICT_BLOCK`` rows through BLAS and need ``x_stats``
        None.
        """
        n = X.shape[0]
        threaded = n >= PARALLEL_PREDICT_ROWS and n_threads > 1
        if fused is None:
            fused = self.plain
        if fused:
            out = np.empty((n, self.n_outputs), dtype=self.dtype)
            if wt is None:
                wt = cpu.inference_weights(theta, self.layers)
            if x_stats is None:
                x_stats = (np.zeros(X.shape[2]), np.ones(X.shape[2]))
            shift, scale = x_stats
            if not threaded:  # the latency path: no closure, no slices
                finite = cpu.network_forward(theta, wt, self.layers, self.head, X, shift, scale,
                                             self.loss_code, out)
            else:
                finite = all(in_threads(n, n_threads, lambda lo, hi: cpu.network_forward(
                    theta, wt, self.layers, self.head, X[lo:hi], shift, scale, self.loss_code,
                    out[lo:hi])))
            if not finite:
                raise ValueError(NON_FINITE_INPUT)
            return out
        steps = None
        if self.decoder_units:
            steps = self.output_steps
        elif self.return_sequences:
            steps = X.shape[1]
        shape = (n, self.n_outputs) if steps is None else (n, steps, self.n_outputs)
        out = np.empty(shape, dtype=self.dtype)

        def run(lo, hi):
            for start in range(lo, hi, PREDICT_BLOCK):
                stop = min(hi, start + PREDICT_BLOCK)
                out[start:stop] = _graph.forward_part(self, theta, X[start:stop])

        if threaded:
            in_threads(n, n_threads, run)
        else:
            run(0, n)
        return out

    def summary_rows(self, n_timesteps):
        """Keras' summary rows: ``(name, type, output shape, params, is_sublayer)``."""
        T = n_timesteps
        rows = []
        if self.embedding is not None:
            V, D, _ = self.embedding
            rows.append(("embedding", "Embedding", f"(None, {T}, {D})", V * D, False))
        if self.id_embedding is not None:
            V, D = self.id_embedding
            rows.append(("id_embedding", "Embedding", f"(None, {D})", V * D, False))
        n_layers = len(self.units)
        sequences_out = self.return_sequences and not self.decoder_units
        for k in range(n_layers):
            layer_rows = self.encoder_rows(k).tolist()
            counts = [4 * (H * (n_in + H) + H) for n_in, H, *_ in layer_rows]
            H = layer_rows[0][1]
            width = H * len(layer_rows)
            seq = k < n_layers - 1 or sequences_out
            shape = f"(None, {T}, {width})" if seq else f"(None, {width})"
            suffix = f"_{k}" if k else ""
            if self.bidirectional:
                rows.append((f"bidirectional{suffix}", "Bidirectional", shape, sum(counts), False))
                sub = f"(None, {T}, {H})" if seq else f"(None, {H})"
                rows.append((f"forward_lstm{suffix}", "LSTM", sub, counts[0], True))
                rows.append((f"backward_lstm{suffix}", "LSTM", sub, counts[1], True))
            else:
                rows.append((f"lstm{suffix}", "LSTM", shape, counts[0], False))
        if self.decoder_units:
            S = self.output_steps
            width = int(self.decoder[0, 0])
            rows.append(("repeat_vector", "RepeatVector", f"(None, {S}, {width})", 0, False))
            for k, (n_in, H, *_) in enumerate(self.decoder.tolist()):
                rows.append((f"lstm_{n_layers + k}", "LSTM", f"(None, {S}, {H})",
                             4 * (H * (n_in + H) + H), False))
        n_in, K = int(self.head[0]), int(self.head[1])
        if self.decoder_units:
            shape = f"(None, {self.output_steps}, {K})"
        elif sequences_out:
            shape = f"(None, {T}, {K})"
        else:
            shape = f"(None, {K})"
        rows.append(("dense", "Dense", shape, K * n_in + K, False))
        return rows


def _quiet(run, p):
    """``run(p)`` without NumPy's floating-point warnings (in any thread).

    A non-finite loss or gradient is caught by the caller (the estimator rolls
    the step back and warns); NumPy's own flag on the head's products is no
    signal: BLAS kernels may raise it on vector lanes they discard (seen once
    in CI, with finite inputs and outputs).
    """
    with np.errstate(invalid="ignore", over="ignore"):
        return run(p)


def _as_numpy(value):
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    return np.asarray(value)
