"""Indicators (counts of children) from child-level returns, for any period end date.

DfE publishes the children-looked-after and children-in-need figures once a year, for 31 March. The
quarterly run needs the same counts at other dates, so this module computes them from the council's own
SSDA903 and CIN census records (read by :func:`analysis.read.returns.read_returns`).

Periods and labels
------------------
Quarters are **financial-year** quarters labelled by the year the financial year starts:
``"2024Q1"`` = April-June 2024 (ends 30/06/2024), ``"2024Q2"`` = July-September (30/09/2024),
``"2024Q3"`` = October-December (31/12/2024), ``"2024Q4"`` = January-March 2025 (ends 31/03/2025).
So the DfE year "2024-25" ends with quarter ``"2024Q4"``. A period end that is not a quarter end is
labelled by its ISO date (``"2024-05-15"``).

Definitions (each child counted at most once per measure and period end ``d``)
-----------------------------------------------------------------------------
"On the date" means at the end of day ``d``: an episode is open on ``d`` when it started on or before
``d`` and has no end date or ends **after** ``d``. An episode ending on 31 March is therefore not open at
31 March (DfE's convention for "looked after at 31 March" and "children in need at 31 March"). "In the 12
months ending ``d``" means the window (``d`` - 12 months, ``d``], e.g. 01/04/2024-31/03/2025 for
31/03/2025.

An SSDA903 episode is counted only if its legal status is not V3/V4 (an agreed series of short breaks;
DfE leaves these out of its looked-after counts) and it effectively ends at the earlier of DEC and the
child's 18th birthday (from the 903 header DOB; someone born on 29 February turns 18 on 1 March in a
non-leap year). A child with no header row has no known age and is not age-filtered.

``cla_at``
    Children with an episode open on ``d``: DECOM <= d and (DEC blank or DEC > d), not V3/V4, and
    aged under 18 on ``d`` (a child whose 18th birthday is ``d`` is not counted).
``cla_starts_12m``
    Children with an episode with RNE ``S`` and DECOM in the window (not V3/V4, started before 18).
``cla_during_12m``
    Children looked after at any time in the window: an episode (not V3/V4) with DECOM <= d and
    (DEC blank or DEC > d - 12 months), i.e. open at the start of the window or starting in it; a child
    who reached 18 on or before the window start is not counted, one who ceased at 18 during it is.
``missing_children_12m`` / ``missing_episodes_12m`` / ``missing_repeat_children_12m``
    Among the ``cla_during_12m`` children: children with at least one missing episode (MISSING = ``M``;
    ``A`` "away from placement" is not counted) starting in the window; the number of such episodes; the
    children with two or more. An episode that spans ``d`` counts in the period it started.
``cin_at``
    Children with a CIN episode open on ``d`` (CINreferralDate <= d and (CINclosureDate blank or > d)),
    leaving out referrals marked ReferralNFA (no further action): DfE does not count those as episodes
    of need (in the census they close on the day of referral, so they are never open at a date anyway).
    No age filter: as in DfE's CIN tables, unborn children and every age are included.
``cin_starts_12m``
    Children with a CIN episode (not NFA) whose referral date is in the window.
``cp_at`` / ``cp_starts_12m``
    Children with a child protection plan open on ``d`` (CPPstartDate <= d and (CPPendDate blank or
    > d)) / with a plan starting in the window.

Records as read by :func:`analysis.read.returns.read_returns` may still overlap for one child (two CIN episodes, two CP
plans; 903 episodes are made not to overlap when read): every measure takes distinct children per date, so a child
is never counted twice. Missing episodes are counted one by one; exact duplicates are dropped when read.

A measure whose source table is absent is left out of the output (not reported as zero);
:func:`unavailable_measures` says why, from :attr:`analysis.read.returns.Returns.missing_tables`.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.read.returns import SHORT_BREAK_LEGAL_STATUSES, Returns
from analysis.read.sources import OBS_COLUMNS

#: Measures, in output order.
MEASURES = (
    "cla_at",
    "cla_starts_12m",
    "cla_during_12m",
    "missing_children_12m",
    "missing_episodes_12m",
    "missing_repeat_children_12m",
    "cin_at",
    "cin_starts_12m",
    "cp_at",
    "cp_starts_12m",
)
#: The tables each measure needs.
MEASURE_TABLES = {
    "cla_at": ("episodes",),
    "cla_starts_12m": ("episodes",),
    "cla_during_12m": ("episodes",),
    "missing_children_12m": ("episodes", "missing"),
    "missing_episodes_12m": ("episodes", "missing"),
    "missing_repeat_children_12m": ("episodes", "missing"),
    "cin_at": ("cin_details",),
    "cin_starts_12m": ("cin_details",),
    "cp_at": ("cp_plans",),
    "cp_starts_12m": ("cp_plans",),
}
#: Columns of :func:`record_counts` / :func:`record_counts_many`.
RECORD_COUNT_COLUMNS = ["measure", "period", "period_end", "count", "la_code"]
#: The shared observation schema (one row per indicator, period and area): :data:`analysis.read.sources.OBS_COLUMNS`.
OBSERVATION_COLUMNS = list(OBS_COLUMNS)
#: Indicator (ids of ``analysis/indicators.yaml``) -> (numerator measure, denominator measure, or "population"
#: for the 0-17 population).
INDICATORS = {
    "cin_rate": ("cin_at", "population"),
    "cp_rate": ("cp_at", "population"),
    "cla_rate": ("cla_at", "population"),
    "cla_starts_rate": ("cla_starts_12m", "population"),
    "missing_pct": ("missing_children_12m", "cla_during_12m"),
    "missing_incidents": ("missing_episodes_12m", "missing_children_12m"),
    "missing_repeat_pct": ("missing_repeat_children_12m", "missing_children_12m"),
}
LOCAL_RELEASE = "local (unpublished)"

_LABEL = re.compile(r"^\s*(\d{4})\s*Q([1-4])\s*$", re.IGNORECASE)
_QUARTER_MONTH_DAY = {1: (6, 30), 2: (9, 30), 3: (12, 31), 4: (3, 31)}
_NEVER = np.int64(2**40)  # a day number far beyond any real date: "no end date" / "no known 18th birthday"
_CELLS = 4_000_000  # records x dates handled per block


# --- periods -------------------------------------------------------------------------------------------


def quarter_end(label: str) -> dt.date:
    """The last day of a financial-year quarter: ``"2024Q4"`` -> 31/03/2025, ``"2025Q1"`` -> 30/06/2025."""
    m = _LABEL.match(str(label))
    if not m:
        raise ParameterError(f"quarter label {label!r} not understood; expected e.g. '2024Q4' (financial year 2024-25, Jan-Mar 2025)")
    year, q = int(m.group(1)), int(m.group(2))
    month, day = _QUARTER_MONTH_DAY[q]
    return dt.date(year + 1 if q == 4 else year, month, day)


def quarter_label(date) -> str | None:
    """The label of the quarter ending on ``date``, or None if ``date`` is not a quarter end."""
    d = _to_timestamp(date)
    if (d.month, d.day) not in {(6, 30), (9, 30), (12, 31), (3, 31)}:
        return None
    fy = d.year - 1 if d.month == 3 else d.year
    q = {6: 1, 9: 2, 12: 3, 3: 4}[d.month]
    return f"{fy}Q{q}"


def period_label(date) -> str:
    """A quarter label for a quarter end, otherwise the ISO date (``"2024-05-15"``)."""
    return quarter_label(date) or _to_timestamp(date).date().isoformat()


def latest_complete_quarter(today=None) -> str:
    """The label of the latest quarter that has ended before ``today`` (default: today).

    A quarter is complete from the day after its last day: on 30/06/2025 the latest complete quarter
    is ``"2024Q4"``; on 01/07/2025 it is ``"2025Q1"``.
    """
    t = pd.Timestamp(dt.date.today() if today is None else _to_timestamp(today)).normalize()
    fy = t.year if t.month >= 4 else t.year - 1
    candidates = [f"{y}Q{q}" for y in (fy - 1, fy) for q in (1, 2, 3, 4)]
    done = [c for c in candidates if pd.Timestamp(quarter_end(c)) < t]
    return done[-1]


def quarter_ends(start_label: str, end_label: str) -> list[dt.date]:
    """Quarter end dates from ``start_label`` to ``end_label`` inclusive, in order."""
    first, last = pd.Timestamp(quarter_end(start_label)), pd.Timestamp(quarter_end(end_label))
    if last < first:
        raise ParameterError(f"quarter {end_label!r} is before {start_label!r}")
    ends = pd.date_range(first, last, freq="QE-DEC")  # quarter ends fall on Mar/Jun/Sep/Dec month ends
    return [d.date() for d in ends]


def _to_timestamp(value) -> pd.Timestamp:
    if isinstance(value, str):
        text = value.strip()
        if _LABEL.match(text):
            return pd.Timestamp(quarter_end(text))
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return pd.Timestamp(dt.datetime.strptime(text, fmt))
            except ValueError:
                pass
        raise ParameterError(f"period end {value!r} not understood; give a date (2025-03-31 or 31/03/2025) or a quarter label (2024Q4)")
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ParameterError(f"period end {value!r} is not a date") from None
    if pd.isna(ts):
        raise ParameterError("period end is missing")
    return ts.tz_localize(None).normalize() if ts.tzinfo else ts.normalize()


# --- counting ----------------------------------------------------------------------------------------


def unavailable_measures(returns: Returns) -> dict[str, str]:
    """Measures that cannot be computed, with the reason (from ``returns.missing_tables``)."""
    out = {}
    for measure in MEASURES:
        absent = [t for t in MEASURE_TABLES[measure] if not returns.has(t)]
        if absent:
            out[measure] = "; ".join(returns.missing_tables.get(t, f"table {t} absent") for t in absent)
    return out


def record_counts(returns: Returns, period_end, la_code: str) -> pd.DataFrame:
    """Counts for one period end date. See the module docstring for definitions.

    Returns
    -------
    DataFrame with columns ``measure, period, period_end, count, la_code``, one row per available
    measure (``period_end`` is a datetime64 day; ``count`` int64; ``period`` as :func:`period_label`).
    """
    return record_counts_many(returns, [period_end], la_code)


def record_counts_many(returns: Returns, period_ends, la_code: str) -> pd.DataFrame:
    """Counts for many period end dates at once (vectorised over records x dates).

    ``period_ends`` may hold dates, timestamps, ISO / dd/mm/yyyy strings or quarter labels; duplicates
    are dropped and the output is sorted by period end, then by :data:`MEASURES` order.
    """
    ends = pd.DatetimeIndex(sorted({_to_timestamp(p) for p in period_ends}))
    if len(ends) == 0:
        raise ParameterError("no period end dates given")
    d = _day_numbers(ends)
    ws = _day_numbers(ends - pd.DateOffset(years=1))
    counts: dict[str, np.ndarray] = {}
    if returns.episodes is not None:
        counts.update(_cla_counts(returns, d, ws))
    if returns.cin_details is not None:
        counts.update(_interval_measures(returns.cin_details, "LAchildID", "CINreferralDate", "CINclosureDate",
                                         d, ws, "cin", exclude=returns.cin_details["ReferralNFA"].to_numpy(bool)))
    if returns.cp_plans is not None:
        counts.update(_interval_measures(returns.cp_plans, "LAchildID", "CPPstartDate", "CPPendDate", d, ws, "cp"))
    measures = [m for m in MEASURES if m in counts]
    labels = [period_label(e) for e in ends]
    m = len(ends)
    out = pd.DataFrame(
        {
            "measure": np.tile(np.array(measures, dtype=object), m),
            "period": np.repeat(np.array(labels, dtype=object), len(measures)),
            "period_end": np.repeat(ends.to_numpy(dtype="datetime64[ns]"), len(measures)),
            "count": np.stack([counts[x] for x in measures], axis=1).reshape(-1).astype(np.int64)
            if measures else np.empty(0, np.int64),
            "la_code": str(la_code),
        },
        columns=RECORD_COUNT_COLUMNS,
    )
    out["measure"] = out["measure"].astype("str")
    out["period"] = out["period"].astype("str")
    return out


def _day_numbers(values, fill=None) -> np.ndarray:
    """Days since 1970-01-01 as int64; NaT -> ``fill`` (default: error-free sentinel _NEVER)."""
    arr = np.asarray(values, dtype="datetime64[ns]")
    days = arr.astype("datetime64[D]").astype(np.int64)
    nat = np.isnat(arr)
    if nat.any():
        days[nat] = _NEVER if fill is None else fill
    return days


def _active_keys(child, start, end, lo, hi, nchild) -> np.ndarray:
    """Key ``j * nchild + child_i`` for each record i and date j with start_i <= hi_j and end_i > lo_j.

    Computed in blocks of records x dates with numpy broadcasting (no per-child loop).
    """
    n, m = len(child), len(lo)
    if n == 0:
        return np.empty(0, np.int64)
    block = max(1, _CELLS // m)
    keys = []
    for s in range(0, n, block):
        sl = slice(s, s + block)
        hit = (start[sl, None] <= hi[None, :]) & (end[sl, None] > lo[None, :])
        i, j = np.nonzero(hit)
        keys.append(j.astype(np.int64) * nchild + child[sl][i])
    return np.concatenate(keys)


def _distinct(keys: np.ndarray, counts: bool = False):
    """Sorted distinct keys (and how often each occurs): a sort and a comparison with the neighbour.

    numpy 2.4's hash-based ``np.unique`` is several times slower than this on tens of millions of int64 keys.
    """
    keys = np.sort(keys, kind="stable")
    if len(keys) == 0:
        return (keys, np.zeros(0, dtype=np.int64)) if counts else keys
    first = np.empty(len(keys), dtype=bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    uniq = keys[first]
    if not counts:
        return uniq
    starts = np.flatnonzero(first)
    return uniq, np.diff(np.append(starts, len(keys)))


def _distinct_per_date(keys, nchild, m) -> np.ndarray:
    return np.bincount(_distinct(keys) // nchild, minlength=m).astype(np.int64)


def _eighteenth_birthday(dob: pd.Series) -> pd.Series:
    """18th birthday; for 29 February births, 1 March when the 18th year is not a leap year."""
    year = dob.dt.year + 18
    month, day = dob.dt.month, dob.dt.day
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    fix = (month == 2) & (day == 29) & ~leap
    month, day = month.where(~fix, 3), day.where(~fix, 1)
    ok = dob.notna()
    out = pd.Series(pd.NaT, index=dob.index, dtype="datetime64[ns]")
    if ok.any():
        out[ok] = pd.to_datetime(
            pd.DataFrame({"year": year[ok].astype(int), "month": month[ok].astype(int), "day": day[ok].astype(int)})
        ).astype("datetime64[ns]")
    return out


def _cla_counts(returns: Returns, d, ws) -> dict[str, np.ndarray]:
    eps = returns.episodes
    mis = returns.missing
    ids = [eps["CHILD"]]
    if mis is not None:
        ids.append(mis["CHILD"])
    codes, uniques = pd.factorize(pd.concat(ids, ignore_index=True))
    nchild = max(len(uniques), 1)
    child = codes[: len(eps)].astype(np.int64)

    b18 = np.full(nchild, _NEVER, dtype=np.int64)
    if returns.header is not None:
        head = returns.header.drop_duplicates("CHILD", keep="first")
        pos = uniques.get_indexer(head["CHILD"])
        known = pos >= 0
        b18[pos[known]] = _day_numbers(_eighteenth_birthday(head["DOB"]).to_numpy()[known])
    start = _day_numbers(eps["DECOM"])
    dec = _day_numbers(eps["DEC"])
    eb18 = b18[child]
    keep = ~eps["LS"].isin(SHORT_BREAK_LEGAL_STATUSES).to_numpy(bool) & (start < eb18)
    end_eff = np.minimum(dec, eb18)
    c, s, e = child[keep], start[keep], end_eff[keep]
    m = len(d)
    at = _active_keys(c, s, e, d, d, nchild)
    during = _distinct(_active_keys(c, s, e, ws, d, nchild))
    new = keep & (eps["RNE"] == "S").to_numpy(bool)
    starts = _active_keys(child[new], start[new], start[new], ws, d, nchild)
    out = {
        "cla_at": _distinct_per_date(at, nchild, m),
        "cla_starts_12m": _distinct_per_date(starts, nchild, m),
        "cla_during_12m": np.bincount(during // nchild, minlength=m).astype(np.int64),
    }
    if mis is not None:
        away = (mis["MISSING"] == "M").to_numpy(bool)
        mchild = codes[len(eps):].astype(np.int64)[away]
        mstart = _day_numbers(mis["MIS_START"])[away]
        keys = _active_keys(mchild, mstart, mstart, ws, d, nchild)  # one key per episode and period
        pos = np.searchsorted(during, keys)  # ``during`` is sorted and distinct
        keys = keys[(pos < len(during)) & (during[np.minimum(pos, len(during) - 1)] == keys)] if len(during) else keys[:0]
        uniq, per_child = _distinct(keys, counts=True)
        out["missing_children_12m"] = np.bincount(uniq // nchild, minlength=m).astype(np.int64)
        out["missing_episodes_12m"] = np.bincount(keys // nchild, minlength=m).astype(np.int64)
        out["missing_repeat_children_12m"] = np.bincount(uniq[per_child >= 2] // nchild, minlength=m).astype(np.int64)
    return out


def _interval_measures(table, id_col, start_col, end_col, d, ws, prefix, exclude=None) -> dict[str, np.ndarray]:
    codes, uniques = pd.factorize(table[id_col])
    nchild = max(len(uniques), 1)
    child = codes.astype(np.int64)
    start = _day_numbers(table[start_col])
    end = _day_numbers(table[end_col])
    if exclude is not None:
        child, start, end = child[~exclude], start[~exclude], end[~exclude]
    m = len(d)
    return {
        f"{prefix}_at": _distinct_per_date(_active_keys(child, start, end, d, d, nchild), nchild, m),
        f"{prefix}_starts_12m": _distinct_per_date(_active_keys(child, start, start, ws, d, nchild), nchild, m),
    }


# --- observations --------------------------------------------------------------------------------------


def record_observations(
    counts: pd.DataFrame,
    population=None,
    *,
    area_code: str | None = None,
    area_name: str = "",
    old_la_code: str = "",
    region_code: str = "",
    region_name: str = "",
    source_file: str = "",
    population_vintage: str = "",
    geographic_level: str = "Local authority",
    release: str = LOCAL_RELEASE,
) -> pd.DataFrame:
    """Counts from :func:`record_counts_many` as rows of the shared observation schema.

    Indicators (see :data:`INDICATORS`): ``cla_rate``, ``cp_rate``, ``cin_rate`` and ``cla_starts_rate``
    have the count as numerator and the 0-17 ``population`` as denominator (``denominator_kind``
    "population"); ``population`` is a number, or a mapping / Series from period label to number, or None
    to leave the denominator NaN for :func:`analysis.read.population.attach_denominators` to fill.
    ``missing_pct`` is missing_children_12m / cla_during_12m, ``missing_incidents`` missing_episodes_12m /
    missing_children_12m and ``missing_repeat_pct`` missing_repeat_children_12m / missing_children_12m
    (``denominator_kind`` "file"). Only numerator and denominator are given (the caller computes the
    value); ``time_period`` is the period label (``"2024Q4"``), ``published_value`` NaN, ``status`` "",
    ``data_kind`` "local", ``release`` "local (unpublished)". An indicator whose measures are absent
    from ``counts`` is left out. ``area_code`` defaults to the counts' ``la_code``.
    """
    missing_cols = [c for c in RECORD_COUNT_COLUMNS if c not in counts.columns]
    if missing_cols:
        raise ParameterError(f"counts lack column(s) {', '.join(missing_cols)}; pass the output of record_counts")
    wide = counts.pivot_table(index=["period", "period_end", "la_code"], columns="measure", values="count", aggfunc="sum")
    wide = wide.reset_index()
    frames = []
    for indicator, (num, den) in INDICATORS.items():
        if num not in wide.columns:
            continue
        if den == "population":
            kind = "population"
            denominator = (np.full(len(wide), np.nan) if population is None
                           else _population_for(wide["period"], population))
        elif den in wide.columns:
            kind = "file"
            denominator = wide[den].astype(float)
        else:
            continue
        frames.append(
            pd.DataFrame(
                {
                    "indicator": indicator,
                    "time_period": wide["period"].astype(str),
                    "period_end": wide["period_end"],
                    "area_code": wide["la_code"].astype(str) if area_code is None else area_code,
                    "numerator": wide[num].astype(float),
                    "denominator": np.asarray(denominator, dtype=float),
                    "denominator_kind": kind,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=OBSERVATION_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["geographic_level"] = geographic_level
    out["old_la_code"] = old_la_code
    out["area_name"] = area_name
    out["region_code"] = region_code
    out["region_name"] = region_name
    out["published_value"] = np.nan
    out["status"] = ""
    out["source_file"] = source_file
    out["release"] = release
    out["population_vintage"] = population_vintage
    out["data_kind"] = "local"
    out["value_basis"] = "computed"  # counts from records; the value is ours
    out["period_label"] = out["time_period"]
    out["year_type"] = "quarter"
    return out[OBSERVATION_COLUMNS]


def _population_for(periods: pd.Series, population) -> np.ndarray:
    if isinstance(population, (int, float, np.integer, np.floating)):
        return np.full(len(periods), float(population))
    lookup = dict(population.items()) if hasattr(population, "items") else None
    if lookup is None:
        raise ParameterError("population must be a number or a mapping from period label to number")
    return np.array([float(lookup.get(p, np.nan)) for p in periods], dtype=float)


__all__ = [
    "MEASURES",
    "MEASURE_TABLES",
    "RECORD_COUNT_COLUMNS",
    "OBSERVATION_COLUMNS",
    "INDICATORS",
    "quarter_end",
    "quarter_label",
    "period_label",
    "latest_complete_quarter",
    "quarter_ends",
    "unavailable_measures",
    "record_counts",
    "record_counts_many",
    "record_observations",
]
