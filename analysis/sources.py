"""Readers for the official published files: DfE explore-education-statistics CSVs and the ONS population.

Files are recognised by their columns, never by their names. Every reader validates at the edge and raises
:class:`analysis.errors.InputError` naming the file, column and row, so nothing downstream meets a bad value.

The indicators a file yields are defined in ``indicators.yaml`` (the registry); this module knows only the layouts.
Everything normalises to one long table of *observations* (:data:`OBS_COLUMNS`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import areas
from .errors import InputError

#: The published symbols (DfE conventions) and what they mean.
SYMBOLS = {
    "c": "suppressed to protect confidentiality",
    "x": "not available",
    "z": "not applicable",
    "k": "rounds to zero, but is not zero",
    "u": "low reliability",
    "low": "rounds to zero, but is not zero",
    ":": "not available",
}

#: The columns of the long observations table, in order.
OBS_COLUMNS = [
    "indicator", "time_period", "period_end", "geographic_level", "area_code", "old_la_code", "area_name",
    "region_code", "region_name", "numerator", "denominator", "published_value", "status", "denominator_kind",
    "source_file", "release", "population_vintage", "data_kind",
]

GEO_COLUMNS = ["time_period", "geographic_level", "country_code", "region_code", "region_name", "old_la_code",
               "new_la_code", "la_name"]


@dataclass(frozen=True)
class Layout:
    """A file layout: the columns that identify it and how its rows are keyed.

    ``required`` are canonical column names; ``aliases`` maps a canonical name to other names DfE has used for it in
    other releases. ``keys`` are the category columns of a long layout (empty for a wide one).
    """

    name: str
    publication: str
    required: tuple[str, ...]
    keys: tuple[str, ...] = ()
    aliases: dict = field(default_factory=dict)
    period: str = "financial"
    geography: bool = True


LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in [
    Layout("cin_b1", "Characteristics of children in need, table B1",
           ("At31_episodes", "At31_episodes_rate"),
           aliases={"At31_episodes": ("at31_episodes", "CIN_at31", "cin_at31_episodes"),
                    "At31_episodes_rate": ("at31_episodes_rate", "CIN_at31_rate", "cin_at31_rate")}),
    Layout("cp_d5", "Characteristics of children in need, table D5 (child protection plans at 31 March)",
           ("CPP_At31",), aliases={"CPP_At31": ("CPP_at31", "cpp_at31", "CPP_at_31", "cpp_at_31march")}),
    Layout("cp_d3", "Characteristics of children in need, table D3 (second or subsequent child protection plans)",
           ("CPP_start", "CPP_subsequent"), aliases={"CPP_start": ("cpp_starts",), "CPP_subsequent": ("cpp_second",)}),
    Layout("cin_c1", "Characteristics of children in need, table C1 (referrals and re-referrals)",
           ("referral_count", "rereferral_count"), aliases={"referral_count": ("referrals",),
                                                            "rereferral_count": ("rereferrals", "re_referral_count")}),
    Layout("cla_rates", "Children looked after in England including adoptions: numbers and rates per 10,000",
           ("cla_category", "number", "population_estimate", "rate_per_10000"), keys=("cla_category",),
           aliases={"cla_category": ("population_count", "cla_group", "characteristic"),
                    "rate_per_10000": ("rate_per_10k", "rate_per_10_000", "rate")}),
    Layout("cla_missing", "Children looked after in England: missing or away from placement without authorisation",
           ("CLA_group", "number"), keys=("CLA_group",), aliases={"CLA_group": ("cla_group", "missing_group")}),
    Layout("placement_stability", "Children looked after in England: placement stability",
           ("cla_group", "placement_stability", "children_count"), keys=("cla_group", "placement_stability"),
           aliases={"children_count": ("number",)}),
    Layout("care_leavers", "Children looked after in England: care leavers' activity and accommodation",
           ("care_leaver_age", "breakdown", "care_leaver_count"), keys=("care_leaver_age", "breakdown"),
           aliases={"care_leaver_count": ("number",)}),
    Layout("neet", "Participation in education, training and NEET age 16 to 17 by local authority",
           ("NEET_not_known_percent", "NEET_percent", "Cohort_DJFavg"), period="calendar",
           aliases={"NEET_not_known_percent": ("NEET_NK_percent", "neet_not_known_percent", "NEET_and_not_known_percent"),
                    "NEET_percent": ("neet_percent",),
                    "Cohort_DJFavg": ("cohort_DJF_avg", "Cohort_DJF_avg", "cohort_djfavg", "cohort")}),
    Layout("population", "ONS mid-year population estimates, children aged 0 to 17",
           ("age_group", "population_estimate"), aliases={"population_estimate": ("population", "pop_estimate")}),
    Layout("sn_model", "DfE children's services statistical neighbour benchmarking model",
           ("old_la_code", "la_name") + tuple(f"SN_{i}" for i in range(1, 11)), geography=False),
]}

GEO_ALIASES = {"new_la_code": ("la_code", "new_la_code_9"), "old_la_code": ("la_code_old", "old_la_code_3"),
               "la_name": ("la", "local_authority")}


@dataclass
class RawFile:
    """A file as read: its text table (all strings, header mapped to canonical names) and where it came from."""

    path: Path
    layout: Layout
    table: pd.DataFrame
    sha256: str
    warnings: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


# --------------------------------------------------------------------------------------------------------------------
# Reading text


def _read_text(path: Path) -> tuple[str, str]:
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except OSError as exc:
            raise InputError(path.name, f"is not a readable gzip file ({exc})") from None
    if not raw.strip():
        raise InputError(path.name, "the file is empty; expected a CSV with a header row and data rows")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(path.name, f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start}); "
                                    "save it as CSV UTF-8", row=line) from None
    return text, digest


def _match_columns(columns: list[str], layout: Layout) -> dict[str, str]:
    """Map each canonical name of ``layout`` to the file's column, by name or alias, case-insensitively."""
    lower = {c.lower(): c for c in columns}
    found = {}
    names = set(layout.required) | set(GEO_COLUMNS if layout.geography else ()) | set(layout.aliases)
    for canonical in names:
        for candidate in (canonical, *layout.aliases.get(canonical, ()), *GEO_ALIASES.get(canonical, ())):
            if candidate.lower() in lower:
                found[canonical] = lower[candidate.lower()]
                break
    return found


def detect_layout(columns: list[str], file_name: str) -> tuple[Layout, dict[str, str]]:
    """Recognise a file's layout from its columns.

    Raises
    ------
    InputError
        A required column is missing (when the file is clearly one layout), or the columns fit no known layout; the
        message lists the columns found and those expected.
    """
    scored = []
    for layout in LAYOUTS.values():
        mapping = _match_columns(columns, layout)
        needed = list(layout.required) + (GEO_COLUMNS if layout.geography else [])
        hits = sum(c in mapping for c in needed)
        # A full match beats a partial one; among full matches the most specific layout wins.
        scored.append((hits == len(needed), len(layout.required) if hits == len(needed) else hits / len(needed),
                       layout, mapping))
    full, _, best, best_map = max(scored, key=lambda s: (s[0], s[1]))
    if full:
        return best, best_map
    best_score = max(s[1] for s in scored)
    needed = list(best.required) + (GEO_COLUMNS if best.geography else [])
    missing = [c for c in needed if c not in best_map]
    own = [c for c in best.required if c in best_map]
    if own and best_score >= 0.6:
        raise InputError(file_name, f"required column missing for {best.publication}; expected "
                                    f"{', '.join(missing)} (columns found: {', '.join(columns)})", column=missing[0])
    expected = "; ".join(f"{lay.publication}: {', '.join(lay.required)}" for lay in LAYOUTS.values())
    raise InputError(file_name, f"unknown layout: columns found {', '.join(columns)}; expected one of {expected}")


def read_raw(path: str | Path) -> RawFile:
    """Read one file into strings with canonical column names, after recognising its layout.

    Parameters
    ----------
    path : str or Path
        A CSV (optionally gzip-compressed) from explore-education-statistics, ONS or the DfE neighbour model.

    Returns
    -------
    RawFile
        ``table`` holds every cell as a stripped string, canonical column names, and ``_row``: the line number in
        the file (the header is line 1).

    Raises
    ------
    InputError
        Empty, not UTF-8, unknown layout, a required column missing, a malformed CSV.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path.name, f"no such file: {path}")
    text, digest = _read_text(path)
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        row = re.search(r"line (\d+)", str(exc))
        raise InputError(path.name, f"is not a well-formed CSV ({str(exc).strip()})",
                         row=int(row.group(1)) if row else None) from None
    columns = [str(c).strip().lstrip("\ufeff") for c in table.columns]
    table.columns = columns
    if table.empty:
        raise InputError(path.name, "has a header but no data rows")
    layout, mapping = detect_layout(columns, path.name)
    table = table.rename(columns={actual: canonical for canonical, actual in mapping.items()})
    table = table.loc[:, ~table.columns.duplicated()]
    for col in mapping:  # identifying and key columns; value columns are stripped when parsed
        table[col] = table[col].astype(str).str.strip()
    table["_row"] = np.arange(2, len(table) + 2)
    return RawFile(path, layout, table, digest)


# --------------------------------------------------------------------------------------------------------------------
# Values


def parse_numbers(values: pd.Series, file_name: str, column: str, rows: pd.Series, *, count: bool = False):
    """Parse a column of published values, keeping the DfE symbols as an explicit status.

    Parameters
    ----------
    values : pandas.Series of str
    file_name, column : str
        For error messages.
    rows : pandas.Series of int
        The file line of each value.
    count : bool
        Counts must not be negative.

    Returns
    -------
    (numbers, status) : (pandas.Series of float, pandas.Series of str)
        ``status`` is the symbol (``c``, ``x``, ``z``, ``k``, ``u``, ``low``, ``:``) or ``""``; an empty cell is ``x``.

    Raises
    ------
    InputError
        A value that is neither a number nor a symbol, or a negative count.
    """
    text = values.fillna("").astype(str).str.strip()
    lowered = text.str.lower()
    is_symbol = lowered.isin(SYMBOLS)
    empty = text.eq("")
    numbers = pd.to_numeric(text.where(~is_symbol & ~empty).str.replace(",", "", regex=False), errors="coerce")
    bad = numbers.isna() & ~is_symbol & ~empty
    if bad.any():
        i = bad.idxmax()
        raise InputError(file_name, f"'{text[i]}' is not a number or a published symbol "
                                    f"({', '.join(SYMBOLS)}); expected a number", column=column, row=int(rows[i]))
    if count and (numbers < 0).any():
        i = (numbers < 0).idxmax()
        raise InputError(file_name, f"negative count {text[i]}; expected a count of 0 or more", column=column,
                         row=int(rows[i]))
    status = lowered.where(is_symbol, "").where(~empty, "x")
    return numbers.astype(float), status


def _period_end(time_period: pd.Series, period: str) -> pd.Series:
    year = time_period.astype(int)
    if period == "calendar":  # NEET: the December-February average, dated by the end of February
        return pd.to_datetime(year.astype(str) + "-03-01") - pd.Timedelta(days=1)
    return pd.to_datetime(year.astype(str) + "-03-31")


def _geography(raw: RawFile) -> pd.DataFrame:
    """Area columns for each row: canonical code, name, level and region; rows without codes are dropped."""
    t = raw.table
    level = t["geographic_level"]
    keep = level.isin([areas.LEVEL_LA, areas.LEVEL_REGION, areas.LEVEL_NATIONAL])
    is_la, is_reg, is_nat = level.eq(areas.LEVEL_LA), level.eq(areas.LEVEL_REGION), level.eq(areas.LEVEL_NATIONAL)
    codeless = (is_la & t["new_la_code"].eq("") & t["old_la_code"].eq("")) | (is_reg & t["region_code"].eq(""))
    if (keep & codeless).any():
        dropped = t.loc[keep & codeless]
        raw.warnings.append(f"{raw.name}: ignored {len(dropped)} row(s) with no area code "
                            f"(rows {', '.join(map(str, dropped['_row'].head(5)))}): "
                            f"{', '.join(sorted(set(dropped['la_name'].where(dropped['la_name'] != '', dropped['region_name']))))}")
    keep &= ~codeless
    t = t[keep]
    is_la, is_reg, is_nat = is_la[keep], is_reg[keep], is_nat[keep]
    la_code = areas.canonical_codes(t["old_la_code"], t["new_la_code"])
    lookup = areas.current().set_index("new_la_code")
    out = pd.DataFrame(index=t.index)
    out["geographic_level"] = t["geographic_level"]
    out["area_code"] = np.select([is_la, is_reg], [la_code, t["region_code"]], t["country_code"].replace("", areas.ENGLAND_CODE))
    la_name = la_code.map(lookup["la_name"]).fillna(t["la_name"])
    out["area_name"] = np.select([is_la, is_reg], [la_name, t["region_name"]], areas.ENGLAND_NAME)
    out["old_la_code"] = t["old_la_code"].where(is_la, "")
    region_code = la_code.map(lookup["region_code"]).fillna(t["region_code"])
    region_name = la_code.map(lookup["region_name"]).fillna(t["region_name"])
    out["region_code"] = np.select([is_la, is_reg], [region_code, t["region_code"]], "")
    out["region_name"] = np.select([is_la, is_reg], [region_name, t["region_name"]], "")
    return out


# --------------------------------------------------------------------------------------------------------------------
# Observations


def _spec(entry, what):
    spec = entry.get(what)
    if spec in (None, "population"):
        return spec
    key = spec.get("key")
    if key is not None and not isinstance(key, list):
        key = [key]
    return {"column": spec["column"], "key": key, "from_percent": bool(spec.get("from_percent"))}


def _pivot_long(raw: RawFile, geo: pd.DataFrame) -> pd.DataFrame:
    """Check a long table for duplicate keys; return it restricted to rows with geography."""
    t = raw.table.loc[geo.index]
    ident = [geo["geographic_level"], geo["area_code"], t["time_period"]] + [t[k] for k in raw.layout.keys]
    frame = pd.concat(ident, axis=1, keys=["level", "area", "period", *raw.layout.keys])
    dup = frame.duplicated(keep=False)
    if dup.any():
        rows = t.loc[dup, "_row"].head(2).tolist()
        first = frame[dup].iloc[0]
        raise InputError(raw.name, f"duplicate rows for {geo.loc[dup, 'area_name'].iloc[0]} {first['period']} "
                                   f"({', '.join(str(first[k]) for k in raw.layout.keys)}): rows {rows[0]} and {rows[1]}; "
                                   "expected one row per area, year and category", row=int(rows[1]))
    return t


def _long_values(raw, t, geo, spec, name, count):
    """One value per (area, period) for a long-layout spec: rows matching the key(s), value column parsed."""
    keys = raw.layout.keys
    key = spec["key"]
    if len(key) != len(keys):
        raise ValueError(f"registry key {key} does not fit layout {raw.layout.name} keyed by {keys}")
    mask = np.logical_and.reduce([t[k].str.lower() == str(v).lower() for k, v in zip(keys, key)])
    sub = t[mask]
    if spec["column"] not in sub.columns:
        raise InputError(raw.name, f"required column missing for {name}", column=spec["column"])
    numbers, status = parse_numbers(sub[spec["column"]], raw.name, spec["column"], sub["_row"], count=count)
    frame = pd.DataFrame({"area_code": geo.loc[sub.index, "area_code"], "level": geo.loc[sub.index, "geographic_level"],
                          "time_period": sub["time_period"], "value": numbers, "status": status, "_row": sub["_row"]})
    return frame.set_index(["level", "area_code", "time_period"])


def observations(raw: RawFile, registry: dict, data_kind: str = "published") -> pd.DataFrame:
    """The indicator observations a file yields, one row per indicator, area and period.

    Parameters
    ----------
    raw : RawFile
        From :func:`read_raw`.
    registry : dict
        The indicator registry (:func:`analysis.indicators.registry`).
    data_kind : str
        ``published`` for official files, ``demo`` for the project's demo data.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OBS_COLUMNS`. ``denominator`` is NaN where it is the 0-17 population (``denominator_kind`` is
        ``population``): :func:`analysis.population.attach_denominators` fills it by vintage.

    Raises
    ------
    InputError
        Symbols where numbers are expected, negative counts, a numerator above its denominator for a proportion,
        duplicate rows for one area and year.
    """
    layout = raw.layout
    entries = {k: v for k, v in registry.items() if v["source"] == layout.name}
    if not entries:
        return pd.DataFrame(columns=OBS_COLUMNS)
    geo = _geography(raw)
    t = raw.table.loc[geo.index]
    bad_period = ~t["time_period"].str.fullmatch(r"\d{4}")
    if bad_period.any():
        i = bad_period.idxmax()
        raise InputError(raw.name, f"time period '{t.at[i, 'time_period']}' is not a year; expected e.g. 2024",
                         column="time_period", row=int(t.at[i, "_row"]))
    release = str(t["time_period"].astype(int).max())
    frames = []
    if layout.keys:
        t = _pivot_long(raw, geo)
    else:
        ident = pd.concat([geo["geographic_level"], geo["area_code"], t["time_period"]], axis=1)
        dup = ident.duplicated(keep=False)
        if dup.any():
            rows = t.loc[dup, "_row"].head(2).tolist()
            raise InputError(raw.name, f"duplicate rows for {geo.loc[dup, 'area_name'].iloc[0]} "
                                       f"{t.loc[dup, 'time_period'].iloc[0]}: rows {rows[0]} and {rows[1]}; "
                                       "expected one row per area and year", row=int(rows[1]))
    base = pd.DataFrame({"level": geo["geographic_level"], "area_code": geo["area_code"],
                         "time_period": t["time_period"]}).join(geo.drop(columns=["geographic_level", "area_code"]))
    base = base.drop_duplicates(["level", "area_code", "time_period"]).set_index(["level", "area_code", "time_period"])
    for ind, entry in entries.items():
        num_spec, den_spec, pub_spec = _spec(entry, "numerator"), _spec(entry, "denominator"), _spec(entry, "published")
        proportion = entry["method"] == "proportion"

        def values(spec, count):
            if layout.keys:
                return _long_values(raw, t, geo, spec, ind, count)
            if spec["column"] not in t.columns:
                raise InputError(raw.name, f"required column missing for indicator {ind} ({layout.publication})",
                                 column=spec["column"])
            numbers, status = parse_numbers(t[spec["column"]], raw.name, spec["column"], t["_row"], count=count)
            return pd.DataFrame({"level": geo["geographic_level"], "area_code": geo["area_code"],
                                 "time_period": t["time_period"], "value": numbers, "status": status,
                                 "_row": t["_row"]}).set_index(["level", "area_code", "time_period"])

        num = values(num_spec, count=not num_spec["from_percent"])
        if num.empty:
            continue  # this file holds none of the indicator's categories (e.g. accommodation vs activity)
        frame = base.join(num.rename(columns={"value": "numerator", "status": "num_status", "_row": "num_row"}),
                          how="inner")
        if den_spec == "population":
            frame["denominator"] = np.nan
            frame["den_status"] = ""
            kind = "population"
        else:
            den = values(den_spec, count=True)
            frame = frame.join(den.rename(columns={"value": "denominator", "status": "den_status", "_row": "den_row"}))
            kind = "file"
        if pub_spec:
            pub = values(pub_spec, count=False)
            frame = frame.join(pub.rename(columns={"value": "published_value", "status": "pub_status", "_row": "_p"}))
        else:
            frame["published_value"] = np.nan
            frame["pub_status"] = ""
        if num_spec["from_percent"]:
            frame["numerator"] = frame["numerator"] / 100 * frame["denominator"]
        if proportion:
            over = frame["numerator"] > frame["denominator"] * (1 + 1e-12)
            if over.any():
                r = frame[over].iloc[0]
                raise InputError(raw.name, f"{ind}: numerator {r['numerator']:g} is above its denominator "
                                           f"{r['denominator']:g} for {r['area_name']} {over[over].index[0][2]}; "
                                           "expected a part of the whole", column=num_spec["column"],
                                 row=int(r["num_row"]))
        status = frame["num_status"].fillna("")
        for other in ("den_status", "pub_status"):
            status = status.where(status != "", frame[other].fillna(""))
        frame["status"] = status.where(frame["numerator"].isna() | (status == "u"), "")
        frame = frame.reset_index().rename(columns={"level": "geographic_level"})
        frame["indicator"] = ind
        frame["period_end"] = _period_end(frame["time_period"], entry.get("period", layout.period))
        frame["denominator_kind"] = kind
        frame["source_file"] = raw.name
        frame["release"] = release
        frame["population_vintage"] = ""
        frame["data_kind"] = data_kind
        frames.append(frame[OBS_COLUMNS])
    if not frames:
        return pd.DataFrame(columns=OBS_COLUMNS)
    return pd.concat(frames, ignore_index=True)
