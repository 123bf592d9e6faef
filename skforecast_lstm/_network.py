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

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from ._kernels import cpu

__all__ = ["LSTMNetwork", "Optimizer", "effective_n_threads", "blas_single_thread"]

LOSSES = {
    "mse": cpu.LOSS_MSE,
    "binary": cpu.LOSS_BINARY,
    "softmax": cpu.LOSS_SOFTMAX,
    "pinball": cpu.LOSS_PINBALL,
}
OPTIMIZERS = {"adam": cpu.OPT_ADAM, "sgd": cpu.OPT_SGD}

N_CHUNKS = 2
MIN_CHUNK_ROWS = 8
# predict on fewer rows than this runs in the calling thread (latency path)
PARALLEL_PREDICT_ROWS = 256


def effective_n_threads(n_jobs):
    """Number of threads a fit may use.

    ``None`` means all cores unless a parent (joblib's workers set
    ``OMP_NUM_THREADS``) asked for fewer; negative values count back from the
    number of cores as in joblib.
    """
    n_cpus = os.cpu_count() or 1
    if n_jobs is None:
        limit = os.environ.get("OMP_NUM_THREADS", "")
        n = int(limit) if limit.isdigit() and int(limit) > 0 else n_cpus
        return max(1, min(n, n_cpus, N_CHUNKS))
    if n_jobs < 0:
        n_jobs = max(1, n_cpus + 1 + n_jobs)
    return max(1, min(n_jobs, N_CHUNKS))


_blas_lock = threading.Lock()
_blas_state = {"users": 0, "controller": None, "restore": None}


def _blas_controller():
    if _blas_state["controller"] is None:
        # The kernels call NumPy's OpenBLAS (see _blas.py), loaded with NumPy.
        # Only the fallback goes through np.dot to SciPy's BLAS, which must be
        # loaded before threadpoolctl looks for libraries to be limited.
        from threadpoolctl import ThreadpoolController

        from ._blas import BLAS_SOURCE

        if "fallback" in BLAS_SOURCE:
            import scipy.linalg.cython_blas  # noqa: F401

        _blas_state["controller"] = ThreadpoolController()
    return _blas_state["controller"]


@contextmanager
def blas_single_thread():
    """Limit BLAS to one thread while any fit or predict of ours runs.

    Our own threads split the work; BLAS threads inside them would
    oversubscribe the cores. Reference-counted, so concurrent fits in several
    threads restore the user's setting only when the last one ends.
    """
    with _blas_lock:
        if _blas_state["users"] == 0:
            controller = _blas_controller()
            _blas_state["restore"] = controller.limit(limits=1, user_api="blas")
        _blas_state["users"] += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_state["users"] -= 1
            if _blas_state["users"] == 0:
                _blas_state["restore"].restore_original_limits()
                _blas_state["restore"] = None


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


class LSTMNetwork:
    """Shapes and parameter layout of a stacked LSTM with a dense head.

    Parameters
    ----------
    n_features : int
        Features per time step.
    units : tuple of int
        Hidden size of each stacked layer.
    n_outputs : int
        Width of the dense head.
    loss : {'mse', 'binary', 'softmax', 'pinball'}
    dtype : numpy dtype
        float32 or float64.
    quantiles : array-like of shape (n_outputs,), optional
        Quantile of each output column for the pinball loss.
    """

    def __init__(self, n_features, units, n_outputs, loss, dtype, quantiles=None):
        self.n_features = int(n_features)
        self.units = tuple(int(u) for u in units)
        self.n_outputs = int(n_outputs)
        self.loss = loss
        self.loss_code = LOSSES[loss]
        self.dtype = np.dtype(dtype)
        q = np.zeros(self.n_outputs) if quantiles is None else np.asarray(quantiles, float)
        self.quantiles = np.ascontiguousarray(q, dtype=self.dtype)

        rows = []
        offset = 0
        n_in = self.n_features
        for H in self.units:
            o_ih = offset
            o_hh = o_ih + 4 * H * n_in
            o_b = o_hh + 4 * H * H
            offset = o_b + 4 * H
            rows.append((n_in, H, o_ih, o_hh, o_b))
            n_in = H
        self.layers = np.array(rows, dtype=np.int64).reshape(len(rows), 5)
        o_w = offset
        o_bias = o_w + self.n_outputs * n_in
        offset = o_bias + self.n_outputs
        self.head = np.array([n_in, self.n_outputs, o_w, o_bias], dtype=np.int64)
        self.n_params = offset

    # ------------------------------------------------------------------ params
    def tensors(self, theta):
        """Named views into ``theta`` (PyTorch names, no copies)."""
        out = {}
        for k, (n_in, H, o_ih, o_hh, o_b) in enumerate(self.layers.tolist()):
            out[f"weight_ih_l{k}"] = theta[o_ih : o_ih + 4 * H * n_in].reshape(4 * H, n_in)
            out[f"weight_hh_l{k}"] = theta[o_hh : o_hh + 4 * H * H].reshape(4 * H, H)
            out[f"bias_l{k}"] = theta[o_b : o_b + 4 * H]
        n_in, K, o_w, o_bias = self.head.tolist()
        out["head.weight"] = theta[o_w : o_w + K * n_in].reshape(K, n_in)
        out["head.bias"] = theta[o_bias : o_bias + K]
        return out

    def init_params(self, rng, unit_forget_bias=True):
        """Keras' initialisation: Glorot-uniform input and head weights,
        orthogonal recurrent weights, zero biases (forget gate 1)."""
        theta = np.zeros(self.n_params, dtype=self.dtype)
        views = self.tensors(theta)
        for k, (n_in, H, *_) in enumerate(self.layers.tolist()):
            limit = np.sqrt(6.0 / (n_in + 4 * H))
            views[f"weight_ih_l{k}"][...] = rng.uniform(-limit, limit, size=(4 * H, n_in))
            q, r = np.linalg.qr(rng.standard_normal((4 * H, H)))
            views[f"weight_hh_l{k}"][...] = q * np.sign(np.diag(r))
            if unit_forget_bias:
                views[f"bias_l{k}"][H : 2 * H] = 1.0
        n_in, K = int(self.head[0]), int(self.head[1])
        limit = np.sqrt(6.0 / (n_in + K))
        views["head.weight"][...] = rng.uniform(-limit, limit, size=(K, n_in))
        return theta

    def state_dict(self, theta):
        """Copies of the tensors under ``torch.nn.LSTM`` + ``nn.Linear`` names.

        The one bias per gate is given as ``bias_ih_l{k}``; ``bias_hh_l{k}``
        is all zeros, so that ``torch`` computes the same function.
        """
        out = {}
        for name, view in self.tensors(theta).items():
            if name.startswith("bias_l"):
                k = name[len("bias_l") :]
                out[f"bias_ih_l{k}"] = view.copy()
                out[f"bias_hh_l{k}"] = np.zeros_like(view)
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
            if name.startswith("bias_l"):
                k = name[len("bias_l") :]
                parts = [state[f"bias_ih_l{k}"], state[f"bias_hh_l{k}"]]
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
        return np.array_split(idx, n_parts)

    def loss_grad(self, theta, X, Y, sw, idx, grads, pool=None, batch_weight=None):
        """Weighted mean loss of the rows ``idx`` and its gradient.

        The gradient of each part goes to a row of ``grads``
        (shape ``(N_CHUNKS, n_params)``); :meth:`apply` sums them.
        Returns ``(loss, n_parts)``.
        """
        parts = self.chunks(idx)
        denom = float(idx.size) if batch_weight is None else float(batch_weight)
        scale = 1.0 / denom

        def run(p):
            return self._part_loss_grad(theta, grads, p, X, Y, sw, parts[p], scale)

        if pool is not None and len(parts) > 1:
            futures = [pool.submit(run, p) for p in range(1, len(parts))]
            total = run(0) + sum(f.result() for f in futures)
        else:
            total = sum(run(p) for p in range(len(parts)))
        return total / denom, len(parts)

    # The forward pass, head and BPTT of one part are a handful of kernel calls
    # made from Python: one compiled orchestration function (lists of arrays,
    # every kernel linked and optimised again inside it) cost about 3 s of the
    # first fit's compilation, the calls cost ~20 us per part. Buffers live in
    # a workspace per part, reused by every minibatch: no allocation per step.
    def _part_loss_grad(self, theta, grads, p, X, Y, sw, idx, scale):
        T = X.shape[1]
        b = idx.size
        ws = self._workspace(p, T, b)
        x = ws.view("x", T, b, self.n_features)
        cpu.gather_time_major(X, idx, x)
        inputs, states = [x], []
        for k, (w_ih, w_hh, bias) in enumerate(self._views(theta)):
            H = self.units[k]
            gates = ws.view(f"gates{k}", T, b, 4 * H)
            c = ws.view(f"c{k}", T + 1, b, H)
            h = ws.view(f"h{k}", T + 1, b, H)
            c[0] = 0.0
            h[0] = 0.0
            cpu.lstm_layer_forward(inputs[k], w_ih, w_hh, bias, gates, c, h)
            states.append((gates, c, h))
            inputs.append(h[1:])
        w_out, b_out = self._head_views(theta)
        gw_out, gb_out = self._head_views(grads[p])
        K = self.n_outputs
        dh = ws.view("dh", T, b, self.units[-1])
        dh[: T - 1] = 0.0
        loss = cpu.head_loss_grad(
            states[-1][2][T], w_out, b_out, gw_out, gb_out, Y, sw, idx, self.loss_code,
            self.quantiles, scale, ws.view("z", b, K), ws.view("yb", b, K), ws.view("swb", b),
            ws.view("dz", b, K), dh[T - 1],
        )
        params = self._views(theta)
        for k in range(len(self.units) - 1, -1, -1):
            w_ih, w_hh, _ = params[k]
            gw_ih, gw_hh, gb = self._views(grads[p])[k]
            if k > 0:
                dx = ws.view("dx", T, b, self.layers[k, 0])
            else:
                dx = ws.empty
            gates, c, h = states[k]
            cpu.lstm_layer_backward(inputs[k], w_ih, w_hh, gates, c, h, dh, gw_ih, gw_hh, gb, dx)
            ws.swap("dh", "dx")
            dh = dx
        return loss

    def _workspace(self, p, T, rows):
        spaces = self.__dict__.setdefault("_spaces", {})
        ws = spaces.get(p)
        if ws is None or ws.T != T or ws.rows < rows:
            ws = spaces[p] = _Workspace(self, T, rows)
        return ws

    def release_workspaces(self):
        """Free the scratch buffers (a fit calls this when it ends)."""
        self.__dict__.pop("_spaces", None)

    def _views(self, arr):
        """``[(w_ih, w_hh, b)]`` per layer: views into ``arr`` (theta or a gradient row)."""
        out = []
        for n_in, H, o_ih, o_hh, o_b in self.layers.tolist():
            out.append((arr[o_ih : o_ih + 4 * H * n_in].reshape(4 * H, n_in),
                        arr[o_hh : o_hh + 4 * H * H].reshape(4 * H, H),
                        arr[o_b : o_b + 4 * H]))
        return out

    def _head_views(self, arr):
        n_in, K, o_w, o_bias = self.head.tolist()
        return arr[o_w : o_w + K * n_in].reshape(K, n_in), arr[o_bias : o_bias + K]

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

    def forward(self, theta, X, n_threads=1, wt=None):
        """Outputs of the head (probabilities for classification) for 3-D ``X``.

        ``wt``: :meth:`inference_weights` of ``theta``, computed here if None.
        """
        if wt is None:
            wt = cpu.inference_weights(theta, self.layers)
        n = X.shape[0]
        out = np.empty((n, self.n_outputs), dtype=self.dtype)
        if n < PARALLEL_PREDICT_ROWS or n_threads <= 1:
            cpu.network_forward(theta, wt, self.layers, self.head, X, self.loss_code, out)
            return out
        bounds = np.linspace(0, n, n_threads + 1).astype(int)

        def run(p):
            lo, hi = bounds[p], bounds[p + 1]
            cpu.network_forward(theta, wt, self.layers, self.head, X[lo:hi], self.loss_code,
                                out[lo:hi])

        with blas_single_thread(), ThreadPoolExecutor(n_threads - 1) as pool:
            futures = [pool.submit(run, p) for p in range(1, n_threads)]
            run(0)
            for f in futures:
                f.result()
        return out

    def parameter_counts(self):
        """``[(name, output_shape_tail, n_params)]`` per layer, for ``summary()``."""
        rows = []
        for k, (n_in, H, *_) in enumerate(self.layers.tolist()):
            rows.append((f"lstm_{k}" if k else "lstm", "LSTM", H, 4 * (H * (n_in + H) + H)))
        n_in, K = int(self.head[0]), int(self.head[1])
        rows.append(("dense", "Dense", K, K * n_in + K))
        return rows


class _Workspace:
    """Flat scratch buffers for one part of a minibatch (at most ``rows`` rows).

    ``view(name, *shape)`` gives a C-contiguous array over the start of a
    buffer, so a smaller last minibatch reuses the same memory.
    """

    def __init__(self, net, T, rows):
        self.T = T
        self.rows = rows
        H_max = max(net.units)
        K = net.n_outputs
        sizes = {"x": T * rows * net.n_features, "dh": T * rows * H_max,
                 "dx": T * rows * H_max, "z": rows * K, "yb": rows * K, "dz": rows * K,
                 "swb": rows}
        for k, H in enumerate(net.units):
            sizes[f"gates{k}"] = T * rows * 4 * H
            sizes[f"c{k}"] = sizes[f"h{k}"] = (T + 1) * rows * H
        self.buffers = {name: np.empty(n, dtype=net.dtype) for name, n in sizes.items()}
        self.empty = np.empty((0, 0, 0), dtype=net.dtype)

    def view(self, name, *shape):
        return self.buffers[name][: int(np.prod(shape))].reshape(shape)

    def swap(self, a, b):
        self.buffers[a], self.buffers[b] = self.buffers[b], self.buffers[a]


def _as_numpy(value):
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    return np.asarray(value)
