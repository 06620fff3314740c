"""The DfE children's services statistical-neighbour model: each LA's ten closest LAs.

Two layouts are read to the same long table (:data:`NEIGHBOUR_COLUMNS`):

- the current model (layout ``sn_model``, e.g. ``sn_model_2025_wide.csv``): ``old_la_code, la_name, SN_1 .. SN_10``
  and closeness labels ``SN_1P .. SN_10P`` (:func:`from_model`);
- DfE's older groupings (layout ``sn_groupings``, the "LA SN Groups" sheet of the statistical-neighbour workbook saved
  as CSV, as LAIT reads it): ``LA num, LA Name``, then ``SN1 .. SN10`` each followed by its closeness label, headed
  ``SN1P`` or ``SNP`` (``SNP.1`` .. when a spreadsheet tool de-duplicates the repeated header), possibly below title
  lines (:func:`read_groupings`, :func:`from_groupings`).

When a folder holds several models, :func:`choose` picks one by content (see its notes).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

from analysis.read import areas, sources
from analysis.read import files as files_mod
from analysis.errors import InputError

#: The older groupings layout, as the layout catalogue (``layouts.yaml``) defines it.
GROUPINGS = sources.LAYOUTS["sn_groupings"]
MODEL_LAYOUTS = ("sn_model", "sn_groupings")

NEIGHBOUR_COLUMNS = ["area_code", "old_la_code", "area_name", "neighbour_rank", "neighbour_code",
                     "neighbour_old_code", "neighbour_name", "closeness", "source_file"]


def from_model(raw: sources.RawFile) -> pd.DataFrame:
    """Long neighbour table from the wide model file (``old_la_code, la_name, SN_1 .. SN_10, SN_1P ..``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`NEIGHBOUR_COLUMNS`, ten rows per LA, nearest first. Codes are current nine-character codes.

    Raises
    ------
    InputError
        A neighbour code that is not an LA, an LA listed as its own neighbour, or an LA listed twice.
    """
    t = raw.table
    dup = t["old_la_code"].duplicated(keep=False)
    if dup.any():
        rows = t.loc[dup, "_row"].tolist()
        raise InputError(raw.name, f"LA {t.loc[dup, 'old_la_code'].iloc[0]} is listed twice (rows {rows[0]} and "
                                   f"{rows[1]}); expected one row per LA", column="old_la_code", row=rows[1])
    long = t.melt(id_vars=["old_la_code", "la_name", "_row"], value_vars=[f"SN_{i}" for i in range(1, 11)],
                  var_name="slot", value_name="neighbour_old_code")
    long["neighbour_rank"] = long["slot"].str[3:].astype(int)
    closeness_cols = [f"SN_{i}P" for i in range(1, 11)]
    available = [c for c in closeness_cols if c in raw.table.columns]
    if available:
        close = t.melt(id_vars=["old_la_code"], value_vars=available, var_name="slot", value_name="closeness")
        close["neighbour_rank"] = close["slot"].str[3:-1].astype(int)
        long = long.merge(close.drop(columns="slot"), on=["old_la_code", "neighbour_rank"], how="left")
    else:
        long["closeness"] = ""
    known = areas.current().set_index("old_la_code")
    unknown = ~long["neighbour_old_code"].isin(known.index) | ~long["old_la_code"].isin(known.index)
    if unknown.any():
        r = long[unknown].iloc[0]
        bad = r["neighbour_old_code"] if r["neighbour_old_code"] not in known.index else r["old_la_code"]
        raise InputError(raw.name, f"'{bad}' is not a known LA old code; expected a three-digit LA code",
                         column=r["slot"] if bad == r["neighbour_old_code"] else "old_la_code", row=int(r["_row"]))
    own = long["neighbour_old_code"] == long["old_la_code"]
    if own.any():
        r = long[own].iloc[0]
        raise InputError(raw.name, f"{r['la_name']} is listed as its own neighbour", column=r["slot"],
                         row=int(r["_row"]))
    long["area_code"] = long["old_la_code"].map(known["new_la_code"])
    long["area_name"] = long["old_la_code"].map(known["la_name"])
    long["neighbour_code"] = long["neighbour_old_code"].map(known["new_la_code"])
    long["neighbour_name"] = long["neighbour_old_code"].map(known["la_name"])
    long["closeness"] = long["closeness"].fillna("").str.strip()
    long["source_file"] = raw.name
    return long.sort_values(["area_code", "neighbour_rank"]).reset_index(drop=True)[NEIGHBOUR_COLUMNS]


_CODE_COLUMNS = ("la num", "la_num", "old_la_code", "la code", "la_code")
_NAME_COLUMNS = ("la name", "la_name", "local authority", "la")


def _header_line(lines: list[str]) -> int | None:
    """Index of the groupings header among the first lines (``LA num`` and ``SN1`` in one line), or None."""
    for i, line in enumerate(lines[:12]):
        cells = [c.strip().strip('"').lower() for c in line.split(",")]
        if any(c in ("la num", "la_num") for c in cells) and "sn1" in cells:
            return i
    return None


def is_groupings(text: str) -> bool:
    """True when a file's first lines hold the older groupings header (``LA num`` ... ``SN1``)."""
    return _header_line(text[:20_000].splitlines()) is not None


def read_groupings(path, text: str | None = None) -> sources.RawFile:
    """Read a file in DfE's older groupings layout (see the module notes) into a :class:`analysis.read.sources.RawFile`.

    Parameters
    ----------
    path : str or Path
        The CSV (title lines above the header are skipped).
    text : str, optional
        The file's decoded text, when already read.

    Returns
    -------
    RawFile
        Layout :data:`GROUPINGS`; the table has the file's columns (stripped) and ``_row``, the file line number.

    Raises
    ------
    InputError
        Not readable as text, no ``LA num`` / ``SN1`` header in the first lines, or not a well-formed CSV.
    """
    path = Path(path)
    if text is None:
        text, digest = sources._read_text(path)
    else:
        digest = files_mod.sha256(path)
    lines = text.splitlines()
    header = _header_line(lines)
    if header is None:
        raise InputError(path.name, "no header with 'LA num' and 'SN1' in the first lines; expected DfE's statistical "
                                    "neighbour groupings (LA num, LA Name, SN1, SN1P, ... SN10)")
    try:
        table = pd.read_csv(io.StringIO(text), skiprows=header, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path.name, f"is not a well-formed CSV ({str(exc).strip()})") from None
    table.columns = [str(c).strip().lstrip("\ufeff") for c in table.columns]
    table["_row"] = range(header + 2, header + 2 + len(table))
    return sources.RawFile(path, GROUPINGS, table, digest)


def _groupings_columns(columns: list[str]) -> dict[str, str]:
    """Map the file's columns to ``old_la_code, la_name, SN_k, SN_kP`` (the current model's names)."""
    lower = {c.lower(): c for c in columns}
    found = {}
    for canonical, options in (("old_la_code", _CODE_COLUMNS), ("la_name", _NAME_COLUMNS)):
        hit = next((lower[o] for o in options if o in lower), None)
        if hit is not None:
            found[canonical] = hit
    position = {c: i for i, c in enumerate(columns)}
    for k in range(1, 11):
        sn = next((lower[o] for o in (f"sn{k}", f"sn_{k}", f"sn {k}") if o in lower), None)
        if sn is None:
            continue
        found[f"SN_{k}"] = sn
        close = next((lower[o] for o in (f"sn{k}p", f"sn_{k}p", f"snp{k}", f"snp_{k}") if o in lower), None)
        if close is None:  # the label right after the neighbour, headed SNP (SNP.1, ... once de-duplicated)
            nxt = columns[position[sn] + 1] if position[sn] + 1 < len(columns) else ""
            if re.fullmatch(r"snp(\.\d+)?", nxt.lower()):
                close = nxt
        if close is not None:
            found[f"SN_{k}P"] = close
    return found


def from_groupings(raw: sources.RawFile) -> pd.DataFrame:
    """Long neighbour table from DfE's older groupings layout (``LA num, LA Name, SN1, SN1P/SNP, ... SN10``).

    Parameters
    ----------
    raw : RawFile
        From :func:`read_groupings` (or the layout catalogue's ``sn_groupings`` reader).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`NEIGHBOUR_COLUMNS`, exactly as :func:`from_model` gives for the same neighbours.

    Raises
    ------
    InputError
        A missing ``LA num`` or ``SN1`` .. ``SN10`` column, an LA number that is not a three-digit code, and every
        check of :func:`from_model`.
    """
    t = raw.table
    columns = [c for c in t.columns if c != "_row"]
    found = _groupings_columns(columns)
    need = ["old_la_code", "la_name"] + [f"SN_{k}" for k in range(1, 11)]
    missing = [n for n in need if n not in found]
    if missing:
        names = {"old_la_code": "LA num", "la_name": "LA Name"}
        wanted = [names.get(m, m.replace("_", "")) for m in missing]
        raise InputError(raw.name, f"required column missing for {GROUPINGS.publication}; expected "
                                   f"{', '.join(wanted)}", column=wanted[0])
    out = pd.DataFrame({canonical: t[actual].astype(str).str.strip() for canonical, actual in found.items()})
    out["_row"] = t["_row"].to_numpy()
    out = out[out["old_la_code"].ne("")]  # blank lines under the table
    codes = [c for c in out.columns if c == "old_la_code" or re.fullmatch(r"SN_\d+", c)]
    for col in codes:  # a spreadsheet may have saved 301 as 301.0
        out[col] = out[col].str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
        bad = ~out[col].str.fullmatch(r"\d{3}")
        if bad.any():
            r = out[bad].iloc[0]
            src = found[col]
            raise InputError(raw.name, f"'{r[col]}' is not a three-digit LA number", column=src, row=int(r["_row"]))
    model = sources.RawFile(raw.path, sources.LAYOUTS["sn_model"], out.reset_index(drop=True), raw.sha256,
                            raw.warnings)
    return from_model(model)


def read_model(path, text: str | None = None) -> sources.RawFile:
    """Read a neighbour model file in either layout.

    Raises
    ------
    InputError
        The file is in neither layout (the message says what it looks like), or cannot be read.
    """
    try:
        raw = sources.read_raw(path)
    except InputError:
        if text is None:
            text, _ = sources._read_text(Path(path))
        if is_groupings(text):
            return read_groupings(path, text)
        raise
    if raw.layout.name not in MODEL_LAYOUTS:
        raise InputError(raw.name, f"is not a statistical-neighbour model (it looks like {raw.layout.publication})")
    return raw


def to_table(raw: sources.RawFile) -> pd.DataFrame:
    """The long neighbour table of a model in either layout (:func:`from_model` or :func:`from_groupings`)."""
    return from_groupings(raw) if raw.layout.name == "sn_groupings" else from_model(raw)


def model_facts(raw: sources.RawFile, text: str = "") -> dict:
    """What :func:`choose` compares: the LAs a model lists, how well they fit today's LAs, a year it names.

    Returns
    -------
    dict
        ``las`` (set of old codes), ``current`` (how many of today's LAs it lists), ``stale`` (how many LAs it lists
        that no longer exist), ``year`` (the latest 20xx in its title lines or text cells; 0 if none), ``sha256``.
    """
    t = raw.table
    if raw.layout.name == "sn_groupings":
        found = _groupings_columns([c for c in t.columns if c != "_row"])
        col = found.get("old_la_code")
    else:
        col = "old_la_code"
    las = set() if col is None else set(t[col].astype(str).str.strip().str.replace(r"\.0+$", "", regex=True))
    las.discard("")
    today = current_las()
    lines = text.splitlines()
    head = lines[: (_header_line(lines) or 0)] if raw.layout.name == "sn_groupings" else []
    words = " ".join(head)
    years = [int(y) for y in re.findall(r"\b(20\d\d)\b", words)]
    return {"las": las, "current": len(las & today), "stale": len(las - today), "year": max(years, default=0),
            "sha256": raw.sha256}


def current_las() -> set:
    """Old codes of the LAs that exist now (the lookup's latest year)."""
    look = areas.lookup()
    return set(look.loc[look["last_year"] == look["last_year"].max(), "old_la_code"])


def choose(facts: dict) -> list[str]:
    """Models in order of preference, best first.

    Parameters
    ----------
    facts : dict
        ``{file name: model_facts(...)}``.

    Notes
    -----
    "Newest" is decided by content, never by file name: first the model whose LAs fit today's LA geography best
    (today's LAs it lists minus LAs it lists that no longer exist: a model made before April 2023 lists Cumbria, not
    Cumberland and Westmorland and Furness), then the latest year named in its title lines, then the SHA-256 (smallest
    first) so that the choice never depends on names or order.
    """
    return sorted(facts, key=lambda n: (-(facts[n]["current"] - facts[n]["stale"]), -facts[n]["year"],
                                        facts[n]["sha256"]))


def describe(raw: sources.RawFile, facts: dict) -> str:
    """One line saying which model this is: its publication, how many LAs, the year it names."""
    year = f", {facts['year']}" if facts["year"] else ""
    stale = f", {facts['stale']} former LAs" if facts["stale"] else ""
    return f"{raw.layout.publication}{year}: {len(facts['las'])} LAs{stale}"


def neighbours_of(table: pd.DataFrame, area_code: str) -> pd.DataFrame:
    """The ten neighbours of one LA, nearest first."""
    return table[table["area_code"] == area_code].sort_values("neighbour_rank").reset_index(drop=True)
