"""The layout catalogue (analysis/read/layouts.yaml): every release in ../shared/data is recognised, older releases give
the figures they publish, counts without rates are computed and say so, a renamed column is one catalogue line, and
files that are not what they claim fail with one line naming the file."""

from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import indicators
from analysis import numbers
from analysis.read import population, sources
from analysis.errors import InputError

from conftest import B1_HEADER, ROOT, SHARED, b1_rows, write_csv

DATA = SHARED / "data"
DFE, OLDER = DATA / "dfe", DATA / "dfe-older"

#: Every release file in both folders and the layout it is (by what DfE published, not by our output).
EXPECTED = {
    "dfe/UD_NEETNK_LA_dashboard_2021_vg_removed.csv": "neet",
    "dfe/UD_NEETNK_LA_dashboard_2022_final.csv": "neet",
    "dfe/UD_NEETNK_LA_dashboard_2023_final.csv": "neet",
    "dfe/UD_NEETNK_LA_dashboard_2024.csv": "neet",
    "dfe/b1_children_in_need_2013_to_2024.csv": "cin_b1",
    "dfe/c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv": "cin_c1",
    "dfe/cla_number_and_rate_per_10k_children_pub2024.csv": "cla_rates",
    "dfe/d3_cpps_subsequent_plan_2013_to_2025.csv": "cp_d3",
    "dfe/d5_cpps_at31march_by_duration_2013_to_2025.csv": "cp_d5",
    "dfe/la_care_leavers_accommodation_suitability.csv": "care_leavers",
    "dfe/la_care_leavers_activity.csv.gz": "care_leavers",
    "dfe/la_children_who_were_missing_or_away_from_placement_without_authorisation_updated25.csv": "cla_missing",
    "dfe/la_cla_placement_stability.csv": "placement_stability",
    "dfe/ons_mid-year_population_estimates_2012_to_2024.csv": "population",
    "dfe/sn_model_2025_wide.csv": "sn_model",
    "dfe-older/bengoodair_post2017/la_children_who_were_missing_or_away_from_placement_without_authorisation.csv":
        "cla_missing",
    "dfe-older/bengoodair_updated24/cla_number_and_rate_per_10k_children.csv": "cla_rates",
    "dfe-older/bengoodair_updated24/la_children_who_were_missing_or_away_from_placement_without_authorisation.csv":
        "cla_missing",
    "dfe-older/bengoodair_updated24/la_cla_placement_stability.csv": "placement_stability",
    "dfe-older/csc_2024release/c1_children_in_need_referrals_and_rereferrals_2013_to_2024.csv": "cin_c1",
    "dfe-older/csc_2024release/c3_factors_identified_at_end_of_assessment_2018_to_2024.csv": "cin_c3",
    "dfe-older/csc_2024release/cla_number_and_rate_per_10k_children.csv": "cla_rates",
    "dfe-older/csc_2024release/d3_cpps_subsequent_plan_2013_to_2024.csv": "cp_d3",
    "dfe-older/csc_2024release/d5_cpps_at31march_by_duration_2013_to_2024.csv": "cp_d5",
    "dfe-older/csc_2024release/la_care_leavers_accommodation_suitability.csv": "care_leavers",
    "dfe-older/csc_2024release/la_care_leavers_activity.csv": "care_leavers",
    "dfe-older/csc_2024release/la_cla_placement_stability.csv": "placement_stability",
    "dfe-older/nccis_607292d/UD_NEETNK_LA_dashboard_final.csv": "neet",
}

STOCKTON = "E06000004"


def needs_data():
    if not DFE.is_dir() or not OLDER.is_dir():
        pytest.skip("../shared/data/dfe and dfe-older are not beside the project")


def _files():
    return sorted(str(p.relative_to(DATA)) for folder in (DFE, OLDER) for p in folder.rglob("*")
                  if p.is_file() and (p.name.endswith(".csv") or p.name.endswith(".csv.gz")))


@pytest.fixture(scope="module")
def older_obs():
    """Observations of every older release, keyed by the path under dfe-older."""
    needs_data()
    reg = indicators.registry()
    return {str(p.relative_to(OLDER)): sources.observations(sources.read_raw(p), reg)
            for p in sorted(OLDER.rglob("*.csv"))}


def _one(obs, indicator, year, area=STOCKTON):
    row = obs[(obs["indicator"] == indicator) & (obs["area_code"] == area) & (obs["time_period"] == year)]
    assert len(row) == 1, row
    return row.iloc[0]


# ---------------------------------------------------------------------------------------------------------------
# Every release is recognised


def test_every_release_file_is_recognised_with_its_layout():
    needs_data()
    assert _files() == sorted(EXPECTED), "a file was added to or removed from ../shared/data: list its layout here"
    found = {name: sources.read_raw(DATA / name).layout.name for name in EXPECTED}
    assert found == EXPECTED


def test_catalogue_names_every_layout_the_code_uses():
    assert set(sources.LAYOUTS) == {"cin_b1", "cp_d5", "cp_d3", "cin_c1", "cin_c3", "cla_rates", "cla_missing",
                                    "placement_stability", "care_leavers", "neet", "population", "sn_model",
                                    "sn_groupings", "ks2_social_care", "ks4_social_care", "cla_outcomes", "sen2_ehc",
                                    "eyfsp", "early_years_provision", "lait_long", "rsx"}
    for entry in indicators.registry().values():
        layout = sources.LAYOUTS[entry["source"]]
        for what in ("numerator", "denominator", "published"):
            spec = entry.get(what)
            if isinstance(spec, dict):
                assert spec["column"] in layout.columns, (entry["source"], spec["column"])
    assert sources.LAYOUTS["cin_b1"].kinds["At31_episodes_rate"] == "rate"
    assert "At31_episodes_rate" in sources.LAYOUTS["cin_b1"].optional


# ---------------------------------------------------------------------------------------------------------------
# Older releases: the figures they publish, for Stockton-on-Tees


def test_2024_c1_rereferrals_from_renamed_columns(older_obs):
    obs = older_obs["csc_2024release/c1_children_in_need_referrals_and_rereferrals_2013_to_2024.csv"]
    r = _one(obs, "rereferral_pct", "2024")  # Referrals 4031, Re_referrals 1221, Re_referrals_percent 30.3
    assert (r["numerator"], r["denominator"], r["published_value"]) == (1221, 4031, 30.3)
    assert r["value_basis"] == "published"
    assert numbers.round_half_up(100 * r["numerator"] / r["denominator"], 1) == 30.3
    ref = _one(obs, "referral_rate", "2024")  # Referrals_rate 914.3 (the 2024 release publishes the rate)
    assert (ref["numerator"], ref["published_value"], ref["value_basis"]) == (4031, 914.3, "published")


def test_2025_c1_has_no_referral_rate_so_it_is_computed():
    needs_data()
    obs = sources.observations(sources.read_raw(DFE / "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"),
                               indicators.registry())
    ref = obs[obs["indicator"] == "referral_rate"]
    assert len(ref) > 1900 and (ref["value_basis"] == "computed").all() and ref["published_value"].isna().all()


def test_stability_2024_number_and_percentage(older_obs):
    obs = older_obs["csc_2024release/la_cla_placement_stability.csv"]
    same = _one(obs, "stability_same_carer_pct", "2024")  # 173 of 239, published 72
    assert (same["numerator"], same["denominator"], same["published_value"]) == (173, 239, 72)
    three = _one(obs, "placements_3plus_pct", "2024")  # 61 of 581, published 10
    assert (three["numerator"], three["denominator"], three["published_value"]) == (61, 581, 10)


def test_stability_2023_reworded_categories(older_obs):
    """2023: "at 31 March" for "on 31 March" and the long same-carer label; still the same indicator."""
    obs = older_obs["bengoodair_updated24/la_cla_placement_stability.csv"]
    same = _one(obs, "stability_same_carer_pct", "2023")  # 178 of 248, published 72
    assert (same["numerator"], same["denominator"], same["published_value"]) == (178, 248, 72)
    three = _one(obs, "placements_3plus_pct", "2023")  # 67 of 574, published 12
    assert (three["numerator"], three["denominator"], three["published_value"]) == (67, 574, 12)
    assert set(obs["time_period"]) == {"2019", "2020", "2021", "2022", "2023"}
    # the release publishes a percentage wherever it is not suppressed
    assert (obs["value_basis"] == "published").eq(obs["published_value"].notna()).all()
    assert obs["published_value"].notna().mean() > 0.95


def test_care_leavers_2024_age_activity_number_percentage(older_obs):
    act = older_obs["csc_2024release/la_care_leavers_activity.csv"]
    r = _one(act, "care_leavers_eet_17_18_pct", "2024")  # "Aged 17 to 18": 45 of 82, published 55
    assert (r["numerator"], r["denominator"], r["published_value"]) == (45, 82, 55)
    r = _one(act, "care_leavers_eet_19_21_pct", "2024")  # "Aged 19 to 21": 79 of 154, published 51
    assert (r["numerator"], r["denominator"], r["published_value"]) == (79, 154, 51)
    acc = older_obs["csc_2024release/la_care_leavers_accommodation_suitability.csv"]
    r = _one(acc, "care_leavers_accommodation_19_21_pct", "2024")  # 133 of 152, published 88
    assert (r["numerator"], r["denominator"], r["published_value"]) == (133, 152, 88)


def test_cla_2023_release_rate_with_its_own_population(older_obs):
    needs_data()
    raw = sources.read_raw(OLDER / "bengoodair_updated24/cla_number_and_rate_per_10k_children.csv")
    obs = population.attach_denominators(older_obs["bengoodair_updated24/cla_number_and_rate_per_10k_children.csv"],
                                         population.from_release(raw))
    r = _one(obs, "cla_rate", "2023")  # 574 / 43802 (the 2023 release's population_estimate), published 131
    assert (r["numerator"], r["denominator"], r["published_value"]) == (574, 43802, 131)
    assert numbers.round_half_up(r["numerator"] / r["denominator"] * 10000, 0) == 131


def test_c3_is_recognised_and_feeds_nothing_yet():
    needs_data()
    raw = sources.read_raw(OLDER / "csc_2024release/c3_factors_identified_at_end_of_assessment_2018_to_2024.csv")
    assert raw.layout.name == "cin_c3" and raw.layout.table == "C3"
    st_row = raw.table[(raw.table["new_la_code"] == STOCKTON) & (raw.table["time_period"] == "2024")]
    assert len(st_row) == 1
    assert sources.observations(raw, indicators.registry()).empty


# ---------------------------------------------------------------------------------------------------------------
# Published rates reproduce, release by release (the benchmark's check, where it must hold exactly)


def _bench():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_sources

    return bench_sources


@pytest.fixture(scope="module")
def reproduced():
    needs_data()
    bench = _bench()
    reg = indicators.registry()
    files = bench.release_files(DFE) + bench.release_files(OLDER)
    per_file, pops = bench.read_folder(files, reg)
    return {str(p.relative_to(DATA)): bench.reproduction(obs, pops, reg) for p, (raw, obs) in per_file.items()
            if not obs.empty}


@pytest.mark.parametrize("name, indicator, at_least", [
    ("dfe/b1_children_in_need_2013_to_2024.csv", "cin_rate", 1790),                       # CIN rates, 1 dp
    ("dfe/cla_number_and_rate_per_10k_children_pub2024.csv", "cla_rate", 750),            # CLA rates, whole numbers
    ("dfe-older/csc_2024release/cla_number_and_rate_per_10k_children.csv", "cla_rate", 750),
    ("dfe-older/bengoodair_updated24/cla_number_and_rate_per_10k_children.csv", "cla_rate", 750),
    ("dfe-older/bengoodair_updated24/cla_number_and_rate_per_10k_children.csv", "cla_starts_rate", 750),
    ("dfe-older/csc_2024release/c1_children_in_need_referrals_and_rereferrals_2013_to_2024.csv", "referral_rate", 1790),
    ("dfe-older/csc_2024release/c1_children_in_need_referrals_and_rereferrals_2013_to_2024.csv", "rereferral_pct", 1790),
    ("dfe-older/csc_2024release/d3_cpps_subsequent_plan_2013_to_2024.csv", "cp_subsequent_pct", 1770),
    ("dfe-older/csc_2024release/la_cla_placement_stability.csv", "stability_same_carer_pct", 740),
    ("dfe-older/bengoodair_updated24/la_cla_placement_stability.csv", "placements_3plus_pct", 740),
    ("dfe-older/csc_2024release/la_care_leavers_activity.csv", "care_leavers_eet_19_21_pct", 750),
])
def test_every_la_published_figure_reproduces(reproduced, name, indicator, at_least):
    """LA counts are exact, so every LA figure must reproduce from the release's counts and its own denominators."""
    rows = reproduced[name]
    rows = rows[rows["indicator"] == indicator]
    assert len(rows) >= at_least
    bad = rows[~rows["ok"]]
    assert bad.empty, bad[["area_name", "time_period", "value", "published_value"]].head().to_string()


# ---------------------------------------------------------------------------------------------------------------
# Counts without rates


def _population_file(path, year="2023", stockton="40000", darlington="25000"):
    """A tiny ONS-layout file: mid-``year`` estimates, the denominators for the year ending 31 March ``year``+1."""
    header = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
              "region_name", "old_la_code", "new_la_code", "la_name", "age_group", "population_estimate"]
    rows = [[year, "Calendar year", "National", "E92000001", "England", "", "", "", "", "", "Children aged 0 to 17 years",
             "12000000"],
            [year, "Calendar year", "Regional", "E92000001", "England", "E12000001", "North East", "", "", "",
             "Children aged 0 to 17 years", "500000"],
            [year, "Calendar year", "Local authority", "E92000001", "England", "E12000001", "North East", "808",
             "E06000004", "Stockton-on-Tees", "Children aged 0 to 17 years", stockton],
            [year, "Calendar year", "Local authority", "E92000001", "England", "E12000001", "North East", "841",
             "E06000005", "Darlington", "Children aged 0 to 17 years", darlington]]
    return write_csv(path, header, rows)


def test_b1_without_rate_columns_is_computed_from_counts(tmp_path):
    write_csv(tmp_path / "b1_counts_only.csv", B1_HEADER[:-1], [r[:-1] for r in b1_rows()])
    _population_file(tmp_path / "population.csv")
    ds = indicators.load(tmp_path)
    table = indicators.compute(ds.observations)
    st_row = table[(table["indicator"] == "cin_rate") & (table["area_code"] == STOCKTON)].iloc[0]
    assert st_row["value_basis"] == "computed" and np.isnan(st_row["published_value"])
    assert (st_row["numerator"], st_row["denominator"]) == (2400, 40000)
    assert st_row["value"] == pytest.approx(600.0)          # 2400 / 40000 x 10,000
    dar = table[(table["indicator"] == "cin_rate") & (table["area_code"] == "E06000005")].iloc[0]
    assert dar["value"] == pytest.approx(480.0)              # 1200 / 25000 x 10,000


def test_b1_with_rate_says_published(tmp_path):
    obs = sources.observations(sources.read_raw(write_csv(tmp_path / "b1.csv", B1_HEADER, b1_rows())),
                               indicators.registry())
    st_row = obs[obs["area_code"] == STOCKTON].iloc[0]
    assert (st_row["value_basis"], st_row["published_value"]) == ("published", 540.0)


# ---------------------------------------------------------------------------------------------------------------
# A renamed column is one catalogue line


def test_a_synonym_added_to_a_copy_of_the_catalogue_reads_a_renamed_column(tmp_path):
    header = ["CIN_on_31_March" if c == "At31_episodes" else c for c in B1_HEADER]
    path = write_csv(tmp_path / "renamed.csv", header, b1_rows())
    with pytest.raises(sources.UnknownLayout) as info:
        sources.read_raw(path)
    assert info.value.closest == "cin_b1" and info.value.missing == ["At31_episodes"]

    text = sources.CATALOGUE_FILE.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    i = next(i for i, line in enumerate(lines) if line.strip().startswith("At31_episodes:"))
    lines[i] = lines[i].replace("synonyms: [", "synonyms: [CIN_on_31_March, ")
    copy = tmp_path / "layouts.yaml"
    copy.write_text("".join(lines), encoding="utf-8")
    changed = [a for a, b in zip(text.splitlines(), copy.read_text(encoding="utf-8").splitlines()) if a != b]
    assert len(changed) == 1                                             # one line of the catalogue

    raw = sources.read_raw(path, layouts=sources.load_catalogue(copy))
    assert raw.layout.name == "cin_b1"
    obs = sources.observations(raw, indicators.registry())
    assert obs.loc[obs["area_code"] == STOCKTON, "numerator"].iloc[0] == 2400


def test_registry_key_may_use_a_catalogued_variant():
    layout = sources.LAYOUTS["placement_stability"]
    long = "Children looked after continuously for at least 2.5 years at 31 March aged under 16 years"
    assert layout.canonical_label("cla_group", long) == ("Children looked after continuously for at least 2.5 years "
                                                         "on 31 March aged under 16 years")
    assert layout.canonical_label("cla_group", "  cla  AT 31 march ") == "CLA on 31 March"
    assert sources.LAYOUTS["care_leavers"].canonical_label("care_leaver_age", "aged 17 to 18") == "17 to 18 years"


def test_a_new_breakdown_is_never_double_counted(tmp_path):
    """A later release adds rows by sex to B1, and a second category: only the totals of children in need count."""
    header = B1_HEADER[:11] + ["sex"] + B1_HEADER[11:]
    rows = []
    for r in b1_rows():
        rows.append(r[:11] + ["Total"] + r[11:])
        rows.append(r[:11] + ["Female"] + [str(int(r[11]) // 2), r[12]])
        rows.append(r[:10] + ["Children in need with a disability", "Total", "7", "1.0"])
    raw = sources.read_raw(write_csv(tmp_path / "b1_by_sex.csv", header, rows))
    assert any("ignored 8 row(s)" in w for w in raw.warnings)
    obs = sources.observations(raw, indicators.registry())
    assert obs.loc[obs["area_code"] == STOCKTON, "numerator"].tolist() == [2400]


def test_sn_groupings_is_recognised_with_canonical_names(tmp_path):
    """DfE's older groupings layout (header as in DfE's New_Statistical_Neighbour_Groupings_April_2021.csv)."""
    header = ["LA num", "LA Name", "LA number", "GOInd", "GOReg"]
    for k in range(1, 11):
        header += [f"SN{k}", "SNP"]
    header += [""]
    codes = ["841", "381", "888", "351", "359", "342", "343", "344", "392", "840"]
    row = ["808", "Stockton-on-Tees", "808", "4", "North East"]
    for k, code in enumerate(codes):
        row += [code, "Extremely Close" if k < 2 else "Very Close"]
    row += [""]
    raw = sources.read_raw(write_csv(tmp_path / "groupings.csv", header, [row]))
    assert raw.layout.name == "sn_groupings"
    t = raw.table.iloc[0]
    assert (t["old_la_code"], t["la_name"], t["region_name"]) == ("808", "Stockton-on-Tees", "North East")
    assert [t[f"SN_{k}"] for k in range(1, 11)] == codes
    assert (t["SN_1P"], t["SN_2P"], t["SN_3P"]) == ("Extremely Close", "Extremely Close", "Very Close")


# ---------------------------------------------------------------------------------------------------------------
# Files that are not what they claim: one line naming the file


def _error(path, exc=InputError):
    with pytest.raises(exc) as info:
        sources.observations(sources.read_raw(path), indicators.registry())
    message = str(info.value)
    assert "\n" not in message and Path(path).name in message
    return info.value, message


def test_semicolon_delimited(tmp_path):
    path = tmp_path / "cin_semicolon.csv"
    path.write_text("\n".join(";".join(r) for r in [B1_HEADER] + b1_rows()), encoding="utf-8")
    _, msg = _error(path)
    assert "is semicolon-delimited; save it as comma-separated CSV" in msg


def test_xlsx_saved_as_csv(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    for r in [B1_HEADER] + b1_rows():
        wb.active.append(r)
    path = tmp_path / "cin.csv"
    wb.save(path)
    assert path.read_bytes()[:2] == b"PK"
    _, msg = _error(path)
    assert "Excel workbook" in msg and "save it as CSV" in msg


def test_truncated_gzip(tmp_path):
    text = "\n".join(",".join(r) for r in [B1_HEADER] + b1_rows() * 200).encode()
    whole = gzip.compress(text)
    path = tmp_path / "cin.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    _, msg = _error(path)
    assert "truncated or corrupt gzip" in msg


def test_unreadable_file(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "cin.csv", B1_HEADER, b1_rows())
    real_open = Path.open

    def denied(self, *args, **kwargs):
        if self.name == "cin.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)  # we run as root: a chmod would not stop us reading
    _, msg = _error(path)
    assert "cannot be read: permission denied" in msg


def test_a_row_with_an_extra_field_is_located(tmp_path):
    rows = b1_rows()
    rows[2] = rows[2] + ["extra"]
    err, msg = _error(write_csv(tmp_path / "cin.csv", B1_HEADER, rows))
    assert "not a well-formed CSV" in msg and err.row == 4


def test_huge_junk_is_rejected_from_its_header(tmp_path):
    """200 MB of unrelated columns: rejected from the header row without reading the body."""
    path = tmp_path / "junk.csv"
    with open(path, "wb") as fh:
        fh.write(b"school_urn,pupils,ofsted_grade,postcode\n" + b"100001,250,2,TS18 1AA\n" * 1000)
        fh.truncate(200 * 1024 * 1024)  # a sparse file: 200 MB long
    t0 = time.perf_counter()
    err, msg = _error(path, sources.UnknownLayout)
    assert time.perf_counter() - t0 < 0.5
    assert "unknown layout" in msg and err.closest is None and err.missing == []


def test_renamed_cla_columns_name_the_closest_layout(tmp_path):
    """A CLA release with its category and count renamed is not taken for the ONS population file."""
    needs_data()
    text = (DFE / "cla_number_and_rate_per_10k_children_pub2024.csv").read_text(encoding="utf-8-sig")
    head, body = text.split("\n", 1)
    head = head.replace("population_count", "cla_measure_name").replace(",number,", ",cla_number,")
    path = tmp_path / "cla.csv"
    path.write_text(head + "\n" + body, encoding="utf-8")
    err, msg = _error(path, sources.UnknownLayout)
    assert err.closest == "cla_rates" and err.missing == ["cla_category", "number"]
    assert "age_group" not in msg and "population_count" in msg  # names the synonyms it looked for


# ---------------------------------------------------------------------------------------------------------------
# Property: column order, header case and a byte-order mark do not change the observations


def _long_file_rows():
    header = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
              "region_name", "old_la_code", "la_name", "new_la_code", "age", "activity", "number", "percentage"]
    rows = []
    for code, old, name, tot, eet in [("E06000004", "808", "Stockton-on-Tees", "82", "45"),
                                      ("E06000005", "841", "Darlington", "40", "30")]:
        geo = ["2024", "Reporting year", "Local authority", "E92000001", "England", "E12000001", "North East", old,
               name, code]
        rows.append(geo + ["Aged 17 to 18", "Total", tot, "100"])
        rows.append(geo + ["Aged 17 to 18", "Total in education, employment or training", eet,
                           str(int(numbers.round_half_up(100 * int(eet) / int(tot), 0)))])
    return header, rows


def _canonical_obs(obs):
    cols = ["indicator", "area_code", "time_period", "numerator", "denominator", "published_value", "value_basis"]
    return obs[cols].sort_values(cols[:3]).reset_index(drop=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_order_case_and_bom_do_not_change_observations(tmp_path, data):
    header, rows = _long_file_rows()
    reg = indicators.registry()
    expected = _canonical_obs(sources.observations(sources.read_raw(write_csv(tmp_path / "base.csv", header, rows)),
                                                   reg))
    order = data.draw(st.permutations(range(len(header))))
    upper = data.draw(st.lists(st.booleans(), min_size=len(header), max_size=len(header)))
    bom = data.draw(st.booleans())
    pad = data.draw(st.sampled_from(["", " ", "  "]))
    new_header = [header[i].upper() if upper[i] else header[i] for i in order]
    new_rows = [[(pad + r[i] + pad) if header[i] in ("age", "activity") else r[i] for i in order] for r in rows]
    path = write_csv(tmp_path / "shuffled.csv", new_header, new_rows, bom=bom)
    got = _canonical_obs(sources.observations(sources.read_raw(path), reg))
    pd.testing.assert_frame_equal(got, expected)
    assert len(expected) == 2 and set(expected["indicator"]) == {"care_leavers_eet_17_18_pct"}


def test_2022_stability_release_with_characteristic_column(tmp_path):
    """The 2022 release (BenGoodair/childrens_social_care_data, post_2017) named the breakdown `characteristic`,
    said "Children looked after at 31 March" and "Living in the same placement ..."; Stockton-on-Tees rows as
    published there."""
    header = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
              "region_name", "old_la_code", "la_name", "new_la_code", "cla_group", "characteristic", "number",
              "percentage"]
    geo = ["2022", "Reporting year", "Local authority", "E92000001", "England", "E12000001", "North East", "808",
           "Stockton-on-Tees", "E06000004"]
    long_group = "Children looked after continuously for at least 2.5 years at 31 March aged under 16 years"
    same = ("Living in the same placement for at least 2 years, or are placed for adoption and their adoption and "
            "their adoptive placement together with their previous placement, last for at least 2 years")
    rows = [geo + [long_group, same, "182", "71"], geo + [long_group, "Total children", "255", "100"],
            geo + ["Children looked after at 31 March", "Total children", "574", "100"],
            geo + ["Children looked after at 31 March", "With 3 or more placements during the year", "57", "10"]]
    raw = sources.read_raw(write_csv(tmp_path / "la_cla_at_31_march_placement_stability_indicator.csv", header, rows))
    assert raw.layout.name == "placement_stability"
    obs = sources.observations(raw, indicators.registry()).set_index("indicator")
    assert tuple(obs.loc["stability_same_carer_pct", ["numerator", "denominator", "published_value"]]) == (182, 255, 71)
    assert tuple(obs.loc["placements_3plus_pct", ["numerator", "denominator", "published_value"]]) == (57, 574, 10)
