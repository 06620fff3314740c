"""Narrative and headlines, sentence by sentence, against hand-worked cases.

Each case is a small table written out here: rows of the benchmarked table typed by hand (for the wording), or
observations benchmarked by the library where a sentence rests on a statistical test (the trend of a gap), with
series whose result is clear by hand (a steady rise of 10 a year against standard errors near 1.5 per point).
Expected sentences are written from the numbers, never copied from the output.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from analysis import indicators
from analysis.indicators import benchmark
from analysis.present import narrative
from analysis.read import sources

REG = indicators.registry()
LA = "Stockton-on-Tees"
STOCKTON, DARLINGTON = "E06000004", "E06000005"
CHANGE_WORDS = re.compile(r"\b(rose|fell|risen|fallen|rise|fall|up|down|increas\w*|decreas\w*|widened|narrowed|"
                          r"improv\w*|worsen\w*|upwards|downwards)\b", re.IGNORECASE)


def row(indicator="cla_rate", year=2024, **values) -> pd.Series:
    """One LA row of the benchmarked table, typed by hand (only the columns the sentences read)."""
    month = 2 if REG[indicator]["period"] == "calendar" else 3
    base = {"indicator": indicator, "area_code": STOCKTON, "time_period": str(year),
            "period_end": pd.Timestamp(year, month, 28), "value": np.nan, "status": "", "sn_mean": np.nan,
            "england_value": np.nan, "vs_sn": "", "vs_england": "", "rank": np.nan, "rank_of": np.nan,
            "quartile_band": "", "previous_value": np.nan, "trend": "cannot be calculated", "target": np.nan,
            "target_year": "", "target_status": "", "target_direction": "", "polarity": REG[indicator]["polarity"]}
    return pd.Series({**base, **values})


def series(indicator, values, first=2020, trend="cannot be calculated", **latest) -> pd.DataFrame:
    """An LA's rows for consecutive years; the latest carries ``trend`` and ``latest``'s columns."""
    rows = [row(indicator, first + i, value=v) for i, v in enumerate(values)]
    rows[-1] = row(indicator, first + len(values) - 1, value=values[-1], trend=trend, **latest)
    return pd.DataFrame(rows)


def _obs(rows, indicator="cla_rate"):
    """Observations for the library to benchmark: (level, code, year, numerator, denominator)."""
    base = {c: "" for c in sources.OBS_COLUMNS}
    return pd.DataFrame([dict(base, indicator=indicator, time_period=year, period_end=pd.Timestamp(f"{year}-03-31"),
                              geographic_level=level, area_code=code, area_name=code, numerator=num,
                              denominator=den, published_value=np.nan, status="", denominator_kind="population",
                              release="2024", data_kind="published",
                              region_code="E12000001" if level == "Local authority" else "")
                         for level, code, year, num, den in rows], columns=sources.OBS_COLUMNS)


def benchmarked(la_counts, england_counts, first=2016, la_den=50_000, england_den=10_000_000):
    """Stockton and England over consecutive years, benchmarked by the library (no neighbours)."""
    rows = [("National", "E92000001", str(first + i), n, england_den) for i, n in enumerate(england_counts)]
    rows += [("Local authority", STOCKTON, str(first + i), n, la_den) for i, n in enumerate(la_counts)]
    out = benchmark.benchmark(indicators.compute(_obs(rows)), pd.DataFrame(
        columns=["area_code", "neighbour_code", "neighbour_name", "neighbour_rank"]))
    return out[out["area_code"] == STOCKTON].sort_values("period_end")


# --------------------------------------------------------------------------------------------------------------------
# Units: on every number, a unit phrase once in a sentence


def test_percentages_keep_their_sign_in_comparisons():
    r = row("missing_repeat_pct", value=75.2, sn_mean=64.4, england_value=63.0, vs_sn="worse", vs_england="worse")
    assert narrative.comparison_sentence(r, REG["missing_repeat_pct"], LA) == (
        "Stockton-on-Tees' figure for repeat missing from care in 2024 was 75%, significantly worse than its "
        "statistical neighbours' average (64%) and England (63%).")


def test_a_rate_says_its_unit_phrase_once():
    r = row("cla_rate", value=131.5, sn_mean=101.2, england_value=70.0, vs_sn="higher", vs_england="higher")
    assert narrative.comparison_sentence(r, REG["cla_rate"], LA) == (
        "Stockton-on-Tees' figure for children looked after in 2024 was 132 per 10,000 children aged 0-17, "
        "significantly higher than its statistical neighbours' average (101) and England (70).")


def test_a_unit_the_name_already_says_is_not_repeated():
    r = row("missing_incidents", value=8.62, sn_mean=5.7, england_value=6.5, vs_sn="worse", vs_england="worse")
    text = narrative.comparison_sentence(r, REG["missing_incidents"], LA)
    assert text == ("Stockton-on-Tees' figure for missing incidents per child who went missing in 2024 was 8.6, "
                    "significantly worse than its statistical neighbours' average (5.7) and England (6.5).")
    assert text.count("per child who went missing") == 1


@pytest.mark.parametrize("indicator", list(REG))
def test_no_sentence_repeats_a_unit_phrase(indicator):
    """Every indicator's full paragraph, with a significant trend, gaps that widened, a band moved and a target to
    come: no sentence says the unit phrase twice, and every figure of a percentage carries % (or, for a difference,
    percentage points)."""
    entry = REG[indicator]
    values = [40.0, 42.0, 44.0, 46.0, 48.5]
    history = series(indicator, values, trend="increasing", vs_sn="higher", vs_england="higher", rank=140,
                     rank_of=150, quartile_band="D", previous_value=46.0, target=45.0, target_year="2030",
                     target_status="off track", target_direction="lower")
    history = history.assign(sn_mean=30.0, england_value=35.0, lower_95=history["value"] - 0.5,
                             upper_95=history["value"] + 0.5, numerator=50.0, denominator=100.0)
    history.loc[history.index[-2], ["rank", "rank_of", "quartile_band"]] = [100, 150, "C"]
    text = narrative.paragraph(history.iloc[-1], entry, LA, history=history)
    assert "have widened significantly" in text and "It has moved from band C" in text
    for sentence in re.split(r"(?<=\.) (?=[A-Z])", text):
        assert entry["unit"] == "%" or sentence.count(entry["unit"]) <= 1, sentence
    if entry["unit"] == "%":
        names = "|".join(re.escape(entry[k].lower()) for k in ("short_title", "title") if entry.get(k))
        text = re.sub(names, "", text, flags=re.IGNORECASE)  # a name's own digits (KS2, 45 working days) are no figure
        figures = re.sub(r"\b\d+(st|nd|rd|th) of \d+|\b20\d\d\b|aged \d+-\d+|\d+-\d+\)?|12 months", "", text)
        bare = re.findall(r"\d+(?:\.\d+)?(?!\d|\.\d|%| percentage point| and \d)", figures)
        assert bare == [], (bare, text)


# --------------------------------------------------------------------------------------------------------------------
# Trend headlines: the tested trend, or the untested last five points up to their last turn


def test_headline_states_no_significant_change_even_when_first_and_last_differ():
    """The issue's case: NEET 3.7% in 2016 and 3.8% in 2024 with no significant recent trend must not say 'rose'."""
    values = [3.7, 4.6, 4.2, 3.9, 3.6, 3.5, 3.7, 3.8, 3.8]
    history = series("neet_pct", values, first=2016, trend="no significant change")
    title = narrative.trend_headline(history.iloc[-1], REG["neet_pct"], LA, history)
    assert title == "NEET (16-17) in Stockton-on-Tees: no significant change over the five years 2020 to 2024; " \
                    "3.8% in 2024"
    assert not CHANGE_WORDS.search(title)


def test_headline_of_a_significant_trend_says_better_or_worse_by_polarity():
    history = series("rereferral_pct", [25.0, 26.1, 27.4, 29.4, 30.3], trend="increasing")
    assert narrative.trend_headline(history.iloc[-1], REG["rereferral_pct"], LA, history) == (
        "Re-referrals within 12 months in Stockton-on-Tees: worsening, a significant rise to 30.3% over the five "
        "years 2020 to 2024")
    history = series("referral_rate", [700, 750, 800, 850, 906.5], trend="increasing")
    assert narrative.trend_headline(history.iloc[-1], REG["referral_rate"], LA, history) == (
        "Referrals in Stockton-on-Tees: a significant rise to 906.5 per 10,000 children aged 0-17 over the five "
        "years 2020 to 2024")
    history = series("stability_same_carer_pct", [60, 62, 64, 66, 68], trend="increasing")
    assert narrative.trend_headline(history.iloc[-1], REG["stability_same_carer_pct"], LA, history).startswith(
        "Long-term placement stability in Stockton-on-Tees: improving, a significant rise to 68%")


def test_untested_headline_describes_the_change_since_the_last_turn():
    """Four years (too few to test): 70, 63, 67, 71 fell then rose, so the headline gives the rise since 2022 and
    the fall before it, with the direction against the polarity (higher is better)."""
    history = series("stability_same_carer_pct", [70.2, 63.0, 67.0, 71.0], first=2021)
    assert narrative.trend_headline(history.iloc[-1], REG["stability_same_carer_pct"], LA, history) == (
        "Long-term placement stability in Stockton-on-Tees: up from 63% in 2022 to 71% in 2024, after falling from "
        "70% in 2021 (higher is better); too few years to test for a trend")


def test_untested_headline_without_a_turn_and_with_a_unit_phrase():
    """A steady fall over three years of a rate: first to last is the whole path; the unit phrase once at the end."""
    history = series("cla_starts_rate", [52.0, 49.0, 45.4], first=2022)
    assert narrative.trend_headline(history.iloc[-1], REG["cla_starts_rate"], LA, history) == (
        "Starting to be looked after in Stockton-on-Tees: down from 52 in 2022 to 45 in 2024 (per 10,000 children "
        "aged 0-17); too few years to test for a trend")


def test_untested_figures_that_did_not_move_are_said_to_be_the_same():
    history = series("cla_rate", [132.2, 131.8, 132.4], first=2022)   # all shown as 132
    assert narrative.trend_headline(history.iloc[-1], REG["cla_rate"], LA, history) == (
        "Children looked after in Stockton-on-Tees: the same, 132, in each year from 2022 to 2024 (per 10,000 "
        "children aged 0-17); too few years to test for a trend")


def test_rounded_figures_decide_the_direction():
    """63.4 then 62.6: shown as 63% and 63% the figures did not move, so no fall is claimed; 62.4 would be 62%."""
    history = series("stability_same_carer_pct", [63.4, 62.6], first=2023)
    assert "the same, 63%" in narrative.trend_headline(history.iloc[-1], REG["stability_same_carer_pct"], LA,
                                                       history)


# --------------------------------------------------------------------------------------------------------------------
# The trend sentence: last year as a figure, the tested trend, or the untested figures


def test_trend_sentence_gives_last_year_as_a_figure_not_a_change():
    history = series("cla_rate", [120, 125, 128, 132.4, 131.6], trend="no significant change", previous_value=132.4)
    assert narrative.trend_sentence(history.iloc[-1], REG["cla_rate"], history) == (
        "In 2023 it was 132 per 10,000 children aged 0-17. Over the five years 2020 to 2024 there has been no "
        "significant change.")


def test_trend_sentence_for_a_significant_fall_that_improves():
    history = series("rereferral_pct", [30.0, 28.0, 26.0, 24.0, 22.0], trend="decreasing", previous_value=24.0)
    assert narrative.trend_sentence(history.iloc[-1], REG["rereferral_pct"], history) == (
        "In 2023 it was 24.0%. Over the five years 2020 to 2024 it has fallen significantly, an improving trend.")


def test_trend_sentence_when_too_few_years():
    history = series("neet_nk_pct", [5.4, 5.3, 5.4, 7.0], first=2021, previous_value=5.4)
    assert narrative.trend_sentence(history.iloc[-1], REG["neet_nk_pct"], history) == (
        "There are too few years to test for a trend: it rose from 5.3% in 2022 to 7.0% in 2024, after falling from "
        "5.4% in 2021 (higher is worse).")


# --------------------------------------------------------------------------------------------------------------------
# Ranks and bands as LAIT: with a polarity from the best, without one from the lowest, and the change since last year


def test_rank_from_the_best_where_higher_is_better_and_the_band_kept():
    history = pd.DataFrame([row("stability_same_carer_pct", 2023, value=70.0, rank=31, rank_of=150, quartile_band="A"),
                            row("stability_same_carer_pct", 2024, value=72.0, rank=25, rank_of=149,
                                quartile_band="A")])
    assert narrative.rank_sentence(history.iloc[-1], REG["stability_same_carer_pct"], history) == (
        "It ranks 25th of 149 local authorities from the best (the highest value), in band A, the best quarter. "
        "In 2023 it was 31st of 150, also in band A.")


def test_rank_from_the_lowest_without_a_polarity_says_so():
    r = row("cin_rate", value=543.2, rank=144, rank_of=152, quartile_band="D")
    assert narrative.rank_sentence(r, REG["cin_rate"]) == (
        "It ranks 144th of 152 local authorities from the lowest value, in band D, the highest quarter (this "
        "indicator has no better or worse, so bands run from A, the lowest, to D).")


def test_band_change_since_last_year_is_named():
    history = pd.DataFrame([row("missing_incidents", 2023, value=5.7, rank=68, rank_of=149, quartile_band="B"),
                            row("missing_incidents", 2024, value=8.6, rank=129, rank_of=149, quartile_band="D")])
    assert narrative.rank_sentence(history.iloc[-1], REG["missing_incidents"], history) == (
        "It ranks 129th of 149 local authorities from the best (the lowest value), in band D, the worst quarter. "
        "It has moved from band B (68th of 149 in 2023) to band D, a worse band.")


# --------------------------------------------------------------------------------------------------------------------
# Gaps with England, tested (counts over 50,000: a rate per 10,000 is count / 5; England over 10,000,000)


def test_a_gap_that_widens_and_one_that_narrows():
    """Stockton 80, 90, 100, 110, 120 against England 70 every year: the gap 10, 20, ..., 50 widens by 10 a year;
    Stockton 120 down to 80 against the same England: the gap narrows to 10."""
    england = [70_000] * 5
    up = benchmarked([400, 450, 500, 550, 600], england)
    assert narrative.gap_sentence(up.iloc[-1], REG["cla_rate"], up) == (
        "Its gap above England has widened significantly over the five years 2016 to 2020, to 50 per 10,000 "
        "children aged 0-17.")
    down = benchmarked([600, 550, 500, 450, 400], england)
    assert narrative.gap_sentence(down.iloc[-1], REG["cla_rate"], down) == (
        "Its gap above England has narrowed significantly over the five years 2016 to 2020, to 10 per 10,000 "
        "children aged 0-17.")


def test_the_series_follows_a_history_sorted_or_changed_in_place():
    """A sentence reads the row's own series from ``history`` (remembered for the last frame asked about): a frame
    sorted in place, or another frame, gives its own rows, not those remembered."""
    england = [70_000] * 5
    up = benchmarked([400, 450, 500, 550, 600], england)
    history = up.copy()
    first = narrative.gap_sentence(up.iloc[-1], REG["cla_rate"], history)
    history.sort_values("period_end", ascending=False, inplace=True)
    assert narrative.gap_sentence(up.iloc[-1], REG["cla_rate"], history) == first
    down = benchmarked([600, 550, 500, 450, 400], england)
    assert "narrowed" in narrative.gap_sentence(down.iloc[-1], REG["cla_rate"], down)
    assert "widened" in narrative.gap_sentence(up.iloc[-1], REG["cla_rate"], history)


def test_a_gap_that_crosses_the_comparator_and_one_that_holds():
    """Stockton 120 down to 80 against England 100: from 20 above to 20 below, a significant move downwards;
    Stockton rising with England, 10 above every year: no significant change in the gap."""
    crossing = benchmarked([600, 550, 500, 450, 400], [100_000] * 5)
    assert narrative.gap_sentence(crossing.iloc[-1], REG["cla_rate"], crossing) == (
        "Relative to England it has moved significantly downwards over the five years 2016 to 2020, and is now 20 "
        "per 10,000 children aged 0-17 below it.")
    level = benchmarked([400, 450, 500, 550, 600], [70_000, 80_000, 90_000, 100_000, 110_000])
    assert level.iloc[-1]["trend"] == "increasing"          # the rate itself rises ...
    assert narrative.gap_sentence(level.iloc[-1], REG["cla_rate"], level) == (
        "The gap with England shows no significant change over the five years 2016 to 2020.")   # ... the gap does not


def test_no_change_is_claimed_where_nothing_is_significant():
    """Small counts (3 to 7 a year over 50,000: intervals wider than the movement): neither the rate's trend nor its
    gap with England is significant, so the paragraph states no rise, fall, widening or narrowing."""
    noisy = benchmarked([5, 3, 7, 4, 6], [70_000] * 5)
    r = noisy.iloc[-1]
    assert r["trend"] == "no significant change"
    text = narrative.paragraph(r, REG["cla_rate"], LA, history=noisy)
    assert not CHANGE_WORDS.search(text), text
    assert "no significant change" in text


# --------------------------------------------------------------------------------------------------------------------
# Targets: distance, and whether the trend reaches it (by the target year when it is still to come)


def test_target_met_exactly_and_missed():
    met = row("neet_nk_pct", value=6.96, target=7.0, target_year="2017", target_status="on track",
              target_direction="lower")
    assert narrative.target_sentence(met, REG["neet_nk_pct"]) == \
        "The council's target of 7.0% or lower (from 2017) is met exactly."
    missed = series("care_leavers_eet_19_21_pct", [47, 46, 48, 51], first=2021, target=55.0, target_year="2017",
                    target_status="off track", target_direction="higher")
    assert narrative.target_sentence(missed.iloc[-1], REG["care_leavers_eet_19_21_pct"], missed) == (
        "The council's target of 55% or higher (from 2017) is not met: the figure is 4 percentage points below it. "
        "There are too few years to tell whether the trend will reach it.")


def test_a_future_target_reached_in_time_at_the_recent_pace():
    """10.0% falling 1 point a year (2020-2024, a significant fall) to 6.0%; target 4.0% or lower by 2027: 2 points
    to go at 1 a year is 2026, in time."""
    history = series("neet_nk_pct", [10.0, 9.0, 8.0, 7.0, 6.0], trend="decreasing", target=4.0, target_year="2027",
                     target_status="off track", target_direction="lower")
    assert narrative.target_sentence(history.iloc[-1], REG["neet_nk_pct"], history) == (
        "The council's target is 4.0% or lower by 2027: the figure is 2.0 percentage points above it. It has been "
        "falling significantly; at the average pace of the five years 2020 to 2024 (1.0 percentage points a year) "
        "it would reach the target around 2026, in time for 2027.")


def test_a_future_target_missed_at_the_recent_pace():
    """12 falling 0.5 a year to 10.0; target 7.0 by 2026: 3 points at 0.5 a year is 6 years, 2030."""
    history = series("neet_nk_pct", [12.0, 11.5, 11.0, 10.5, 10.0], trend="decreasing", target=7.0,
                     target_year="2026", target_status="off track", target_direction="lower")
    text = narrative.target_sentence(history.iloc[-1], REG["neet_nk_pct"], history)
    assert text.endswith("(0.5 percentage points a year) it would reach the target around 2030, after 2026.")


def test_a_future_target_and_a_trend_away_from_it_or_none():
    away = series("neet_nk_pct", [6.0, 6.5, 7.0, 7.5, 8.0], trend="increasing", target=5.0, target_year="2027",
                  target_status="off track", target_direction="lower")
    assert narrative.target_sentence(away.iloc[-1], REG["neet_nk_pct"], away).endswith(
        "It has been rising significantly over the five years 2020 to 2024, away from the target.")
    flat = away.assign(trend=["cannot be calculated"] * 4 + ["no significant change"])
    assert narrative.target_sentence(flat.iloc[-1], REG["neet_nk_pct"], flat).endswith(
        "With no significant change over the five years 2020 to 2024, the trend gives no sign of it reaching the "
        "target by 2027.")
    already = row("neet_nk_pct", value=4.5, target=5.0, target_year="2027", target_status="on track",
                  target_direction="lower")
    assert narrative.target_sentence(already, REG["neet_nk_pct"]) == \
        "The council's target is 5.0% or lower by 2027, and the figure already meets it."


# --------------------------------------------------------------------------------------------------------------------
# Benchmark and funnel headlines


def test_benchmark_headline_puts_the_unit_once_after_both_figures():
    r = row("cin_rate", value=543.2, sn_mean=367.7, vs_sn="higher")
    assert narrative.benchmark_headline(r, REG["cin_rate"], LA) == (
        "Stockton-on-Tees is significantly higher than its statistical neighbours' average: 543.2 against 367.7 per "
        "10,000 children aged 0-17")
    r = row("stability_same_carer_pct", value=72.0, sn_mean=68.4, vs_sn="similar")
    assert narrative.benchmark_headline(r, REG["stability_same_carer_pct"], LA) == (
        "Stockton-on-Tees is not significantly different from its statistical neighbours' average: 72% against 68%")


def test_funnel_headline_judges_only_with_a_polarity():
    assert narrative.funnel_headline("outside 99.8% limits (above)", 103, 151, REG["neet_nk_pct"], LA) == (
        "Stockton-on-Tees lies above England's 99.8% limits (worse); 103 of 151 local authorities lie outside the "
        "99.8% limits")
    assert narrative.funnel_headline("outside 99.8% limits (above)", 113, 152, REG["cin_rate"], LA) == (
        "Stockton-on-Tees lies above England's 99.8% limits; 113 of 152 local authorities lie outside the 99.8% "
        "limits")
    assert narrative.funnel_headline("within 95% limits", 4, 153, REG["cla_rate"], LA, adjusted=True) == (
        "Stockton-on-Tees lies within England's 95% limits; 4 of 153 local authorities lie outside the 99.8% limits "
        "(widened for overdispersion)")


# --------------------------------------------------------------------------------------------------------------------
# Key findings: what matters most first


def test_key_findings_put_significant_and_worsening_first():
    """Five indicators, hand-scored: worse and worsening (re-referrals) > worse only (repeat missing) > similar but
    worsening (NEET) > higher, no polarity (children in need) > similar and stable (stability)."""
    rows = pd.DataFrame([
        row("stability_same_carer_pct", value=72.0, sn_mean=68.0, england_value=68.0, vs_sn="similar",
            vs_england="similar", trend="no significant change"),
        row("cin_rate", value=543.2, sn_mean=367.7, england_value=332.9, vs_sn="higher", vs_england="higher",
            trend="no significant change"),
        row("neet_pct", value=3.8, sn_mean=4.0, england_value=3.5, vs_sn="similar", vs_england="similar",
            trend="increasing"),
        row("missing_repeat_pct", value=75.0, sn_mean=64.0, england_value=63.0, vs_sn="worse", vs_england="worse",
            trend="no significant change"),
        row("rereferral_pct", value=30.3, sn_mean=19.6, england_value=22.4, vs_sn="worse", vs_england="worse",
            trend="increasing"),
    ])
    found = narrative.key_findings(rows, REG, LA, n=5)
    assert [f.split(" in 2024")[0].split("figure for ")[1] for f in found] == [
        "re-referrals within 12 months", "repeat missing from care", "NEET (16-17)", "children in need",
        "long-term placement stability"]
    assert found[0].endswith("it has risen significantly, a worsening trend.")
    assert narrative.key_findings(rows, REG, LA, n=2) == found[:2]


def test_off_target_counts_as_worse_and_better_comes_after_higher():
    assert narrative.priority(row("neet_nk_pct", value=7.5, vs_sn="similar", vs_england="similar",
                                  target_status="off track"), REG["neet_nk_pct"]) == 1
    assert narrative.priority(row("missing_pct", value=8.0, vs_sn="better", vs_england="similar"),
                              REG["missing_pct"]) == 6
    assert narrative.priority(row("cla_rate", value=132.0, vs_sn="higher", vs_england="higher",
                                  trend="decreasing"), REG["cla_rate"]) == 3
    assert narrative.priority(row("cla_rate"), REG["cla_rate"]) == 9
