"""Tests for analysis.stats.trends.recent_trend, with statistics worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.stats.trends import TREND_COLUMNS, recent_trend

# chi-square 1 d.f. at 0.998: qchisq(0.998, 1) = qnorm(0.999)^2 = 3.090232306167813^2
THRESHOLD = 9.549535706083237


def long_table(series: dict, denominator=100, start=2015) -> pd.DataFrame:
    """One row per (la, year) from {la: [numerators...]}; None is a missing value."""
    rows = []
    for la, nums in series.items():
        dens = denominator.get(la, 100) if isinstance(denominator, dict) else denominator
        for i, x in enumerate(nums):
            d = dens[i] if isinstance(dens, list) else dens
            rows.append({"la": la, "year": start + i, "num": x, "den": d})
    frame = pd.DataFrame(rows)
    frame["num"] = frame["num"].astype("Float64")
    return frame


def one(frame: pd.DataFrame, la: str) -> pd.Series:
    return frame.set_index("la").loc[la]


def test_threshold_constant():
    from scipy.stats import chi2

    assert chi2.ppf(0.998, 1) == pytest.approx(THRESHOLD, rel=1e-9)


def test_proportions_by_hand():
    # 10/100, 12/100, 14/100, 16/100, 18/100 at t = 0..4: p = 0.10 + 0.02 t exactly.
    # variance p(1-p)/100 -> weights w = 100 / (p(1-p)) = 10^6 / (k(100-k)) for k = 10, 12, 14, 16, 18:
    #   w = 1111.1111, 946.9697, 830.5648, 744.0476, 677.5068
    #   sum w = 4310.19999, sum w t = 7550.26922, sum w t^2 = 21805.76581
    #   Sxx = sum w t^2 - (sum w t)^2 / sum w = 21805.76581 - 7550.26922^2 / 4310.19999 = 8579.79821
    # Because y is exactly linear in t with slope 0.02, Sxy = sum w (t - tbar)(y - ybar) = 0.02 Sxx, so
    #   X2 = Sxy^2 / Sxx = 0.02^2 * Sxx = 0.0004 * 8579.79821 = 3.4319193
    # 3.43 < 9.5495 -> no significant change.
    # With denominators of 1000 (same proportions) every weight is 10 times larger, so X2 = 34.319193 ->
    # increasing.
    frame = long_table({"a": [10, 12, 14, 16, 18], "b": [100, 120, 140, 160, 180]},
                       denominator={"a": 100, "b": 1000})
    out = recent_trend(frame, "la", "year", "num", "den", "proportion")
    assert list(out.columns) == ["la"] + TREND_COLUMNS
    assert one(out, "a")["trend_statistic"] == pytest.approx(3.431919285579559, rel=1e-9)
    assert one(out, "a")["trend"] == "no significant change"
    assert one(out, "b")["trend_statistic"] == pytest.approx(34.31919285579559, rel=1e-9)
    assert one(out, "b")["trend"] == "increasing"
    assert one(out, "a")["trend_points"] == 5


def test_proportions_cochran_armitage_cross_check():
    """Plain arithmetic, independent of the module: with the pooled variance, the weighted-regression
    chi-square equals the Cochran-Armitage statistic; with each point's own variance (the module's method) it
    is close to it and reaches the same conclusion."""
    x = [10, 12, 14, 16, 18]
    n = [100] * 5
    t = [0, 1, 2, 3, 4]
    # Cochran-Armitage: pbar = 70/500 = 0.14, tbar (weighted by n) = 2
    #   [sum x (t - tbar)]^2 / [pbar (1 - pbar) sum n (t - tbar)^2]
    #   = (10*-2 + 12*-1 + 0 + 16*1 + 18*2)^2 / (0.14 * 0.86 * 100 * 10) = 20^2 / 120.4 = 3.3222591
    pbar = sum(x) / sum(n)
    tbar = sum(ni * ti for ni, ti in zip(n, t)) / sum(n)
    ca = sum(xi * (ti - tbar) for xi, ti in zip(x, t)) ** 2 / (
        pbar * (1 - pbar) * sum(ni * (ti - tbar) ** 2 for ni, ti in zip(n, t)))
    assert ca == pytest.approx(400 / 120.4, rel=1e-12)
    # weighted regression with pooled weights w = n / (pbar (1 - pbar))
    w = [ni / (pbar * (1 - pbar)) for ni in n]
    y = [xi / ni for xi, ni in zip(x, n)]
    tw = sum(wi * ti for wi, ti in zip(w, t)) / sum(w)
    yw = sum(wi * yi for wi, yi in zip(w, y)) / sum(w)
    sxy = sum(wi * (ti - tw) * (yi - yw) for wi, ti, yi in zip(w, t, y))
    sxx = sum(wi * (ti - tw) ** 2 for wi, ti in zip(w, t))
    assert sxy**2 / sxx == pytest.approx(ca, rel=1e-12)
    # the module (own variances) gives 3.4319 (worked in test_proportions_by_hand): within 4% of 3.3223, and
    # both below the 9.5495 threshold.
    out = recent_trend(long_table({"a": x}), "la", "year", "num", "den", "proportion")
    stat = one(out, "a")["trend_statistic"]
    assert stat == pytest.approx(ca, rel=0.04)
    assert (stat > THRESHOLD) == (ca > THRESHOLD) is False


def test_rates_by_hand():
    # counts 10, 20, 30, 40, 50 over a denominator of 1 (rates are invariant to the denominator's scale):
    # y = O, variance O (Poisson), weights w = 1/O = 1/(10k), k = 1..5, t = k - 1
    #   sum w      = (1/10)(1 + 1/2 + 1/3 + 1/4 + 1/5)  = 137/600
    #   sum w t    = (1/10) sum (k-1)/k = (1/10)(5 - 137/60) = 163/600
    #   sum w t^2  = (1/10) sum (k - 2 + 1/k) = (1/10)(15 - 10 + 137/60) = 437/600
    #   sum w y    = 5 (w y = 1),  sum w t y = sum (k - 1) = 10
    #   Sxy = 10 - (163/600)(5)/(137/600) = 10 - 815/137 = 555/137
    #   Sxx = 437/600 - (163/600)^2/(137/600) = (437*137 - 163^2)/(600*137) = 33300/82200 = 333/822
    #   X2 = (555/137)^2 * 822/333 = 555 * (555/333) * 6 / 137 = 555 * (5/3) * 6 / 137 = 5550/137 = 40.5109489
    frame = long_table({"r": [10, 20, 30, 40, 50]}, denominator=1)
    out = recent_trend(frame, "la", "year", "num", "den", "rate")
    assert one(out, "r")["trend_statistic"] == pytest.approx(5550 / 137, rel=1e-9)
    assert one(out, "r")["trend"] == "increasing"
    # the same counts over 100,000 people: same statistic (the scale cancels)
    out = recent_trend(long_table({"r": [10, 20, 30, 40, 50]}, denominator=100000), "la", "year", "num", "den",
                       kind="byars")
    assert one(out, "r")["trend_statistic"] == pytest.approx(5550 / 137, rel=1e-9)


def test_decreasing():
    # the rate example reversed in time: same statistic 5550/137 (t -> 4 - t flips the sign of Sxy only)
    out = recent_trend(long_table({"r": [50, 40, 30, 20, 10]}, denominator=1), "la", "year", "num", "den", "rate")
    assert one(out, "r")["trend"] == "decreasing"
    assert one(out, "r")["trend_statistic"] == pytest.approx(5550 / 137, rel=1e-9)


def test_flat_series_no_significant_change():
    out = recent_trend(long_table({"f": [20, 20, 20, 20, 20]}), "la", "year", "num", "den", "proportion")
    assert one(out, "f")["trend"] == "no significant change"
    assert one(out, "f")["trend_statistic"] == pytest.approx(0, abs=1e-12)


def test_four_points_cannot_be_calculated():
    out = recent_trend(long_table({"s": [10, 20, 30, 40]}), "la", "year", "num", "den", "proportion")
    row = one(out, "s")
    assert row["trend"] == "cannot be calculated"
    assert np.isnan(row["trend_statistic"])
    assert row["trend_points"] == 4


def test_missing_value_in_the_middle_cannot_be_calculated():
    # 2015..2020 with 2017 missing: the five periods ending at 2020 are 2016..2020, one without a value.
    out = recent_trend(long_table({"m": [10, 12, None, 16, 18, 20]}), "la", "year", "num", "den", "proportion")
    row = one(out, "m")
    assert row["trend"] == "cannot be calculated" and row["trend_points"] == 4


def test_missing_value_before_the_window_is_ignored_and_trailing_missing_skipped():
    # 2015 missing (outside the window), 2021 missing (after the latest value): window is 2016..2020, which
    # holds the rate example's counts 10..50 -> 5550/137.
    frame = long_table({"w": [None, 10, 20, 30, 40, 50, None]}, denominator=1)
    out = recent_trend(frame, "la", "year", "num", "den", "rate")
    assert one(out, "w")["trend_statistic"] == pytest.approx(5550 / 137, rel=1e-9)
    assert one(out, "w")["trend_points"] == 5


def test_only_latest_five_points_used():
    # an early outlier (2015) followed by the rate example: the outlier is outside the window
    frame = long_table({"o": [1000, 10, 20, 30, 40, 50]}, denominator=1)
    out = recent_trend(frame, "la", "year", "num", "den", "rate")
    assert one(out, "o")["trend_statistic"] == pytest.approx(5550 / 137, rel=1e-9)


def test_zero_count_cannot_be_calculated():
    out = recent_trend(long_table({"z": [0, 10, 20, 30, 40]}), "la", "year", "num", "den", "rate")
    assert one(out, "z")["trend"] == "cannot be calculated"


def test_many_groups_unsorted_input_and_kind_column():
    frame = pd.concat([
        long_table({"r": [10, 20, 30, 40, 50]}, denominator=1).assign(kind="rate"),
        long_table({"a": [10, 12, 14, 16, 18]}).assign(kind="proportion"),
        long_table({"s": [1, 2]}).assign(kind="Wilson"),
    ]).sample(frac=1, random_state=3)
    before = frame.copy()
    out = recent_trend(frame, ["la"], "year", "num", "den", kind_col="kind")
    pd.testing.assert_frame_equal(frame, before)  # input not modified
    assert out["la"].tolist() == ["a", "r", "s"]
    assert out["trend"].tolist() == ["no significant change", "increasing", "cannot be calculated"]
    assert out["trend_statistic"].iloc[0] == pytest.approx(3.431919285579559, rel=1e-9)
    assert out["trend_statistic"].iloc[1] == pytest.approx(5550 / 137, rel=1e-9)
    assert out["trend_points"].tolist() == [5, 5, 2]


def test_two_group_columns_and_output_columns_fixed():
    frame = long_table({"a": [10, 12, 14, 16, 18]})
    frame = pd.concat([frame.assign(indicator="x"), frame.assign(indicator="y")])
    out = recent_trend(frame, ["indicator", "la"], "year", "num", "den", "proportion", n_points=5)
    assert list(out.columns) == ["indicator", "la", "trend", "trend_statistic", "trend_points"]
    assert len(out) == 2


def test_bad_arguments():
    frame = long_table({"a": [10, 12, 14, 16, 18]})
    with pytest.raises(ValueError, match="exactly one"):
        recent_trend(frame, "la", "year", "num", "den")
    with pytest.raises(ValueError, match="not known"):
        recent_trend(frame, "la", "year", "num", "den", "ratio")
    with pytest.raises(ValueError, match="no column"):
        recent_trend(frame, "la", "period", "num", "den", "rate")
    with pytest.raises(ValueError, match="share a group and period"):
        recent_trend(pd.concat([frame, frame.iloc[:1]]), "la", "year", "num", "den", "rate")
