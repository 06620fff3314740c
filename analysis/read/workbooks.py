"""Published files that are not CSVs, read as the CSV tables the layout catalogue knows.

Two publications the council's scorecard needs are not explore-education-statistics CSVs:

- DfE's Local Authority Interactive Tool (LAIT) keeps its whole data set as one long Parquet file (``Short Desc``,
  ``Years``, ``LA and Regions``, ``Values``, ``LA Number``): old LA codes (970 England, 980-990 regions) and period
  labels of several kinds (``2025``, ``2024-25 (OT)``, ``2013/14-15/16``).
- MHCLG's revenue outturn (RSX) is an OpenDocument workbook: title lines above a header row whose position differs
  between years, one row per authority of every class, ``[x]`` where a return was not received.

Each is turned here into the text of a CSV with the explore-education-statistics geography columns
(``time_period`` as the year the period ends, ``geographic_level``, codes and names) and its own measure columns
under their published names, plus ``period_label`` (the period as published). Everything after that (recognising
the layout from the header, symbols, observations) is the same as for any CSV, so the catalogue
(``layouts.yaml``) names the measure columns, not this module.
"""

from __future__ import annotations

import io
import re
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.read import areas
from analysis.errors import InputError

PARQUET_MAGIC = b"PAR1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

#: LAIT's old codes of England and the regions (LA Number), and the explore-education-statistics codes they stand for.
LAIT_AGGREGATES = {
    970: (areas.LEVEL_NATIONAL, "", "England"),
    980: (areas.LEVEL_REGION, "E12000001", "North East"),
    981: (areas.LEVEL_REGION, "E12000002", "North West"),
    982: (areas.LEVEL_REGION, "E12000003", "Yorkshire and The Humber"),
    983: (areas.LEVEL_REGION, "E12000004", "East Midlands"),
    984: (areas.LEVEL_REGION, "E12000005", "West Midlands"),
    985: (areas.LEVEL_REGION, "E12000006", "East of England"),
    986: (areas.LEVEL_REGION, "E12000007", "London"),
    987: (areas.LEVEL_REGION, "E13000001", "Inner London"),
    988: (areas.LEVEL_REGION, "E13000002", "Outer London"),
    989: (areas.LEVEL_REGION, "E12000008", "South East"),
    990: (areas.LEVEL_REGION, "E12000009", "South West"),
}
LAIT_COLUMNS = ("Short Desc", "Years", "LA and Regions", "Values", "LA Number")

#: RSX authority classes that are upper-tier (children's services) authorities, and the England row's class.
RSX_LA_CLASSES = {"UA", "MD", "LB", "SC"}
RSX_ENGLAND_CLASS = "Eng"
RSX_SHEET = re.compile(r"^RSX_LA_Data", re.IGNORECASE)

GEO_OUT = ["time_period", "geographic_level", "country_code", "region_code", "region_name", "old_la_code",
           "new_la_code", "la_name", "period_label"]


def kind_of(head: bytes) -> str:
    """``parquet``, ``ods`` or ``""`` (anything else) from a file's first bytes."""
    if head[:4] == PARQUET_MAGIC:
        return "parquet"
    if head[:4] == b"PK\x03\x04" and ODS_MIMETYPE in head[:200]:
        return "ods"
    return ""


def end_year(label) -> str:
    """The year a published period ends, from its label: ``2024-25 (OT)`` and ``2015/16`` give 2025 and 2016,
    ``2013/14-15/16`` gives 2016, ``202425`` gives 2025, ``2025 (Rev)`` gives 2025; ``""`` when there is no year."""
    text = str(label).strip()
    if re.fullmatch(r"\d{6}", text):  # explore-education-statistics: 202425 is 2024/25
        start, end = int(text[:4]), int(text[4:])
        return str(start + 1) if (start + 1) % 100 == end else ""
    tokens = re.findall(r"\d{4}|\d{2}", text)
    years = [t for t in tokens if len(t) == 4]
    if not years:
        return ""
    last = tokens[-1]
    if len(last) == 4:
        return last
    century = int(years[-1]) // 100 * 100
    year = century + int(last)
    return str(year + 100 if year < int(years[-1]) else year)


def csv_text(path: str | Path, measures: frozenset | None = None) -> str:
    """The CSV text of a Parquet or ODS file this module reads (kept per path, size and modification time).

    ``measures``: LAIT measure codes (``Short Desc``) to keep; None keeps all 434 (a fiftyfold larger table: the
    indicator registry passes the few it reads).

    Raises
    ------
    InputError
        The file is neither LAIT's long file nor an RSX workbook, or a package needed to read it is missing.
    """
    path = Path(path)
    stat = path.stat()
    return _csv_text(str(path), stat.st_size, stat.st_mtime_ns, measures)


@lru_cache(maxsize=8)
def _csv_text(path: str, size: int, mtime: int, measures: frozenset | None) -> str:
    p = Path(path)
    with p.open("rb") as fh:
        head = fh.read(256)
    kind = kind_of(head)
    table = _lait(p, measures) if kind == "parquet" else _rsx(p) if kind == "ods" else None
    if table is None:
        raise InputError(p.name, "is neither a CSV, LAIT's long Parquet file nor an RSX OpenDocument workbook")
    out = io.StringIO()
    table.to_csv(out, index=False)
    return out.getvalue()


# --------------------------------------------------------------------------------------------------------------------
# LAIT


def _lait(path: Path, measures: frozenset | None = None) -> pd.DataFrame:
    """LAIT's long file with explore-education-statistics geography; rows with no year or no known area dropped."""
    try:
        table = pd.read_parquet(path, filters=[("Short Desc", "in", sorted(measures))] if measures else None)
    except ImportError:
        raise InputError(path.name, "is a Parquet file; reading it needs the pyarrow package (pip install "
                                    "pyarrow)") from None
    except (OSError, ValueError) as exc:
        raise InputError(path.name, f"is not a readable Parquet file ({exc})") from None
    missing = [c for c in LAIT_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(path.name, f"is a Parquet file but not LAIT's long file: no {', '.join(missing)} "
                                    f"(expected {', '.join(LAIT_COLUMNS)})")
    # worked out once per distinct area (170) and period label (a few dozen), then spread to the rows
    area_i, area_codes = pd.factorize(table["LA Number"])
    year_i, labels = pd.factorize(table["Years"].astype(str))
    known = set(areas.current()["old_la_code"])
    la_code, level, region_code, region_name = [], [], [], []
    for code in area_codes:
        text = str(int(code)) if pd.notna(code) else ""
        agg = LAIT_AGGREGATES.get(int(code)) if pd.notna(code) else None
        la_code.append(text if text in known and agg is None else "")
        level.append(agg[0] if agg else areas.LEVEL_LA if la_code[-1] else "")
        region_code.append(agg[1] if agg and agg[0] == areas.LEVEL_REGION else "")
        region_name.append(agg[2] if agg and agg[0] == areas.LEVEL_REGION else "")
    pick = lambda values: np.append(np.array(values, dtype=object), "")[area_i]  # noqa: E731  (-1: no area)
    years = np.append(np.array([end_year(v) for v in labels], dtype=object), "")[year_i]
    level = pick(level)
    out = pd.DataFrame({
        "time_period": years, "geographic_level": level, "country_code": areas.ENGLAND_CODE,
        "region_code": pick(region_code), "region_name": pick(region_name), "old_la_code": pick(la_code),
        "new_la_code": "", "la_name": np.where(level == areas.LEVEL_LA, table["LA and Regions"].to_numpy(dtype=object), ""),
        "period_label": table["Years"].to_numpy(dtype=object)})
    for col in table.columns:  # the measure columns, as published (the long 'Data item' text is not needed)
        if col not in ("Years", "LA Number", "LA and Regions", "Region", "Data item"):
            out[col] = table[col].to_numpy(dtype=object)
    values = out["Values"].astype(str).str.strip()
    out["Values"] = values.where(values != "-", "x")  # LAIT shows every DfE symbol as '-': not available
    keep = (level != "") & (years != "")
    return out[keep].reset_index(drop=True)


# --------------------------------------------------------------------------------------------------------------------
# RSX (OpenDocument spreadsheet)

_NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
       "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
       "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}
_T = "{%s}" % _NS["table"]
_O = "{%s}" % _NS["office"]
_MAX_REPEAT = 1000  # trailing empty rows and columns are written as one element repeated thousands of times


def ods_sheet(path: str | Path, name: re.Pattern) -> list[list[str]] | None:
    """The cells of the first sheet whose name matches ``name``, as text rows (None if there is none).

    Numbers are their full stored value (``office:value``), other cells their text; repeated cells are expanded and
    trailing empty cells dropped. Streamed with lxml, so other sheets cost a parse but no memory.
    """
    from lxml import etree

    with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
        rows: list[list[str]] | None = None
        for event, el in etree.iterparse(fh, events=("start", "end"), tag=(_T + "table", _T + "table-row")):
            if el.tag == _T + "table":
                if event == "start" and rows is None and name.search(el.get(_T + "name", "")):
                    rows = []
                elif event == "end":
                    if rows is not None:
                        return rows
                    el.clear()
                continue
            if event != "end":
                continue
            if rows is not None:
                cells = []
                for cell in el:
                    if cell.tag not in (_T + "table-cell", _T + "covered-table-cell"):
                        continue
                    value = cell.get(_O + "value")
                    if value is None:
                        value = "\n".join("".join(p.itertext()) for p in cell.iter("{%s}p" % _NS["text"]))
                    n = min(int(cell.get(_T + "number-columns-repeated", "1")), _MAX_REPEAT)
                    cells.extend([value] * n)
                while cells and cells[-1] == "":
                    cells.pop()
                repeat = min(int(el.get(_T + "number-rows-repeated", "1")), _MAX_REPEAT) if cells else 1
                rows.extend([cells] * repeat)
            el.clear()
    return rows


def _rsx(path: Path) -> pd.DataFrame:
    """The RSX data sheet: one row per upper-tier authority and England, with the sheet's own columns."""
    try:
        rows = ods_sheet(path, RSX_SHEET)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise InputError(path.name, f"is not a readable OpenDocument workbook ({exc})") from None
    except Exception as exc:  # lxml's XMLSyntaxError: a damaged workbook  # noqa: BLE001
        raise InputError(path.name, f"is not a readable OpenDocument workbook ({exc})") from None
    if rows is None:
        raise InputError(path.name, "is an OpenDocument workbook without an RSX_LA_Data sheet (MHCLG's revenue "
                                    "outturn service expenditure summary)")
    header_at = next((i for i, r in enumerate(rows[:30]) if "ONS Code" in [c.strip() for c in r]), None)
    title = " ".join(c for r in rows[: header_at or 0] for c in r[:1])
    period = re.search(r"(\d{4})-(\d{2})", title)
    if header_at is None or period is None:
        raise InputError(path.name, "RSX_LA_Data sheet without a header row naming 'ONS Code' and a title naming "
                                    "the financial year (e.g. 2024-25)", row=1)
    header = [re.sub(r"\s+", " ", c).strip() for c in rows[header_at]]  # names with double spaces and newlines
    width = len(header)
    body = [r[:width] + [""] * (width - len(r)) for r in rows[header_at + 1:] if any(c.strip() for c in r)]
    table = pd.DataFrame(body, columns=_unique(header), dtype=object)
    cls = table[_find(header, "Class", path)].astype(str).str.strip()
    code = table[_find(header, "ONS Code", path)].astype(str).str.strip()
    keep = (cls.isin(RSX_LA_CLASSES) & code.str.fullmatch(r"E\d{8}")) | (cls == RSX_ENGLAND_CLASS)  # not class totals
    table = table[keep].replace({"[x]": "x", "[z]": "z", "[c]": "c"})
    cls = cls[keep]
    label = f"{period.group(1)}-{period.group(2)}"
    geo = pd.DataFrame({
        "time_period": end_year(label),
        "geographic_level": np.where(cls == RSX_ENGLAND_CLASS, areas.LEVEL_NATIONAL, areas.LEVEL_LA),
        "country_code": areas.ENGLAND_CODE, "region_code": "", "region_name": "", "old_la_code": "",
        "new_la_code": np.where(cls == RSX_ENGLAND_CLASS, "", table[_find(header, "ONS Code", path)].astype(str)),
        "la_name": np.where(cls == RSX_ENGLAND_CLASS, "", table[_find(header, "Local authority", path)].astype(str)),
        "period_label": label}, index=table.index)
    return pd.concat([geo, table.drop(columns=[c for c in table.columns if c in GEO_OUT])], axis=1)


def _unique(names: list[str]) -> list[str]:
    """Header names made unique (a blank or repeated name gets its position), so a table can hold them."""
    seen: dict[str, int] = {}
    out = []
    for i, n in enumerate(names):
        n = n or f"column_{i + 1}"
        out.append(n if n not in seen else f"{n} ({i + 1})")
        seen[n] = i
    return out


def _find(header: list[str], name: str, path: Path) -> str:
    """The (unique) column name of a header cell, found case-insensitively."""
    for i, h in enumerate(header):
        if h.strip().casefold() == name.casefold():
            return _unique(header)[i]
    raise InputError(path.name, f"no '{name}' column in the RSX_LA_Data sheet's header")

