"""Peak memory of fitting LSTMRegressor on many long windows.

Fits one epoch on N windows of length T (float32, one feature) in a fresh
process and compares the peak resident memory with the data's size.

    python benchmarks/memory.py                  # 1,000,000 windows of length 64
    python benchmarks/memory.py --n 100000       # quicker

The bound this package promises: peak RSS <= baseline (interpreter + imports +
compiled kernels) + 1.25 x the float32 data + 64 MiB of per-batch work space.
Only the minibatch being processed has activations in memory, never the
whole data set's.
"""

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import numpy as np
from skforecast_lstm import LSTMRegressor

n, T, units, batch = map(int, sys.argv[1:5])
warm = LSTMRegressor(units=units, epochs=1, batch_size=batch, random_state=0)
warm.fit(np.zeros((8, T, 1), np.float32), np.zeros(8, np.float32))  # compile / load kernels
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
rng = np.random.default_rng(0)
X = rng.standard_normal((n, T, 1), dtype=np.float32)
y = X[:, -5, 0].copy()
start = time.perf_counter()
reg = LSTMRegressor(units=units, epochs=1, batch_size=batch, random_state=0).fit(X, y)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"baseline": baseline, "peak": peak, "data": X.nbytes + y.nbytes,
                  "seconds": seconds, "loss": reg.loss_curve_[-1]}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--T", type=int, default=64)
    parser.add_argument("--units", type=int, default=16)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(args.n), str(args.T), str(args.units), str(args.batch)],
        capture_output=True, text=True, check=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    mib = 2.0**20
    bound = r["baseline"] + 1.25 * r["data"] + 64 * mib
    rows = [
        ("windows x length", f"{args.n:,} x {args.T}"),
        ("data (X + y, float32)", f"{r['data'] / mib:,.0f} MiB"),
        ("baseline (imports + kernels)", f"{r['baseline'] / mib:,.0f} MiB"),
        ("peak RSS during fit", f"{r['peak'] / mib:,.0f} MiB"),
        ("peak - baseline", f"{(r['peak'] - r['baseline']) / mib:,.0f} MiB "
                            f"({(r['peak'] - r['baseline']) / r['data']:.2f} x data)"),
        ("bound", f"{bound / mib:,.0f} MiB"),
        ("within bound", "yes" if r["peak"] <= bound else "NO"),
        ("epoch time", f"{r['seconds']:.1f} s"),
    ]
    width = max(len(k) for k, _ in rows)
    text = "\n".join(f"| {k:<{width}} | {v} |" for k, v in rows)
    print(f"| {'quantity':<{width}} | value |\n|{'-' * (width + 2)}|-------|\n{text}")
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "results", "memory.md"), "w") as fh:
        fh.write(f"# Peak memory of a fit ({time.strftime('%Y-%m-%d')})\n\n| quantity | value |\n"
                 f"|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows) + "\n")
    return 0 if r["peak"] <= bound else 1


if __name__ == "__main__":
    sys.exit(main())
