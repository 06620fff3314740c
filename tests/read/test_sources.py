"""Readers: published figures reproduce from the real files; bad input fails with a located one-line error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import indicators
from analysis import numbers
from analysis.read import sources
from analysis.errors import InputError

from conftest import B1_HEADER, SHARED_DATA, b1_rows, needs_shared, write_csv


# ---------------------------------------------------------------------------------------------------------------
# Published figures, from ../shared/data/dfe


def _reproduce(table, indicator, decimals):
    rows = table[(table["indicator"] == indicator) & table["published_value"].notna() & table["value"].notna()]
    shown = numbers.round_half_up(rows["value"].to_numpy(), decimals)
    return rows.assign(shown=shown, ok=np.isclose(shown, rows["published_value"].to_numpy(), rtol=0, atol=1e-9))


def _explained_by_rounded_count(rows, multiplier, decimals):
    """National and regional counts are published rounded to the nearest 10: the published rate must then come
    from some count within 5 of the published one."""
    lo = (rows["numerator"] - 5) / rows["denominator"] * multiplier
    hi = (rows["numerator"] + 5) / rows["denominator"] * multiplier
    half = 0.5 * 10.0 ** -decimals
    return (rows["published_value"] >= lo - half) & (rows["published_value"] <= hi + half)


def test_every_b1_cin_rate_reproduces_to_1dp(real_table):
    """B1 (2024 release): every LA and region rate of children in need at 31 March, 2013-2024, from the release's
    own denominators (the 2024 vintage where the release gives one, ONS mid-year before)."""
    rows = _reproduce(real_table, "cin_rate", 1)
    rows = rows[rows["geographic_level"].isin(["Local authority", "Regional"])]
    assert len(rows) > 1900
    bad = rows[~rows["ok"]]
    # LA counts are exact, so every LA rate must reproduce.
    assert bad[bad["geographic_level"] == "Local authority"].empty, bad.to_string()
    # Regional counts are rounded to the nearest 10 in the file, so a few regional rates differ in the last place;
    # each of those is explained by the rounding of the count.
    assert len(bad) <= 10, f"{len(bad)} regional mismatches: {bad[['time_period', 'area_name']].values.tolist()}"
    assert _explained_by_rounded_count(bad, 10000, 1).all(), bad.to_string()


def test_every_cla_2024_release_rate_reproduces_to_whole_number(real_table):
    rows = _reproduce(real_table, "cla_rate", 0)
    las = rows[rows["geographic_level"] == "Local authority"]
    assert len(las) >= 750 and las["ok"].all(), las[~las["ok"]].to_string()
    regions = rows[(rows["geographic_level"] != "Local authority") & ~rows["ok"]]
    assert _explained_by_rounded_count(regions, 10000, 0).all(), regions.to_string()


def test_stockton_2024_published_figures(real_table):
    st = real_table[(real_table["area_code"] == "E06000004") & (real_table["time_period"] == "2024")].set_index("indicator")
    assert numbers.round_half_up(st.at["cin_rate", "value"], 1) == 543.2            # B1 2024: 2395 / 44087
    assert st.at["cin_rate", "numerator"] == 2395
    assert numbers.round_half_up(st.at["cla_rate", "value"], 0) == 132              # CLA 2024 release: 581 / 44087
    assert st.at["cla_rate", "numerator"] == 581 and st.at["cla_rate", "denominator"] == 44087
    assert st.at["cp_rate", "numerator"] == 241                                      # D5 2025 release
    # D5 is a 2025 release: its own vintage is the revised ONS mid-2023 estimate, 44466 -> 54.2
    assert st.at["cp_rate", "denominator"] == 44466
    assert numbers.round_half_up(st.at["cp_rate", "value"], 1) == 54.2
    assert (st.at["missing_pct", "numerator"], st.at["missing_pct", "denominator"]) == (96, 745)
    assert st.at["neet_nk_pct", "value"] == pytest.approx(7.0)
    assert st.at["neet_pct", "value"] == pytest.approx(6.9)


def test_symbols_are_kept_as_status(real_dataset):
    obs = real_dataset.observations
    # Isles of Scilly 2024: CIN count suppressed in B1
    row = obs[(obs["indicator"] == "cin_rate") & (obs["area_code"] == "E06000053") & (obs["time_period"] == "2023")]
    assert row["status"].iloc[0] == "c" and np.isnan(row["numerator"].iloc[0])
    assert set(obs["status"].unique()) <= {"", "c", "x", "z", "k", "u", "low", ":"}


def test_codeless_demo_rows_are_dropped_with_a_warning(real_dataset):
    assert any("no area code" in w and "Region demo" in w for w in real_dataset.warnings)
    assert not real_dataset.observations["area_name"].isin(["LA demo", "Region demo"]).any()


def test_recoded_la_keeps_one_code(real_dataset):
    """North Yorkshire changed code in 2023 (E10000023 -> E06000065); its series carries the current code."""
    obs = real_dataset.observations
    ny = obs[(obs["indicator"] == "cin_rate") & (obs["old_la_code"] == "815")]
    assert set(ny["area_code"]) == {"E06000065"} and len(ny) == 12


def test_bom_and_column_order_do_not_matter(tmp_path):
    order = B1_HEADER[::-1]
    rows = [r[::-1] for r in b1_rows()]
    path = write_csv(tmp_path / "reordered.csv", order, rows, bom=True)
    raw = sources.read_raw(path)
    assert raw.layout.name == "cin_b1"
    obs = sources.observations(raw, indicators.registry())
    assert obs.loc[obs["area_code"] == "E06000004", "numerator"].iloc[0] == 2400


def test_renamed_column_is_mapped(tmp_path):
    header = [c if c != "At31_episodes" else "at31_episodes" for c in B1_HEADER]
    raw = sources.read_raw(write_csv(tmp_path / "renamed.csv", header, b1_rows()))
    assert raw.layout.name == "cin_b1"


# ---------------------------------------------------------------------------------------------------------------
# Bad input: a located one-line error


def _error(path):
    with pytest.raises(InputError) as info:
        raw = sources.read_raw(path)
        sources.observations(raw, indicators.registry())
    message = str(info.value)
    assert "\n" not in message
    return info.value, message


def test_missing_column(tmp_path):
    """A B1 without its count column: the closest layout is named with what it lacks (the rate alone is not enough)."""
    header = [c for c in B1_HEADER if c != "At31_episodes"]
    rows = [r[:11] + r[12:] for r in b1_rows()]
    err, msg = _error(write_csv(tmp_path / "cin.csv", header, rows))
    assert isinstance(err, sources.UnknownLayout)
    assert err.column == "At31_episodes" and "cin.csv" in msg and "missing" in msg
    assert err.closest == "cin_b1" and err.missing == ["At31_episodes"]


def test_unknown_layout(tmp_path):
    err, msg = _error(write_csv(tmp_path / "other.csv", ["school", "pupils", "ofsted"], [["A", "1", "2"]]))
    assert "unknown layout" in msg and "school, pupils, ofsted" in msg and "At31_episodes" in msg


def test_symbol_where_a_number_should_be(tmp_path):
    rows = b1_rows()
    rows[2][11] = "n/a"
    err, msg = _error(write_csv(tmp_path / "cin.csv", B1_HEADER, rows))
    assert (err.column, err.row) == ("At31_episodes", 4) and "'n/a'" in msg


def test_negative_count(tmp_path):
    rows = b1_rows()
    rows[3][11] = "-12"
    err, msg = _error(write_csv(tmp_path / "cin.csv", B1_HEADER, rows))
    assert (err.column, err.row) == ("At31_episodes", 5) and "negative" in msg


def test_numerator_above_denominator_for_a_proportion(tmp_path):
    header = B1_HEADER[:11] + ["CPP_start", "CPP_subsequent", "CPP_subsequent_percent"]
    rows = [r[:11] + ["100", "20", "20.0"] for r in b1_rows()]
    rows[2][12] = "120"
    err, msg = _error(write_csv(tmp_path / "d3.csv", header, rows))
    assert (err.column, err.row) == ("CPP_subsequent", 4) and "above its denominator" in msg


def test_duplicate_rows(tmp_path):
    rows = b1_rows() + [b1_rows()[2]]
    err, msg = _error(write_csv(tmp_path / "cin.csv", B1_HEADER, rows))
    assert err.row == 6 and "duplicate" in msg and "Stockton-on-Tees" in msg and "rows 4 and 6" in msg


def test_empty_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    err, msg = _error(tmp_path / "empty.csv")
    assert "empty" in msg and "empty.csv" in msg


def test_header_only(tmp_path):
    err, msg = _error(write_csv(tmp_path / "cin.csv", B1_HEADER, []))
    assert "no data rows" in msg


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin.csv"
    text = "\n".join(",".join(r) for r in [B1_HEADER] + b1_rows()).replace("Stockton-on-Tees", "Stockt\xf6n")
    path.write_bytes(text.encode("latin-1"))
    err, msg = _error(path)
    assert "not UTF-8" in msg and err.row == 4
