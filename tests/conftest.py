"""Shared fixtures: the real published files (read from ../shared, never copied) and small fake files."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Beside the project; NEEDS_SHARED points elsewhere (mutmut runs the tests from a copy in mutants/).
SHARED = Path(os.environ.get("NEEDS_SHARED", ROOT.parent / "shared"))
SHARED_DATA = SHARED / "data" / "dfe"
REFERENCE = SHARED / "reference" / "methods"

B1_HEADER = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
             "region_name", "old_la_code", "new_la_code", "la_name", "category", "At31_episodes",
             "At31_episodes_rate"]


def needs_shared():
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data/dfe is not beside the project")


@pytest.fixture(scope="session")
def real_dataset():
    """Every real published file, read once per test session."""
    needs_shared()
    from analysis import indicators
    return indicators.load(SHARED_DATA)


@pytest.fixture(scope="session")
def real_table(real_dataset):
    from analysis import indicators
    return indicators.compute(real_dataset.observations)


def write_csv(path: Path, header: list[str], rows: list[list], bom: bool = False) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def b1_rows():
    """A tiny fake B1: England, the North East and two LAs (numbers invented, round and readable)."""
    return [
        ["2024", "Reporting year", "National", "E92000001", "England", "", "", "", "", "", "Children in Need", "400000", "333.3"],
        ["2024", "Reporting year", "Regional", "E92000001", "England", "E12000001", "North East", "", "", "",
         "Children in Need", "25000", "467.3"],
        ["2024", "Reporting year", "Local authority", "E92000001", "England", "E12000001", "North East", "808",
         "E06000004", "Stockton-on-Tees", "Children in Need", "2400", "540.0"],
        ["2024", "Reporting year", "Local authority", "E92000001", "England", "E12000001", "North East", "841",
         "E06000005", "Darlington", "Children in Need", "1200", "500.0"],
    ]


@pytest.fixture
def b1_file(tmp_path):
    return write_csv(tmp_path / "cin.csv", B1_HEADER, b1_rows())


# --------------------------------------------------------------------------------------------------------------------
# The evidence pack: built once per test session with the real command, shared by test_pack.py and test_browser.py.

PACK_SECTIONS = ["00_summary", "05_scorecard", "10_children_in_need", "20_child_protection", "30_looked_after", "40_missing",
                 "50_neet", "60_care_leavers", "70_early_years", "99_data_and_methods"]


def run_needs(*args, cwd=None, timeout=900):
    """``python -m analysis.cli ARGS`` as a user runs it (from the project root unless told otherwise)."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "analysis.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=timeout)


def pack_built(result, out: Path, la_slug: str = "stockton-on-tees", year: str = "2024") -> Path:
    """Check a successful ``needs pack`` run and return the pack folder it names."""
    assert result.returncode == 0, f"needs pack failed ({result.returncode}):\n{result.stderr[-3000:]}"
    folder = Path(out) / la_slug / year
    last = result.stdout.strip().splitlines()[-1]
    assert str(folder / "index.html") in last, last
    return folder


@pytest.fixture(scope="session")
def demo_pack(tmp_path_factory) -> Path:
    """The default pack (Stockton-on-Tees 2024, demo data), built once with ``needs pack``; returns its folder."""
    out = tmp_path_factory.mktemp("demo_pack")
    result = run_needs("pack", "--la", "Stockton-on-Tees", "--year", "2024", "--out", out)
    return pack_built(result, out)
