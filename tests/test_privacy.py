"""Privacy as a security property: nothing from a record-level input reaches any output file.

Marker values are planted in every identifying field of the LA's returns (child identifiers, UPNs, dates of birth,
postcodes, free-text fields with a spreadsheet formula and HTML script), a quarterly pack and the indicator table are
built from them, and every file written (HTML, executed notebooks, workbook XML, manifest, CSV) is scanned with the
acceptance check ../shared/checks/privacy-scan.py (or the same logic when it is absent).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analysis.demo.returns import write_demo_returns

from conftest import SHARED

SCAN = SHARED / "checks" / "privacy-scan.py"
INJECTIONS = {
    ("SSDA903_Episodes.csv", "URN"): '=HYPERLINK("http://evil.example/","PRIVLINK")',
    ("SSDA903_Episodes.csv", "PL_POST"): "<script>alert('PRIVSCRIPT')</script>",
    ("CIN_ChildIdentifiers.csv", "PostCode"): "<img src=x onerror=alert(1)>PRIVIMG",
}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Demo returns with every child identifier renamed to a marker and injections in free-text fields."""
    folder = tmp_path_factory.mktemp("returns")
    write_demo_returns(folder)
    markers = {"PRIVMARK", "PRIVLINK", "PRIVSCRIPT", "PRIVIMG", "HYPERLINK", "<script", "onerror"}
    for path in sorted(folder.glob("*.csv")):
        t = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in ("CHILD", "LAchildID"):
            if col in t:
                t[col] = t[col].str.replace("DEMO", "PRIVMARK", regex=False)
        for (name, col), value in INJECTIONS.items():
            if path.name == name:
                t.loc[t.index[:3], col] = value
        # Sample real values of the identifying fields as markers too (dates of birth that are not quarter ends)
        for col in ("UPN", "HOME_POST", "PL_POST", "PostCode", "URN"):
            if col in t:
                markers.update(v for v in t[col].drop_duplicates().head(25) if len(v) >= 6)
        for col in ("DOB", "PersonBirthDate", "MC_DOB"):
            if col in t:
                dates = t[col][t[col].str.len() >= 8].drop_duplicates()
                dates = dates[~dates.str.contains(r"(?:31/03|30/06|30/09|31/12|-03-31|-06-30|-09-30|-12-31)")]
                markers.update(dates.head(25))
        t.to_csv(path, index=False)
    return folder, sorted(markers)


def scan(folder: Path, markers: list[str]) -> list[str]:
    """Files under ``folder`` (and members of zips, e.g. xlsx) that hold a marker."""
    if SCAN.is_file():
        r = subprocess.run([sys.executable, str(SCAN), str(folder), *markers], capture_output=True, text=True)
        assert "files scanned" in r.stdout, r.stdout + r.stderr
        return [] if r.returncode == 0 else [r.stdout.strip()]
    hits = []
    for f in folder.rglob("*"):
        if f.is_file():
            blobs = [f.read_bytes()]
            if zipfile.is_zipfile(f):
                with zipfile.ZipFile(f) as z:
                    blobs += [z.read(n) for n in z.namelist()]
            if any(m.encode() in b for b in blobs for m in markers):
                hits.append(str(f))
    return hits


@pytest.fixture(scope="module")
def quarterly_pack(planted, tmp_path_factory):
    returns, _ = planted
    out = tmp_path_factory.mktemp("packs")
    r = subprocess.run([sys.executable, "-m", "analysis.cli", "pack", "--la", "Stockton-on-Tees", "--period", "2025Q2",
                        "--returns", str(returns), "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    return out


def test_markers_planted_are_in_the_inputs(planted):
    folder, markers = planted
    assert len(markers) > 60
    assert scan(folder, ["PRIVMARK", "PRIVLINK", "PRIVSCRIPT"])  # the scan finds them where they are


def test_no_record_value_reaches_the_quarterly_pack(quarterly_pack, planted):
    _, markers = planted
    pack = quarterly_pack / "stockton-on-tees" / "2025Q2"
    assert (pack / "index.html").is_file() and (pack / "tables.xlsx").is_file()
    assert list((pack / "notebooks").glob("*.ipynb"))
    assert scan(quarterly_pack, markers) == []


def test_scan_would_catch_a_leak(quarterly_pack, planted, tmp_path):
    """Negative control: the same scan fails once one planted value is copied into an output."""
    _, markers = planted
    leak = tmp_path / "copy"
    leak.mkdir()
    (leak / "page.html").write_text(f"<p>{markers[0]}</p>", "utf-8")
    assert scan(leak, markers)


def test_quarterly_pack_has_in_year_figures_with_small_counts_suppressed(quarterly_pack):
    pack = quarterly_pack / "stockton-on-tees" / "2025Q2"
    summary = (pack / "00_summary.html").read_text("utf-8")
    assert "Where things stand now: 2025Q2" in summary and "Unpublished local figures" in summary
    sheets = pd.read_excel(pack / "tables.xlsx", sheet_name=None, header=2, dtype=str)
    contents = sheets["Contents"] if "Contents" in sheets else None
    in_year = [df for df in sheets.values() if "Quarter" in df.columns and "Numerator" in df.columns]
    assert in_year, "the workbook holds the in-year tables"
    for df in in_year:
        counts = pd.to_numeric(df["Numerator"].str.replace(",", ""), errors="coerce")
        assert not counts.between(1, 5).any(), "a count from 1 to 5 is published"


def test_indicator_table_from_returns_holds_no_record_values(planted, tmp_path):
    returns, markers = planted
    out = tmp_path / "local.csv"
    r = subprocess.run([sys.executable, "-m", "analysis.cli", "indicators", "--returns", str(returns), "--la", "808",
                        "--period", "2025Q1", "--quarters", "4", "--out", str(out)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    assert scan(tmp_path, markers) == []
    assert "PRIVMARK" not in r.stderr  # warnings name files and problems, never children
    t = pd.read_csv(out)
    assert set(t["time_period"]) == {"2024Q2", "2024Q3", "2024Q4", "2025Q1"}


@pytest.fixture(scope="module")
def planted_xml(planted, tmp_path_factory):
    """The planted returns as the XML files LAs submit (903 EXPSSDA903 and CIN census Message), no CSV."""
    from analysis.demo.returns import FILES
    from analysis.read.returns_xml import write_903_xml, write_cin_xml

    folder, markers = planted
    t = {k: pd.read_csv(folder / name, dtype=str, keep_default_na=False) for k, name in FILES.items()}
    out = tmp_path_factory.mktemp("returns_xml")
    write_903_xml(t["header"], t["episodes"], t["missing"], out / "SSDA903_2025.xml")
    write_cin_xml(t["cin_children"], t["cin_details"], t["cp_plans"], out / "CIN_Census_2025.xml")
    return out, markers


def test_xml_markers_are_in_every_identifying_xml_field(planted_xml):
    folder, markers = planted_xml
    text = (folder / "SSDA903_2025.xml").read_text("utf-8") + (folder / "CIN_Census_2025.xml").read_text("utf-8")
    for field in ("CHILDID", "UPN", "DOB", "HOME_POST", "PL_POST", "URN", "LAchildID", "PersonBirthDate", "PostCode"):
        assert f"<{field}>" in text
    assert "<CHILDID>PRIVMARK" in text and "<LAchildID>PRIVMARK" in text
    found = [m for m in markers if m in text or m.replace("<", "&lt;").replace(">", "&gt;") in text]
    assert len(found) == len(markers)  # every marker is planted in the XML


def test_indicator_table_from_xml_returns_holds_no_record_values(planted_xml, tmp_path):
    returns, markers = planted_xml
    out = tmp_path / "local.csv"
    r = subprocess.run([sys.executable, "-m", "analysis.cli", "indicators", "--returns", str(returns), "--la", "808",
                        "--period", "2025Q1", "--quarters", "4", "--out", str(out)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(out)
    assert set(t["time_period"]) == {"2024Q2", "2024Q3", "2024Q4", "2025Q1"} and t["numerator"].notna().any()
    assert scan(tmp_path, markers) == []
    assert "PRIVMARK" not in r.stderr
