"""Shared fixtures: the real published files (read from ../shared, never copied) and small fake files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
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
