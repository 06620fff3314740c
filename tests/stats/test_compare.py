"""Tests for analysis.stats.compare: Fingertips comparator vectors (every row), quantiles, bands and ranks."""

from __future__ import annotations

import csv
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.stats.compare import (
    compare_ci,
    compare_ci_codes,
    compare_spc_dsr,
    compare_spc_proportion,
    funnel_limits_proportion,
    funnel_limits_rate,
    quantile_type7,
    quartile_band,
    quartile_codes,
    rank_and_quantiles,
    rank_min,
)

from conftest import REFERENCE as REFERENCE_DIR  # noqa: E402
REL = 1e-9

SIGNIFICANCE = {"Same": "similar", "Better": "better", "Worse": "worse", "None (missing CI)": "not compared"}
POLARITY = {"RAG_LowIsGood(0)": "low_is_good", "RAG_HighIsGood(1)": "high_is_good"}


def reference_rows(name: str) -> list:
    path = REFERENCE_DIR / name
    if not path.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"reference vectors not found: {path}"))]
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [pytest.param(row, id=f"{name}:line{i}:{next(iter(row.values()))}") for i, row in enumerate(rows, 2)]


def num(text: str) -> float:
    return math.nan if text.strip() == "" else float(text)


# --------------------------------------------------------------------------------------------------------------
# Fingertips comparator vectors
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("row", reference_rows("fingertips_comparator_vectors.csv"))
def test_fingertips_comparator_vectors(row):
    expected = SIGNIFICANCE[row["expected_significance"]]
    polarity = POLARITY[row["polarity"]]
    value, comparator = num(row["value"]), num(row["comparator_value"])
    method = row["method"]
    if method == "SingleOverlappingCIsForOneCILevel":
        got = compare_ci(value, num(row["lower_ci95"]), num(row["upper_ci95"]), comparator, polarity)
    elif method == "SpcForProportions":
        got = compare_spc_proportion(value, num(row["denominator"]), comparator, num(row["confidence_variable"]),
                                     polarity, multiplier=num(row["unit"]))
    elif method == "SpcForDsr":
        got = compare_spc_dsr(value, num(row["denominator"]), comparator, num(row["confidence_variable"]),
                              polarity, multiplier=num(row["unit"]))
    else:  # pragma: no cover - a new method in the file must be handled here
        pytest.fail(f"unknown method {method!r}")
    assert got == expected


def test_fingertips_comparator_vectors_vectorised():
    """All rows of each method in one call each, with per-row polarity."""
    path = REFERENCE_DIR / "fingertips_comparator_vectors.csv"
    if not path.exists():
        pytest.skip(f"reference vectors not found: {path}")
    ref = pd.read_csv(path, dtype=str, keep_default_na=False)
    f = {c: np.array([num(v) for v in ref[c]]) for c in
         ["comparator_value", "value", "lower_ci95", "upper_ci95", "denominator", "unit", "confidence_variable"]}
    pol = ref["polarity"].map(POLARITY).to_numpy()
    expected = ref["expected_significance"].map(SIGNIFICANCE).to_numpy()
    for method, function in [("SingleOverlappingCIsForOneCILevel", None), ("SpcForProportions",
                                                                           compare_spc_proportion),
                             ("SpcForDsr", compare_spc_dsr)]:
        m = (ref["method"] == method).to_numpy()
        if function is None:
            got = compare_ci(f["value"][m], f["lower_ci95"][m], f["upper_ci95"][m], f["comparator_value"][m], pol[m])
        else:
            got = function(f["value"][m], f["denominator"][m], f["comparator_value"][m],
                           f["confidence_variable"][m], pol[m], multiplier=f["unit"][m])
        assert got.tolist() == expected[m].tolist(), method


# --------------------------------------------------------------------------------------------------------------
# compare_ci behaviour
# --------------------------------------------------------------------------------------------------------------

def test_compare_ci_without_polarity_reports_direction():
    got = compare_ci([3.3, 2.5, 3.05], [3.2, 2.2, 2.7], [3.5, 2.8, 3.1], 3.0, "none")
    assert got.tolist() == ["higher", "lower", "similar"]


def test_compare_ci_limits_touching_comparator_are_similar():
    assert compare_ci(3.5, 3.0, 4.0, 3.0, "low_is_good") == "similar"
    assert compare_ci(2.5, 2.0, 3.0, 3.0, "high_is_good") == "similar"


def test_compare_ci_missing_anything_is_not_compared():
    got = compare_ci([np.nan, 3.3, 3.3, 3.3], [3.2, np.nan, 3.2, 3.2], [3.5, 3.5, 3.5, 3.5],
                     [3.0, 3.0, 3.0, np.nan], "low_is_good")
    assert got.tolist() == ["not compared", "not compared", "worse", "not compared"]


def test_compare_ci_keeps_series_index():
    value = pd.Series([3.3, 2.5], index=["E09000001", "E09000002"])
    got = compare_ci(value, value - 0.1, value + 0.2, 3.0, pd.Series(["high_is_good", "low_is_good"],
                                                                     index=value.index))
    assert list(got.index) == ["E09000001", "E09000002"]
    assert got.tolist() == ["better", "better"]


def test_unknown_polarity_raises():
    with pytest.raises(ValueError, match="unknown polarity"):
        compare_ci(3.3, 3.2, 3.5, 3.0, "RAG_LowIsGood")


# --------------------------------------------------------------------------------------------------------------
# Funnel limits (hand-worked)
# --------------------------------------------------------------------------------------------------------------

def test_funnel_limits_proportion_by_hand():
    # comparator 50%, n = 100, z = 2: 50 -/+ 2 * sqrt(0.5 * 0.5 / 100) * 100 = 50 -/+ 2 * 0.05 * 100 = 40, 60
    # comparator 10%, n = 400, z = 3: 10 -/+ 3 * sqrt(0.1 * 0.9 / 400) * 100 = 10 -/+ 3 * 0.015 * 100 = 5.5, 14.5
    # comparator 1%, n = 10, z = 3: 1 - 3 * sqrt(0.0099) * 100 < 0, cut to 0
    lower, upper = funnel_limits_proportion([50, 10, 1], [100, 400, 10], [2, 3, 3], 100)
    np.testing.assert_allclose(lower, [40, 5.5, 0], rtol=REL, atol=1e-12)
    np.testing.assert_allclose(upper[:2], [60, 14.5], rtol=REL)


def test_funnel_limits_rate_matches_poisson_limits_of_expected_count():
    # comparator 5 per 100 in a population of 100: expected count E = 5 (< 10, exact method), so the limits
    # are the exact Poisson limits of 5 events per 100, which PHEindicatormethods gives (testdata_Rate,
    # Area2) as 1.62348639011842 and 11.668332079322669 at 95%, 0.739371731917839 and 16.454745203680105
    # at 99.8%.
    lower, upper = funnel_limits_rate(5, [100, 100], ["95%", "99.8%"], 100)
    np.testing.assert_allclose(lower, [1.62348639011842, 0.739371731917839], rtol=REL)
    np.testing.assert_allclose(upper, [11.668332079322669, 16.454745203680105], rtol=REL)
    # comparator 65 per 100, population 100: E = 65 (Byar's), PHEindicatormethods Area4: 50.163187710459454,
    # 82.849138545939837 at 95%.
    lower, upper = funnel_limits_rate(65, 100, 0.95, 100)
    assert lower == pytest.approx(50.163187710459454, rel=REL)
    assert upper == pytest.approx(82.849138545939837, rel=REL)


def test_funnel_limits_missing_and_zero_denominators():
    lower, upper = funnel_limits_rate(10, [np.nan, 0], 0.95, 1000)
    assert np.isnan(lower).all() and np.isnan(upper).all()
    assert compare_spc_dsr([5, 5], [np.nan, 0], 10, 0.025, "low_is_good").tolist() == ["not compared"] * 2


def test_compare_spc_proportion_directions():
    # comparator 50%, n = 100, z = 2: limits 40 and 60 (worked above)
    got = compare_spc_proportion([39.9, 40, 50, 60, 60.1, np.nan], 100, 50, 2, "high_is_good")
    assert got.tolist() == ["worse", "similar", "similar", "similar", "better", "not compared"]
    assert compare_spc_proportion(60.1, 100, 50, 2, "none") == "higher"


# --------------------------------------------------------------------------------------------------------------
# Quantiles
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("row", reference_rows("fingertips_quintile_bounds_vectors.csv"))
def test_quintile_bounds_vectors(row):
    assert row["values"] == "1..50 (integers)"
    bounds = quantile_type7(np.arange(1, 51), [0, 0.2, 0.4, 0.6, 0.8, 1])
    expected = [num(row[c]) for c in ["bound0_min", "bound1", "bound2", "bound3", "bound4", "bound5_max"]]
    np.testing.assert_allclose(bounds, expected, rtol=REL)


def test_quantile_type7_ignores_na_and_matches_r():
    # R: quantile(c(3, 1, NA, 4, 2), c(0.25, 0.5, 0.9), type = 7) on sorted 1,2,3,4:
    # h = 3 * 0.25 = 0.75 -> 1 + 0.75 * (2 - 1) = 1.75; h = 1.5 -> 2.5; h = 2.7 -> 3 + 0.7 * (4 - 3) = 3.7
    got = quantile_type7(pd.Series([3, 1, None, 4, 2], dtype="Float64"), [0.25, 0.5, 0.9])
    np.testing.assert_allclose(got, [1.75, 2.5, 3.7], rtol=REL)
    assert quantile_type7([7.0], 0.3) == 7.0
    assert np.isnan(quantile_type7([np.nan], [0.5])).all()
    with pytest.raises(ValueError):
        quantile_type7([1, 2], 1.5)


# --------------------------------------------------------------------------------------------------------------
# Quartile bands (hand-worked)
# --------------------------------------------------------------------------------------------------------------

def test_quartile_band_single_group():
    # values 1..8 (shuffled). Type-7 quartiles of 1..8 (n = 8, h = 7q):
    #   Q1: h = 1.75 -> 2 + 0.75 * (3 - 2) = 2.75;  Q2: h = 3.5 -> 4.5;  Q3: h = 5.25 -> 6 + 0.25 = 6.25
    # 1, 2 <= 2.75 -> A;  3, 4 <= 4.5 -> B;  5, 6 <= 6.25 -> C;  7, 8 -> D
    values = pd.Series([8, 1, 5, 2, 7, 3, 6, 4], index=list("abcdefgh"))
    got = quartile_band(values)
    assert got.to_dict() == {"a": "D", "b": "A", "c": "C", "d": "A", "e": "D", "f": "B", "g": "C", "h": "B"}


def test_quartile_band_by_group_with_ties_and_na():
    # group x: 10, 20, 30, 40, 50 (n = 5, h = 4q): Q1 = 20, Q2 = 30, Q3 = 40
    #   10 -> A, 20 -> A (on Q1), 30 -> B (on Q2), 40 -> C (on Q3), 50 -> D
    # group y: 5, 5, 5, NA, 9 -> non-missing 5, 5, 5, 9 (n = 4, h = 3q):
    #   Q1: h = 0.75 -> 5;  Q2: h = 1.5 -> 5;  Q3: h = 2.25 -> 5 + 0.25 * (9 - 5) = 6
    #   5 -> A (three times), NA -> NA, 9 -> D
    values = [10, 20, 30, 40, 50, 5, 5, 5, None, 9]
    groups = ["x"] * 5 + ["y"] * 5
    got = quartile_band(values, groups)
    assert got.tolist()[:8] == ["A", "A", "B", "C", "D", "A", "A", "A"]
    assert pd.isna(got.iloc[8]) and got.iloc[9] == "D"


def test_quartile_band_two_keys():
    # keys (indicator, year): ("i", 2023) holds 1, 2, 3, 4 ; ("i", 2024) holds 4, 3, 2, 1 interleaved
    # n = 4, h = 3q: Q1 = 1 + 0.75 = 1.75, Q2 = 2.5, Q3 = 3.25 in both groups:
    #   1 -> A, 2 -> B, 3 -> C, 4 -> D
    values = [1, 4, 2, 3, 3, 2, 4, 1]
    indicator = ["i"] * 8
    year = [2023, 2024] * 4
    got = quartile_band(values, [indicator, year])
    assert got.tolist() == ["A", "D", "B", "C", "C", "B", "D", "A"]


# --------------------------------------------------------------------------------------------------------------
# Ranks (hand-worked)
# --------------------------------------------------------------------------------------------------------------

def test_rank_min_ties_and_na():
    # sorted: 1.0 (rank 1), 2.0 (2), 3.0, 3.0 (both 3, "min"), 7.0 (5); NA stays NA
    got = rank_min(pd.Series([3.0, 1.0, None, 3.0, 7.0, 2.0], index=[5, 4, 3, 2, 1, 0]))
    assert str(got.dtype) == "Int64"
    assert list(got.index) == [5, 4, 3, 2, 1, 0]
    assert got.tolist()[:2] == [3, 1] and pd.isna(got.iloc[2]) and got.tolist()[3:] == [3, 5, 2]


def test_rank_min_within_groups():
    # group a: 30, 10, 10 -> 10, 10 share rank 1, 30 is 3;  group b: 2, 1 -> 2 is 2, 1 is 1
    got = rank_min([30, 10, 2, 10, 1], pd.Series(["a", "a", "b", "a", "b"], index=[9, 8, 7, 6, 5]))
    assert got.tolist() == [3, 1, 2, 1, 1]


def test_rank_and_quantiles_along_an_axis():
    """The table's own call: indicator x area x year, ranked and banded along the areas (axis 1)."""
    # indicator 0, year 0: areas 30, 10, NaN, 10, 50 -> ranks 3, 1, -, 1, 4 of 4; sorted 10, 10, 30, 50 (h = 3q):
    #   Q1 = 10 + 0.75 * 0 = 10, Q2 = 10 + 0.5 * 20 = 20, Q3 = 30 + 0.25 * 20 = 35 -> bands C, A, -, A, D
    # indicator 0, year 1: all missing -> no ranks, quantiles missing, count 0
    values = np.array([[[30, np.nan], [10, np.nan], [np.nan, np.nan], [10, np.nan], [50, np.nan]]])
    ranks, (q1, q2, q3), count = rank_and_quantiles(values, (0.25, 0.5, 0.75), axis=1)
    np.testing.assert_array_equal(ranks[0, :, 0], [3, 1, np.nan, 1, 4])
    assert np.isnan(ranks[0, :, 1]).all()
    assert (q1[0, 0], q2[0, 0], q3[0, 0]) == (10, 20, 35) and np.isnan(q1[0, 1]) and count.tolist() == [[4, 0]]
    assert quartile_codes(values[0, :, 0], q1[0, 0], q2[0, 0], q3[0, 0]).tolist() == [3, 1, 0, 1, 4]


def test_bands_and_ranks_follow_polarity_as_lait():
    """LAIT: where high is good, band A is the highest quarter and rank 1 the highest value; the cut points are the
    same type-7 quartiles, each interval closed on the right (a value on Q1 is in the lowest interval)."""
    # values 10, 20, 30, 40, 50: Q1 = 20, Q2 = 30, Q3 = 40 (h = 4q). Intervals: [10, 20], (20, 30], (30, 40], (40, 50]
    values = [10, 20, 30, 40, 50]
    assert quartile_band(values, polarity="high_is_good").tolist() == ["D", "D", "C", "B", "A"]
    assert quartile_band(values, polarity="low_is_good").tolist() == ["A", "A", "B", "C", "D"]
    assert quartile_band(values).tolist() == ["A", "A", "B", "C", "D"]         # no polarity: from the lowest
    # ranks, ties sharing the best rank: 30, 10, 10, 50 -> from the highest 50 is 1, 30 is 2, the two 10s are 3
    assert rank_min([30, 10, 10, 50, None], polarity="high_is_good").tolist()[:4] == [2, 3, 3, 1]
    assert rank_min([30, 10, 10, 50], polarity="low_is_good").tolist() == [3, 1, 1, 4]


def test_polarity_per_group():
    # group a (high is good): 1, 2, 3 -> ranks 3, 2, 1; group b (low is good): 1, 2 -> ranks 1, 2
    got = rank_min([1, 2, 3, 1, 2], ["a", "a", "a", "b", "b"],
                   polarity=["high_is_good"] * 3 + ["low_is_good"] * 2)
    assert got.tolist() == [3, 2, 1, 1, 2]
    with pytest.raises(ValueError, match="different polarities"):
        rank_min([1, 2], ["a", "a"], polarity=["high_is_good", "none"])
    with pytest.raises(ValueError, match="unknown polarity"):
        quartile_band([1, 2], polarity="up_is_good")


def test_rank_and_quantiles_polarity_per_indicator():
    """The table's call with one polarity per indicator: indicator 0 (high is good) and 1 (none), one year."""
    # indicator 0: 30, 10, NaN, 10, 50 -> from the highest: 50 is 1, 30 is 2, both 10s are 3; quantiles unchanged
    # (Q1 = 10, Q2 = 20, Q3 = 35), bands from the top: 30 is B (in (20, 35]), 10 is D (at or below Q1), 50 is A
    values = np.array([[[30], [10], [np.nan], [10], [50]], [[30], [10], [np.nan], [10], [50]]], dtype=float)
    ranks, (q1, q2, q3), _ = rank_and_quantiles(values, (0.25, 0.5, 0.75), axis=1,
                                                polarity=np.array([["high_is_good"], ["none"]], dtype=object))
    np.testing.assert_array_equal(ranks[0, :, 0], [2, 3, np.nan, 3, 1])
    np.testing.assert_array_equal(ranks[1, :, 0], [3, 1, np.nan, 1, 4])
    assert (q1[0, 0], q2[0, 0], q3[0, 0]) == (10, 20, 35)
    assert quartile_codes(values[0, :, 0], q1[0, 0], q2[0, 0], q3[0, 0], "high_is_good").tolist() == [2, 4, 0, 4, 1]


def test_group_key_length_checked():
    with pytest.raises(ValueError, match="group key"):
        rank_min([1, 2, 3], ["a", "b"])


# --------------------------------------------------------------------------------------------------------------
# Shapes, defaults and messages
# --------------------------------------------------------------------------------------------------------------

INDEX = ["E06000004", "E06000005"]


def _series_at(args, position):
    """The arguments with the one at ``position`` as a Series on INDEX (the others stay lists or scalars)."""
    return [pd.Series(a, index=INDEX) if i == position else a for i, a in enumerate(args)]


@pytest.mark.parametrize("position", range(5))
def test_compare_ci_keeps_the_index_of_whichever_input_is_a_series(position):
    # value, lower, upper, comparator, polarity: 3.3 in (3.2, 3.5) against 3.0 is higher (worse where low is good)
    args = [[3.3, 3.3], [3.2, 3.2], [3.5, 3.5], [3.0, 3.05], ["low_is_good", "none"]]
    got = compare_ci(*_series_at(args, position))
    assert list(got.index) == INDEX and got.tolist() == ["worse", "higher"]


@pytest.mark.parametrize("position", range(4))
def test_compare_spc_keeps_the_index_of_whichever_input_is_a_series(position):
    # value, denominator, comparator, z or p, polarity. Proportions: 50% of 100, z = 2: limits 40 and 60 (worked
    # above). Rates: comparator 5 per 100 in 100 people, E = 5, 95% limits 1.6235 and 11.6683 (PHEindicatormethods).
    prop = [[61.0, 50.0], [100, 100], [50, 50], 2, ["high_is_good", "high_is_good"]]
    rate = [[12.0, 5.0], [100, 100], [5, 5], 0.025, ["high_is_good", "high_is_good"]]
    for function, args in ((compare_spc_proportion, prop), (compare_spc_dsr, rate)):
        if position == 3:  # z and p are one for all here: the polarity is the fourth Series tried
            args = args[:3] + [args[3], pd.Series(args[4], index=INDEX)]
        else:
            args = _series_at(args, position)
        got = function(*args, multiplier=100)
        assert list(got.index) == INDEX and got.tolist() == ["better", "similar"], function.__name__


def test_series_with_different_indexes_are_refused():
    a, b = pd.Series([3.3, 3.3], index=INDEX), pd.Series([3.0, 3.0], index=["x", "y"])
    with pytest.raises(ValueError, match="different indexes"):
        compare_ci(a, [3.2, 3.2], [3.5, 3.5], [3.0, 3.0], b.map(lambda _: "none"))
    with pytest.raises(ValueError, match="different indexes"):
        compare_spc_proportion(a, [100, 100], [50, 50], 2, pd.Series(["none"] * 2, index=["x", "y"]))
    with pytest.raises(ValueError, match="different indexes"):
        compare_ci_codes(a, [3.2, 3.2], [3.5, 3.5], pd.Series([3.0, 3.0], index=["x", "y"]), "none")


def test_spc_default_scales_are_a_percentage_and_a_rate_per_100000():
    # Proportions: 50% of 100 at z = 2 gives limits 40 and 60 on the percentage scale (worked above).
    assert funnel_limits_proportion(50, 100, 2) == pytest.approx((40, 60), rel=REL)
    assert compare_spc_proportion(60.05, 100, 50, 2, "none") == "higher"  # just above 60
    # Rates: 5 per 100,000 in 100,000 people is E = 5: the exact limits of 5 events (PHEindicatormethods, Area2)
    # are 1.62348639011842 and 11.668332079322669, here per 100,000.
    assert funnel_limits_rate(5, 100_000) == pytest.approx((1.62348639011842, 11.668332079322669), rel=REL)
    assert compare_spc_dsr(11.6, 100_000, 5, 0.025, "none") == "similar"
    assert compare_spc_dsr(11.66835, 100_000, 5, 0.025, "none") == "higher"  # just above 11.668332


def test_spc_on_the_proportion_scale():
    # multiplier 1: a comparator of 0.5 over 100 at z = 2 gives limits 0.4 and 0.6
    assert funnel_limits_proportion(0.5, 100, 2, multiplier=1) == pytest.approx((0.4, 0.6), rel=REL)
    assert compare_spc_proportion([0.39, 0.5, 0.61], 100, 0.5, 2, "high_is_good", multiplier=1).tolist() == [
        "worse", "similar", "better"]


def test_spc_dsr_limits_are_at_the_confidence_of_p():
    # p = 0.025 is the 95% level: E = 5 has exact limits 1.6235 and 11.6683 (PHEindicatormethods, Area2), so 11.6
    # and 1.7 per 100 are within them and 11.7 and 1.6 are not. (At 92.5% the upper limit would be 11.0.)
    got = compare_spc_dsr([1.6, 1.7, 11.6, 11.7], 100, 5, 0.025, "low_is_good", multiplier=100)
    assert got.tolist() == ["better", "similar", "similar", "worse"]


def test_spc_needs_every_input_and_a_positive_denominator():
    # one unit of population is enough: 50% of 1 at z = 0.5 gives limits 25 and 75
    assert funnel_limits_proportion(50, 1, 0.5) == pytest.approx((25, 75), rel=REL)
    got = compare_spc_proportion([80.0, 80, 80, 80, np.nan], [1, 0, 1, 1, 1], [50, 50, np.nan, 50, 50],
                                 [0.5, 0.5, 0.5, np.nan, 0.5], "none")
    assert got.tolist() == ["higher", "not compared", "not compared", "not compared", "not compared"]
    # E = 1 event for one person at 100,000 per 100,000: exact 95% limits -ln(0.975) = 0.0253 and about 5.57 events
    got = compare_spc_dsr([0.0, 0, np.nan, 0, 0], [1, 1, 1, 1, 0], [100_000, np.nan, 100_000, 100_000, 100_000],
                          [0.025, 0.025, 0.025, np.nan, 0.025], "none")
    assert got.tolist() == ["lower", "not compared", "not compared", "not compared", "not compared"]


def test_funnel_limits_proportion_stay_within_0_and_100_percent():
    # 0%: no spread at all (p (1 - p) = 0); 99% of 10 at z = 3: 99 + 3 sqrt(0.99 x 0.01 / 10) x 100 = 108.4, cut to 100
    lower, upper = funnel_limits_proportion([0, 99], [100, 10], 3)
    assert lower[0] == 0 and upper[0] == 0
    assert upper[1] == 100 and lower[1] == pytest.approx(99 - 300 * math.sqrt(0.99 * 0.01 / 10), rel=REL)


def test_funnel_limits_proportion_where_there_is_no_denominator():
    # a zero denominator gives no limits, and no warning about dividing by it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lower, upper = funnel_limits_proportion([50, 0], [0, 0], 2)
    assert np.isnan(lower).all() and np.isnan(upper).all()


def test_funnel_limits_keep_the_shape_of_their_inputs():
    den = pd.Series([100, 400], index=INDEX)
    lower, upper = funnel_limits_proportion(50, den, 2)
    assert isinstance(lower, pd.Series) and isinstance(upper, pd.Series)
    assert list(lower.index) == list(upper.index) == INDEX
    # 50% -/+ 2 sqrt(0.25 / n) x 100: n = 100 gives 40 and 60, n = 400 gives 45 and 55
    assert lower.tolist() == pytest.approx([40, 45], rel=REL) and upper.tolist() == pytest.approx([60, 55], rel=REL)
    lower, upper = funnel_limits_rate(5, den, multiplier=100)  # E = 5 and 20: PHEindicatormethods' Area2 and Area3
    assert list(lower.index) == list(upper.index) == INDEX
    assert lower.tolist() == pytest.approx([1.62348639011842, 12.211428834875937 / 4], rel=REL)
    assert upper.tolist() == pytest.approx([11.668332079322669, 30.889880369197066 / 4], rel=REL)
    lower, upper = funnel_limits_rate(5, 100, 0.95, 100)
    assert type(lower) is float and type(upper) is float
    lower, upper = funnel_limits_rate(5, 100, ["95%", "99.8%"], 100)  # one level per row: a row each
    assert lower.tolist() == pytest.approx([1.62348639011842, 0.739371731917839], rel=REL)
    lower, upper = funnel_limits_proportion(50, 100, 2)
    assert isinstance(lower, float) and isinstance(upper, float)


def test_negative_denominator_message():
    with pytest.raises(ValueError, match=r"^funnel_limits_proportion: 1 of 2 rows have a negative denominator "
                                         r"\(first at position 1, value -5\.0\)$"):
        funnel_limits_proportion(50, [100, -5], 2)


@pytest.mark.parametrize("p", [0, 0.5, 0.75, 1, -0.01])
def test_spc_dsr_refuses_a_p_that_is_not_a_one_tail_probability(p):
    with pytest.raises(ValueError, match=r"^p must be a one-tail probability between 0 and 0\.5 \(such as 0\.025 or "
                                         r"0\.001\), got " + re.escape(repr(float(p))) + "$"):
        compare_spc_dsr(5.0, 100, 5, p, "none")


def test_quantile_type7_refuses_probabilities_outside_0_to_1():
    for bad in (-0.1, np.nan, [0.5, 1.5]):
        with pytest.raises(ValueError, match=r"^probabilities must be between 0 and 1, got "):
            quantile_type7([1, 2], bad)
    with pytest.raises(ValueError, match=r"^probabilities must be between 0 and 1, got 1\.5$"):
        quantile_type7([1, 2], 1.5)


def test_quantile_type7_of_one_probability_is_a_float():
    got = quantile_type7([1, 2, 3, 4], 0.5)
    assert type(got) is float and got == 2.5


def test_groups_as_a_dataframe_or_a_list_of_one_key():
    # the keys of test_quartile_band_two_keys, as a DataFrame: same bands
    values = [1, 4, 2, 3, 3, 2, 4, 1]
    keys = pd.DataFrame({"indicator": ["i"] * 8, "year": [2023, 2024] * 4})
    assert quartile_band(values, keys).tolist() == ["A", "D", "B", "C", "C", "B", "D", "A"]
    # one key inside a list is that key: years 2023 (1, 2, 3, 4) and 2024 (4, 3, 2, 1)
    assert rank_min(values, [[2023, 2024] * 4]).tolist() == [1, 4, 2, 3, 3, 2, 4, 1]
    # an empty list is one key with no entries, not "no groups"
    with pytest.raises(ValueError, match=r"^group key 0 has 0 entries but there are 8 values$"):
        rank_min(values, [])


def test_missing_group_keys_form_their_own_group():
    # keys a, a, missing, missing: 5 and 1 ranked in a; 7 and 3 in the missing-key group
    got = rank_min([5, 1, 7, 3], ["a", "a", None, None])
    assert got.tolist() == [2, 1, 2, 1]
    got = quartile_band([5, 1, 7, 3], pd.Series(["a", "a", np.nan, np.nan]))
    assert got.tolist() == ["D", "A", "D", "A"]


def test_nothing_to_rank_or_band():
    assert rank_min([]).tolist() == [] and quartile_band([], []).tolist() == []


def test_different_polarities_in_a_group_message():
    # group a (rows 0 and 1) is consistent; group b (rows 2 and 3) is not: the message names a row of group b
    with pytest.raises(ValueError, match=r"^the values of one group have different polarities \(first at position [23]\); "
                                         r"rank and band each indicator separately$"):
        rank_min([1, 2, 3, 4], ["a", "a", "b", "b"], polarity=["none", "none", "high_is_good", "none"])


POLARITY_CHOICES = "use one of low_is_good, high_is_good, none"


def test_unknown_polarity_messages_name_the_first_row():
    with pytest.raises(ValueError, match="^" + re.escape(
            f"1 rows have an unknown polarity (first at position 0: 'RAG_LowIsGood'); {POLARITY_CHOICES}") + "$"):
        compare_ci(3.3, 3.2, 3.5, 3.0, "RAG_LowIsGood")
    # a list: None and unknown words are unknown, the first of them named as given
    with pytest.raises(ValueError, match="^" + re.escape(
            f"3 rows have an unknown polarity (first at position 1: 'up'); {POLARITY_CHOICES}") + "$"):
        compare_ci([3.3] * 4, 3.2, 3.5, 3.0, ["none", "up", None, "down"])
    # a categorical (as the benchmarked table holds polarity): an unknown category and a missing value
    with pytest.raises(ValueError, match="^" + re.escape(
            f"2 rows have an unknown polarity (first at position 1: nan); {POLARITY_CHOICES}") + "$"):
        compare_ci([3.3] * 3, 3.2, 3.5, 3.0, pd.Categorical(["none", None, "up"]))
    with pytest.raises(ValueError, match="^" + re.escape(
            f"1 rows have an unknown polarity (first at position 2: 'up'); {POLARITY_CHOICES}") + "$"):
        compare_ci([3.3] * 3, 3.2, 3.5, 3.0, pd.Series(["none", "low_is_good", "up"], dtype="category"))


def test_polarity_as_a_categorical_series():
    polarity = pd.Series(["low_is_good", "high_is_good", "none"], dtype="category")
    got = compare_ci([3.3, 3.3, 3.3], 3.2, 3.5, 3.0, polarity)
    assert got.tolist() == ["worse", "better", "higher"]


def test_comparing_nothing():
    assert compare_ci([], [], [], [], []).tolist() == []


def test_words_are_text_as_pandas_stores_text():
    text = pd.Series(["x"]).dtype
    assert compare_ci([3.3], 3.2, 3.5, 3.0, "none").dtype == text
    assert quartile_band([1.0, 2.0]).dtype == text


def test_ties_at_the_top_share_the_best_rank_where_high_is_good():
    assert rank_min([1, 5, 5], polarity="high_is_good").tolist() == [3, 1, 1]
    assert rank_min([5, 5, 1], polarity="low_is_good").tolist() == [2, 2, 1]


def test_quantiles_at_0_and_1_with_missing_values():
    # sorted 1, 2, 3, 4 (one missing): the 0 and 1 quantiles are the smallest and the largest, whatever is missing
    assert quantile_type7([3, 1, None, 4, 2], [0, 1]).tolist() == [1, 4]


def test_ranks_and_quantiles_along_an_empty_axis():
    for shape in ((2, 0), (2, 3, 0)):
        ranks, (q,), count = rank_and_quantiles(np.empty(shape), (0.5,), axis=-1)
        assert ranks.shape == shape and q.shape == shape[:-1] and np.isnan(q).all() and (count == 0).all()


def test_funnel_limits_rate_for_one_person_and_messages():
    # 100,000 per 100,000 in a population of 1: E = 1, whose exact 95% limits are qchisq(0.025, 2) / 2 = -ln(0.975)
    # and the u with exp(-u) (1 + u) = 0.025 (the chi-square on 4 degrees of freedom)
    lower, upper = funnel_limits_rate(100_000, 1)
    assert lower == pytest.approx(-math.log(0.975) * 100_000, rel=1e-9)
    u = upper / 100_000
    assert math.exp(-u) * (1 + u) == pytest.approx(0.025, rel=1e-9)
    with pytest.raises(ValueError, match="^" + re.escape(
            "funnel_limits_rate: 1 of 2 rows have a negative denominator (first at position 1, value -1.0)") + "$"):
        funnel_limits_rate(5, [10, -1])
    with pytest.raises(ValueError, match="^" + re.escape(
            "funnel_limits_rate: 1 of 1 rows have a negative comparator (first at position 0, value -5.0)") + "$"):
        funnel_limits_rate(-5, 10)


def test_compare_ci_without_an_upper_limit_is_not_compared():
    assert compare_ci(3.3, 3.2, np.nan, 3.0, "none") == "not compared"
