"""Plain-English sentences built from the numbers: every figure in them comes from the benchmarked table.

Wording follows the comparison rules of :mod:`analysis.indicators.benchmark`: "significantly" means the comparator lies
outside the area's confidence interval; where the indicator has no polarity we say higher or lower, never better or
worse.
"""

from __future__ import annotations

import pandas as pd

from analysis.numbers import format_values

ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd"}


def ordinal(n: int) -> str:
    """1 -> 1st, 2 -> 2nd, 11 -> 11th, 23 -> 23rd."""
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else ORDINAL_SUFFIX.get(n % 10, "th")
    return f"{n}{suffix}"


def fmt(value, decimals: int, status: str = "") -> str:
    """One number as readers see it (DfE rounding, thousands separators, symbol if missing)."""
    return format_values([value], [decimals], [status or ""]).iloc[0]


def with_unit(value, entry: dict, status: str = "") -> str:
    """``132 per 10,000 children aged 0-17``, ``12.9%``, ``8.6 incidents per child who went missing``."""
    text = fmt(value, entry["decimals"], status)
    if text in ("c", "x", "z", "k", "u", "low", ":"):
        return text
    return f"{text}%" if entry["unit"] == "%" else f"{text} {entry['unit']}"


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
    return {
        "higher": "significantly higher than",
        "lower": "significantly lower than",
        "better": "significantly better than",
        "worse": "significantly worse than",
        "similar": "not significantly different from",
    }.get(result, "")


def comparison_sentence(row: pd.Series, entry: dict, la_name: str, confidence: float = 0.95) -> str:
    """The LA's latest value against its neighbours and England, in one sentence.

    Example: "Stockton-on-Tees' rate of children looked after at 31 March 2024, 132 per 10,000 children aged 0-17,
    is significantly higher than its statistical neighbours' average (101) and England (70)."
    """
    subject = f"{possessive(la_name)} figure for {as_noun(entry['short_title'])} in {row['time_period']}"
    if pd.isna(row["value"]):
        reason = {"c": "suppressed to protect confidentiality", "x": "not available", "z": "not applicable",
                  "u": "of low reliability and not published"}.get(row.get("status", ""), "not available")
        return f"{subject} is {reason} ({row.get('status') or 'x'}), so it cannot be compared."
    value = with_unit(row["value"], entry)
    parts = []
    sn_text = fmt(row["sn_mean"], entry["decimals"]) if pd.notna(row.get("sn_mean")) else None
    en_text = fmt(row["england_value"], entry["decimals"]) if pd.notna(row.get("england_value")) else None
    comps = []
    if sn_text and row.get("vs_sn") in ("higher", "lower", "better", "worse", "similar"):
        comps.append((row["vs_sn"], f"its statistical neighbours' average ({sn_text})"))
    if en_text and row.get("vs_england") in ("higher", "lower", "better", "worse", "similar"):
        comps.append((row["vs_england"], f"England ({en_text})"))
    if not comps:
        return f"{subject} was {value}."
    if len(comps) == 2 and comps[0][0] == comps[1][0]:
        parts.append(f"{_judgement(comps[0][0])} {comps[0][1]} and {comps[1][1]}")
    else:
        parts.extend(f"{_judgement(r)} {what}" for r, what in comps)
    level = "" if abs(confidence - 0.95) < 1e-9 else f" (at {confidence * 100:g}% confidence)"
    return f"{subject} was {value}, {', and '.join(parts)}{level}."


def trend_sentence(row: pd.Series, entry: dict) -> str:
    """Change on the year before and the five-year trend, in words."""
    out = []
    if pd.notna(row.get("previous_value")) and pd.notna(row.get("value")):
        prev = fmt(row["previous_value"], entry["decimals"])
        now = fmt(row["value"], entry["decimals"])
        year = int(row["time_period"]) - 1 if str(row["time_period"]).isdigit() else "the year before"
        if prev == now:
            out.append(f"It was the same ({now}) in {year}.")
        else:
            direction = "up" if row["value"] > row["previous_value"] else "down"
            out.append(f"It was {prev} in {year}, so it is {direction} by {fmt(abs(row['value'] - row['previous_value']), entry['decimals'])}.")
    trend = row.get("trend", "")
    if trend == "increasing":
        out.append("Over the last five years it has risen significantly.")
    elif trend == "decreasing":
        out.append("Over the last five years it has fallen significantly.")
    elif trend == "no significant change":
        out.append("Over the last five years there has been no significant change.")
    return " ".join(out)


def rank_sentence(row: pd.Series) -> str:
    """Rank and quartile band among LAs."""
    if pd.isna(row.get("rank")) or pd.isna(row.get("rank_of")):
        return ""
    band = row.get("quartile_band", "")
    band_words = {"A": "the lowest quarter", "B": "the second-lowest quarter", "C": "the second-highest quarter",
                  "D": "the highest quarter"}.get(band, "")
    text = f"It ranks {ordinal(row['rank'])} of {int(row['rank_of'])} local authorities (1st is the lowest value)"
    return text + (f", in {band_words} (band {band})." if band_words else ".")


def target_sentence(row: pd.Series, entry: dict) -> str:
    """The council's own target and whether the latest figure meets it."""
    if pd.isna(row.get("target")) or not row.get("target_status"):
        return ""
    direction = "or higher" if row.get("target_direction") == "higher" else "or lower"
    tgt = with_unit(row["target"], entry)
    return f"The council's target is {tgt} {direction}: it is {row['target_status']}."


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


def paragraph(row: pd.Series, entry: dict, la_name: str, confidence: float = 0.95) -> str:
    """All the sentences for one indicator, in reading order."""
    parts = [comparison_sentence(row, entry, la_name, confidence), trend_sentence(row, entry), rank_sentence(row),
             target_sentence(row, entry)]
    return " ".join(p for p in parts if p)


_PRIORITY = {"worse": 0, "off track": 0, "higher": 2, "lower": 2, "better": 3, "similar": 5, "on track": 4}


def key_findings(rows: pd.DataFrame, reg: dict, la_name: str, n: int = 5, confidence: float = 0.95) -> list[str]:
    """The ``n`` findings that most need a reader's attention, as sentences.

    Parameters
    ----------
    rows : pandas.DataFrame
        The LA's rows for the latest year, one per indicator (benchmarked table columns).
    reg : dict
        The registry.
    la_name : str
    n : int
        How many findings.

    Notes
    -----
    Order: off-track targets and significantly worse results first, then significant differences without polarity
    (the council's high-intervention story), then significant trends, then better results, then the rest; within a
    level, registry order. Each finding is the indicator's comparison sentence, with its target or trend sentence
    where that is what makes it notable.
    """
    scored = []
    for _, row in rows.iterrows():  # one row per indicator (a few dozen), not data rows
        entry = reg[row["indicator"]]
        levels = [_PRIORITY.get(row.get("vs_england", ""), 6), _PRIORITY.get(row.get("vs_sn", ""), 6) + 0.5,
                  _PRIORITY.get(row.get("target_status", ""), 6)]
        if row.get("trend") in ("increasing", "decreasing"):
            levels.append(3.5)
        score = min(levels)
        if pd.isna(row.get("value")):
            score = 9
        text = comparison_sentence(row, entry, la_name, confidence)
        if row.get("target_status"):
            text += " " + target_sentence(row, entry)
        elif row.get("trend") in ("increasing", "decreasing"):
            text += " " + trend_sentence(row, entry).split(". ")[-1]
        scored.append((score, list(reg).index(row["indicator"]), text))
    scored.sort(key=lambda s: (s[0], s[1]))
    return [text for _, _, text in scored[:n]]
