"""Writing outputs so that a file appears complete or not at all, and a spreadsheet never runs a formula.

One workbook writer serves ``needs indicators --out x.xlsx``, ``needs sources --out x.xlsx`` and the pack's
``tables.xlsx``: numbers are written as numbers (unrounded, with a number format showing the published decimals),
published symbols (``c``, ``x``, ...) as text explained on the sheet, every text cell made inert (formula injection),
and a bold, frozen, filtered header row.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.numbers import SYMBOLS

EXCEL_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
SHEET_NAME_MAX = 31
#: Characters Excel refuses in a sheet name.
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
#: Words a cut sheet name should not end on.
DANGLING = {"a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or", "per", "the", "to", "who", "with",
            "within"}
#: A text cell starting with one of these would be read as a formula by a spreadsheet (OWASP's CSV-injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The indicator table's columns shown to the row's published decimals (``decimals``) in a workbook.
INDICATOR_VALUE_COLUMNS = ("value", "lower_95", "upper_95", "lower_99_8", "upper_99_8", "published_value", "sn_mean",
                           "region_value", "england_value", "previous_value", "change", "target")


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step, on failure it is removed."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise ParameterError(f"output {path} is a folder; expected a file name")
    if not path.parent.exists():
        raise ParameterError(f"output folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; an output is as readable as any other
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@dataclass
class Sheet:
    """One table for a workbook, with what a reader needs beside it.

    Attributes
    ----------
    table : pandas.DataFrame
    title : str
        What the sheet holds: its first line, and its description on the contents sheet.
    source : str
        The source file(s) and release: its second line.
    formats : dict
        Column -> the decimals to show (an int, or one int per row), or None for a number in Excel's General format
        (a year, for example). These columns are written as numbers wherever a cell holds one; text in them (a
        published symbol) stays text. Other columns are written as they are typed.
    label : str
        The sheet tab's name, made safe and unique by :func:`sheet_names`; empty for the table's key.
    """

    table: pd.DataFrame
    title: str = ""
    source: str = ""
    formats: dict = field(default_factory=dict)
    label: str = ""


def neutralise(text: str) -> str:
    """Text that no spreadsheet will run: a cell starting ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return)
    gets a leading apostrophe, as OWASP advises against formula injection. Numbers are never passed here."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def sheet_names(labels: list[str]) -> list[str]:
    """Excel sheet names for ``labels``, in order: forbidden characters removed, at most 31 characters (cut at a
    word), no apostrophe at either end, unique ignoring case (Excel's rule; a repeat gets `` (2)``)."""
    names: list[str] = []
    taken: set[str] = set()
    for label in labels:
        base = SHEET_NAME_FORBIDDEN.sub(" ", str(label))
        base = re.sub(r"\s+", " ", base).lstrip("".join(FORMULA_STARTS) + "' ").rstrip("' ") or "Sheet"
        if base.lower() == "history":  # reserved by Excel
            base = "History table"
        name, n = _cut(base, SHEET_NAME_MAX), 1
        while name.lower() in taken:
            n += 1
            tail = f" ({n})"
            name = _cut(base, SHEET_NAME_MAX - len(tail)) + tail
        taken.add(name.lower())
        names.append(name)
    return names


def sheet_label(title: str, suffix: str) -> str:
    """``title`` and ``suffix`` within Excel's 31 characters, the title cut at a word so the suffix survives
    (``Missing incidents per child who went missing`` and ``trend`` -> ``Missing incidents trend``)."""
    return f"{_cut(title, SHEET_NAME_MAX - len(suffix) - 1)} {suffix}"


def _cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut after a whole word where one fits, without a dangling
    ``per``, ``who``, ``in``, ..."""
    if len(text) <= limit:
        return text
    words = text[:limit + 1].split(" ")[:-1] or [text[:limit]]
    while len(words) > 1 and words[-1].lower() in DANGLING:
        words.pop()
    return " ".join(words).rstrip(" -,;.'")


def indicator_formats(table: pd.DataFrame) -> dict:
    """The indicator table's value columns, each shown to its row's published decimals (the ``decimals`` column)."""
    if "decimals" not in table:
        return {}
    decimals = table["decimals"].to_numpy()
    return {c: decimals for c in INDICATOR_VALUE_COLUMNS if c in table}


def write_workbook(sheets: dict[str, pd.DataFrame | Sheet], path: str | Path, notes: dict[str, str] | None = None,
                   contents: str = "", contents_source: str = "") -> Path:
    """Write tables to an .xlsx workbook, one sheet each, atomically.

    Each sheet: its title and source (when it has them) on the first two lines, then a bold, frozen header row
    with a filter, then the table. Numbers are numbers, shown to their published decimals; a published symbol is
    text, explained on the sheet's source line; no text cell can run as a formula or a link.

    Parameters
    ----------
    sheets : dict
        Table key -> table (a DataFrame, or a :class:`Sheet` with its title, source and number formats).
    path : str or Path
    notes : dict, optional
        Table key -> a title for a plain DataFrame (its first line).
    contents : str
        When given, a first sheet ``Contents`` with this title lists every sheet with a link to it, what it holds,
        its rows and its source, then gives the key to the published symbols.
    contents_source : str
        The contents sheet's second line (which data the workbook holds).

    Returns
    -------
    Path
    """
    import xlsxwriter

    path = Path(path)
    items = [(key, s if isinstance(s, Sheet) else Sheet(s, title=(notes or {}).get(key, "")))
             for key, s in sheets.items()]
    labels = (["Contents"] if contents else []) + [s.label or key for key, s in items]
    names = sheet_names(labels)[1 if contents else 0:]
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), EXCEL_OPTIONS)
        styles = _Styles(wb)
        if contents:
            index = pd.DataFrame({"Sheet": names, "Table": [k for k, _ in items],
                                  "What it holds": [s.title for _, s in items],
                                  "Rows": [len(s.table) for _, s in items],
                                  "Source": [s.source for _, s in items]})
            ws = _write_sheet(wb, "Contents", Sheet(index, contents, contents_source, {"Rows": 0}), styles)
            for i, name in enumerate(names):  # a link to each sheet, over the name written there
                quoted = name.replace("'", "''")
                ws.write_url(3 + i, 0, f"internal:'{quoted}'!A1", styles.link, string=name)
            key_row = 3 + len(names) + 1  # after a blank row, outside the filtered list
            ws.write_string(key_row, 0, "Symbols", styles.bold)
            for i, (symbol, meaning) in enumerate(SYMBOLS.items(), start=key_row + 1):
                ws.write_string(i, 0, symbol)
                ws.write_string(i, 1, meaning)
        for (key, s), name in zip(items, names):
            _write_sheet(wb, name, s, styles)
        wb.close()
    return path


def _exact_worksheet_class():
    """xlsxwriter's worksheet writing every number with the digits it needs to read back exactly.

    xlsxwriter writes 16 significant digits, which can move a double by one unit in its last place; Python's
    shortest round-trip form (``repr``) does not, so a value read back with pandas equals the table's.
    """
    from xlsxwriter.worksheet import Worksheet

    class ExactWorksheet(Worksheet):
        def _xml_number_element(self, number, attributes=[]):  # noqa: B006 (xlsxwriter's signature)
            attr = "".join(f' {key}="{self._escape_attributes(value)}"' for key, value in attributes)
            text = str(int(number)) if float(number).is_integer() and abs(number) < 1e15 else repr(float(number))
            self.fh.write(f"<c{attr}><v>{text}</v></c>")

    return ExactWorksheet


class _Styles:
    """The workbook's cell formats, made once (xlsxwriter keeps one format per distinct style)."""

    def __init__(self, wb):
        self.wb = wb
        self.bold = wb.add_format({"bold": True})
        self.header = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
        self.link = wb.add_format({"font_color": "#1d70b8", "underline": 1})
        self.date = wb.add_format({"num_format": "yyyy-mm-dd"})
        self.worksheet_class = _exact_worksheet_class()
        self._numbers: dict = {}

    def number(self, decimals):
        """Thousands separated, ``decimals`` places; None: Excel's General format."""
        if decimals is None:
            return None
        d = int(decimals)
        if d not in self._numbers:
            self._numbers[d] = self.wb.add_format({"num_format": "#,##0" + ("." + "0" * d if d > 0 else "")})
        return self._numbers[d]


def _symbols_in(s: Sheet) -> set[str]:
    """The published symbols standing in for numbers in the sheet's number columns."""
    found: set[str] = set()
    for col in s.formats:
        if col in s.table:
            found |= {v for v in s.table[col].tolist() if isinstance(v, str) and v in SYMBOLS}
    return found


def _write_sheet(wb, name: str, s: Sheet, styles: _Styles):
    """One sheet: title and source lines (if any), the header row, then the table cell by cell, typed."""
    ws = wb.add_worksheet(name, worksheet_class=styles.worksheet_class)
    df = s.table
    symbols = sorted(_symbols_in(s))
    source = s.source
    if symbols:
        key = "; ".join(f"{sym} = {SYMBOLS[sym]}" for sym in symbols)
        source = f"{source} Symbols: {key}." if source else f"Symbols: {key}."
    top = 2 if (s.title or source) else 0
    if s.title:
        ws.write_string(0, 0, neutralise(s.title), styles.bold)
    if source:
        ws.write_string(1, 0, neutralise(source))
    widths = []
    for j, col in enumerate(df.columns):
        ws.write_string(top, j, neutralise(str(col)), styles.header)
        shown = _write_column(ws, top + 1, j, df[col], s.formats.get(col), col in s.formats, styles)
        widths.append(max([min(len(str(col)), 24)] + shown))  # a long header wraps
    for j, w in enumerate(widths):
        ws.set_column(j, j, min(max(w + 2, 8), 60))
    if len(df.columns):
        ws.freeze_panes(top + 1, 0)
        ws.autofilter(top, 0, top + max(len(df), 1), len(df.columns) - 1)
    return ws


def _write_column(ws, first_row: int, j: int, values: pd.Series, decimals, numeric: bool, styles: _Styles) -> list:
    """Write one column from ``first_row`` down; return the widths of its first 200 cells as shown.

    A date column is written as dates. Otherwise a cell holding a number is a number (in a ``numeric`` column, text
    that reads as one too, as from a CSV) with the column's (or the row's) number format; other text is text,
    neutralised; a missing value or empty text is a blank cell.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        for i, v in enumerate(values.tolist()):
            if not pd.isna(v):
                ws.write_datetime(first_row + i, j, v.to_pydatetime(), styles.date)
        return [10]
    n = len(values)
    if not numeric:
        formats = [None] * n
    elif decimals is not None and np.ndim(decimals) > 0:
        formats = [styles.number(d) for d in decimals]
    else:
        formats = [styles.number(decimals)] * n
    shown = []
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        for i, v in enumerate(values.to_numpy(dtype=float, na_value=np.nan).tolist()):
            if math.isfinite(v):
                ws.write_number(first_row + i, j, v, formats[i])
                if i < 200:
                    shown.append(_width(v, decimals, i, formats[i]))
        return shown
    for i, v in enumerate(values.astype(object).tolist()):
        number = _as_number(v, numeric)
        if number is not None:
            if math.isfinite(number):
                ws.write_number(first_row + i, j, number, formats[i])
                shown.append(_width(number, decimals, i, formats[i]))
        elif isinstance(v, str):
            if v:
                ws.write_string(first_row + i, j, neutralise(v))
                shown.append(len(v))
        elif isinstance(v, (bool, np.bool_)):
            ws.write_boolean(first_row + i, j, bool(v))
            shown.append(5)
        elif not pd.isna(v):
            ws.write_string(first_row + i, j, neutralise(str(v)))
            shown.append(len(str(v)))
    return shown[:200]


def _width(number: float, decimals, i: int, fmt) -> int:
    """How many characters ``number`` takes as shown (for the column's width)."""
    if fmt is None:
        return len(f"{number:g}")
    return len(f"{number:,.{int(decimals[i]) if np.ndim(decimals) > 0 else int(decimals)}f}")


def _as_number(v, numeric: bool) -> float | None:
    """The cell's number, if it holds one: a Python or numpy number (not a bool), or in a numeric column text that
    reads as a number (a table read back from CSV)."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return None if isinstance(v, float) and np.isnan(v) else float(v)
    if numeric and isinstance(v, str) and v.strip():
        try:
            return float(v)
        except ValueError:
            return None
    return None


def write_table(df: pd.DataFrame, path: str | Path, sheet: str = "indicators") -> Path:
    """Write one table as CSV (UTF-8) or .xlsx by the file's extension, atomically.

    In a workbook, the indicator table's values are numbers shown to each row's published decimals, and the header
    row is the first row (``pandas.read_excel`` reads it as it is).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_workbook({sheet: Sheet(df, formats=indicator_formats(df))}, path)
    if suffix != ".csv":
        raise ParameterError(f"output {path.name}: expected a .csv or .xlsx file name")
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------------------------
# The tables behind a pack's pages: saved by the notebooks (report.Context.register), gathered into tables.xlsx


def save_table(folder: str | Path, key: str, sheet: Sheet) -> Path:
    """Save a table as ``KEY.csv`` (full precision) beside ``KEY.json`` (its title, source, label, number formats
    and the order it was saved in), for :func:`load_tables`. A table saved again keeps its place."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta_path = folder / f"{key}.json"
    order = (json.loads(meta_path.read_text("utf-8"))["order"] if meta_path.is_file()
             else len(list(folder.glob("*.json"))))
    sheet.table.to_csv(folder / f"{key}.csv", index=False)
    meta = {"title": sheet.title, "source": sheet.source, "label": sheet.label, "order": order,
            "formats": {c: (np.asarray(d).tolist() if d is not None else None) for c, d in sheet.formats.items()}}
    meta_path.write_text(json.dumps(meta), "utf-8")
    return folder / f"{key}.csv"


def load_tables(folder: str | Path) -> dict[str, Sheet]:
    """The tables :func:`save_table` saved in ``folder``, in the order they were saved. Every cell is read as text
    (codes keep their leading zeros); the number columns become numbers where the workbook is written."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    metas = []
    for meta_path in folder.glob("*.json"):
        meta = json.loads(meta_path.read_text("utf-8"))
        metas.append((meta.pop("order"), meta_path.stem, meta))
    sheets = {}
    for _, key, meta in sorted(metas):
        table = pd.read_csv(folder / f"{key}.csv", dtype=str, keep_default_na=False)
        sheets[key] = Sheet(table, **meta)
    return sheets
