"""Local targets files (analysis.read.targets): the council's file read as written, bad entries located.

Expected values are the ones written in ``targets/stockton-on-tees.yaml`` (from the council's Children's Services
Strategy KPI table) or in the small files written here.
"""

from __future__ import annotations

import pytest

from analysis import indicators
from analysis.read import targets
from analysis.errors import InputError, ParameterError

KNOWN = ["neet_nk_pct", "cla_rate"]


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_stockton_targets_file():
    t = targets.load_targets("Stockton-on-Tees", indicators.registry())
    assert list(t.columns) == targets.TARGET_COLUMNS
    assert list(t["indicator"]) == ["neet_nk_pct", "care_leavers_eet_19_21_pct", "early_ed_2yo_pct",
                                    "assessments_45d_pct"]
    assert set(t["area_code"]) == {"E06000004"}
    row = t[t["indicator"] == "neet_nk_pct"].iloc[0]
    assert (row["target"], row["direction"], row["target_year"]) == (7, "lower", "2017")
    assert (row["baseline"], row["baseline_year"]) == (9, "2016")
    eet = t[t["indicator"] == "care_leavers_eet_19_21_pct"].iloc[0]
    assert (eet["target"], eet["direction"]) == (55, "higher")


def test_an_la_without_a_file_has_no_targets(tmp_path):
    t = targets.load_targets("Darlington", KNOWN, targets_dir=tmp_path)
    assert t.empty and list(t.columns) == targets.TARGET_COLUMNS


def test_a_file_names_its_la_by_code_or_name_and_direction_defaults_to_lower(tmp_path):
    write(tmp_path / "darlington.yaml", "la: '841'\ntargets:\n  - {indicator: cla_rate, target: 80.5, "
                                         "target_year: 2026}\n")
    t = targets.load_targets("Darlington", KNOWN, targets_dir=tmp_path)
    assert list(t[["area_code", "indicator", "target", "target_year", "direction"]].itertuples(index=False,
                                                                                            name=None)) == [
        ("E06000005", "cla_rate", 80.5, "2026", "lower")]


@pytest.mark.parametrize("entry, message, column", [
    ("{indicator: cla_rates, target: 80}", "t.yaml, column 'indicator': target 2: unknown indicator 'cla_rates'; "
                                           "expected one of neet_nk_pct, cla_rate", "indicator"),
    ("{indicator: cla_rate, target: eighty}", "t.yaml, column 'target': target 2 (cla_rate): target must be a "
                                              "number", "target"),
    ("{indicator: cla_rate, target: 80, direction: down}", "t.yaml, column 'direction': target 2: direction 'down'; "
                                                           "expected lower or higher", "direction"),
])
def test_a_bad_target_is_located(tmp_path, entry, message, column):
    path = write(tmp_path / "t.yaml", f"la: E06000004\ntargets:\n  - {{indicator: neet_nk_pct, target: 7}}\n"
                                      f"  - {entry}\n")
    with pytest.raises(InputError) as err:
        targets.read_targets(path, KNOWN)
    assert str(err.value) == message and err.value.column == column


def test_an_unknown_la_is_a_parameter_error(tmp_path):
    path = write(tmp_path / "t.yaml", "la: Stockton-on-Teas\ntargets: []\n")
    with pytest.raises(ParameterError, match="unknown local authority 'Stockton-on-Teas'; did you mean "
                                             "Stockton-on-Tees"):
        targets.read_targets(path, KNOWN)


def test_target_year_is_the_year_the_period_ends(tmp_path):
    """Councils write targets for financial and academic years: 2025-26 is the table's 2026; none stands always."""
    f = write(tmp_path / "t.yaml", "la: 808\ntargets:\n"
              "  - {indicator: cla_rate, target: 100, target_year: 2025-26}\n"
              "  - {indicator: cla_rate, target: 98, target_year: 2027/28}\n"
              "  - {indicator: neet_nk_pct, target: 7}\n")
    t = targets.read_targets(f, KNOWN)
    assert list(t["target_year"]) == ["2026", "2028", ""]


def test_a_target_year_that_is_not_a_year_is_located(tmp_path):
    f = write(tmp_path / "t.yaml", "la: 808\ntargets:\n  - {indicator: cla_rate, target: 100, target_year: soon}\n")
    with pytest.raises(InputError) as err:
        targets.read_targets(f, KNOWN)
    assert err.value.file == "t.yaml" and err.value.column == "target_year"
    assert "target 1 (cla_rate): target_year 'soon'; expected a year such as 2026 or 2025-26" in str(err.value)
