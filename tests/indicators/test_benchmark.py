"""Benchmarking on a small hand-worked table (values chosen so every comparison can be checked by hand)."""

from __future__ import annotations

import math
import statistics
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from analysis.indicators import benchmark
from analysis import indicators
from analysis.read import sources
from analysis.errors import InputError, ParameterError
from conftest import B1_HEADER, SHARED_DATA, b1_rows, write_csv
STOCKTON, DARLINGTON, DURHAM, GATESHEAD = "E06000004", "E06000005", "E06000047", "E08000037"


def _obs(rows, indicator="cla_rate"):
    base = {c: "" for c in sources.OBS_COLUMNS}
    out = []
    for level, code, year, num, den in rows:
        r = dict(base, indicator=indicator, time_period=year, period_end=pd.Timestamp(f"{year}-03-31"),
                 geographic_level=level, area_code=code, area_name=code, numerator=num, denominator=den,
                 published_value=np.nan, status="" if num == num else "c", denominator_kind="population",
                 release="2024", data_kind="published", region_code="E12000001" if level == "Local authority" else "")
        out.append(r)
    return pd.DataFrame(out, columns=sources.OBS_COLUMNS)


@pytest.fixture
def table():
    obs = _obs(FIXTURE_ROWS)  # England 70, North East 95, Stockton 100 (96 the year before), neighbours 80, 90, c
    neighbours = FIXTURE_NEIGHBOURS
    targets = pd.DataFrame([{"area_code": STOCKTON, "indicator": "cla_rate", "target": 100.0, "target_year": "2020",
                             "direction": "lower"}])
    return benchmark.benchmark(indicators.compute(obs), neighbours, targets=targets)


def _row(table, code, year="2024"):
    return table[(table["area_code"] == code) & (table["time_period"] == year)].iloc[0]


def test_columns_are_fixed(table):
    assert list(table.columns) == benchmark.TABLE_COLUMNS


def test_neighbour_mean_counts_only_neighbours_with_a_value(table):
    st = _row(table, STOCKTON)
    assert st["sn_mean"] == pytest.approx((80 + 90) / 2)      # Gateshead suppressed: mean of two
    assert st["sn_n"] == 2
    assert st["sn_missing"] == "Gateshead"


def test_region_and_england(table):
    st = _row(table, STOCKTON)
    assert st["region_value"] == pytest.approx(95) and st["england_value"] == pytest.approx(70)


def test_comparisons_by_confidence_interval(table):
    st = _row(table, STOCKTON)
    # Byar's 95% limits for 500 events over 50,000 (x 10,000) are about 91.4 to 109.2:
    assert 91 < st["lower_95"] < 92 and 109 < st["upper_95"] < 110
    assert st["vs_england"] == "higher"   # 70 below the lower limit; cla_rate has no polarity -> higher/lower
    assert st["vs_sn"] == "higher"        # 85 below the lower limit
    assert st["vs_region"] == "similar"   # 95 inside the interval


def test_rank_and_quartile_band(table):
    # LA values 80, 90, 100 (Gateshead has none): ranks 1, 2, 3 of 3.
    # Type-7 quartiles of (80, 90, 100): Q1 = 85, Q2 = 90, Q3 = 95 -> 80 is A, 90 is B (<= Q2), 100 is D.
    got = {code: (_row(table, code)["rank"], _row(table, code)["quartile_band"]) for code in (DARLINGTON, DURHAM, STOCKTON)}
    assert got == {DARLINGTON: (1, "A"), DURHAM: (2, "B"), STOCKTON: (3, "D")}
    assert _row(table, STOCKTON)["rank_of"] == 3
    assert pd.isna(_row(table, GATESHEAD)["rank"]) and _row(table, GATESHEAD)["quartile_band"] == ""


def test_rank_and_band_from_the_best_where_high_is_good():
    """Long-term placement stability (high is good): LAIT ranks from the highest and bands A the highest quarter."""
    # LA percentages 60, 70, 80 -> ranks from the highest 3, 2, 1. Type-7 quartiles of (60, 70, 80): Q1 = 65,
    # Q2 = 70, Q3 = 75; intervals [60, 65], (65, 70], (70, 75], (75, 80] are D, C, B, A: 60 is D, 70 C, 80 A.
    obs = _obs([("Local authority", STOCKTON, "2024", 60, 100), ("Local authority", DARLINGTON, "2024", 70, 100),
                ("Local authority", DURHAM, "2024", 80, 100)], indicator="stability_same_carer_pct")
    out = benchmark.benchmark(indicators.compute(obs), pd.DataFrame(columns=["area_code", "neighbour_code",
                                                                             "neighbour_name", "neighbour_rank"]))
    got = {code: (_row(out, code)["rank"], _row(out, code)["quartile_band"]) for code in (STOCKTON, DARLINGTON, DURHAM)}
    assert got == {STOCKTON: (3, "D"), DARLINGTON: (2, "C"), DURHAM: (1, "A")}


def test_gap_trends_with_england():
    """The gap with England is tested as the trend is: a constant England leaves the trend as it is; an England
    moving with the LA leaves no trend in the gap.

    Per 10,000 (counts over 50,000 for LAs, over 10,000,000 for England):
    - Darlington 80, 90, 100, 110, 120 against England 70, 80, 90, 100, 110: the gap is 10 every year, slope 0, so no
      significant change, although Darlington itself is increasing;
    - Durham 120, 110, 100, 90, 80 against the same England: the gap 50, 30, 10, -10, -30 falls by 20 a year against
      a slope error near 1.5 (as the trend test of the table's own rows): decreasing.
    """
    rows = [("National", "E92000001", str(2016 + i), 70_000 + 10_000 * i, 10_000_000) for i in range(5)]
    for code, counts in ((DARLINGTON, [400, 450, 500, 550, 600]), (DURHAM, [600, 550, 500, 450, 400])):
        rows += [("Local authority", code, str(2016 + i), n, 50_000) for i, n in enumerate(counts)]
    out = benchmark.benchmark(indicators.compute(_obs(rows)), pd.DataFrame(columns=["area_code", "neighbour_code",
                                                                                     "neighbour_name", "neighbour_rank"]))
    gaps = benchmark.gap_trends(out, "england_value")
    assert list(gaps.index) == list(out.index)
    last = out["time_period"] == "2020"
    assert dict(zip(out.loc[last, "area_code"], gaps[last])) == {"E92000001": "no significant change",
                                                                 DARLINGTON: "no significant change",
                                                                 DURHAM: "decreasing"}
    assert _row(out, DARLINGTON, "2020")["trend"] == "increasing"
    assert (gaps[out["time_period"] < "2020"] == "cannot be calculated").all()


def test_change_on_last_year_and_trend_needs_five_points(table):
    st = _row(table, STOCKTON)
    assert st["previous_value"] == pytest.approx(96) and st["change"] == pytest.approx(4)
    assert st["trend"] == "cannot be calculated"


def test_target_status(table):
    st = _row(table, STOCKTON)
    assert st["target"] == 100 and st["target_status"] == "on track"   # 100 rounded is not above 100
    assert _row(table, DARLINGTON)["target_status"] == ""


def test_symbol_shown_for_suppressed_value(table):
    shown = benchmark.with_display(table)
    assert _row(shown, GATESHEAD)["display"] == "c"
    assert _row(shown, STOCKTON)["display"] == "100"


def test_input_table_is_not_mutated():
    obs = _obs([("Local authority", STOCKTON, "2024", 500, 50_000)])
    before = obs.copy()
    computed = indicators.compute(obs)
    pd.testing.assert_frame_equal(obs, before)
    before_c = computed.copy()
    benchmark.benchmark(computed, pd.DataFrame(columns=["area_code", "neighbour_code", "neighbour_name",
                                                        "neighbour_rank"]))
    pd.testing.assert_frame_equal(computed, before_c)


def test_targets_are_read_against_the_package_registry(tmp_path):
    """benchmark.load_targets and read_targets are analysis.read.targets' with the package's registry (tests of the
    reading itself: tests/read/test_targets.py). Stockton's file sets NEET and not known at 7%, lower is on track."""
    t = benchmark.load_targets("Stockton-on-Tees")
    row = t[t["indicator"] == "neet_nk_pct"].iloc[0]
    assert row["target"] == 7 and row["direction"] == "lower"
    path = tmp_path / "t.yaml"
    path.write_text("la: E06000004\ntargets:\n  - {indicator: cp_rate, target: 50}\n", encoding="utf-8")
    assert list(benchmark.read_targets(path)["indicator"]) == ["cp_rate"]
    path.write_text("la: E06000004\ntargets:\n  - {indicator: cp_rates, target: 50}\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown indicator 'cp_rates'; expected one of cin_rate, "):
        benchmark.read_targets(path)


def test_trend_to_each_year_by_fingertips_method():
    """The table's trend is Fingertips' (analysis.stats.trends), to each year from that year's five latest points.

    Counts over 50,000 (rates per 10,000 are count / 5), standard errors about sqrt(count) / 5, 4 to 6 per 10,000:
    - Darlington 80, 90, 100, 110, 120 (2016-2020): slope 10 a year against a slope error near 1.5, all five
      leave-one-out slopes positive: increasing in 2020; fewer than five points before 2020: cannot be calculated.
    - Durham the same reversed: decreasing.
    - Stockton 100, 110, 100, 100, 100, 200 (2016-2021): to 2021 the points 110, 100, 100, 100, 200 have a large
      statistic, but leaving out 2021 leaves 110, 100, 100, 100, a falling slope: the outlier check says no trend.
    """
    rows = []
    for code, counts in ((DARLINGTON, [400, 450, 500, 550, 600]), (DURHAM, [600, 550, 500, 450, 400]),
                         (STOCKTON, [500, 550, 500, 500, 500, 1000])):
        rows += [("Local authority", code, str(2016 + i), n, 50_000) for i, n in enumerate(counts)]
    out = benchmark.benchmark(indicators.compute(_obs(rows)), pd.DataFrame(columns=["area_code", "neighbour_code",
                                                                                     "neighbour_name", "neighbour_rank"]))
    assert [_row(out, DARLINGTON, str(y))["trend"] for y in range(2016, 2021)] == ["cannot be calculated"] * 4 + [
        "increasing"]
    assert _row(out, DURHAM, "2020")["trend"] == "decreasing"
    assert _row(out, STOCKTON, "2021")["trend"] == "no significant change"


# --------------------------------------------------------------------------------------------------------------------
# Every LA row of the real 2024 table, recomputed here in plain Python from the table's own numerators and
# denominators (scipy.stats only for the chi-square quantile of the exact Poisson limits; Python's own
# statistics.quantiles(method="inclusive") for the type-7 quartiles, R's quantile() as LAIT calls it). Ranks and
# bands follow LAIT's fn_analysis.R (dfe-analytical-services/local-authority-interactive-tool): calculate_rank ranks
# -value where high is good and value otherwise, ties.method "min"; calculate_quartile_band names the quartile
# intervals D to A where high is good, A to D where low is good (and, in this project, where there is no polarity).

Z95 = NormalDist().inv_cdf(0.975)
JUDGE = {"none": {"higher": "higher", "lower": "lower"}, "low_is_good": {"higher": "worse", "lower": "better"},
         "high_is_good": {"higher": "better", "lower": "worse"}}


def limits_95(num, den, multiplier, method):
    """(value, lower, upper): Wilson for proportions; rates exact below 10 events, Byar's from 10."""
    if num != num or not den > 0:
        return None, None, None
    if method == "proportion":
        root = Z95 * math.sqrt(Z95 ** 2 + 4 * num * (1 - num / den))
        low, up = ((2 * num + Z95 ** 2 + sign * root) / 2 / (den + Z95 ** 2) for sign in (-1, 1))
        return num / den * multiplier, low * multiplier, up * multiplier
    if num < 10:
        low = 0.0 if num == 0 else chi2.ppf(0.025, 2 * num) / 2
        up = chi2.ppf(0.975, 2 * num + 2) / 2
    else:
        low = num * (1 - 1 / (9 * num) - Z95 / (3 * math.sqrt(num))) ** 3
        up = (num + 1) * (1 - 1 / (9 * (num + 1)) + Z95 / (3 * math.sqrt(num + 1))) ** 3
    return num / den * multiplier, low / den * multiplier, up / den * multiplier


def lait_band(value, quartiles, high):
    """LAIT's calculate_quartile_band: intervals closed on the right, (min, Q1], (Q1, Q2], (Q2, Q3], (Q3, max],
    named A, B, C, D from the lowest ("Low" polarity, and here where there is none) or D, C, B, A ("High")."""
    q1, q2, q3 = quartiles
    names = "DCBA" if high else "ABCD"
    return names[0] if value <= q1 else names[1] if value <= q2 else names[2] if value <= q3 else names[3]


def compared(value, low, up, comparator, polarity):
    if value is None or comparator is None or comparator != comparator:
        return "not compared"
    if comparator < low:
        return JUDGE[polarity]["higher"]
    if comparator > up:
        return JUDGE[polarity]["lower"]
    return "similar"


def test_every_la_row_of_2024_recomputed_independently(real_dataset, real_table):
    reg = indicators.registry()
    out = benchmark.benchmark(real_table, real_dataset.neighbours)
    year = out[out["time_period"] == "2024"]
    names = dict(zip(real_dataset.neighbours["neighbour_code"], real_dataset.neighbours["neighbour_name"]))
    neighbours = {}
    for code, rank, neighbour in real_dataset.neighbours[["area_code", "neighbour_rank", "neighbour_code"]].itertuples(
            index=False):
        neighbours.setdefault(code, []).append((rank, neighbour))
    wrong, checked = [], 0
    for ind, rows in year.groupby("indicator", observed=True):
        entry = reg[ind]
        mine = {r.area_code: limits_95(r.numerator, r.denominator, entry["multiplier"], entry["method"])
                for r in rows.itertuples()}
        level = dict(zip(rows["area_code"], rows["geographic_level"]))
        england = mine.get("E92000001", (None,))[0]
        las = sorted(v for code, (v, _, _) in mine.items() if level[code] == "Local authority" and v is not None)
        q1, q2, q3 = statistics.quantiles(las, n=4, method="inclusive")
        high = entry["polarity"] == "high_is_good"
        for r in rows[rows["geographic_level"] == "Local authority"].itertuples():
            checked += 1
            value, low, up = mine[r.area_code]
            have = [(mine[n][0], names[n]) for _, n in sorted(neighbours.get(r.area_code, [])) if n in mine]
            values = [v for v, _ in have if v is not None]
            expected = {
                "value": value, "lower_95": low, "upper_95": up, "england_value": england,
                "sn_mean": sum(values) / len(values) if values else None,
                "sn_n": len(values) if have else None,
                "sn_missing": "; ".join(name for v, name in have if v is None),
                "rank": None if value is None else 1 + sum((v > value) if high else (v < value) for v in las),
                "rank_of": len(las),
                "quartile_band": "" if value is None else lait_band(value, (q1, q2, q3), high),
                "vs_england": compared(value, low, up, england, entry["polarity"]),
                "vs_region": compared(value, low, up, mine.get(r.region_code, (None,))[0], entry["polarity"]),
            }
            expected["vs_sn"] = compared(value, low, up, expected["sn_mean"], entry["polarity"])
            for col, want in expected.items():
                got = getattr(r, col)
                got = None if got is pd.NA or (isinstance(got, float) and math.isnan(got)) else got
                same = (got is None and want is None) or (
                    got is not None and want is not None and (got == want if isinstance(want, str) else
                                                              math.isclose(got, want, rel_tol=1e-9)))
                if not same:
                    wrong.append((ind, r.area_name, col, got, want))
    assert checked > 2000
    assert not wrong, f"{len(wrong)} values differ, e.g. {wrong[:5]}"


# --------------------------------------------------------------------------------------------------------------------
# Arguments, columns from the registry, and tables in any order
# --------------------------------------------------------------------------------------------------------------------

NO_NEIGHBOURS = pd.DataFrame(columns=["area_code", "neighbour_code", "neighbour_name", "neighbour_rank"])
FIXTURE_ROWS = [
    ("National", "E92000001", "2024", 70_000, 10_000_000),   # England 70 per 10,000
    ("Regional", "E12000001", "2024", 5_700, 600_000),       # North East 95
    ("Local authority", STOCKTON, "2024", 500, 50_000),      # 100
    ("Local authority", DARLINGTON, "2024", 400, 50_000),    # 80
    ("Local authority", DURHAM, "2024", 450, 50_000),        # 90
    ("Local authority", GATESHEAD, "2024", np.nan, 50_000),  # suppressed
    ("Local authority", STOCKTON, "2023", 480, 50_000),      # 96 the year before
]
FIXTURE_NEIGHBOURS = pd.DataFrame({"area_code": STOCKTON, "neighbour_code": [DARLINGTON, DURHAM, GATESHEAD],
                                   "neighbour_name": ["Darlington", "County Durham", "Gateshead"],
                                   "neighbour_rank": [1, 2, 3]})


def _plain(frame):
    """The table's cells as plain Python values (categories and missing values compared as values)."""
    return [[None if pd.isna(v) else v for v in row] for row in frame.astype(object).itertuples(index=True)]


def test_registry_columns_and_the_neighbour_model_label(table):
    entry = indicators.registry()["cla_rate"]
    st = _row(table, STOCKTON)
    assert (st["unit"], st["decimals"], st["polarity"]) == (entry["unit"], entry["decimals"], entry["polarity"])
    assert (table["neighbour_model"] == "").all()  # none named
    named = benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS)), FIXTURE_NEIGHBOURS,
                                neighbour_model="SN model 2024.xlsx")
    assert (named["neighbour_model"] == "SN model 2024.xlsx").all()


def test_the_registry_given_is_the_one_used():
    # with cla_rate given a polarity (low is good), Stockton's 100 against England's 70 is worse, not just higher
    reg = {k: dict(v) for k, v in indicators.registry().items()}
    reg["cla_rate"]["polarity"] = "low_is_good"
    out = benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS)), FIXTURE_NEIGHBOURS, reg=reg)
    assert _row(out, STOCKTON)["vs_england"] == "worse" and _row(out, STOCKTON)["polarity"] == "low_is_good"


def test_comparisons_at_99_8_percent():
    # 500 events over 50,000 per 10,000. Byar's lower limits: 500 (1 - 1/4500 - z / (3 sqrt(500)))^3 / 5 is 91.42 at
    # 95% (z = 1.96) and 86.75 at 99.8% (z = 3.09). England at 89 is below the first and above the second.
    rows = [("National", "E92000001", "2024", 890_000, 100_000_000), ("Local authority", STOCKTON, "2024", 500, 50_000)]
    computed = indicators.compute(_obs(rows))
    assert _row(benchmark.benchmark(computed, NO_NEIGHBOURS), STOCKTON)["vs_england"] == "higher"
    assert _row(benchmark.benchmark(computed, NO_NEIGHBOURS, confidence=0.998), STOCKTON)["vs_england"] == "similar"
    with pytest.raises(ParameterError, match=r"^confidence must be 0\.95 or 0\.998, not 0\.9$"):
        benchmark.benchmark(computed, NO_NEIGHBOURS, confidence=0.9)


def test_the_latest_target_set_by_each_year():
    # targets of 100 set for 2020 and of 95 for 2024: 2023 is judged against 100 (96 is on track), 2024 against 95
    # (100 is off track)
    targets = pd.DataFrame([
        {"area_code": STOCKTON, "indicator": "cla_rate", "target": 100.0, "target_year": "2020", "direction": "lower"},
        {"area_code": STOCKTON, "indicator": "cla_rate", "target": 95.0, "target_year": "2024", "direction": "lower"},
    ])
    out = benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS)), FIXTURE_NEIGHBOURS, targets=targets)
    assert (_row(out, STOCKTON, "2023")["target"], _row(out, STOCKTON, "2023")["target_status"]) == (100, "on track")
    assert (_row(out, STOCKTON, "2024")["target"], _row(out, STOCKTON, "2024")["target_status"]) == (95, "off track")
    assert _row(out, STOCKTON, "2024")["target_year"] == "2024"
    # a target set for 2024 says nothing about 2023
    later = benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS)), FIXTURE_NEIGHBOURS, targets=targets.iloc[1:])
    assert pd.isna(_row(later, STOCKTON, "2023")["target"]) and _row(later, STOCKTON, "2023")["target_status"] == ""


def test_an_england_or_regional_figure_that_disagrees_with_its_areas_is_no_comparator():
    computed = indicators.compute(_obs(FIXTURE_ROWS))
    computed["aggregate_check"] = np.where(computed["geographic_level"] == "National", "disagrees with its areas", "")
    st = _row(benchmark.benchmark(computed, FIXTURE_NEIGHBOURS), STOCKTON)
    assert pd.isna(st["england_value"]) and st["vs_england"] == "not compared"
    assert st["region_value"] == pytest.approx(95) and st["vs_region"] == "similar"


def test_without_england_there_is_no_england_comparison():
    st = _row(benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS[1:])), FIXTURE_NEIGHBOURS), STOCKTON)
    assert pd.isna(st["england_value"]) and st["vs_england"] == "not compared"


def test_neighbours_without_values_give_no_mean():
    rows = [r if r[1] not in (DARLINGTON, DURHAM) else (*r[:3], np.nan, r[4]) for r in FIXTURE_ROWS]
    st = _row(benchmark.benchmark(indicators.compute(_obs(rows)), FIXTURE_NEIGHBOURS), STOCKTON)
    assert pd.isna(st["sn_mean"]) and st["sn_n"] == 0 and st["vs_sn"] == "not compared"
    assert st["sn_missing"] == "Darlington; County Durham; Gateshead"


def test_neighbour_model_rows_for_areas_not_in_the_table_are_ignored():
    # Hartlepool is in the model but not in the table; nobody else gains its neighbours
    model = pd.concat([FIXTURE_NEIGHBOURS, pd.DataFrame({
        "area_code": "E06000001", "neighbour_code": [DARLINGTON, DURHAM], "neighbour_name": ["Darlington", "Durham"],
        "neighbour_rank": [1, 2]})], ignore_index=True)
    out = benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS)), model)
    assert _plain(out) == _plain(benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS)), FIXTURE_NEIGHBOURS))
    assert pd.isna(_row(out, GATESHEAD)["sn_n"]) and pd.isna(_row(out, DURHAM)["sn_mean"])


@pytest.mark.parametrize("first", range(len(FIXTURE_ROWS)))
def test_the_order_of_the_rows_does_not_matter(first):
    """Each row of the table first in turn (England, the region, each LA, Stockton 2023): the same
    figures for every row."""
    order = [first] + [i for i in range(len(FIXTURE_ROWS)) if i != first]
    expected = benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS)), FIXTURE_NEIGHBOURS)
    computed = indicators.compute(_obs([FIXTURE_ROWS[i] for i in order]))
    computed.index = order  # each row keeps its label from the fixture's order
    got = benchmark.benchmark(computed, FIXTURE_NEIGHBOURS).sort_index()
    assert _plain(got) == _plain(expected)


def test_gap_trends_keeps_the_index_and_is_named():
    out = benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS)), FIXTURE_NEIGHBOURS)
    some = out[out["geographic_level"] == "Local authority"]
    gaps = benchmark.gap_trends(some, "england_value")
    assert list(gaps.index) == list(some.index) and gaps.name == "gap_trend"
    assert (gaps == "cannot be calculated").all()


def test_display_follows_status(table):
    columns = list(benchmark.with_display(table).columns)
    assert columns.index("display") == columns.index("status") + 1


def test_figures_without_an_interval_are_not_tested():
    """An average (cla_attainment8: a ratio) and a published-only figure have no interval: "not tested" against a
    comparator that has a value, "not compared" without one or without a value of their own."""
    ratio = _obs([("National", "E92000001", "2024", 200_000, 10_000),      # 20.0 points
                  ("Local authority", STOCKTON, "2024", 300, 20),            # 15.0
                  ("Local authority", DARLINGTON, "2024", np.nan, 20)],      # no value
                 indicator="cla_attainment8")
    out = benchmark.benchmark(indicators.compute(ratio), NO_NEIGHBOURS)
    assert _row(out, STOCKTON)["vs_england"] == "not tested" and _row(out, STOCKTON)["vs_sn"] == "not compared"
    assert _row(out, DARLINGTON)["vs_england"] == "not compared"
    # a rate published without its counts (value_basis "published only"): the published figure, not tested
    published = _obs(FIXTURE_ROWS[:1] + [("Local authority", STOCKTON, "2024", np.nan, 50_000)])
    published.loc[1, ["value_basis", "published_value", "status"]] = ["published only", 100.0, ""]
    st = _row(benchmark.benchmark(indicators.compute(published), NO_NEIGHBOURS), STOCKTON)
    assert st["value"] == 100 and st["vs_england"] == "not tested"
    # a figure of a published-only indicator in a table made before value_basis existed
    old = indicators.compute(_obs(FIXTURE_ROWS[:1] + [("Local authority", STOCKTON, "2024", 55, 100)],
                                  indicator="ks2_rwm_pct"))
    old["value"] = [60.0, 55.0]
    old = old.drop(columns="value_basis")
    st = _row(benchmark.benchmark(old, NO_NEIGHBOURS), STOCKTON)
    assert st["vs_england"] == "not tested" and st["value_basis"] == "published"


def test_comparisons_only_where_they_apply(table):
    # England is not compared with itself, nor regions with neighbours or regions: those cells are empty
    eng, region = _row(table, "E92000001"), _row(table, "E12000001")
    assert (eng["vs_england"], eng["vs_sn"], eng["vs_region"]) == ("", "", "")
    assert region["vs_england"] == "higher" and (region["vs_sn"], region["vs_region"]) == ("", "")


def test_a_first_year_has_no_previous_value(table):
    st = _row(table, STOCKTON, "2023")
    assert pd.isna(st["previous_value"]) and pd.isna(st["change"])


def test_one_neighbour_with_a_value_is_the_mean():
    rows = [r if r[1] != DURHAM else (*r[:3], np.nan, r[4]) for r in FIXTURE_ROWS]
    st = _row(benchmark.benchmark(indicators.compute(_obs(rows)), FIXTURE_NEIGHBOURS), STOCKTON)
    assert st["sn_mean"] == pytest.approx(80) and st["sn_n"] == 1 and st["sn_missing"] == "County Durham; Gateshead"


def test_whole_numbers_are_whole_and_empty_text_is_empty(table):
    for col in ("rank", "rank_of", "sn_n"):
        assert str(table[col].dtype) == "Int64", col
    assert table["target"].dtype == float
    plain = benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS)), FIXTURE_NEIGHBOURS)  # no targets
    for col in ("target_year", "target_status", "target_direction", "aggregate_check"):
        assert (plain[col] == "").all(), col
    assert plain["target"].isna().all() and plain["target"].dtype == float


def test_a_table_without_local_authorities():
    out = benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS[:2])), NO_NEIGHBOURS)
    assert out["rank"].isna().all() and (out["quartile_band"] == "").all()
    assert _row(out, "E12000001")["vs_england"] == "higher"


def test_tables_made_before_the_scorecard_files():
    # no period_label, year_type, value_basis or aggregate_check: the period is its label, the rest empty
    computed = indicators.compute(_obs(FIXTURE_ROWS)).drop(columns=["period_label", "year_type", "value_basis"])
    out = benchmark.benchmark(computed, FIXTURE_NEIGHBOURS)
    assert list(out.columns) == benchmark.TABLE_COLUMNS
    assert out["period_label"].tolist() == out["time_period"].tolist()
    assert (out["year_type"] == "").all() and (out["aggregate_check"] == "").all()
    assert (out["value_basis"] == "published").all()


def test_polarity_comes_from_the_registry_not_the_table():
    computed = indicators.compute(_obs(FIXTURE_ROWS)).assign(polarity="high_is_good")
    out = benchmark.benchmark(computed, FIXTURE_NEIGHBOURS)
    assert (out["polarity"] == indicators.registry()["cla_rate"]["polarity"]).all()


def test_indicator_table_for_chosen_las_and_years_with_their_targets(real_dataset):
    """The pipeline on the real files: the LAs and years asked for (by name in any case, or old code), each with its
    own targets (targets/stockton-on-tees.yaml; Darlington has none)."""
    out = benchmark.indicator_table(SHARED_DATA, years=[2024], las=["stockton-on-tees", "841"], dataset=real_dataset)
    assert set(out["area_code"]) == {STOCKTON, DARLINGTON} and set(out["time_period"]) == {"2024"}
    assert list(out.index) == list(range(len(out)))
    columns = list(benchmark.TABLE_COLUMNS)
    columns.insert(columns.index("status") + 1, "display")
    assert list(out.columns) == columns
    assert (out["neighbour_model"] == real_dataset.neighbour_model_label).all()
    st = out[out["area_code"] == STOCKTON].set_index("indicator")
    # NEET or not known, 16-17: published 7% for 2024 (UD_NEETNK_LA_dashboard_2024.csv), against a target of 7% or
    # lower set for 2017: on track, as published (to one decimal place)
    assert st.loc["neet_nk_pct", ["target", "target_year", "target_direction", "target_status"]].tolist() == [
        7, "2017", "lower", "on track"]
    # care leavers 19-21 in education, employment or training: 79 of 154, published 51%, against 55% or higher
    assert st.loc["care_leavers_eet_19_21_pct", ["target", "target_direction", "target_status"]].tolist() == [
        55, "higher", "off track"]
    assert out.loc[out["area_code"] == DARLINGTON, "target"].isna().all()
    plain = benchmark.indicator_table(SHARED_DATA, years=["2024"], las=["Stockton-on-Tees"], targets=False,
                                      dataset=real_dataset)
    assert plain["target"].isna().all() and len(plain) == len(st)
    with pytest.raises(ParameterError, match=r"^no data for year 2030, 2031 in .+; years available: 2013 to 2025$"):
        benchmark.indicator_table(SHARED_DATA, years=[2030, 2031, 2024], dataset=real_dataset)


def test_indicator_table_reads_the_folder_and_knows_only_its_las(tmp_path):
    write_csv(tmp_path / "b1.csv", B1_HEADER, b1_rows())  # England, the North East, Stockton and Darlington
    out = benchmark.indicator_table(tmp_path, las=["darlington"])
    assert out["area_code"].tolist() == [DARLINGTON] and out["published_value"].tolist() == [500.0]
    # Hartlepool is an LA, but not one in this folder
    with pytest.raises(ParameterError, match=r"^unknown local authority 'Hartlepool'"):
        benchmark.indicator_table(tmp_path, las=["Hartlepool"])


def test_an_area_missing_from_the_table_is_no_comparator():
    # no region row and no England row, with Durham (90) last in the table: nothing stands in for them
    rows = [r for r in FIXTURE_ROWS if r[0] == "Local authority" and r[1] != GATESHEAD]
    out = benchmark.benchmark(indicators.compute(_obs(rows)), FIXTURE_NEIGHBOURS)
    st = _row(out, STOCKTON)
    assert pd.isna(st["region_value"]) and pd.isna(st["england_value"])
    assert (st["vs_region"], st["vs_england"]) == ("not compared", "not compared")


def test_a_single_neighbour_first_in_the_table():
    rows = [FIXTURE_ROWS[3], FIXTURE_ROWS[2]]  # Darlington (80), then Stockton
    out = benchmark.benchmark(indicators.compute(_obs(rows)), FIXTURE_NEIGHBOURS.iloc[:1])
    st = _row(out, STOCKTON)
    assert st["sn_mean"] == pytest.approx(80) and st["sn_n"] == 1 and st["sn_missing"] == ""


def _targets(*rows):
    return pd.DataFrame([dict(zip(["area_code", "indicator", "target", "target_year", "direction"], r)) for r in rows])


def test_targets_judged_in_either_direction_on_the_published_figure():
    out = benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS)), FIXTURE_NEIGHBOURS, targets=_targets(
        (STOCKTON, "cla_rate", 100.0, "2024", "higher"),     # 100, exactly the target: on track
        (DARLINGTON, "cla_rate", 90.0, "2024", "higher"),    # 80 below 90: off track
        (DURHAM, "cla_rate", 85.0, "2024", "higher"),        # 90 above 85: on track
        (GATESHEAD, "cla_rate", 50.0, "2024", "lower"),      # suppressed: no status
        (STOCKTON, "cla_rate", 99.0, "", "higher")))         # no year: stands from the start (2023: 96, off track)
    assert [_row(out, code)["target_status"] for code in (STOCKTON, DARLINGTON, DURHAM, GATESHEAD)] == [
        "on track", "off track", "on track", ""]
    assert (_row(out, STOCKTON, "2023")["target"], _row(out, STOCKTON, "2023")["target_status"]) == (99, "off track")
    assert _row(out, GATESHEAD)["target"] == 50
    # the figure as published: 694 of 10,000 is 6.94%, published as 6.9 (one decimal), which meets a target of 6.9
    rows = [("Local authority", STOCKTON, "2024", 694, 10_000)]
    out = benchmark.benchmark(indicators.compute(_obs(rows, indicator="cp_subsequent_pct")), NO_NEIGHBOURS,
                              targets=_targets((STOCKTON, "cp_subsequent_pct", 6.9, "2024", "lower")))
    assert _row(out, STOCKTON)["target_status"] == "on track"


# --------------------------------------------------------------------------------------------------------------------
# Targets attached afterwards, and the neighbours, ranks and trends of larger or unusual tables
# --------------------------------------------------------------------------------------------------------------------

def test_with_targets_is_benchmarking_with_targets():
    """A table benchmarked once without targets, given an LA's targets afterwards, is the table benchmarked with them:
    the same cells and the same column types; None or no targets leave it without any."""
    computed = indicators.compute(_obs(FIXTURE_ROWS))
    targets = _targets((STOCKTON, "cla_rate", 100.0, "2020", "lower"), (STOCKTON, "cla_rate", 95.0, "2024", "lower"),
                       (DARLINGTON, "cla_rate", 90.0, "", "higher"))
    plain = benchmark.benchmark(computed, FIXTURE_NEIGHBOURS)
    before = plain.copy()
    got = benchmark.with_targets(plain, targets)
    want = benchmark.benchmark(computed, FIXTURE_NEIGHBOURS, targets=targets)
    pd.testing.assert_frame_equal(plain, before)
    assert list(got.columns) == benchmark.TABLE_COLUMNS
    assert _plain(got) == _plain(want) and list(got.dtypes) == list(want.dtypes)
    # by hand: Stockton 96 in 2023 against 100 (lower): on track; 100 in 2024 against 95: off track; Darlington 80
    # against 90 or higher: off track
    assert [(_row(got, code, year)["target"], _row(got, code, year)["target_year"],
             _row(got, code, year)["target_status"], _row(got, code, year)["target_direction"])
            for code, year in ((STOCKTON, "2023"), (STOCKTON, "2024"), (DARLINGTON, "2024"))] == [
        (100, "2020", "on track", "lower"), (95, "2024", "off track", "lower"), (90, "", "off track", "higher")]
    assert _row(got, DURHAM)["target_status"] == "" and pd.isna(_row(got, DURHAM)["target"])
    for none in (None, targets.iloc[:0]):
        again = benchmark.with_targets(want, none)
        assert _plain(again) == _plain(plain) and list(again.dtypes) == list(plain.dtypes)


def test_load_targets_from_the_folder_given(tmp_path):
    (tmp_path / "darlington.yaml").write_text(
        "la: E06000005\ntargets:\n  - {indicator: cp_rate, target: 50, target_year: 2025, direction: higher}\n",
        encoding="utf-8")
    got = benchmark.load_targets("Darlington", tmp_path)
    assert got[["area_code", "indicator", "target", "target_year", "direction"]].values.tolist() == [
        [DARLINGTON, "cp_rate", 50.0, "2025", "higher"]]
    assert benchmark.load_targets("Stockton-on-Tees", tmp_path).empty   # its file is in targets/, not here


def test_no_neighbour_model_leaves_the_neighbour_columns_empty():
    out = benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS)), NO_NEIGHBOURS)
    assert (out["sn_missing"] == "").all() and out["sn_mean"].isna().all() and out["sn_n"].isna().all()
    assert (out.loc[out["geographic_level"] == "Local authority", "vs_sn"] == "not compared").all()


def test_an_la_without_a_region_has_no_regional_comparator():
    computed = indicators.compute(_obs(FIXTURE_ROWS))
    computed.loc[computed["area_code"] == STOCKTON, "region_code"] = None
    out = benchmark.benchmark(computed, FIXTURE_NEIGHBOURS)
    st = _row(out, STOCKTON)
    assert pd.isna(st["region_value"]) and st["vs_region"] == "not compared"
    assert _row(out, DARLINGTON)["region_value"] == pytest.approx(95)


def test_neighbour_ranks_read_as_decimals_and_lists_of_different_lengths():
    """Ranks 1.0, 2.0 (as a spreadsheet gives them) are the slots 1, 2; an LA with one neighbour beside one with three
    names its own missing neighbour only."""
    model = pd.concat([FIXTURE_NEIGHBOURS, pd.DataFrame({
        "area_code": [DARLINGTON], "neighbour_code": [GATESHEAD], "neighbour_name": ["Gateshead"],
        "neighbour_rank": [1]})], ignore_index=True)
    model["neighbour_rank"] = model["neighbour_rank"].astype(float)
    out = benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS)), model)
    st, da = _row(out, STOCKTON), _row(out, DARLINGTON)
    assert (st["sn_mean"], st["sn_n"], st["sn_missing"]) == (pytest.approx(85), 2, "Gateshead")
    assert pd.isna(da["sn_mean"]) and (da["sn_n"], da["sn_missing"]) == (0, "Gateshead")


def test_missing_neighbours_named_for_each_la_of_a_ring():
    """Eight LAs, each with the next two round a ring as its neighbours (ranks 1, 2), three of them suppressed: every
    LA's mean, count and missing names, worked here from the lists."""
    codes = [f"E0600{i:04d}" for i in range(1, 9)]
    suppressed = {1, 2, 6}
    counts = [300 + 20 * i for i in range(8)]    # values 60, 64, ..., 88 per 10,000 over 50,000
    rows = [("Local authority", code, "2024", np.nan if i in suppressed else counts[i], 50_000)
            for i, code in enumerate(codes)]
    model = pd.DataFrame([{"area_code": code, "neighbour_code": codes[(i + r) % 8],
                           "neighbour_name": f"LA {(i + r) % 8}", "neighbour_rank": r}
                          for i, code in enumerate(codes) for r in (1, 2)])
    out = benchmark.benchmark(indicators.compute(_obs(rows)), model)
    for i, code in enumerate(codes):
        nbrs = [(i + r) % 8 for r in (1, 2)]
        have = [counts[j] / 5 for j in nbrs if j not in suppressed]
        r = _row(out, code)
        assert r["sn_n"] == len(have), code
        assert r["sn_missing"] == "; ".join(f"LA {j}" for j in nbrs if j in suppressed), code
        assert (pd.isna(r["sn_mean"]) if not have else r["sn_mean"] == pytest.approx(sum(have) / len(have))), code


def test_three_indicators_for_two_las_each_ranked_and_trended_on_its_own():
    """More indicators than areas: every indicator, area and year is still its own series and ranking.

    Counts over 50,000 (per 10,000: count / 5) for 2016-2020, the same for three rates (no polarity: rank 1 is the
    lowest): Darlington 80, 90, 100, 110, 120 (increasing), Stockton 120, 110, 100, 90, 80 (decreasing), with 2018
    a tie at 100."""
    rows = []
    for indicator in ("cla_rate", "cin_rate", "cp_rate"):
        for code, counts in ((DARLINGTON, [400, 450, 500, 550, 600]), (STOCKTON, [600, 550, 500, 450, 400])):
            rows.append(_obs([("Local authority", code, str(2016 + i), n, 50_000) for i, n in enumerate(counts)],
                             indicator=indicator))
    out = benchmark.benchmark(indicators.compute(pd.concat(rows, ignore_index=True)), NO_NEIGHBOURS)
    last = out[out["time_period"] == "2020"]
    got = {(r.indicator, r.area_code): (r.trend, r.rank, r.rank_of, r.quartile_band) for r in last.itertuples()}
    # two values: type-7 quartiles of (80, 120) are 90, 100, 110: 80 is band A and 120 band D
    assert got == {(ind, code): want for ind in ("cla_rate", "cin_rate", "cp_rate") for code, want in (
        (DARLINGTON, ("increasing", 2, 2, "D")), (STOCKTON, ("decreasing", 1, 2, "A")))}
    tie = out[out["time_period"] == "2018"]
    assert tie["rank"].tolist() == [1] * 6 and tie["rank_of"].tolist() == [2] * 6


def test_figures_held_as_objects_or_nullable_types_benchmark_the_same():
    """Columns of Python objects, or of pandas' nullable types (pd.NA for missing), give the same figures; the input's
    own columns are passed through as they are."""
    computed = indicators.compute(_obs(FIXTURE_ROWS))
    want = _plain(benchmark.benchmark(computed, FIXTURE_NEIGHBOURS))
    objects = computed.astype({"value": object, "lower_95": object, "upper_95": object})
    assert _plain(benchmark.benchmark(objects, FIXTURE_NEIGHBOURS)) == want
    nullable = computed.convert_dtypes()
    assert str(nullable["value"].dtype) == "Float64" and str(nullable["numerator"].dtype) == "Int64"
    out = benchmark.benchmark(nullable, FIXTURE_NEIGHBOURS)
    assert _plain(out) == want
    for col in ("value", "lower_95", "numerator", "denominator", "area_code"):
        assert out[col].dtype == nullable[col].dtype, col


def test_a_missing_aggregate_check_counts_as_a_disagreement():
    """An England figure whose aggregate check is missing (pd.NA) is not used as a comparator, as one that failed."""
    computed = indicators.compute(_obs(FIXTURE_ROWS))
    computed["aggregate_check"] = pd.array([None] + [""] * (len(computed) - 1), dtype="string")
    st = _row(benchmark.benchmark(computed, FIXTURE_NEIGHBOURS), STOCKTON)
    assert pd.isna(st["england_value"]) and st["vs_england"] == "not compared"
    assert st["region_value"] == pytest.approx(95) and st["vs_region"] == "similar"


def test_only_a_published_only_figure_without_an_interval_is_not_tested():
    """A rate with a value and no interval is "not tested" only where its basis says "published only"; with no basis
    (pd.NA, or a table made before value_basis) it is "not compared", as any figure without limits."""
    computed = indicators.compute(_obs(FIXTURE_ROWS))
    st = computed["area_code"].eq(STOCKTON) & computed["time_period"].eq("2024")
    computed.loc[st, ["lower_95", "upper_95", "lower_99_8", "upper_99_8"]] = np.nan
    computed["value_basis"] = computed["value_basis"].astype("string")
    computed.loc[st, "value_basis"] = pd.NA
    assert _row(benchmark.benchmark(computed, FIXTURE_NEIGHBOURS), STOCKTON)["vs_england"] == "not compared"
    old = computed.drop(columns="value_basis")
    assert _row(benchmark.benchmark(old, FIXTURE_NEIGHBOURS), STOCKTON)["vs_england"] == "not compared"
    computed.loc[st, "value_basis"] = "published only"
    assert _row(benchmark.benchmark(computed, FIXTURE_NEIGHBOURS), STOCKTON)["vs_england"] == "not tested"


def test_decimals_given_as_decimals_in_the_registry_are_whole_numbers():
    reg = {k: dict(v) for k, v in indicators.registry().items()}
    reg["cla_rate"]["decimals"] = 1.0
    out = benchmark.benchmark(indicators.compute(_obs(FIXTURE_ROWS)), FIXTURE_NEIGHBOURS, reg=reg)
    assert out["decimals"].dtype.kind == "i" and (out["decimals"] == 1).all()


def test_distinct_codes_as_numpy_unique():
    """The helper counting distinct codes agrees with numpy.unique(codes, return_inverse=True), whatever the codes:
    whole numbers below the size by counting, negative ones (a missing code is -1) or none by numpy itself."""
    for codes in ([3, 1, 3, 0, 7], [5], [-1, 2, -1, 0], [], [0, 0]):
        codes = np.asarray(codes, dtype=np.int64)
        values, inverse = benchmark._distinct(codes, 8)
        want_values, want_inverse = np.unique(codes, return_inverse=True)
        assert values.tolist() == want_values.tolist() and inverse.tolist() == want_inverse.tolist(), codes


def test_a_level_absent_from_the_table_matches_no_code():
    levels = pd.Index(["National", "Regional", "Local authority"])
    assert benchmark._position(levels, "Regional") == 1
    # factorized codes are 0 to 2, and -1 for a missing level: the absent level's position is none of them
    assert benchmark._position(levels, "Ward") not in range(-1, len(levels))


def test_categorical_types_are_made_once(monkeypatch):
    monkeypatch.setattr(benchmark, "_DTYPES", {})
    first = benchmark._categories(("b", "a"))
    assert isinstance(first, pd.CategoricalDtype) and list(first.categories) == ["b", "a"]
    assert benchmark._categories(("b", "a")) is first


def test_a_table_benchmarked_again_takes_the_new_comparisons(table):
    """Benchmarking a benchmarked table again (another neighbour model, other targets) replaces what was worked out
    before: nothing stale is kept from the input."""
    again = benchmark.benchmark(table, FIXTURE_NEIGHBOURS.iloc[0:0])  # no neighbour model now, no targets
    st = _row(again, STOCKTON)
    assert pd.isna(st["sn_mean"]) and pd.isna(st["sn_n"]) and st["vs_sn"] == "not compared"
    assert pd.isna(st["target"]) and st["target_status"] == ""
    # what was not worked out is as before: the figures and the other comparisons
    assert st["value"] == pytest.approx(100) and st["england_value"] == pytest.approx(70)


def test_an_indicator_not_in_the_registry_is_one_clear_error():
    t = indicators.compute(_obs(FIXTURE_ROWS))
    t["indicator"] = t["indicator"].astype(str).replace("cla_rate", "cla_rates")
    with pytest.raises(ParameterError, match=r"^indicator cla_rates is not in the registry; expected one of cin_rate, .*\bcla_rate\b"):
        benchmark.benchmark(t, FIXTURE_NEIGHBOURS)


def test_neighbours_of_many_rows_are_gathered_a_part_at_a_time_with_the_same_answers():
    """More LA rows than benchmark gathers neighbours for at once: twelve LAs in a ring (each with the next three
    as neighbours), three rates over 150 years, counts suppressed here and there. Each row's neighbour mean, count
    and missing names, worked out here neighbour by neighbour, are the table's."""
    codes = [f"E06{i:06d}" for i in range(12)]
    rng = np.random.default_rng(11)
    rows, values = [], {}
    for indicator in ("cla_rate", "cin_rate", "cp_rate"):
        counts = [(code, str(year), np.nan if rng.random() < 0.2 else float(rng.integers(100, 900)))
                  for code in codes for year in range(1900, 2050)]
        rows.append(_obs([("Local authority", code, year, count, 50_000) for code, year, count in counts],
                         indicator=indicator))
        values.update({(indicator, code, year): count / 5 for code, year, count in counts})  # per 10,000
    neighbours = pd.DataFrame([{"area_code": code, "neighbour_code": codes[(i + j) % 12], "neighbour_rank": j,
                                "neighbour_name": f"LA {(i + j) % 12}"} for i, code in enumerate(codes)
                               for j in (1, 2, 3)])
    out = benchmark.benchmark(indicators.compute(pd.concat(rows, ignore_index=True)), neighbours)
    assert len(out) > 2 * benchmark._GATHER_ROWS
    for r in out.itertuples():
        i = codes.index(r.area_code)
        theirs = [(f"LA {(i + j) % 12}", values[r.indicator, codes[(i + j) % 12], r.time_period]) for j in (1, 2, 3)]
        present = [v for _, v in theirs if v == v]
        assert r.sn_n == len(present)
        assert r.sn_missing == "; ".join(name for name, v in theirs if v != v)
        if present:
            assert r.sn_mean == pytest.approx(sum(present) / len(present), rel=1e-12)
        else:
            assert pd.isna(r.sn_mean)
