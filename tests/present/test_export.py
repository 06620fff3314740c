"""The workbook writer shared by ``needs indicators --out x.xlsx`` and the pack's ``tables.xlsx``: opened with openpyxl
(types, number formats, freeze panes, filters, links, sheet names) and read back with pandas (values exact).

Every table here is small, hand-made and readable; expected values are written out, never taken from our output.
"""

from __future__ import annotations

import math
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from analysis.present import export
from analysis.errors import ParameterError

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+44 1642 000000", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


# --------------------------------------------------------------------------------------------------------------------
# Sheet names and neutralised text


def test_sheet_names_follow_excels_rules():
    names = export.sheet_names(["Children in need: trend [2024]", "a/b\\c*d?e", "History", "'quoted'",
                                "=cmd", "Summary", "summary", "x" * 40, "x" * 40, "", "Contents"])
    assert names == ["Children in need trend 2024", "a b c d e", "History table", "quoted", "cmd", "Summary",
                     "summary (2)", "x" * 31, "x" * 27 + " (2)", "Sheet", "Contents"]


def test_sheet_label_keeps_the_suffix_and_cuts_the_title_at_a_word():
    assert export.sheet_label("Children in need", "trend") == "Children in need trend"
    assert export.sheet_label("Missing incidents per child who went missing", "SN") == "Missing incidents per child SN"
    assert export.sheet_label("Missing incidents per child who went missing", "trend") == "Missing incidents trend"
    assert export.sheet_label("Looked-after children who went missing", "LAs") == "Looked-after children LAs"
    assert all(len(export.sheet_label("word " * 20, s)) <= 31 for s in ("trend", "SN", "by quarter"))


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert export.neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Stockton-on-Tees", "c", "2024", "per 10,000", "", "a=b", "email@example"])
def test_ordinary_text_is_left_alone(text):
    assert export.neutralise(text) == text


# --------------------------------------------------------------------------------------------------------------------
# A pack sheet: title, source, header, typed cells


@pytest.fixture
def table() -> pd.DataFrame:
    """A benchmark table as the pack registers it: unrounded numbers, symbols as text, an LA with a hostile name."""
    return pd.DataFrame({
        "Area": ["Stockton-on-Tees", HOSTILE[0], "-Minus", "@home", "England"],
        "Year": ["2024", "2024", "2024", "2024", "2024"],
        "Value": [543.2123456789, 1 / 3 * 100, "c", -2.5, "x"],
        "Lower limit": [520.04, 0.1 + 0.2, "", -3.25, ""],
        "Count": [2395.0, 12.0, "c", 0.0, 399460.0],
        "Note": ["", "=1+1", "-5", "+7", np.nan],
    })


FORMATS = {"Year": None, "Value": [1, 1, 1, 0, 1], "Lower limit": 1, "Count": 0}


@pytest.fixture
def workbook(tmp_path, table):
    path = tmp_path / "t.xlsx"
    export.write_workbook({"bench": export.Sheet(table, title="Hand-made benchmark, 2024",
                                                 source="Source: DfE: b1.csv (release 2024).", formats=FORMATS,
                                                 label="Children in need SN")},
                          path, contents="Test workbook", contents_source="Published data.")
    return path


def test_numbers_are_numbers_with_the_published_decimals(workbook):
    wb = openpyxl.load_workbook(workbook)
    ws = wb["Children in need SN"]
    assert ws["A1"].value == "Hand-made benchmark, 2024" and ws["A1"].font.b
    assert ws["A2"].value == ("Source: DfE: b1.csv (release 2024). Symbols: c = suppressed to protect "
                              "confidentiality; x = not available.")
    assert [c.value for c in ws[3]] == ["Area", "Year", "Value", "Lower limit", "Count", "Note"]
    assert all(c.font.b for c in ws[3])
    assert ws.freeze_panes == "A4" and ws.auto_filter.ref == "A3:F8"
    values = {c.coordinate: (c.value, c.data_type, c.number_format) for row in ws.iter_rows(min_row=4) for c in row}
    assert values["B4"] == (2024, "n", "General")
    assert values["C4"] == (543.2123456789, "n", "#,##0.0")
    assert values["C5"] == (1 / 3 * 100, "n", "#,##0.0")
    assert values["C6"][:2] == ("c", "s")
    assert values["C7"] == (-2.5, "n", "#,##0"), "a negative number stays a number, with its own row's decimals"
    assert values["C8"][:2] == ("x", "s")
    assert values["D5"] == (0.1 + 0.2, "n", "#,##0.0")
    assert values["D6"][0] is None and values["F4"][0] is None and values["F8"][0] is None, "blank, not text"
    assert values["E4"] == (2395, "n", "#,##0") and values["E8"] == (399460, "n", "#,##0")
    wb.close()


def test_text_from_any_input_never_runs(workbook, table):
    wb = openpyxl.load_workbook(workbook)
    ws = wb["Children in need SN"]
    assert [ws.cell(r, 1).value for r in range(4, 9)] == ["Stockton-on-Tees", "'" + HOSTILE[0], "'-Minus", "'@home",
                                                          "England"]
    assert [ws.cell(r, 6).value for r in range(5, 8)] == ["'=1+1", "'-5", "'+7"], "text that looks like a number " \
        "in a text column is text, neutralised"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    wb.close()
    with zipfile.ZipFile(workbook) as z:
        xml = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in xml and b"<f " not in xml, "no formula anywhere in the file"


def test_contents_links_every_sheet_and_keys_the_symbols(workbook):
    wb = openpyxl.load_workbook(workbook)
    assert wb.sheetnames == ["Contents", "Children in need SN"]
    ws = wb["Contents"]
    assert ws["A1"].value == "Test workbook" and ws["A2"].value == "Published data."
    assert [c.value for c in ws[3]] == ["Sheet", "Table", "What it holds", "Rows", "Source"]
    assert [c.value for c in ws[4]] == ["Children in need SN", "bench", "Hand-made benchmark, 2024", 5,
                                        "Source: DfE: b1.csv (release 2024)."]
    assert ws["A4"].hyperlink.location == "'Children in need SN'!A1"
    assert ws.freeze_panes == "A4" and ws.auto_filter.ref == "A3:E4"
    assert ws["A6"].value == "Symbols" and ws["A6"].font.b
    key = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(7, ws.max_row + 1)}
    assert key["c"] == "suppressed to protect confidentiality" and key["x"] == "not available"
    assert {"z", "k", "u", "low"} <= set(key)
    wb.close()


def test_pandas_reads_back_the_values_exactly(workbook, table):
    back = pd.read_excel(workbook, sheet_name="Children in need SN", header=2)
    assert back["Year"].tolist() == [2024] * 5
    assert back["Value"].tolist() == [543.2123456789, 1 / 3 * 100, "c", -2.5, "x"]
    assert back["Count"].tolist() == [2395, 12, "c", 0, 399460]
    lower = back["Lower limit"].tolist()
    assert lower[0] == 520.04 and lower[1] == 0.1 + 0.2 and lower[3] == -3.25
    assert math.isnan(lower[2]) and math.isnan(lower[4])


def test_a_sheet_without_a_title_has_its_header_on_the_first_row(tmp_path):
    path = export.write_workbook({"t": pd.DataFrame({"a": [1.5, -1.0], "b": ["=x", "y"]})}, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(path)["t"]
    assert [c.value for c in ws[1]] == ["a", "b"] and ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:B3"
    assert [ws["A2"].value, ws["A3"].value, ws["B2"].value] == [1.5, -1, "'=x"]


def test_an_empty_table_still_gets_a_header(tmp_path):
    path = export.write_workbook({"t": export.Sheet(pd.DataFrame({"a": []}), title="Nothing")}, tmp_path / "t.xlsx",
                                 contents="C")
    wb = openpyxl.load_workbook(path)
    assert wb["t"]["A3"].value == "a" and wb["Contents"]["D4"].value == 0


# --------------------------------------------------------------------------------------------------------------------
# `needs indicators --out x.xlsx`: the same writer, the indicator table's own decimals


def test_indicator_table_values_show_each_rows_decimals(tmp_path):
    t = pd.DataFrame({"indicator": ["cin_rate", "cla_rate"], "area_name": ["=Stockton", "Darlington"],
                      "old_la_code": ["808", "841"], "value": [543.21666, 132.653532], "lower_95": [520.1, np.nan],
                      "sn_n": pd.array([10, pd.NA], dtype="Int64"), "rank": pd.array([147, 3], dtype="Int64"),
                      "display": ["543.2", "133"], "decimals": [1, 0],
                      "period_end": pd.to_datetime(["2024-03-31", "2024-03-31"])})
    path = export.write_table(t, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(path)["indicators"]
    assert [c.value for c in ws[1]] == list(t.columns) and all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:J3"
    assert (ws["D2"].value, ws["D2"].number_format) == (543.21666, "#,##0.0")
    assert (ws["D3"].value, ws["D3"].number_format) == (132.653532, "#,##0")
    assert ws["E3"].value is None and ws["F3"].value is None
    assert (ws["F2"].value, ws["G3"].value) == (10, 3)
    assert ws["B2"].value == "'=Stockton" and ws["C2"].value == "808" and ws["C2"].data_type == "s"
    assert ws["H2"].value == "543.2" and ws["H2"].data_type == "s", "display is the published text, kept as text"
    back = pd.read_excel(path, dtype={"old_la_code": str})
    assert back["value"].tolist() == [543.21666, 132.653532] and back["old_la_code"].tolist() == ["808", "841"]
    assert back["period_end"].tolist() == [pd.Timestamp("2024-03-31")] * 2


def test_write_table_refuses_other_extensions(tmp_path):
    with pytest.raises(ParameterError, match="expected a .csv or .xlsx"):
        export.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.txt")


# --------------------------------------------------------------------------------------------------------------------
# The pack's tables: saved by the notebooks as CSV + JSON, gathered into the workbook at full precision


def test_saved_tables_come_back_in_order_and_exact(tmp_path, table):
    folder = tmp_path / "tables"
    export.save_table(folder, "second", export.Sheet(pd.DataFrame({"a": ["x"]}), title="B"))
    export.save_table(folder, "first", export.Sheet(table, "A", "S", FORMATS, "Label"))
    export.save_table(folder, "second", export.Sheet(pd.DataFrame({"a": ["y"]}), title="B again"))
    sheets = export.load_tables(folder)
    assert list(sheets) == ["second", "first"], "saving a table again keeps its place"
    assert sheets["second"].title == "B again" and sheets["second"].table["a"].tolist() == ["y"]
    first = sheets["first"]
    assert (first.title, first.source, first.label, first.formats) == ("A", "S", "Label", FORMATS)
    assert first.table["Area"].tolist()[:2] == ["Stockton-on-Tees", HOSTILE[0]]  # read as text; neutralised on writing
    path = export.write_workbook(sheets, tmp_path / "t.xlsx", contents="C")
    back = pd.read_excel(path, sheet_name="Label", header=2)
    assert back["Value"].tolist() == [543.2123456789, 1 / 3 * 100, "c", -2.5, "x"]
    assert back["Lower limit"].tolist()[1] == 0.1 + 0.2
    assert back["Note"].tolist()[1:4] == ["'=1+1", "'-5", "'+7"], "a text column is never turned into numbers"
    assert export.load_tables(tmp_path / "none") == {}
