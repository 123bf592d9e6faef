"""What the first fit and the first predict of a fresh process spend compiling, per function.

Each repetition is a new ``python`` process with Numba's cache pointed at a new, empty folder
(``NUMBA_CACHE_DIR``): config A shrunk to 256 windows, 2 epochs, float32 (the script of
``cold_start.py``), then one ``predict``. Numba's compile events (``numba.core.event``) give the
wall time of every compiled function, callees included; the process's CPU time gives the
import, the first fit and the first predict. CPU time, not wall time: the machine is shared.

Usage: ``python benchmarks/compile_time.py [--reps 3]``; writes ``results/compile_time.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from bench import save_table  # noqa: E402

SCRIPT = r"""
import json, time
c0 = time.process_time()
import numpy as np
from numba.core import event
from skforecast_lstm import LSTMRegressor
rng = np.random.default_rng(0)
t = np.arange(24 + 1)[None, :, None]
s = np.sin(rng.uniform(0, 6.3, (256, 1, 1)) + rng.uniform(0.05, 0.5, (256, 1, 1)) * t)
X = np.ascontiguousarray(s[:, :24], dtype=np.float32)
y = np.ascontiguousarray(s[:, 24, 0], dtype=np.float32)
events, open_ = [], {}

class Listener(event.Listener):
    def on_start(self, ev):
        open_[id(ev.data["dispatcher"]), str(ev.data["args"])] = (time.perf_counter(), len(open_))

    def on_end(self, ev):
        t0, depth = open_.pop((id(ev.data["dispatcher"]), str(ev.data["args"])))
        func = getattr(ev.data["dispatcher"], "py_func", None)
        name = getattr(func, "__name__", "?") if func is not None else "?"
        events.append({"phase": phase, "name": name, "depth": depth,
                       "s": time.perf_counter() - t0})

c1 = time.process_time()
with event.install_listener("numba:compile", Listener()):
    phase = "fit"
    est = LSTMRegressor(units=32, epochs=2, batch_size=64, random_state=0).fit(X, y)
    c2 = time.process_time()
    phase = "predict"
    est.predict(X)
    c3 = time.process_time()
print(json.dumps({"import": c1 - c0, "fit": c2 - c1, "predict": c3 - c2, "events": events}))
"""


def run_once():
    cache = tempfile.mkdtemp(prefix="skfl-compile-")
    env = dict(os.environ, NUMBA_CACHE_DIR=cache,
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                             env=env)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    runs = [run_once() for _ in range(args.reps)]
    med = {k: statistics.median(r[k] for r in runs) for k in ("import", "fit", "predict")}
    # top-level compilations (their callees included), median over the runs
    per_fn = {}
    for r in runs:
        for ev in r["events"]:
            if ev["depth"] == 0:
                per_fn.setdefault((ev["phase"], ev["name"]), []).append(ev["s"])
    n_all = statistics.median(len(r["events"]) for r in runs)
    lines = [
        "First fit and first predict in a fresh process, empty Numba cache: config A shrunk to "
        f"256 windows, 2 epochs, float32 (median of {args.reps} runs).",
        "",
        f"CPU time: imports {med['import']:.2f} s, first fit {med['fit']:.2f} s, "
        f"first predict {med['predict']:.2f} s; {n_all:.0f} compiled functions in all "
        "(callees and library overloads included).",
        "",
        "| phase | compiled function (with its callees) | wall time |",
        "|---|---|---:|",
    ]
    for (phase, name), vals in per_fn.items():
        lines.append(f"| {phase} | `{name}` | {statistics.median(vals):.2f} s |")
    save_table(lines, "compile_time")


if __name__ == "__main__":
    main()
