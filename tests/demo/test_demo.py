"""Tests for the demo-data generator (analysis.demo).

Expected values come from outside the generator: layouts from the real published files in ../shared/data/dfe
(read at test time, skipped when absent), LA lists from la_lookup.csv, and rates recomputed here with plain
Decimal arithmetic from the demo population file.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from analysis import config, demo
from conftest import SHARED_DATA as REAL_DIR  # noqa: E402
LOOKUP = Path(__file__).resolve().parents[2] / "analysis" / "read" / "data" / "la_lookup.csv"

SYMBOLS = {"c", "x", "z", "k", "u", "low"}
NUMBER = re.compile(r"-?\d+(\.\d+)?")
TEXT_COLUMNS = {
    "time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
    "region_name", "old_la_code", "new_la_code", "la_name", "category", "population_count", "CLA_group", "cla_group",
    "placement_stability", "care_leaver_age", "breakdown", "age_group", "Age",
}
ENGLAND_REGIONS = {f"E1200000{k}" for k in range(1, 10)}

# Years each demo file must cover (chosen in the brief, not read from the generator).
EXPECTED_YEARS = {
    "demo_ons_mid-year_population_estimates_2012_to_2024.csv": range(2012, 2025),
    "demo_b1_children_in_need_2013_to_2024.csv": range(2013, 2025),
    "demo_d5_cpps_at31march_by_duration_2013_to_2025.csv": range(2013, 2026),
    "demo_cla_number_and_rate_per_10k_children_pub2024.csv": range(2015, 2025),
    "demo_la_children_who_were_missing_or_away_from_placement_without_authorisation_updated25.csv":
        range(2015, 2025),
    "demo_c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv": range(2013, 2026),
    "demo_d3_cpps_subsequent_plan_2013_to_2025.csv": range(2013, 2026),
    "demo_la_cla_placement_stability.csv": range(2021, 2026),
    "demo_la_care_leavers_activity.csv.gz": range(2021, 2026),
    "demo_la_care_leavers_accommodation_suitability.csv": range(2021, 2026),
    **{f"demo_UD_NEETNK_LA_dashboard_{y}.csv": range(y, y + 1) for y in range(2016, 2025)},
}


# The scorecard's demo files (issue 10), in the layouts of the files in ../shared/data/kpi.
KPI_DEMO_FILES = {"demo_ks2_la.csv", "demo_ks4_la.csv", "demo_la_conviction_health_outcome_cla.csv", "demo_sen2_mi.csv",
                  "demo_1_eyfsp_headline_measures_2022.csv",
                  "demo_early_years_provision_children_registered_2018_2023.csv", "demo_lait_bds_long_0.parquet",
                  "demo_RSX_2023-24_data_by_LA.ods", "demo_RSX_LA_Data_2024-25_data_by_LA.ods"}


def real_name(demo_name: str) -> str:
    if demo_name.startswith("demo_UD_NEETNK_LA_dashboard_"):
        return "UD_NEETNK_LA_dashboard_2024.csv"
    return demo_name.removeprefix("demo_")


def raw_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def read_rows(path: Path) -> list[dict]:
    text = raw_bytes(path).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def current_las() -> list[dict]:
    with open(LOOKUP, newline="", encoding="utf-8-sig") as handle:
        return [r for r in csv.DictReader(handle) if r["last_year"] == "2025"]


def half_up(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def rate(count, pop, places: str) -> Decimal:
    return half_up(Decimal(count) * Decimal(10000) / Decimal(pop), places)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    start = time.perf_counter()
    paths = demo.write_demo_data(out, seed=2024)
    elapsed = time.perf_counter() - start
    return out, paths, elapsed


@pytest.fixture(scope="module")
def data_files(demo_dir):
    """The demo copies of the DfE files in ../shared/data/dfe (the scorecard's files are checked in test_kpi)."""
    _, paths, _ = demo_dir
    return [p for p in paths if p.name != "README.md" and p.name not in KPI_DEMO_FILES]


@pytest.fixture(scope="module")
def population(demo_dir):
    """(mid-year, area code) -> population, from the demo ONS file; England keyed by its code."""
    out, _, _ = demo_dir
    pops = {}
    for r in read_rows(out / "demo_ons_mid-year_population_estimates_2012_to_2024.csv"):
        code = {"National": "E92000001", "Regional": r["region_code"]}.get(r["geographic_level"], r["new_la_code"])
        pops[(int(r["time_period"]), code)] = int(r["population_estimate"])
    return pops


def area_code(r: dict) -> str:
    return {"National": "E92000001", "Regional": r["region_code"]}.get(r["geographic_level"], r["new_la_code"])


def test_same_seed_gives_byte_identical_files(demo_dir, tmp_path):
    out, paths, _ = demo_dir
    again = demo.write_demo_data(tmp_path / "again", seed=2024)
    assert [p.name for p in again] == [p.name for p in paths]
    for p, q in zip(paths, again):
        assert p.read_bytes() == q.read_bytes(), p.name


def test_other_seed_gives_other_figures(demo_dir, tmp_path):
    out, _, _ = demo_dir
    other = demo.write_demo_data(tmp_path / "other", seed=7)
    b1 = next(p for p in other if p.name.startswith("demo_b1"))
    assert b1.read_bytes() != (out / b1.name).read_bytes()


def test_generation_is_fast(demo_dir):
    assert demo_dir[2] < 10.0  # brief: well under 5 s; generous margin for slow CI machines


def test_files_listed_and_readme(demo_dir):
    out, paths, _ = demo_dir
    names = [p.name for p in paths]
    assert set(names) == set(EXPECTED_YEARS) | {"demo_sn_model_2025_wide.csv", "README.md"} | KPI_DEMO_FILES
    assert all(p.parent == out and p.is_file() for p in paths)
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert demo.DEMO_NOTICE in readme
    assert "synthetic" in readme.lower()
    for name in names:
        if name != "README.md":
            assert name in readme
    assert demo.DEMO_NOTICE == ("Demo data: synthetic figures generated by this project for illustration; "
                                "not official statistics.")


@pytest.mark.skipif(not REAL_DIR.is_dir(), reason="real published files not available")
def test_headers_match_real_files(data_files):
    for path in data_files:
        real = REAL_DIR / real_name(path.name)
        assert real.is_file(), real
        demo_head = raw_bytes(path).split(b"\n", 1)[0]
        real_head = raw_bytes(real).split(b"\n", 1)[0]
        # Same bytes up to the first newline: column names, order, BOM and CR (line ending) alike.
        assert demo_head == real_head, path.name
        assert demo_head.startswith(b"\xef\xbb\xbf") == real_head.startswith(b"\xef\xbb\xbf")


@pytest.mark.skipif(not REAL_DIR.is_dir(), reason="real published files not available")
def test_geography_conventions_match_real_files(data_files):
    """time_identifier, geographic levels, regional rows and LA region codes (Inner/Outer London) as published."""
    for path in data_files:
        if path.name.startswith("demo_sn_model"):
            continue
        real_rows = read_rows(REAL_DIR / real_name(path.name))
        rows = read_rows(path)
        for col in ("time_identifier", "geographic_level", "country_code", "country_name"):
            assert {r[col] for r in rows} == {r[col] for r in real_rows}, (path.name, col)
        latest = max(r["time_period"] for r in real_rows)
        real_regions = {r["region_code"] for r in real_rows
                        if r["time_period"] == latest and r["geographic_level"] == "Regional"}
        for year in {r["time_period"] for r in rows}:
            regions = {r["region_code"] for r in rows
                       if r["time_period"] == year and r["geographic_level"] == "Regional"}
            assert regions == real_regions, (path.name, year)
        real_la_regions = {r["region_code"] for r in real_rows if r["geographic_level"] == "Local authority"}
        assert {r["region_code"] for r in rows if r["geographic_level"] == "Local authority"} == real_la_regions


def test_every_current_la_in_every_year(data_files):
    las = current_las()
    codes = {r["new_la_code"] for r in las}
    assert len(codes) == 153
    names = {r["new_la_code"]: r["la_name"] for r in las}
    for path in data_files:
        if path.name.startswith("demo_sn_model"):
            continue
        rows = read_rows(path)
        years = {int(r["time_period"]) for r in rows}
        assert years == set(EXPECTED_YEARS[path.name]), path.name
        for year in years:
            in_year = [r for r in rows if int(r["time_period"]) == year]
            la_rows = [r for r in in_year if r["geographic_level"] == "Local authority"]
            assert {r["new_la_code"] for r in la_rows} == codes, (path.name, year)
            assert all(r["la_name"] == names[r["new_la_code"]] for r in la_rows)
            assert any(r["geographic_level"] == "National" for r in in_year)
            assert ENGLAND_REGIONS <= {r["region_code"] for r in in_year if r["geographic_level"] == "Regional"}


def test_population_sums(population):
    for year in range(2012, 2025):
        las = [population[(year, r["new_la_code"])] for r in current_las()]
        assert population[(year, "E92000001")] == sum(las)
        regions = sum(population[(year, code)] for code in ENGLAND_REGIONS)
        assert regions == sum(las)
        assert population[(year, "E12000007")] == population[(year, "E13000001")] + population[(year, "E13000002")]
    england = population[(2024, "E92000001")]
    assert 11_000_000 < england < 13_000_000
    assert 40_000 <= population[(2024, "E06000004")] <= 48_000
    assert population[(2024, "E06000053")] < 2000 and population[(2024, "E09000001")] < 2000


def check_rate(published: str, count: str, pop: int, level: str, places: str):
    """LA rates exact; national and regional counts are rounded to 10, so the rate comes from a count within 5."""
    if level == "Local authority":
        assert Decimal(published) == rate(int(count), pop, places), (published, count, pop)
    else:
        low = rate(max(int(count) - 5, 0), pop, places)
        high = rate(int(count) + 5, pop, places)
        assert low <= Decimal(published) <= high, (published, count, pop)
        assert int(count) % 10 == 0


def test_b1_rates_recompute(demo_dir, population):
    out, _, _ = demo_dir
    rows = read_rows(out / "demo_b1_children_in_need_2013_to_2024.csv")
    checked = 0
    for r in rows:
        pop = population[(int(r["time_period"]) - 1, area_code(r))]
        for col in ("At31_episodes", "Anypoint_child", "Started_episodes", "Ended_child", "Awaiting_assessment"):
            if NUMBER.fullmatch(r[col]):
                check_rate(r[col + "_rate"], r[col], pop, r["geographic_level"], "0.1")
                checked += 1
            else:
                assert r[col + "_rate"] == r[col]
    assert checked > 5 * 150 * 12


def test_cla_rates_recompute(demo_dir, population):
    out, _, _ = demo_dir
    rows = read_rows(out / "demo_cla_number_and_rate_per_10k_children_pub2024.csv")
    assert {r["population_count"] for r in rows} == {
        "Children looked after at 31 March each year", "Children starting to be looked after each year",
        "Children ceasing to be looked after each year"}
    for r in rows:
        pop = population[(int(r["time_period"]) - 1, area_code(r))]
        assert int(r["population_estimate"]) == pop
        if NUMBER.fullmatch(r["number"]):
            check_rate(r["rate_per_10000"], r["number"], pop, r["geographic_level"], "1")
        else:
            assert r["rate_per_10000"] == r["number"]


def published(rows, level_code, year, col, **where):
    for r in rows:
        if int(r["time_period"]) == year and area_code(r) == level_code and all(r[k] == v for k, v in where.items()):
            return r[col]
    raise KeyError((level_code, year, col))


def test_magnitudes(demo_dir, population):
    out, _, _ = demo_dir
    b1 = read_rows(out / "demo_b1_children_in_need_2013_to_2024.csv")
    cla = read_rows(out / "demo_cla_number_and_rate_per_10k_children_pub2024.csv")
    d5 = read_rows(out / "demo_d5_cpps_at31march_by_duration_2013_to_2025.csv")
    at31 = {"population_count": "Children looked after at 31 March each year"}
    assert 300 <= float(published(b1, "E92000001", 2024, "At31_episodes_rate")) <= 360
    assert 60 <= float(published(cla, "E92000001", 2024, "rate_per_10000", **at31)) <= 80
    cp = int(published(d5, "E92000001", 2024, "CPP_At31")) / population[(2023, "E92000001")] * 10000
    assert 35 <= cp <= 50
    assert 450 <= float(published(b1, "E06000004", 2024, "At31_episodes_rate")) <= 600
    assert 90 <= float(published(cla, "E06000004", 2024, "rate_per_10000", **at31)) <= 140
    stockton_cp = int(published(d5, "E06000004", 2024, "CPP_At31")) / population[(2023, "E06000004")] * 10000
    assert 40 <= stockton_cp <= 75
    # The North East is needier than the South East.
    ne = float(published(b1, "E12000001", 2024, "At31_episodes_rate"))
    se = float(published(b1, "E12000008", 2024, "At31_episodes_rate"))
    assert ne > se


def test_d5_bands_and_percentages(demo_dir):
    out, _, _ = demo_dir
    for r in read_rows(out / "demo_d5_cpps_at31march_by_duration_2013_to_2025.csv"):
        bands = [c for c in r if c.endswith("_percent")]
        values = [r[b[:-len("_percent")]] for b in bands]
        if r["geographic_level"] == "Local authority" and all(NUMBER.fullmatch(v) for v in values + [r["CPP_At31"]]):
            assert sum(int(v) for v in values) == int(r["CPP_At31"])
            if int(r["CPP_At31"]) > 0:
                for b, v in zip(bands, values):
                    expected = half_up(Decimal(int(v)) * 100 / Decimal(int(r["CPP_At31"])), "0.1")
                    assert Decimal(r[b]) == expected


def test_missing_internally_consistent(demo_dir):
    out, _, _ = demo_dir
    rows = read_rows(out / ("demo_la_children_who_were_missing_or_away_from_placement_without_authorisation_"
                            "updated25.csv"))
    groups = {}
    for r in rows:
        groups.setdefault((r["time_period"], area_code(r)), {})[r["CLA_group"]] = r["number"]
    assert all(len(g) == 13 for g in groups.values())
    num = lambda s: int(s) if NUMBER.fullmatch(s) else None  # noqa: E731
    checked = 0
    for key, g in groups.items():
        looked = num(g["Children looked after during the year"])
        missing = num(g["Children who had a missing incident during the year"])
        more = num(g["Children who went missing more than once during the year"])
        incidents = num(g["Number of missing incidents during the year"])
        pct = g["Percentage of children who had a missing incident during the year"]
        avg = g["Average number of missing incidents per looked after child who went missing"]
        if None in (looked, missing, more, incidents):
            continue
        checked += 1
        assert missing <= looked and more <= missing and incidents >= missing, key
        assert re.fullmatch(r"\d+|k", pct), key
        assert re.fullmatch(r"\d+(\.\d)?", avg), key
        if key[1].startswith("E0") and looked > 0 and missing > 0:   # LA rows: unrounded counts
            assert Decimal(pct) == half_up(Decimal(missing) * 100 / Decimal(looked), "1"), key
            assert Decimal(avg) == half_up(Decimal(incidents) / Decimal(missing), "0.1"), key
    assert checked > 1000
    england = groups[("2024", "E92000001")]
    share = int(england["Children who had a missing incident during the year"]) / int(
        england["Children looked after during the year"])
    assert 0.09 <= share <= 0.14
    assert 4.5 <= float(england["Average number of missing incidents per looked after child who went missing"]) <= 8


def test_neet_consistent(demo_dir):
    out, _, _ = demo_dir
    for year in range(2016, 2025):
        rows = read_rows(out / f"demo_UD_NEETNK_LA_dashboard_{year}.csv")
        for r in rows:
            if NUMBER.fullmatch(r["NEET_percent"]):
                assert Decimal(r["NEET_not_known_percent"]) == Decimal(r["NEET_percent"]) + Decimal(
                    r["Notknown_percent"])
                assert NUMBER.fullmatch(r["Cohort_DJFavg"]) and NUMBER.fullmatch(r["cohort_March"])
        england = next(r for r in rows if r["geographic_level"] == "National")
        assert 4.0 <= float(england["NEET_not_known_percent"]) <= 8.0
        ne = next(r for r in rows if r["geographic_level"] == "Regional" and r["region_code"] == "E12000001")
        assert 80 <= float(england["TOTAL_participating_in_education_and_training_percent"]) <= 97
        assert float(ne["NEET_percent"]) > 0


def test_neighbour_model(demo_dir):
    out, _, _ = demo_dir
    rows = read_rows(out / "demo_sn_model_2025_wide.csv")
    las = current_las()
    old_codes = {r["old_la_code"] for r in las}
    assert len(rows) == 153
    assert {r["old_la_code"] for r in rows} == old_codes
    labels = {"Extremely close", "Very close", "Close ", "Somewhat close", "Not close"}
    for r in rows:
        sns = [r[f"SN_{k}"] for k in range(1, 11)]
        assert len(set(sns)) == 10
        assert r["old_la_code"] not in sns
        assert set(sns) <= old_codes
        assert {r[f"SN_{k}P"] for k in range(1, 11)} <= labels
    region_of = {r["old_la_code"]: r["region_name"] for r in las}
    assert all(r["region_name"] == region_of[r["old_la_code"]] for r in rows)


def test_neighbours_have_similar_rates(demo_dir):
    """Neighbours should be closer in CIN rate than LAs picked at random."""
    out, _, _ = demo_dir
    b1 = read_rows(out / "demo_b1_children_in_need_2013_to_2024.csv")
    code = {r["old_la_code"]: r["new_la_code"] for r in current_las()}
    cin = {r["new_la_code"]: float(r["At31_episodes_rate"]) for r in b1
           if r["time_period"] == "2024" and r["geographic_level"] == "Local authority"
           and NUMBER.fullmatch(r["At31_episodes_rate"])}
    near, every = [], []
    for r in read_rows(out / "demo_sn_model_2025_wide.csv"):
        me = code[r["old_la_code"]]
        if me not in cin:
            continue
        near += [abs(cin[me] - cin[code[r[f"SN_{k}"]]]) for k in range(1, 11) if code[r[f"SN_{k}"]] in cin]
        every += [abs(cin[me] - v) for other, v in cin.items() if other != me]
    assert sum(near) / len(near) < 0.75 * sum(every) / len(every)


def test_symbols(data_files):
    seen = set()
    for path in data_files:
        for r in read_rows(path):
            for col, value in r.items():
                if col in TEXT_COLUMNS or re.fullmatch(r"SN_\d+P", col):
                    continue
                if col in ("la_name", "region_name"):
                    continue
                if not NUMBER.fullmatch(value):
                    assert value in SYMBOLS, (path.name, col, value)
                    seen.add(value)
    assert "c" in seen and "x" in seen and "z" in seen


def test_small_las_suppressed(demo_dir):
    out, _, _ = demo_dir
    found = set()
    for name in ("demo_b1_children_in_need_2013_to_2024.csv", "demo_d5_cpps_at31march_by_duration_2013_to_2025.csv",
                 "demo_la_children_who_were_missing_or_away_from_placement_without_authorisation_updated25.csv"):
        for r in read_rows(out / name):
            if r["new_la_code"] in ("E06000053", "E09000001") and "c" in r.values():
                found.add(r["new_la_code"])
    assert found == {"E06000053", "E09000001"}


def test_generator_does_not_read_shared_data():
    source = Path(demo.published.__file__).read_text(encoding="utf-8")
    assert "SHARED_DATA_DIR" not in source
    assert not re.search(r"['\"/\\]shared\b", source)


def test_ensure_demo_data(tmp_path):
    target = tmp_path / "demo"
    assert demo.ensure_demo_data(target) == target
    stamp = target / demo.STAMP_FILE
    assert stamp.is_file()
    b1 = target / "demo_b1_children_in_need_2013_to_2024.csv"
    first = b1.stat().st_mtime_ns
    time.sleep(0.01)
    demo.ensure_demo_data(target)
    assert b1.stat().st_mtime_ns == first                      # current: left alone
    stamp.write_text("analysis.demo generator_version=0 seed=2024\n", encoding="utf-8")
    demo.ensure_demo_data(target)
    assert stamp.read_text(encoding="utf-8") != "analysis.demo generator_version=0 seed=2024\n"
    assert b1.stat().st_mtime_ns != first                      # other version: rewritten
    b1.unlink()
    demo.ensure_demo_data(target)
    assert b1.is_file()                                        # incomplete: rewritten
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]   # no temporary folders left behind


def test_ensure_default_folder_is_config(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "DEMO_DATA_DIR", tmp_path / "data" / "demo")
    assert demo.ensure_demo_data() == tmp_path / "data" / "demo"
    assert (tmp_path / "data" / "demo" / "README.md").is_file()
