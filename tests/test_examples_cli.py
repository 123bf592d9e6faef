"""The command line, in quick mode (tests/test_examples.py runs the examples)."""

import pathlib

import numpy as np
import pandas as pd
import pytest

from skforecast_lstm.__main__ import main

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def quick(monkeypatch, tmp_path):
    monkeypatch.setenv("SKFORECAST_LSTM_QUICK", "1")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_without_arguments_forecasts_the_bundled_series(quick, capsys):
    pytest.importorskip("matplotlib")
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "24-step forecast of bundled Mauna Loa CO2" in out
    assert "2002-01-01" in out and "lower" in out
    assert (quick / "forecast.png").stat().st_size > 10_000


def test_cli_on_a_user_csv(quick, capsys):
    t = np.arange(100)
    pd.DataFrame({"day": pd.date_range("2024-01-01", periods=100, freq="D").astype(str),
                  "visits": 50 + 10 * np.sin(2 * np.pi * t / 7)}).to_csv("visits.csv",
                                                                          index=False)
    args = ["forecast", "--csv", "visits.csv", "--time-col", "day", "--value-col", "visits",
            "--steps", "7", "--output", "v.png"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "7-step forecast of visits.csv" in out and "2024-04-10" in out
    with pytest.raises(SystemExit, match="'when' is not a column"):
        main(["forecast", "--csv", "visits.csv", "--time-col", "when"])
