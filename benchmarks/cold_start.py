"""Cold start: wall time from a fresh ``python`` process to a fitted small model.

Config A shrunk to 256 windows (T=24, F=1, 32 units, batch 64) and 2 epochs, float32. Every
measurement is a new process (interpreter start and imports included), run in turn:

- ``empty cache``: skforecast_lstm with Numba's cache pointed at a new, empty folder
  (``NUMBA_CACHE_DIR``), so every kernel is compiled in this process;
- ``warm cache``: the same folder again, filled by the previous run;
- ``warm, default locator``: no ``NUMBA_CACHE_DIR``, Numba's own ``__pycache__`` next to the
  sources, what a user of a writable install gets (after one warm-up run);
- ``joblib worker``: a fit inside a loky worker of a fresh parent, warm cache (the cache must be
  found from another process);
- ``torch``: the same script in PyTorch (``import torch`` included).

Usage: ``python benchmarks/cold_start.py [--reps 5]``; writes ``results/cold_start.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
sys.path.insert(0, HERE)

from bench import save_table  # noqa: E402

DATA = """
import numpy as np
rng = np.random.default_rng(0)
t = np.arange(24 + 1)[None, :, None]
s = np.sin(rng.uniform(0, 6.3, (256, 1, 1)) + rng.uniform(0.05, 0.5, (256, 1, 1)) * t)
X = np.ascontiguousarray(s[:, :24], dtype=np.float32)
y = np.ascontiguousarray(s[:, 24, 0], dtype=np.float32)
"""

OURS = DATA + """
from skforecast_lstm import LSTMRegressor
est = LSTMRegressor(units=32, epochs=2, batch_size=64, random_state=0).fit(X, y)
assert est.n_iter_ == 2
"""

OURS_JOBLIB = DATA + """
from joblib import Parallel, delayed
def fit(X, y):
    from skforecast_lstm import LSTMRegressor
    return LSTMRegressor(units=32, epochs=2, batch_size=64, random_state=0).fit(X, y).n_iter_
assert Parallel(n_jobs=2)(delayed(fit)(X, y) for _ in range(2)) == [2, 2]
"""

TORCH = DATA + """
import torch
from torch import nn
torch.set_num_threads(2)
torch.manual_seed(0)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 32, batch_first=True)
        self.head = nn.Linear(32, 1)
    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[-1]).squeeze(-1)
model = Net()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
for epoch in range(2):
    perm = torch.randperm(256)
    for i in range(0, 256, 64):
        b = perm[i:i + 64]
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(Xt[b]), yt[b])
        loss.backward()
        opt.step()
"""


def run_script(code, env_extra=None):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("NUMBA_CACHE_DIR", None)
    env.update(env_extra or {})
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return dt


def has_torch():
    check = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True)
    return check.returncode == 0


def measure(reps):
    """Run every script ``reps`` times in turn; returns ``{run: [seconds, ...]}``."""
    rows = {"empty cache": [], "warm cache": [],
            "warm, default locator": [], "joblib worker (warm)": []}
    torch_ok = has_torch()
    if torch_ok:
        rows["torch"] = []
    run_script(OURS)  # fill the default (__pycache__) locator's cache once
    for rep in range(reps):
        with tempfile.TemporaryDirectory(prefix="skfl-numba-cache-",
                                         ignore_cleanup_errors=True) as cache:
            rows["empty cache"].append(run_script(OURS, {"NUMBA_CACHE_DIR": cache}))
            rows["warm cache"].append(run_script(OURS, {"NUMBA_CACHE_DIR": cache}))
        rows["warm, default locator"].append(run_script(OURS))
        rows["joblib worker (warm)"].append(run_script(OURS_JOBLIB))
        if torch_ok:
            rows["torch"].append(run_script(TORCH))
        print(f"cold start rep {rep + 1}: "
              + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in rows.items()), flush=True)
    return rows


def table_lines(rows):
    """The Markdown table of :func:`measure`'s result: medians, ranges, ratio to torch."""
    med = {k: float(np.median(v)) for k, v in rows.items()}
    torch_s = med.get("torch")
    reps = len(next(iter(rows.values())))
    lines = [
        "Fresh process to a fitted model: config A shrunk to 256 windows, 2 epochs, float32 "
        f"(median of {reps} runs, wall time of the whole process).",
        "",
        "| run | time (range) | vs torch |",
        "|---|---:|---:|",
    ]
    for k, v in med.items():
        ratio = f"{v / torch_s:.2f}x" if torch_s else "-"
        lines.append(f"| {k} | {v:.2f} s ({min(rows[k]):.2f}-{max(rows[k]):.2f}) | {ratio} |")
    lines += ["", "Targets: warm cache <= 1.5x torch; empty cache < 10 s."]
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    rows = measure(args.reps)
    print()
    save_table(table_lines(rows), "cold_start")
    with open(os.path.join(RESULTS, "cold_start.json"), "w") as fh:
        json.dump({"runs": rows,
                   "median": {k: float(np.median(v)) for k, v in rows.items()}}, fh, indent=1)


if __name__ == "__main__":
    main()
