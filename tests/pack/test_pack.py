"""The evidence pack as a user gets it from ``needs pack``: structure, accessibility, figures, failures, parameters.

The full demo pack and the real-data pack are each built once per session (``demo_pack`` in conftest.py,
``real_pack`` here); the failure and parameter tests run tiny fixture notebooks written into a temporary folder, so
nothing broken is committed under ``tests/notebooks`` (which nbval also runs).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import re
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import nbformat
import openpyxl
import pandas as pd
import pytest

from conftest import PACK_SECTIONS, ROOT, SHARED_DATA, needs_shared, pack_built, run_needs

LA = "Stockton-on-Tees"
SLUG = "stockton-on-tees"
PAGES = ["index"] + PACK_SECTIONS


# --------------------------------------------------------------------------------------------------------------------
# Reading the pages (html.parser, not regular expressions)


class Page(HTMLParser):
    """What the tests need from one HTML page: lang, headings, images, tables, scripts, links, style and text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.lang = None
        self.headings: list[int] = []
        self.images: list[dict] = []
        self.tables: list[dict] = []  # one per <table>: {"caption": bool, "th": int}
        self.scripts = 0
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.style = ""
        self.text_parts: list[str] = []
        self._open_tables: list[dict] = []
        self._in = {"style": 0, "script": 0}
        self.feed(text)
        self.close()

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text_parts))

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "img":
            self.images.append(a)
        if tag == "table":
            t = {"caption": False, "th": 0}
            self.tables.append(t)
            self._open_tables.append(t)
        if tag == "caption" and self._open_tables:
            self._open_tables[-1]["caption"] = True
        if tag == "th" and self._open_tables:
            self._open_tables[-1]["th"] += 1
        if tag == "script":
            self.scripts += 1
        if tag in self._in:
            self._in[tag] += 1
        for name, value in attrs:
            if name in ("src", "href", "srcset", "poster", "data", "action", "xlink:href") and value is not None:
                self.urls.append((tag, name, value))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in self._in:
            self._in[tag] -= 1

    def handle_endtag(self, tag):
        if tag == "table" and self._open_tables:
            self._open_tables.pop()
        if tag in self._in and self._in[tag]:
            self._in[tag] -= 1

    def handle_data(self, data):
        if self._in["style"]:
            self.style += data
        elif not self._in["script"]:
            self.text_parts.append(data)


def read_page(folder: Path, name: str) -> Page:
    return Page((folder / f"{name}.html").read_text("utf-8"))


def numbers_in(text: str) -> set[str]:
    """Every number written in the text, as written: ``1,234.5``, ``534.8``, ``132`` (never part of a longer one)."""
    return set(re.findall(r"\d(?:[\d,]*\d)?(?:\.\d+)?", text))


def is_remote(url: str) -> bool:
    u = url.strip().lower()
    return u.startswith(("http:", "https:", "//", "ftp:"))


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------------------------------
# Colour contrast (WCAG 2.1), computed here from the page's own CSS


def css_rules(css: str) -> dict[str, dict[str, str]]:
    """Selector -> declarations (later rules win, as in the cascade for equal specificity); @media blocks skipped."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", css)
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        decls = {}
        for decl in body.split(";"):
            if ":" in decl:
                k, v = decl.split(":", 1)
                decls[k.strip().lower()] = v.strip()
        for sel in selectors.split(","):
            sel = " ".join(sel.split())
            rules.setdefault(sel, {}).update(decls)
    return rules


NAMED = {"white": "#ffffff", "black": "#000000"}


def colour(rules: dict, selector: str, prop: str) -> tuple[int, int, int]:
    """The colour a rule sets (``var(--x)`` resolved from ``:root``; ``background`` shorthand read for its colour)."""
    decls = rules[selector]
    value = decls.get(prop) if prop != "background" else decls.get("background-color", decls.get("background"))
    assert value, f"no {prop} in the CSS rule for {selector}: {decls}"
    for _ in range(5):
        m = re.search(r"var\((--[\w-]+)\)", value)
        if not m:
            break
        value = value.replace(m.group(0), rules[":root"][m.group(1)])
    value = value.strip().lower()
    value = NAMED.get(value, value)
    m = re.search(r"#([0-9a-f]{6}|[0-9a-f]{3})\b", value)
    if m:
        h = m.group(1)
        h = "".join(c * 2 for c in h) if len(h) == 3 else h
        return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))
    m = re.search(r"rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)", value)
    assert m, f"cannot read the colour '{value}' of {selector} {{{prop}}}"
    return tuple(int(x) for x in m.groups())


def luminance(rgb) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour."""
    def lin(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula_on_known_pairs():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast((255, 255, 255), (255, 255, 255)) == pytest.approx(1.0)
    assert contrast((0x76, 0x76, 0x76), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)  # the classic AA grey
    assert contrast((0x1d, 0x70, 0xb8), (255, 255, 255)) == pytest.approx(5.17, abs=0.01)  # GOV.UK link blue


# --------------------------------------------------------------------------------------------------------------------
# Fixture notebooks (written at test time)


def parameters_source() -> str:
    """The real notebooks' parameters cell, so the fixtures take exactly the same parameters."""
    nb = nbformat.read(ROOT / "notebooks" / "00_summary.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return cell.source


LOAD = ('from analysis import report\n'
        'ctx = report.load(la=la, year=year, data_dir=data_dir, table_cache=table_cache, output_dir=output_dir)\n'
        'report.title(ctx, "Fixture")')


def write_notebook(path: Path, *extra_cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["needs"] = {"title": path.stem.split("_", 1)[-1].capitalize()}
    params = nbformat.v4.new_code_cell(parameters_source())
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(LOAD)] + [nbformat.v4.new_code_cell(s) for s in extra_cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


BROKEN = "02_broken.ipynb"


@pytest.fixture
def fixture_ok(tmp_path) -> Path:
    folder = tmp_path / "fixture_ok"
    write_notebook(folder / "01_first.ipynb")
    write_notebook(folder / "02_second.ipynb", 'print("second page")')
    return folder


@pytest.fixture
def fixture_broken(tmp_path) -> Path:
    folder = tmp_path / "fixture_broken"
    write_notebook(folder / "01_first.ipynb")
    write_notebook(folder / BROKEN, 'raise RuntimeError("deliberately broken")')
    return folder


def leftovers(out: Path) -> list[Path]:
    return [p for p in Path(out).rglob("*") if ".building-" in p.name or ".old-" in p.name]


# --------------------------------------------------------------------------------------------------------------------
# 1-2. The demo pack's structure


def test_demo_pack_has_every_page_and_download(demo_pack):
    for name in PAGES:
        assert (demo_pack / f"{name}.html").is_file(), name
    assert (demo_pack / "tables.xlsx").is_file()
    assert (demo_pack / "manifest.json").is_file()
    assert sorted(p.name for p in (demo_pack / "notebooks").iterdir()) == [f"{s}.ipynb" for s in PACK_SECTIONS]
    # nothing left over from the build, nothing half-built beside it
    assert leftovers(demo_pack.parents[1]) == []
    assert not (demo_pack.parent / "2024.failed").exists()
    assert [p for p in demo_pack.parents[1].rglob("*") if p.name.endswith(".failed")] == []
    assert list(demo_pack.rglob(".context.pickle")) == []
    assert [p.name for p in demo_pack.iterdir() if p.name.startswith(".")] == []
    assert not (demo_pack / "tables").exists()


NUMBER_AS_TEXT = re.compile(r"-?[\d,]*\d(\.\d+)?%?")
FORBIDDEN_IN_SHEET_NAMES = set("[]:*?/\\")
LABEL_COLUMNS = {"Periods"}  # a single year or "2013 to 2024": a label, text on purpose


def sheets_by_table(path: Path) -> dict[str, str]:
    """Table key (``cin_rate_trend``) -> sheet name, from the contents sheet read with pandas."""
    contents = pd.read_excel(path, sheet_name="Contents", header=2)
    contents = contents.iloc[:contents["Sheet"].isna().idxmax()] if contents["Sheet"].isna().any() else contents
    return dict(zip(contents["Table"], contents["Sheet"]))


def check_workbook(path: Path) -> dict[str, list]:
    """The pack's workbook as an analyst gets it; returns each sheet's data rows (values) for further checks."""
    wb = openpyxl.load_workbook(path)  # not read-only: freeze panes, filters and links are read too
    names = wb.sheetnames
    assert names[0] == "Contents" and len(names) > 1
    for name in names:
        assert 0 < len(name) <= 31 and not set(name) & FORBIDDEN_IN_SHEET_NAMES, name
        assert name[0] != "'" and name[-1] != "'", name
    assert len({n.lower() for n in names}) == len(names), "sheet names are unique, ignoring case"
    assert not any(re.fullmatch(r"T\d\d", n) for n in names), "sheet names say what the sheet holds"
    contents = wb["Contents"]
    assert [c.value for c in contents[3]] == ["Sheet", "Table", "What it holds", "Rows", "Source"]
    row, listed = 4, []
    while contents.cell(row, 1).value:
        cell = contents.cell(row, 1)
        quoted = cell.value.replace("'", "''")  # Excel's quoting of a sheet name in a reference
        assert cell.hyperlink is not None and cell.hyperlink.location == f"'{quoted}'!A1", cell.value
        listed.append(cell.value)
        assert contents.cell(row, 4).value == wb[cell.value].max_row - 3, f"{cell.value}: rows listed"
        row += 1
    assert listed == names[1:], "the contents sheet links every other sheet, in order"
    assert contents.cell(row + 1, 1).value == "Symbols"
    key = {contents.cell(r, 1).value: contents.cell(r, 2).value for r in range(row + 2, contents.max_row + 1)}
    assert {"c", "x", "z", "k", "u", "low"} <= set(key) and key["c"] == "suppressed to protect confidentiality"
    data = {}
    for ws in wb.worksheets:
        assert ws["A1"].value and ws["A1"].font.b, f"{ws.title}: a bold title on the first line"
        assert ws["A2"].value, f"{ws.title}: source on the second line"
        header = [c for c in ws[3] if c.value is not None]
        assert header and all(c.font.b for c in header), f"{ws.title}: bold header on row 3"
        assert ws.freeze_panes == "A4", f"{ws.title}: header row frozen"
        last = 3 + len(listed) if ws.title == "Contents" else ws.max_row  # the symbols' key is below the contents
        assert ws.auto_filter.ref == f"A3:{header[-1].column_letter}{max(last, 4)}", ws.title
        label_columns = {c.column for c in header if c.value in LABEL_COLUMNS}
        rows = []
        for cells in ws.iter_rows(min_row=4):
            for c in cells:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula"
                if isinstance(c.value, str) and ws.title != "Contents":
                    assert not c.value.startswith(("=", "+", "-", "@")), f"{ws.title}!{c.coordinate}: {c.value!r}"
                    assert c.column in label_columns or not NUMBER_AS_TEXT.fullmatch(c.value.strip()), \
                        f"{ws.title}!{c.coordinate}: the number {c.value!r} is stored as text"
            rows.append(cells)
        data[ws.title] = rows
    wb.close()
    return data


def check_number_formats(path: Path, data: dict) -> None:
    """Every number on an indicator's sheets shows the registry's published decimals (years in General format)."""
    from analysis.indicators import registry

    reg = registry()
    for table, sheet in sheets_by_table(path).items():
        ind, _, kind = table.rpartition("_")
        if ind not in reg or kind not in ("trend", "neighbours", "funnel"):
            continue
        wanted = "#,##0" + ("." + "0" * reg[ind]["decimals"] if reg[ind]["decimals"] else "")
        numbers = 0
        for cells in data[sheet]:
            for c in cells:
                if isinstance(c.value, (int, float)):
                    numbers += 1
                    header = c.parent.cell(3, c.column).value
                    if header == "Year":
                        assert c.number_format == "General", f"{sheet}!{c.coordinate}"
                    elif header in ("Numerator", "Denominator"):
                        assert c.number_format.startswith("#,##0"), f"{sheet}!{c.coordinate}"
                    else:
                        assert c.number_format == wanted, f"{sheet}!{c.coordinate}: {c.number_format} not {wanted}"
        assert numbers, f"{sheet} holds no numbers"


def test_demo_workbook_is_one_an_analyst_can_use(demo_pack):
    path = demo_pack / "tables.xlsx"
    data = check_workbook(path)
    check_number_formats(path, data)
    tables = sheets_by_table(path)
    assert {"summary", "key_findings", "cin_rate_trend", "cla_rate_neighbours", "cin_rate_funnel", "sources"} <= set(tables)
    assert tables["cin_rate_trend"] == "Children in need trend" and tables["summary"] == "Summary"
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        source = wb[tables["cin_rate_trend"]]["A2"].value
        assert source.startswith("Demo data") and re.search(r"demo_b1\S*\.csv \(release 2024\)", source), source
        assert "Demo data" in wb["Contents"]["A2"].value
    finally:
        wb.close()
    # read back with pandas: numbers, not text
    trend = pd.read_excel(path, sheet_name=tables["cin_rate_trend"], header=2)
    assert [str(t) for t in trend.dtypes] == ["int64"] + ["float64"] * (trend.shape[1] - 1), trend.dtypes
    rate = float(published(demo_file("demo_b1"), "At31_episodes_rate", time_period="2024", new_la_code="E06000004",
                           geographic_level="Local authority"))
    value = trend.loc[trend["Year"] == 2024, LA].iloc[0]
    assert value != rate and abs(value - rate) <= 0.05 + 1e-9, "unrounded, and rounds to the published rate"


def test_demo_manifest(demo_pack):
    m = json.loads((demo_pack / "manifest.json").read_text("utf-8"))
    p = m["parameters"]
    assert (p["la"], p["la_code"], p["year"]) == (LA, "E06000004", 2024)
    assert m["demo_data"] is True
    assert m["inputs"], "no inputs recorded"
    for f in m["inputs"]:
        assert re.fullmatch(r"[0-9a-f]{64}", f["sha256"]), f
        path = Path(f["path"])
        assert path.is_file(), f
        assert sha256(path) == f["sha256"], f"{path}: recorded hash does not match the file"
    names = {f["file"] for f in m["inputs"]}
    assert any(n.startswith("demo_b1") for n in names) and any(n.startswith("demo_cla_number") for n in names)
    assert re.fullmatch(r"[0-9a-f]{64}", m["fingerprint"])
    assert sorted(m["notebooks"]) == [f"{s}.ipynb" for s in PACK_SECTIONS]
    for name, nb in m["notebooks"].items():
        assert re.fullmatch(r"[0-9a-f]{64}", nb["sha256"]), name
        assert nb["sha256"] == sha256(ROOT / "notebooks" / name), name
        assert isinstance(nb["seconds"], (int, float)) and nb["seconds"] > 0, name
    assert m["kernels"] in (1, 2)  # notebooks run at once, each kernel one after another
    assert m["seconds"] * m["kernels"] >= sum(nb["seconds"] for nb in m["notebooks"].values())
    assert m["seconds"] >= max(nb["seconds"] for nb in m["notebooks"].values())


def test_demo_executed_notebooks_hold_the_injected_parameters(demo_pack):
    for section in PACK_SECTIONS:
        nb = nbformat.read(demo_pack / "notebooks" / f"{section}.ipynb", as_version=4)
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1, section
        assert f'la = "{LA}"' in injected[0].source and "year = 2024" in injected[0].source, injected[0].source
        assert not any(o.output_type == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        assert any(c.get("execution_count") for c in nb.cells if c.cell_type == "code"), f"{section} was not run"


# --------------------------------------------------------------------------------------------------------------------
# 3. Accessibility


def accessibility_problems(page: Page, la: str = LA) -> list[str]:
    """Every accessibility and self-containment problem found on a page (empty when there is none)."""
    problems = []
    if not (page.lang and page.lang.strip()):
        problems.append("<html> has no lang")
    if page.headings.count(1) != 1:
        problems.append(f"{page.headings.count(1)} <h1> elements")
    if page.headings and page.headings[0] != 1:
        problems.append(f"the first heading is h{page.headings[0]}, not the <h1>")
    for before, after in zip(page.headings, page.headings[1:]):
        if after > before + 1:
            problems.append(f"heading level skips from h{before} to h{after}")
    for img in page.images:
        alt = (img.get("alt") or "").strip()
        if len(alt) < 40:
            problems.append(f"alt text shorter than 40 characters: {alt!r}")
        elif la not in alt and not re.search(r"\d", alt):
            problems.append(f"alt text names neither {la} nor a number: {alt!r}")
    for i, table in enumerate(page.tables, start=1):
        if not table["caption"]:
            problems.append(f"table {i} has no <caption>")
        if not table["th"]:
            problems.append(f"table {i} has no <th>")
    if page.scripts:
        problems.append(f"{page.scripts} <script> elements")
    for tag, attr, url in page.urls:
        if is_remote(url):
            problems.append(f"remote resource <{tag} {attr}={url[:80]!r}>")
        elif not url.startswith(("data:", "#")) and re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I):
            problems.append(f"link with a scheme <{tag} {attr}={url[:80]!r}>")
    return problems


def test_accessibility_checks_catch_problems():
    """The checks below are only worth something if they fail on a bad page."""
    bad = Page('<html><head><script src="https://cdn.example/x.js"></script></head><body><h1>A</h1><h1>B</h1>'
               '<h3>skipped</h3><img src="//cdn.example/a.png" alt="chart"><img src="data:image/png;base64,AA==">'
               '<table><tr><td>1</td></tr></table><a href="http://example.org">x</a>'
               '<a href="file:///etc/passwd">y</a></body></html>')
    problems = " | ".join(accessibility_problems(bad))
    for expected in ("no lang", "2 <h1>", "skips from h1 to h3", "alt text shorter", "no <caption>", "no <th>",
                     "<script>", "cdn.example/x.js", "//cdn.example/a.png", "http://example.org", "file:///etc"):
        assert expected in problems, expected
    good = Page('<html lang="en-GB"><body><h1>A</h1><h2>B</h2><h3>C</h3><h2>D</h2>'
                f'<img src="data:image/svg+xml;base64,AA==" alt="Line chart of the rate in {LA}, 2015 to 2024">'
                '<table><caption>T</caption><tr><th>h</th></tr></table><a href="index.html#x">i</a></body></html>')
    assert accessibility_problems(good) == []
    assert Page("<html><body><h1>x</h1><h3>y</h3></body></html>").headings == [1, 3]


def test_tables_scroll_in_a_box_the_keyboard_reaches_named_by_the_caption():
    """A table too wide for the screen scrolls in its box; the box takes focus (tabindex) so the keyboard can scroll
    it too (axe: scrollable-region-focusable), and is a region named by the caption, markup stripped, quotes safe."""
    from analysis.pack.build import _wrap_tables

    body = ('<p>x</p><table class="t"><caption>Rates in <em>"A" &amp; B</em></caption><tr><th>h</th></tr></table>'
            "<table><tr><th>no caption</th></tr></table>")
    assert _wrap_tables(body) == (
        '<p>x</p><div class="table-wrap" role="region" tabindex="0" aria-label="Rates in &quot;A&quot; &amp; B">'
        '<table class="t"><caption>Rates in <em>"A" &amp; B</em></caption><tr><th>h</th></tr></table></div>'
        '<div class="table-wrap" role="region" tabindex="0" aria-label="Table">'
        "<table><tr><th>no caption</th></tr></table></div>")


@pytest.mark.parametrize("name", PAGES)
def test_demo_page_is_accessible(demo_pack, name):
    page = read_page(demo_pack, name)
    assert accessibility_problems(page) == [], name
    assert "Demo data" in page.text, f"{name} does not say it shows demo data"


def test_demo_pages_have_charts_and_tables(demo_pack):
    for name in PACK_SECTIONS[1:-1]:  # the theme pages
        page = read_page(demo_pack, name)
        assert len(page.images) >= 2, name
        assert page.tables, name
    assert read_page(demo_pack, "00_summary").tables


@pytest.mark.parametrize("name", ["10_children_in_need", "40_missing"])
def test_chart_images_fetch_nothing(demo_pack, name):
    """The embedded SVG charts reference no remote resource either (namespaces and DTD identifiers are not fetched)."""
    for img in read_page(demo_pack, name).images:
        src = img["src"]
        assert src.startswith("data:image/"), src[:60]
        head, payload = src.split(",", 1)
        svg = base64.b64decode(payload).decode("utf-8") if head.endswith(";base64") else unquote(payload)
        assert not re.search(r"""(?:href|src)\s*=\s*["']\s*(?:https?:|//)""", svg), "an SVG chart links out"
        assert not re.search(r"url\(\s*['\"]?\s*(?:https?:|//)", svg), "an SVG chart loads a remote resource"


CONTRAST_PAIRS = [
    # (what, foreground selector, property, background selector, property)
    ("body text", "body", "color", "body", "background"),
    ("links", "a", "color", "body", "background"),
    ("visited links", "a:visited", "color", "body", "background"),
    ("section links on the nav bar", "a", "color", "nav.sections", "background"),
    ("header text", "header.site", "color", "header.site", "background"),
    ("header links", "header.site a", "color", "header.site", "background"),
    ("demo notice", "body", "color", ".demo-notice", "background"),
    ("muted text", ".definition", "color", "body", "background"),
    ("focused links", "a:focus", "color", "a:focus", "background"),
    ("better", "td.better", "color", "td.better", "background"),
    ("worse", "td.worse", "color", "td.worse", "background"),
    ("similar", "td.similar", "color", "td.similar", "background"),
    ("higher", "td.higher", "color", "td.higher", "background"),
    ("lower", "td.lower", "color", "td.lower", "background"),
]


@pytest.mark.parametrize("name", ["index", "00_summary"])
def test_colour_contrast_meets_wcag_aa(demo_pack, name):
    rules = css_rules(read_page(demo_pack, name).style)
    for rule in ("td.better", "td.worse", "td.similar", "td.higher", "body", "a"):
        assert rule in rules, f"no CSS rule for {rule}"
    low = []
    for what, fg, fprop, bg, bprop in CONTRAST_PAIRS:
        ratio = contrast(colour(rules, fg, fprop), colour(rules, bg, bprop))
        if ratio < 4.5:
            low.append(f"{what}: {ratio:.2f}:1")
    assert low == [], f"contrast below 4.5:1 on {name}: {low}"


def test_summary_uses_the_coloured_cells(demo_pack):
    html = (demo_pack / "00_summary.html").read_text("utf-8")
    assert re.search(r'class="rug (better|worse|similar|higher|lower)"', html), "the tartan rug has no coloured cells"


# --------------------------------------------------------------------------------------------------------------------
# 4. Figures match the demo files (read here with csv, independently of the library)


def demo_file(prefix: str) -> Path:
    from analysis.demo import ensure_demo_data

    folder = ensure_demo_data()
    found = sorted(p for p in Path(folder).iterdir() if p.name.startswith(prefix))
    assert found, f"no {prefix}* file in {folder}"
    return found[0]


def published(path: Path, column: str, **where) -> str:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.DictReader(fh) if all(r.get(k) == v for k, v in where.items())]
    assert len(rows) == 1, f"{len(rows)} rows in {path.name} for {where}"
    return rows[0][column].strip()


def test_demo_cin_rate_is_the_files_published_rate(demo_pack):
    rate = published(demo_file("demo_b1"), "At31_episodes_rate", time_period="2024", new_la_code="E06000004",
                     geographic_level="Local authority")
    assert re.fullmatch(r"\d+\.\d", rate), rate
    for name in ("10_children_in_need", "00_summary"):
        assert rate in numbers_in(read_page(demo_pack, name).text), f"{rate} not on {name}"


def test_demo_cla_rate_is_the_files_published_rate(demo_pack):
    cla = demo_file("demo_cla_number")
    # The measure sits in a column whose header does not name it (population_count, as in DfE's own file).
    rate = published(cla, "rate_per_10000", time_period="2024", new_la_code="E06000004",
                     geographic_level="Local authority", **{_category_column(cla): "Children looked after at 31 March each year"})
    assert re.fullmatch(r"\d+", rate), rate
    for name in ("30_looked_after", "00_summary"):
        assert rate in numbers_in(read_page(demo_pack, name).text), f"{rate} not on {name}"


def _category_column(path: Path) -> str:
    """The CLA file's unnamed measure column (the one holding 'Children looked after at 31 March each year')."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            for k, v in row.items():
                if v == "Children looked after at 31 March each year":
                    return k
    raise AssertionError(f"no 'Children looked after at 31 March each year' rows in {path.name}")


# --------------------------------------------------------------------------------------------------------------------
# 5. Rebuilding: identical tables, and the pack replaced in one step


def workbook_values(path: Path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {n: [tuple(r) for r in wb[n].iter_rows(values_only=True)] for n in wb.sheetnames}
    finally:
        wb.close()


def test_rerun_with_unchanged_inputs_leaves_the_pack_alone(demo_pack):
    out = demo_pack.parents[1]
    before = {p.name: p.stat().st_mtime_ns for p in demo_pack.iterdir()}
    r = run_needs("pack", "--la", LA, "--year", "2024", "--out", out)
    assert pack_built(r, out) == demo_pack
    assert r.stdout.strip().splitlines()[-1].startswith("pack up to date"), r.stdout
    assert {p.name: p.stat().st_mtime_ns for p in demo_pack.iterdir()} == before
    assert leftovers(out) == []


def test_rebuild_gives_identical_tables_and_replaces_the_pack_atomically(demo_pack):
    out = demo_pack.parents[1]
    first = workbook_values(demo_pack / "tables.xlsx")
    first_manifest = json.loads((demo_pack / "manifest.json").read_text("utf-8"))
    first_built, first_fingerprint = first_manifest["built"], first_manifest["fingerprint"]
    seen_incomplete = []
    seen = {"present": 0, "absent": 0}
    stop = threading.Event()

    def watch():  # while the rebuild runs, the pack folder is either complete or not there
        while not stop.is_set():
            try:
                inode = demo_pack.stat().st_ino
                names = {p.name for p in demo_pack.iterdir()}
                same = demo_pack.stat().st_ino == inode  # not swapped while it was being listed
            except FileNotFoundError:
                seen["absent"] += 1
            else:
                if same:
                    seen["present"] += 1
                    missing = {"index.html", "tables.xlsx", "manifest.json", "notebooks"} - names
                    if missing:
                        seen_incomplete.append(sorted(missing))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = run_needs("pack", "--la", LA, "--year", "2024", "--out", out, "--force")
    finally:
        stop.set()
        watcher.join(5)
    assert pack_built(result, out) == demo_pack
    assert result.stdout.strip().splitlines()[-1].startswith("pack built:"), result.stdout
    assert seen_incomplete == [], f"the pack folder was seen incomplete during the rebuild: {seen_incomplete[:3]}"
    assert seen["present"] > 0
    for name in PAGES:
        assert (demo_pack / f"{name}.html").is_file(), name
    assert leftovers(out) == [] and not (demo_pack.parent / "2024.failed").exists()
    second = workbook_values(demo_pack / "tables.xlsx")
    assert list(second) == list(first)
    for sheet in first:
        assert second[sheet] == first[sheet], f"sheet {sheet} differs between two builds"
    manifest = json.loads((demo_pack / "manifest.json").read_text("utf-8"))
    assert manifest["built"] >= first_built
    assert manifest["fingerprint"] == first_fingerprint, "same inputs, same fingerprint"


# --------------------------------------------------------------------------------------------------------------------
# 6. A broken notebook


def assert_one_line_error(result, *fragments, code=None):
    if code is None:
        assert result.returncode != 0, result.stdout
    else:
        assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    last = lines[-1]
    assert last.startswith("needs: error: "), last
    for f in fragments:
        assert f in last, f"{f!r} not in {last!r}"
    return lines


def test_broken_notebook_fails_cleanly_and_keeps_the_failed_build(tmp_path, fixture_broken):
    out = tmp_path / "out"
    r = run_needs("pack", "--la", LA, "--year", "2024", "--out", out, "--notebooks", fixture_broken)
    lines = assert_one_line_error(r, BROKEN, "deliberately broken", "RuntimeError")
    assert len(lines) == 1, r.stderr
    assert not (out / SLUG / "2024").exists(), "a half-built pack was left in place"
    failed = out / SLUG / "2024.failed"
    nb = nbformat.read(failed / "notebooks" / BROKEN, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors and errors[0].ename == "RuntimeError" and errors[0].evalue == "deliberately broken"
    assert (failed / "notebooks" / "01_first.ipynb").is_file()
    assert leftovers(out) == []
    assert list(out.rglob(".context.pickle")) == []


def test_failed_rebuild_keeps_the_previous_good_pack(tmp_path, fixture_ok, fixture_broken):
    out = tmp_path / "out"
    good = pack_built(run_needs("pack", "--la", LA, "--year", "2024", "--out", out, "--notebooks", fixture_ok), out)
    index = (good / "index.html").read_text("utf-8")
    assert (good / "02_second.html").is_file()
    r = run_needs("pack", "--la", LA, "--year", "2024", "--out", out, "--notebooks", fixture_broken)
    assert_one_line_error(r, BROKEN, "deliberately broken")
    assert (good / "index.html").read_text("utf-8") == index, "the good pack was changed by a failed build"
    assert (good / "02_second.html").is_file() and not (good / BROKEN.replace(".ipynb", ".html")).exists()
    assert (out / SLUG / "2024.failed" / "notebooks" / BROKEN).is_file()
    assert leftovers(out) == []
    # the good notebooks again: nothing changed since the good pack, so it stays as it is
    r = run_needs("pack", "--la", LA, "--year", "2024", "--out", out, "--notebooks", fixture_ok)
    assert pack_built(r, out) == good and r.stdout.strip().startswith("pack up to date"), r.stdout
    assert (good / "index.html").read_text("utf-8") == index
    # and a forced good build clears the failed one away
    pack_built(run_needs("pack", "--la", LA, "--year", "2024", "--out", out, "--notebooks", fixture_ok, "--force"), out)
    assert not (out / SLUG / "2024.failed").exists()
    assert leftovers(out) == []


# --------------------------------------------------------------------------------------------------------------------
# 7. Bad parameters fail before any notebook runs


@pytest.mark.parametrize("case", ["unknown LA", "year with no data", "missing data folder", "output is a file"])
def test_bad_parameters_fail_before_any_notebook_runs(tmp_path, case):
    out = tmp_path / "out"
    args = ["--la", LA, "--year", "2024"]
    expect = []
    if case == "unknown LA":
        args = ["--la", "Stocktn", "--year", "2024"]
        expect = ["unknown local authority 'Stocktn'", "did you mean", LA]
    elif case == "year with no data":
        args = ["--la", LA, "--year", "1999"]
        expect = ["1999", LA]
    elif case == "missing data folder":
        args += ["--data-dir", tmp_path / "no-such-folder"]
        expect = ["data folder not found", "no-such-folder"]
    elif case == "output is a file":
        out = tmp_path / "a-file"
        out.write_text("not a folder")
        expect = ["is a file", "a-file"]
    started = time.perf_counter()
    r = run_needs("pack", *args, "--out", out)
    took = time.perf_counter() - started
    lines = assert_one_line_error(r, *expect, code=2)
    assert len(lines) == 1, r.stderr
    assert r.stdout == ""
    if case == "output is a file":
        assert out.read_text() == "not a folder"
    else:
        made = list(out.rglob("*")) if out.exists() else []
        assert made == [], f"files were written before the parameters were checked: {made[:5]}"
    assert took < 60, f"took {took:.0f} s: did notebooks run?"


# --------------------------------------------------------------------------------------------------------------------
# 8. Several LAs, one failing


def test_several_las_one_failing(tmp_path, fixture_ok):
    folder = tmp_path / "fixture_darlington"
    write_notebook(folder / "01_first.ipynb")
    write_notebook(folder / "02_darlington.ipynb", 'if la == "Darlington":\n    raise ValueError("Darlington fails")')
    out = tmp_path / "out"
    r = run_needs("pack", "--la", LA, "Darlington", "--year", "2024", "--out", out, "--notebooks", folder)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[-1].startswith("1 of 2 packs built"), r.stdout
    failed_lines = [line for line in lines if line.startswith("FAILED")]
    assert len(failed_lines) == 1 and "Darlington" in failed_lines[0], r.stdout
    assert "02_darlington.ipynb" in failed_lines[0] and "Darlington fails" in failed_lines[0], failed_lines[0]
    ok_lines = [line for line in lines if line.startswith("ok")]
    assert len(ok_lines) == 1 and LA in ok_lines[0] and str(out / SLUG / "2024" / "index.html") in ok_lines[0]
    assert (out / SLUG / "2024" / "index.html").is_file()
    assert not (out / SLUG / "2024.failed").exists()
    assert not (out / "darlington" / "2024").exists()
    nb = nbformat.read(out / "darlington" / "2024.failed" / "notebooks" / "02_darlington.ipynb", as_version=4)
    assert any(o.output_type == "error" and o.evalue == "Darlington fails"
               for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert leftovers(out) == []


# --------------------------------------------------------------------------------------------------------------------
# 9. Parameters from YAML (read as text)


def test_params_yaml_reads_codes_as_text(tmp_path, fixture_ok):
    out = tmp_path / "out"
    params = tmp_path / "params.yaml"
    params.write_text(f"la: 808\nyear: 2024\nout: {out}\nnotebooks: {fixture_ok}\n", "utf-8")
    r = run_needs("pack", "-f", params)
    folder = pack_built(r, out)
    m = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert (m["parameters"]["la"], m["parameters"]["old_la_code"], m["parameters"]["year"]) == (LA, "808", 2024)
    assert sorted(m["notebooks"]) == ["01_first.ipynb", "02_second.ipynb"]


def test_params_yaml_takes_several_data_folders(tmp_path, fixture_ok):
    """``data_dir`` as a YAML list (``--data-dir`` repeated): the files of every folder, each traced to its path."""
    needs_shared()
    out = tmp_path / "out"
    params = tmp_path / "params.yaml"
    kpi = SHARED_DATA.parent / "kpi"
    params.write_text(f"la: 808\nyear: 2024\nout: {out}\nnotebooks: {fixture_ok}\n"
                      f"data_dir:\n  - {SHARED_DATA}\n  - {kpi}\n", "utf-8")
    folder = pack_built(run_needs("pack", "-f", params), out)
    m = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert m["parameters"]["data_dir"] == f"{SHARED_DATA.resolve()}{os.pathsep}{kpi.resolve()}"
    paths = {Path(f["path"]) for f in m["inputs"]}
    assert SHARED_DATA.resolve() / "b1_children_in_need_2013_to_2024.csv" in paths
    assert kpi.resolve() / "sen2_mi.csv" in paths
    assert all(p.is_file() and hashlib.sha256(p.read_bytes()).hexdigest() == f["sha256"]
               for p, f in ((Path(f["path"]), f) for f in m["inputs"]))
    assert f"files in {SHARED_DATA.resolve()} and {kpi.resolve()}" in m["data"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"la: 808\nout: {out}\ndata_dir:\n  - {SHARED_DATA}\n  - {tmp_path / 'nowhere'}\n", "utf-8")
    assert_one_line_error(run_needs("pack", "-f", bad), "data folder not found", "nowhere", code=2)


# --------------------------------------------------------------------------------------------------------------------
# 10. The real published data, end to end


@pytest.fixture(scope="session")
def real_pack(tmp_path_factory) -> Path:
    needs_shared()
    out = tmp_path_factory.mktemp("real_pack")
    # The data folder as a user types it, relative to the project folder.
    r = run_needs("pack", "--data-dir", "../shared/data/dfe", "--la", LA, "--year", "2024", "--out", out, cwd=ROOT)
    return pack_built(r, out)


def test_real_pack_shows_the_published_figures(real_pack):
    for name in ("10_children_in_need", "00_summary"):
        assert "543.2" in numbers_in(read_page(real_pack, name).text), f"CIN rate 543.2 not on {name}"
    assert "132" in numbers_in(read_page(real_pack, "30_looked_after").text), "CLA rate 132 not on 30_looked_after"
    for name in PAGES:
        page = read_page(real_pack, name)
        assert "demo data" not in page.text.lower(), f"{name} says demo data on real data"
        assert 'class="demo-notice"' not in (real_pack / f"{name}.html").read_text("utf-8"), name
        assert accessibility_problems(page) == [], name


def test_real_pack_trend_titles_state_the_tested_trend(real_pack):
    """Each trend chart's headline says what the table's recent trend says (Fingertips' test), never a first-to-last
    change: "no significant change" where the test finds none (children in need rose from 2015 to 2024 but not
    significantly over the last five years), "too few years to test" where it cannot run."""
    from analysis import indicators
    from analysis.pack import report
    ctx = report.load(LA, 2024, data_dir=str(SHARED_DATA))
    words = {"increasing": ": {}a significant rise to", "decreasing": ": {}a significant fall to",
             "no significant change": ": no significant change over the five years",
             "cannot be calculated": "too few years to test for a trend"}
    judged = {"better": "improving, ", "worse": "worsening, "}
    reg = indicators.registry()
    for page in PACK_SECTIONS[1:-1]:
        text = " ".join(read_page(real_pack, page).text.split())
        assert f"in {LA} rose from" not in text and f"in {LA} fell from" not in text, page   # the old titles
        for ind, entry in reg.items():
            row = ctx.latest(ind)
            if row is None or report.PAGES.get(entry["theme"]) != f"{page}.html":
                continue
            direction = {"increasing": 1, "decreasing": -1}.get(row["trend"], 0)
            verdict = "" if entry["polarity"] == "none" or not direction else \
                judged["better" if (direction > 0) == (entry["polarity"] == "high_is_good") else "worse"]
            assert f"{entry['short_title']} in {LA}" + words[row["trend"]].format(verdict) in text or \
                (row["trend"] == "cannot be calculated" and words[row["trend"]] in text), (ind, row["trend"])
    cin = ctx.latest("cin_rate")
    first = ctx.rows("cin_rate").set_index("time_period").loc["2015", "value"]   # the chart's first year
    assert cin["trend"] == "no significant change" and first < cin["value"]


def test_real_pack_bands_follow_lait(real_pack):
    """Long-term placement stability (higher is better): Stockton's 72% is above England's 68%, so among the better
    values; LAIT puts it in band A or B counted from the best, never D."""
    tables = sheets_by_table(real_pack / "tables.xlsx")
    summary = pd.read_excel(real_pack / "tables.xlsx", sheet_name=tables["summary"], header=2).set_index("Indicator")
    stability = summary.loc["Long-term placement stability"]
    assert stability[LA] > stability["England"] and stability["Quartile band"] in ("A", "B")
    assert stability["Rank"] < stability["Rank out of"] / 2
    assert stability["Rank and band order"] == "1 and A are the best (the highest values)"
    assert summary.loc["Children in need", "Rank and band order"] == \
        "1 and A are the lowest values (no better or worse)"


def test_summary_symbols_keep_better_apart_from_higher(demo_pack):
    """A tick and a cross for better and worse, triangles for higher and lower: no symbol means both."""
    html = (demo_pack / "00_summary.html").read_text("utf-8")
    cells = re.findall(r'class="rug (better|worse|higher|lower|similar)"><span aria-hidden="true">([^<]*)</span>', html)
    symbols = {}
    for result, symbol in cells:
        symbols.setdefault(result, set()).add(symbol)
    assert all(len(s) == 1 for s in symbols.values()), symbols
    shown = [s.pop() for s in symbols.values()]
    assert len(set(shown)) == len(shown), symbols
    assert {"better", "higher"} <= set(symbols), "the demo summary should show both kinds of result"


def test_real_pack_manifest_lists_the_real_files(real_pack):
    m = json.loads((real_pack / "manifest.json").read_text("utf-8"))
    assert m["demo_data"] is False
    assert (m["parameters"]["la"], m["parameters"]["la_code"]) == (LA, "E06000004")
    names = {f["file"] for f in m["inputs"]}
    for needed in ("b1_children_in_need_2013_to_2024.csv", "cla_number_and_rate_per_10k_children_pub2024.csv"):
        assert needed in names
    for f in m["inputs"]:
        real = SHARED_DATA / f["file"]
        assert real.is_file(), f
        assert f["sha256"] == sha256(real), f"{f['file']}: recorded hash is not the real file's"
        recorded = Path(f["path"])
        recorded = recorded if recorded.is_absolute() else ROOT / recorded
        assert recorded.resolve() == real.resolve(), f


def test_real_pack_data_page_lists_every_file_and_names_the_neighbour_model(real_pack):
    """The data-and-methods page shows ``needs sources``' inventory: every file in the folder, with its fingerprint."""
    page = (real_pack / "99_data_and_methods.html").read_text("utf-8")
    files = sorted(p for p in SHARED_DATA.iterdir() if p.suffix != ".md")
    for f in files:
        assert f.name in page, f"{f.name} is missing from the data page"
        assert sha256(f)[:12] in page, f"{f.name}'s fingerprint is missing from the data page"
    assert "Statistical neighbours:" in page and "sn_model_2025_wide.csv" in page
    m = json.loads((real_pack / "manifest.json").read_text("utf-8"))
    assert "sn_model_2025_wide.csv" in m["neighbour_model_used"] and m["data_kind"] == "published"


def test_real_workbook_holds_the_published_figures_unrounded(real_pack):
    """Read back with pandas: the figures of the benchmarked table at full precision, which round to DfE's."""
    from analysis.pack import report
    path = real_pack / "tables.xlsx"
    data = check_workbook(path)
    check_number_formats(path, data)
    tables = sheets_by_table(path)
    ctx = report.load(LA, 2024, data_dir=str(SHARED_DATA))
    trend = pd.read_excel(path, sheet_name=tables["cin_rate_trend"], header=2)
    mine = ctx.rows("cin_rate").set_index("time_period")
    assert len(trend) >= 5
    for year, value, lower in zip(trend["Year"], trend[LA], trend[f"{LA}: lower limit"]):
        assert value == mine.loc[str(year), "value"] and lower == mine.loc[str(year), "lower_95"], year
    # the funnel's counts are the published file's, and its value is their ratio, unrounded
    b1 = SHARED_DATA / "b1_children_in_need_2013_to_2024.csv"
    where = dict(time_period="2024", new_la_code="E06000004", geographic_level="Local authority")
    funnel = pd.read_excel(path, sheet_name=tables["cin_rate_funnel"], header=2).set_index("Local authority")
    numerator, denominator, value = funnel.loc[LA, ["Numerator", "Denominator", "Value"]]
    assert numerator == int(published(b1, "At31_episodes", **where)) == 2395
    assert value == pytest.approx(numerator / denominator * 10_000, rel=1e-12)
    assert value != 543.2 and int(value * 10 + 0.5) / 10 == float(published(b1, "At31_episodes_rate", **where)) == 543.2
    summary = pd.read_excel(path, sheet_name=tables["summary"], header=2).set_index("Indicator")
    assert summary.loc["Children in need", LA] == value and summary.loc["Children in need", "Year"] == 2024
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        assert "b1_children_in_need_2013_to_2024.csv (release 2024)" in wb[tables["cin_rate_trend"]]["A2"].value
        assert wb["Contents"]["A2"].value.startswith("Published data")
    finally:
        wb.close()


def test_real_pack_first_page_and_manifest_say_which_data_it_holds(real_pack):
    m = json.loads((real_pack / "manifest.json").read_text("utf-8"))
    assert m["data"].startswith("Published data.") and str(SHARED_DATA.resolve()) in m["data"]
    index = read_page(real_pack, "index").text
    assert "Published data." in index and str(SHARED_DATA.resolve()) in index


def test_demo_pack_first_page_and_manifest_say_which_data_it_holds(demo_pack):
    m = json.loads((demo_pack / "manifest.json").read_text("utf-8"))
    assert m["data_kind"] == "demo" and m["data"].startswith("Demo data.") and "not official statistics" in m["data"]
    assert "Demo data." in read_page(demo_pack, "index").text


def test_real_pack_manifest_paths_are_absolute(real_pack):
    m = json.loads((real_pack / "manifest.json").read_text("utf-8"))
    assert Path(m["parameters"]["data_dir"]).is_absolute(), m["parameters"]["data_dir"]
    for f in m["inputs"]:
        assert Path(f["path"]).is_absolute(), f["path"]


# --------------------------------------------------------------------------------------------------------------------
# 11. Leftovers and impossible requests


def test_jobs_zero_is_a_parameter_error(tmp_path, fixture_ok):
    out = tmp_path / "out"
    r = run_needs("pack", "--la", LA, "Darlington", "--year", "2024", "--out", out, "--notebooks", fixture_ok,
                  "--jobs", "0")
    lines = assert_one_line_error(r, "--jobs 0", "1 or more", code=2)
    assert len(lines) == 1, r.stderr
    assert not out.exists() or list(out.rglob("*")) == []


def test_a_killed_builds_hidden_folder_is_cleared_by_the_next_run(tmp_path, fixture_ok):
    out = tmp_path / "out"
    parent = out / SLUG
    parent.mkdir(parents=True)
    # what a build killed with SIGKILL leaves: its hidden folder, named after a process that no longer runs
    dead = 2**22 + 12345  # above the default pid_max, so no process has it
    killed = parent / f".2024.building-{dead}"
    (killed / "notebooks").mkdir(parents=True)
    (killed / "index.html").write_text("half a page", "utf-8")
    stale_old = parent / f".2024.old-{dead}"
    stale_old.mkdir()
    unrelated = parent / ".keep-me"
    unrelated.mkdir()
    folder = pack_built(run_needs("pack", "--la", LA, "--year", "2024", "--out", out, "--notebooks", fixture_ok), out)
    assert (folder / "index.html").is_file()
    assert not killed.exists() and not stale_old.exists()
    assert unrelated.is_dir(), "only a build's own hidden folders are removed"


def test_clear_stale_builds_leaves_a_running_builds_folder_alone(tmp_path):
    import os
    import subprocess
    import sys

    from analysis.pack import clear_stale_builds

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = tmp_path / f".2024.building-{proc.pid}"
        live.mkdir()
        dead = tmp_path / f".2024.building-{2**22 + 1}"
        dead.mkdir()
        removed = clear_stale_builds(tmp_path, "2024")
        assert removed == [dead] and live.is_dir() and not dead.exists()
        assert os.getpid() != proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_an_output_folder_that_cannot_be_written_fails_before_any_notebook(tmp_path, monkeypatch):
    """Root ignores permission bits, so the refusal is simulated where the check makes its probe file."""
    import tempfile as tempfile_mod

    from analysis import pack
    from analysis.errors import ParameterError

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile_mod, "NamedTemporaryFile", refuse)
    with pytest.raises(ParameterError) as err:
        pack.check_writable(tmp_path / "out" / "deeper")
    message = str(err.value)
    assert "cannot write to output folder" in message and "Permission denied" in message and "deeper" in message
    assert "\n" not in message


def test_kernel_start_is_retried_once_then_named(tmp_path, monkeypatch):
    """A kernel that dies at start (a port race on a busy machine) is started again; twice, a one-line PackError."""
    from analysis.pack.build import KernelSession, PackError

    starts = []

    def dies_first(self):
        starts.append(1)
        if len(starts) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(KernelSession, "_start", dies_first)
    monkeypatch.setattr(KernelSession, "_stop", lambda self: None)
    session = KernelSession(tmp_path / "k.log", tmp_path)
    assert session.__enter__() is session and len(starts) == 2
    session._log.close()

    def always_dies(self):
        (tmp_path / "k.log").write_text("OSError: [Errno 98] Address already in use\n")
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(KernelSession, "_start", always_dies)
    with pytest.raises(PackError, match="would not start, twice: OSError: \\[Errno 98\\] Address already in use"):
        KernelSession(tmp_path / "k.log", tmp_path).__enter__()


# --------------------------------------------------------------------------------------------------------------------
# 12. A demo pack and a published-data pack never replace each other silently


def test_demo_and_published_packs_go_to_different_folders_by_default(tmp_path):
    from analysis.config import OUTPUTS_DIR
    from analysis.pack import PackParams, pack_folder

    def folder(is_demo, **kw):
        data = {"la": {"area_name": LA}, "year": "2024", "is_demo": is_demo, **kw}
        return pack_folder(PackParams(la=LA, year=2024, out=kw.pop("out", "")), data)

    assert folder(False) == OUTPUTS_DIR / SLUG / "2024"
    assert folder(True) == OUTPUTS_DIR / "demo" / SLUG / "2024"
    assert folder(True, period="2025Q2") == OUTPUTS_DIR / "demo" / SLUG / "2025Q2"
    # --out keeps its contract, OUT/<la>/<year>/, for both; the manifest check below guards it
    assert folder(True, out=str(tmp_path)) == folder(False, out=str(tmp_path)) == tmp_path / SLUG / "2024"


def test_a_pack_of_the_other_data_is_replaced_only_with_force(tmp_path, fixture_ok):
    needs_shared()
    out = tmp_path / "out"
    common = ["pack", "--la", LA, "--year", "2024", "--out", out, "--notebooks", fixture_ok]
    demo = pack_built(run_needs(*common), out)
    before = (demo / "manifest.json").read_text("utf-8")
    r = run_needs(*common, "--data-dir", SHARED_DATA)
    lines = assert_one_line_error(r, str(demo), "built from demo data", "this one is from published data", "--force",
                                  code=2)
    assert [line for line in lines if not line.startswith("needs: warning:")] == [lines[-1]]
    assert (demo / "manifest.json").read_text("utf-8") == before, "the demo pack was replaced"
    assert leftovers(out) == [] and not (demo.parent / "2024.failed").exists()

    real = pack_built(run_needs(*common, "--data-dir", SHARED_DATA, "--force"), out)
    assert json.loads((real / "manifest.json").read_text("utf-8"))["demo_data"] is False
    r = run_needs(*common)
    assert_one_line_error(r, "built from published data", "this one is from demo data", code=2)
    assert json.loads((real / "manifest.json").read_text("utf-8"))["demo_data"] is False
