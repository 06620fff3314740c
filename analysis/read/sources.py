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

import copy
import csv
import gzip
import hashlib
import io
import re
import warnings
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

#: The dtype of text columns as ``pd.read_csv(dtype=str)`` gives them (pandas' string dtype; object before pandas 3).
TEXT = pd.Series([], dtype=str).dtype


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
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
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
            uniq = pd.unique(table[col].to_numpy(dtype=object))
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
        if len({normalise(v) for v in pd.unique(table[col].to_numpy(dtype=object))}) <= 1:
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


#: Which ASCII bytes str.strip removes (str.isspace): spaces, tabs, line breaks and the separator controls.
_ASCII_SPACE = np.array([chr(c).isspace() for c in range(256)]) & (np.arange(256) < 128)


def _needs_strip(values: pd.Series) -> bool:
    """Whether any value may have a space at either end: the bytes either side of each separator in the joined
    text, looked up at once, not a call per value (a value holding a NUL or non-ASCII text takes the careful path)."""
    try:
        joined = "\x00" + "\x00".join(values.to_numpy(dtype=object)) + "\x00"
    except TypeError:  # a missing value (a short row)
        return True
    if not joined.isascii():
        return True
    text = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    ends = np.flatnonzero(text == 0)
    return bool(_ASCII_SPACE[text[ends[1:] - 1]].any() or _ASCII_SPACE[text[ends[:-1] + 1]].any())


def _strip(values: pd.Series) -> pd.Series:
    """Strip spaces, once per distinct value where values repeat (labels, codes, years)."""
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
    raw = _finish(_stage(path, columns, layout, pos, text, digest, layouts))
    text_columns = {c: TEXT for c in raw.table.columns if c != "_row"}
    return RawFile(raw.path, raw.layout, raw.table.astype(text_columns), raw.sha256, raw.warnings, raw.absent)


@dataclass
class _Staged:
    """A file parsed as :func:`read_raw` parses it, before the rows of unpinned breakdowns are dropped, its cells
    Python strings (object columns: reading them as arrays costs nothing; :func:`read_raw` hands on the text dtype)
    (internal)."""

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
    try:  # as UTF-8 bytes: the C parser reads them directly (a text stream is encoded again in chunks); in one
        # piece, not in chunks concatenated afterwards; the parser's own strings, not converted to a string dtype
        table = pd.read_csv(io.BytesIO(text.encode("utf-8")), dtype=object, keep_default_na=False, header=0,
                            low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        row = re.search(r"line (\d+)", str(exc))
        raise InputError(path.name, f"is not a well-formed CSV ({str(exc).strip()})",
                         row=int(row.group(1)) if row else None) from None
    if table.empty:
        raise InputError(path.name, "has a header but no data rows")
    if table.shape[1] != len(columns):  # a header spanning lines (a quoted newline): go by what pandas read
        columns = [str(c).strip().lstrip("\ufeff") for c in table.columns]
        layout, pos = _choose(columns, path.name, layouts or LAYOUTS)
    by_pos = {i: canonical for canonical, i in pos.items()}
    names = [by_pos.get(i, columns[i]) for i in range(table.shape[1])]
    keep = [j for j, n in enumerate(names) if j in by_pos or (n not in pos and n not in names[:j])]
    table.columns = names
    if len(keep) < len(names):
        table = table.take(keep, axis=1)  # a table of its own (no chained-assignment warning in any pandas)
    # the catalogued columns stripped (a release rarely has anything to strip): the table built again in one piece
    stripped = {col: _strip(table[col]) for col in pos if _needs_strip(table[col])}
    if stripped:
        table = pd.DataFrame({c: stripped.get(c, table[c]) for c in table.columns}, copy=False)
    absent = tuple(c for c in layout.optional if c not in pos)
    with warnings.catch_warnings():  # a few columns added to a wide table (parsed as one block per column): cheap
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        table["_row"] = np.arange(2, len(table) + 2)
        for col in absent:
            table[col] = ""
        if "time_period" in table.columns:
            table = _period_years(table)
    table = canonical_labels(table, layout)
    unmapped = [names[j] for j in keep if j not in by_pos]
    return _Staged(path, layout, table, digest, unmapped, absent, columns)


def _period_years(table: pd.DataFrame) -> pd.DataFrame:
    """``time_period`` as the year each period ends (``202425`` -> ``2025``), the label as published kept in
    ``period_label`` (filled where a file has none). Worked out per distinct label; a new table where one changes."""
    labels = table["period_label"] if "period_label" in table.columns else table["time_period"]
    codes, uniques = pd.factorize(table["time_period"])
    six = [bool(re.fullmatch(r"\d{6}", str(u))) for u in uniques]
    if "period_label" in table.columns and (labels != "").all() and not any(six):
        return table
    out = table.copy(deep=False)  # whole columns are replaced or added below, none changed in place
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
    numbers, status = _NumberColumn(values.to_numpy(dtype=object)).take(
        np.ones(len(values), dtype=bool), file_name, column, np.asarray(rows), count)
    return (pd.Series(numbers, index=values.index, dtype=float),
            pd.Series(status, index=values.index, dtype=object).astype(str))


class _NumberColumn:
    """A column of published values parsed once per distinct text; :meth:`take` gives the rows a spec names, with
    the errors :func:`parse_numbers` raises for those rows (internal)."""

    def __init__(self, values: np.ndarray):
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        self.codes, self.uniques = codes, np.asarray(uniques, dtype=object)
        parsed = pd.to_numeric(pd.Series(self.uniques, dtype=object), errors="coerce").to_numpy(dtype=float, copy=True)
        # What is not a number as it stands (a symbol, an empty cell, a thousands separator) is read again per
        # distinct value: stripped, symbols recognised, commas dropped.
        again = np.flatnonzero(np.isnan(parsed))
        text = [self.text(j) for j in again]
        lowered = [t.lower() for t in text]
        is_symbol = np.array([t in SYMBOLS for t in lowered], dtype=bool)
        empty = np.array([t == "" for t in text], dtype=bool)
        number_text = np.array([t.replace(",", "") for t in text] + [""], dtype=object)[:-1]
        number_text[is_symbol | empty] = np.nan
        parsed[again] = pd.to_numeric(pd.Series(number_text, dtype=object), errors="coerce").to_numpy(dtype=float)
        self.parsed = parsed
        self.bad = np.zeros(len(parsed), dtype=bool)
        self.bad[again] = np.isnan(parsed[again]) & ~is_symbol & ~empty
        self.status = np.full(len(parsed), "", dtype=object)
        self.status[again] = [("x" if e else t if s else "") for t, s, e in zip(lowered, is_symbol, empty)]

    def text(self, j: int) -> str:
        """Distinct value ``j`` as text, stripped (a missing cell is empty)."""
        u = self.uniques[j]
        return (u if type(u) is str else "" if pd.isna(u) else str(u)).strip()

    def take(self, mask: np.ndarray, file_name: str, column: str, rows: np.ndarray, count: bool = False):
        """(numbers, status) arrays of the rows in ``mask`` (``rows``: their file lines), as :func:`parse_numbers`."""
        codes = self.codes[mask]
        bad = self.bad[codes]
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(file_name, f"'{self.text(codes[i])}' is not a number or a published symbol "
                                        f"({', '.join(SYMBOLS)}); expected a number", column=column,
                             row=int(rows[i]))
        numbers = self.parsed[codes] if len(codes) else np.zeros(0)
        if count and (numbers < 0).any():
            i = int(np.argmax(numbers < 0))
            raise InputError(file_name, f"negative count {self.text(codes[i])}; expected a count of 0 or more",
                             column=column, row=int(rows[i]))
        status = self.status[codes] if len(codes) else np.zeros(0, dtype=object)
        return numbers, status


_PERIOD_ENDS: dict = {}  # (years, period) -> their end dates: files and indicators share a dozen years


def _period_ends(years: list[int], period: str) -> np.ndarray:
    """The date each year's period ends (31 March, or the end of February for calendar-year NEET figures)."""
    key = (tuple(years), period)
    ends = _PERIOD_ENDS.get(key)
    if ends is None:
        text = pd.Series(years, dtype=np.int64).astype(str)
        if period == "calendar":  # NEET: the December-February average, dated by the end of February
            ends = pd.to_datetime(text + "-03-01") - pd.Timedelta(days=1)
        elif period == "academic":
            ends = pd.to_datetime(text + "-08-31")
        elif period == "calendar_year":
            ends = pd.to_datetime(text + "-12-31")
        else:
            ends = pd.to_datetime(text + "-03-31")
        ends = ends.to_numpy()
        if len(_PERIOD_ENDS) > 256:
            _PERIOD_ENDS.clear()
        _PERIOD_ENDS[key] = ends
    return ends


_GEO_KEY = ["geographic_level", "country_code", "region_code", "region_name", "old_la_code", "new_la_code", "la_name"]


def _combined_codes(arrays: list, n: int) -> np.ndarray:
    """One integer per distinct combination of equally long arrays, numbered in order of first appearance (as
    ``groupby(columns, sort=False, dropna=False).ngroup()``; missing values form a group of their own).

    Each array is factorised once; the codes are combined as digits of one number, renumbered only when the number
    could overflow.
    """
    code, radix = np.zeros(n, dtype=np.int64), 1
    for arr in arrays:  # text as objects, codes as integers (never boxed)
        codes, uniques = pd.factorize(np.asarray(arr), use_na_sentinel=False)
        width = len(uniques) + 1
        if radix * width >= 1 << 62:
            code = pd.factorize(code)[0].astype(np.int64)
            radix = int(code.max()) + 1
        code, radix = code * width + codes, radix * width
    return pd.factorize(code)[0].astype(np.int64)


def _has_duplicates(arrays: list, n: int) -> bool:
    """Whether two rows agree on every one of ``arrays`` (as ``DataFrame.duplicated().any()``)."""
    return n > 0 and int(_combined_codes(arrays, n).max()) + 1 < n


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """The position of each code's first row, for codes numbered in order of first appearance (as
    ``np.unique(codes, return_index=True)[1]``, without sorting: a code is new where it exceeds all before it)."""
    new = np.ones(len(codes), dtype=bool)
    new[1:] = codes[1:] > np.maximum.accumulate(codes)[:-1]
    return np.flatnonzero(new)


def _areas(raw: RawFile, sel: np.ndarray | None = None):
    """The area of each row of a table (or of the rows at positions ``sel``), worked out once per distinct area: a
    file repeats each area for every year and category.

    Returns
    -------
    (rows, slot, columns)
        The positions of the rows kept: at a known level, with a code (LA or regional rows without one are dropped,
        with a warning); each kept row's distinct area; and per distinct area, as object arrays,
        ``geographic_level, area_code, area_name, old_la_code, region_code, region_name`` (current codes and names
        for LAs, and their current region).
    """
    t = raw.table
    sel = np.arange(len(t)) if sel is None else sel
    cols = {c: t[c].to_numpy(dtype=object)[sel] for c in _GEO_KEY}
    codes = _combined_codes(list(cols.values()), len(sel))
    first = _first_rows(codes)
    u = {c: v[first] for c, v in cols.items()}
    level = u["geographic_level"]
    is_la, is_reg = level == areas.LEVEL_LA, level == areas.LEVEL_REGION
    keep_u = is_la | is_reg | (level == areas.LEVEL_NATIONAL)
    codeless_u = ((is_la & (u["new_la_code"] == "") & (u["old_la_code"] == ""))
                  | (is_reg & (u["region_code"] == "")))
    dropped_rows = (keep_u & codeless_u)[codes]
    if dropped_rows.any():
        dropped = t.iloc[sel[dropped_rows]]
        names = dropped["la_name"].where(dropped["la_name"] != "", dropped["region_name"])
        raw.warnings.append(f"{raw.name}: ignored {len(dropped)} row(s) with no area code "
                            f"(rows {', '.join(map(str, dropped['_row'].head(5)))}): {', '.join(sorted(set(names)))}")
    keep_u = keep_u & ~codeless_u
    text = all(isinstance(v, str) for arr in u.values() for v in arr)
    fast = _geography_fast(u) if text else None  # plain dictionaries: no pandas call per column of a few hundred areas
    if fast is not None:
        area_code, area_name, old_la_code, region_code, region_name = fast
    else:
        uf = t.iloc[sel[first]]
        la_code = areas.canonical_codes(uf["old_la_code"], uf["new_la_code"])
        lookup = areas.current().set_index("new_la_code")
        area_code = np.select([is_la, is_reg], [la_code, uf["region_code"]],
                              uf["country_code"].replace("", areas.ENGLAND_CODE))
        la_name = la_code.map(lookup["la_name"]).fillna(uf["la_name"])
        area_name = np.select([is_la, is_reg], [la_name, uf["region_name"]], areas.ENGLAND_NAME)
        old_la_code = uf["old_la_code"].where(is_la, "").to_numpy(dtype=object)
        region_code = la_code.map(lookup["region_code"]).fillna(uf["region_code"])
        region_name = la_code.map(lookup["region_name"]).fillna(uf["region_name"])
        region_code = np.select([is_la, is_reg], [region_code, uf["region_code"]], "")
        region_name = np.select([is_la, is_reg], [region_name, uf["region_name"]], "")
    columns = {"geographic_level": level, "area_code": area_code, "area_name": area_name, "old_la_code": old_la_code,
               "region_code": region_code, "region_name": region_name}
    rows = keep_u[codes]
    return sel[rows], codes[rows], {c: np.asarray(v, dtype=object) for c, v in columns.items()}


def _geography(raw: RawFile) -> pd.DataFrame:
    """Area columns for each row, as text (:data:`TEXT`): canonical code, name, level and region; rows without codes
    are dropped.

    Worked out once per distinct area (:func:`_areas`), then spread to rows.
    """
    rows, slot, columns = _areas(raw)
    return pd.DataFrame({c: pd.array(v[slot], dtype=TEXT) for c, v in columns.items()}, index=raw.table.index[rows])


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


def _geography_fast(cols: dict):
    """:func:`_areas`' per-area columns by dictionary look-ups, for areas given as text throughout (None if the
    lookup has repeated codes: the pandas path then decides)."""
    maps = _area_maps()
    if maps is None:
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


def _duplicate_rows(raw: RawFile, frame: pd.DataFrame, area_name: np.ndarray, file_rows: np.ndarray):
    """The error for rows that repeat an area and year (and category, in a long layout): the first two such rows."""
    keys = raw.layout.keys
    at = np.flatnonzero(frame.duplicated(keep=False).to_numpy())
    rows, first = file_rows[at[:2]], frame.iloc[at[0]]
    categories = f" ({', '.join(str(first[k]) for k in keys)})" if keys else ""
    unit = "area, year and category" if keys else "area and year"
    return InputError(raw.name, f"duplicate rows for {area_name[at[0]]} {first['period']}{categories}: rows {rows[0]} "
                                f"and {rows[1]}; expected one row per {unit}", row=int(rows[1]))


class _KeyIndex:
    """The key columns of a long table, factorised once: a registry key's rows are then an integer comparison."""

    def __init__(self, t: pd.DataFrame, layout: Layout):
        self.layout = layout
        self.codes, self.labels = {}, {}
        for k in layout.keys:
            codes, uniques = pd.factorize(t[k].to_numpy(dtype=object))
            self.codes[k] = codes
            by_label: dict[str, list[int]] = {}
            for i, u in enumerate(uniques):
                by_label.setdefault(normalise(u), []).append(i)
            self.labels[k] = (by_label, len(uniques))

    def subset(self, rows: np.ndarray) -> "_KeyIndex":
        """The index of some of the rows (positions), without factorising again."""
        out = copy.copy(self)  # the same labels
        out.codes = {k: codes[rows] for k, codes in self.codes.items()}
        return out

    def mask(self, key, file_name: str = "") -> np.ndarray:
        if len(key) != len(self.layout.keys):
            raise ValueError(f"registry key {key} does not fit layout {self.layout.name} keyed by {self.layout.keys}")
        parts = []
        for k, v in zip(self.layout.keys, key):
            by_label, n_labels = self.labels[k]
            wanted = np.zeros(n_labels + 1, dtype=bool)  # the last slot: a missing cell (code -1)
            wanted[by_label.get(normalise(self.layout.canonical_label(k, v)), [])] = True
            parts.append(wanted[self.codes[k]])
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

    Notes
    -----
    Works on the positions of the rows it reads and on integer codes of their areas, periods and categories (each
    column factorised once), so the file's table is never copied.
    """
    layout = raw.layout
    entries = layout_entries(layout, registry)
    if not entries:
        return pd.DataFrame(columns=OBS_COLUMNS)
    table = raw.table
    whole, sel = (_KeyIndex(table, layout) if layout.keys else None), None
    if layout.keys:  # only the categories the registry uses (a long file holds many more)
        used = [spec["key"] for e in entries.values() for spec in (_spec(e, w) for w in ("numerator", "denominator",
                "published")) if isinstance(spec, dict) and spec["key"] is not None]
        if used:
            sel = np.flatnonzero(np.logical_or.reduce([whole.mask(k) for k in used]))
    rows, slot, area = _areas(raw, sel)
    n = len(rows)
    file_rows = table["_row"].to_numpy()[rows]
    period = table["time_period"].to_numpy(dtype=object)[rows]
    period_codes, period_values = pd.factorize(period)
    year_like = np.array([re.fullmatch(r"\d{4}", str(v)) is not None for v in period_values] + [False], dtype=bool)
    bad_period = ~year_like[period_codes]
    if bad_period.any():
        i = int(np.argmax(bad_period))
        raise InputError(raw.name, f"time period '{period[i]}' is not a year; expected e.g. 2024",
                         column="time_period", row=int(file_rows[i]))
    years = [int(v) for v in period_values]
    release = str(max(years)) if years else ""
    index = whole.subset(rows) if whole is not None else None
    # One integer per (level, area, year): matching a spec's rows to the areas is array indexing, not a join.
    area_id = _combined_codes([area["geographic_level"], area["area_code"]], len(area["area_code"]))
    row_id = _combined_codes([area_id[slot], period_codes], n)
    if _has_duplicates([row_id, *(index.codes.values() if index is not None else ())], n):
        frame = pd.DataFrame({"level": area["geographic_level"][slot], "area": area["area_code"][slot],
                              "period": period, **{k: table[k].to_numpy(dtype=object)[rows] for k in layout.keys}})
        raise _duplicate_rows(raw, frame, area["area_name"][slot], file_rows)
    first = _first_rows(row_id)
    base = {c: area[c][slot[first]] for c in ("geographic_level", "area_code", "old_la_code", "area_name",
                                              "region_code", "region_name")}
    base["time_period"] = period[first]
    base["period_label"] = (table["period_label"].to_numpy(dtype=object)[rows[first]] if "period_label" in table.columns
                            else period[first])
    base_period = period_codes[first]
    n_ids = len(first)
    parsed_columns: dict = {}
    cache: dict = {}

    def dense(found):
        """A spec's values spread over every (level, area, year): NaN and no status where the file has no row."""
        ids, value, status, rows = found
        v, st, r = np.full(n_ids, np.nan), np.full(n_ids, "", dtype=object), np.zeros(n_ids, dtype=np.int64)
        v[ids], st[ids], r[ids] = value, status, rows
        return v, st, r

    frames = []
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
            mask = index.mask(spec["key"], raw.name) if layout.keys else np.ones(n, dtype=bool)
            col = spec["column"]
            if col not in table.columns:
                raise InputError(raw.name, f"required column missing for indicator {ind} ({layout.publication})",
                                 column=col)
            if col not in parsed_columns:  # each value column parsed once per file, whatever indicators read it
                parsed_columns[col] = _NumberColumn(table[col].to_numpy(dtype=object)[rows])
            numbers, status = parsed_columns[col].take(mask, raw.name, col, file_rows[mask], count=count)
            return row_id[mask], numbers, status, file_rows[mask].astype(np.int64)

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
        m = len(ids)
        columns.update(numerator=numerator, denominator=denominator, published_value=published, status=status,
                       indicator=np.full(m, ind, dtype=object),
                       period_end=_period_ends(years, entry.get("period", layout.period))[base_period[ids]],
                       denominator_kind=np.full(m, kind, dtype=object),
                       source_file=np.full(m, raw.name, dtype=object), release=np.full(m, release, dtype=object),
                       population_vintage=np.full(m, "", dtype=object), data_kind=np.full(m, data_kind, dtype=object),
                       value_basis=(np.full(m, PUBLISHED_ONLY, dtype=object) if published_only
                                    else np.where(np.isnan(published), "computed", "published")),
                       year_type=np.full(m, YEAR_TYPES.get(entry.get("period", layout.period), ""), dtype=object))
        frames.append(columns)
    if not frames:
        return pd.DataFrame(columns=OBS_COLUMNS)
    # one table built from every indicator's arrays (as concatenating a table per indicator gives, in one step), its
    # text columns made text directly rather than by inference
    columns = {c: np.concatenate([f[c] for f in frames]) for c in OBS_COLUMNS}
    return pd.DataFrame({c: pd.array(v, dtype=TEXT) if v.dtype.kind in "OU" else v for c, v in columns.items()})
