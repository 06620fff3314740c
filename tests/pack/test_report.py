"""What a notebook calls (analysis/pack/report.py): the tidy table behind a theme page, the sections drawn from it
with matplotlib Figures an analyst can restyle, and theme pages that follow the registry.

Expected values come from the published files (the real DfE files beside the project, or the demo files as written)
read here with ``csv``, never from the code under test.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys

import nbformat
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from analysis.pack import report
from analysis.present import charts
from conftest import ROOT, SHARED_DATA, needs_shared

THEMES = {"10_children_in_need": "children_in_need", "20_child_protection": "child_protection",
          "30_looked_after": "looked_after", "40_missing": "missing", "50_neet": "neet",
          "60_care_leavers": "care_leavers", "70_early_years": "early_years"}


@pytest.fixture(scope="module")
def real_ctx():
    needs_shared()
    return report.load(la="Stockton-on-Tees", year=2024, data_dir=str(SHARED_DATA))


def _csv_rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_theme_frame_holds_the_la_its_published_neighbours_region_and_england(real_ctx):
    frame = report.theme_frame(real_ctx, "looked_after")
    assert list(frame.columns) == report.THEME_FRAME_COLUMNS
    assert frame["time_period"].dtype.kind == "i", "periods are numbers: sortable and plottable"
    assert frame["time_period"].max() == 2024
    # the neighbours are the model file's ten for Stockton-on-Tees (old code 808)
    model = next(r for r in _csv_rows(SHARED_DATA / "sn_model_2025_wide.csv") if r["old_la_code"] == "808")
    wanted = {model[f"SN_{i}"] for i in range(1, 11)}
    got = frame[frame["role"] == "neighbour"]
    lookup = {r["old_la_code"]: r["new_la_code"] for r in _csv_rows(SHARED_DATA / "cla_number_and_rate_per_10k_children_pub2024.csv")
              if r["geographic_level"] == "Local authority"}
    assert set(got["area_code"]) == {lookup[c] for c in wanted}
    assert set(frame["role"]) == {"la", "neighbour", "sn", "region", "england"}
    # England and Stockton-on-Tees in 2024 as published (rate per 10,000, rounded to whole numbers)
    cla = [r for r in _csv_rows(SHARED_DATA / "cla_number_and_rate_per_10k_children_pub2024.csv")
           if r["time_period"] == "2024"
           # the release's header is one name short: the category sits under "population_count"
           and r["population_count"] == "Children looked after at 31 March each year"]
    published = {r["geographic_level"] + r["la_name"]: float(r["rate_per_10000"]) for r in cla
                 if r["la_name"] in ("", "Stockton-on-Tees")}
    rows = frame[(frame["indicator"] == "cla_rate") & (frame["time_period"] == 2024)].set_index("role")
    assert round(rows.loc["england", "value"]) == published["National"] == 70
    assert round(rows.loc["la", "value"]) == published["Local authorityStockton-on-Tees"] == 132
    assert rows.loc["la", "lower"] < rows.loc["la", "value"] < rows.loc["la", "upper"]


def test_theme_frame_neighbour_average_is_the_mean_of_the_neighbour_rows(real_ctx):
    frame = report.theme_frame(real_ctx, "looked_after")
    nb = frame[frame["role"] == "neighbour"].groupby(["indicator", "time_period"])["value"]
    sn = frame[frame["role"] == "sn"].set_index(["indicator", "time_period"])["value"]
    checked = 0
    for key, values in nb:
        if values.notna().sum() == 10 and key in sn.index:
            assert sn[key] == pytest.approx(values.mean(), rel=1e-12), key
            checked += 1
    assert checked >= 10


def test_theme_frame_refuses_an_unknown_theme_naming_the_themes(real_ctx):
    with pytest.raises(Exception, match="no indicators for theme 'lookedafter'; themes: children_in_need"):
        report.theme_frame(real_ctx, "lookedafter")


def test_section_holds_figures_an_analyst_can_restyle_and_the_frames_they_draw(real_ctx):
    s = report.section(real_ctx, "cla_rate")
    assert set(s.figures) == {"trend", "benchmark", "funnel"}
    assert all(isinstance(f, Figure) and isinstance(f, charts.ChartFigure) for f in s.figures.values())
    trend = s.data["trend"]
    assert list(trend.columns) == ["time_period", "series", "role", "value", "lower", "upper"]
    assert trend["time_period"].dtype.kind == "i"
    # the page shows the figure's own alternative text
    for fig in s.figures.values():
        assert fig.alt and fig.alt.replace("&", "&amp;").replace("'", "&#x27;") in str(s)
    # a restyle changes what the figure shows next time it is drawn (the page re-renders it)
    fig = s.figures["trend"]
    before = fig.chart(fmt="png").image
    fig.axes[0].set_facecolor("#ffdd00")
    after = fig.chart(fmt="png").image
    assert before != after
    assert fig._repr_html_().startswith('<figure class="chart">')


def test_a_notebook_chart_call_is_the_one_the_page_makes(real_ctx):
    ind = "cla_rate"
    trend = report.trend_data(real_ctx, ind)
    fig = charts.trend(trend, **report.trend_words(real_ctx, ind, trend))
    page = report.section(real_ctx, ind).figures["trend"]
    assert (fig.alt, fig.caption, fig.chart_title) == (page.alt, page.caption, page.chart_title)
    assert fig.chart().image == page.chart().image


@pytest.mark.parametrize("stem,theme", THEMES.items())
def test_theme_notebooks_loop_over_the_registry(stem, theme):
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert re.search(rf'for ind in report\.theme_indicators\("{theme}"\):[^\n]*\n\s+display\(report\.section\(ctx, ind\)\)',
                     code), "the page loops over the theme's indicators"
    assert not re.search(r'report\.section\(ctx, "', code), "no indicator listed by hand"
    explore = [c for c in nb.cells if "explore" in c.metadata.get("tags", [])]
    assert any("theme_frame" in c.source for c in explore), "the tidy table is shown to the analyst"
    assert any("charts.trend(" in c.source for c in explore), "a chart drawn by a visible call"


def test_the_pack_leaves_out_the_explore_cells(demo_pack):
    executed = nbformat.read(demo_pack / "notebooks" / "30_looked_after.ipynb", as_version=4)
    assert not [c for c in executed.cells if "explore" in c.metadata.get("tags", [])]
    page = (demo_pack / "30_looked_after.html").read_text("utf-8")
    assert "Explore the data" not in page
    assert '<h2 class="group">Education, wellbeing and offending of children in care</h2>' in page


NEW_INDICATOR = """
cp_starts_rate:
  title: Child protection plans started during the year
  short_title: Child protection plans started
  theme: child_protection
  unit: per 10,000 children aged 0-17
  multiplier: 10000
  method: rate
  polarity: none
  decimals: 1
  source: cp_d3
  numerator: {column: CPP_start}
  denominator: population
  published: null
  period: financial
  definition: Child protection plans that started during the year, per 10,000 children aged 0 to 17.
  outcome: Reducing the number of children who need child protection plans
"""


def test_adding_an_indicator_to_the_registry_puts_it_in_the_pack(tmp_path):
    """The README's promise: a new indicator from a catalogued layout touches the registry and nothing else."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "analysis", project / "analysis", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "targets", project / "targets")
    (project / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "20_child_protection.ipynb", project / "notebooks")
    registry = project / "analysis" / "indicators" / "indicators.yaml"
    registry.write_text(registry.read_text("utf-8") + NEW_INDICATOR, "utf-8")
    demo = ROOT / "data" / "demo"
    out = tmp_path / "out"
    env = {**__import__("os").environ, "PYTHONPATH": str(project)}
    result = subprocess.run([sys.executable, "-m", "analysis.cli", "pack", "--data-dir", str(demo), "--year", "2024",
                             "--out", str(out)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    folder = out / "stockton-on-tees" / "2024"
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert list(manifest["notebooks"]) == ["20_child_protection.ipynb"], "the copy's notebooks ran, not the project's"
    page = (folder / "20_child_protection.html").read_text("utf-8")
    assert 'id="cp-starts-rate"' in page
    assert 'href="#cp-starts-rate"' in page, "listed in the page's summary"
    # its figure, worked by hand from the demo files: plans started in 2023-24 over the mid-2023 population
    d3 = next(r for r in _csv_rows(next(demo.glob("*d3_cpps_subsequent_plan*.csv")))
              if r["time_period"] == "2024" and r["new_la_code"] == "E06000004")
    pop = next(r for r in _csv_rows(next(demo.glob("*ons_mid-year_population*.csv")))
               if r["time_period"] == "2023" and r["new_la_code"] == "E06000004")
    rate = int(d3["CPP_start"]) / int(pop["population_estimate"]) * 10000
    shown = f"{np.floor(rate * 10 + 0.5) / 10:.1f}"
    section = page[page.index('id="cp-starts-rate"'):]
    assert f"was {shown} per 10,000" in section[:3000], (shown, re.sub(r"<[^>]+>", " ", section[:1500]))
    import openpyxl
    book = openpyxl.load_workbook(folder / "tables.xlsx", read_only=True)
    titles = [next(book[name].iter_rows(max_row=1, values_only=True))[0] or "" for name in book.sheetnames]
    assert any(str(t).startswith("Child protection plans started") for t in titles), titles


def test_the_index_shows_the_key_findings_the_summary_page_shows(demo_pack):
    """The index takes the summary notebook's findings as it showed them; it does not work them out again."""
    def findings(name):
        page = (demo_pack / name).read_text("utf-8")
        block = re.search(r'<ol class="findings">(.*?)</ol>', page, re.S).group(1)
        return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", block, re.S)]

    index, summary = findings("index.html"), findings("00_summary.html")
    assert len(index) == 5
    assert index == summary


@pytest.mark.parametrize("kind,first,last,words", [
    ("financial", 2015, 2024, "years ending 31 March 2015 to 2024"),
    ("financial", "2024", "2024", "year ending 31 March 2024"),
    ("academic", 2019, 2024, "academic years 2018/19 to 2023/24"),
    ("academic", 2000, 2000, "academic year 1999/00"),
    ("calendar_year", 2022, 2024, "calendar years 2022 to 2024"),
    ("calendar", 2016, 2024, "2016 to 2024 (December to February averages)"),
])
def test_chart_subtitles_name_the_indicators_kind_of_year(kind, first, last, words):
    assert report._period_words({"period": kind}, first, last) == words


def test_every_indicator_table_has_its_own_whole_sheet_tab():
    """Tabs are cut to Excel's 31 characters; the registry's sheet_title keeps them whole and distinct."""
    from analysis import indicators

    tabs = [report._sheet(e, s) for e in indicators.registry().values() for s in ("trend", "SN", "LAs")]
    assert len(tabs) == len(set(tabs)), sorted(t for t in tabs if tabs.count(t) > 1)
    assert max(map(len, tabs)) <= 31
    short = {e.get("sheet_title") or e["short_title"] for e in indicators.registry().values()}
    assert all(any(t == f"{s} trend" for s in short) for t in tabs if t.endswith(" trend")), "no title was cut"


def test_a_sheet_title_too_long_for_a_tab_is_refused(tmp_path):
    from analysis import indicators
    from analysis.errors import InputError

    text = (ROOT / "analysis" / "indicators" / "indicators.yaml").read_text("utf-8")
    bad = tmp_path / "indicators.yaml"
    bad.write_text(text.replace("sheet_title: Placement stability", "sheet_title: Long-term placement stability"),
                   "utf-8")
    with pytest.raises(InputError, match="indicators.yaml.*stability_same_carer_pct.*sheet_title 'Long-term placement "
                                         "stability' is longer than 25 characters"):
        indicators.registry(bad)


def test_theme_frame_of_chosen_indicators_keeps_their_order(real_ctx):
    frame = report.theme_frame(real_ctx, ids=["cp_rate", "cla_rate"])
    assert list(dict.fromkeys(frame["indicator"])) == ["cp_rate", "cla_rate"]


def test_rows_follow_a_table_put_in_place_of_the_context_table(real_ctx):
    """Rows are found once per indicator; an analyst who filters ``ctx.table`` gets rows from the new table."""
    import copy

    ctx = copy.copy(real_ctx)
    ctx.__dict__.pop("_by_indicator", None)
    before = ctx.rows("cla_rate")
    assert before["time_period"].max() == "2024"
    ctx.table = ctx.table[ctx.table["time_period"] != "2024"]
    after = ctx.rows("cla_rate")
    assert "2024" not in set(after["time_period"]) and len(after) == len(before) - 1
    assert ctx.latest("cla_rate")["time_period"] == "2023"


def test_rows_are_each_area_s_rows_oldest_first_and_a_copy_the_caller_may_change(real_ctx):
    """``rows`` is the table filtered to one indicator and area, sorted by period (found here with plain boolean
    masks); what a caller does to the frame it gets does not reach the next caller."""
    import copy

    ctx = copy.copy(real_ctx)
    ctx.__dict__.pop("_by_indicator", None)
    t = ctx.table
    for area in ("E06000004", "E06000005", "E92000001"):
        want = t[(t["indicator"] == "cp_rate") & (t["area_code"] == area)].sort_values("period_end")
        pd.testing.assert_frame_equal(ctx.rows("cp_rate", area), want)
    mine = t[(t["indicator"] == "cp_rate") & (t["area_code"] == "E06000004")].sort_values("period_end")
    got = ctx.rows("cp_rate")
    got["value"] = -1.0
    got["added"] = 1
    got.loc[got.index[0], "status"] = "z"
    pd.testing.assert_frame_equal(ctx.rows("cp_rate"), mine)
    latest = ctx.latest("cp_rate")
    latest["value"] = -1.0
    assert ctx.latest("cp_rate")["value"] >= 0
    assert ctx.rows("cp_rate", "E00000000").empty


@pytest.mark.parametrize("trend, polarity, untested, words", [
    ("increasing", "low_is_good", False, "Rising (worsening)"),
    ("increasing", "high_is_good", False, "Rising (improving)"),
    ("decreasing", "low_is_good", False, "Falling (improving)"),
    ("decreasing", "high_is_good", False, "Falling (worsening)"),
    ("increasing", "none", False, "Rising"),  # no better or worse direction: the direction only
    ("no significant change", "low_is_good", False, "No significant change"),
    ("cannot be calculated", "low_is_good", False, "Too few years"),
    ("cannot be calculated", "high_is_good", True, "Not tested"),
])
def test_scorecard_trend_says_whether_it_is_improving(trend, polarity, untested, words):
    assert report._scorecard_trend(trend, polarity, untested) == words


def test_scorecard_shows_a_target_not_yet_due_with_its_year(real_ctx):
    """A target the council has set for a later year is on the scorecard (it judges nothing before its year)."""
    import copy

    ctx = copy.copy(real_ctx)
    ctx.targets = pd.DataFrame([
        {"area_code": "E06000004", "indicator": "cla_rate", "target": 120.0, "target_year": "2027",
         "direction": "lower"},
        {"area_code": "E06000004", "indicator": "cla_rate", "target": 110.0, "target_year": "2029",
         "direction": "lower"},
    ])
    rec = report._scorecard_record(ctx, "Safely reducing the number of children who need to be looked after",
                                   "cla_rate")
    assert (rec["Target"], rec["Target status"]) == (120.0, "due 2027")  # the next one, not the later
    assert report._scorecard_record(real_ctx, "Looked after", "cla_rate")["Target"] == ""  # none set: none shown
