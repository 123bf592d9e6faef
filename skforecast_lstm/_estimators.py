"""LSTMRegressor and LSTMClassifier: scikit-learn estimators over the network core."""

import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted

from ._backend import forward, make_plan, training_session
from ._kernels.losses import loss_rows
from ._network import ACTIVATIONS, NON_FINITE_INPUT, LSTMNetwork, Optimizer
from ._scaling import standard_stats, standardize
from ._threads import PARALLEL_PREDICT_ROWS, blas_single_thread, effective_n_threads
from ._validation import (
    as_sequences,
    as_tokens,
    check_finite_2d,
    check_units,
    naming_errors,
    resolve_dtype,
)

__all__ = ["LSTMRegressor", "LSTMClassifier"]


def _version():
    from . import __version__

    return __version__


class _BaseLSTM(BaseEstimator):
    """Shared parameters, training loop and introspection of both estimators."""

    _parameter_constraints = {
        "units": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "n_features": [Interval(Integral, 1, None, closed="left"), None],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions({"adam", "sgd"})],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "clipnorm": [Interval(Real, 0, None, closed="neither"), None],
        "shuffle": ["boolean"],
        "early_stopping": ["boolean", StrOptions({"loss"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "unit_forget_bias": ["boolean"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "recurrent_activation": [StrOptions({"sigmoid", "hard_sigmoid"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "recurrent_dropout": [Interval(Real, 0, 1, closed="left")],
        "bidirectional": ["boolean"],
        "return_sequences": ["boolean"],
        "embedding_dim": [Interval(Integral, 1, None, closed="left"), None],
        "vocab_size": [Interval(Integral, 2, None, closed="left"), None],
        "padding_idx": [Interval(Integral, 0, None, closed="left")],
        "id_embedding": [tuple, list, None],
        "decoder_units": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "output_steps": [Interval(Integral, 1, None, closed="left"), None],
        "l2": [Interval(Real, 0, None, closed="left")],
        "standardize": ["boolean"],
        "lr_schedule": [StrOptions({"constant", "plateau"})],
        "dtype": "no_validation",  # checked by resolve_dtype, which names the choices
        "n_jobs": [Integral, None],
        "device": [StrOptions({"auto", "cpu", "cuda"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        units=32,
        *,
        n_features=None,
        epochs=100,
        batch_size=32,
        learning_rate=1e-2,
        optimizer="adam",
        momentum=0.9,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        clipnorm=1.0,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        unit_forget_bias=True,
        activation="tanh",
        recurrent_activation="sigmoid",
        dropout=0.0,
        recurrent_dropout=0.0,
        bidirectional=False,
        return_sequences=False,
        embedding_dim=None,
        vocab_size=None,
        padding_idx=0,
        id_embedding=None,
        decoder_units=None,
        output_steps=None,
        l2=0.0,
        standardize=True,
        lr_schedule="constant",
        dtype="float32",
        n_jobs=None,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.units = units
        self.n_features = n_features
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.clipnorm = clipnorm
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.unit_forget_bias = unit_forget_bias
        self.activation = activation
        self.recurrent_activation = recurrent_activation
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.bidirectional = bidirectional
        self.return_sequences = return_sequences
        self.embedding_dim = embedding_dim
        self.vocab_size = vocab_size
        self.padding_idx = padding_idx
        self.id_embedding = id_embedding
        self.decoder_units = decoder_units
        self.output_steps = output_steps
        self.l2 = l2
        self.standardize = standardize
        self.lr_schedule = lr_schedule
        self.dtype = dtype
        self.n_jobs = n_jobs
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------ persistence
    def __getstate__(self):
        state = super().__getstate__()
        if "_infer_cache" in state:  # derived from _theta, rebuilt on the first predict
            state["_infer_cache"] = {}
        state["_skforecast_lstm_version"] = _version()
        return state

    def __setstate__(self, state):
        saved = state.get("_skforecast_lstm_version")
        if saved is not None and saved != _version():
            warnings.warn(
                f"This {type(self).__name__} was pickled with skforecast_lstm {saved} and is "
                f"loaded with {_version()}; predictions may differ. Refit it, or install "
                f"skforecast-lstm=={saved} to use it as it was.",
                UserWarning,
                stacklevel=2,
            )
        super().__setstate__(state)

    # ------------------------------------------------------------ input
    def _sequences(self, X, *, reset, dtype=None):
        if self.embedding_dim is not None:
            return as_tokens(self, X, reset=reset, padding_idx=self.padding_idx,
                             vocab_size=self.vocab_size)
        dtype = self._dtype() if dtype is None else dtype
        return as_sequences(self, X, reset=reset, dtype=dtype, n_features=self.n_features)

    def _scaled_inputs(self, X3, dtype):
        """``X3`` standardised with the fitted statistics, in ``dtype``; finite."""
        out = standardize(X3, self.x_mean_, self.x_scale_, dtype)
        if out.dtype != np.float64 and not np.isfinite(out).all():
            raise ValueError(
                f"X has values that, standardised with the statistics of fit, are beyond "
                f"the range of {dtype}; check X's units against the training data's."
            )
        return out

    def _sequence_steps(self, X3):
        """Output steps per sample: None (last state), the decoder's or the input's."""
        if self.decoder_units is not None:
            return self.output_steps
        return X3.shape[1] if self.return_sequences else None

    def _check_options(self):
        if (self.decoder_units is None) != (self.output_steps is None):
            raise ValueError(
                "decoder_units and output_steps go together (encoder-decoder): set both, "
                f"or neither; got decoder_units={self.decoder_units!r}, "
                f"output_steps={self.output_steps!r}."
            )
        if self.decoder_units is not None and self.return_sequences:
            raise ValueError(
                "return_sequences=True and decoder_units are two kinds of sequence output; "
                "choose one."
            )
        decoder = () if self.decoder_units is None else check_units(self.decoder_units)
        return decoder

    def _id_embedding(self):
        """``id_embedding`` as a checked ``(n_ids, dim)`` tuple, or None."""
        if self.id_embedding is None:
            return None
        spec = tuple(self.id_embedding)
        if len(spec) != 2 or not all(isinstance(v, Integral) and v >= 1 for v in spec):
            raise ValueError(
                "id_embedding must be a pair (n_ids, dim) of positive integers, e.g. "
                f"(100, 8); got {self.id_embedding!r}."
            )
        if self.embedding_dim is not None:
            raise ValueError(
                "id_embedding embeds an id feature beside float features; with "
                "embedding_dim X is token ids. Choose one."
            )
        return tuple(int(v) for v in spec)

    def _check_ids(self, X3):
        """The id feature of ``id_embedding``: integers in range, the same at every step."""
        spec = self._id_embedding()
        if spec is None:
            return
        ids = X3[:, :, -1]
        first = ids[:, :1]
        if not (np.all(ids == first) and np.all(first == np.round(first))
                and np.all((first >= 0) & (first < spec[0]))):
            raise ValueError(
                f"With id_embedding={spec}, the last feature of X must hold an integer id "
                f"in [0, {spec[0]}) that is the same at every time step of a sample."
            )

    def _build_network(self, n_features, units, decoder_units, n_outputs, dtype, quantiles):
        embedding = None
        if self.embedding_dim is not None:
            embedding = (self.vocab_size_, self.embedding_dim, self.padding_idx)
        return LSTMNetwork(
            n_features, units, n_outputs, self._loss_name(), dtype, quantiles=quantiles,
            bidirectional=self.bidirectional, embedding=embedding,
            id_embedding=self._id_embedding(),
            decoder_units=decoder_units, output_steps=self.output_steps,
            return_sequences=self.return_sequences, activation=self.activation,
            recurrent_activation=self.recurrent_activation,
        )

    def _plan(self, training):
        """The :class:`._backend.Plan` of this fit or predict: device and kernels."""
        return make_plan(self._network, self.device, self.dropout, self.recurrent_dropout,
                         self.l2, training)

    def _dtype(self):
        return resolve_dtype(self.dtype)

    def _predict_sequences(self, X, in_kernel=False):
        """``X`` for the network, and the statistics the kernel standardises it with.

        ``in_kernel``: the plain CPU kernel standardises the inputs (bit for bit
        as NumPy does) and checks that they are finite while it copies them, so
        a ready float array of a batch-1 predict skips both NumPy passes;
        returned with ``(x_mean_, x_scale_)``. Otherwise the statistics are
        None and the array is standardised already.
        """
        dtype = self._network.dtype
        if self._input_ndim == "tokens":
            return self._sequences(X, reset=False), None
        scaled = getattr(self, "x_mean_", None) is not None
        # Latency path: a ready 3-D float array skips scikit-learn's generic checks.
        if (
            type(X) is np.ndarray
            and X.ndim == 3
            and X.dtype == dtype
            and self._input_ndim == 3
            and X.shape[2] == self.n_features_in_
            and X.shape[0] > 0
            and X.shape[1] > 0
        ):
            self._check_ids(X)
            if in_kernel:
                return np.ascontiguousarray(X), (self.x_mean_, self.x_scale_) if scaled else None
            if scaled:
                X = standardize(X, self.x_mean_, self.x_scale_, dtype)
            if not np.isfinite(X).all():
                raise ValueError(NON_FINITE_INPUT)
            return np.ascontiguousarray(X), None
        if not scaled:
            X3 = as_sequences(self, X, reset=False, dtype=dtype, n_features=self.n_features)
            self._check_ids(X3)
            return X3, None
        # standardised in float64 before the cast: no precision lost to float32
        X3 = as_sequences(self, X, reset=False, dtype=[np.float64, np.float32],
                          n_features=self.n_features)
        self._check_ids(X3)
        return self._scaled_inputs(X3, dtype), None

    def _forward(self, X):
        if "_theta" not in self.__dict__:
            check_is_fitted(self, "_theta")
        network = self._network
        plan = self._plan(training=False)
        in_kernel = plan.device == "cpu" and plan.fused
        X3, stats = self._predict_sequences(X, in_kernel)
        n_threads = 1 if X3.shape[0] < PARALLEL_PREDICT_ROWS else effective_n_threads(self.n_jobs)
        wt = self._inference_weights() if in_kernel else None
        out = forward(plan, network, self._theta, X3, n_threads, wt, stats)
        # scikit-learn's convention: predictions in float64, whatever the compute dtype
        out = np.asarray(out, dtype=np.float64)
        return self._unscale_outputs(out)

    def _unscale_outputs(self, out):
        """Head outputs on the targets' own scale (regression undoes its standardisation)."""
        return out

    def _inference_weights(self):
        """Transposed weights of the fused predict, kept until the weights change.

        The cache is a dict made by fit and filled here, so predict leaves the
        estimator's ``__dict__`` as it was.
        """
        cache = self.__dict__.get("_infer_cache")
        wt = None if cache is None else cache.get("wt")
        if wt is None:
            wt = self._network.inference_weights(self._theta)
            if cache is not None:
                cache["wt"] = wt
        return wt

    # ------------------------------------------------------------ training
    def _fit(self, X, y, sample_weight, incremental, classes=None):
        dtype = self._dtype()
        units = check_units(self.units)
        first_pass = not hasattr(self, "_theta") or (not self.warm_start and not incremental)
        decoder_units = self._check_options()
        self._infer_cache = {}  # the weights are about to change
        # standardisation is decided by the first fit and kept by partial_fit/warm_start
        scaling = self.standardize if first_pass else getattr(self, "_scaled", False)
        tokens = self.embedding_dim is not None
        # float inputs stay as given (float64 would be a copy per partial_fit); the
        # statistics and the standardisation compute in float64 either way
        raw_dtype = np.float64 if scaling else dtype
        X3 = self._sequences(X, reset=first_pass,
                             dtype=[np.float64, np.float32] if scaling else dtype)
        self._check_ids(X3)
        with np.errstate(over="ignore", invalid="ignore"):  # huge labels: checked, not warned
            Y = self._encode_targets(y, first_pass, classes, X3.shape[0], raw_dtype,
                                     self._sequence_steps(X3))
        with naming_errors("sample_weight"):
            sw = _check_sample_weight(sample_weight, X3, dtype=dtype)
        sw = np.ascontiguousarray(sw * self._class_sample_weight(y), dtype=dtype)
        if not np.all(np.isfinite(sw)) or np.any(sw < 0):
            raise ValueError("sample_weight must be finite and non-negative.")
        if first_pass:
            self._scaled = bool(scaling)
            self.x_mean_ = self.x_scale_ = None
            if scaling and not tokens:
                self.x_mean_, self.x_scale_ = standard_stats(X3, sw, "X")
                if self.id_embedding is not None:  # an id is a name, not a quantity
                    self.x_mean_[-1], self.x_scale_[-1] = 0.0, 1.0
            self._fit_target_scaling(Y if scaling else None, sw)
        if self.x_mean_ is not None:
            X3 = self._scaled_inputs(X3, dtype)
        Y = self._scaled_targets(Y, dtype)

        if first_pass:
            rng = check_random_state(self.random_state)
            q = getattr(self, "quantiles_", None)
            n_outputs = self._head_width
            quantiles = self._loss_parameters(n_outputs) if q is None else np.tile(
                q, n_outputs // q.size)
            self._network = self._build_network(
                1 if X3.ndim == 2 else X3.shape[2], units, decoder_units, n_outputs, dtype,
                quantiles,
            )
            self._theta = self._network.init_params(rng, self.unit_forget_bias)
            self._optimizer = Optimizer(self.optimizer, self._network.n_params, dtype)
            self._rng = rng
            self.n_iter_ = 0
            self.t_ = 0
            self.loss_curve_ = []
            validates = self.early_stopping and not isinstance(self.early_stopping, str)
            self.validation_scores_ = [] if validates and not incremental else None
            self.validation_loss_curve_ = [] if validates and not incremental else None
            self.best_loss_ = np.inf
            self.best_validation_score_ = None
            self._no_improvement = 0
            self._lr = float(self.learning_rate)
            self._plateau = [np.inf, 0]  # best monitored loss, epochs without improvement
            self.n_timesteps_in_ = X3.shape[1]
        elif self._optimizer.name != self.optimizer:
            self._optimizer = Optimizer(self.optimizer, self._network.n_params, dtype)
        if not first_pass and (self.lr_schedule != "plateau" or not hasattr(self, "_plateau")):
            # a constant schedule follows set_params; a plateau schedule carries on
            self._lr = float(self.learning_rate)
            self._plateau = [np.inf, 0]
        return self._fit_stochastic(X3, Y, sw, incremental)

    def _fit_stochastic(self, X3, Y, sw, incremental):
        """The epochs of one ``fit`` (or the one of a ``partial_fit``) on prepared arrays."""
        plan = self._plan(training=True)
        n = X3.shape[0]
        X_val = Y_val = None
        validates = self.early_stopping and not isinstance(self.early_stopping, str)
        if validates and not incremental:
            n_val = int(np.ceil(self.validation_fraction * n))
            if n - n_val < 1:
                raise ValueError(
                    f"early_stopping needs at least 2 samples to hold out the last "
                    f"validation_fraction={self.validation_fraction} of them; got n_samples={n}."
                )
            # time order: validate on the last samples, never a random split
            X_val, Y_val, sw_val = X3[n - n_val :], Y[n - n_val :], sw[n - n_val :]
            X3, Y, sw = X3[: n - n_val], Y[: n - n_val], sw[: n - n_val]
            self._best_theta = self._theta.copy()
            self._best_val = np.inf
            val_plan = self._plan(training=False)  # no dropout masks in validation

        epochs = 1 if incremental else self.epochs
        n_threads = effective_n_threads(self.n_jobs)
        # losses below 1 % of the targets' unit are never a blow-up (e.g. a constant y)
        unit = 1.0 if self._scaled or self._network.loss in ("binary", "softmax") else float(
            np.mean(np.square(Y, dtype=np.float64))) if Y.size else 0.0
        baseline = max(self._constant_loss(Y, sw), 0.01 * unit)
        first_epoch = len(self.loss_curve_)
        self._first_batch_loss = None  # the loss at this fit's starting weights
        self.device_ = plan.device
        session = training_session(plan, self._network, self._theta, self._optimizer, X3, Y,
                                   sw, self._rng, n_threads)
        diverged = interrupted = False
        try:
            with blas_single_thread():
                for _ in range(epochs):
                    start = time.perf_counter()
                    loss, diverged = self._epoch(session, X3.shape[0])
                    if diverged:
                        break
                    session.pull(self._theta, self._optimizer)
                    self.n_iter_ += 1
                    self.loss_curve_.append(loss)
                    self.t_ += X3.shape[0]
                    message = f"Epoch {self.n_iter_}/{epochs if incremental else self.epochs}"
                    message += f" - loss: {loss:.6g}"
                    if X_val is not None:
                        val_out = forward(val_plan, self._network, self._theta, X_val,
                                          n_threads)
                        val_loss = self._loss_value(val_out, Y_val, sw_val)
                        self.validation_loss_curve_.append(val_loss)
                        self.validation_scores_.append(self._output_score(val_out, Y_val))
                        message += f" - val_loss: {val_loss:.6g}"
                    self._update_no_improvement_count(
                        loss, val_loss if X_val is not None else None, incremental)
                    if self.lr_schedule == "plateau":
                        self._schedule(val_loss if X_val is not None else loss)
                    if self.verbose:
                        print(f"{message} - {time.perf_counter() - start:.2f}s")
                    if self._no_improvement >= self.n_iter_no_change and not incremental:
                        if self.verbose:
                            print(f"Stopped: no improvement for {self.n_iter_no_change} epochs.")
                        break
        except KeyboardInterrupt:
            # as scikit-learn's MLP: keep what was learnt so far, say so, return
            interrupted = True
        finally:
            session.close()
            best_theta = self.__dict__.pop("_best_theta", None)
            self.__dict__.pop("_best_val", None)
        if X_val is not None and self.best_validation_score_ is not None:
            self._theta = best_theta
        if interrupted:
            warnings.warn(
                f"Training of {type(self).__name__} was interrupted (KeyboardInterrupt) after "
                f"{self.n_iter_} complete epochs; the model keeps the weights of its last "
                "completed gradient step" + (" (best validation epoch)" if X_val is not None
                                             else "") + " and can predict or train on.",
                UserWarning,
                stacklevel=4,
            )
        if not diverged and not interrupted:
            start = self._first_batch_loss
            self._check_blow_up(self.loss_curve_[first_epoch:],
                                max(baseline, 0.0 if start is None else start))
        if diverged:
            if self._optimizer.step == 0:
                raise ValueError(
                    f"The loss of {type(self).__name__} became NaN or infinite at the first "
                    "gradient step, so no trained weights exist. Lower learning_rate, set "
                    "clipnorm, or scale X and y (e.g. StandardScaler in a Pipeline)."
                )
            warnings.warn(
                f"Training of {type(self).__name__} diverged in epoch {self.n_iter_ + 1}: the "
                "gradient became NaN or infinite. The last finite weights were kept. Lower "
                f"learning_rate (now {self.learning_rate}), set clipnorm, or scale X and y.",
                RuntimeWarning,
                stacklevel=4,
            )
        return self

    def _update_no_improvement_count(self, loss, val_loss, incremental):
        """Count epochs without improvement of the monitored loss.

        The validation loss with early stopping (its best weights are kept),
        the training loss with ``early_stopping='loss'``, else none.
        """
        if val_loss is not None:
            if val_loss < self._best_val - self.tol:
                self._best_val = val_loss
                self._best_theta = self._theta.copy()
                self.best_validation_score_ = self.validation_scores_[-1]
                self._no_improvement = 0
            else:
                self._no_improvement += 1
        elif self.early_stopping == "loss" and not incremental:
            if loss > self.best_loss_ - self.tol:
                self._no_improvement += 1
            else:
                self._no_improvement = 0
        self.best_loss_ = min(self.best_loss_, loss)

    def _epoch(self, session, n):
        """One pass over the ``n`` training samples in minibatches; ``(loss, diverged)``."""
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        session.set_order(order.astype(np.int64))
        batch = min(self.batch_size, n)
        total = 0.0
        opt = self._optimizer
        for start in range(0, n, batch):
            stop = min(start + batch, n)
            loss, norm = session.step(start, stop, opt, self._lr, self.beta_1, self.beta_2,
                                      self.epsilon, self.momentum, self.clipnorm)
            if not (np.isfinite(norm) and np.isfinite(loss)):
                session.rollback(opt)
                return total / max(start, 1), True
            if self._first_batch_loss is None:
                self._first_batch_loss = loss
            total += loss * (stop - start)
        return total / n, False

    def _schedule(self, monitored):
        """ReduceLROnPlateau: halve the step size after a plateau of the monitored loss."""
        best, waited = self._plateau
        if monitored < best - self.tol:
            self._plateau = [monitored, 0]
            return
        waited += 1
        if waited >= max(1, self.n_iter_no_change // 2):
            lowest = self.learning_rate / 100
            if self._lr > lowest:
                self._lr = max(self._lr / 2, lowest)
                if self.verbose:
                    print(f"Learning rate reduced to {self._lr:.3g}.")
            waited = 0
        self._plateau = [best, waited]

    def _constant_loss(self, Y, sw):
        """Training loss of the best constant prediction: the yardstick of a failed fit."""
        K = self._network.n_outputs
        flat = np.asarray(Y, dtype=np.float64).reshape(-1, K)
        weights = np.repeat(np.asarray(sw, dtype=np.float64), flat.shape[0] // Y.shape[0])
        if flat.shape[0] == 0 or weights.sum() <= 0:
            return 0.0
        if self._network.loss == "pinball":
            q = self._network.quantiles
            constant = np.array([np.quantile(flat[:, k], q[k]) for k in range(K)])
        elif self._network.loss == "huber":  # near its minimiser, which lies by the median
            constant = np.median(flat, axis=0)
        else:
            constant = np.average(flat, axis=0, weights=weights)
        return self._loss_value(np.broadcast_to(constant, flat.shape), flat, weights)

    def _check_blow_up(self, curve, baseline):
        """Warn when training ended far above ``baseline`` or exploded on the way.

        ``baseline``: the larger of the best constant prediction's loss and the
        loss at the starting weights, so that a barely trained network never warns.
        """
        if not curve or not baseline > 0:
            return
        if curve[-1] > 2 * baseline:
            what = f"ended with a training loss of {curve[-1]:.4g}"
        elif max(curve) > 100 * baseline:
            what = f"reached a training loss of {max(curve):.4g} on the way"
        else:
            return
        warnings.warn(
            f"Training of {type(self).__name__} {what}, against {baseline:.4g} for the best "
            f"constant prediction or the starting weights: the optimisation blew up while "
            f"staying finite, and the model is likely garbage. The usual cause is a "
            f"learning_rate too large (now {self.learning_rate}); lower it, or bound the "
            f"steps with clipnorm (now {self.clipnorm}) and optimizer='sgd'."
            + ("" if self._scaled else " With standardize=False, also check that X and y "
               "are of unit scale."),
            RuntimeWarning,
            stacklevel=6,
        )

    def _fit_target_scaling(self, Y, sw):
        """Fit the targets' standardisation on ``Y`` (None: no standardisation)."""

    def _scaled_targets(self, Y, dtype):
        return np.ascontiguousarray(Y, dtype=dtype)

    def _loss_value(self, out, Y, sw):
        """Weighted mean loss of head outputs against encoded targets (per sample or step)."""
        K = self._network.n_outputs
        n = out.shape[0]
        out = out.reshape(-1, K)
        Y = Y.reshape(-1, K)
        rows_per_sample = out.shape[0] // n
        per = loss_rows(self._network.loss_code, out, Y, self._network.quantiles)
        return float((np.repeat(sw, rows_per_sample) * per).sum() / out.shape[0])

    def _class_sample_weight(self, y):
        return 1.0

    def _loss_parameters(self, width):
        return None

    # ------------------------------------------------------------ public API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_columns)
            Sequences. A 2-D ``X`` is read as one feature per time step, or
            ``n_features`` consecutive columns per time step.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def state_dict(self):
        """The fitted weights under PyTorch's names.

        Returns
        -------
        dict of str to ndarray
            ``weight_ih_l{k}`` ``(4H, F)``, ``weight_hh_l{k}`` ``(4H, H)``,
            ``bias_ih_l{k}`` (the one bias per gate), ``bias_hh_l{k}`` (zeros),
            ``head.weight``, ``head.bias``. Gate order (i, f, g, o), as
            ``torch.nn.LSTM`` and ``nn.Linear``.
        """
        check_is_fitted(self, "_theta")
        return self._network.state_dict(self._theta)

    def load_state_dict(self, state_dict):
        """Load weights with PyTorch's names into the fitted network.

        ``bias_ih_l{k}`` and ``bias_hh_l{k}`` are added into the one bias per
        gate. Tensors may be NumPy arrays or ``torch`` tensors.

        Parameters
        ----------
        state_dict : dict
            As returned by :meth:`state_dict` or by ``torch`` modules.

        Returns
        -------
        self : object
        """
        check_is_fitted(self, "_theta")
        self._theta = self._network.load_state_dict(state_dict)
        self._infer_cache = {}
        return self

    def summary(self, print_fn=print):
        """Print a Keras-like table of layers, output shapes and parameter counts.

        Parameters
        ----------
        print_fn : callable, default=print
            Called with each line.
        """
        check_is_fitted(self, "_theta")
        rows = self._network.summary_rows(self.n_timesteps_in_)
        lines = [f'Model: "{type(self).__name__}"']
        header = f"{'Layer (type)':<32}{'Output Shape':<22}{'Param #':>10}"
        lines += ["_" * len(header), header, "=" * len(header)]
        for name, kind, shape, count, sublayer in rows:
            label = ("  " if sublayer else "") + f"{name} ({kind})"
            lines.append(f"{label:<32}{shape:<22}{count:>10,}")
        total = sum(r[3] for r in rows if not r[4])
        lines += ["=" * len(header), f"Total params: {total:,}",
                  f"Trainable params: {total:,}", "Non-trainable params: 0", "_" * len(header)]
        for line in lines:
            print_fn(line)


class LSTMRegressor(RegressorMixin, _BaseLSTM):
    """Long short-term memory network for regression on sequences.

    A stack of LSTM layers reads each sequence; a dense layer on the last hidden
    state gives one or more outputs, trained with the mean squared error by
    backpropagation through time (Numba kernels, no deep-learning framework).

    Parameters
    ----------
    units : int or tuple of int, default=32
        Hidden size; a tuple stacks layers, e.g. ``(64, 32)``.
    n_features : int, default=None
        For 2-D ``X`` only: number of consecutive columns that form one time
        step (``None``: one column per step).
    quantiles : array-like of float, default=None
        Train with the pinball loss for these quantiles (e.g. ``[0.1, 0.5,
        0.9]``) instead of the squared error; :meth:`predict` then returns one
        column per quantile.
    loss : {'squared_error', 'absolute_error', 'huber'}, default='squared_error'
        The training loss of last-state outputs without ``quantiles``:
        ``'absolute_error'`` trains the median (the pinball loss at 0.5), which
        forecast scores such as MAE, MAPE and MASE reward; ``'huber'`` is the
        squared error within ``huber_delta`` of the target and the absolute
        error beyond (``torch.nn.HuberLoss``, Keras' ``Huber``), a mean that
        outliers pull less.
    huber_delta : float, default=1.0
        The Huber loss's threshold, in the units the network trains on: the
        standardised targets (``standardize=True``), so 1.0 is one standard
        deviation of ``y``.
    epochs : int, default=100
        Passes over the training data: all of them are run unless
        ``early_stopping`` stops training earlier.
    batch_size : int, default=32
        Samples per gradient step.
    learning_rate : float, default=1e-2
        Step size of the optimizer (the first one with ``lr_schedule='plateau'``).
    optimizer : {'adam', 'sgd'}, default='adam'
    momentum : float, default=0.9
        SGD's momentum.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-7
        Adam's constants (Keras' defaults).
    clipnorm : float or None, default=1.0
        Largest global norm of a gradient step; ``None`` disables clipping.
    shuffle : bool, default=True
        Shuffle samples every epoch.
    early_stopping : bool or 'loss', default=False
        ``True``: hold out the *last* ``validation_fraction`` of the samples
        (time order), stop when the validation loss has not improved by
        ``tol`` for ``n_iter_no_change`` epochs and restore the best weights.
        ``'loss'``: stop when the *training* loss has not improved by ``tol``
        for ``n_iter_no_change`` epochs (scikit-learn MLP's default; LSTMs
        often sit on a plateau for tens of epochs before they learn a long
        dependency, so it is off by default). ``False``: run all ``epochs``.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
        Patience of ``early_stopping``; half of it is the patience of
        ``lr_schedule='plateau'``.
    tol : float, default=1e-4
        Smallest decrease of the monitored loss that counts as improvement.
    warm_start : bool, default=False
        Continue from the previous fit's weights.
    unit_forget_bias : bool, default=True
        Initialise the forget-gate bias at 1 (as Keras).
    activation : {'tanh', 'relu', 'linear', 'sigmoid', 'hard_sigmoid'}, default='tanh'
        Nonlinearity of the candidate and of the cell output (Keras' ``activation``).
    recurrent_activation : {'sigmoid', 'hard_sigmoid'}, default='sigmoid'
        Nonlinearity of the input, forget and output gates.
    dropout : float, default=0.0
        Fraction of each LSTM layer's inputs dropped while training; one mask
        per sequence, the same at every time step (Keras).
    recurrent_dropout : float, default=0.0
        Fraction of the recurrent state dropped while training (a variational
        mask, fixed over the time steps of a sequence).
    bidirectional : bool, default=False
        Add a backward-direction twin of every layer and concatenate the two
        (Keras' ``Bidirectional``, ``torch.nn.LSTM(bidirectional=True)``).
    return_sequences : bool, default=False
        Predict at every time step: ``y`` of shape ``(n_samples, n_timesteps)``
        or ``(n_samples, n_timesteps, n_outputs)``.
    embedding_dim : int, default=None
        Read ``X`` as integer token ids (a 2-D array padded with
        ``padding_idx``, or a list of sequences of any lengths) through a
        learnt embedding of this size.
    vocab_size : int, default=None
        Number of token ids; ``None``: the largest id seen in fit + 1.
    padding_idx : int, default=0
        The padding id: padded steps never change the state (Keras'
        ``mask_zero=True``).
    id_embedding : tuple (n_ids, dim), default=None
        The last feature of ``X`` is an integer id in ``[0, n_ids)`` (a series,
        a store, a sensor), the same at every step of a sample: the network
        reads a learnt vector of ``dim`` values for it beside the other
        features at every step (an ``Embedding`` of the id concatenated to
        the inputs, in Keras' terms), and the id is not standardised. The
        forecaster's ``series_embedding`` builds on it.
    decoder_units : int or tuple of int, default=None
        Encoder-decoder: the encoder's last state is repeated ``output_steps``
        times (RepeatVector) into decoder layers of these sizes, with the dense
        head on each decoder step; ``y`` then has ``output_steps`` columns.
    output_steps : int, default=None
        Steps of the decoder (with ``decoder_units``).
    l2 : float, default=0.0
        Weight decay: ``l2 * sum(w ** 2)`` over every weight matrix is added to
        the loss (Keras' ``l2`` regulariser on the kernels).
    standardize : bool, default=True
        Standardise the input features (per feature, over samples and time
        steps) and the targets (per output) with the statistics of the first
        fit (kept by ``partial_fit`` and ``warm_start``), and undo it on the
        predictions, so that raw values in any unit train as well as scaled
        ones. The network and :meth:`state_dict` work on the standardised
        values; ``x_mean_``, ``x_scale_``, ``y_mean_``, ``y_scale_`` hold the
        statistics, and the losses are those of the standardised targets.
        Token ids (``embedding_dim``) and the id of ``id_embedding`` are not
        scaled.
    lr_schedule : {'constant', 'plateau'}, default='constant'
        ``'constant'`` keeps ``learning_rate`` (Keras' default: a long
        sequence often sits on a plateau for tens of epochs before the loss
        falls, and halving the step there cost accuracy, see
        ``docs/accuracy.md``). ``'plateau'`` halves it when the monitored
        loss (validation with ``early_stopping=True``, else training) has not
        improved by ``tol`` for ``n_iter_no_change // 2`` epochs, down to
        ``learning_rate / 100`` (Keras' ``ReduceLROnPlateau``).
    dtype : {'float32', 'float64'}, default='float32'
    n_jobs : int, default=None
        Threads per fit (at most 2: each minibatch is split in two halves).
        ``None`` uses the cores joblib leaves to this process.
    device : {'cpu', 'cuda', 'auto'}, default='cpu'
        Where fit and predict run. ``'cuda'`` runs the Numba CUDA kernels on
        an NVIDIA GPU (install ``skforecast-lstm[cuda]``) and raises a
        ``RuntimeError`` saying what is missing when no GPU is usable;
        ``'auto'`` uses the GPU only when one is usable. Results agree with
        the CPU's within floating-point rounding; the fitted weights are
        NumPy arrays whatever the device. See ``docs/gpu.md``.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation and shuffling: the same seed gives bit-identical
        results on the same machine.
    verbose : int, default=0
        Print one line per epoch.

    Attributes
    ----------
    n_features_in_ : int
        Columns of 2-D ``X``, or features per time step of 3-D ``X``.
    feature_names_in_ : ndarray of str
        Column names of a DataFrame ``X``.
    n_timesteps_in_ : int
        Time steps seen in the first fit.
    n_outputs_ : int
        Number of targets.
    quantiles_ : ndarray or None
        The sorted quantiles, when ``quantiles`` was given.
    x_mean_, x_scale_ : ndarray of shape (n_features_in_,) or None
        The inputs' standardisation (``None`` with ``standardize=False``).
    y_mean_, y_scale_ : ndarray of shape (n_outputs_,) or None
        The targets' standardisation.
    loss_curve_ : list of float
        Training loss per epoch.
    validation_loss_curve_, validation_scores_ : list of float or None
        Validation loss and R² per epoch, with ``early_stopping=True``.
    best_loss_ : float
        Lowest training loss.
    best_validation_score_ : float or None
    n_iter_ : int
        Epochs run.
    t_ : int
        Samples seen.
    device_ : {'cpu', 'cuda'}
        The device the last fit ran on (what ``device='auto'`` chose).

    See Also
    --------
    LSTMClassifier : The same network for classification.

    Examples
    --------
    >>> import numpy as np
    >>> from skforecast_lstm import LSTMRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 8, 1))
    >>> y = X[:, -3, 0]                      # the value three steps back
    >>> reg = LSTMRegressor(units=16, epochs=40, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    >>> reg.score(X, y) > 0.8
    True
    """

    _parameter_constraints = {
        **_BaseLSTM._parameter_constraints,
        "quantiles": ["array-like", None],
        "loss": [StrOptions({"squared_error", "absolute_error", "huber"})],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        units=32,
        *,
        n_features=None,
        quantiles=None,
        loss="squared_error",
        huber_delta=1.0,
        epochs=100,
        batch_size=32,
        learning_rate=1e-2,
        optimizer="adam",
        momentum=0.9,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        clipnorm=1.0,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        unit_forget_bias=True,
        activation="tanh",
        recurrent_activation="sigmoid",
        dropout=0.0,
        recurrent_dropout=0.0,
        bidirectional=False,
        return_sequences=False,
        embedding_dim=None,
        vocab_size=None,
        padding_idx=0,
        id_embedding=None,
        decoder_units=None,
        output_steps=None,
        l2=0.0,
        standardize=True,
        lr_schedule="constant",
        dtype="float32",
        n_jobs=None,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            units, n_features=n_features, epochs=epochs, batch_size=batch_size,
            learning_rate=learning_rate, optimizer=optimizer, momentum=momentum,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, clipnorm=clipnorm, shuffle=shuffle,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, tol=tol, warm_start=warm_start,
            unit_forget_bias=unit_forget_bias, activation=activation,
            recurrent_activation=recurrent_activation, dropout=dropout,
            recurrent_dropout=recurrent_dropout, bidirectional=bidirectional,
            return_sequences=return_sequences, embedding_dim=embedding_dim,
            vocab_size=vocab_size, padding_idx=padding_idx, id_embedding=id_embedding,
            decoder_units=decoder_units,
            output_steps=output_steps, l2=l2, standardize=standardize, lr_schedule=lr_schedule,
            dtype=dtype, n_jobs=n_jobs, device=device, random_state=random_state,
            verbose=verbose,
        )
        self.quantiles = quantiles
        self.loss = loss
        self.huber_delta = huber_delta

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _loss_name(self):
        if self.quantiles is None and self.loss == "squared_error":
            return "mse"
        if self.quantiles is None and self.loss == "huber":
            return "huber"
        return "pinball"  # quantiles, or the absolute error as the median's pinball loss

    def _loss_parameters(self, width):
        """The loss's parameter per output column (None for the squared error).

        The median's quantile for loss='absolute_error', the threshold for
        loss='huber'.
        """
        if self.loss == "absolute_error":
            return np.full(width, 0.5)
        if self.loss == "huber":
            return np.full(width, float(self.huber_delta))
        return None

    def _quantiles(self):
        if self.quantiles is None:
            return None
        q = np.asarray(self.quantiles, dtype=float).ravel()
        if q.size == 0 or not np.all((q > 0) & (q < 1)) or np.unique(q).size != q.size:
            raise ValueError(
                "The 'quantiles' parameter must hold distinct values strictly between 0 and 1, "
                f"e.g. [0.1, 0.5, 0.9]; got {self.quantiles!r}."
            )
        return np.sort(q)

    def _encode_targets(self, y, first_pass, classes, n, dtype, steps=None):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = check_finite_2d(y, "y", dtype, allow_nd=steps is not None)
        if y.shape[0] != n:
            raise ValueError(
                f"X and y have inconsistent numbers of samples: X has {n}, y has {y.shape[0]}."
            )
        if steps is None:
            if y.ndim not in (1, 2):
                raise ValueError(f"y must be 1-D or 2-D (n_samples, n_outputs); got {y.ndim}-D.")
            Y = y.reshape(n, -1)
            width = Y.shape[1]
        else:
            if y.ndim not in (2, 3) or y.shape[1] != steps:
                raise ValueError(
                    f"y must have shape (n_samples, {steps}) or (n_samples, {steps}, n_outputs) "
                    f"for {steps} output steps; got {y.shape}."
                )
            width = 1 if y.ndim == 2 else y.shape[2]
            Y = y.reshape(n, -1)
        if first_pass:
            self._y_ndim = y.ndim
            self.n_outputs_ = width
            q = self._quantiles()
            if q is not None and steps is not None:
                raise ValueError("quantiles are for last-state outputs; they cannot be combined "
                                 "with return_sequences or decoder_units.")
            if self.loss != "squared_error" and (q is not None or steps is not None):
                raise ValueError(
                    f"loss={self.loss!r} is for last-state outputs without quantiles: "
                    "quantiles train with the pinball loss already, and return_sequences and "
                    "decoder_units with the squared error."
                )
            self.quantiles_ = q
            self._head_width = width * (1 if q is None else q.size)
        elif width != self.n_outputs_:
            raise ValueError(
                f"y has {width} outputs, but {type(self).__name__} was fitted with "
                f"{self.n_outputs_}."
            )
        if self.quantiles_ is not None:
            # one output column per (target, quantile), target-major
            Y = np.repeat(Y, self.quantiles_.size, axis=1)
        return np.ascontiguousarray(Y, dtype=dtype)

    def _output_score(self, out, Y):
        return r2_score(Y.reshape(-1, self._head_width), out.reshape(-1, self._head_width))

    def _fit_target_scaling(self, Y, sw):
        self.y_mean_ = self.y_scale_ = self._y_center = self._y_scale = None
        if Y is None:
            return
        K = self._head_width
        center, scale = standard_stats(Y.reshape(Y.shape[0], -1, K), sw, "y")
        self._y_center, self._y_scale = center, scale  # one per head column
        per_target = 1 if self.quantiles_ is None else self.quantiles_.size
        self.y_mean_, self.y_scale_ = center[::per_target].copy(), scale[::per_target].copy()

    def _scaled_targets(self, Y, dtype):
        if self._y_center is None:
            return np.ascontiguousarray(Y, dtype=dtype)
        n = Y.shape[0]
        scaled = standardize(Y.reshape(n, -1, self._head_width), self._y_center, self._y_scale,
                             dtype)
        return scaled.reshape(Y.shape)

    def _unscale_outputs(self, out):
        center = getattr(self, "_y_center", None)
        if center is None:
            return out
        return out * self._y_scale + center

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch over ``X``, ``y``, starting from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predict targets for sequences.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_columns)
            The number of time steps may differ from the training data's
            (3-D ``X``).

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            With ``quantiles``: shape (n_samples, n_quantiles) for 1-D ``y``,
            (n_samples, n_outputs, n_quantiles) for 2-D ``y``.
        """
        out = self._forward(X)
        n = out.shape[0]
        if out.ndim == 3:  # sequence outputs (n, steps, n_outputs)
            return out[:, :, 0] if self._y_ndim == 2 else out
        if self.quantiles_ is not None:
            out = out.reshape(n, self.n_outputs_, self.quantiles_.size)
        return out[:, 0] if self._y_ndim == 1 else out

    def score(self, X, y, sample_weight=None):
        """R² of the predictions (of the quantile nearest 0.5 with ``quantiles``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        pred = self.predict(X)
        if self.quantiles_ is not None:
            pred = pred[..., int(np.argmin(np.abs(self.quantiles_ - 0.5)))]
        y = np.asarray(y)
        if y.ndim >= 2 and pred.ndim >= 2 and (self.return_sequences or self.decoder_units):
            # every (sample, step) is one observation
            steps = pred.shape[1]
            y = y.reshape(y.shape[0] * steps, -1)
            pred = pred.reshape(pred.shape[0] * steps, -1)
            if sample_weight is not None:
                sample_weight = np.repeat(sample_weight, steps)
        return r2_score(y, pred, sample_weight=sample_weight)


class LSTMClassifier(ClassifierMixin, _BaseLSTM):
    """Long short-term memory network for classifying sequences.

    Two classes: one sigmoid output and the binary log-loss; more: a softmax
    over the classes and the cross-entropy. Parameters as
    :class:`LSTMRegressor`.

    Parameters
    ----------
    units : int or tuple of int, default=32
    n_features : int, default=None
    epochs : int, default=100
    batch_size : int, default=32
    learning_rate : float, default=1e-2
    optimizer : {'adam', 'sgd'}, default='adam'
    momentum : float, default=0.9
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-7
    clipnorm : float or None, default=1.0
    shuffle : bool, default=True
    early_stopping : bool or 'loss', default=False
        As :class:`LSTMRegressor`: validation on the last
        ``validation_fraction`` of the samples (``validation_scores_`` holds
        the accuracy), or ``'loss'`` on the training loss.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    warm_start : bool, default=False
    unit_forget_bias : bool, default=True
    activation, recurrent_activation, dropout, recurrent_dropout : see LSTMRegressor
    bidirectional, return_sequences, embedding_dim, vocab_size, padding_idx : see LSTMRegressor
    id_embedding : see LSTMRegressor
    decoder_units, output_steps, l2 : see LSTMRegressor
        With ``return_sequences`` or ``decoder_units``, ``y`` holds a label
        per output step, shape ``(n_samples, n_steps)``.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes in the loss, as scikit-learn's classifiers.
    standardize : bool, default=True
        Standardise the input features as :class:`LSTMRegressor` does.
    lr_schedule : {'constant', 'plateau'}, default='constant'
    dtype : {'float32', 'float64'}, default='float32'
    n_jobs : int, default=None
    device : {'cpu', 'cuda', 'auto'}, default='cpu'
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    n_timesteps_in_ : int
    x_mean_, x_scale_ : ndarray of shape (n_features_in_,) or None
    loss_curve_ : list of float
    validation_loss_curve_, validation_scores_ : list of float or None
    best_loss_ : float
    best_validation_score_ : float or None
    n_iter_ : int
    t_ : int
    device_ : {'cpu', 'cuda'}

    See Also
    --------
    LSTMRegressor : The same network for regression.

    Examples
    --------
    >>> import numpy as np
    >>> from skforecast_lstm import LSTMClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 10, 1))
    >>> y = np.where(X[:, :, 0].sum(axis=1) > 0, "up", "down")   # sign of a running sum
    >>> clf = LSTMClassifier(units=16, epochs=40, random_state=0).fit(X, y)
    >>> clf.classes_
    array(['down', 'up'], dtype='<U4')
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    >>> clf.score(X, y) > 0.9
    True
    """

    _parameter_constraints = {
        **_BaseLSTM._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        units=32,
        *,
        n_features=None,
        class_weight=None,
        epochs=100,
        batch_size=32,
        learning_rate=1e-2,
        optimizer="adam",
        momentum=0.9,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        clipnorm=1.0,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        unit_forget_bias=True,
        activation="tanh",
        recurrent_activation="sigmoid",
        dropout=0.0,
        recurrent_dropout=0.0,
        bidirectional=False,
        return_sequences=False,
        embedding_dim=None,
        vocab_size=None,
        padding_idx=0,
        id_embedding=None,
        decoder_units=None,
        output_steps=None,
        l2=0.0,
        standardize=True,
        lr_schedule="constant",
        dtype="float32",
        n_jobs=None,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            units, n_features=n_features, epochs=epochs, batch_size=batch_size,
            learning_rate=learning_rate, optimizer=optimizer, momentum=momentum,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, clipnorm=clipnorm, shuffle=shuffle,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, tol=tol, warm_start=warm_start,
            unit_forget_bias=unit_forget_bias, activation=activation,
            recurrent_activation=recurrent_activation, dropout=dropout,
            recurrent_dropout=recurrent_dropout, bidirectional=bidirectional,
            return_sequences=return_sequences, embedding_dim=embedding_dim,
            vocab_size=vocab_size, padding_idx=padding_idx, id_embedding=id_embedding,
            decoder_units=decoder_units,
            output_steps=output_steps, l2=l2, standardize=standardize, lr_schedule=lr_schedule,
            dtype=dtype, n_jobs=n_jobs, device=device, random_state=random_state,
            verbose=verbose,
        )
        self.class_weight = class_weight

    def _loss_name(self):
        return "binary" if len(self.classes_) == 2 else "softmax"

    def _class_sample_weight(self, y):
        if self.class_weight is None:
            return 1.0
        if self.return_sequences or self.decoder_units is not None:
            raise ValueError(
                "class_weight weighs samples by their one label; with return_sequences or "
                "decoder_units (a label per step) pass sample_weight instead."
            )
        return compute_sample_weight(self.class_weight, column_or_1d(np.asarray(y)))

    def _encode_targets(self, y, first_pass, classes, n, dtype, steps=None):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        with naming_errors("y"):
            y_arr = check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=True,
                                input_name="y")
        if steps is not None:
            if y_arr.ndim != 2 or y_arr.shape[1] != steps:
                raise ValueError(
                    f"y must have shape (n_samples, {steps}): a label for each of the "
                    f"{steps} output steps; got {y_arr.shape}."
                )
            y = y_arr.reshape(-1)
        else:
            if y_arr.ndim == 2 and y_arr.shape[1] == 1:
                warnings.warn(
                    "A column-vector y was passed when a 1d array was expected. Please change "
                    "the shape of y to (n_samples,), for example using ravel().",
                    DataConversionWarning,
                    stacklevel=4,
                )
            y = column_or_1d(y_arr)
        if y_arr.shape[0] != n:
            raise ValueError(
                f"X and y have inconsistent numbers of samples: X has {n}, y has "
                f"{y_arr.shape[0]}."
            )
        with naming_errors("y"):
            check_classification_targets(y)
        if first_pass:
            if classes is not None:
                self.classes_ = np.unique(np.asarray(classes))
            else:
                self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                    f"but the data contains only one class: {self.classes_[0]!r}."
                )
            if type_of_target(self.classes_) not in ("binary", "multiclass"):
                raise ValueError(f"Unsupported class labels {self.classes_!r}.")
            self._head_width = 1 if len(self.classes_) == 2 else len(self.classes_)
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels {unseen.tolist()} not in classes {self.classes_.tolist()}."
            )
        codes = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            Y = codes.astype(float)
        else:
            Y = np.eye(len(self.classes_))[codes]
        return np.ascontiguousarray(Y.reshape(n, -1), dtype=dtype)

    def _output_score(self, out, Y):
        K = self._head_width
        out, Y = out.reshape(-1, K), Y.reshape(-1, K)
        if K == 1:
            return accuracy_score(Y[:, 0], out[:, 0] > 0.5)
        return accuracy_score(Y.argmax(axis=1), out.argmax(axis=1))

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch over ``X``, ``y``, starting from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_columns)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All classes; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        if not hasattr(self, "_theta") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _fit(self, X, y, sample_weight, incremental, classes=None):
        if incremental and hasattr(self, "classes_") and classes is not None:
            if not np.array_equal(self.classes_, np.unique(np.asarray(classes))):
                raise ValueError(
                    f"classes={np.asarray(classes).tolist()} is not the same as on the first "
                    f"call to partial_fit: {self.classes_.tolist()}."
                )
        return super()._fit(X, y, sample_weight, incremental, classes)

    def predict_proba(self, X):
        """Probability of each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_columns)

        Returns
        -------
        ndarray of shape (n_samples, n_classes) or (n_samples, n_steps, n_classes)
            Columns in the order of ``classes_``; one row per output step with
            ``return_sequences`` or ``decoder_units``.
        """
        out = self._forward(X)
        if out.shape[-1] == 1:
            return np.concatenate([1 - out, out], axis=-1)
        return out

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_columns)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_columns)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_steps)
        """
        out = self._forward(X)
        if out.shape[-1] == 1:
            # binary: argmax of [1 - p, p] is p > 0.5 (ties to classes_[0]), without the
            # two-column copy (a few us of a batch-1 predict)
            return self.classes_[(out[..., 0] > 0.5).astype(np.intp)]
        return self.classes_[np.argmax(out, axis=-1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy (over every output step with sequence outputs).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_steps)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        pred = self.predict(X)
        y = np.asarray(y)
        if pred.ndim == 2:
            if sample_weight is not None:
                sample_weight = np.repeat(sample_weight, pred.shape[1])
            y, pred = y.reshape(-1), pred.reshape(-1)
        return accuracy_score(y, pred, sample_weight=sample_weight)
