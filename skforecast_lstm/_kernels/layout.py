"""Where each tensor of a network lives in its flat parameter vector.

A network's parameters (and each gradient) are one flat array. A layout row
per LSTM layer and direction, ``(n_in, H, o_ih, o_hh, o_b)``, and the head's
row, ``(n_in, K, o_w, o_b)``, give the offsets (``LSTMNetwork.layers`` and
``LSTMNetwork.head``). These two functions are the only place that turns
offsets into tensors: the CPU and CUDA paths call them on NumPy and device
arrays, and the compiled CPU kernels inline the same source
(``jit_inline(head_views)``). Views, never copies.
"""

__all__ = ["layer_views", "head_views"]


def layer_views(arr, row):
    """``(w_ih (4H, n_in), w_hh (4H, H), bias (4H,))`` of one layout row of ``arr``."""
    n_in = int(row[0])
    G = 4 * int(row[1])
    o_ih = int(row[2])
    o_hh = int(row[3])
    o_b = int(row[4])
    return (arr[o_ih : o_ih + G * n_in].reshape(G, n_in),
            arr[o_hh : o_hh + G * (G // 4)].reshape(G, G // 4),
            arr[o_b : o_b + G])


def head_views(arr, head):
    """``(weight (K, n_in), bias (K,))`` of the dense head of ``arr``."""
    n_in = int(head[0])
    K = int(head[1])
    o_w = int(head[2])
    o_b = int(head[3])
    return arr[o_w : o_w + K * n_in].reshape(K, n_in), arr[o_b : o_b + K]
