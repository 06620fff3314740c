"""Plain-English sentences and headlines built from the benchmarked table: every figure in them comes from it.

Rules every sentence keeps:

- **A change is stated only where the statistics support it**: the recent trend (the table's ``trend``,
  Fingertips' method, over the latest five points) or the same test of the gap with a comparator
  (:func:`analysis.indicators.benchmark.gap_trends`). Where there are too few points to test, a sentence gives the
  figures over the last five years (up to the last turn, never first against last across it) and says the trend is
  untested; last year's figure is given as a figure, not as a rise or fall.
- **Better or worse only where the indicator has a polarity**; otherwise higher or lower. "Significantly" means the
  comparator lies outside the area's confidence interval (:mod:`analysis.indicators.benchmark`).
- **Units on every number**: ``%`` on each percentage; a unit phrase ("per 10,000 children aged 0-17") once in a
  sentence, never twice, and not where the indicator's name already says it; differences between percentages in
  percentage points.
- **Ranks and bands as LAIT gives them**: with a polarity, rank 1 and band A are the best; without one, the lowest,
  and the sentence says so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.indicators import benchmark
from analysis.numbers import SYMBOLS, format_value, round_half_up

ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd"}

#: How many of the latest points the recent trend uses (Fingertips' method), and so every "over the last five".
POINTS = 5

_JUDGEMENT = {"higher": "significantly higher than", "lower": "significantly lower than",
              "better": "significantly better than", "worse": "significantly worse than",
              "similar": "not significantly different from"}
_COMPARATORS = (("sn_mean", "vs_sn", "its statistical neighbours' average"), ("england_value", "vs_england", "England"))


def ordinal(n: int) -> str:
    """1 -> 1st, 2 -> 2nd, 11 -> 11th, 23 -> 23rd."""
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else ORDINAL_SUFFIX.get(n % 10, "th")
    return f"{n}{suffix}"


def fmt(value, decimals: int, status: str = "") -> str:
    """One number as readers see it (DfE rounding, thousands separators, symbol if missing)."""
    return format_value(value, decimals, status or "")


def figure(value, entry: dict, unit: bool = True, status: str = "") -> str:
    """A number as readers see it with ``%`` for a percentage, and the unit phrase after it only when ``unit`` (a
    sentence says a unit phrase once: the other numbers in it take ``unit=False``)."""
    text = fmt(value, entry["decimals"], status)
    if text in SYMBOLS:
        return text
    if entry["unit"] == "%":
        return f"{text}%"
    return f"{text} {entry['unit']}" if unit else text


def with_unit(value, entry: dict, status: str = "") -> str:
    """``132 per 10,000 children aged 0-17``, ``12.9%``, ``8.6 incidents per child who went missing``."""
    return figure(value, entry, True, status)


def unit_said(entry: dict, text: str) -> bool:
    """Whether ``text`` already says the indicator's unit phrase (``%`` is never taken as said: every percentage
    carries it)."""
    return entry["unit"] != "%" and entry["unit"].lower() in text.lower()


def _difference(value, entry: dict, unit: bool = True) -> str:
    """The size of a difference: percentage points between percentages, else the unit (phrase only when ``unit``)."""
    text = fmt(abs(value), entry["decimals"])
    if entry["unit"] == "%":
        return f"{text} percentage point{'' if text == '1' else 's'}"
    return f"{text} {entry['unit']}" if unit else text


def as_noun(title: str) -> str:
    """A title inside a sentence: first letter lower-cased unless it starts an acronym (NEET, EET stay)."""
    words = title.split(" ", 1)
    first = words[0]
    if len(first) > 1 and first[1:2].isupper():
        return title
    return first[:1].lower() + first[1:] + (" " + words[1] if len(words) > 1 else "")


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _judgement(result: str) -> str:
    """Words for a comparison result."""
    return _JUDGEMENT.get(result, "")


# ----------------------------------------------------------------------------------------------------------------
# The series behind a row: what the trend, rank and gap sentences read


def _series(row: pd.Series, history: pd.DataFrame | None) -> pd.DataFrame:
    """The row's own series up to it, oldest first: the rows of ``history`` (the benchmarked table, or any part of
    it) for its indicator and area, to its period; the row alone when there is no history."""
    if history is not None and len(history):
        at = _positions(history).get((str(row["indicator"]), str(row["area_code"])))
        if at is not None:
            h = history.take(at)
            h = h[h["period_end"] <= row["period_end"]]
            if len(h):
                return h
    return row.to_frame().T


#: The last history :func:`_positions` indexed, and its index: one paragraph asks for the same series several times.
_INDEXED: list = [None, None, None]


def _positions(history: pd.DataFrame) -> dict:
    """``(indicator, area_code)`` -> the positions of that series' rows in ``history``, oldest first; remembered for
    the last frame asked about (the same object, with the same row index: not sorted or filtered in place)."""
    if _INDEXED[0] is history and _INDEXED[1] is history.index:
        return _INDEXED[2]
    order = np.argsort(history["period_end"].to_numpy(), kind="stable")
    keys = zip(history["indicator"].astype(str).to_numpy()[order], history["area_code"].astype(str).to_numpy()[order])
    found: dict = {}
    for pos, key in zip(order.tolist(), keys):
        found.setdefault(key, []).append(pos)
    _INDEXED[:] = [history, history.index, found]
    return found


def _year(row) -> int:
    """The year a row's period ends in (31 March Y, or February Y for December-February averages)."""
    return pd.Timestamp(row["period_end"]).year


def _window(series: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """The latest five points with a value (and a value in each of ``columns``): what a trend is tested on."""
    ok = _has_number(series["value"])
    for col in columns:
        ok &= _has_number(series[col])
    return series[ok].tail(POINTS)


def _has_number(column: pd.Series) -> np.ndarray:
    """Where a column holds a number (a float column is read as it is; anything else is parsed, text as NaN)."""
    if column.dtype.kind == "f":
        return ~np.isnan(column.to_numpy())
    return pd.to_numeric(column, errors="coerce").notna().to_numpy()


def _span(window: pd.DataFrame) -> str:
    """``the five years 2020 to 2024``, or the years the points come from when they are not consecutive."""
    first, last = window["time_period"].iloc[0], window["time_period"].iloc[-1]
    if _year(window.iloc[-1]) - _year(window.iloc[0]) == len(window) - 1:
        return f"the {_count_words(len(window))} years {first} to {last}"
    return f"the latest {_count_words(len(window))} years with figures, {first} to {last}"


def _count_words(n: int) -> str:
    return {2: "two", 3: "three", 4: "four", 5: "five"}.get(n, str(n))


def _previous(series: pd.DataFrame, row: pd.Series) -> pd.Series | None:
    """The row for the year before ``row``'s, if the series holds one."""
    before = series[pd.to_datetime(series["period_end"]).dt.year == _year(row) - 1]
    return before.iloc[-1] if len(before) else None


def _direction(trend: str) -> int:
    return {"increasing": 1, "decreasing": -1}.get(trend, 0)


def _verdict(direction: int, polarity: str) -> str:
    """``better`` or ``worse`` for a movement up (1) or down (-1) under a polarity; empty without one."""
    if not direction or polarity not in ("low_is_good", "high_is_good"):
        return ""
    return "better" if (direction > 0) == (polarity == "high_is_good") else "worse"


def _polarity_note(direction: int, polarity: str) -> str:
    """``(higher is worse)``, ``(lower is better)``: an untested movement's direction against the polarity."""
    verdict = _verdict(direction, polarity)
    return f" ({'higher' if direction > 0 else 'lower'} is {verdict})" if verdict else ""


def _path(window: pd.DataFrame, entry: dict, said: bool, headline: bool = False) -> str:
    """What the figures did over the window, from the last turn: never first against last across a turn.

    ``up from 63% in 2022 to 71% in 2024, after falling from 70% in 2021`` (``headline``), ``rose from ... `` in a
    sentence; directions are read from the figures as shown (rounded), so the words agree with the numbers.
    """
    values = window["value"].to_numpy(dtype=float)
    years = window["time_period"].astype(str).tolist()
    shown = round_half_up(values, entry["decimals"])
    steps = np.sign(np.diff(shown))
    moves = steps[steps != 0]
    tail = "" if said or entry["unit"] == "%" else f" ({entry['unit']})"
    if not len(moves):
        return f"{'the same' if headline else 'was the same'}, {figure(values[-1], entry, False)}, in each year from " \
               f"{years[0]} to {years[-1]}{tail}"
    last = int(moves[-1])
    against = np.flatnonzero(steps == -last)
    start = int(against[-1]) + 1 if len(against) else 0
    verb = ("up" if last > 0 else "down") if headline else ("rose" if last > 0 else "fell")
    text = (f"{verb} from {figure(values[start], entry, False)} in {years[start]} to "
            f"{figure(values[-1], entry, False)} in {years[-1]}{tail}")
    if start:
        turns = int((moves[1:] != moves[:-1]).sum())
        text += (f", after {'falling' if last > 0 else 'rising'} from {figure(values[0], entry, False)} in "
                 f"{years[0]}" if turns == 1 else f", after rising and falling since {years[0]}")
    return text + _polarity_note(last, entry["polarity"])


def _untested(series: pd.DataFrame) -> str:
    """Why the recent trend is not tested, as a headline says it."""
    if pd.to_numeric(series["value"], errors="coerce").notna().sum() < POINTS:
        return "too few years to test for a trend"
    return "the trend cannot be tested (a recent year has no figure, or every case counted)"


# ----------------------------------------------------------------------------------------------------------------
# Sentences


def comparison_sentence(row: pd.Series, entry: dict, la_name: str, confidence: float = 0.95) -> str:
    """The LA's latest value against its neighbours and England, in one sentence.

    Example: "Stockton-on-Tees' figure for children looked after in 2024 was 132 per 10,000 children aged 0-17,
    significantly higher than its statistical neighbours' average (101) and England (70)."
    """
    subject = f"{possessive(la_name)} figure for {as_noun(entry['short_title'])} in {row['time_period']}"
    if pd.isna(row["value"]):
        reason = {"c": "suppressed to protect confidentiality", "x": "not available", "z": "not applicable",
                  "u": "of low reliability and not published"}.get(row.get("status", ""), "not available")
        return f"{subject} is {reason} ({row.get('status') or 'x'}), so it cannot be compared."
    value = figure(row["value"], entry, unit=not unit_said(entry, subject))
    comps = [(row[result], f"{name} ({figure(row[col], entry, unit=False)})") for col, result, name in _COMPARATORS
             if pd.notna(row.get(col)) and row.get(result) in _JUDGEMENT]
    if not comps:
        return f"{subject} was {value}."
    if len(comps) == 2 and comps[0][0] == comps[1][0]:
        parts = [f"{_judgement(comps[0][0])} {comps[0][1]} and {comps[1][1]}"]
    else:
        parts = [f"{_judgement(r)} {what}" for r, what in comps]
    level = "" if abs(confidence - 0.95) < 1e-9 else f" (at {confidence * 100:g}% confidence)"
    return f"{subject} was {value}, {', and '.join(parts)}{level}."


def trend_clause(row: pd.Series, entry: dict, history: pd.DataFrame | None = None) -> str:
    """The tested recent trend in a sentence, or the untested figures of the last five years where it cannot be
    tested. Examples: "Over the five years 2020 to 2024 it has risen significantly, a worsening trend.", "There are
    too few years to test for a trend: it rose from 68% in 2021 to 72% in 2024 (higher is better)."
    """
    series = _series(row, history)
    window = _window(series)
    trend = row.get("trend", "")
    if trend in ("increasing", "decreasing") and len(window):
        direction = _direction(trend)
        verdict = {"better": ", an improving trend", "worse": ", a worsening trend"}.get(
            _verdict(direction, entry["polarity"]), "")
        return f"Over {_span(window)} it has {'risen' if direction > 0 else 'fallen'} significantly{verdict}."
    if trend == "no significant change" and len(window):
        return f"Over {_span(window)} there has been no significant change."
    if len(window) >= 2 and pd.notna(row.get("value")):
        why = _untested(series)
        why = "There are " + why if why.startswith("too few") else why[0].upper() + why[1:]
        return f"{why}: it {_path(window, entry, said=False)}."
    return ""


def trend_sentence(row: pd.Series, entry: dict, history: pd.DataFrame | None = None) -> str:
    """Last year's figure, then the recent trend (:func:`trend_clause`).

    Last year's figure is given as a figure: a single year's change is not tested, so no rise or fall is claimed.
    Without ``history`` (the LA's rows of the benchmarked table), last year's figure comes from ``previous_value``.
    """
    out = []
    trend = row.get("trend", "")
    if trend != "cannot be calculated" and pd.notna(row.get("value")) and pd.notna(row.get("previous_value")):
        year = _year(row) - 1 if pd.notna(row.get("period_end")) else "the year before"
        out.append(f"In {year} it was {figure(row['previous_value'], entry)}.")
    clause = trend_clause(row, entry, history)
    return " ".join(out + [clause] if clause else out)


def rank_sentence(row: pd.Series, entry: dict | None = None, history: pd.DataFrame | None = None) -> str:
    """Rank and quartile band among LAs, in LAIT's order, and how the band moved since last year.

    With a polarity rank 1 and band A are the best; without one, the lowest, and the sentence says so.
    """
    if pd.isna(row.get("rank")) or pd.isna(row.get("rank_of")):
        return ""
    polarity = row.get("polarity") or (entry or {}).get("polarity", "none")
    judged = polarity in ("low_is_good", "high_is_good")
    if judged:
        order = f"from the best (the {'highest' if polarity == 'high_is_good' else 'lowest'} value)"
        quarters = dict(zip("ABCD", ("best", "second-best", "second-worst", "worst")))
        moved = {1: "a worse band", -1: "a better band"}
    else:
        order = "from the lowest value"
        quarters = dict(zip("ABCD", ("lowest", "second-lowest", "second-highest", "highest")))
        moved = {1: "a higher band", -1: "a lower band"}
    band = row.get("quartile_band", "")
    text = f"It ranks {ordinal(row['rank'])} of {int(row['rank_of'])} local authorities {order}"
    if band not in quarters:
        return text + "."
    text += f", in band {band}, the {quarters[band]} quarter"
    text += "." if judged else " (this indicator has no better or worse, so bands run from A, the lowest, to D)."
    before = _previous(_series(row, history), row) if history is not None else None
    if before is not None and pd.notna(before.get("rank")) and before.get("quartile_band") in quarters:
        was = f"{ordinal(before['rank'])} of {int(before['rank_of'])}"
        if before["quartile_band"] == band:
            text += f" In {before['time_period']} it was {was}, also in band {band}."
        else:
            step = 1 if band > before["quartile_band"] else -1
            text += (f" It has moved from band {before['quartile_band']} ({was} in {before['time_period']}) to band "
                     f"{band}, {moved[step]}.")
    return text


def gap_sentence(row: pd.Series, entry: dict, history: pd.DataFrame | None) -> str:
    """Whether the gaps with the neighbours' average and England have widened or closed, as tested
    (:func:`analysis.indicators.benchmark.gap_trends`); empty without the history to test them on.

    Example: "Its gap above England has widened significantly over the five years 2020 to 2024, to 62 per 10,000
    children aged 0-17. The gap with its statistical neighbours' average shows no significant change over the five
    years 2020 to 2024."
    """
    changes, flat = _gaps(row, entry, history)
    return " ".join(changes + ([flat] if flat else []))


def _gaps(row, entry, history) -> tuple[list[str], str]:
    """The sentences on gaps that changed significantly, and the one on gaps that did not ("" if none)."""
    if history is None or pd.isna(row.get("value")):
        return [], ""
    series = _series(row, history)
    changed, flat, span = {}, [], ""
    for col, _, name in _COMPARATORS:
        if pd.isna(row.get(col)):
            continue
        trend = benchmark.gap_trends(series, col).iloc[-1]
        window = _window(series, col)
        if trend in ("increasing", "decreasing"):
            now = row["value"] - row[col]
            start = window["value"].iloc[0] - window[col].iloc[0]
            changed.setdefault(_gap_kind(now, start, _direction(trend), entry, _span(window)), []).append((name, now))
        elif trend == "no significant change":
            flat.append(name)
            span = _span(window)
    changes = [_gap_change(kind, gaps, entry) for kind, gaps in changed.items()]
    if not flat:
        return changes, ""
    noun = f"gap with {flat[0]} shows" if len(flat) == 1 else f"gaps with {' and '.join(flat)} show"
    return changes, f"The {noun} no significant change over {span}."


def _gap_kind(now: float, start: float, direction: int, entry: dict, span: str) -> tuple[str, str, str]:
    """(how the gap changed, which side of the comparator the LA is now, over which years)."""
    side = "above" if now > 0 else "below"
    if round_half_up(abs(now), entry["decimals"]) == 0:
        return ("upwards" if direction > 0 else "downwards", "level", span)
    if start * now > 0:
        return ("widened" if (now > 0) == (direction > 0) else "narrowed", side, span)
    return ("upwards" if direction > 0 else "downwards", side, span)


def _gap_change(kind: tuple[str, str, str], gaps: list[tuple[str, float]], entry: dict) -> str:
    """One sentence for the comparators whose gap changed the same way: "Its gaps above its statistical neighbours'
    average and England have widened significantly over the five years 2020 to 2024, to 10.7 and 7.9 percentage
    points." A gap that crossed zero is said as a movement relative to the comparator."""
    how, side, span = kind
    names = " and ".join(name for name, _ in gaps)
    numbers = [fmt(abs(now), entry["decimals"]) for _, now in gaps]
    if entry["unit"] == "%":
        unit = " percentage point" + ("" if numbers == ["1"] else "s")
    else:
        unit = f" {entry['unit']}"
    sizes = " and ".join(numbers) + unit
    if how in ("widened", "narrowed"):
        noun = "gap" if len(gaps) == 1 else "gaps"
        return f"Its {noun} {side} {names} {'has' if len(gaps) == 1 else 'have'} {how} significantly over {span}, " \
               f"to {sizes}."
    moved = f"Relative to {names} it has moved significantly {how} over {span}"
    if side == "level":
        return f"{moved}, and is now level with {'it' if len(gaps) == 1 else 'them'}."
    return f"{moved}, and is now {sizes} {side} {'it' if len(gaps) == 1 else 'them'}."


def target_sentence(row: pd.Series, entry: dict, history: pd.DataFrame | None = None) -> str:
    """The council's own target: whether the latest figure meets it, how far off it is, and whether the recent
    trend reaches it (by the target year, when that is still to come).

    The figure is compared on its published precision, as ``target_status``. Where it falls short and the recent
    trend is significant towards the target, the year it would be reached is the average pace of the trend's five
    years carried forward; a significant trend away from it, or none, is said as such.
    """
    if pd.isna(row.get("target")) or not row.get("target_status") or pd.isna(row.get("value")):
        return ""
    lower = row.get("target_direction") != "higher"
    target_year = str(row.get("target_year") or "")
    due = not target_year.isdigit() or int(target_year) <= _year(row)
    goal = f"{figure(row['target'], entry)} or {'lower' if lower else 'higher'}"
    gap = round_half_up(float(row["value"]), entry["decimals"]) - row["target"]
    off = f"the figure is {_difference(gap, entry, unit=False)} {'above' if gap > 0 else 'below'} it"
    met = row["target_status"] == "on track"
    if due:
        text = f"The council's target of {goal}{f' (from {target_year})' if target_year else ''}"
        if met and round_half_up(abs(gap), entry["decimals"]) == 0:
            return f"{text} is met exactly."
        if met:
            return f"{text} is met, with {_difference(gap, entry, unit=False)} to spare."
        text += f" is not met: {off}."
    else:
        text = f"The council's target is {goal} by {target_year}"
        if met:
            return f"{text}, and the figure already meets it."
        text += f": {off}."
    return f"{text} {_outlook(row, entry, history, lower, None if due else int(target_year))}"


def _outlook(row, entry, history, lower: bool, by: int | None) -> str:
    """Whether the recent trend takes an unmet target's figure to it (by the year ``by``, if one is to come)."""
    series = _series(row, history)
    window = _window(series)
    direction = _direction(row.get("trend", ""))
    deadline = f" by {by}" if by else ""
    if not direction:
        if row.get("trend") == "no significant change":
            return (f"With no significant change over {_span(window)}, the trend gives no sign of it reaching the "
                    f"target{deadline}.")
        return f"There are too few years to tell whether the trend will reach it{deadline}."
    moving = "falling" if direction < 0 else "rising"
    if (direction < 0) != lower:
        return f"It has been {moving} significantly over {_span(window)}, away from the target."
    years = _year(window.iloc[-1]) - _year(window.iloc[0])
    pace = (window["value"].iloc[-1] - window["value"].iloc[0]) / years if years else 0.0
    if not pace or (pace < 0) != lower:
        return f"It has been {moving} significantly over {_span(window)}, towards the target."
    reach = _year(row) + math.ceil(abs(row["value"] - row["target"]) / abs(pace))
    when = "" if not by else (f", in time for {by}" if reach <= by else f", after {by}")
    return (f"It has been {moving} significantly; at the average pace of {_span(window)} "
            f"({_difference(pace, entry)} a year) it would reach the target around {reach}{when}.")


def headline(row: pd.Series, entry: dict, la_name: str) -> str:
    """A heading that states the finding, e.g. "Children looked after: higher than England and neighbours"."""
    name = entry["short_title"]
    if pd.isna(row.get("value")):
        return f"{name}: the {row['time_period']} figure is not published for {la_name}"
    vs_e, vs_s = row.get("vs_england", ""), row.get("vs_sn", "")
    words = {"higher": "higher than", "lower": "lower than", "better": "better than", "worse": "worse than",
             "similar": "similar to"}
    if vs_e == vs_s and vs_e in words:
        return f"{name}: {words[vs_e]} England and statistical neighbours"
    bits = []
    if vs_e in words:
        bits.append(f"{words[vs_e]} England")
    if vs_s in words:
        bits.append(f"{words[vs_s]} statistical neighbours")
    return f"{name}: {', '.join(bits)}" if bits else name


def trend_headline(row: pd.Series, entry: dict, la_name: str, history: pd.DataFrame | None = None) -> str:
    """The title of a trend chart: the tested recent trend, or, untested, the last five years' figures.

    Examples: "Re-referrals within 12 months in Stockton-on-Tees: worsening, a significant rise to 30.3% over the
    five years 2020 to 2024"; "Children in need in Stockton-on-Tees: no significant change over the five years 2020
    to 2024; 543.2 per 10,000 children aged 0-17 in 2024"; "Long-term placement stability in Stockton-on-Tees: up
    from 68% in 2021 to 72% in 2024 (higher is better); too few years to test for a trend".
    """
    name = f"{entry['short_title']} in {la_name}"
    series = _series(row, history)
    window = _window(series)
    if pd.isna(row.get("value")) or not len(window):
        return name
    now = figure(row["value"], entry, unit=not unit_said(entry, entry["short_title"]))
    direction = _direction(row.get("trend", ""))
    if direction:
        verdict = {"better": "improving, ", "worse": "worsening, "}.get(_verdict(direction, entry["polarity"]), "")
        return f"{name}: {verdict}a significant {'rise' if direction > 0 else 'fall'} to {now} over {_span(window)}"
    if row.get("trend") == "no significant change":
        return f"{name}: no significant change over {_span(window)}; {now} in {row['time_period']}"
    if len(window) >= 2:
        path = _path(window, entry, unit_said(entry, entry["short_title"]), headline=True)
        return f"{name}: {path}; {_untested(series)}"
    return f"{name}: {now} in {row['time_period']}"


def benchmark_headline(row: pd.Series, entry: dict, la_name: str) -> str:
    """The title of the neighbours chart, e.g. "Stockton-on-Tees is significantly worse than its statistical
    neighbours' average: 75% against 64%"."""
    result = row.get("vs_sn", "")
    if pd.isna(row.get("value")) or pd.isna(row.get("sn_mean")) or result not in _JUDGEMENT:
        return f"{la_name} and its statistical neighbours"
    unit = "" if entry["unit"] == "%" else f" {entry['unit']}"
    return (f"{la_name} is {_judgement(result)} its statistical neighbours' average: "
            f"{figure(row['value'], entry, False)} against {figure(row['sn_mean'], entry, False)}{unit}")


_FUNNEL_PLACES = {
    "within 95% limits": ("within {c}'s 95% limits", 0),
    "between 95% and 99.8% limits (above)": ("above {c}'s 95% limits but within its 99.8% limits", 1),
    "between 95% and 99.8% limits (below)": ("below {c}'s 95% limits but within its 99.8% limits", -1),
    "outside 99.8% limits (above)": ("above {c}'s 99.8% limits", 1),
    "outside 99.8% limits (below)": ("below {c}'s 99.8% limits", -1),
}


def funnel_headline(position: str, outside: int, total: int, entry: dict, la_name: str,
                    comparator: str = "England", adjusted: bool = False) -> str:
    """The title of a funnel plot: where the LA lies (better or worse only with a polarity), and how many LAs lie
    outside the 99.8% limits, e.g. "Stockton-on-Tees lies above England's 99.8% limits (worse); 32 of 149 local
    authorities lie outside them". ``adjusted``: the limits drawn are widened for overdispersion, and the count
    says so."""
    widened = " (widened for overdispersion)" if adjusted else ""
    count = f"{outside} of {total} local authorities lie outside the 99.8% limits{widened}"
    if position not in _FUNNEL_PLACES:
        return f"{count} round {comparator}"
    place, direction = _FUNNEL_PLACES[position]
    verdict = _verdict(direction, entry["polarity"])
    return f"{la_name} lies {place.format(c=comparator)}{f' ({verdict})' if verdict else ''}; {count}"


def paragraph(row: pd.Series, entry: dict, la_name: str, confidence: float = 0.95,
              history: pd.DataFrame | None = None) -> str:
    """All the sentences for one indicator, in reading order: comparison, trend, rank and band, gaps, target.

    ``history`` is the benchmarked table (or the LA's rows of it) for the trend window, last year's rank and band
    and the gap tests; without it the paragraph says what the row alone supports.
    """
    parts = [comparison_sentence(row, entry, la_name, confidence), trend_sentence(row, entry, history),
             rank_sentence(row, entry, history), gap_sentence(row, entry, history),
             target_sentence(row, entry, history)]
    return " ".join(p for p in parts if p)


def finding(row: pd.Series, entry: dict, la_name: str, confidence: float = 0.95,
            history: pd.DataFrame | None = None) -> str:
    """One key finding: the comparison, the tested trend, any significant change in the gaps, and the target."""
    parts = [comparison_sentence(row, entry, la_name, confidence)]
    if row.get("trend") in ("increasing", "decreasing", "no significant change"):
        parts.append(trend_clause(row, entry, history))
    parts += _gaps(row, entry, history)[0]          # the gaps that widened or closed, not those that did not
    parts.append(target_sentence(row, entry, history))
    return " ".join(p for p in parts if p)


def priority(row: pd.Series, entry: dict) -> int:
    """How much a result needs a reader's attention, 0 first: the order of the key findings.

    0. significantly worse than England or the neighbours, or off target, and worsening significantly;
    1. significantly worse, or off target;
    2. worsening significantly (though similar);
    3. significantly higher or lower (no polarity) and changing significantly;
    4. significantly higher or lower (no polarity);
    5. changing significantly (no polarity), though similar;
    6. significantly better, or improving significantly;
    7. similar and without a significant trend;
    9. no figure.
    """
    if pd.isna(row.get("value")):
        return 9
    results = {row.get("vs_england", ""), row.get("vs_sn", "")}
    direction = _direction(row.get("trend", ""))
    verdict = _verdict(direction, entry["polarity"])
    worse = "worse" in results or row.get("target_status") == "off track"
    differs = bool(results & {"higher", "lower"})
    if worse:
        return 0 if verdict == "worse" else 1
    if verdict == "worse":
        return 2
    if differs:
        return 3 if direction else 4
    if direction and not verdict:
        return 5
    return 6 if "better" in results or verdict == "better" else 7


def key_findings(rows: pd.DataFrame, reg: dict, la_name: str, n: int = 5, confidence: float = 0.95,
                 history: pd.DataFrame | None = None) -> list[str]:
    """The ``n`` findings that most need a reader's attention, as sentences, most important first.

    Parameters
    ----------
    rows : pandas.DataFrame
        The LA's rows for the latest year, one per indicator (benchmarked table columns).
    reg : dict
        The registry.
    la_name : str
    n : int
        How many findings.
    confidence : float
        The confidence level of the comparisons (said in the sentences when not 95%).
    history : pandas.DataFrame, optional
        The benchmarked table (or the LA's rows of it, all years): the trend windows and the gap tests.

    Notes
    -----
    Order: :func:`priority` (significant and worsening before stable and similar), then the number of
    comparators the LA is significantly worse than, then registry order. Each finding is :func:`finding`.
    """
    order = list(reg)
    scored = []
    for _, row in rows.iterrows():  # one row per indicator (a few dozen), not data rows
        entry = reg[row["indicator"]]
        worse = -sum(row.get(c) == "worse" for c in ("vs_england", "vs_sn"))
        scored.append(((priority(row, entry), worse, order.index(row["indicator"])),
                       finding(row, entry, la_name, confidence, history)))
    scored.sort(key=lambda s: s[0])
    return [text for _, text in scored[:n]]
