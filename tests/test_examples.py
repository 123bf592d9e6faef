"""Every script in examples/ runs as a user would run it, in quick mode, and writes its figure.

The scripts are found by glob, so an example added to the folder is tested without editing
this file. Each runs in a fresh interpreter with ``SKFORECAST_LSTM_QUICK=1`` (tiny data, few
epochs), warnings as errors, and ``SKFORECAST_LSTM_OUTDIR`` pointing to a temporary folder.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_there_are_examples():
    assert EXAMPLES, "examples/ holds no scripts"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs_in_quick_mode_and_writes_a_png(script, tmp_path):
    outdir = tmp_path / "out"
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    env = dict(
        os.environ,
        SKFORECAST_LSTM_QUICK="1",
        SKFORECAST_LSTM_OUTDIR=str(outdir),
        MPLBACKEND="Agg",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    command = [
        sys.executable, "-W", "error",
        # as in pyproject's filterwarnings: loky may not count cores inside containers
        "-W", "ignore:Could not find the number of physical cores:UserWarning",
        str(script),
    ]
    result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, (
        f"{script.name} failed (exit {result.returncode}):\n{result.stderr[-4000:]}"
    )
    assert result.stdout.strip(), f"{script.name} printed no results"
    figures = sorted(outdir.rglob("*.png"))
    assert figures, (
        f"{script.name} wrote no PNG into SKFORECAST_LSTM_OUTDIR; it wrote "
        f"{sorted(p.name for p in workdir.rglob('*'))} into its working folder"
    )
    for figure in figures:
        assert figure.read_bytes()[:8] == PNG_SIGNATURE, f"{figure.name} is not a PNG"
