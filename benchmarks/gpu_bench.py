"""Time the CUDA kernels against torch.nn.LSTM (cuDNN) on one NVIDIA GPU.

NOT YET RUN ON A GPU: written and checked for syntax only, in a session
without one (see docs/gpu.md). Run it on a machine with an NVIDIA GPU, a
CUDA build of torch and ``pip install 'skforecast-lstm[cuda]'``::

    python benchmarks/gpu_bench.py                       # the full grid
    python benchmarks/gpu_bench.py --batch 64 256 --hidden 64 --repeats 5

For every (batch, hidden) pair it reports the milliseconds of

- ``train``: one minibatch of forward + BPTT + Adam step with clipping, on
  data already on the device (ours: ``CudaSession.step``; torch: LSTM +
  Linear, MSE, ``backward``, ``clip_grad_norm_``, ``Adam.step``);
- ``predict``: forward of the batch only (ours: ``network_forward``; torch:
  under ``no_grad``);

as medians over ``--repeats`` runs after ``--warmup`` runs, with the device
synchronised around each. Before timing, each pair also checks that both
compute the same function: the same weights (through ``state_dict``) must
give the same predictions within float32 rounding, so that a fast wrong
kernel cannot win.
"""

import argparse
import statistics
import sys
import time

import numpy as np


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, nargs="+", default=[64, 256, 1024, 4096])
    p.add_argument("--hidden", type=int, nargs="+", default=[64, 128, 256, 512])
    p.add_argument("--steps", type=int, default=32, help="time steps per sequence")
    p.add_argument("--features", type=int, default=8)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--csv", default=None, help="also write the table to this CSV file")
    return p.parse_args(argv)


def require_gpu():
    try:
        import torch
    except ImportError:
        sys.exit("gpu_bench needs torch with CUDA: pip install torch (a CUDA build).")
    if not torch.cuda.is_available():
        sys.exit("gpu_bench needs an NVIDIA GPU: torch.cuda.is_available() is False.")
    from skforecast_lstm._backend import resolve_device

    resolve_device("cuda")  # raises with what is missing (numba-cuda, driver)
    return torch


def _median_ms(fn, sync, repeats, warmup):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def bench_pair(torch, B, H, args, torch_device="cuda"):
    from numba import cuda

    from skforecast_lstm._kernels import cuda as kernels
    from skforecast_lstm._network import LSTMNetwork, Optimizer
    from skforecast_lstm._session_cuda import CudaSession

    T, F = args.steps, args.features
    rng = np.random.default_rng(0)
    X = rng.normal(size=(B, T, F)).astype(np.float32)
    Y = rng.normal(size=(B, 1)).astype(np.float32)
    sw = np.ones(B, np.float32)

    net = LSTMNetwork(F, (H,), 1, "mse", np.float32)
    theta = net.init_params(np.random.RandomState(0))
    opt = Optimizer("adam", net.n_params, np.float32)
    session = CudaSession(net, theta, opt, X, Y, sw)
    session.set_order(np.arange(B))
    theta_d = cuda.to_device(theta)
    X_d = cuda.to_device(X)
    out_d = cuda.device_array((B, 1), np.float32)
    ws = kernels.Workspace()

    def ours_predict():
        kernels.network_forward(theta_d, net.layers, net.head, X_d, net.loss_code, out_d, ws)

    def ours_train():
        session.step(0, B, opt, 1e-3, 0.9, 0.999, 1e-7, 0.9, 1.0)

    dev = torch.device(torch_device)
    lstm = torch.nn.LSTM(F, H, batch_first=True).to(dev)
    head = torch.nn.Linear(H, 1).to(dev)
    state = net.state_dict(theta)
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            param.copy_(torch.from_numpy(state[name]))
        head.weight.copy_(torch.from_numpy(state["head.weight"]))
        head.bias.copy_(torch.from_numpy(state["head.bias"]))
    params = list(lstm.parameters()) + list(head.parameters())
    torch_opt = torch.optim.Adam(params, lr=1e-3, eps=1e-7)
    Xt = torch.from_numpy(X).to(dev)
    Yt = torch.from_numpy(Y).to(dev)

    def torch_predict():
        with torch.no_grad():
            return head(lstm(Xt)[0][:, -1])

    def torch_train():
        torch_opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(head(lstm(Xt)[0][:, -1]), Yt)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        torch_opt.step()

    # the same function before any timing
    ours_predict()
    expected = torch_predict().cpu().numpy()
    np.testing.assert_allclose(out_d.copy_to_host(), expected, rtol=1e-3, atol=1e-4)

    sync_ours = cuda.synchronize
    sync_torch = torch.cuda.synchronize if torch_device == "cuda" else (lambda: None)
    r, w = args.repeats, args.warmup
    return {
        "batch": B,
        "hidden": H,
        "ours_train_ms": _median_ms(ours_train, sync_ours, r, w),
        "torch_train_ms": _median_ms(torch_train, sync_torch, r, w),
        "ours_predict_ms": _median_ms(ours_predict, sync_ours, r, w),
        "torch_predict_ms": _median_ms(torch_predict, sync_torch, r, w),
    }


def main(argv=None):
    args = parse_args(argv)
    torch = require_gpu()
    rows = []
    print(f"T={args.steps} F={args.features} float32, {torch.cuda.get_device_name()}")
    header = f"{'batch':>6} {'hidden':>6} | {'train ours':>10} {'torch':>8} {'ratio':>6} | " \
             f"{'predict ours':>12} {'torch':>8} {'ratio':>6}   (ms, medians)"
    print(header)
    for B in args.batch:
        for H in args.hidden:
            row = bench_pair(torch, B, H, args)
            rows.append(row)
            tr = row["ours_train_ms"] / row["torch_train_ms"]
            pr = row["ours_predict_ms"] / row["torch_predict_ms"]
            print(f"{B:>6} {H:>6} | {row['ours_train_ms']:>10.3f} {row['torch_train_ms']:>8.3f} "
                  f"{tr:>6.2f} | {row['ours_predict_ms']:>12.3f} "
                  f"{row['torch_predict_ms']:>8.3f} {pr:>6.2f}", flush=True)
    if args.csv:
        import csv

        with open(args.csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return rows


if __name__ == "__main__":
    main()
