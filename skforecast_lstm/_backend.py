"""Device selection: which kernels run a fit or a predict.

``device='cpu'`` runs the Numba CPU kernels (:mod:`._kernels.cpu`);
``device='cuda'`` runs their CUDA twins (:mod:`._kernels.cuda`, driven by
:mod:`._network_cuda`); ``device='auto'`` takes the GPU when one is usable.

Nothing here touches :mod:`numba.cuda` or the GPU driver at import time: the
first fit or predict that asks for ``'cuda'`` or ``'auto'`` imports
:mod:`numba.cuda` and asks it once whether a GPU is usable; the answer is kept
for the life of the process. Under Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``, used by the tests) ``'cuda'`` runs on the
simulator, while ``'auto'`` stays on the CPU: the simulator is a debugging
tool, not a device.
"""

import functools

__all__ = ["DEVICES", "resolve_device", "forward", "training_session"]

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


def forward(network, theta, X, n_threads, device, wt=None):
    """Head outputs of ``network`` for 3-D ``X`` on ``device`` (a resolved one).

    ``wt``: the CPU's cached inference weights (``network.inference_weights``),
    computed on the way when None. Returns a NumPy array in every case.
    """
    if device == "cuda":
        from ._network_cuda import forward as cuda_forward

        return cuda_forward(network, theta, X)
    return network.forward(theta, X, n_threads, wt)


def training_session(network, theta, optimizer, X, Y, sw, device):
    """A :class:`._network_cuda.CudaSession` for ``device='cuda'``; ``None`` on the CPU."""
    if device != "cuda":
        return None
    from ._network_cuda import CudaSession

    return CudaSession(network, theta, optimizer, X, Y, sw)
