"""Readers for the official published files: DfE explore-education-statistics CSVs and the ONS population.

Files are recognised by their columns, never by their names, and from the header row alone, before the body is read
(a 200 MB file of something else is rejected in milliseconds). The layouts are data: ``layouts.yaml`` (the
catalogue) lists every supported table with its columns, the other names DfE has used for them, its category labels
and their variants, which columns are measures and which a release may omit. A renamed column or a reworded
category in next year's release is one line there, not code.

Every reader validates at the edge and raises :class:`analysis.errors.InputError` naming the file, column and row,
so nothing downstream meets a bad value. The indicators a file yields are defined in ``indicators.yaml`` (the
registry); everything normalises to one long table of *observations* (:data:`OBS_COLUMNS`).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.errors import InputError
from analysis.numbers import SYMBOLS, round_half_up
from analysis.read import areas, workbooks

#: The layout catalogue shipped with the package.
CATALOGUE_FILE = Path(__file__).resolve().parent / "layouts.yaml"


#: The columns of the long observations table, in order. ``value_basis`` is ``published`` where the file publishes
#: the figure itself (``published_value``), ``computed`` where it publishes only the counts (our computation).
OBS_COLUMNS = [
    "indicator", "time_period", "period_end", "geographic_level", "area_code", "old_la_code", "area_name",
    "region_code", "region_name", "numerator", "denominator", "published_value", "status", "denominator_kind",
    "source_file", "release", "population_vintage", "data_kind", "value_basis", "period_label", "year_type",
]

#: How each period kind is described (``year_type``); the period is the year it ends (``time_period``).
YEAR_TYPES = {
    "financial": "financial year (ending 31 March)",
    "academic": "academic year (ending 31 August)",
    "calendar_year": "calendar year",
    "calendar": "December-February average (ending February)",
}

#: ``value_basis`` of a row that has only a published figure (no numerator or denominator): not tested.
PUBLISHED_ONLY = "published only"

GEO_COLUMNS = ["time_period", "geographic_level", "country_code", "region_code", "region_name", "old_la_code",
               "new_la_code", "la_name"]

#: The measure kinds a catalogue column may have (see the header of ``layouts.yaml``).
KINDS = {"key", "filter", "count", "rate", "percent", "value", "population", "id", "label"}

_HEADER_BYTES = 1 << 20  # the header row must fit in the first MiB


class UnknownLayout(InputError):
    """A file whose header fits no catalogued layout.

    Attributes
    ----------
    closest : str or None
        The name of the layout it resembles most (None when it shares no measure column with any).
    missing : list of str
        The canonical columns that layout requires and the file lacks.
    """

    def __init__(self, file, message, closest=None, missing=(), column=None):
        self.closest = closest
        self.missing = list(missing)
        super().__init__(file, message, column=column)


@dataclass(frozen=True)
class Layout:
    """A file layout: the columns that identify it and how its rows are keyed (one entry of ``layouts.yaml``).

    ``required`` are canonical column names a release must have, ``optional`` those it may omit; ``aliases`` maps a
    canonical name to the other names DfE has used for it. ``keys`` are the category columns of a long layout
    (empty for a wide one). ``kinds`` gives each column's measure kind; ``categories`` maps a key or filter column to
    ``{normalised label: canonical label}``; ``filters`` maps a column to the canonical labels kept.
    """

    name: str
    publication: str
    required: tuple[str, ...]
    keys: tuple[str, ...] = ()
    aliases: dict = field(default_factory=dict)
    period: str = "financial"
    geography: bool = True
    optional: tuple[str, ...] = ()
    kinds: dict = field(default_factory=dict)
    categories: dict = field(default_factory=dict)
    filters: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    table: str = ""
    geo_aliases: dict = field(default_factory=dict)
    default_filters: dict = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every catalogued column (required first)."""
        return self.required + self.optional

    @property
    def measures(self) -> tuple[str, ...]:
        """The columns holding numbers (counts, rates, percentages, values, populations)."""
        numeric = ("count", "rate", "percent", "value", "population")
        return tuple(c for c in self.columns if self.kinds.get(c) in numeric)

    def canonical_label(self, column: str, value) -> str:
        """The canonical form of a category label of ``column`` (the label itself when it is not catalogued)."""
        return self.categories.get(column, {}).get(normalise(value), str(value).strip())


def normalise(text) -> str:
    """A name or label for matching: case-folded, whitespace collapsed, byte-order mark and ends stripped."""
    if type(text) is str:
        return _normalise_text(text)
    return re.sub(r"\s+", " ", str(text).replace("\ufeff", "")).strip().casefold()


@lru_cache(maxsize=1 << 16)
def _normalise_text(text: str) -> str:
    """:func:`normalise` of a string, remembered (headers and labels repeat across files and layouts)."""
    return re.sub(r"\s+", " ", text.replace("\ufeff", "")).strip().casefold()


def _label_in(values: pd.Series, labels) -> np.ndarray:
    """Which values equal one of ``labels`` once normalised (normalising each distinct value once, not each row)."""
    codes, uniques = pd.factorize(values)
    wanted = {normalise(v) for v in labels}
    hit = np.array([normalise(u) in wanted for u in uniques] + [False], dtype=bool)
    return hit[codes]  # code -1 (missing) picks the trailing False


def load_catalogue(path: str | Path | None = None) -> dict[str, Layout]:
    """Read a layout catalogue (default: the package's ``layouts.yaml``).

    Returns
    -------
    dict
        ``{layout name: Layout}`` in the catalogue's order.

    Raises
    ------
    InputError
        A malformed entry (unknown kind, a key, filter or category naming no catalogued column).
    """
    path = Path(path or CATALOGUE_FILE)
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    geo_aliases = {c: tuple(str(s) for s in (spec or {}).get("synonyms", ())) for c, spec in doc["geography"].items()}
    missing_geo = [c for c in GEO_COLUMNS if c not in geo_aliases]
    if missing_geo:
        raise InputError(path.name, f"geography lacks {', '.join(missing_geo)}")
    defaults = {normalise(c): tuple(normalise(v) for v in vals)
                for c, vals in (doc.get("default_filters") or {}).items()}
    layouts = {}
    for name, spec in doc["layouts"].items():
        cols = spec.get("columns") or {}
        required, optional, aliases, kinds, after = [], [], {}, {}, {}
        for col, cspec in cols.items():
            cspec = cspec or {}
            kind = cspec.get("kind", "count")
            if kind not in KINDS:
                raise InputError(path.name, f"layout {name}: column {col} has kind '{kind}'; expected one of "
                                            f"{', '.join(sorted(KINDS))}")
            (optional if cspec.get("optional") else required).append(col)
            aliases[col] = tuple(str(s) for s in cspec.get("synonyms", ()) or ())
            kinds[col] = kind
            if cspec.get("after"):
                after[col] = cspec["after"]
        categories = {}
        for col, labels in (spec.get("categories") or {}).items():
            if col not in cols:
                raise InputError(path.name, f"layout {name}: categories of '{col}', which is not one of its columns")
            table = {}
            for canonical, variants in labels.items():
                for v in (canonical, *(variants or ())):
                    table[normalise(v)] = str(canonical)
            categories[col] = table
        filters = {}
        for col, kept in (spec.get("filters") or {}).items():
            if col not in cols:
                raise InputError(path.name, f"layout {name}: filter on '{col}', which is not one of its columns")
            filters[col] = tuple(str(k) for k in kept)
        keys = tuple(spec.get("keys") or ())
        bad = [k for k in keys if k not in cols]
        if bad:
            raise InputError(path.name, f"layout {name}: key {bad[0]} is not one of its columns")
        layouts[name] = Layout(name, spec["publication"], tuple(required), keys, aliases,
                               spec.get("period", "financial"), bool(spec.get("geography", True)), tuple(optional),
                               kinds, categories, filters, after, str(spec.get("table", "")), geo_aliases, defaults)
    return layouts


LAYOUTS: dict[str, Layout] = load_catalogue()

GEO_ALIASES = next(iter(LAYOUTS.values())).geo_aliases


@dataclass
class RawFile:
    """A file as read: its text table (all strings, header mapped to canonical names) and where it came from.

    ``absent`` lists the optional catalogued columns the release does not have (added to ``table`` as empty text).
    """

    path: Path
    layout: Layout
    table: pd.DataFrame
    sha256: str
    warnings: list = field(default_factory=list)
    absent: tuple = ()

    @property
    def name(self) -> str:
        return self.path.name


# --------------------------------------------------------------------------------------------------------------------
# Recognising a layout from the header


def _locate(columns: list[str], layout: Layout) -> dict[str, int]:
    """Map each canonical column of ``layout`` found in ``columns`` to its position (name or synonym, normalised)."""
    positions: dict[str, list[int]] = {}
    for i, c in enumerate(columns):
        positions.setdefault(normalise(c), []).append(i)
    geo = [c for c in GEO_COLUMNS if layout.geography and c not in layout.aliases]
    found: dict[str, int] = {}
    used: set[int] = set()
    ordered = [c for c in layout.columns if c not in layout.after] + geo
    for canonical in ordered:
        names = (canonical, *layout.aliases.get(canonical, ()), *layout.geo_aliases.get(canonical, ()))
        for candidate in names:
            free = [p for p in positions.get(normalise(candidate), ()) if p not in used]
            if free:
                found[canonical] = free[0]
                used.add(free[0])
                break
    for canonical, anchor in layout.after.items():  # e.g. the 'SNP' that follows each 'SNk'
        for candidate in (canonical, *layout.aliases.get(canonical, ())):
            pos = positions.get(normalise(candidate), [])
            free = [p for p in pos if p not in used]
            pick = free[0] if len(pos) == 1 and free else (found[anchor] + 1 if anchor in found
                                                           and found[anchor] + 1 in free else None)
            if pick is not None:
                found[canonical] = pick
                used.add(pick)
                break
    return found


def _needed(layout: Layout) -> list[str]:
    return list(layout.required) + (GEO_COLUMNS if layout.geography else [])


def _evidence(layout: Layout) -> list[str]:
    """Columns whose presence suggests the layout: its required columns, and its optional ones except filters (a
    `category` column says little). Geography is shared by every explore-education-statistics file."""
    return [c for c in layout.columns if c in layout.required or layout.kinds.get(c) != "filter"]


def _fit(columns: list[str], layouts: dict[str, Layout]):
    """Score every layout against a header: (layout, positions, missing, evidence found)."""
    out = []
    for layout in layouts.values():
        pos = _locate(columns, layout)
        missing = [c for c in _needed(layout) if c not in pos]
        hits = sum(c in pos for c in _evidence(layout))
        out.append((layout, pos, missing, hits))
    return out


def _choose(columns: list[str], file_name: str, layouts: dict[str, Layout]) -> tuple[Layout, dict[str, int]]:
    """The layout a header fits (most specific first) and its column positions; else :class:`UnknownLayout` naming
    the closest layout (largest share of its own columns found) and what it lacks."""
    scored = _fit(columns, layouts)
    full = [s for s in scored if not s[2]]
    if full:
        # the most specific layout: most required columns, then most catalogued columns found
        layout, pos, _, _ = max(full, key=lambda s: (len(s[0].required), len(s[1])))
        return layout, pos
    shown = ", ".join(columns[:40]) + (f" ... ({len(columns)} columns)" if len(columns) > 40 else "")
    candidates = [s for s in scored if s[3] > 0]
    if candidates:
        layout, pos, missing, hits = max(candidates, key=lambda s: (s[3] / len(_evidence(s[0])), s[3], -len(s[2])))
        named = [f"{m} (or {', '.join(layout.aliases.get(m, ()) or layout.geo_aliases.get(m, ()))})"
                 if (layout.aliases.get(m) or layout.geo_aliases.get(m)) else m for m in missing]
        raise UnknownLayout(file_name, f"unknown layout: closest is {layout.publication} (layout {layout.name}), "
                                       f"but required column(s) missing: {'; '.join(named)} (if DfE renamed one, "
                                       f"add the new name to its synonyms in layouts.yaml); columns found: {shown}",
                            closest=layout.name, missing=missing, column=missing[0])
    expected = "; ".join(f"{lay.name}: {', '.join(lay.required)}" for lay in layouts.values())
    raise UnknownLayout(file_name, f"unknown layout: columns found {shown}; expected one of {expected}")


def detect_layout(columns: list[str], file_name: str,
                  layouts: dict[str, Layout] | None = None) -> tuple[Layout, dict[str, str]]:
    """Recognise a file's layout from its header.

    Parameters
    ----------
    columns : list of str
        The header row.
    file_name : str
        For error messages.
    layouts : dict, optional
        A catalogue (:func:`load_catalogue`); defaults to :data:`LAYOUTS`.

    Returns
    -------
    (Layout, dict)
        The layout and ``{canonical name: the file's column name}``.

    Raises
    ------
    UnknownLayout
        The columns fit no layout; ``closest`` and ``missing`` say which layout it resembles and what it lacks.
    """
    layout, pos = _choose([str(c).strip().lstrip("\ufeff") for c in columns], file_name, layouts or LAYOUTS)
    return layout, {canonical: str(columns[i]).strip().lstrip("\ufeff") for canonical, i in pos.items()}


# --------------------------------------------------------------------------------------------------------------------
# Reading bytes


def _unreadable(path: Path, exc: OSError) -> InputError:
    if isinstance(exc, PermissionError):
        return InputError(path.name, "cannot be read: permission denied; check the file's permissions or copy it "
                                     "somewhere you can read")
    return InputError(path.name, f"cannot be read ({exc.strerror or exc})")


def _is_gzip(head: bytes) -> bool:
    return head[:2] == b"\x1f\x8b"


def _check_container(path: Path, head: bytes) -> None:
    """Reject files that are not text CSVs, whatever their names say."""
    if head[:4] == b"PK\x03\x04":
        raise InputError(path.name, "is an Excel workbook or other zip archive (.xlsx), not a CSV, whatever its name; "
                                    "open it and save it as CSV UTF-8 (comma delimited)")
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InputError(path.name, "is an old Excel workbook (.xls), not a CSV; open it and save it as CSV UTF-8 "
                                    "(comma delimited)")
    if not head.strip():
        raise InputError(path.name, "the file is empty; expected a CSV with a header row and data rows")


def _header_bytes(path: Path, measures: frozenset | None = None) -> bytes:
    """The first line of the file (decompressed if gzip), read without reading the rest; of a LAIT Parquet file or
    an RSX workbook, the first line of the table :mod:`analysis.read.workbooks` makes of it."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEADER_BYTES)
            if workbooks.kind_of(head):
                return workbooks.csv_text(path, measures).split("\n", 1)[0].encode("utf-8")
            _check_container(path, head[:4096])
            if not _is_gzip(head):
                return head.split(b"\n", 1)[0]
            fh.seek(0)
            with gzip.GzipFile(fileobj=fh) as gz:
                line = gz.readline(_HEADER_BYTES)
    except InputError:
        raise
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(path.name, f"is a truncated or corrupt gzip file ({exc}); download it again") from None
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if not line.strip():
        raise InputError(path.name, "the file is empty; expected a CSV with a header row and data rows")
    return line


def _header(path: Path, measures: frozenset | None = None) -> list[str]:
    line = _header_bytes(path, measures)
    try:
        text = line.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise InputError(path.name, f"is not UTF-8 text (byte 0x{line[exc.start]:02x} in the header); save it as "
                                    "CSV UTF-8", row=1) from None
    columns = next(csv.reader([text]), [])
    for sep, word in ((";", "semicolon"), ("\t", "tab")):
        if text.count(sep) >= max(1, text.count(",")) and len(next(csv.reader([text], delimiter=sep))) > len(columns):
            raise InputError(path.name, f"is {word}-delimited; save it as comma-separated CSV (CSV UTF-8, comma "
                                        "delimited)", row=1)
    return [c.strip().lstrip("\ufeff") for c in columns]


def _read_text(path: Path, measures: frozenset | None = None) -> tuple[str, str]:
    """The whole file as text, and the SHA-256 of its bytes as stored (a LAIT Parquet file or an RSX workbook: the
    CSV text :mod:`analysis.read.workbooks` makes of it, keeping the LAIT ``measures`` given)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise _unreadable(path, exc) from None
    digest = hashlib.sha256(raw).hexdigest()
    if workbooks.kind_of(raw[:256]):
        return workbooks.csv_text(path, measures), digest
    if _is_gzip(raw):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(path.name, f"is a truncated or corrupt gzip file ({exc}); download it again") from None
    if not raw.strip():
        raise InputError(path.name, "the file is empty; expected a CSV with a header row and data rows")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(path.name, f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start}); "
                                    "save it as CSV UTF-8", row=line) from None
    return text, digest


# --------------------------------------------------------------------------------------------------------------------
# Reading a file


def canonical_labels(table: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    """Key and filter columns: every catalogued variant read as its canonical label (vectorised over unique values).

    Returns a new table where a label changes; the input is never modified.
    """
    out = table
    for col, labels in layout.categories.items():
        if col in table.columns:
            uniq = pd.unique(table[col])
            lookup = {u: labels.get(normalise(u), u) for u in uniq}
            if any(k != v for k, v in lookup.items()):
                if out is table:
                    out = table.copy()
                out[col] = table[col].map(lookup)
    return out


def _apply_filters(raw_name: str, table: pd.DataFrame, layout: Layout, unmapped: list[str], warnings: list,
                   raw_absent: tuple = ()):
    """Keep only the rows of the pinned breakdowns (catalogued filters, then DfE's usual breakdown columns).

    A filter column with one label throughout is left alone (nothing to double count); with several labels and none
    of them catalogued as kept, the file is rejected rather than silently emptied.
    """
    keep = np.ones(len(table), dtype=bool)
    notes = []
    for col, kept in layout.filters.items():
        if col not in table.columns or col in raw_absent:
            continue
        if len({normalise(v) for v in pd.unique(table[col])}) <= 1:
            continue  # one label throughout: no breakdown to double count, whatever its wording
        ok = _label_in(table[col], kept)
        if not ok.any():
            found = ", ".join(f"'{v}'" for v in pd.unique(table[col])[:5])
            raise InputError(raw_name, f"no row has {' or '.join(repr(k) for k in kept)} (found {found}); if DfE "
                                       f"renamed it, add the new wording as a variant in layouts.yaml", column=col)
        if not ok.all():
            others = ", ".join(map(str, pd.unique(table.loc[~ok, col])[:3]))
            notes.append(f"{col} other than {', '.join(kept)} ({others})")
        keep &= ok
    for col in unmapped:
        kept = layout.default_filters.get(normalise(col))
        if kept is None or col not in table.columns:
            continue
        ok = _label_in(table[col], kept)
        if ok.any() and not ok.all():
            notes.append(f"{col} other than Total")
            keep &= ok
    if not keep.all():
        warnings.append(f"{raw_name}: ignored {int((~keep).sum())} row(s) of breakdowns the indicators do not use: "
                        f"{'; '.join(notes)}")
        table = table[keep]
    return table


#: What str.strip removes from ASCII text (str.isspace): spaces, tabs, line breaks and the separator controls.
_ASCII_SPACE = tuple(chr(c) for c in range(128) if chr(c).isspace())


def _needs_strip(values: pd.Series) -> bool:
    """Whether any value may have a space at either end: one scan of the joined text, not a call per value (a value
    holding a NUL or non-ASCII text takes the careful path)."""
    try:
        joined = "\x00" + "\x00".join(values.to_numpy(dtype=object)) + "\x00"
    except TypeError:  # a missing value (a short row)
        return True
    if not joined.isascii():
        return True
    return any(c in joined and ("\x00" + c in joined or c + "\x00" in joined) for c in _ASCII_SPACE)


def _strip(values: pd.Series) -> pd.Series:
    """Strip spaces, once per distinct value where values repeat (labels, codes, years)."""
    if not _needs_strip(values):
        return values.copy()
    codes, uniques = pd.factorize(values)
    if len(uniques) * 4 > len(values):
        return values.str.strip()
    stripped = np.array([str(u).strip() for u in uniques] + [""], dtype=object)
    return pd.Series(stripped[codes], index=values.index, dtype=values.dtype)


def read_raw(path: str | Path, layouts: dict[str, Layout] | None = None) -> RawFile:
    """Read one file into strings with canonical column names, after recognising its layout from the header.

    Parameters
    ----------
    path : str or Path
        A CSV (optionally gzip-compressed) from explore-education-statistics, ONS or the DfE neighbour model.
    layouts : dict, optional
        A catalogue (:func:`load_catalogue`); defaults to :data:`LAYOUTS`.

    Returns
    -------
    RawFile
        ``table`` holds every cell as a string (the catalogued columns stripped, under their canonical names),
        category labels in their canonical wording, only the rows of the pinned breakdowns, and ``_row``: the line
        number in the file (the header is line 1). Optional columns the release lacks are present as empty text
        and listed in ``absent``.

    Raises
    ------
    UnknownLayout
        The header fits no layout (checked before the body is read).
    InputError
        Unreadable, empty, not UTF-8, an Excel workbook, a semicolon- or tab-delimited file, a truncated gzip, a
        malformed CSV, no row of a pinned breakdown.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path.name, f"no such file: {path}")
    columns = _header(path)
    layout, pos = _choose(columns, path.name, layouts or LAYOUTS)
    text, digest = _read_text(path)
    return _finish(_stage(path, columns, layout, pos, text, digest, layouts))


@dataclass
class _Staged:
    """A file parsed as :func:`read_raw` parses it, before the rows of unpinned breakdowns are dropped (internal)."""

    path: Path
    layout: Layout
    table: pd.DataFrame
    digest: str
    unmapped: list
    absent: tuple
    columns: list  # the header as parsed (differs from the first line's when a quoted header spans lines)


def _stage(path: Path, columns: list[str], layout: Layout, pos: dict[str, int], text: str, digest: str,
           layouts: dict[str, Layout] | None = None) -> _Staged:
    """:func:`read_raw` from a file's text already read (its header, layout and positions already recognised):
    every row, catalogued columns stripped and renamed, labels canonical; the filters are left to :func:`_finish`."""
    try:  # as UTF-8 bytes: the C parser reads them directly (a text stream is encoded again in chunks)
        table = pd.read_csv(io.BytesIO(text.encode("utf-8")), dtype=str, keep_default_na=False, header=0)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        row = re.search(r"line (\d+)", str(exc))
        raise InputError(path.name, f"is not a well-formed CSV ({str(exc).strip()})",
                         row=int(row.group(1)) if row else None) from None
    if table.empty:
        raise InputError(path.name, "has a header but no data rows")
    if table.shape[1] != len(columns):  # a header spanning lines (a quoted newline): go by what pandas read
        columns = [str(c).strip().lstrip("\ufeff") for c in table.columns]
        layout, pos = _choose(columns, path.name, layouts or LAYOUTS)
    wanted = list(range(table.shape[1]))
    by_pos = {i: canonical for canonical, i in pos.items()}
    names = [by_pos.get(i, columns[i]) for i in wanted]
    table.columns = names
    keep = [j for j, (i, n) in enumerate(zip(wanted, names)) if i in by_pos or (n not in pos and n not in names[:j])]
    table = table.iloc[:, keep].copy()
    for col in pos:  # identifying and key columns; value columns are stripped when parsed
        table[col] = _strip(table[col])
    table["_row"] = np.arange(2, len(table) + 2)
    absent = tuple(c for c in layout.optional if c not in pos)
    for col in absent:
        table[col] = ""
    if "time_period" in table.columns:
        table = _period_years(table)
    table = canonical_labels(table, layout)
    unmapped = [names[j] for j in keep if wanted[j] not in by_pos]
    return _Staged(path, layout, table, digest, unmapped, absent, columns)


def _period_years(table: pd.DataFrame) -> pd.DataFrame:
    """``time_period`` as the year each period ends (``202425`` -> ``2025``), the label as published kept in
    ``period_label`` (filled where a file has none). Worked out per distinct label; a new table where one changes."""
    labels = table["period_label"] if "period_label" in table.columns else table["time_period"]
    codes, uniques = pd.factorize(table["time_period"])
    six = [bool(re.fullmatch(r"\d{6}", str(u))) for u in uniques]
    if "period_label" in table.columns and (labels != "").all() and not any(six):
        return table
    out = table.copy()
    out["period_label"] = np.where(labels == "", table["time_period"], labels) if "period_label" in table.columns \
        else table["time_period"].to_numpy()
    if any(six):
        years = np.array([workbooks.end_year(u) or u if s else u for u, s in zip(uniques, six)] + [""], dtype=object)
        out["time_period"] = years[codes]
    return out


def _finish(staged: _Staged) -> RawFile:
    """The :class:`RawFile` of a staged file: only the rows of the pinned breakdowns (may raise InputError)."""
    warnings: list = []
    table = _apply_filters(staged.path.name, staged.table, staged.layout, staged.unmapped, warnings, staged.absent)
    return RawFile(staged.path, staged.layout, table, staged.digest, warnings, staged.absent)
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
    # Parsed once per distinct text (published columns repeat values: percentages, symbols, small counts).
    return _NumberColumn(values).take(np.ones(len(values), dtype=bool), values.index, file_name, column, rows, count)


class _NumberColumn:
    """A column of published values parsed once per distinct text; :meth:`take` gives the rows a spec names, with
    the errors :func:`parse_numbers` raises for those rows (internal)."""

    def __init__(self, values: pd.Series):
        codes, uniques = pd.factorize(values.fillna("").astype(str))
        stripped = [str(u).strip() for u in np.asarray(uniques, dtype=object)]  # per distinct value, no pandas .str
        text = pd.Series(stripped, dtype=object)
        lowered = np.array([u.lower() for u in stripped] + [""], dtype=object)[:-1]
        is_symbol = np.isin(lowered, list(SYMBOLS))
        empty = np.array([u == "" for u in stripped] + [False], dtype=bool)[:-1]
        number_text = np.array([u.replace(",", "") for u in stripped] + [""], dtype=object)[:-1]
        number_text[is_symbol | empty] = np.nan
        parsed = pd.to_numeric(pd.Series(number_text, dtype=object), errors="coerce").to_numpy(dtype=float)
        self.codes, self.text, self.parsed = codes, text, parsed
        self.bad = np.isnan(parsed) & ~is_symbol & ~empty
        self.status = np.where(empty, "x", np.where(is_symbol, lowered, ""))

    def take(self, mask: np.ndarray, index: pd.Index, file_name: str, column: str, rows: pd.Series,
             count: bool = False):
        """(numbers, status) of the rows in ``mask`` (``index`` and ``rows``: theirs), as :func:`parse_numbers`."""
        codes, text = self.codes[mask], self.text
        bad = self.bad[codes]
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(file_name, f"'{text[codes[i]]}' is not a number or a published symbol "
                                        f"({', '.join(SYMBOLS)}); expected a number", column=column,
                             row=int(rows.iloc[i]))
        numbers = self.parsed[codes] if len(codes) else np.zeros(0)
        if count and (numbers < 0).any():
            i = int(np.argmax(numbers < 0))
            raise InputError(file_name, f"negative count {text[codes[i]]}; expected a count of 0 or more",
                             column=column, row=int(rows.iloc[i]))
        status = self.status[codes] if len(codes) else np.zeros(0, dtype=object)
        return (pd.Series(numbers, index=index, dtype=float),
                pd.Series(status, index=index, dtype=object).astype(str))


_PERIOD_ENDS: dict = {}  # (years, period) -> their end dates: files and indicators share a dozen years


def _period_end(time_period: pd.Series, period: str) -> pd.Series:
    codes, years = pd.factorize(time_period.astype(int))  # a dozen years, not a date parse per row
    key = (tuple(np.asarray(years).tolist()), period)
    ends = _PERIOD_ENDS.get(key)
    if ends is None:
        years = pd.Series(np.asarray(years)).astype(str)
        if period == "calendar":  # NEET: the December-February average, dated by the end of February
            ends = pd.to_datetime(years + "-03-01") - pd.Timedelta(days=1)
        elif period == "academic":
            ends = pd.to_datetime(years + "-08-31")
        elif period == "calendar_year":
            ends = pd.to_datetime(years + "-12-31")
        else:
            ends = pd.to_datetime(years + "-03-31")
        ends = ends.to_numpy()
        if len(_PERIOD_ENDS) > 256:
            _PERIOD_ENDS.clear()
        _PERIOD_ENDS[key] = ends
    return pd.Series(ends[codes], index=time_period.index)


_GEO_KEY = ["geographic_level", "country_code", "region_code", "region_name", "old_la_code", "new_la_code", "la_name"]


def _group_codes(table: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One integer per distinct combination of ``columns``, numbered in order of first appearance (as
    ``groupby(columns, sort=False, dropna=False).ngroup()``, by factorising column by column)."""
    return _combined_codes([table[col].to_numpy(dtype=object) for col in columns], len(table))


def _combined_codes(arrays: list, n: int) -> np.ndarray:
    """:func:`_group_codes` of a list of equally long arrays (missing values form a group of their own)."""
    code = np.zeros(n, dtype=np.int64)
    for arr in arrays:
        codes, uniques = pd.factorize(np.asarray(arr, dtype=object), use_na_sentinel=False)
        code = pd.factorize(code * (len(uniques) + 1) + codes)[0].astype(np.int64)
    return code


def _has_duplicates(arrays: list, n: int) -> bool:
    """Whether two rows agree on every one of ``arrays`` (as ``DataFrame.duplicated().any()``)."""
    return n > 0 and len(np.unique(_combined_codes(arrays, n))) < n


def _geography(raw: RawFile) -> pd.DataFrame:
    """Area columns for each row: canonical code, name, level and region; rows without codes are dropped.

    Worked out once per distinct area (a file repeats each area for every year and category), then spread to rows.
    """
    t = raw.table
    codes = _group_codes(t, _GEO_KEY)
    first = np.unique(codes, return_index=True)[1]
    fast = _geography_numpy(raw, t, codes, first) if t.columns.is_unique else None
    if fast is not None:
        return fast
    u = t.iloc[first]
    level = u["geographic_level"]
    keep_u = level.isin([areas.LEVEL_LA, areas.LEVEL_REGION, areas.LEVEL_NATIONAL]).to_numpy()
    is_la, is_reg = level.eq(areas.LEVEL_LA).to_numpy(), level.eq(areas.LEVEL_REGION).to_numpy()
    codeless_u = ((is_la & u["new_la_code"].eq("").to_numpy() & u["old_la_code"].eq("").to_numpy())
                  | (is_reg & u["region_code"].eq("").to_numpy()))
    dropped_rows = (keep_u & codeless_u)[codes]
    if dropped_rows.any():
        dropped = t[dropped_rows]
        names = dropped["la_name"].where(dropped["la_name"] != "", dropped["region_name"])
        raw.warnings.append(f"{raw.name}: ignored {len(dropped)} row(s) with no area code "
                            f"(rows {', '.join(map(str, dropped['_row'].head(5)))}): {', '.join(sorted(set(names)))}")
    keep_u = keep_u & ~codeless_u
    fast = _geography_fast(u)
    if fast is not None:  # the same, with plain dictionaries (no pandas call per column of a few hundred areas)
        area_code, area_name, old_la_code, region_code, region_name = fast
        return _spread_geography(t, codes, first, keep_u, level.to_numpy(dtype=object), area_code, area_name,
                                 old_la_code, region_code, region_name)
    la_code = areas.canonical_codes(u["old_la_code"], u["new_la_code"])
    lookup = areas.current().set_index("new_la_code")
    area_code = np.select([is_la, is_reg], [la_code, u["region_code"]],
                          u["country_code"].replace("", areas.ENGLAND_CODE))
    la_name = la_code.map(lookup["la_name"]).fillna(u["la_name"])
    area_name = np.select([is_la, is_reg], [la_name, u["region_name"]], areas.ENGLAND_NAME)
    old_la_code = u["old_la_code"].where(is_la, "")
    region_code = la_code.map(lookup["region_code"]).fillna(u["region_code"])
    region_name = la_code.map(lookup["region_name"]).fillna(u["region_name"])
    region_code = np.select([is_la, is_reg], [region_code, u["region_code"]], "")
    region_name = np.select([is_la, is_reg], [region_name, u["region_name"]], "")
    return _spread_geography(t, codes, first, keep_u, level.to_numpy(dtype=object), area_code, area_name,
                             old_la_code.to_numpy(dtype=object), region_code, region_name)


def _geography_numpy(raw: RawFile, t: pd.DataFrame, codes: np.ndarray, first: np.ndarray):
    """:func:`_geography` on plain arrays of the distinct areas when every area cell is text (None otherwise)."""
    cols = {c: t[c].to_numpy(dtype=object)[first] for c in _GEO_KEY}
    if not all(isinstance(v, str) for arr in cols.values() for v in arr):
        return None
    level = cols["geographic_level"]
    keep_u = np.isin(level, [areas.LEVEL_LA, areas.LEVEL_REGION, areas.LEVEL_NATIONAL])
    is_la, is_reg = level == areas.LEVEL_LA, level == areas.LEVEL_REGION
    codeless_u = ((is_la & (cols["new_la_code"] == "") & (cols["old_la_code"] == ""))
                  | (is_reg & (cols["region_code"] == "")))
    dropped_rows = (keep_u & codeless_u)[codes]
    if dropped_rows.any():
        return None  # the pandas path words the warning
    fast = _geography_fast(pd.DataFrame(cols, dtype=object))
    if fast is None:
        return None
    area_code, area_name, old_la_code, region_code, region_name = fast
    return _spread_geography(t, codes, first, keep_u & ~codeless_u, level, area_code, area_name, old_la_code,
                             region_code, region_name)


def _spread_geography(t, codes, first, keep_u, level, area_code, area_name, old_la_code, region_code, region_name):
    """The area columns worked out per distinct area, spread to the rows kept."""
    rows = keep_u[codes]
    slot = np.cumsum(np.ones(len(first), dtype=np.int64)) - 1  # unique row -> its position among the uniques
    take = slot[codes[rows]] if len(codes) else np.zeros(0, dtype=np.int64)
    columns = {"geographic_level": level, "area_code": np.asarray(area_code, dtype=object),
               "area_name": np.asarray(area_name, dtype=object),
               "old_la_code": np.asarray(old_la_code, dtype=object),
               "region_code": np.asarray(region_code, dtype=object),
               "region_name": np.asarray(region_name, dtype=object)}
    return pd.DataFrame({c: pd.array(v[take], dtype=t["geographic_level"].dtype) for c, v in columns.items()},
                        index=t.index[rows])


_AREA_MAPS: list = []  # [(areas.current() frame, its dictionaries)]: rebuilt if the lookup is reloaded


def _area_maps() -> tuple[dict, dict]:
    cur = areas.current()
    if not _AREA_MAPS or _AREA_MAPS[0][0] is not cur:
        if cur["old_la_code"].duplicated().any() or cur["new_la_code"].duplicated().any() or cur.isna().any().any():
            maps = None
        else:
            maps = (dict(zip(cur["old_la_code"], cur["new_la_code"])),
                    {n: (a, b, c) for n, a, b, c in zip(cur["new_la_code"], cur["la_name"], cur["region_code"],
                                                         cur["region_name"])})
        _AREA_MAPS[:] = [(cur, maps)]
    return _AREA_MAPS[0][1]


def _geography_fast(u: pd.DataFrame):
    """:func:`_geography`'s per-area columns by dictionary look-ups, for areas given as text throughout (None
    otherwise, or if the lookup has repeated codes: the pandas path then decides)."""
    maps = _area_maps()
    if maps is None:
        return None
    cols = {c: u[c].to_numpy(dtype=object) for c in ("geographic_level", "country_code", "region_code",
                                                     "region_name", "old_la_code", "new_la_code", "la_name")}
    if not all(isinstance(v, str) for arr in cols.values() for v in arr):
        return None
    latest, by_new = maps
    level = cols["geographic_level"]
    is_la, is_reg = level == areas.LEVEL_LA, level == areas.LEVEL_REGION
    # areas.canonical_codes: the old code's current code, unless it maps to nothing (or to "")
    la_code = [latest.get(o) or n for o, n in zip(cols["old_la_code"], cols["new_la_code"])]
    found = [by_new.get(c) for c in la_code]
    la_name = np.array([f[0] if f else n for f, n in zip(found, cols["la_name"])], dtype=object)
    lookup_rc = np.array([f[1] if f else r for f, r in zip(found, cols["region_code"])], dtype=object)
    lookup_rn = np.array([f[2] if f else r for f, r in zip(found, cols["region_name"])], dtype=object)
    la_code = np.array(la_code, dtype=object)
    country = np.array([c if c != "" else areas.ENGLAND_CODE for c in cols["country_code"]], dtype=object)
    area_code = np.where(is_la, la_code, np.where(is_reg, cols["region_code"], country))
    area_name = np.where(is_la, la_name, np.where(is_reg, cols["region_name"], areas.ENGLAND_NAME))
    old_la_code = np.where(is_la, cols["old_la_code"], "")
    region_code = np.where(is_la, lookup_rc, np.where(is_reg, cols["region_code"], ""))
    region_name = np.where(is_la, lookup_rn, np.where(is_reg, cols["region_name"], ""))
    return (area_code.astype(object), area_name.astype(object), old_la_code.astype(object),
            region_code.astype(object), region_name.astype(object))


# --------------------------------------------------------------------------------------------------------------------
# Observations


def layout_entries(layout: Layout, registry: dict) -> dict:
    """The registry entries a layout yields: those whose ``source`` it is, and, for LAIT's long file, every entry
    with a ``lait`` measure code (its published values only: no numerator, no denominator)."""
    if layout.name != LAIT_LAYOUT:
        return {k: v for k, v in registry.items() if v["source"] == layout.name}
    return {k: {**v, "numerator": None, "denominator": None, "published": {"key": v["lait"], "column": "value"}}
            for k, v in registry.items() if v.get("lait")}


#: The layout of LAIT's long file (published values only).
LAIT_LAYOUT = "lait_long"


def _spec(entry, what):
    spec = entry.get(what)
    if spec in (None, "population"):
        return spec
    key = spec.get("key")
    if key is not None and not isinstance(key, list):
        key = [key]
    return {"column": spec["column"], "key": key, "from_percent": bool(spec.get("from_percent"))}


def _pivot_long(raw: RawFile, geo: pd.DataFrame) -> pd.DataFrame:
    """Check a long table for duplicate keys; return its key columns for the rows with geography."""
    t = raw.table.loc[geo.index, ["time_period", "_row", *raw.layout.keys]]
    arrays = [geo["geographic_level"].to_numpy(dtype=object), geo["area_code"].to_numpy(dtype=object)] + [
        t[c].to_numpy(dtype=object) for c in ["time_period", *raw.layout.keys]]
    if not _has_duplicates(arrays, len(t)):  # the usual case, without building the frame below
        return t
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


class _KeyIndex:
    """The key columns of a long table, factorised once: a registry key's rows are then an integer comparison."""

    def __init__(self, t: pd.DataFrame, layout: Layout):
        self.layout = layout
        self.codes, self.labels = {}, {}
        for k in layout.keys:
            codes, uniques = pd.factorize(t[k])
            self.codes[k] = codes
            by_label: dict[str, list[int]] = {}
            for i, u in enumerate(uniques):
                by_label.setdefault(normalise(u), []).append(i)
            self.labels[k] = by_label

    def mask(self, key, file_name: str = "") -> np.ndarray:
        if len(key) != len(self.layout.keys):
            raise ValueError(f"registry key {key} does not fit layout {self.layout.name} keyed by {self.layout.keys}")
        parts = []
        for k, v in zip(self.layout.keys, key):
            wanted = self.labels[k].get(normalise(self.layout.canonical_label(k, v)), [])
            parts.append(np.isin(self.codes[k], wanted))
        return np.logical_and.reduce(parts)


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
        ``population``): :func:`analysis.read.population.attach_denominators` fills it by vintage. ``value_basis`` is
        ``published`` where the file publishes the figure (``published_value``) and ``computed`` where it publishes
        only counts (a release without the rate or percentage column or category; ``published_value`` NaN).

    Raises
    ------
    InputError
        Symbols where numbers are expected, negative counts, a numerator above its denominator for a proportion,
        duplicate rows for one area and year.
    """
    layout = raw.layout
    entries = layout_entries(layout, registry)
    if not entries:
        return pd.DataFrame(columns=OBS_COLUMNS)
    if layout.keys:  # only the categories the registry uses (a long file holds many more)
        used = [spec["key"] for e in entries.values() for spec in (_spec(e, w) for w in ("numerator", "denominator",
                "published")) if isinstance(spec, dict) and spec["key"] is not None]
        whole = _KeyIndex(raw.table, layout)
        keep = np.logical_or.reduce([whole.mask(k) for k in used]) if used else np.ones(len(raw.table), bool)
        # only the columns read below (a wide table's other columns are not copied)
        read = [*_GEO_KEY, "time_period", "period_label", "_row", *layout.keys] + [
            sp["column"] for e in entries.values() for sp in (_spec(e, w) for w in ("numerator", "denominator",
                                                                                   "published"))
            if isinstance(sp, dict)]
        columns = [c for c in dict.fromkeys(read) if c in raw.table.columns]
        table = raw.table.loc[keep, columns] if raw.table.columns.is_unique else raw.table[keep]
        raw = RawFile(raw.path, layout, table, raw.sha256, raw.warnings, raw.absent)
    geo = _geography(raw)
    specs = [_spec(e, w) for e in entries.values() for w in ("numerator", "denominator", "published")]
    needed = ["time_period", "period_label", "_row", *layout.keys] + [sp["column"] for sp in specs
                                                                     if isinstance(sp, dict)]
    t = raw.table.loc[geo.index, [c for c in dict.fromkeys(needed) if c in raw.table.columns]]
    periods, period_values = pd.factorize(t["time_period"])
    year_like = np.array([re.fullmatch(r"\d{4}", str(v)) is not None for v in period_values] + [False], dtype=bool)
    bad_period = pd.Series(~year_like[periods], index=t.index)
    if bad_period.any():
        i = bad_period.idxmax()
        raise InputError(raw.name, f"time period '{t.at[i, 'time_period']}' is not a year; expected e.g. 2024",
                         column="time_period", row=int(t.at[i, "_row"]))
    release = str(t["time_period"].astype(int).max())
    frames = []
    cache: dict = {}
    index = None
    if layout.keys:
        _pivot_long(raw, geo)
        index = _KeyIndex(t, layout)
    else:
        arrays = [geo["geographic_level"].to_numpy(dtype=object), geo["area_code"].to_numpy(dtype=object),
                  t["time_period"].to_numpy(dtype=object)]
        dup = (pd.concat([geo["geographic_level"], geo["area_code"], t["time_period"]], axis=1).duplicated(keep=False)
               if _has_duplicates(arrays, len(t)) else pd.Series(False, index=t.index))
        if dup.any():
            rows = t.loc[dup, "_row"].head(2).tolist()
            raise InputError(raw.name, f"duplicate rows for {geo.loc[dup, 'area_name'].iloc[0]} "
                                       f"{t.loc[dup, 'time_period'].iloc[0]}: rows {rows[0]} and {rows[1]}; "
                                       "expected one row per area and year", row=int(rows[1]))
    # One integer per (level, area, year): matching a spec's rows to the areas is array indexing, not a join.
    level, area, period = (geo["geographic_level"].to_numpy(dtype=object), geo["area_code"].to_numpy(dtype=object),
                           t["time_period"].to_numpy(dtype=object))
    row_id, uniques = pd.factorize(pd.Series(level + "\x1f" + area + "\x1f" + period))
    first = np.unique(row_id, return_index=True)[1]
    base = {"geographic_level": level[first], "area_code": area[first], "time_period": period[first]}
    for col in ("old_la_code", "area_name", "region_code", "region_name"):
        base[col] = geo[col].to_numpy(dtype=object)[first]
    base["period_label"] = (t["period_label"].to_numpy(dtype=object)[first] if "period_label" in t.columns
                            else period[first])
    n_ids = len(uniques)
    parsed_columns: dict = {}
    file_rows = t["_row"].to_numpy()

    def dense(found):
        """A spec's values spread over every (level, area, year): NaN and no status where the file has no row."""
        ids, value, status, rows = found
        v, st, r = np.full(n_ids, np.nan), np.full(n_ids, "", dtype=object), np.zeros(n_ids, dtype=np.int64)
        v[ids], st[ids], r[ids] = value, status, rows
        return v, st, r

    for ind, entry in entries.items():
        num_spec, den_spec, pub_spec = _spec(entry, "numerator"), _spec(entry, "denominator"), _spec(entry, "published")
        proportion = entry["method"] == "proportion"

        def values(spec, count):
            cache_key = (spec["column"], tuple(spec["key"] or ()), count)
            if cache_key not in cache:  # indicators of one file share counts (e.g. a denominator)
                cache[cache_key] = _values(spec, count)
            return cache[cache_key]

        def _values(spec, count):
            """(ids, values, statuses, file rows) of the rows a spec names."""
            if spec["column"] in raw.absent:  # an optional column this release does not publish
                raise InputError(raw.name, f"column needed for indicator {ind} is not in this release "
                                           f"({layout.publication})", column=spec["column"])
            mask = index.mask(spec["key"], raw.name) if layout.keys else np.ones(len(t), dtype=bool)
            if spec["column"] not in t.columns:
                raise InputError(raw.name, f"required column missing for indicator {ind} ({layout.publication})",
                                 column=spec["column"])
            col = spec["column"]
            if col not in parsed_columns:  # each value column parsed once per file, whatever indicators read it
                parsed_columns[col] = _NumberColumn(t[col])
            rows = file_rows[mask]
            numbers, status = parsed_columns[col].take(mask, np.arange(len(rows)), raw.name, col,
                                                       pd.Series(rows), count=count)
            return (row_id[mask], numbers.to_numpy(dtype=float), status.to_numpy(dtype=object),
                    rows.astype(np.int64))

        published_only = num_spec is None  # LAIT: the published figure is all there is
        first_spec = pub_spec if published_only else num_spec
        ids_n, numerator, num_status, num_row = values(first_spec, count=not published_only and entry["method"] !=
                                                       "ratio" and not num_spec["from_percent"])
        if len(ids_n) == 0:
            continue  # this file holds none of the indicator's categories (e.g. accommodation vs activity)
        order = np.argsort(ids_n, kind="stable")
        ids, numerator, num_status, num_row = ids_n[order], numerator[order], num_status[order], num_row[order]
        if published_only:  # LAIT's text has float artefacts (78.900000000000006): round to the registry's decimals
            published, pub_status = round_half_up(numerator, int(entry["decimals"])), num_status
            numerator, denominator = np.full(len(ids), np.nan), np.full(len(ids), np.nan)
            den_status, kind = np.full(len(ids), "", dtype=object), ""
        elif den_spec == "population":
            denominator, den_status = np.full(len(ids), np.nan), np.full(len(ids), "", dtype=object)
            kind = "population"
        else:
            v, st, _ = dense(values(den_spec, count=True))
            denominator, den_status = v[ids], st[ids]
            kind = "file"
        if published_only:
            pass
        elif pub_spec and pub_spec["column"] not in raw.absent:
            v, st, _ = dense(values(pub_spec, count=False))
            published, pub_status = v[ids], st[ids]
        else:
            published, pub_status = np.full(len(ids), np.nan), np.full(len(ids), "", dtype=object)
        if not published_only and num_spec["from_percent"]:
            numerator = numerator / 100 * denominator
        if proportion:
            over = numerator > denominator * (1 + 1e-12)
            if over.any():
                i = int(np.argmax(over))
                raise InputError(raw.name, f"{ind}: numerator {numerator[i]:g} is above its denominator "
                                           f"{denominator[i]:g} for {base['area_name'][ids[i]]} "
                                           f"{base['time_period'][ids[i]]}; expected a part of the whole",
                                 column=num_spec["column"], row=int(num_row[i]))
        status = np.where(num_status != "", num_status, np.where(den_status != "", den_status, pub_status))
        status = np.where(np.isnan(published if published_only else numerator) | (status == "u"), status, "")
        columns = {col: arr[ids] for col, arr in base.items()}
        n = len(ids)
        columns.update(numerator=numerator, denominator=denominator, published_value=published, status=status,
                       indicator=np.full(n, ind, dtype=object),
                       period_end=_period_end(pd.Series(columns["time_period"]),
                                              entry.get("period", layout.period)).to_numpy(),
                       denominator_kind=np.full(n, kind, dtype=object),
                       source_file=np.full(n, raw.name, dtype=object), release=np.full(n, release, dtype=object),
                       population_vintage=np.full(n, "", dtype=object), data_kind=np.full(n, data_kind, dtype=object),
                       value_basis=(np.full(n, PUBLISHED_ONLY, dtype=object) if published_only
                                    else np.where(np.isnan(published), "computed", "published")),
                       year_type=np.full(n, YEAR_TYPES.get(entry.get("period", layout.period), ""), dtype=object))
        frames.append(columns)
    if not frames:
        return pd.DataFrame(columns=OBS_COLUMNS)
    # one table built from every indicator's arrays (as concatenating a table per indicator gives, in one step)
    return pd.DataFrame({c: np.concatenate([f[c] for f in frames]) for c in OBS_COLUMNS})
