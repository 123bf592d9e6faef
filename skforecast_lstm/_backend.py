"""The plan of a fit or a predict: which device, which kernels.

``device='cpu'`` runs the Numba CPU kernels (:mod:`._kernels.cpu`);
``device='cuda'`` runs their CUDA twins (:mod:`._kernels.cuda`, driven by
:mod:`._session_cuda`); ``device='auto'`` takes the GPU when one is usable.
A :class:`Plan` is decided once per fit and once per predict
(:func:`make_plan`): the device, and whether the fused kernels of the plain
cell run or the general kernels of the Keras options (:mod:`._graph`). Every
later choice reads the plan instead of deciding again.

Nothing here touches :mod:`numba.cuda` or the GPU driver at import time: the
first fit or predict that asks for ``'cuda'`` or ``'auto'`` imports
:mod:`numba.cuda` and asks it once whether a GPU is usable; the answer is kept
for the life of the process. Under Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``, used by the tests) ``'cuda'`` runs on the
simulator, while ``'auto'`` stays on the CPU: the simulator is a debugging
tool, not a device.
"""

import functools
from typing import NamedTuple

__all__ = ["DEVICES", "Plan", "make_plan", "resolve_device", "forward", "training_session"]

DEVICES = ("auto", "cpu", "cuda")

INSTALL_HINT = (
    "pip install 'skforecast-lstm[cuda]' (numba-cuda with the CUDA 12 libraries; "
    "use numba-cuda[cu13] for CUDA 13 drivers)"
)


@functools.lru_cache(maxsize=1)
def _probe():
    """``(usable, reason, simulated)`` for this process, asked once."""
    try:
        from numba import cuda
    except ImportError as exc:  # numba without its CUDA target, no numba-cuda
        return False, f"numba.cuda cannot be imported ({exc})", False
    from numba.core import config

    if config.ENABLE_CUDASIM:
        return True, "", True
    try:
        usable = bool(cuda.is_available())
    except Exception as exc:  # a broken driver install raises instead of saying False
        return False, f"numba.cuda.is_available() failed: {exc}", False
    if usable:
        return True, "", False
    detail = ""
    cuda_error = getattr(cuda, "cuda_error", None)
    if cuda_error is not None:
        try:
            error = cuda_error()
        except Exception:  # noqa: BLE001 - only for the message
            error = None
        if error is not None:
            detail = " ({})".format(" ".join(str(error).split()))
    return (
        False,
        "numba.cuda.is_available() is False: no NVIDIA GPU, no driver, or no CUDA "
        f"libraries for numba-cuda were found{detail}",
        False,
    )


def resolve_device(device):
    """``'cpu'`` or ``'cuda'``: the device that ``device`` means here and now.

    Parameters
    ----------
    device : {'auto', 'cpu', 'cuda'}

    Returns
    -------
    str
        ``'cpu'`` or ``'cuda'``.

    Raises
    ------
    RuntimeError
        ``device='cuda'`` when no GPU is usable, with what is missing and how
        to install it.
    """
    if device == "cpu":
        return "cpu"
    if device not in DEVICES:
        raise ValueError(f"The 'device' parameter must be one of {DEVICES}; got {device!r}.")
    usable, reason, simulated = _probe()
    if device == "auto":
        return "cuda" if usable and not simulated else "cpu"
    if not usable:
        raise RuntimeError(
            f"device='cuda' was asked for, but {reason}. To train on an NVIDIA GPU, install "
            f"the CUDA extra: {INSTALL_HINT}, and check that `nvidia-smi` sees the GPU. "
            "Otherwise pass device='cpu', or device='auto' to use a GPU only when one is "
            "usable (a model fitted on a GPU predicts on the CPU after "
            "set_params(device='cpu'))."
        )
    return "cuda"


class Plan(NamedTuple):
    """What runs a fit or a predict, decided once by :func:`make_plan`."""

    device: str
    """``'cpu'`` or ``'cuda'``."""
    fused: bool
    """The fused kernels of the plain cell (else the general ones of :mod:`._graph`)."""
    dropout: float
    recurrent_dropout: float
    l2: float


def make_plan(network, device, dropout=0.0, recurrent_dropout=0.0, l2=0.0, training=True):
    """The :class:`Plan` of a fit (``training=True``) or a predict of ``network``.

    The fused kernels run plain networks (``network.plain``: one direction,
    tanh/sigmoid, last state, no embeddings) except while training with
    dropout masks. The GPU runs plain networks without dropout or ``l2``:
    ``device='auto'`` falls back to the CPU for the others, ``device='cuda'``
    refuses them (also in predict, for a model trained with them).

    Raises
    ------
    ValueError
        ``device='cuda'`` for a network the GPU kernels do not run.
    RuntimeError
        ``device='cuda'`` when no GPU is usable (see :func:`resolve_device`).
    """
    resolved = resolve_device(device)
    masked = bool(dropout or recurrent_dropout)
    if resolved == "cuda" and (not network.plain or masked or l2):
        if device == "auto":
            resolved = "cpu"
        else:
            raise ValueError(
                "device='cuda' runs the plain network (tanh cell, one direction, last state, "
                "no dropout, no l2); embedding, id_embedding, bidirectional, sequence "
                "outputs, other activations, dropout and l2 run on device='cpu'."
            )
    fused = network.plain and not (training and masked)
    return Plan(resolved, fused, dropout, recurrent_dropout, l2)


def forward(plan, network, theta, X, n_threads, wt=None, x_stats=None):
    """Head outputs of ``network`` for 3-D ``X`` as ``plan`` says.

    ``wt``: the CPU's cached inference weights (``network.inference_weights``),
    computed on the way when None; ``x_stats``: see ``LSTMNetwork.forward``.
    Returns a NumPy array in every case.
    """
    if plan.device == "cuda":
        from ._session_cuda import forward as cuda_forward

        return cuda_forward(network, theta, X)
    return network.forward(theta, X, n_threads, wt, x_stats, fused=plan.fused)


def training_session(plan, network, theta, optimizer, X, Y, sw, rng, n_threads):
    """The session of one fit on the plan's device.

    A :class:`._session_cuda.CudaSession` for the GPU, a
    :class:`._session_cpu.CpuSession` for the CPU: the same calls.
    """
    if plan.device == "cuda":
        from ._session_cuda import CudaSession

        return CudaSession(network, theta, optimizer, X, Y, sw)
    from ._session_cpu import CpuSession

    return CpuSession(network, theta, optimizer, X, Y, sw, plan, rng, n_threads)
