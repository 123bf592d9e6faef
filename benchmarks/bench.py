"""Speed of skforecast_lstm against torch.nn.LSTM (and Keras when installed), interleaved.

Five reference configurations (float32, 2 threads, one training epoch = forward + BPTT + Adam over
N windows in minibatches of ``batch``, no shuffling):

    A forecast-small   N=8192 T=24  F=1  H=32  batch=64  1 layer  regression
    B forecast-medium  N=8192 T=48  F=8  H=64  batch=128 1 layer  regression
    C seed-keras       N=4096 T=10  F=50 H=128 batch=32  1 layer  binary classification
    D long             N=2048 T=200 F=1  H=64  batch=64  1 layer  regression
    E stacked          N=8192 T=48  F=4  H=64  batch=128 2 layers regression

Each framework lives in its own worker process (so thread pools never share a process); the
controller sends the same command to each worker in turn, so machine drift hits all of them alike,
and reports medians and this package's time over PyTorch's ("ratio": of the medians; in brackets
the lowest and highest ratio of one round's two epochs, which shows how far this machine's drift
moves it).

Measured per configuration: training epoch, batch-1 predict latency (``est.predict(x)`` on a 3-D
float32 array; torch's ``model(x)`` under ``inference_mode``; Keras's ``model(x)`` traced once by
``tf.function``, as a deployed model runs: eager it steps the LSTM in Python), predict throughput
(all N windows in one call), achieved GFLOP/s of the epoch (matmul flops, an epoch counted as 3x
the forward pass) and its fraction of this machine's float32 GEMM peak (measured at the start:
1024^3 ``np.matmul`` with 2 threads). Peak memory of a fit on B is measured in a fresh process;
with ``--cold-start REPS`` the scripts of ``cold_start.py`` run into the same report.

Keras is Keras 3 on TensorFlow (``pip install -e ".[keras]"``: keras 3.15.1, tensorflow-cpu
2.21.0), in a worker of its own like the others.

Usage::

    python benchmarks/bench.py              # all configs, ours + torch (+ keras if importable)
    python benchmarks/bench.py --configs A,D --reps 5 --frameworks ours,torch
    python benchmarks/bench.py --cold-start 5   # and the cold start, in one report

Writes ``benchmarks/results/bench.md``, ``bench.json`` and ``bench.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
THREADS = 2
# the targets for the training epoch, this package's time over torch's
TRAIN_TARGETS = {"A": 0.5, "B": 0.5, "C": 0.7, "D": 0.5, "E": 0.7}

# key: (name, N, T, F, H, batch, layers, task)
CONFIGS = {
    "A": ("forecast-small", 8192, 24, 1, 32, 64, 1, "regression"),
    "B": ("forecast-medium", 8192, 48, 8, 64, 128, 1, "regression"),
    "C": ("seed-keras", 4096, 10, 50, 128, 32, 1, "binary"),
    "D": ("long", 2048, 200, 1, 64, 64, 1, "regression"),
    "E": ("stacked", 8192, 48, 4, 64, 128, 2, "regression"),
}


def make_data(key, dtype=np.float32, seed=0, n=None):
    """Deterministic noisy sinusoids; target: the next value (or whether it is above the mean)."""
    _, N, T, F, _, _, _, task = CONFIGS[key]
    N = N if n is None else n
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, size=(N, 1, F))
    freq = rng.uniform(0.05, 0.5, size=(N, 1, F))
    steps = np.arange(T + 1, dtype=np.float64)[None, :, None]
    series = np.sin(phase + freq * steps) + 0.1 * rng.standard_normal((N, T + 1, F))
    X = series[:, :T, :]
    y = series[:, T, 0] if task == "regression" else (series[:, T, 0] > X[:, :, 0].mean(1)) * 1.0
    return np.ascontiguousarray(X, dtype=dtype), np.ascontiguousarray(y, dtype=dtype)


def flops_forward(key, n=None):
    """Matmul flops of the forward pass: sum over layers of 2 * n * T * 4H * (F_in + H)."""
    _, N, T, F, H, _, L, _ = CONFIGS[key]
    n = N if n is None else n
    return float(sum(2.0 * n * T * 4 * H * (fin + H) for fin in [F] + [H] * (L - 1)))


def activation_bytes(key, dtype_size=4):
    """What BPTT keeps of one minibatch: gates (T, B, 4H), c and h (T+1, B, H) per layer."""
    _, _, T, _, H, B, L, _ = CONFIGS[key]
    return L * dtype_size * (T * B * 4 * H + 2 * (T + 1) * B * H)


def save_table(lines, name):
    """Print the Markdown ``lines`` and write them to ``results/{name}.md``; returns the text."""
    md = "\n".join(lines) + "\n"
    print(md)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{name}.md"), "w") as fh:
        fh.write(md)
    return md


# ------------------------------------------------------------------------------------------ workers
class Ours:
    label = "skforecast_lstm"

    def __init__(self, key):
        from skforecast_lstm import LSTMClassifier, LSTMRegressor

        _, N, T, F, H, B, L, task = CONFIGS[key]
        Est = LSTMRegressor if task == "regression" else LSTMClassifier
        self.est = Est(units=(H,) * L, batch_size=B, shuffle=False, random_state=0,
                       dtype="float32")
        self.X, self.y = make_data(key)
        self.kw = {} if task == "regression" else {"classes": np.array([0.0, 1.0], np.float32)}
        self.est.partial_fit(self.X[: 4 * B], self.y[: 4 * B], **self.kw)  # compile / load cache
        self.x1 = np.ascontiguousarray(self.X[:1])

    def train_epoch(self):
        self.est.partial_fit(self.X, self.y)

    def predict1(self):
        self.est.predict(self.x1)

    def predict_all(self):
        self.est.predict(self.X)


class Torch:
    label = "torch"

    def __init__(self, key):
        import torch
        from torch import nn

        torch.set_num_threads(THREADS)
        torch.manual_seed(0)
        _, N, T, F, H, B, L, task = CONFIGS[key]
        self.torch, self.B = torch, B

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(F, H, num_layers=L, batch_first=True)
                self.head = nn.Linear(H, 1)

            def forward(self, x):
                _, (h_n, _) = self.lstm(x)
                return self.head(h_n[-1]).squeeze(-1)

        self.model = Net()
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss = nn.MSELoss() if task == "regression" else nn.BCEWithLogitsLoss()
        X, y = make_data(key)
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y)
        self.x1 = self.X[:1].clone()
        self.train_epoch()

    def train_epoch(self):
        self.model.train()
        for i in range(0, self.X.shape[0], self.B):
            self.opt.zero_grad(set_to_none=True)
            loss = self.loss(self.model(self.X[i:i + self.B]), self.y[i:i + self.B])
            loss.backward()
            self.opt.step()

    def predict1(self):
        self.model.eval()
        with self.torch.inference_mode():
            self.model(self.x1)

    def predict_all(self):
        self.model.eval()
        with self.torch.inference_mode():
            self.model(self.X)


class Keras:
    label = "keras"

    def __init__(self, key):
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras

        tf = None
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            if not tf.config.threading.get_intra_op_parallelism_threads():
                tf.config.threading.set_intra_op_parallelism_threads(THREADS)
        keras.utils.set_random_seed(0)
        _, N, T, F, H, B, L, task = CONFIGS[key]
        layers = [keras.Input((T, F))]
        for k in range(L):
            layers.append(keras.layers.LSTM(H, return_sequences=k < L - 1))
        layers.append(keras.layers.Dense(1, activation="sigmoid" if task == "binary" else None))
        self.model = keras.Sequential(layers)
        self.model.compile(optimizer=keras.optimizers.Adam(1e-3),
                           loss="mse" if task == "regression" else "binary_crossentropy")
        self.X, self.y = make_data(key)
        self.B = B
        self.x1 = self.X[:1]
        self.infer = lambda x: self.model(x, training=False)
        if tf is not None:
            # eager __call__ steps the LSTM in Python (~150 ms for T=24); a traced
            # graph is what a Keras user deploys
            self.x1 = tf.constant(self.x1)
            self.infer = tf.function(self.infer)
        self.train_epoch()

    def train_epoch(self):
        self.model.fit(self.X, self.y, batch_size=self.B, epochs=1, shuffle=False, verbose=0)

    def predict1(self):
        self.infer(self.x1)  # not model.predict(): ~50 ms of overhead per call

    def predict_all(self):
        self.model.predict(self.X, batch_size=4096, verbose=0)


WORKERS = {"ours": Ours, "torch": Torch, "keras": Keras}


def _worker(kind):
    """Serve commands from stdin: 'setup KEY', 'train', 'predict1 REPS', 'predict_all', 'quit'."""
    os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))
    obj = None
    for line in sys.stdin:
        cmd = line.split()
        try:
            if cmd[0] == "setup":
                obj = None
                obj = WORKERS[kind](cmd[1])
                out = {"ok": True}
            elif cmd[0] == "train":
                t0 = time.perf_counter()
                obj.train_epoch()
                out = {"s": time.perf_counter() - t0}
            elif cmd[0] == "predict1":
                obj.predict1()
                times = []
                for _ in range(int(cmd[1])):
                    t0 = time.perf_counter()
                    obj.predict1()
                    times.append(time.perf_counter() - t0)
                out = {"s": float(np.median(times))}
            elif cmd[0] == "predict_all":
                t0 = time.perf_counter()
                obj.predict_all()
                out = {"s": time.perf_counter() - t0}
            elif cmd[0] == "versions":
                out = {"versions": _versions(kind)}
            else:
                return
        except Exception as exc:  # report, keep serving
            out = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(out), flush=True)


def _versions(kind):
    if kind == "ours":
        import numba

        import skforecast_lstm

        return f"skforecast_lstm {skforecast_lstm.__version__}, numba {numba.__version__}"
    if kind == "torch":
        import torch

        return f"torch {torch.__version__}"
    import keras

    return f"keras {keras.__version__}"


class Client:
    def __init__(self, kind):
        env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.kind = kind
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", kind],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env)

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.kind} died on {command!r}")
        out = json.loads(line)
        if "error" in out:
            raise RuntimeError(f"worker {self.kind}: {out['error']}")
        return out

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except OSError:
            pass
        self.proc.wait(timeout=30)


# ----------------------------------------------------------------------------------- measures
def gemm_peak():
    """float32 GEMM GFLOP/s of this machine with 2 BLAS threads (1024^3, best of 5)."""
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
    with threadpool_limits(THREADS, user_api="blas"):
        a @ a
        best = min(_timed(lambda: a @ a) for _ in range(5))
    return 2 * 1024**3 / best / 1e9


_CLK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _busy_ticks():
    with open("/proc/stat") as fh:
        vals = [int(v) for v in fh.readline().split()[1:9]]
    return sum(vals) - vals[3] - vals[4]  # all but idle and iowait


def wait_quiet(threshold=0.3, window=0.5, max_wait=60.0):
    """Wait (at most ``max_wait`` s) until other processes use < ``threshold`` cores.

    The machine is shared; returns the load seen last, recorded with each block.
    """
    t_end = time.perf_counter() + max_wait
    while True:
        b0 = _busy_ticks()
        time.sleep(window)
        load = (_busy_ticks() - b0) / _CLK / window
        if load < threshold or time.perf_counter() > t_end:
            return load


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


_MEMORY_SCRIPT = r"""
import sys, json, numpy as np
sys.path.insert(0, {bench!r})
from bench import make_data, CONFIGS
from skforecast_lstm import LSTMRegressor
def status(field):
    for line in open('/proc/self/status'):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
_, N, T, F, H, B, L, task = CONFIGS['B']
est = LSTMRegressor(units=H, batch_size=B, epochs=1, shuffle=False, random_state=0)
Xw, yw = make_data('B', n=4 * B)
est.fit(Xw, yw)                      # compile or load the cache before measuring
del Xw, yw, est
est = LSTMRegressor(units=H, batch_size=B, epochs=1, shuffle=False, random_state=0)
X, y = make_data('B')
try:  # hand the generator's freed float64 temporaries back to the OS (glibc)
    import ctypes; ctypes.CDLL('libc.so.6').malloc_trim(0)
except OSError:
    pass
base = status('VmRSS')                          # the process holding the data
open('/proc/self/clear_refs', 'w').write('5')   # reset the peak (VmHWM) to the current RSS
est.fit(X, y)
print(json.dumps({{'peak_over_base': status('VmHWM') - base, 'data': X.nbytes + y.nbytes}}))
"""


def peak_memory():
    """Peak resident memory a one-epoch fit on B adds to the process that holds the data.

    (Measured from the RSS after the data exist and ``malloc_trim``: the generator's float64
    temporaries would otherwise stay in the allocator's heap and hide the fit's allocations.)
    The bound allows one copy of the data plus twice the activations BPTT keeps for a
    minibatch.
    """
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT.format(bench=HERE)],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return {"error": out.stderr[-500:]}
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["activations"] = activation_bytes("B")
    res["bound"] = res["data"] + 2 * res["activations"]
    return res


def machine_info():
    info = {"python": platform.python_version(), "cpu_count": os.cpu_count(),
            "platform": platform.platform(), "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                   time.gmtime())}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["loadavg_start"] = open("/proc/loadavg").read().split()[:3]
    except OSError:
        pass
    return info


def _fmt(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.0f} us"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def run(keys, kinds, reps, lat_calls, max_wait=60.0):
    peak = gemm_peak()
    print(f"float32 GEMM peak, {THREADS} threads: {peak:.0f} GFLOP/s", flush=True)
    clients = {k: Client(k) for k in kinds}
    versions = {k: c.ask("versions")["versions"] for k, c in clients.items()}
    results = {}
    try:
        for key in keys:
            res = {k: {"train": [], "lat": [], "thr": []} for k in kinds}
            for c in clients.values():
                c.ask(f"setup {key}")
            loads = []
            for _ in range(reps):  # interleaved: A-ours, A-torch, A-ours, ...
                loads.append(wait_quiet(max_wait=max_wait))
                for k, c in clients.items():
                    res[k]["train"].append(c.ask("train")["s"])
                for k, c in clients.items():
                    res[k]["lat"].append(c.ask(f"predict1 {lat_calls}")["s"])
                for k, c in clients.items():
                    res[k]["thr"].append(c.ask("predict_all")["s"])
            row = {}
            for k in kinds:
                train = float(np.median(res[k]["train"]))
                gflops = 3 * flops_forward(key) / train / 1e9
                row[k] = {"train_s": train, "latency_s": float(np.median(res[k]["lat"])),
                          "predict_all_s": float(np.median(res[k]["thr"])),
                          "gflops": gflops, "peak_fraction": gflops / peak,
                          "train_all": res[k]["train"], "foreign_load": loads}
            results[key] = row
            _print_row(key, row)
    finally:
        for c in clients.values():
            c.close()
    return {"machine": machine_info(), "gemm_peak_gflops": peak, "versions": versions,
            "configs": {k: CONFIGS[k] for k in keys}, "results": results}


def _round_spread(ours, peer):
    """Lowest and highest ours/peer training ratio over the interleaved rounds."""
    ratios = np.asarray(ours["train_all"]) / np.asarray(peer["train_all"])
    return float(ratios.min()), float(ratios.max())


def _ratio(v):
    return f"{v:.3f}" if v >= 0.01 else f"{v:.1e}"


def _print_row(key, row):
    ours = row.get("ours")
    for k, r in row.items():
        ratio = ""
        if ours is not None and k != "ours":
            lo, hi = _round_spread(ours, r)
            ratio = (f"  ours/{k}: train {ours['train_s'] / r['train_s']:.2f}x "
                     f"(rounds {lo:.2f}-{hi:.2f}), latency "
                     f"{_ratio(ours['latency_s'] / r['latency_s'])}x, throughput time "
                     f"{ours['predict_all_s'] / r['predict_all_s']:.2f}x")
        print(f"{key} {k:6s} train {_fmt(r['train_s']):>9s} ({r['gflops']:.0f} GFLOP/s, "
              f"{100 * r['peak_fraction']:.0f}% peak)  latency {_fmt(r['latency_s']):>8s}  "
              f"predict N {_fmt(r['predict_all_s']):>9s}{ratio}", flush=True)


def markdown(report, memory=None):
    res = report["results"]
    kinds = list(next(iter(res.values())))
    peers = [k for k in kinds if k != "ours"]
    m = report["machine"]
    lines = [
        f"Machine: {m.get('cpu', '?')}, {m['cpu_count']} vCPU, Python {m['python']}; "
        f"{m['date']}; load average at start {' '.join(m.get('loadavg_start', []))}.",
        f"float32 GEMM peak with {THREADS} threads: {report['gemm_peak_gflops']:.0f} GFLOP/s. "
        f"Versions: {'; '.join(report['versions'].values())}.",
        "",
        "| config | framework | train epoch | GFLOP/s | % GEMM peak | batch-1 latency "
        "| predict N (windows/s) |"
        + "".join(f" train vs {p} (rounds) | latency vs {p} |" for p in peers),
        "|---|---|---:|---:|---:|---:|---:|" + "---:|---:|" * len(peers),
    ]
    for key, row in res.items():
        name, N = CONFIGS[key][0], CONFIGS[key][1]
        for k in kinds:
            r = row[k]
            cells = [f"{key} {name}", k, _fmt(r["train_s"]), f"{r['gflops']:.0f}",
                     f"{100 * r['peak_fraction']:.0f}", _fmt(r["latency_s"]),
                     f"{_fmt(r['predict_all_s'])} ({N / r['predict_all_s']:,.0f})"]
            for p in peers:
                if k == "ours":
                    lo, hi = _round_spread(r, row[p])
                    cells += [f"**{r['train_s'] / row[p]['train_s']:.2f}x** ({lo:.2f}-{hi:.2f})",
                              f"**{_ratio(r['latency_s'] / row[p]['latency_s'])}x**"]
                else:
                    cells += ["", ""]
            lines.append("| " + " | ".join(cells) + " |")
    if memory is not None and "error" not in memory:
        mb = 1 / 2**20
        lines += ["", f"Peak memory a one-epoch fit on B adds to the process holding the data: "
                  f"{memory['peak_over_base'] * mb:.1f} MiB; bound (data {memory['data'] * mb:.1f} "
                  f"MiB + 2 x activations {memory['activations'] * mb:.1f} MiB) = "
                  f"{memory['bound'] * mb:.1f} MiB: "
                  f"{'met' if memory['peak_over_base'] <= memory['bound'] else 'NOT met'}."]
    return "\n".join(lines) + "\n"


def plot(report, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = report["results"]
    keys = list(res)
    peers = [k for k in next(iter(res.values())) if k != "ours"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    width = 0.8 / max(1, len(peers))
    for i, p in enumerate(peers):
        x = np.arange(len(keys)) + i * width
        axes[0].bar(x, [res[k]["ours"]["train_s"] / res[k][p]["train_s"] for k in keys], width,
                    label=f"vs {p}")
        axes[1].bar(x, [res[k]["ours"]["latency_s"] / res[k][p]["latency_s"] for k in keys],
                    width, label=f"vs {p}")
    span = width * len(peers)
    for ax, title, targets in ((axes[0], "training epoch", TRAIN_TARGETS),
                               (axes[1], "batch-1 latency", dict.fromkeys(keys, 0.1))):
        ax.set_xticks(np.arange(len(keys)) + width * (len(peers) - 1) / 2)
        ax.set_xticklabels([f"{k}\n{CONFIGS[k][0]}" for k in keys], fontsize=7)
        ax.axhline(1.0, color="grey", lw=0.8)
        for i, k in enumerate(keys):  # each configuration's own target, over its bars
            ax.plot([i - width / 2, i - width / 2 + span], [targets[k]] * 2, color="tab:red",
                    lw=1.2, ls="--", label="target" if i == 0 else None)
        ax.set_title(f"{title}: skforecast_lstm time / peer time")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="A,B,C,D,E")
    ap.add_argument("--frameworks", default=None, help="default: ours,torch (+keras if importable)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--latency-calls", type=int, default=300)
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--cold-start", type=int, default=0, metavar="REPS",
                    help="also run cold_start.py's scripts REPS times into this report")
    ap.add_argument("--max-wait", type=float, default=60.0,
                    help="seconds to wait for a quiet machine before each round")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(args.worker)
        return
    kinds = args.frameworks.split(",") if args.frameworks else _available()
    keys = [k.strip().upper() for k in args.configs.split(",")]
    report = run(keys, kinds, args.reps, args.latency_calls, args.max_wait)
    memory = None if args.no_memory else peak_memory()
    report["memory_B"] = memory
    os.makedirs(RESULTS, exist_ok=True)
    md = markdown(report, memory)
    if args.cold_start:
        import cold_start

        report["cold_start"] = cold_start.measure(args.cold_start)
        md += "\n## Cold start\n\n" + "\n".join(cold_start.table_lines(report["cold_start"]))
        md += "\n"
    print()
    print(md)
    with open(os.path.join(RESULTS, "bench.md"), "w") as fh:
        fh.write(md)
    with open(os.path.join(RESULTS, "bench.json"), "w") as fh:
        json.dump(report, fh, indent=1)
    if len(kinds) > 1:
        plot(report, os.path.join(RESULTS, "bench.png"))
    print("wrote", RESULTS)


def _available():
    kinds = ["ours"]
    for mod, kind in (("torch", "torch"), ("keras", "keras")):
        ok = subprocess.run([sys.executable, "-c", f"import {mod}"], capture_output=True)
        if ok.returncode == 0:
            kinds.append(kind)
    return kinds


if __name__ == "__main__":
    main()
