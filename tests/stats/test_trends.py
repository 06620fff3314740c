"""Tests for analysis.stats.trends: Fingertips' own unit-test vectors, hand-worked series, and properties.

Expected values come from Fingertips' tests (cited at each test), from arithmetic written out here, or from
``fingertips_trend``, a plain-Python transcription of Fingertips' C# (loops and sums as they are written there),
which the vectorised code must agree with on random series.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from analysis.stats import trends
from analysis.stats.trends import CHI_SQUARE_THRESHOLD, TREND_COLUMNS, TREND_VALUES, recent_trend, trend_codes

COLUMNS = ["year", "num", "den", "value", "lower_95", "upper_95"]


def table(rows, la="a") -> pd.DataFrame:
    """A one-series table from (year, count, denominator, value, lower 95%, upper 95%) rows; None is missing."""
    frame = pd.DataFrame(rows, columns=COLUMNS).astype({c: "float64" for c in COLUMNS[1:]})
    return frame.assign(la=la)


def trend_of(rows) -> pd.Series:
    """The trend row of a one-series table."""
    return recent_trend(table(rows), "la", "year", "num", "den").iloc[0]


def unit_se(values, start=2015, missing_limits=()):
    """Rows with standard error 1 (95% interval width 3.92) around each value, counts 10 of 100."""
    return [(start + i, 10, 100, v, None if i in missing_limits else v - 1.96,
             None if i in missing_limits else v + 1.96) for i, v in enumerate(values)]


# --------------------------------------------------------------------------------------------------------------
# A plain-Python transcription of Fingertips' calculation (fingertips-open, PholioVisualisationWS/Analysis/
# TrendMarkers/TrendRequest.cs and TrendMarkerCalculator.cs, the branch for comparator methods other than SPC for
# proportions), with IEEE division as in C# (x/0 is infinite, 0/0 NaN).
# --------------------------------------------------------------------------------------------------------------

def fingertips_trend(rows):
    """(marker, chi-square or None, the six slopes) for records (year, count, denominator, value, lower, upper)."""
    f = np.float64
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # TrendRequest.IsValid and GetValidDataList
        if len(rows) < 5:
            return "cannot be calculated", None, []
        valid = []
        for year, count, den, value, lower, upper in sorted(rows, key=lambda r: r[0], reverse=True):
            if value is None or count is None or not den > 0:
                break
            valid.append((year, count, den, value, lower, upper))
        if len(valid) < 5 or any(count == den for _, count, den, *_ in valid):
            return "cannot be calculated", None, []
        # GetMostRecentData: the latest five with both limits, then in time order
        data = [r for r in valid if r[4] is not None and r[5] is not None][:5][::-1]
        calculated = {}
        for counter, (_, _, _, value, lower, upper) in enumerate(data, start=1):
            divisor = ((f(upper) - f(lower)) / f(3.92)) ** 2
            calculated[counter] = (f(1) / divisor, f(value) * counter / divisor, f(counter) / divisor,
                                   f(value) / divisor, f(counter) ** 2 / divisor)
        # NoOutliersCheck
        slope_sum, slope, chi2, slopes = 0, None, None, []
        for check in range(6):
            s = [f(0)] * 5
            for key, vals in calculated.items():
                if check == 0 or key != check:
                    s = [a + b for a, b in zip(s, vals)]
            s1, s2, s3, s4, s5 = s
            value = (s1 * s2 - s3 * s4) / (s1 * s5 - s3 ** 2)
            slope_sum += -1 if value < 0 else 1
            slopes.append(float(value))
            if check == 0:
                slope = value
                beta = np.sqrt(s1 / (s1 * s5 - s3 ** 2))
                chi2 = (slope / beta) ** 2
    if abs(slope_sum) == 6 and chi2 > 9.54953570608324:
        return ("increasing" if slope > 0 else "decreasing"), float(chi2), slopes
    return "no significant change", float(chi2), slopes


# --------------------------------------------------------------------------------------------------------------
# Fingertips' own unit-test vectors
# --------------------------------------------------------------------------------------------------------------

# fingertips-open, PholioVisualisationWS/AnalysisTest/TrendMarkerCalculatorTest.cs, GetTrendData_Set1 and _Set2
SET1 = [(2018, 1367, 44701, 30.6, 28.98, 32.25), (2017, 1332, 44064, 30.2, 28.63, 31.9),
        (2016, 1199, 42811, 28, 26.44, 29.64), (2015, 1023, 41527, 24.6, 23.15, 26.19),
        (2014, 994, 40299, 24.67, 23.16, 26.25)]
SET2 = [(2014, 209, 1017, 20.5506, 18.1803, 23.1427), (2015, 213, 1087, 19.5952, 17.3444, 22.0602),
        (2016, 213, 1119, 19.0349, 16.8421, 21.4394), (2017, 239, 1117, 21.3966, 19.0918, 23.8975),
        (2018, 210, 1139, 18.4372, 16.2925, 20.7941)]


def test_fingertips_is_significant_returns_true():
    # TestIsSignificantReturnsTrue: IsSignificant, Math.Round(ChiSquare, 2) == 46.77 (the values rise, so increasing)
    row = trend_of(SET1)
    assert round(row["trend_statistic"], 2) == 46.77
    assert row["trend"] == "increasing" and row["trend_points"] == 5


def test_fingertips_is_significant_returns_false():
    # TestIsSignificantReturnsFalse
    assert trend_of(SET2)["trend"] == "no significant change"


def test_fingertips_valid_data_rules():
    # fingertips-open, PholioVisualisationWS/AnalysisTest/TrendRequestTest.cs (TrendMarkers version): five points
    # (value 2, count 8, denominator 4, no limits) are valid; an invalid point older than five valid ones does not
    # matter; an invalid value among the five leaves too few valid points.
    five = [(year, 8, 4, 2, None, None) for year in range(2001, 2006)]
    assert trend_of(five)["trend"] == "no significant change"
    assert trend_of([(2000, 8, 4, None, None, None)] + five)["trend"] == "no significant change"
    assert trend_of([(2001, 8, 4, None, None, None)] + five[1:])["trend"] == "cannot be calculated"


# FingertipsNext, trend-analysis/TrendAnalysisApp.UnitTests/Calculator/IndicatorTestData.cs with TrendCalculatorTests.cs:
# trends shown on the Fingertips website, recomputed by the ported calculator (UseProportionsForTrend false).
MMR_YORKSHIRE = [(2024, 53185, 59028, 90.1013, 89.8578, 90.3396), (2023, 51767, 57508, 90.017, 89.7694, 90.2594),
                 (2022, 53681, 59074, 90.8708, 90.6358, 91.1004), (2021, 55865, 60511, 92.3221, 92.1072, 92.5315),
                 (2020, 57274, 61834, 92.6254, 92.4168, 92.8288)]
DIABETIC_EYE = [(2024, 1502, 49866388, 3.0121, 2.8616, 3.1683), (2023, 1415, 49300918, 2.8701, 2.7225, 3.0237),
                (2022, 1344, 48753376, 2.7567, 2.6113, 2.9082), (2021, 935, 48440507, 1.93028, 1.8085, 2.058),
                (2020, 1416, 48246126, 2.935, 2.7841, 3.0919)]
GP_OVER_65 = [(2024, 11246440, 63227624, 17.7872, None, None), (2023, 11034431, 62418295, 17.6782, None, None),
              (2022, 10851467, 61625745, 17.6087, None, None), (2021, 10547929, 60744002, 17.3646, None, None),
              (2020, 10588957, 60458658, 17.5144, None, None)]
CANCER_U75 = [(2022, 60192, 51966274, 122.3782, 121.4012, 123.361), (2021, 60202, 51653460, 121.5234, 120.5533, 122.4993),
              (2020, 61740, 51530437, 125.829, 124.8371, 126.8268), (2019, 61807, 51510878, 126.9341, 125.9343, 127.94)]


@pytest.mark.parametrize("rows, expected", [
    (MMR_YORKSHIRE, "decreasing"),           # TestYorkshireMmrCoverageTrendIsCalculatedCorrectly
    (DIABETIC_EYE, "increasing"),            # TestDiabeticEyeDiseaseTrendIsCalculatedCorrectly (crude rate)
    (GP_OVER_65, "no significant change"),   # TestGpRegisteredPopulationOver65...: no limits, so no points: NoChange
    (CANCER_U75, "cannot be calculated"),    # TestTrendCannotBeCalculatedWhenInsufficientDataPointsProvided
], ids=["mmr", "diabetic-eye", "gp-over-65-no-limits", "four-points"])
def test_fingertips_next_vectors(rows, expected):
    assert trend_of(rows)["trend"] == expected


# --------------------------------------------------------------------------------------------------------------
# Hand-worked series (standard error 1 at every point, so every weight is 1)
# --------------------------------------------------------------------------------------------------------------

def test_threshold_is_qchisq_998():
    # R: qchisq(0.998, 1) = qnorm(0.999)^2 = 3.090232306167813^2
    assert CHI_SQUARE_THRESHOLD == pytest.approx(3.090232306167813 ** 2, rel=1e-12)


def test_straight_line_at_the_threshold():
    # y = 1..5 with w = 1: t - tbar = -2..2, sum (t - tbar)^2 = 10, slope = 10/10 = 1, var(slope) = 1/10, X2 = 10,
    # just above 9.5495 -> increasing. Widen every interval by 3% (se 1.03): X2 = 10 / 1.03^2 = 9.4260 -> not
    # significant. The threshold is what decides.
    row = trend_of(unit_se([1, 2, 3, 4, 5]))
    assert row["trend_statistic"] == pytest.approx(10, rel=1e-12)
    assert row["trend"] == "increasing"
    wider = [(y, c, d, v, v - 1.96 * 1.03, v + 1.96 * 1.03) for y, c, d, v, _, _ in unit_se([1, 2, 3, 4, 5])]
    row = trend_of(wider)
    assert row["trend_statistic"] == pytest.approx(10 / 1.03 ** 2, rel=1e-12)
    assert row["trend"] == "no significant change"
    assert trend_of(unit_se([5, 4, 3, 2, 1]))["trend"] == "decreasing"


def test_outlier_check_vetoes_a_significant_statistic():
    # y = 1, 0, 0, 0, 10: sum (t - 3) y = -2 + 20 = 18, slope 1.8, X2 = 1.8^2 * 10 = 32.4 > 9.55. Leaving out the
    # last point gives 1, 0, 0, 0 with a negative slope (-0.3), so one of the six slopes disagrees: no trend.
    row = trend_of(unit_se([1, 0, 0, 0, 10]))
    assert row["trend_statistic"] == pytest.approx(32.4, rel=1e-12)
    assert row["trend"] == "no significant change"


def test_a_zero_slope_counts_as_positive():
    # Fingertips counts a slope that is not below 0 as +1. y = 0, 0, 0, 0, 10: slope 2, X2 = 40; leaving out the
    # last point gives a flat line (slope 0, +1), so all six agree: increasing. Reversed (10, 0, 0, 0, 0) the
    # slopes are negative but leaving out the first gives 0, counted +1: the check fails, no trend.
    assert trend_of(unit_se([0, 0, 0, 0, 10]))["trend"] == "increasing"
    row = trend_of(unit_se([10, 0, 0, 0, 0]))
    assert row["trend_statistic"] == pytest.approx(40, rel=1e-12) and row["trend"] == "no significant change"


def test_only_the_latest_five_points_are_used():
    # an early outlier (2015) before 1..5 (2016-2020): X2 = 10 as in the straight line
    row = trend_of(unit_se([100, 1, 2, 3, 4, 5]))
    assert row["trend_statistic"] == pytest.approx(10, rel=1e-12) and row["trend_points"] == 5


def test_a_point_without_limits_is_skipped_not_a_break():
    # 2015-2020 with no limits in 2018: the latest five with limits are 2015, 2016, 2017, 2019, 2020, numbered
    # t = 1..5 whatever their years, holding 1, 2, 3, 4, 5: X2 = 10.
    row = trend_of(unit_se([1, 2, 3, 99, 4, 5], missing_limits=(3,)))
    assert row["trend_statistic"] == pytest.approx(10, rel=1e-12) and row["trend"] == "increasing"


def test_a_period_with_no_row_is_not_a_gap():
    # years 2015, 2016, 2018, 2019, 2020 (no 2017 row): five records, t = 1..5
    rows = [r for r in unit_se([1, 2, 0, 3, 4, 5]) if r[0] != 2017]
    assert trend_of(rows)["trend_statistic"] == pytest.approx(10, rel=1e-12)


def test_a_missing_value_ends_the_run():
    # in the latest five -> too few valid points; older than the latest five -> no effect
    gap = [(y, None if y == 2018 else c, d, None if y == 2018 else v, lo, up)
           for y, c, d, v, lo, up in unit_se([1, 2, 3, 4, 5, 6])]
    assert trend_of(gap)["trend"] == "cannot be calculated"
    old_gap = [(y, c, d, None if y == 2015 else v, lo, up) for y, c, d, v, lo, up in unit_se([9, 1, 2, 3, 4, 5])]
    assert trend_of(old_gap)["trend_statistic"] == pytest.approx(10, rel=1e-12)


def test_latest_point_suppressed_means_no_trend():
    # Fingertips starts the run at the latest record: a suppressed latest year leaves no valid run.
    rows = unit_se([1, 2, 3, 4, 5]) + [(2020, None, 100, None, None, None)]
    assert trend_of(rows)["trend"] == "cannot be calculated"


def test_four_points_cannot_be_calculated():
    row = trend_of(unit_se([1, 2, 3, 4]))
    assert row["trend"] == "cannot be calculated" and np.isnan(row["trend_statistic"]) and row["trend_points"] == 4


def test_count_equal_to_denominator_anywhere_in_the_run():
    # Fingertips' divide-by-zero guard looks at the whole unbroken run, even before the latest five ...
    rows = [(2014, 7, 7, 100, 60, 100)] + unit_se([1, 2, 3, 4, 5])
    assert trend_of(rows)["trend"] == "cannot be calculated"
    # ... but not past a break in it
    rows = [(2013, 7, 7, 100, 60, 100), (2014, None, 7, None, None, None)] + unit_se([1, 2, 3, 4, 5])
    assert trend_of(rows)["trend_statistic"] == pytest.approx(10, rel=1e-12)


def test_zero_count_and_zero_denominator():
    # a count of 0 is a valid point; a denominator of 0 is not
    assert trend_of([(y, 0, d, v, lo, up) for y, _, d, v, lo, up in unit_se([1, 2, 3, 4, 5])])["trend"] == "increasing"
    zero_den = [(y, c, 0 if y == 2019 else d, v, lo, up) for y, c, d, v, lo, up in unit_se([1, 2, 3, 4, 5])]
    assert trend_of(zero_den)["trend"] == "cannot be calculated"


def test_many_groups_unsorted_input_and_columns():
    frame = pd.concat([table(unit_se([1, 2, 3, 4, 5]), "b"), table(SET2, "a"), table(unit_se([1, 2]), "c"),
                       table(unit_se([5, 4, 3, 2, 1]), None)]).sample(frac=1, random_state=3)
    before = frame.copy()
    out = recent_trend(frame, ["la"], "year", "num", "den")
    pd.testing.assert_frame_equal(frame, before)  # input not modified
    assert list(out.columns) == ["la"] + TREND_COLUMNS
    assert out["la"].tolist()[:3] == ["a", "b", "c"] and pd.isna(out["la"].iloc[3])
    assert out["trend"].tolist() == ["no significant change", "increasing", "cannot be calculated", "decreasing"]
    assert out["trend_points"].tolist() == [5, 5, 2, 5]


def test_bad_arguments():
    frame = table(unit_se([1, 2, 3, 4, 5]))
    with pytest.raises(ValueError, match="no column"):
        recent_trend(frame, "la", "period", "num", "den")
    with pytest.raises(ValueError, match="share a group and period"):
        recent_trend(pd.concat([frame, frame.iloc[:1]]), "la", "year", "num", "den")


def test_a_point_with_one_limit_missing_is_skipped():
    # as a point without limits: Fingertips needs both to weight it. 2018 (99) lacks one limit: X2 = 10 from the rest
    for missing in (4, 5):
        rows = [tuple(None if (r[0] == 2018 and i == missing) else x for i, x in enumerate(r))
                for r in unit_se([1, 2, 3, 99, 4, 5])]
        row = trend_of(rows)
        assert row["trend_statistic"] == pytest.approx(10, rel=1e-12) and row["trend"] == "increasing"


def test_points_at_each_row_count_only_the_series_own():
    # series 0 has one record; series 1 has five: at its rows the points used are 1, 2, 3, 4, 5
    rows = [(2019, 10, 100, 7, 5.04, 8.96)] + unit_se([1, 2, 3, 4, 5])
    key = [0] + [1] * 5
    code, statistic, points = trend_codes(key, [r[0] for r in rows], *([r[i] for r in rows] for i in (3, 4, 5, 1, 2)))
    assert points.tolist() == [1, 1, 2, 3, 4, 5]
    assert statistic[-1] == pytest.approx(10, rel=1e-12) and TREND_VALUES[code[-1]] == "increasing"


def test_nullable_columns_as_pandas_reads_them():
    # counts as Int64 and values as Float64 with pd.NA: the same answers as float columns with NaN
    rows = unit_se([1, 2, 3, 4, 5, 6])
    rows[2] = (2017, None, 100, None, None, None)  # a gap: the run is 2018-2020 only
    frame = table(rows)
    nullable = frame.astype({"num": "Int64", "value": "Float64", "lower_95": "Float64", "upper_95": "Float64"})
    expected = recent_trend(frame, "la", "year", "num", "den")
    got = recent_trend(nullable, "la", "year", "num", "den")
    pd.testing.assert_frame_equal(got, expected)
    assert got["trend"].iloc[0] == "cannot be calculated" and got["trend_points"].iloc[0] == 3
    code, _, points = trend_codes(frame["la"], frame["year"], nullable["value"], nullable["lower_95"],
                                  nullable["upper_95"], nullable["num"], nullable["den"])
    assert points.tolist() == [1, 2, 0, 1, 2, 3]


def test_trend_points_are_whole_numbers():
    assert str(recent_trend(table(unit_se([1, 2, 3, 4, 5])), "la", "year", "num", "den")["trend_points"].dtype) == "Int64"


def test_bad_argument_messages():
    frame = table(unit_se([1, 2, 3, 4, 5]))
    with pytest.raises(ValueError, match="^" + re.escape("recent_trend: the table has no column(s) 'period', 'n'")
                       + "$"):
        recent_trend(frame, "la", "period", "n", "den")
    # two rows for 2016 with different figures: both are named
    twice = pd.concat([frame, frame.iloc[1:2].assign(value=7.0)], ignore_index=True)
    with pytest.raises(ValueError, match="^" + re.escape(
            "recent_trend: 2 rows share a group and period with another row (first at position 1); give one row per "
            "group and period") + "$"):
        recent_trend(twice, "la", "year", "num", "den")


# --------------------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------------------

record = st.tuples(
    st.one_of(st.none(), st.floats(0, 100)),                 # value (None: suppressed)
    st.floats(0.01, 20), st.floats(0.01, 20),                # half-widths below and above the value
    st.booleans(),                                           # limits missing
    st.integers(0, 60), st.sampled_from([0, 1, 30, 60, 61]),  # count, denominator (count == denominator happens)
)


def records(draws, start=2000):
    return [(start + i, count, den, value, None if no_limits or value is None else value - below,
             None if no_limits or value is None else value + above)
            for i, (value, below, above, no_limits, count, den) in enumerate(draws)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(record, min_size=0, max_size=9), min_size=1, max_size=4))
def test_every_row_agrees_with_fingertips_transcription(series):
    """trend_codes at each row = Fingertips on the series' records up to that row (rows shuffled, several series)."""
    rows = [(s, r) for s, draws in enumerate(series) for r in records(draws)]
    if not rows:
        return
    order = np.random.default_rng(len(rows)).permutation(len(rows))
    rows = [rows[i] for i in order]
    key = [s for s, _ in rows]
    year = [r[0] for _, r in rows]
    num, den, value, lower, upper = ([np.nan if r[j] is None else r[j] for _, r in rows] for j in range(1, 6))
    code, statistic, _ = trend_codes(key, year, value, lower, upper, num, den)
    for i, (s, r) in enumerate(rows):
        expected, chi2, _ = fingertips_trend([q for t, q in rows if t == s and q[0] <= r[0]])
        assert TREND_VALUES[code[i]] == expected
        if expected == "cannot be calculated":
            assert np.isnan(statistic[i])
        elif chi2 is not None and math.isfinite(chi2):
            assert statistic[i] == pytest.approx(chi2, rel=1e-9)


def five_points():
    return st.lists(st.tuples(st.floats(0, 100), st.floats(0.05, 20), st.floats(0.05, 20)), min_size=5, max_size=5)


def rows_of(points):
    return [(2020 + i, 10, 100, v, v - lo, v + up) for i, (v, lo, up) in enumerate(points)]


@settings(max_examples=200, deadline=None)
@given(five_points())
def test_reversing_time_flips_the_direction(points):
    forward = rows_of(points)
    _, chi2, slopes = fingertips_trend(forward)
    # Fingertips counts a zero slope as positive (see test_a_zero_slope_counts_as_positive), which breaks the
    # symmetry; and rounding decides a statistic on the threshold. Leave those series out.
    assume(min(abs(b) for b in slopes) > 1e-9 and abs(chi2 - CHI_SQUARE_THRESHOLD) > 1e-6)
    f, b = trend_of(forward), trend_of(rows_of(points[::-1]))
    assert b["trend_statistic"] == pytest.approx(f["trend_statistic"], rel=1e-9)
    flip = {"increasing": "decreasing", "decreasing": "increasing", "no significant change": "no significant change"}
    assert b["trend"] == flip[f["trend"]]


@settings(max_examples=200, deadline=None)
@given(five_points(), st.floats(0.1, 10))
def test_widening_the_limits_divides_the_statistic_by_the_square(points, s):
    wide = [(v, lo * s, up * s) for v, lo, up in points]
    assert trend_of(rows_of(wide))["trend_statistic"] == pytest.approx(
        trend_of(rows_of(points))["trend_statistic"] / s ** 2, rel=1e-6, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(five_points(), st.floats(0.01, 1000), st.floats(-50, 50))
def test_the_multiplier_and_a_shift_do_not_matter(points, c, shift):
    base = trend_of(rows_of(points))
    moved = trend_of(rows_of([(c * v + shift, c * lo, c * up) for v, lo, up in points]))
    assert moved["trend_statistic"] == pytest.approx(base["trend_statistic"], rel=1e-6, abs=1e-9)
    _, chi2, slopes = fingertips_trend(rows_of(points))  # as above: leave out slopes of 0 and the threshold itself
    assume(min(abs(b) for b in slopes) > 1e-9 and abs(chi2 - CHI_SQUARE_THRESHOLD) > 1e-6)
    assert moved["trend"] == base["trend"]


def test_four_points_with_limits_in_a_run_of_five():
    # 2015-2019 all valid, 2017 without limits: Fingertips fits the four with limits, 1, 2, 4, 5 at t = 1..4 with
    # se 1. By hand: mean t 2.5, mean y 3, Sxy = 7, Sxx = 5, slope 1.4 with variance 1 / Sxx = 0.2, so
    # X2 = 1.4^2 / 0.2 = 9.8 (above 9.5495); leaving out each point in turn keeps the slope positive: increasing.
    row = trend_of(unit_se([1, 2, 99, 4, 5], missing_limits=(2,)))
    assert row["trend_statistic"] == pytest.approx(9.8, rel=1e-12)
    assert (row["trend"], row["trend_points"]) == ("increasing", 4)


def test_none_in_plain_lists_is_missing():
    # the straight line 1..5 with se 1 (X2 = 10, increasing), then a sixth year with no value: the run is broken
    years = list(range(2015, 2021))
    values = [1.0, 2.0, 3.0, 4.0, 5.0, None]
    lower = [None if v is None else v - 1.96 for v in values]
    upper = [None if v is None else v + 1.96 for v in values]
    code, statistic, points = trend_codes(["a"] * 6, years, values, lower, upper, [10] * 5 + [None], [100] * 6)
    assert [TREND_VALUES[c] for c in code] == ["cannot be calculated"] * 4 + ["increasing", "cannot be calculated"]
    assert statistic[4] == pytest.approx(10, rel=1e-12) and points.tolist() == [1, 2, 3, 4, 5, 0]


def test_many_rows_are_fitted_a_part_at_a_time_with_the_same_answers():
    """More rows than trend_codes fits at once (its parts of a few thousand), shuffled so that every part holds
    series of each kind: each row's trend is Fingertips' (the transcription) for its series up to that row."""
    kinds = [SET1, SET2, unit_se([1, 2, 3, 4, 5, 6]), unit_se([6, 5, 4, 3, 2, 1]), unit_se([3, 1, 4, 1, 5, 9]),
             unit_se([1, 2, 3, 4, 5], missing_limits=(2,))]
    rows = [(s, r) for s in range(6000) for r in kinds[s % len(kinds)]]
    rows = [rows[i] for i in np.random.default_rng(7).permutation(len(rows))]
    key = [s for s, _ in rows]
    year = [r[0] for _, r in rows]
    num, den, value, lower, upper = ([np.nan if r[j] is None else r[j] for _, r in rows] for j in range(1, 6))
    code, statistic, _ = trend_codes(key, year, value, lower, upper, num, den)
    assert (code > 0).sum() > 2 * trends._FIT_ROWS  # several parts' worth of rows fitted
    expected = {}
    for i, (s, r) in enumerate(rows):
        kind = kinds[s % len(kinds)]
        if (s % len(kinds), r[0]) not in expected:
            expected[s % len(kinds), r[0]] = fingertips_trend([q for q in kind if q[0] <= r[0]])
        want, chi2, _ = expected[s % len(kinds), r[0]]
        assert TREND_VALUES[code[i]] == want
        assert np.isnan(statistic[i]) if chi2 is None else statistic[i] == pytest.approx(chi2, rel=1e-9)
