"""The needs command as a user runs it: exit codes, one-line errors, no traceback, nothing half-written."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from conftest import B1_HEADER, SHARED_DATA, b1_rows, needs_shared, write_csv


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "analysis.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def assert_user_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


def test_indicators_on_real_data_writes_contract_columns(tmp_path):
    needs_shared()
    out = tmp_path / "t.csv"
    r = run("indicators", "--data-dir", SHARED_DATA, "--year", "2024", "--la", "808", "darlington", "--out", out)
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(out, dtype={"area_code": str, "old_la_code": str})
    contract = ["indicator", "time_period", "geographic_level", "area_code", "old_la_code", "area_name", "numerator",
                "denominator", "value", "lower_95", "upper_95", "lower_99_8", "upper_99_8", "status", "sn_mean",
                "sn_n", "region_value", "england_value", "vs_england", "vs_sn", "rank", "quartile_band", "trend"]
    assert [c for c in contract if c not in t.columns] == []
    assert set(t["area_name"]) == {"Stockton-on-Tees", "Darlington"}
    cin = t[(t["area_code"] == "E06000004") & (t["indicator"] == "cin_rate")].iloc[0]
    assert round(cin["value"], 1) == 543.2 and cin["sn_n"] == 10


def test_xlsx_output(tmp_path):
    needs_shared()
    out = tmp_path / "t.xlsx"
    r = run("indicators", "--data-dir", SHARED_DATA, "--year", "2024", "--la", "E06000004", "--out", out)
    assert r.returncode == 0, r.stderr
    t = pd.read_excel(out)
    assert "cla_rate" in set(t["indicator"])


def test_unknown_la(tmp_path):
    needs_shared()
    r = run("indicators", "--data-dir", SHARED_DATA, "--la", "Stockton", "--out", tmp_path / "t.csv")
    assert_user_error(r, "unknown local authority 'Stockton'", "did you mean", "Stockton-on-Tees")
    assert not (tmp_path / "t.csv").exists()


def test_year_with_no_data(tmp_path):
    needs_shared()
    r = run("indicators", "--data-dir", SHARED_DATA, "--year", "1999", "--out", tmp_path / "t.csv")
    assert_user_error(r, "no data for year 1999")


def test_missing_data_folder(tmp_path):
    r = run("indicators", "--data-dir", tmp_path / "nowhere")
    assert_user_error(r, "data folder not found")


@pytest.mark.parametrize("case", ["symbol", "negative", "duplicate", "empty", "latin1", "unknown", "missing_column"])
def test_bad_file_gives_one_located_line(tmp_path, case):
    rows, header = b1_rows(), list(B1_HEADER)
    path = tmp_path / "cin.csv"
    expect = ["cin.csv"]
    if case == "symbol":
        rows[2][11] = "lots"
        expect += ["column 'At31_episodes'", "row 4"]
    elif case == "negative":
        rows[2][11] = "-1"
        expect += ["column 'At31_episodes'", "row 4", "negative"]
    elif case == "duplicate":
        rows.append(rows[3])
        expect += ["row 6", "duplicate"]
    elif case == "missing_column":  # the count (a B1 may omit its rate: the rate is then computed from counts)
        header, rows = header[:11] + header[12:], [r[:11] + r[12:] for r in rows]
        expect += ["column 'At31_episodes'", "missing"]
    elif case == "unknown":
        header, rows = ["a", "b"], [["1", "2"]]
        expect += ["unknown layout"]
    if case == "empty":
        path.write_text("")
        expect += ["empty"]
    elif case == "latin1":
        path.write_bytes(("\n".join(",".join(r) for r in [header] + rows) + "\n\xe9").encode("latin-1"))
        expect += ["not UTF-8"]
    else:
        write_csv(path, header, rows)
    out = tmp_path / "out.csv"
    r = run("indicators", "--data-dir", tmp_path, "--out", out)
    assert_user_error(r, *expect)
    assert not out.exists()
    assert not list(tmp_path.glob(".out.csv.*"))
