"""Reading a folder as analysts keep it: several releases side by side, copies, unrelated files
(:mod:`analysis.read.folder`, through ``indicators.load``, which reads with the package's registry, and directly).

Expected values come from the files' own published columns or from the small hand-made tables written here.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import indicators
from analysis.read import areas, folder, sources
from analysis.errors import InputError, ParameterError
from conftest import B1_HEADER, SHARED, SHARED_DATA, b1_rows, needs_shared, write_csv

OLDER = SHARED / "data" / "dfe-older"


def link_folder(folder: Path, pattern_older: bool = True) -> Path:
    """The acceptance check's folder: current files, every earlier release (prefixed by snapshot), a README.csv."""
    folder.mkdir()
    for f in SHARED_DATA.iterdir():
        if not f.name.endswith(".md"):
            (folder / f.name).symlink_to(f)
    if pattern_older:
        for f in OLDER.glob("*/*"):
            if not f.name.endswith(".md"):
                (folder / f"{f.parent.name}_{f.name}").symlink_to(f)
    (folder / "README.csv").write_text("note,text\nsaved by,the analyst\n")
    return folder


def published(path: Path, la_code: str, year: str, column: str, **where) -> float:
    """A figure read straight from a published file with the csv module (independent of our readers)."""
    opener = open
    if path.suffix == ".gz":
        import gzip

        opener = gzip.open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            if (row["time_period"] == year and row.get("new_la_code") == la_code
                    and all(row[k] == v for k, v in where.items())):
                return float(row[column])
    raise LookupError(f"{la_code} {year} not in {path.name}")


@pytest.fixture(scope="module")
def older(tmp_path_factory):
    needs_shared()
    folder = link_folder(tmp_path_factory.mktemp("older") / "data")
    ds = indicators.load(folder)
    return folder, ds, indicators.compute(ds.observations)


def row(table, ind, area, year):
    hit = table[(table["indicator"] == ind) & (table["area_code"] == area) & (table["time_period"] == year)]
    assert len(hit) == 1, (ind, area, year, len(hit))
    return hit.iloc[0]


# --------------------------------------------------------------------------------------------------------------------
# The real folder with every earlier release side by side


def test_newer_release_wins_with_its_revised_figures(older):
    _, _, table = older
    cla24 = SHARED_DATA / "cla_number_and_rate_per_10k_children_pub2024.csv"
    key = {"population_count": "Children looked after at 31 March each year"}
    r = row(table, "cla_rate", "E06000004", "2023")
    # The 2023 release said 574 children, rate 131; the 2024 release revised 2023 to 577 children, rate 132.
    assert r["numerator"] == published(cla24, "E06000004", "2023", "number", **key) == 577
    assert r["denominator"] == published(cla24, "E06000004", "2023", "population_estimate", **key)
    assert round(r["value"]) == published(cla24, "E06000004", "2023", "rate_per_10000", **key) == 132
    assert r["release"] == "2024"


def test_years_only_an_older_release_holds_are_kept(older):
    _, _, table = older
    old = OLDER / "bengoodair_updated24" / "cla_number_and_rate_per_10k_children.csv"
    key = {"population_count": "Children looked after at 31 March each year"}
    r = row(table, "cla_rate", "E06000004", "2019")  # the 2024 release starts in 2020
    assert r["release"] == "2023"
    assert r["numerator"] == published(old, "E06000004", "2019", "number", **key)
    assert round(r["value"]) == published(old, "E06000004", "2019", "rate_per_10000", **key)


def test_acceptance_figures_for_stockton_2024(older):
    _, _, table = older
    cin = published(SHARED_DATA / "b1_children_in_need_2013_to_2024.csv", "E06000004", "2024", "At31_episodes_rate")
    reref = published(SHARED_DATA / "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv", "E06000004",
                      "2024", "rereferral_percent")
    neet = published(SHARED_DATA / "UD_NEETNK_LA_dashboard_2024.csv", "E06000004", "2024", "NEET_not_known_percent")
    assert (cin, reref, neet) == (543.2, 30.3, 7.0)
    assert row(table, "cin_rate", "E06000004", "2024")["value"] == pytest.approx(cin, abs=0.051)
    assert row(table, "rereferral_pct", "E06000004", "2024")["value"] == pytest.approx(reref, abs=0.051)
    assert row(table, "neet_nk_pct", "E06000004", "2024")["value"] == pytest.approx(neet, abs=0.051)


def test_unrelated_file_is_one_warning_and_the_run_goes_on(older):
    _, ds, _ = older
    readme = [w for w in ds.warnings if "README.csv" in w]
    assert len(readme) == 1
    assert readme[0].startswith("README.csv: not recognised") and "unknown layout" in readme[0]


def test_inventory_lists_every_file(older):
    folder, ds, _ = older
    inv = indicators.inventory(ds)
    assert list(inv.columns) == ["file", "layout", "publication", "status", "reason", "release", "periods", "areas",
                                 "indicators", "rows_used", "rows_superseded", "sha256"]
    assert sorted(inv["file"]) == sorted(p.name for p in folder.iterdir())
    assert set(inv["status"]) <= set(indicators.STATUSES)
    assert inv["sha256"].str.fullmatch(r"[0-9a-f]{12}").all()
    by = inv.set_index("file")
    assert by.loc["README.csv", "status"] == "not recognised"
    # The 2024 release of table D5 is wholly inside the 2025 release: superseded, nothing used from it.
    d5_old = by.loc["csc_2024release_d5_cpps_at31march_by_duration_2013_to_2024.csv"]
    assert (d5_old["status"], d5_old["rows_used"]) == ("superseded", 0)
    assert "d5_cpps_at31march_by_duration_2013_to_2025.csv" in d5_old["reason"]
    d5 = by.loc["d5_cpps_at31march_by_duration_2013_to_2025.csv"]
    assert (d5["status"], d5["release"], d5["periods"], d5["layout"]) == ("used", "2025", "2013 to 2025", "cp_d5")
    assert re.fullmatch(r"\d+ LAs, \d+ regions, England", d5["areas"])
    # the 2023 CLA release: 2019, and areas the 2024 release no longer lists (2020-2023 are otherwise in it)
    cla23 = by.loc["bengoodair_updated24_cla_number_and_rate_per_10k_children.csv"]
    assert cla23["status"] == "used" and cla23["rows_superseded"] > 0
    used = ds.observations[ds.observations["source_file"] == cla23.name]
    assert len(used) == cla23["rows_used"] and "2019" in set(used["time_period"])
    with open(SHARED_DATA / "cla_number_and_rate_per_10k_children_pub2024.csv", encoding="utf-8-sig") as fh:
        in_2024 = {(r["time_period"], r["new_la_code"]) for r in csv.DictReader(fh)}
    later = used[used["time_period"] != "2019"]
    assert not any((p, a) in in_2024 for p, a in zip(later["time_period"], later["area_code"]))
    assert by.loc["sn_model_2025_wide.csv", "status"] == "used"
    # Dataset.files keeps its old shape for existing callers: the files whose figures are used
    assert {f["file"] for f in ds.files} == set(by.index[by["status"] == "used"])
    assert {"file", "publication", "release", "years", "rows", "sha256"} <= set(ds.files[0])


def test_populations_reproduce_each_winning_release(older):
    _, _, table = older
    cla = table[(table["indicator"] == "cla_rate") & (table["geographic_level"] == "Local authority")
                & table["published_value"].notna() & table["value"].notna()]
    assert len(cla) > 700
    # DfE rounds half up; a whole-number rate from unrounded counts reproduces to within float noise
    assert (np.floor(cla["value"] + 0.5 + 1e-9) == cla["published_value"]).all()


# --------------------------------------------------------------------------------------------------------------------
# Small hand-made folders


def b1(year_rows: dict) -> list[list]:
    """B1 rows for Stockton and Darlington: {year: (stockton count, darlington count)}."""
    base = b1_rows()
    out = []
    for year, (stockton, darlington) in year_rows.items():
        for r, n in ((base[2], stockton), (base[3], darlington)):
            out.append([year] + r[1:11] + [str(n), "1.0"])
    return out


def by_key(ds):
    obs = ds.observations
    return {(r.area_code, r.time_period): (r.numerator, r.release, r.source_file) for r in obs.itertuples()}


@pytest.mark.parametrize("old_name,new_name", [("a_old.csv", "z_new.csv"), ("z_old.csv", "a_new.csv")])
def test_newest_release_wins_whatever_the_names(tmp_path, old_name, new_name):
    write_csv(tmp_path / old_name, B1_HEADER, b1({"2022": (2000, 1000), "2023": (2100, 1100)}))
    write_csv(tmp_path / new_name, B1_HEADER, b1({"2023": (2150, 1100), "2024": (2400, 1200)}))
    got = by_key(indicators.load(tmp_path))
    assert got[("E06000004", "2023")] == (2150, "2024", new_name)  # revised by the newer release
    assert got[("E06000004", "2022")] == (2000, "2023", old_name)  # only the older release has 2022
    assert got[("E06000004", "2024")] == (2400, "2024", new_name)


def test_identical_copy_is_read_once(tmp_path):
    write_csv(tmp_path / "b1.csv", B1_HEADER, b1({"2024": (2400, 1200)}))
    (tmp_path / "b1 (1).csv").write_bytes((tmp_path / "b1.csv").read_bytes())
    ds = indicators.load(tmp_path)
    assert len(ds.observations) == 2
    copies = [w for w in ds.warnings if "identical" in w]
    assert copies == ["b1 (1).csv: identical copy, not used: identical to b1.csv (same SHA-256); read once"]
    inv = indicators.inventory(ds).set_index("file")
    assert inv.loc["b1 (1).csv", "status"] == "identical copy" and inv.loc["b1.csv", "status"] == "used"


@pytest.mark.parametrize("names", [("a.csv", "b.csv"), ("b.csv", "a.csv")])
def test_same_latest_period_more_periods_wins_and_a_warning_says_they_differ(tmp_path, names):
    write_csv(tmp_path / names[0], B1_HEADER, b1({"2023": (2100, 1100), "2024": (2400, 1200)}))
    write_csv(tmp_path / names[1], B1_HEADER, b1({"2024": (2401, 1200)}))
    ds = indicators.load(tmp_path)
    assert by_key(ds)[("E06000004", "2024")] == (2400, "2024", names[0])
    differ = [w for w in ds.warnings if "differ" in w]
    assert len(differ) == 1
    assert differ[0].startswith(f"{names[1]} and {names[0]} are both the 2024 release but differ on 1 figure(s)")


def test_unreadable_file_is_one_warning(tmp_path):
    write_csv(tmp_path / "b1.csv", B1_HEADER, b1({"2024": (2400, 1200)}))
    # B1's own header, but saved from Excel in Windows-1252: recognised from its header, unreadable in its body
    text = ",".join(B1_HEADER) + "\n2024,Reporting year,Local authority,E92000001,England,E12000001,North East,808," \
                                 "E06000004,Stockton-on-T\xe9es,Children in Need,2400,540.0\n"
    (tmp_path / "export.csv").write_bytes(text.encode("latin-1"))
    ds = indicators.load(tmp_path)
    assert len(ds.observations) == 2
    bad = [w for w in ds.warnings if "export.csv" in w]
    assert len(bad) == 1 and "not UTF-8" in bad[0]
    inv = indicators.inventory(ds).set_index("file")
    assert inv.loc["export.csv", "status"] == "unreadable"


def test_no_file_with_an_indicator_fails_in_one_line(tmp_path):
    (tmp_path / "notes.csv").write_text("note,text\na,b\n")
    with pytest.raises(ParameterError, match=r"no file in .* yields any indicator \(notes.csv: unknown layout"):
        indicators.load(tmp_path)


def test_asked_indicator_without_a_source_fails_others_warn(tmp_path):
    write_csv(tmp_path / "b1.csv", B1_HEADER, b1({"2024": (2400, 1200)}))
    with pytest.raises(ParameterError) as err:
        indicators.load(tmp_path, indicators=["cin_rate", "cla_rate"])
    assert "\n" not in str(err.value)
    publication = sources.LAYOUTS["cla_rates"].publication
    assert "Children looked after" in publication
    assert str(err.value).startswith(f"no source for cla_rate (it comes from {publication})")
    ds = indicators.load(tmp_path, indicators=["cin_rate"])
    cla = [w for w in ds.warnings if w.startswith("cla_rate ")]
    title = indicators.registry()["cla_rate"]["short_title"]
    assert cla == [f"cla_rate ({title}): no file provides it; it comes from Children looked after in England "
                   "including adoptions, numbers and rates per 10,000 children (cla_rates)"]
    with pytest.raises(ParameterError, match="unknown indicator nonsense"):
        indicators.load(tmp_path, indicators=["nonsense"])


def test_bad_value_in_a_wholly_superseded_release_does_not_stop_the_run(tmp_path):
    old = b1({"2023": (2100, 1100)})
    old[0][11] = "lots"
    write_csv(tmp_path / "old.csv", B1_HEADER, old)
    write_csv(tmp_path / "new.csv", B1_HEADER, b1({"2023": (2150, 1100), "2024": (2400, 1200)}))
    ds = indicators.load(tmp_path)
    assert indicators.inventory(ds).set_index("file").loc["old.csv", "status"] == "superseded"
    # ... but it does when the file still holds a figure no newer release has
    old = b1({"2022": (2000, 1000), "2023": (2100, 1100)})
    old[2][11] = "lots"
    write_csv(tmp_path / "old.csv", B1_HEADER, old)
    with pytest.raises(InputError, match=r"old.csv, column 'At31_episodes', row 4: 'lots' is not a number"):
        indicators.load(tmp_path)


CLA_HEADER = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
              "region_name", "old_la_code", "la_name", "new_la_code", "population_count", "population_estimate",
              "number", "rate_per_10000"]


def cla_row(year, count, population, rate, category="Children looked after at 31 March each year"):
    return [year, "Reporting year", "Local authority", "E92000001", "England", "E12000001", "North East", "808",
            "Stockton-on-Tees", "E06000004", category, str(population), str(count), str(rate)]


def test_count_above_its_population_is_a_located_error(tmp_path):
    write_csv(tmp_path / "cla.csv", CLA_HEADER, [
        cla_row("2024", 400, 40000, 100),
        cla_row("2024", 50, 40000, 13, "Children starting to be looked after each year"),
        cla_row("2023", 41000, 40000, 10250),
    ])
    with pytest.raises(InputError) as err:
        indicators.load(tmp_path)
    msg = str(err.value)
    assert msg.startswith("cla.csv, column 'number', row 4: cla_rate: count 41000 for Stockton-on-Tees 2023 is above "
                          "the population it is divided by (40000")
    assert "\n" not in msg


def test_sort_rows_takes_any_index():
    obs = pd.DataFrame({"indicator": ["cla_rate", "cin_rate", "cin_rate"], "geographic_level": ["National"] * 3,
                        "area_code": ["E92000001"] * 3,
                        "period_end": pd.to_datetime(["2024-03-31", "2024-03-31", "2023-03-31"])},
                       index=[7, 7, 500])
    out = folder.sort_rows(obs, indicators.registry())
    assert list(out["indicator"]) == ["cin_rate", "cin_rate", "cla_rate"]
    assert list(out["period_end"].dt.year) == [2023, 2024, 2024]
    assert list(out.index) == [0, 1, 2]


# --------------------------------------------------------------------------------------------------------------------
# Properties: the same folder in any order, under any names, with junk or an older release, gives the same table

CURRENT = ["cla_number_and_rate_per_10k_children_pub2024.csv", "UD_NEETNK_LA_dashboard_2023_final.csv",
           "UD_NEETNK_LA_dashboard_2024.csv", "ons_mid-year_population_estimates_2012_to_2024.csv",
           "sn_model_2025_wide.csv"]
OLDER_FILES = [OLDER / "bengoodair_updated24" / "cla_number_and_rate_per_10k_children.csv",
               OLDER / "csc_2024release" / "cla_number_and_rate_per_10k_children.csv",
               OLDER / "nccis_607292d" / "UD_NEETNK_LA_dashboard_final.csv"]
COMPARE = ["indicator", "geographic_level", "area_code", "time_period", "numerator", "denominator",
           "published_value", "release", "value"]


def table_of(folder: Path) -> pd.DataFrame:
    ds = indicators.load(folder)
    t = indicators.compute(ds.observations)
    t["indicator"] = t["indicator"].astype(str)
    return t[COMPARE].sort_values(COMPARE[:4]).reset_index(drop=True)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    needs_shared()
    folder = tmp_path_factory.mktemp("baseline")
    for name in CURRENT:
        (folder / name).symlink_to(SHARED_DATA / name)
    return table_of(folder)


names = st.lists(st.from_regex(r"[A-Za-z0-9 _()-]{1,12}", fullmatch=True), min_size=len(CURRENT) + 4,
                 max_size=len(CURRENT) + 4, unique_by=str.lower)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(len(CURRENT) + len(OLDER_FILES))), rename=st.booleans(), new_names=names,
       junk=st.booleans(), older_subset=st.sets(st.sampled_from(range(len(OLDER_FILES)))))
def test_table_does_not_depend_on_order_names_junk_or_older_releases(tmp_path_factory, baseline, order, rename,
                                                                      new_names, junk, older_subset):
    folder = tmp_path_factory.mktemp("prop")
    paths = [SHARED_DATA / n for n in CURRENT] + [OLDER_FILES[i] for i in sorted(older_subset)]
    chosen = [paths[i] for i in order if i < len(paths)]
    for i, src in enumerate(chosen):
        name = f"{new_names[i]}.csv" if rename else (f"older_{i}_{src.name}" if src.parent != SHARED_DATA else src.name)
        (folder / name).symlink_to(src)
    if junk:
        (folder / f"{new_names[-1]}_junk.csv").write_text("a,b,c\n1,2,3\n")
    got = table_of(folder)
    # the periods the current files cover: identical; older releases may only add earlier years
    merged = baseline.merge(got, on=COMPARE[:4], how="left", suffixes=("", "_got"), indicator=True)
    assert (merged["_merge"] == "both").all()
    for col in COMPARE[4:]:
        a, b = merged[col], merged[f"{col}_got"]
        same = (a == b) | (a.isna() & b.isna())
        assert same.all(), (col, merged.loc[~same, COMPARE[:4] + [col, f"{col}_got"]].head())


def test_a_renamed_file_is_named_by_its_new_name(tmp_path):
    """Content already read in this process is reused; messages and source_file still carry the current name."""
    needs_shared()
    neet = SHARED_DATA / "UD_NEETNK_LA_dashboard_2021_vg_removed.csv"
    for name in ("first.csv", "second name.csv"):
        folder = tmp_path / name.replace(".", "_")
        folder.mkdir()
        (folder / name).symlink_to(neet)
        write_csv(folder / "b1.csv", B1_HEADER, b1({"2024": (2400, 1200)}))
        ds = indicators.load(folder)
        codeless = [w for w in ds.warnings if "no area code" in w]
        assert codeless == [f"{name}: ignored 2 row(s) with no area code (rows 161, 162): LA demo, Region demo"]
        assert set(ds.observations.loc[ds.observations["indicator"] == "neet_pct", "source_file"]) == {name}


def test_a_table_with_no_category_an_indicator_reads_is_one_warning(tmp_path):
    write_csv(tmp_path / "b1.csv", B1_HEADER, b1({"2024": (2400, 1200)}))
    write_csv(tmp_path / "cla.csv", CLA_HEADER, [cla_row("2024", 40, 40000, 10, "Children adopted each year")])
    ds = indicators.load(tmp_path)
    assert [w for w in ds.warnings if w.startswith("cla.csv")] == [
        "cla.csv: not recognised, not used: read as Children looked after in England including adoptions, numbers "
        "and rates per 10,000 children, but no row matches the categories an indicator reads (cla_category)"]
    assert indicators.inventory(ds).set_index("file").loc["cla.csv", "status"] == "not recognised"


def test_counts_without_a_population_are_one_warning_per_rate(tmp_path):
    """B1 alone: the counts are read, but a rate per 10,000 needs the 0-17 population, which the folder lacks."""
    needs_shared()
    (tmp_path / "b1.csv").symlink_to(SHARED_DATA / "b1_children_in_need_2013_to_2024.csv")
    ds = indicators.load(tmp_path)
    said = [w for w in ds.warnings if w.startswith("cin_rate (")]
    assert len(said) == 1 and "no population estimate" in said[0] and "2013 to 2024" in said[0], ds.warnings
    row = ds.observations[(ds.observations["area_code"] == "E06000004") & (ds.observations["time_period"] == "2024")]
    assert row["numerator"].iloc[0] == 2395 and pd.isna(row["denominator"].iloc[0])


# --------------------------------------------------------------------------------------------------------------------
# Checks made as the folder is read, and read_folder with the registry it is given


def test_check_aggregates_by_hand():
    """England at 30 with regions 10 and 20 (and the other seven): outside; a region inside its LAs' range: kept."""
    reg = {"x_pct": {"multiplier": 100, "decimals": 0, "short_title": "X"}}
    regions = list(areas.regions()["region_code"])
    rows = [("National", areas.ENGLAND_CODE, "", 30.0)] + [("Regional", r, "", 10.0 + i) for i, r in
                                                         enumerate(regions)]
    rows += [("Local authority", "E06000004", "E12000001", 8.0), ("Local authority", "E06000001", "E12000001", 12.0)]
    obs = pd.DataFrame({"indicator": "x_pct", "time_period": "2024", "geographic_level": [r[0] for r in rows],
                        "area_code": [r[1] for r in rows], "region_code": [r[2] for r in rows],
                        "area_name": [r[1] for r in rows], "published_value": [r[3] for r in rows],
                        "numerator": float("nan"), "denominator": float("nan"),
                        "value_basis": sources.PUBLISHED_ONLY})
    flags, lines = folder.check_aggregates(obs, reg)
    assert list(flags[:2]) == [folder.AGGREGATE_DISAGREES, ""] and len(lines) == 1
    assert "30 against 10 to 18" in lines[0]


def test_read_folder_reads_the_indicators_of_the_registry_it_is_given(tmp_path):
    """Only the registry passed in is read, in its order; the package's other indicators are not missed."""
    write_csv(tmp_path / "b1.csv", B1_HEADER, b1({"2024": (2400, 1200)}))
    write_csv(tmp_path / "cla.csv", CLA_HEADER, [
        cla_row("2024", 400, 40000, 100),
        cla_row("2024", 50, 40000, 13, "Children starting to be looked after each year"),
    ])
    reg = indicators.registry()
    assert list(reg).index("cin_rate") < list(reg).index("cla_rate")
    mine = {ind: reg[ind] for ind in ("cla_rate", "cin_rate")}
    ds = folder.read_folder(tmp_path, mine)
    obs = ds.observations
    assert list(pd.unique(obs["indicator"].astype(str))) == ["cla_rate", "cin_rate"]  # the order of ``mine``
    # the file's starters (cla_starts_rate) are not in this registry, so not read; no "no file provides it" lines
    assert not any("no file provides it" in w for w in ds.warnings)
    assert any(w.startswith("cp_rate (") and "no file provides it" in w for w in indicators.load(tmp_path).warnings)
    # Stockton's 2024 children in need over the 2024 CLA release's population: 2400 / 40,000 (the rows above)
    cin = obs[(obs["indicator"] == "cin_rate") & (obs["area_code"] == "E06000004")].iloc[0]
    assert (cin["numerator"], cin["denominator"]) == (2400, 40000)


def test_content_is_reused_only_for_a_registry_said_not_to_change(tmp_path):
    """The real B1 read with the package's registry (kept per content), then with a registry that reads another of
    its columns: the second reading is its own. Stockton-on-Tees 2024 in b1_children_in_need_2013_to_2024.csv:
    At31_episodes 2395, Started_episodes 2110."""
    needs_shared()
    (tmp_path / "b1.csv").symlink_to(SHARED_DATA / "b1_children_in_need_2013_to_2024.csv")

    def stockton_2024(ds):
        obs = ds.observations
        return obs.loc[(obs["area_code"] == "E06000004") & (obs["time_period"] == "2024"), "numerator"].item()

    assert stockton_2024(indicators.load(tmp_path)) == 2395
    started = {**indicators.registry()["cin_rate"], "numerator": {"column": "Started_episodes"}}
    started.pop("published")
    assert stockton_2024(folder.read_folder(tmp_path, {"cin_rate": started})) == 2110
    assert stockton_2024(indicators.load(tmp_path)) == 2395


# --------------------------------------------------------------------------------------------------------------------
# Several folders (``--data-dir`` given more than once): read as one folder holding all their files


def test_two_folders_give_what_one_folder_of_all_their_files_gives(tmp_path):
    needs_shared()
    one, a, b = tmp_path / "one", tmp_path / "dfe", tmp_path / "more"
    for d in (one, a, b):
        d.mkdir()
    for i, f in enumerate(sorted(f for f in SHARED_DATA.iterdir() if not f.name.endswith(".md"))):
        (one / f.name).symlink_to(f)
        ((a if i % 2 else b) / f.name).symlink_to(f)
    single = indicators.compute(indicators.load(one).observations)
    for given in ([a, b], folder.join_folders([a, b]), f"{a}{os.pathsep}{b}{os.pathsep}"):
        ds = indicators.load(given)
        assert ds.data_dirs == [a, b] and ds.data_dir == a
        both = indicators.compute(ds.observations)
        pd.testing.assert_frame_equal(both.drop(columns="source_file"), single.drop(columns="source_file"))
        assert {Path(f["path"]).parent for f in ds.files} == {a, b}
        assert all(Path(f["path"]).name == f["file"] for f in ds.files)
    # the published figure: Stockton-on-Tees looked after per 10,000 in 2024, read with the csv module
    cla = SHARED_DATA / "cla_number_and_rate_per_10k_children_pub2024.csv"
    expected = published(cla, "E06000004", "2024", "rate_per_10000",
                         population_count="Children looked after at 31 March each year")
    assert round(row(both, "cla_rate", "E06000004", "2024")["value"]) == expected == 132


def test_one_name_in_two_folders_is_two_files_each_named_with_its_folder(tmp_path):
    (tmp_path / "2023").mkdir()
    (tmp_path / "2024").mkdir()
    write_csv(tmp_path / "2023" / "b1.csv", B1_HEADER, b1({"2022": (2000, 1000), "2023": (2100, 1100)}))
    write_csv(tmp_path / "2024" / "b1.csv", B1_HEADER, b1({"2023": (2150, 1100), "2024": (2400, 1200)}))
    got = by_key(indicators.load([tmp_path / "2023", tmp_path / "2024"]))
    assert got[("E06000004", "2023")] == (2150, "2024", "2024/b1.csv")  # the newer release, named with its folder
    assert got[("E06000004", "2022")] == (2000, "2023", "2023/b1.csv")


def test_a_missing_folder_fails_naming_it_and_an_empty_one_is_a_warning(tmp_path):
    write_csv(tmp_path / "b1.csv", B1_HEADER, b1({"2024": (2400, 1200)}))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match=r"^data folder not found: .*nowhere$"):
        indicators.load([tmp_path, tmp_path / "nowhere"])
    ds = indicators.load([tmp_path, tmp_path / "empty"])
    assert f"data folder {tmp_path / 'empty'}: no table files, nothing read from it" in ds.warnings
    assert len(ds.observations) == 2
    with pytest.raises(ParameterError, match=r"^no CSV files in data folder .*empty and .*empty2$"):
        (tmp_path / "empty2").mkdir()
        indicators.load([tmp_path / "empty", tmp_path / "empty2"])


def test_demo_data_in_any_folder_makes_the_whole_demo(tmp_path):
    from analysis.demo import write_demo_data

    (tmp_path / "mine").mkdir()
    write_csv(tmp_path / "mine" / "b1.csv", B1_HEADER, b1({"2024": (2400, 1200)}))
    assert not indicators.load(tmp_path / "mine").is_demo
    write_demo_data(tmp_path / "demo")
    assert indicators.load([tmp_path / "mine", tmp_path / "demo"]).is_demo
