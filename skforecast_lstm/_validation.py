"""Input checks shared by the estimators: arrays in, clear errors out.

Kernels never see anything but C-contiguous float arrays of the estimator's
dtype; everything else is refused here with a message that names the argument.
"""

import numbers
import re
from contextlib import contextmanager

import numpy as np
from sklearn.utils.validation import check_array, validate_data

__all__ = [
    "resolve_dtype", "check_units", "as_sequences", "as_tokens", "check_finite_2d", "naming_errors",
]


def resolve_dtype(dtype):
    """``'float32'``/``'float64'`` (or the NumPy types) to a NumPy dtype."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(
            f"The 'dtype' parameter must be 'float32' or 'float64' (or np.float32, "
            f"np.float64); got {dtype!r}."
        )
    return resolved


def check_units(units):
    """``units`` as a non-empty tuple of positive ints."""
    values = (units,) if isinstance(units, numbers.Integral) else units
    try:
        values = tuple(values)
    except TypeError:
        values = ()
    if not values or not all(
        isinstance(u, numbers.Integral) and not isinstance(u, bool) and u >= 1 for u in values
    ):
        raise ValueError(
            "The 'units' parameter must be a positive int or a non-empty tuple of "
            f"positive ints (one per stacked layer); got {units!r}."
        )
    return tuple(int(u) for u in values)


def _ndim(X):
    if hasattr(X, "ndim"):
        return X.ndim
    try:
        return np.asarray(X).ndim
    except (ValueError, TypeError):  # ragged lists: let check_array raise its message
        return 2


def as_sequences(estimator, X, *, reset, dtype, n_features=None):
    """Validate ``X`` and return it as a C-contiguous ``(n, T, F)`` array.

    2-D ``X`` is a table: ``n_features_in_`` and ``feature_names_in_`` follow
    scikit-learn's rules for its columns, which are read as time steps (one
    feature per step, or ``n_features`` consecutive columns per step). 3-D
    ``X`` is ``(n_samples, n_timesteps, n_features)``: ``n_features_in_`` is
    its last axis, and the number of time steps may differ between fit and
    predict.
    """
    # values beyond float32's range become inf on conversion, which the finite
    # check then reports by name; numpy's own overflow warning would only add noise
    with np.errstate(over="ignore", invalid="ignore"), naming_errors("X"):
        return _as_sequences(estimator, X, reset=reset, dtype=dtype, n_features=n_features)


@contextmanager
def naming_errors(argument):
    """Prefix ValueError/TypeError messages that do not name ``argument`` with it."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        message = str(exc)
        if type(exc) in (ValueError, TypeError) and not re.search(
            rf"\b{argument}\b", message
        ):
            raise type(exc)(f"Invalid {argument}: {message}") from exc
        raise


def _as_sequences(estimator, X, *, reset, dtype, n_features=None):
    ndim = _ndim(X)
    if ndim == 3:
        X3 = check_array(X, allow_nd=True, dtype=dtype, ensure_all_finite=True,
                         order="C", input_name="X", estimator=estimator)
        if X3.shape[1] < 1 or X3.shape[2] < 1:
            raise ValueError(
                f"X has shape {X3.shape}; a 3-D X needs at least one time step and "
                "one feature: (n_samples, n_timesteps, n_features)."
            )
        if n_features is not None and n_features != X3.shape[2]:
            raise ValueError(
                f"n_features={n_features} but X is 3-D with {X3.shape[2]} features per "
                "time step; leave n_features=None for 3-D X."
            )
        if reset:
            estimator.n_features_in_ = X3.shape[2]
            estimator._input_ndim = 3
            if hasattr(estimator, "feature_names_in_"):
                del estimator.feature_names_in_
        elif X3.shape[2] != estimator.n_features_in_ or estimator._input_ndim != 3:
            raise ValueError(_feature_mismatch(estimator, X3.shape, 3))
        return X3

    if ndim not in (2,):
        if ndim in (0, 1):
            raise ValueError(
                f"Expected a 2-D X (n_samples, n_timesteps) or a 3-D X (n_samples, "
                f"n_timesteps, n_features), got a {ndim}-D X instead. Reshape your data "
                "with X.reshape(-1, 1) if it holds a single time step per sample, or "
                "X.reshape(1, -1) if it holds a single sequence."
            )
        raise ValueError(
            f"X must be 2-D (n_samples, n_timesteps) or 3-D (n_samples, n_timesteps, "
            f"n_features); got {ndim} dimensions."
        )
    if not reset and getattr(estimator, "_input_ndim", 2) == 3:
        raise ValueError(_feature_mismatch(estimator, np.shape(X), 2))
    X2 = validate_data(estimator, X, reset=reset, dtype=dtype, ensure_all_finite=True,
                       order="C")
    step = 1 if n_features is None else int(n_features)
    if X2.shape[1] % step:
        raise ValueError(
            f"X has {X2.shape[1]} columns, which is not a multiple of n_features={step}; "
            "2-D X holds n_features consecutive columns per time step."
        )
    if reset:
        estimator._input_ndim = 2
    return X2.reshape(X2.shape[0], X2.shape[1] // step, step)


def _feature_mismatch(estimator, shape, ndim):
    name = type(estimator).__name__
    if estimator._input_ndim == 3 and ndim == 3:
        return (
            f"X has {shape[2]} features per time step, but {name} is expecting "
            f"{estimator.n_features_in_} features per time step as input."
        )
    return (
        f"X is {ndim}-D with shape {tuple(shape)}, but {name} was fitted on "
        f"{estimator._input_ndim}-D input; pass X with the same number of dimensions."
    )


def check_finite_2d(y, name, dtype, allow_nd=False):
    """Numeric targets as a float array, refusing NaN/inf with the argument's name."""
    with np.errstate(over="ignore", invalid="ignore"), naming_errors(name):
        return check_array(y, ensure_2d=False, dtype=dtype, ensure_all_finite=True,
                           input_name=name, allow_nd=allow_nd)


def as_tokens(estimator, X, *, reset, padding_idx, vocab_size):
    """Token ids as a C-contiguous int64 ``(n, T)`` array, padded with ``padding_idx``.

    ``X`` is a 2-D array-like of non-negative integers, or a list of 1-D
    integer sequences of different lengths (padded at the end). On the first
    fit the vocabulary is ``vocab_size``, or the largest id + 1.
    """
    with naming_errors("X"):
        try:
            arr = np.asarray(X)
            ragged = arr.dtype == object or arr.ndim != 2
        except ValueError:
            ragged = True
        if ragged:
            if not isinstance(X, (list, tuple)) or not len(X):
                raise ValueError(
                    "X must be a 2-D array of token ids (n_samples, n_timesteps) or a "
                    "non-empty list of 1-D token sequences when embedding_dim is set."
                )
            rows = [np.asarray(s).ravel() for s in X]
            length = max(r.size for r in rows)
            if length == 0:
                raise ValueError("X holds only empty sequences.")
            arr = np.full((len(rows), length), padding_idx,
                          dtype=np.result_type(*[r.dtype for r in rows], np.int64))
            for i, r in enumerate(rows):
                arr[i, : r.size] = r
        if arr.shape[0] == 0 or arr.shape[1] == 0:
            raise ValueError(f"X of token ids has shape {arr.shape}; it needs at least one "
                             "sample and one time step.")
        if arr.dtype.kind not in "iub":
            integral = np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
            if arr.dtype.kind != "f" or not integral:
                raise TypeError(
                    f"X must hold integer token ids when embedding_dim is set; got dtype "
                    f"{arr.dtype}."
                )
        if arr.min() < 0:
            raise ValueError(f"X holds negative token ids (min {arr.min()}); ids start at 0.")
        tokens = np.ascontiguousarray(arr, dtype=np.int64)
    top = int(tokens.max())
    if reset:
        vocab = vocab_size if vocab_size is not None else max(top, padding_idx) + 1
        if padding_idx >= vocab:
            raise ValueError(f"padding_idx={padding_idx} must be below vocab_size={vocab}.")
        estimator.vocab_size_ = int(vocab)
        estimator.n_features_in_ = 1
        estimator._input_ndim = "tokens"
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    if top >= estimator.vocab_size_:
        raise ValueError(
            f"X holds token id {top}, but the vocabulary has vocab_size_="
            f"{estimator.vocab_size_} ids (0 to {estimator.vocab_size_ - 1}); map unknown "
            "tokens to a reserved id or set vocab_size."
        )
    return tokens
