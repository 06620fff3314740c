"""Writing outputs so that a file appears complete or not at all, and a spreadsheet never runs a formula."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from analysis.errors import ParameterError

EXCEL_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


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


def write_workbook(sheets: dict[str, pd.DataFrame], path: str | Path, notes: dict[str, str] | None = None) -> Path:
    """Write tables to an .xlsx workbook, one sheet each, atomically; text is never turned into formulas or links.

    Parameters
    ----------
    sheets : dict
        Sheet name -> table. Names are cut to Excel's 31 characters.
    path : str or Path
    notes : dict, optional
        Sheet name -> a line written above the table (its title and source).
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="xlsxwriter", engine_kwargs={"options": EXCEL_OPTIONS}) as xl:
            for name, df in sheets.items():
                sheet = name[:31]
                start = 0
                if notes and name in notes:
                    start = 2
                df.to_excel(xl, sheet_name=sheet, index=False, startrow=start)
                ws = xl.sheets[sheet]
                if start:
                    ws.write_string(0, 0, notes[name])
                for i, col in enumerate(df.columns):
                    width = max([len(str(col))] + [len(str(v)) for v in df[col].head(200)])
                    ws.set_column(i, i, min(max(width + 2, 8), 60))
                ws.freeze_panes(start + 1, 0)
    return path


def write_table(df: pd.DataFrame, path: str | Path, sheet: str = "indicators") -> Path:
    """Write one table as CSV (UTF-8) or .xlsx by the file's extension, atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_workbook({sheet: df}, path)
    if suffix != ".csv":
        raise ParameterError(f"output {path.name}: expected a .csv or .xlsx file name")
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8")
    return path
