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


def _visits(n=100):
    t = np.arange(n)
    return pd.DataFrame({"day": pd.date_range("2024-01-01", periods=n, freq="D").astype(str),
                         "visits": 50 + 10 * np.sin(2 * np.pi * t / 7)})


def test_cli_sorts_a_newest_first_file_and_says_so(quick, capsys):
    _visits().iloc[::-1].to_csv("desc.csv", index=False)
    assert main(["forecast", "--csv", "desc.csv", "--time-col", "day", "--steps", "7",
                 "--output", "d.png"]) == 0
    out = capsys.readouterr().out
    assert "sorted 100 rows of desc.csv by 'day', oldest first" in out
    assert "2024-04-10" in out  # the day after the newest date, not before the oldest


@pytest.mark.parametrize("case, message", [
    ("missing", "no such file: nowhere.csv"),
    ("column", "--time-col 'when' is not a column of visits.csv"),
    ("text", "holds a value that is not a number: 'n/a?' in data row 6"),
    ("date", "holds a value that is not a date: 'someday' in data row 3"),
    ("gap", "3 dates are missing from the D dates in 'day' (the first: 2024-01-11); "
            "pass --fill-gaps"),
    ("empty", "has 1 empty values (the first at date 2024-01-06 00:00:00); pass --fill-gaps"),
    ("short", "too short"),
])
def test_cli_input_errors_are_one_line_with_status_2(quick, capsys, case, message):
    frame = _visits(10 if case == "short" else 100)
    if case == "text":
        frame["visits"] = frame["visits"].astype(object)
        frame.loc[5, "visits"] = "n/a?"
    elif case == "date":
        frame.loc[2, "day"] = "someday"
    elif case == "gap":
        frame = frame.drop([10, 11, 40])
    elif case == "empty":
        frame.loc[5, "visits"] = np.nan
    frame.to_csv("visits.csv", index=False)
    csv = "nowhere.csv" if case == "missing" else "visits.csv"
    time_col = "when" if case == "column" else "day"
    status = main(["forecast", "--csv", csv, "--time-col", time_col, "--steps", "7"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("python -m skforecast_lstm: error: ")
    assert message in err, err


def test_cli_fills_gaps_when_asked(quick, capsys):
    frame = _visits().drop([10, 11, 40])
    frame.loc[50, "visits"] = np.nan
    frame.to_csv("gaps.csv", index=False)
    assert main(["forecast", "--csv", "gaps.csv", "--time-col", "day", "--steps", "7",
                 "--fill-gaps", "--output", "g.png"]) == 0
    out = capsys.readouterr().out
    assert "filled 3 missing dates and 1 empty values by linear interpolation" in out
    assert "2024-04-10" in out
