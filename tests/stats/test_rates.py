"""Tests for analysis.stats.rates against the PHEindicatormethods reference vectors (every row, rel 1e-9)."""

from __future__ import annotations

import csv
import math
import re
import warnings
from statistics import NormalDist
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.stats.rates import (
    chi2_ppf,
    CI_COLUMNS,
    byars_lower,
    byars_upper,
    exact_lower,
    exact_upper,
    limit_columns,
    poisson_limits,
    proportion_ci,
    rate_ci,
    wilson_lower,
    wilson_upper,
    z_value,
)

from conftest import REFERENCE as REFERENCE_DIR  # noqa: E402
REL = 1e-9


def reference_rows(name: str, id_col: str | None = "area") -> list:
    """One pytest.param per row of a reference file (id names file, line and area), or one skipped param."""
    path = REFERENCE_DIR / name
    if not path.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"reference vectors not found: {path}"))]
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    params = []
    for i, row in enumerate(rows, start=2):  # line 1 is the header
        label = f"{name}:line{i}" + (f":{row[id_col]}" if id_col else "")
        params.append(pytest.param(row, id=label))
    return params


def num(text: str) -> float:
    """A reference cell as a float; empty means NA (NaN)."""
    return math.nan if text.strip() == "" else float(text)


def assert_close(actual, expected_text: str, what: str) -> None:
    expected = num(expected_text)
    if math.isnan(expected):
        assert math.isnan(actual), f"{what}: expected NA, got {actual!r}"
    else:
        assert actual == pytest.approx(expected, rel=REL), what


def assert_method(actual, expected_text: str) -> None:
    if expected_text.strip() == "":
        assert pd.isna(actual), f"method: expected NA, got {actual!r}"
    else:
        assert actual == expected_text


# --------------------------------------------------------------------------------------------------------------
# z_value
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("confidence", [0.95, 95, "95%", "0.95", " 95% "])
def test_z_value_95_forms(confidence):
    assert z_value(confidence) == pytest.approx(1.959963984540054, rel=1e-12)


@pytest.mark.parametrize("confidence", [0.998, 99.8, "99.8%"])
def test_z_value_998_forms(confidence):
    assert z_value(confidence) == pytest.approx(3.090232306167813, rel=1e-12)


@pytest.mark.parametrize("confidence", [0, 1, 100, -0.5, "abc", None, True])
def test_z_value_rejects_bad_levels(confidence):
    with pytest.raises(ValueError):
        z_value(confidence)


# --------------------------------------------------------------------------------------------------------------
# Reference vectors, row by row
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("row", reference_rows("pheim_rate_vectors.csv"))
def test_rate_vectors(row):
    out = rate_ci([num(row["numerator"])], [num(row["denominator"])], num(row["multiplier"]))
    assert list(out.columns) == CI_COLUMNS
    r = out.iloc[0]
    assert_close(r["value"], row["value"], "value")
    assert_close(r["lower_95"], row["lower95"], "lower_95")
    assert_close(r["upper_95"], row["upper95"], "upper_95")
    assert_close(r["lower_99_8"], row["lower99_8"], "lower_99_8")
    assert_close(r["upper_99_8"], row["upper99_8"], "upper_99_8")
    assert_method(r["method"], row["method"])


@pytest.mark.parametrize("row", reference_rows("pheim_rate_grouped_sum_vectors.csv"))
def test_rate_grouped_sum_vectors(row):
    assert row["confidence"] == "95%"
    out = rate_ci([num(row["numerator_sum"])], [num(row["denominator_sum"])], num(row["multiplier"]),
                  confidence="95%")
    r = out.iloc[0]
    assert_close(r["value"], row["value"], "value")
    assert_close(r["lower_95"], row["lower95"], "lower_95")
    assert_close(r["upper_95"], row["upper95"], "upper_95")
    assert math.isnan(r["lower_99_8"]) and math.isnan(r["upper_99_8"])  # not requested
    assert_method(r["method"], row["method"])


@pytest.mark.parametrize("row", reference_rows("pheim_proportion_vectors.csv"))
def test_proportion_vectors(row):
    out = proportion_ci([num(row["numerator"])], [num(row["denominator"])], num(row["multiplier"]))
    assert list(out.columns) == CI_COLUMNS
    r = out.iloc[0]
    assert_close(r["value"], row["value"], "value")
    assert_close(r["lower_95"], row["lower95"], "lower_95")
    assert_close(r["upper_95"], row["upper95"], "upper_95")
    assert_close(r["lower_99_8"], row["lower99_8"], "lower_99_8")
    assert_close(r["upper_99_8"], row["upper99_8"], "upper_99_8")
    assert_method(r["method"], row["method"])


@pytest.mark.parametrize("row", reference_rows("pheim_proportion_grouped_sum_vectors.csv"))
def test_proportion_grouped_sum_vectors(row):
    assert row["confidence"] == "95%"
    out = proportion_ci([num(row["numerator_sum"])], [num(row["denominator_sum"])], num(row["multiplier"]),
                        confidence=0.95)
    r = out.iloc[0]
    assert_close(r["value"], row["value"], "value")
    assert_close(r["lower_95"], row["lower95"], "lower_95")
    assert_close(r["upper_95"], row["upper95"], "upper_95")
    assert_method(r["method"], row["method"])


@pytest.mark.parametrize("row", reference_rows("pheim_byars_wilson_vectors.csv", id_col=None))
def test_byars_wilson_vectors(row):
    x, confidence = num(row["x"]), row["confidence"]
    if row["method"] == "Byars":
        lower, upper = byars_lower(x, confidence), byars_upper(x, confidence)
    else:
        assert row["method"] == "Wilson"
        n = num(row["n"])
        lower, upper = wilson_lower(x, n, confidence), wilson_upper(x, n, confidence)
    assert_close(lower, row["lower"], "lower")
    assert_close(upper, row["upper"], "upper")


def _whole_file(name: str) -> pd.DataFrame:
    path = REFERENCE_DIR / name
    if not path.exists():
        pytest.skip(f"reference vectors not found: {path}")
    return pd.read_csv(path, keep_default_na=False, dtype=str)


def _floats(col: pd.Series) -> np.ndarray:
    return np.array([num(v) for v in col], dtype=float)


@pytest.mark.parametrize("name, function", [("pheim_rate_vectors.csv", rate_ci),
                                            ("pheim_proportion_vectors.csv", proportion_ci)])
def test_whole_file_in_one_call(name, function):
    """The vectorised path: every row of a file in one call, with a per-row multiplier."""
    ref = _whole_file(name)
    out = function(_floats(ref["numerator"]), _floats(ref["denominator"]), _floats(ref["multiplier"]))
    for ours, theirs in [("value", "value"), ("lower_95", "lower95"), ("upper_95", "upper95"),
                         ("lower_99_8", "lower99_8"), ("upper_99_8", "upper99_8")]:
        np.testing.assert_allclose(out[ours].to_numpy(), _floats(ref[theirs]), rtol=REL, equal_nan=True)
    expected_method = ref["method"].replace("", np.nan)
    assert out["method"].isna().tolist() == expected_method.isna().tolist()
    assert (out["method"].dropna() == expected_method.dropna()).all()


# --------------------------------------------------------------------------------------------------------------
# Behaviour
# --------------------------------------------------------------------------------------------------------------

def test_exact_lower_zero_count_is_zero():
    # R's qchisq(p, 0) is 0; scipy's chi2.ppf(p, 0) is NaN.
    assert exact_lower(0, 0.95) == 0.0
    assert exact_lower(0, "99.8%") == 0.0
    # upper for 0 events: qchisq(0.975, 2)/2 = -log(0.025) = 3.6888794541139363
    assert exact_upper(0, 0.95) == pytest.approx(-math.log(0.025), rel=REL)


def test_rate_ci_zero_count():
    out = rate_ci([0], [1000], 1000)
    assert out.loc[0, "value"] == 0
    assert out.loc[0, "lower_95"] == 0 and out.loc[0, "lower_99_8"] == 0
    assert out.loc[0, "upper_95"] == pytest.approx(-math.log(0.025), rel=REL)
    assert out.loc[0, "method"] == "Exact"


def test_byars_scalar_array_series_shapes():
    assert isinstance(byars_upper(65, 0.95), float)
    arr = byars_upper(np.array([65.0, 1045.0]), 0.95)
    assert isinstance(arr, np.ndarray) and arr.shape == (2,)
    s = byars_upper(pd.Series([65, 1045], index=["x", "y"]), 0.95)
    assert isinstance(s, pd.Series) and list(s.index) == ["x", "y"]


def test_columns_never_vary():
    for conf in [0.95, 0.998, (0.95, 0.998), ["95%"]]:
        assert list(rate_ci([5], [10], confidence=conf).columns) == CI_COLUMNS
        assert list(proportion_ci([5], [10], confidence=conf).columns) == CI_COLUMNS
    only_998 = rate_ci([5, 50], [100, 100], 100, confidence=0.998)
    assert only_998[["lower_95", "upper_95"]].isna().all().all()
    assert only_998[["lower_99_8", "upper_99_8"]].notna().all().all()


def test_unsupported_confidence_level():
    with pytest.raises(ValueError, match="0.95 and/or 0.998"):
        rate_ci([5], [10], confidence=0.9)


def test_index_preserved_and_inputs_not_mutated():
    numerator = pd.Series([5, 20, None], index=[10, 20, 30], dtype="Int64")
    denominator = pd.Series([100, 0, 100], index=[10, 20, 30])
    before_n, before_d = numerator.copy(), denominator.copy()
    out = rate_ci(numerator, denominator, 1000)
    assert list(out.index) == [10, 20, 30]
    pd.testing.assert_series_equal(numerator, before_n)
    pd.testing.assert_series_equal(denominator, before_d)
    assert out.loc[10, "value"] == 50
    assert out.loc[20, ["value", "lower_95", "upper_95"]].isna().all()  # denominator 0
    assert out.loc[20, "method"] == "Byars"
    assert out.loc[30, ["value", "lower_95"]].isna().all() and pd.isna(out.loc[30, "method"])


def test_mismatched_series_indexes_rejected():
    with pytest.raises(ValueError, match="different indexes"):
        rate_ci(pd.Series([1, 2], index=[0, 1]), pd.Series([10, 10], index=[1, 2]))


def test_list_inputs_with_none():
    out = proportion_ci([1, None, 3], [10, 10, None], 100)
    assert out["value"].tolist()[0] == 10
    assert out["value"].isna().tolist() == [False, True, True]
    assert list(out.index) == [0, 1, 2]


def test_rate_numerator_above_denominator_allowed():
    out = rate_ci([250], [220], 100000)
    assert out.loc[0, "value"] == pytest.approx(113636.36363636365, rel=REL)


def test_proportion_numerator_above_denominator_raises():
    with pytest.raises(ValueError, match=r"2 of 5 rows have a numerator above the denominator.*position 1"):
        proportion_ci([1, 12, 3, 4, 15], [10, 10, 10, 10, 10])


def test_proportion_zero_denominator_is_na():
    out = proportion_ci([0], [0])
    assert out.loc[0, ["value", "lower_95", "upper_95", "lower_99_8", "upper_99_8"]].isna().all()
    assert out.loc[0, "method"] == "Wilson"


@pytest.mark.parametrize("function", [rate_ci, proportion_ci])
def test_negative_values_raise(function):
    with pytest.raises(ValueError, match=r"1 of 3 rows have a negative numerator.*position 2"):
        function([1, 2, -3], [10, 10, 10])
    with pytest.raises(ValueError, match=r"negative denominator.*position 0"):
        function([1, 2, 3], [-10, 10, 10])


def test_byars_lower_small_count_high_confidence_is_na():
    # x = 1 at 99.8%: 1 - 1/9 - 3.0902/3 < 0, so Byar's lower limit is undefined (NA in PHEindicatormethods).
    assert math.isnan(byars_lower(1, 0.998))
    assert math.isnan(byars_lower(0, 0.95))


# --------------------------------------------------------------------------------------------------------------
# Cross-check with PHStatsMethods (the Python port of PHEindicatormethods)
# --------------------------------------------------------------------------------------------------------------

def _reference_counts(name: str) -> pd.DataFrame:
    ref = _whole_file(name)
    frame = pd.DataFrame({"num": _floats(ref["numerator"]), "den": _floats(ref["denominator"])})
    # Complete rows only: PHStatsMethods' row-wise byars_upper raises for a zero count.
    return frame.dropna().drop_duplicates().reset_index(drop=True)


def test_phstatsmethods_rate_agrees():
    ph = pytest.importorskip("PHStatsMethods")
    data = _reference_counts("pheim_rate_vectors.csv")
    theirs = ph.ph_rate(data, "num", "den", confidence=[0.95, 0.998], multiplier=100000)
    ours = rate_ci(data["num"], data["den"], 100000)
    for ours_col, their_col in [("lower_95", "lower_95_ci"), ("upper_95", "upper_95_ci"),
                                ("lower_99_8", "lower_99_8_ci"), ("upper_99_8", "upper_99_8_ci")]:
        np.testing.assert_allclose(ours[ours_col].to_numpy(), theirs[their_col].to_numpy(dtype=float),
                                   rtol=REL, err_msg=ours_col)
    assert ours["method"].tolist() == theirs["Method"].tolist()


def test_phstatsmethods_proportion_agrees():
    ph = pytest.importorskip("PHStatsMethods")
    data = _reference_counts("pheim_proportion_vectors.csv")
    theirs = ph.ph_proportion(data, "num", "den", confidence=[0.95, 0.998], multiplier=100)
    ours = proportion_ci(data["num"], data["den"], 100)
    for ours_col, their_col in [("value", "Value"), ("lower_95", "lower_95_ci"), ("upper_95", "upper_95_ci"),
                                ("lower_99_8", "lower_99_8_ci"), ("upper_99_8", "upper_99_8_ci")]:
        np.testing.assert_allclose(ours[ours_col].to_numpy(), theirs[their_col].to_numpy(dtype=float),
                                   rtol=REL, err_msg=ours_col)


def test_poisson_limits_switch_at_ten():
    # The one exact/Byar's switch, on counts: 5 events (exact) and 20 events (Byar's) over 100, per 100, are
    # PHEindicatormethods' Area2 and Area3 (testdata_Rate), so the count limits are those rates' limits.
    lower, upper = poisson_limits(np.array([5.0, 20.0, np.nan]), 0.95)
    np.testing.assert_allclose(lower[:2], [1.62348639011842, 12.211428834875937], rtol=REL)
    np.testing.assert_allclose(upper[:2], [11.668332079322669, 30.889880369197066], rtol=REL)
    assert np.isnan(lower[2]) and np.isnan(upper[2])
    # at 10 the switch is to Byar's: the raw Byar's limits of 10, not the exact ones
    lower, upper = poisson_limits(10.0, "99.8%")
    assert lower == pytest.approx(byars_lower(10, 0.998), rel=REL) and upper == pytest.approx(byars_upper(10, 0.998))
    assert lower != pytest.approx(exact_lower(10, 0.998), rel=1e-3)


def test_limit_columns():
    assert limit_columns(0.95) == ("lower_95", "upper_95")
    assert limit_columns("99.8%") == ("lower_99_8", "upper_99_8")
    with pytest.raises(ValueError, match="not supported"):
        limit_columns(0.9)


# --------------------------------------------------------------------------------------------------------------
# Defaults, shapes and messages
# --------------------------------------------------------------------------------------------------------------

# PHEindicatormethods' testdata_Rate Area2 (5 events) and testdata_Byars_Wilson (65 of 100) at 95%
EXACT_5 = (1.62348639011842, 11.668332079322669)
WILSON_65_OF_100 = (0.55254443296887967, 0.73635751756902468)
TEXT = pd.Series(["x"]).dtype  # pandas' default dtype for text


def test_default_confidence_is_95_percent():
    assert (exact_lower(5), exact_upper(5)) == pytest.approx(EXACT_5, rel=REL)
    assert (wilson_lower(65, 100), wilson_upper(65, 100)) == pytest.approx(WILSON_65_OF_100, rel=REL)


def test_default_multiplier_is_one():
    assert rate_ci([5], [100]).loc[0, "value"] == 0.05
    assert proportion_ci([65], [100]).loc[0, ["value", "lower_95", "upper_95"]].tolist() == pytest.approx(
        [0.65, *WILSON_65_OF_100], rel=REL)


@pytest.mark.parametrize("function, args", [(exact_lower, (5,)), (exact_upper, (5,)), (wilson_lower, (65, 100)),
                                            (wilson_upper, (65, 100))])
def test_limits_keep_the_shape_of_their_inputs(function, args):
    assert type(function(*args)) is float
    series = function(*(pd.Series([a, a], index=["E06000004", "E06000005"]) for a in args))
    assert isinstance(series, pd.Series) and list(series.index) == ["E06000004", "E06000005"]
    array = function(*(np.array([a, a], dtype=float) for a in args))
    assert isinstance(array, np.ndarray) and array.shape == (2,)


def test_exact_limits_of_a_fraction_of_an_event():
    # 2x = 1 degree of freedom: qchisq(0.025, 1) / 2 = qnorm(0.5125)^2 / 2; upper qchisq(0.975, 3) / 2
    lower = NormalDist().inv_cdf(0.5125) ** 2 / 2
    assert exact_lower(0.5) == pytest.approx(lower, rel=1e-9)
    assert exact_lower(np.array([0.5]))[0] == pytest.approx(lower, rel=1e-9)
    assert exact_upper(0.5) == pytest.approx(4.674201802248074, rel=1e-9)


def test_chi2_ppf_scalar_and_array():
    # one degree of freedom: the square of the normal quantile; two: -2 ln(1 - p)
    got = chi2_ppf(0.95, 1.0)
    assert type(got) is float and got == pytest.approx(NormalDist().inv_cdf(0.975) ** 2, rel=1e-12)
    got = chi2_ppf(0.95, np.array([1.0, 2.0, 0.0]))
    assert got[:2] == pytest.approx([NormalDist().inv_cdf(0.975) ** 2, -2 * math.log(0.05)], rel=1e-12)
    assert np.isnan(got[2]) and math.isnan(chi2_ppf(0.95, 0.0))


@pytest.mark.parametrize("function, args, message", [
    (exact_lower, ([-1.0],), "exact_lower: 1 of 1 rows have a negative count (first at position 0, value -1.0)"),
    (exact_upper, ([2, -1.5],), "exact_upper: 1 of 2 rows have a negative count (first at position 1, value -1.5)"),
    (byars_lower, ([-2],), "byars_lower: 1 of 1 rows have a negative count (first at position 0, value -2.0)"),
    (byars_upper, ([-2],), "byars_upper: 1 of 1 rows have a negative count (first at position 0, value -2.0)"),
    (wilson_lower, ([12], [10]), "wilson_lower: 1 of 1 rows have a numerator above the denominator, which a "
                                 "proportion cannot have (first at position 0: 12.0 out of 10.0)"),
    (wilson_upper, ([1, 12], [10, 10]), "wilson_upper: 1 of 2 rows have a numerator above the denominator, which "
                                        "a proportion cannot have (first at position 1: 12.0 out of 10.0)"),
    (wilson_lower, ([-1], [10]), "wilson_lower: 1 of 1 rows have a negative numerator (first at position 0, "
                                 "value -1.0)"),
    (wilson_upper, ([1], [-10]), "wilson_upper: 1 of 1 rows have a negative denominator (first at position 0, "
                                 "value -10.0)"),
    (proportion_ci, ([1, 2, -3], [10, 10, 10]), "proportion_ci: 1 of 3 rows have a negative numerator (first at "
                                                "position 2, value -3.0)"),
    (proportion_ci, ([1, 2], [10, -10]), "proportion_ci: 1 of 2 rows have a negative denominator (first at "
                                         "position 1, value -10.0)"),
    (proportion_ci, ([11], [10]), "proportion_ci: 1 of 1 rows have a numerator above the denominator, which a "
                                  "proportion cannot have (first at position 0: 11.0 out of 10.0)"),
    (rate_ci, ([1, -2], [10, 10]), "rate_ci: 1 of 2 rows have a negative numerator (first at position 1, "
                                   "value -2.0)"),
])
def test_messages_name_the_function_the_rows_and_the_first_value(function, args, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        function(*args)


def test_proportion_of_one_and_of_nothing():
    # 1 of 1: 100%, Wilson limits (2 + z^2 -/+ z^2) / 2 / (1 + z^2) = 1 / (1 + z^2) and 1
    z = NormalDist().inv_cdf(0.975)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 0 of 0 gives no value and no warning about dividing by zero
        out = proportion_ci([1, 0], [1, 0], 100, confidence=0.95)
    assert out.loc[0, ["value", "lower_95", "upper_95"]].tolist() == pytest.approx([100, 100 / (1 + z * z), 100],
                                                                                    rel=1e-9)
    assert out.loc[1, ["value", "lower_95", "upper_95"]].isna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(wilson_lower(0, 0)) and math.isnan(wilson_upper(0, 0))


def test_proportion_ci_fills_only_the_levels_asked_for_and_keeps_the_index():
    out = proportion_ci(pd.Series([65], index=["E06000004"]), pd.Series([100], index=["E06000004"]),
                        confidence=0.95)
    assert list(out.index) == ["E06000004"]
    assert (out.loc["E06000004", "lower_95"], out.loc["E06000004", "upper_95"]) == pytest.approx(WILSON_65_OF_100,
                                                                                                  rel=REL)
    assert out[["lower_99_8", "upper_99_8"]].isna().all().all()


def test_method_is_text_as_pandas_stores_text():
    assert rate_ci([5, 50, None], [100, 100, 100])["method"].dtype == TEXT
    assert proportion_ci([5], [100])["method"].dtype == TEXT


BYARS_65 = (50.163187710459454, 82.849138545939837)  # testdata_Byars_Wilson, 65 at 95%


def test_byars_and_poisson_limits_default_to_95_percent():
    assert (byars_lower(65), byars_upper(65)) == pytest.approx(BYARS_65, rel=REL)
    assert tuple(poisson_limits(np.array([5.0, 65.0]))[0]) == pytest.approx((EXACT_5[0], BYARS_65[0]), rel=REL)


def test_series_in_series_out_with_the_same_values():
    counts = pd.Series([5.0, 65.0], index=["E06000004", "E06000005"])
    for function in (byars_lower, byars_upper, exact_lower, exact_upper):
        got = function(counts)
        assert list(got.index) == list(counts.index)
        assert got.tolist() == pytest.approx([function(5.0), function(65.0)], rel=1e-12), function.__name__
    assert type(byars_lower(65)) is float and type(byars_upper(65)) is float


def test_missing_values_of_every_kind():
    # None, pd.NA and NaN, alone, in lists and in object columns (as a text column read from a file holds them)
    for missing in (None, pd.NA, np.nan):
        assert math.isnan(byars_upper(missing)) and math.isnan(exact_lower(missing))
    out = rate_ci([5, pd.NA], [100, 100], 100)
    assert out.loc[0, "value"] == 5 and out.loc[1, ["value", "lower_95"]].isna().all()
    out = rate_ci(pd.Series([5, pd.NA], dtype=object), pd.Series([100, 100], dtype=object), 100)
    assert out.loc[0, "value"] == 5 and out.loc[1, ["value", "lower_95"]].isna().all()


def test_poisson_limits_keep_the_shape_of_the_counts():
    lower, upper = poisson_limits(5.0)
    assert lower.shape == upper.shape == () and (float(lower), float(upper)) == pytest.approx(EXACT_5, rel=REL)
    lower, upper = poisson_limits([5.0, np.nan])
    assert lower.shape == upper.shape == (2,) and np.isnan(upper[1])


def test_a_rate_over_one_and_over_nothing():
    # 5 events in a population of 1: the rate is 5 and its limits are the exact limits of 5 events
    out = rate_ci([5], [1])
    assert out.loc[0, "value"] == 5 and (out.loc[0, "lower_95"], out.loc[0, "upper_95"]) == pytest.approx(EXACT_5,
                                                                                                         rel=REL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no population: no rate, and no warning about dividing by zero
        out = rate_ci([5, 0], [0, 0])
        assert math.isnan(byars_lower(0))
    assert out[["value", "lower_95", "upper_95"]].isna().all().all()


def test_a_level_above_1_is_a_percentage():
    assert z_value(2) == pytest.approx(NormalDist().inv_cdf(0.51), rel=1e-12)  # 2%


@pytest.mark.parametrize("call, message", [
    (lambda: z_value("abc"), "confidence 'abc' is not a number such as 0.95 or '95%'"),
    (lambda: z_value(None), "confidence None is not a number such as 0.95 or '95%'"),
    (lambda: z_value(100), "confidence 100 must be between 0 and 1 (or between 0% and 100%)"),
    (lambda: rate_ci([5], [10], confidence=[]), "confidence must name at least one level: 0.95 and/or 0.998"),
    (lambda: rate_ci([5], [10], confidence=0.9),
     "confidence 0.9 is not supported here: use 0.95 and/or 0.998 (95% / 99.8%)"),
    (lambda: rate_ci([5], [-10]), "rate_ci: 1 of 1 rows have a negative denominator (first at position 0, "
                                  "value -10.0)"),
    (lambda: rate_ci(pd.Series([1, 2], index=[0, 1]), pd.Series([10, 10], index=[1, 2])),
     "the pandas Series given have different indexes; align them first (the calculation pairs rows by position)"),
])
def test_parameter_messages(call, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        call()
