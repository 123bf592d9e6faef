"""The estimators' internal standardisation: per-feature statistics and their use.

Inputs (per feature, over samples and time steps) and regression targets (per
output) are standardised in float64 before they are cast to the compute dtype,
so that raw values in the thousands or millions lose no precision to float32
and the network always trains on values of unit scale.
"""

import numpy as np

__all__ = ["standard_stats", "standardize"]

# values per block of standardize: a float64 buffer that stays in the L2 cache
_BLOCK = 1 << 15


def standard_stats(values, sample_weight, name):
    """Weighted mean and standard deviation of the last axis of ``values``.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_steps, n_columns)
        Any float dtype (the statistics are computed in float64); every step
        of a sample carries the sample's weight.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative; all zero counts as uniform.
    name : str
        The argument the values came from, for error messages.

    Returns
    -------
    mean, scale : ndarray of shape (n_columns,)
        ``scale`` is 1 for constant columns, so that they map to zero.
    """
    values = np.asarray(values, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    total = w.sum()
    w = w / total if total > 0 else np.full(w.shape, 1.0 / w.size)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = np.tensordot(w, values.mean(axis=1), axes=1)
        var = np.tensordot(w, ((values - mean) ** 2).mean(axis=1), axes=1)
        scale = np.sqrt(var)
    if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
        raise ValueError(
            f"{name} has values too large to standardise in float64 (their variance "
            f"overflows); rescale {name}, e.g. divide it by a power of ten."
        )
    # a spread at rounding level of the mean is a constant column: dividing by it would
    # blow rounding noise up
    constant = (scale <= 1e-12 * np.abs(mean)) | (scale < np.finfo(np.float64).tiny)
    return mean, np.where(constant, 1.0, scale)


def standardize(values, mean, scale, dtype):
    """``(float64(values) - mean) / scale`` over the last axis, as a C-contiguous ``dtype`` array.

    Computed in blocks of rows through one small float64 buffer: the same
    operations as the whole-array expression, so the same bits, without two
    float64 temporaries of the whole input (their page faults were most of
    what standardising added to an epoch of ``partial_fit``).
    """
    values = np.asarray(values)
    out = np.empty(values.shape, dtype=dtype)
    if values.size == 0:
        return out
    n_cols = values.shape[-1]
    src = values.reshape(-1, n_cols)
    dst = out.reshape(-1, n_cols)
    rows = max(1, _BLOCK // n_cols)
    buf = np.empty((min(rows, src.shape[0]), n_cols), dtype=np.float64)
    # overflow becomes inf, which the callers' finiteness checks report by name
    with np.errstate(over="ignore", invalid="ignore"):
        for r in range(0, src.shape[0], rows):
            part = buf[: min(rows, src.shape[0] - r)]
            np.subtract(src[r : r + rows], mean, out=part, dtype=np.float64)
            np.divide(part, scale, out=part)
            dst[r : r + rows] = part
    return out
