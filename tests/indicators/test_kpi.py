"""The council's wider scorecard (issue 10): the KPI files in ../shared/data/kpi, read through the layout catalogue
and the registry like every other source.

Expected values are the files' own published columns (a percentage or average the file publishes beside its counts,
LAIT's published value), the counts as the file gives them, or worked by hand; never our output.
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import indicators, numbers
from analysis.read import workbooks
from analysis.read import sources
from conftest import SHARED, SHARED_DATA

KPI = SHARED / "data" / "kpi"


def needs_kpi():
    if not KPI.is_dir() or not SHARED_DATA.is_dir():
        pytest.skip("../shared/data/kpi is not beside the project")


@pytest.fixture(scope="module")
def kpi_folder(tmp_path_factory):
    """The DfE files and the KPI files in one folder, as an analyst would keep them (links, not copies)."""
    needs_kpi()
    folder = tmp_path_factory.mktemp("kpi_all")
    for src in [*SHARED_DATA.iterdir(), *KPI.iterdir()]:
        if src.suffix != ".md":
            (folder / src.name).symlink_to(src)
    return folder


@pytest.fixture(scope="module")
def kpi_dataset(kpi_folder):
    return indicators.load(kpi_folder)


@pytest.fixture(scope="module")
def kpi_table(kpi_dataset):
    return indicators.compute(kpi_dataset.observations)


def _row(table, ind, year, area="E06000004"):
    r = table[(table["indicator"] == ind) & (table["time_period"] == str(year)) & (table["area_code"] == area)]
    assert len(r) == 1, (ind, year, area, len(r))
    return r.iloc[0]


def _lait(code, year, la_number=808.0):
    """LAIT's published value, read straight from its file (pandas), rounded as the dictionary says."""
    lait = pd.read_parquet(KPI / "lait_bds_long_0.parquet")
    hit = lait[(lait["Short Desc"] == code) & (lait["Years"] == str(year)) & (lait["LA Number"] == la_number)]
    return float(hit["Values"].iloc[0])


# ---------------------------------------------------------------------------------------------------------------
# Periods: the year the period ends, the label as published


@pytest.mark.parametrize("label, year", [("2024-25 (OT)", "2025"), ("2015/16", "2016"), ("2013/14-15/16", "2016"),
                                         ("2014-16", "2016"), ("2025 (Rev)", "2025"), ("202425", "2025"),
                                         ("2025", "2025"), ("1999-00", "2000"), ("0", "")])
def test_end_year_of_published_labels(label, year):
    assert workbooks.end_year(label) == year


def test_academic_year_202425_is_2025_with_its_label_kept(kpi_table):
    r = _row(kpi_table, "cla_ks2_rwm_pct", 2025)
    assert (r["period_label"], r["year_type"]) == ("202425", "academic year (ending 31 August)")
    assert str(r["period_end"].date()) == "2025-08-31"
    rsx = _row(kpi_table, "csc_spend_per_child", 2025)
    assert (rsx["period_label"], rsx["year_type"]) == ("2024-25", "financial year (ending 31 March)")
    ehc = _row(kpi_table, "ehc_20wk_pct", 2022)
    assert ehc["year_type"] == "calendar year" and str(ehc["period_end"].date()) == "2022-12-31"


# ---------------------------------------------------------------------------------------------------------------
# Counts with limits, reproducing the published columns


def test_cla_ks2_from_counts_reproduces_published_percentage(kpi_table):
    r = _row(kpi_table, "cla_ks2_rwm_pct", 2025)  # ks2_la.csv: 9 of 26 met the standard, pt_ 35
    assert (r["numerator"], r["denominator"], r["published_value"]) == (9, 26, 35)
    assert numbers.round_half_up(r["value"], 0) == 35
    assert r["lower_95"] < r["value"] < r["upper_95"] and r["value_basis"] == "published"


def test_cla_attainment8_and_progress8_are_averages_of_the_published_totals(kpi_table):
    a8 = _row(kpi_table, "cla_attainment8", 2025)  # t_att8 599 over t_pupils 33, avg_att8 18.2
    assert (a8["numerator"], a8["denominator"], a8["published_value"]) == (599, 33, 18.2)
    assert numbers.round_half_up(a8["value"], 1) == 18.2
    p8 = _row(kpi_table, "cla_progress8", 2024)  # t_p8score -41.139 over t_inp8calc 34, avg_p8score -1.21
    assert (p8["numerator"], p8["denominator"], p8["published_value"]) == (-41.139, 34, -1.21)
    assert numbers.round_half_up(p8["value"], 2) == -1.21
    assert pd.isna(p8["lower_95"])  # an average with no sampling model: no limits


def test_cla_outcomes_convictions_and_sdq(kpi_table):
    c = _row(kpi_table, "cla_convicted_pct", 2025)  # 8 of 297 aged 10-17, published 3%
    assert (c["numerator"], c["denominator"], c["published_value"]) == (8, 297, 3)
    assert numbers.round_half_up(c["value"], 0) == 3
    eng = _row(kpi_table, "cla_sdq_concern_pct", 2025, "E92000001")  # 14,320 of 33,790 scores received, 42%
    assert (eng["numerator"], eng["denominator"], eng["published_value"]) == (14320, 33790, 42)
    assert numbers.round_half_up(eng["value"], 0) == 42
    sdq = _row(kpi_table, "cla_sdq_score", 2025)  # an average only: published 14.5, nothing to test it with
    assert (sdq["value"], sdq["value_basis"]) == (14.5, sources.PUBLISHED_ONLY) and pd.isna(sdq["numerator"])


def test_ehc_plans_within_20_weeks_including_exceptions(kpi_table):
    r = _row(kpi_table, "ehc_20wk_pct", 2022)  # inc_exc_20week_ehc 219 of tot_inc_exc_ehc 281, rate 77.936
    assert (r["numerator"], r["denominator"], r["published_value"]) == (219, 281, 77.936)
    assert numbers.round_half_up(r["value"], 3) == 77.936


def test_eyfs_from_counts_agrees_with_lait(kpi_table):
    r = _row(kpi_table, "eyfs_gld_pct", 2022)  # 1,583 of 2,324 (LA row, not the district row), 68.1%
    assert (r["numerator"], r["denominator"], r["published_value"]) == (1583, 2324, 68.1)
    assert numbers.round_half_up(r["value"], 1) == 68.1 == round(_lait("FSP_NEW_GOODDEV", 2022), 1)


def test_two_year_olds_may_pass_100_percent_of_an_estimate(kpi_table):
    r = _row(kpi_table, "early_ed_2yo_pct", 2023)  # 571 of 668 eligible, 85.5%
    assert (r["numerator"], r["denominator"], r["published_value"]) == (571, 668, 85.5)
    assert numbers.round_half_up(r["value"], 1) == 85.5 == _lait("%_2yr_olds", 2023)
    trafford = kpi_table[(kpi_table["indicator"] == "early_ed_2yo_pct") & (kpi_table["time_period"] == "2023")
                         & (kpi_table["area_name"] == "Trafford")].iloc[0]
    assert (trafford["numerator"], trafford["denominator"]) == (433, 420)  # published 103.1
    assert numbers.round_half_up(trafford["value"], 1) == 103.1 and trafford["upper_95"] > trafford["value"]


def test_spend_per_child_is_rsx_c3_over_the_population(kpi_table):
    # RSX 2024-25 C3 for Stockton-on-Tees UA: 81,939 (GBP thousand); ONS mid-2024 0-17: 45,079 (ons file, 2024 row)
    r = _row(kpi_table, "csc_spend_per_child", 2025)
    assert (r["numerator"], r["denominator"]) == (81939, 45079)
    assert numbers.round_half_up(r["value"], 0) == 1818  # 81,939,000 / 45,079 = 1,817.68
    older = _row(kpi_table, "csc_spend_per_child", 2024)  # the 2023-24 workbook: its header is on row 11
    assert older["numerator"] == 72833 and older["source_file"] == "RSX_2023-24_data_by_LA.ods"
    eng = _row(kpi_table, "csc_spend_per_child", 2025, "E92000001")
    assert eng["numerator"] == pytest.approx(16878876.02917)  # the ENGLAND row, C3 as stored


# ---------------------------------------------------------------------------------------------------------------
# Published-only rows (LAIT)


def test_lait_values_are_published_only_and_rounded(kpi_table):
    r = _row(kpi_table, "assessments_45d_pct", 2023)
    assert (r["value"], r["value_basis"]) == (73.3, sources.PUBLISHED_ONLY)
    assert pd.isna(r["lower_95"]) and pd.isna(r["numerator"])
    ehc = _row(kpi_table, "ehc_20wk_pct", 2023)  # SEN2 file ends in 2022; LAIT fills 2023
    assert (ehc["value"], ehc["value_basis"], ehc["source_file"]) == (99.1, sources.PUBLISHED_ONLY,
                                                                     "lait_bds_long_0.parquet")
    poverty = _row(kpi_table, "child_poverty_pct", 2025)
    assert poverty["value"] == _lait("ChildPov", 2025)


def test_counts_win_over_lait_for_the_same_year(kpi_table):
    r = _row(kpi_table, "ehc_20wk_pct", 2021)  # both SEN2 (144 of 201) and LAIT (71.599999999999994) have 2021
    assert r["value_basis"] == "published" and r["source_file"] == "sen2_mi.csv"
    assert numbers.round_half_up(r["value"], 1) == round(_lait("SEN_EHC_All_20wks", 2021), 1) == 71.6


def test_lait_symbols_read_as_not_available(kpi_table):
    r = _row(kpi_table, "eyfs_gld_pct", 2021)  # LAIT '-': no assessment in 2020/21
    assert pd.isna(r["value"]) and r["status"] == "x"


# ---------------------------------------------------------------------------------------------------------------
# Missing optional files


def test_without_the_kpi_files_each_measure_is_one_line_naming_its_source(real_dataset):
    lines = [w for w in real_dataset.warnings if w.startswith(("ks2_rwm_pct ", "cla_attainment8 ",
                                                               "csc_spend_per_child "))]
    assert len(lines) == 3
    assert "LAIT" in lines[0] and "KS2RWM_Expected_STD" in lines[0]
    assert "key stage 4" in lines[1] and "LAC_KS4_AVG_Attain8" in lines[1]
    assert "RSX" in lines[2]


def test_a_workbook_that_is_not_rsx_is_one_warning(tmp_path, kpi_folder):
    folder = tmp_path / "d"
    folder.mkdir()
    for name in ("b1_children_in_need_2013_to_2024.csv", "RO3_LA_Data_2024-25_data_by_LA.ods"):
        (folder / name).symlink_to(kpi_folder / name)
    ds = indicators.load(folder)
    ro3 = [w for w in ds.warnings if "RO3" in w]
    assert len(ro3) == 1 and "RSX_LA_Data" in ro3[0]


def test_rsx_with_header_on_a_later_row_and_x(tmp_path):
    """A hand-made RSX workbook: title lines, the header on row 4, a [x] authority, a class total row."""
    from analysis import demo
    rows = [["Worksheet 2: Revenue Outturn (RO) 2021-22: Service Expenditure Summary (RSX) data"], [], [],
            ["E-code", "ONS Code", "Local authority", "Notes", "Class",
             "Children Social Care -  Total Expenditure\n (C3 = C1 + C2)"],
            ["E0704", "E06000004", "Stockton-on-Tees UA", "", "UA", "50000"],
            ["E0701", "E06000001", "Hartlepool UA", "M", "UA", "[x]"],
            ["[Y]", "E06", "Unitary Authorities", "", "UA", "999999"],
            ["Eng", "E92000001", "ENGLAND", "", "Eng", "9000000"]]
    path = demo.published.write_ods(tmp_path / "rsx.ods", "RSX_LA_Data_2021-22", rows)
    raw = sources.read_raw(path)
    assert raw.layout.name == "rsx"
    obs = sources.observations(raw, indicators.registry())
    by_area = obs.set_index("area_code")
    assert list(obs["time_period"].unique()) == ["2022"] and list(obs["period_label"].unique()) == ["2021-22"]
    assert by_area.loc["E06000004", "numerator"] == 50000 and by_area.loc["E06000001", "status"] == "x"
    assert by_area.loc["E92000001", "numerator"] == 9000000 and "E06" not in by_area.index


# ---------------------------------------------------------------------------------------------------------------
# Benchmarking published-only rows; aggregates checked, not trusted


@pytest.fixture(scope="module")
def kpi_bench(kpi_dataset, kpi_table):
    from analysis.indicators import benchmark
    return benchmark.benchmark(kpi_table, kpi_dataset.neighbours)


def test_published_only_rows_are_benchmarked_but_not_tested(kpi_bench, kpi_dataset):
    r = _row(kpi_bench, "ks2_rwm_pct", 2024)
    assert r["value"] == _lait("KS2RWM_Expected_STD", 2024) and r["value_basis"] == sources.PUBLISHED_ONLY
    assert (r["vs_england"], r["vs_sn"], r["vs_region"]) == ("not tested",) * 3
    assert r["england_value"] == _lait("KS2RWM_Expected_STD", 2024, 970.0)
    assert r["region_value"] == _lait("KS2RWM_Expected_STD", 2024, 980.0)
    # the neighbours' mean, by hand from LAIT's own values of Stockton's ten neighbours
    near = kpi_dataset.neighbours[kpi_dataset.neighbours["area_code"] == "E06000004"]["neighbour_code"]
    lait = pd.read_parquet(KPI / "lait_bds_long_0.parquet")
    lait = lait[(lait["Short Desc"] == "KS2RWM_Expected_STD") & (lait["Years"] == "2024")]
    from analysis.read import areas
    old = areas.current().set_index("new_la_code").loc[list(near), "old_la_code"].astype(float)
    vals = pd.to_numeric(lait[lait["LA Number"].isin(old)]["Values"], errors="coerce").dropna()
    assert r["sn_mean"] == pytest.approx(vals.mean()) and r["sn_n"] == len(vals)
    assert 1 <= r["rank"] <= r["rank_of"] and r["quartile_band"] in ("A", "B", "C", "D")


def test_a_published_england_figure_that_is_the_sum_of_its_regions_is_flagged(kpi_dataset, kpi_bench):
    lines = [w for w in kpi_dataset.warnings if "outside the range" in w]
    assert len(lines) == 1 and lines[0].startswith("fte_youth_justice_rate") and "2024" in lines[0]
    eng = _row(kpi_bench, "fte_youth_justice_rate", 2024, "E92000001")
    assert eng["value"] == 1258 and eng["aggregate_check"].startswith("disagrees")  # LAIT: the regions summed
    la = _row(kpi_bench, "fte_youth_justice_rate", 2024)
    assert pd.isna(la["england_value"]) and la["vs_england"] == "not compared"
    ne = _row(kpi_bench, "fte_youth_justice_rate", 2024, "E12000001")
    assert ne["aggregate_check"] == "" and la["region_value"] == ne["value"]
    fine = _row(kpi_bench, "ks2_rwm_pct", 2024, "E92000001")  # England 61 lies within its regions' range
    assert fine["aggregate_check"] == ""


# ---------------------------------------------------------------------------------------------------------------
# Demo data: the embedded default has every scorecard layout


def test_demo_data_feeds_every_scorecard_indicator():
    from analysis import demo
    ds = indicators.load(demo.ensure_demo_data())
    wanted = ["assessments_45d_pct", "eyfs_gld_pct", "early_ed_2yo_pct", "ks2_rwm_pct", "attainment8",
              "cla_ks2_rwm_pct", "cla_attainment8", "cla_progress8", "ehc_20wk_pct", "excess_weight_reception_pct",
              "excess_weight_y6_pct", "cla_sdq_concern_pct", "cla_sdq_score", "cla_convicted_pct",
              "child_poverty_pct", "csc_spend_per_child", "fte_youth_justice_rate"]
    assert set(wanted) <= set(ds.observations["indicator"].astype(str))
    assert not [w for w in ds.warnings if "no file provides it" in w]
    layouts = set(indicators.inventory(ds).query("status == 'used'")["layout"])
    assert {"ks2_social_care", "ks4_social_care", "cla_outcomes", "sen2_ehc", "eyfsp", "early_years_provision",
            "lait_long", "rsx"} <= layouts
    assert not [w for w in ds.warnings if "outside the range" in w]  # the default pack runs without warnings
