"""Charts: valid images of the right size in a wide and a narrow layout, accessible HTML whose caption adds to the
title, alternative text with DfE-rounded numbers, value axes that show the variation, labels that never overlap
(checked on the densest real funnel plots), funnel positions worked by hand, and nothing left in pyplot."""

from __future__ import annotations

import base64
import html
import io
import re

import matplotlib.colors
import matplotlib.image
import matplotlib.text
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from analysis.present import charts
from analysis.stats import compare
from analysis.stats import funnel as funnel_stats
from analysis.errors import ParameterError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LA = "Stockton-on-Tees"
COMMON = dict(unit="per 10,000 children aged 0-17", decimals=0, source="DfE, Children looked after in England",
              la_name=LA)


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.texts + [t for ax in fig.axes for t in ax.texts]]


def _pixels(png: bytes) -> tuple[int, int]:
    image = matplotlib.image.imread(io.BytesIO(png))
    return image.shape[1], image.shape[0]


def _check_image_and_html(chart: charts.Chart, width: int, height: int) -> None:
    assert chart.png.startswith(PNG_SIGNATURE)
    assert _pixels(chart.png) == (width, height)
    assert (chart.width, chart.height) == (width, height)
    # The narrow layout: half the width (4 inches at 110 dpi), for small screens.
    assert chart.narrow.startswith(PNG_SIGNATURE)
    assert _pixels(chart.narrow)[0] == 440 and chart.narrow_size == _pixels(chart.narrow)
    page = chart.to_html()
    assert page.startswith('<figure class="chart">') and page.endswith("</figure>")
    assert f'alt="{html.escape(chart.alt, quote=True)}"' in page
    assert page.count("<img") == 1 and "data:image/png;base64," in page
    assert f'width="{width}" height="{height}"' in page
    narrow = re.search(r'<picture><source media="\(max-width: 48em\)" srcset="data:image/png;base64,([^"]+)" '
                       r'width="440" height="(\d+)"><img ', page)
    assert narrow and base64.b64decode(narrow.group(1)) == chart.narrow
    assert int(narrow.group(2)) == chart.narrow_size[1]
    outside_images = re.sub(r'"data:[^"]*"', '""', page)
    assert "<script" not in outside_images.lower() and "http" not in outside_images
    assert "<h" not in page.replace("<figcaption", "")  # no heading tags
    # The caption shows the notes, never the title and subtitle again: those are for screen readers only.
    caption = re.search(r"<figcaption>(.*)</figcaption>", page).group(1)
    style, hidden, shown = re.fullmatch(r'<span class="chart-title" style="([^"]*)">(.*?)</span>(.*)', caption).groups()
    assert "position:absolute" in style and "clip:rect(0 0 0 0)" in style and "overflow:hidden" in style
    assert hidden.startswith(html.escape(chart.title)) and html.escape(chart.subtitle) in hidden
    assert shown == f" {html.escape(chart.caption)}" and chart.caption
    assert chart.title not in chart.caption and chart.subtitle not in chart.caption
    assert chart._repr_html_() == page


def _text_boxes(fig) -> list:
    """Every visible text on the figure (titles, notes, labels, tick labels) with its box in pixels."""
    FigureCanvasAgg(fig).draw() if fig.canvas is None else fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = list(fig.texts)
    for ax in fig.axes:
        texts += list(ax.texts) + list(ax.get_xticklabels()) + list(ax.get_yticklabels()) + [ax.xaxis.label]
    # Text's own extent: an annotation's would include its leader line.
    return [(t.get_text(), matplotlib.text.Text.get_window_extent(t, renderer)) for t in texts
            if t.get_visible() and t.get_text().strip()]


def _outside_figure(fig) -> list:
    """Texts that run past the figure's edges (cut off in the image)."""
    return [t for t, box in _text_boxes(fig) if box.x0 < -0.5 or box.x1 > fig.bbox.width + 0.5 or box.y0 < -0.5
            or box.y1 > fig.bbox.height + 0.5]


def _overlapping(fig) -> list:
    """Pairs of texts whose boxes overlap (by more than half a pixel each way)."""
    boxes = _text_boxes(fig)
    out = []
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1:]:
            if min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5:
                out.append((ta, tb))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Trend
# ---------------------------------------------------------------------------------------------------------------

def trend_data() -> pd.DataFrame:
    """Three years; the LA's latest value 131.5 (-> 132), the region's 112.5 (-> 113 half up; round() gives 112)."""
    nan = np.nan
    rows = [
        ("2022", LA, "la", 95.0, 88.0, 102.0),
        ("2023", LA, "la", 120.0, 112.0, 128.0),
        ("2024", LA, "la", 131.5, 123.0, 140.0),
        ("2022", "Statistical neighbours", "sn", 90.0, nan, nan),
        ("2023", "Statistical neighbours", "sn", 96.0, nan, nan),
        ("2024", "Statistical neighbours", "sn", 101.0, nan, nan),
        ("2022", "North East", "region", 104.0, nan, nan),
        ("2023", "North East", "region", 108.0, nan, nan),
        ("2024", "North East", "region", 112.5, nan, nan),
        ("2022", "England", "england", 67.0, nan, nan),
        ("2023", "England", "england", nan, nan, nan),  # a gap
        ("2024", "England", "england", 70.0, nan, nan),
    ]
    return pd.DataFrame(rows, columns=["time_period", "series", "role", "value", "lower", "upper"])


def _nofmt(kw):
    """The chart keywords without the image format, for the private figure builders."""
    return {k: v for k, v in kw.items() if k != "fmt"}


TREND_KW = dict(fmt="png", title="More children are looked after in Stockton-on-Tees than in England",
                subtitle="Children looked after per 10,000 children aged 0-17, 2022 to 2024", **COMMON)


def test_trend_chart_image_html_and_alt():
    chart = charts.trend_chart(trend_data(), **TREND_KW)
    assert chart.kind == "trend"
    assert chart.title == TREND_KW["title"] and chart.subtitle == TREND_KW["subtitle"]
    _check_image_and_html(chart, 880, 495)  # 8 x 4.5 inches at 110 dpi
    alt = chart.alt
    assert LA in alt
    # 131.5 is 132 half up; never 131 or 132.0. 112.5 is 113 (Python's round would give 112).
    assert "132" in alt and "131" not in alt and "132.0" not in alt
    assert "North East 113" in alt and "112" not in alt
    assert "went from 95 in 2022 to 132 in 2024" in alt
    assert "statistical neighbours' average was 101" in alt and "England 70" in alt
    assert "95% confidence interval" in alt
    assert alt.startswith("Line chart of children looked after")
    assert 1 <= alt.count(". ") + 1 <= 3
    assert list(chart.data.columns) == ["time_period", "series", "role", "value", "lower", "upper"]
    assert chart.data["series"].iloc[0] == LA
    assert chart.caption == f"Shaded band: 95% confidence interval for {LA}."


def test_trend_direct_labels_name_every_series_and_do_not_overlap():
    data = trend_data()
    # Make the neighbours' and the region's last values almost equal, so their labels must be moved apart.
    data.loc[(data["series"] == "Statistical neighbours") & (data["time_period"] == "2024"), "value"] = 112.0
    fig, tidy, _, caption = charts._trend_figure(data, **_nofmt(TREND_KW))
    texts = _texts(fig)
    for name in data["series"].unique():
        assert any(t.startswith(name) for t in texts), name
    assert f"{LA} 132" in texts and "North East 113" in texts and "England 70" in texts
    assert not fig.axes[0].get_legend()
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    labels = [t for t in ax.texts if any(t.get_text().startswith(s) for s in data["series"].unique())]
    ys = np.sort([t.xyann[1] for t in labels])
    assert len(ys) == 4
    assert np.diff(ys).min() >= 0.04 * (hi - lo) - 1e-9
    assert _overlapping(fig) == []
    assert lo == 0  # the lowest value (67, England) is under half the highest (140): the axis starts at zero
    # Line styles differ, not only colours: LA solid with markers, the others dashed / dash-dot / dotted.
    styles = {line.get_color(): (line.get_linestyle(), line.get_marker()) for line in ax.lines
              if line.get_linestyle() != "None"}
    assert styles[charts.DARK_BLUE] == ("-", "o")
    assert [styles[c][0] for c in (charts.TURQUOISE, charts.DARK_PINK, charts.DARK_GREY)] == ["--", "-.", ":"]
    assert caption.startswith("Shaded band: 95% confidence interval") and not any("interval" in t for t in texts)
    assert any(t.startswith("Source: DfE") for t in texts)


def test_trend_label_names_period_when_last_value_missing():
    data = trend_data()
    data.loc[(data["series"] == "North East") & (data["time_period"] == "2024"), "value"] = np.nan
    fig, _, alt, _ = charts._trend_figure(data, **_nofmt(TREND_KW))
    assert "North East 108 (2023)" in _texts(fig)
    assert "North East" not in alt  # no 2024 value to quote


def stability_data() -> pd.DataFrame:
    """Placement stability in a narrow band: 62% to 77.5% with the LA's confidence limits."""
    nan = np.nan
    rows = [
        ("2022", LA, "la", 68.0, 62.0, 74.0), ("2023", LA, "la", 71.0, 65.0, 77.0), ("2024", LA, "la", 72.0, 66.5, 77.5),
        ("2022", "England", "england", 70.0, nan, nan), ("2023", "England", "england", 69.0, nan, nan),
        ("2024", "England", "england", 68.0, nan, nan),
    ]
    return pd.DataFrame(rows, columns=["time_period", "series", "role", "value", "lower", "upper"])


STABILITY_KW = {**TREND_KW, "unit": "%", "decimals": 0, "title": "Placement stability rose to 72%",
                "subtitle": "Children looked after for 2.5 years or more, in the same placement for 2 years, %"}


def test_trend_axis_shows_the_variation_with_a_marked_break():
    # The values run from 62 to 77.5: the lowest is more than half the highest, so the axis does not start at
    # zero. Padded below by 8% of the 15.5 range (to 60.76), MaxNLocator's five steps of 5 give 60% to 80%.
    fig, _, _, caption = charts._trend_figure(stability_data(), **_nofmt(STABILITY_KW))
    ax = fig.axes[0]
    assert ax.get_ylim() == (60, 80)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["60%", "65%", "70%", "75%", "80%"]
    assert caption.endswith("The value axis starts at 60%, not zero, to show the variation (marked by the zigzag "
                            "at its foot).")
    breaks = [a for a in ax.get_children() if a.get_gid() == "axis-break"]
    assert len(breaks) == 1 and len(breaks[0].get_xdata()) > 3  # a zigzag, not a tick
    # Asked to start at zero, it does: no break, no note.
    fig, _, _, caption = charts._trend_figure(stability_data(), **{**_nofmt(STABILITY_KW), "start_at_zero": True})
    assert fig.axes[0].get_ylim()[0] == 0 and "axis-break" not in [a.get_gid() for a in fig.axes[0].get_children()]
    assert "value axis" not in caption
    # And rates far from zero can be asked not to.
    fig, _, _, caption = charts._trend_figure(trend_data(), **{**_nofmt(TREND_KW), "start_at_zero": False})
    assert fig.axes[0].get_ylim()[0] > 0 and "The value axis starts at" in caption


def test_percentage_axis_stops_at_100():
    data = stability_data()
    data[["value", "lower", "upper"]] = data[["value", "lower", "upper"]] + 22  # up to 99.5%
    fig, _, _, _ = charts._trend_figure(data, **_nofmt(STABILITY_KW))
    assert fig.axes[0].get_ylim()[1] == 100


def test_trend_narrow_layout_keeps_labels_apart():
    for data, kw in ((trend_data(), TREND_KW), (stability_data(), STABILITY_KW)):
        fig, _, _, _ = charts._trend_figure(data, **_nofmt(kw), width=charts.NARROW_WIDTH)
        assert fig.get_figwidth() == 4.0
        assert _overlapping(fig) == [] and _outside_figure(fig) == []


def test_trend_rejects_bad_input():
    data = trend_data()
    with pytest.raises(ParameterError, match="role"):
        charts.trend_chart(data.assign(role="county"), **TREND_KW)
    with pytest.raises(ParameterError, match="time_period"):
        charts.trend_chart(data.drop(columns="time_period"), **TREND_KW)
    with pytest.raises(ParameterError, match="more than one row"):
        charts.trend_chart(pd.concat([data, data.iloc[[0]]]), **TREND_KW)


# ---------------------------------------------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------------------------------------------

def bench_data() -> pd.DataFrame:
    nan = np.nan
    rows = [
        (LA, "la", 131.5, 122.0, 141.0, ""),
        ("Darlington", "neighbour", 118.0, nan, nan, ""),
        ("Hartlepool", "neighbour", 59.0, nan, nan, ""),
        ("Middlesbrough", "neighbour", 100.4, nan, nan, ""),
        ("Redcar and Cleveland", "neighbour", nan, nan, nan, "c"),
        ("Statistical neighbours (average)", "sn", 92.5, nan, nan, ""),
        ("North East", "region", 114.0, nan, nan, ""),
        ("England", "england", 70.0, nan, nan, ""),
    ]
    return pd.DataFrame(rows, columns=["area_name", "role", "value", "lower", "upper", "status"])


BENCH_KW = dict(fmt="png", title="Stockton-on-Tees has the highest rate among its neighbours",
                subtitle="Children looked after per 10,000 children aged 0-17, 2024", **COMMON)


def test_benchmark_chart_image_html_and_alt():
    chart = charts.benchmark_chart(bench_data(), **BENCH_KW)
    assert chart.kind == "benchmark"
    _check_image_and_html(chart, 880, 495)
    alt = chart.alt
    assert alt.startswith(f"Bar chart comparing children looked after per 10,000 children aged 0-17, 2024: {LA} 132,")
    assert "131" not in alt and "132.0" not in alt
    # Three of four neighbours have a value (one suppressed); the LA is above all three.
    assert "higher than all three of its four statistical neighbours with a published value (range 59 to 118)" in alt
    assert "neighbours' average 93" in alt  # 92.5 half up
    assert "North East 114" in alt and "England 70" in alt
    # Sorted highest first, missing last.
    assert list(chart.data["area_name"].iloc[[0, -1]]) == [LA, "Redcar and Cleveland"]


def test_benchmark_labels_bars_symbols_and_bold_la():
    fig, tidy, _, caption = charts._benchmark_figure(bench_data(), **_nofmt(BENCH_KW))
    texts = _texts(fig)
    for name in bench_data()["area_name"]:
        assert name in texts
    for shown in ("132", "118", "59", "100", "93", "114", "70", "c"):
        assert shown in texts, shown
    ax = fig.axes[0]
    la_name = next(t for t in ax.texts if t.get_text() == LA)
    assert la_name.get_fontweight() == "bold"
    assert next(t for t in ax.texts if t.get_text() == "Darlington").get_fontweight() == "normal"
    bars = ax.patches
    assert len(bars) == 7  # no bar for the suppressed value
    colours = {matplotlib.colors.to_hex(b.get_facecolor()).upper() for b in bars}
    assert {charts.DARK_BLUE, charts.MID_GREY, charts.TURQUOISE, charts.DARK_PINK, charts.DARK_GREY} == colours
    assert caption == "Black lines show 95% confidence intervals. c = suppressed to protect confidentiality."
    assert not any(t.startswith("c = ") for t in texts)
    assert ax.get_xlim()[0] == 0  # bars start at zero: their length is the value
    assert _overlapping(fig) == []


def test_benchmark_rank_in_words():
    data = bench_data()
    data.loc[data["area_name"] == LA, "value"] = 105.0
    data.loc[data["area_name"] == "Redcar and Cleveland", ["value", "status"]] = [101.0, ""]
    alt = charts._benchmark_figure(data, **_nofmt(BENCH_KW))[2]
    assert "second highest when ranked with its four statistical neighbours (range 59 to 118)" in alt
    data.loc[data["area_name"] == LA, "value"] = 20.0
    alt = charts._benchmark_figure(data, **_nofmt(BENCH_KW))[2]
    assert "lower than all four of its statistical neighbours" in alt


def test_benchmark_narrow_layout_wraps_long_names():
    data = bench_data()
    data.loc[1, "area_name"] = "Bournemouth, Christchurch and Poole"
    fig, _, _, _ = charts._benchmark_figure(data, **_nofmt(BENCH_KW), width=charts.NARROW_WIDTH)
    names = [t.get_text() for t in fig.axes[0].texts]
    assert "Bournemouth,\nChristchurch and Poole" in names  # 45% of 4 inches: two lines
    assert _overlapping(fig) == []


def test_benchmark_grows_taller_with_many_bars():
    many = pd.DataFrame({"area_name": [LA] + [f"Neighbour {i}" for i in range(1, 21)],
                         "role": ["la"] + ["neighbour"] * 20, "value": np.arange(21, 0, -1.0) * 5})
    chart = charts.benchmark_chart(many, **BENCH_KW)
    height = round(110 * (2.1 + 0.2 * 21))
    assert _pixels(chart.png) == (880, height)


# ---------------------------------------------------------------------------------------------------------------
# Funnel
# ---------------------------------------------------------------------------------------------------------------

def test_funnel_positions_hand_worked_proportion():
    # Comparator 10% (multiplier 100), every denominator 100: the standard error is sqrt(0.1 x 0.9 / 100) = 0.03,
    # i.e. 3 percentage points.
    #   95% limits:   10 -/+ 1.959964 x 3 = 4.12 and 15.88
    #   99.8% limits: 10 -/+ 3.090232 x 3 = 0.73 and 19.27
    data = pd.DataFrame({
        "value":       [25.0, 15.0, 17.0, 5.0, 3.0, 0.5, np.nan, 12.0],
        "denominator": [100,  100,  100,  100, 100, 100, 100,    0],
    }, index=list("abcdefgh"))
    got = charts.funnel_positions(data, comparator=10, method="proportion", multiplier=100, adjust=False)
    assert list(got.index) == list("abcdefgh")
    assert got["a"] == "outside 99.8% limits (above)"           # 25 > 19.27
    assert got["b"] == "within 95% limits"                      # 4.12 <= 15 <= 15.88
    assert got["c"] == "between 95% and 99.8% limits (above)"   # 15.88 < 17 <= 19.27
    assert got["d"] == "within 95% limits"                      # 5 >= 4.12
    assert got["e"] == "between 95% and 99.8% limits (below)"   # 0.73 <= 3 < 4.12
    assert got["f"] == "outside 99.8% limits (below)"           # 0.5 < 0.73
    assert got["g"] == "not compared" and got["h"] == "not compared"
    # The limits used are compare.funnel_limits_proportion's.
    lo, up = compare.funnel_limits_proportion(10, 100, 3.090232, 100)
    assert up == pytest.approx(19.270696) and lo == pytest.approx(0.729304)


def test_funnel_positions_rate_use_compare_limits_at_own_denominator():
    den = np.array([5_000.0, 50_000.0, 200_000.0])
    lo95, up95 = compare.funnel_limits_rate(70, den, 0.95, 10000)
    lo998, up998 = compare.funnel_limits_rate(70, den, 0.998, 10000)
    data = pd.DataFrame({"denominator": den, "value": [up998[0] + 0.01, (up95[1] + up998[1]) / 2, lo95[2] + 0.01]})
    got = charts.funnel_positions(data, 70, "rate", 10000, adjust=False)
    assert list(got) == ["outside 99.8% limits (above)", "between 95% and 99.8% limits (above)",
                         "within 95% limits"]
    with pytest.raises(ParameterError):
        charts.funnel_positions(data, 70, "poisson", 10000)


def test_funnel_positions_allow_for_overdispersion():
    # Eleven LAs of 10,000 children against 100 per 10,000 (expected 100 each), with counts 64 ... 196: the
    # square-root z-scores 2 (sqrt(O) - 10) are -4, -2, 0, 2, 4, 6, -6, 8, 0, 0, 0; winsorised at -4 and 6 their
    # squares sum to 128, so phi = 128/11 and I phi = 128 on 10 degrees of freedom: overdispersed. The
    # between-LA variance is (128 - 10) / (4400 - 400) = 0.0295, giving 99.8% limits 100 (1 -/+ 3.090232
    # sqrt(1/400 + 0.0295))^2 = 20.0 to 241.1 and 95% limits 42.2 to 182.4 (tests/stats/test_funnel.py).
    data = pd.DataFrame({"value": [64.0, 81, 100, 121, 144, 169, 49, 196, 100, 100, 100], "denominator": 10_000.0})
    got = charts.funnel_positions(data, 100, "rate", 10000)
    assert got[7] == "between 95% and 99.8% limits (above)"  # 196: above 182.4, below 241.1
    assert set(got.drop(index=7)) == {"within 95% limits"}
    # On Poisson limits alone 144, 169 and 196 lie far outside.
    plain = charts.funnel_positions(data, 100, "rate", 10000, adjust=False)
    assert list(plain[[4, 5, 7]]) == ["outside 99.8% limits (above)"] * 3


def funnel_data() -> pd.DataFrame:
    # Proportions (%) round an England value of 10%; the LA: 30 of 100 = 30% (outside the 99.8% limit of 19.27).
    # Once the two extremes (30% and 6%) are winsorised, the rest vary no more than chance: no overdispersion
    # (the squared arcsine z-scores average 0.70), so the limits are the binomial ones.
    den = np.array([100, 150, 200, 300, 400, 500, 800, 1000, 1500, 2000], dtype=float)
    pct = np.array([30.0, 8.0, 12.0, 9.5, 11.0, 10.5, 9.0, 10.2, 6.0, 10.0])
    return pd.DataFrame({"area_name": [LA] + [f"LA {i}" for i in range(1, 10)], "numerator": pct * den / 100,
                         "denominator": den, "value": pct, "role": ["la"] + ["other"] * 9})


FUNNEL_KW = dict(fmt="png", comparator=10.0, comparator_name="England", method="proportion", multiplier=100,
                 title="Stockton-on-Tees's rate of repeat plans is far above England's",
                 subtitle="Second or subsequent child protection plans, 2024", unit="%", decimals=1,
                 source="DfE, Characteristics of children in need", la_name=LA, x_label="Plans starting")


def test_funnel_chart_image_html_alt_and_data():
    chart = charts.funnel_chart(funnel_data(), **FUNNEL_KW)
    assert chart.kind == "funnel"
    _check_image_and_html(chart, 880, 495)
    alt = chart.alt
    assert alt.startswith("Funnel plot of second or subsequent child protection plans, 2024, for 10 local "
                          "authorities, against England's 10.0%.")
    assert f"{LA} (30.0%, from 30 out of 100 plans starting) lies above the upper 99.8% limit" in alt
    assert "very unlikely to be chance" in alt
    data = chart.data
    assert len(data) == 10 and "position" in data.columns
    assert data.loc[data["area_name"] == LA, "position"].item() == "outside 99.8% limits (above)"
    # LA 8: 6% of 1500; 99.8% limits 10 -/+ 3.090232 x sqrt(0.09 / 1500) x 100 = 10 -/+ 2.39, so 6 is below 7.61.
    assert data.loc[data["area_name"] == "LA 8", "position"].item() == "outside 99.8% limits (below)"
    assert set(data["position"]) <= set(charts.POSITIONS)
    assert "The limits are binomial limits: the local authorities vary no more than chance explains" in chart.caption
    assert "dispersion ratio 0.70, p = 0.634" in chart.caption  # Spiegelhalter's test, as above


def test_funnel_labels_and_limits():
    fig, out, alt, caption = charts._funnel_figure(funnel_data(), **_nofmt(FUNNEL_KW))
    texts = _texts(fig)
    assert f"{LA} 30.0%" in texts
    assert "95% limits" in texts and "99.8% limits" in texts and "England 10.0%" in texts
    ax = fig.axes[0]
    # Two 95% (dashed) and two 99.8% (dotted) curves of 200 points each, from a little below the smallest
    # denominator (100 / 1.25 = 80) across the axis.
    curves = [line for line in ax.lines if len(line.get_xdata()) == 200]
    assert len(curves) == 4
    x = curves[0].get_xdata()
    assert x[0] == pytest.approx(80) and x[-1] == pytest.approx(ax.get_xlim()[1])
    # At 80 the binomial 99.8% limit is 10 + 3.090232 x sqrt(0.1 x 0.9 / 80) x 100 = 10 + 3.090232 x 3.354102 = 20.364953.
    upper_998 = max(curves, key=lambda line: line.get_ydata()[0]).get_ydata()
    assert upper_998[0] == pytest.approx(20.364953, abs=1e-6)
    assert ax.get_xscale() in ("log", "function") and ax.xaxis.label.get_text().startswith("Plans starting (")
    assert _overlapping(fig) == []


def test_funnel_alt_within_and_between():
    data = funnel_data()
    data.loc[0, "value"] = 15.0  # within 95% (upper 15.88 at n = 100)
    alt = charts._funnel_figure(data, **_nofmt(FUNNEL_KW))[2]
    assert "lies within the 95% limits: the difference from England could be due to chance." in alt
    data.loc[0, "value"] = 17.0  # between 15.88 and 19.27
    alt = charts._funnel_figure(data, **_nofmt(FUNNEL_KW))[2]
    assert "lies above the upper 95% limit but within the 99.8% limits" in alt and "17.0%" in alt


# ---------------------------------------------------------------------------------------------------------------
# Shared behaviour
# ---------------------------------------------------------------------------------------------------------------

def test_html_escapes_text():
    name = 'Bath & North East "Somerset"'
    data = trend_data().replace({LA: name})
    chart = charts.trend_chart(data, **{**TREND_KW, "la_name": name, "title": "Rates <rose> & fell"})
    page = chart.to_html()
    assert "Bath &amp; North East &quot;Somerset&quot;" in page
    assert "Rates &lt;rose&gt; &amp; fell" in page
    assert 'Bath & North' not in page


def test_no_figures_leak_into_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    charts.trend_chart(trend_data(), **TREND_KW)
    charts.benchmark_chart(bench_data(), **BENCH_KW)
    charts.funnel_chart(funnel_data(), **FUNNEL_KW)
    assert plt.get_fignums() == before == []


def test_user_style_does_not_change_charts():
    import matplotlib

    plain = charts.trend_chart(trend_data(), **TREND_KW).png
    with matplotlib.rc_context({"axes.facecolor": "#EAEAF2", "savefig.bbox": "tight", "font.size": 20}):
        styled = charts.trend_chart(trend_data(), **TREND_KW).png
    assert styled == plain


def test_figure_png_and_palette():
    fig, _, _, _ = charts._trend_figure(trend_data(), **_nofmt(TREND_KW))
    png = charts.figure_png(fig)
    assert png.startswith(PNG_SIGNATURE) and _pixels(png) == (880, 495)
    assert charts.PALETTE == ("#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1")
    # The LA is drawn in afcharts' dark blue: its line, its bar and its funnel dot (not the module's constant
    # compared with itself).
    la_line = next(line for line in fig.axes[0].lines if line.get_marker() == "o")
    assert matplotlib.colors.to_hex(la_line.get_color()).upper() == "#12436D"
    fig, tidy, _, _ = charts._benchmark_figure(bench_data(), **_nofmt(BENCH_KW))
    la_bar = fig.axes[0].patches[int(np.flatnonzero(tidy["role"] == "la")[0])]
    assert matplotlib.colors.to_hex(la_bar.get_facecolor()).upper() == "#12436D"
    fig = charts._funnel_figure(funnel_data(), **_nofmt(FUNNEL_KW))[0]
    assert matplotlib.colors.to_hex(fig.axes[0].collections[-1].get_facecolor()[0]).upper() == "#12436D"


def test_svg_is_the_default_and_keeps_text_as_text():
    kw = {k: v for k, v in TREND_KW.items() if k != "fmt"}
    chart = charts.trend_chart(trend_data(), **kw)
    assert chart.mime == "image/svg+xml"
    svg = chart.image.decode("utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<text" in svg
    assert "Arial" in svg                       # a font fallback for machines without DejaVu Sans
    assert "<script" not in svg and "http://www.w3.org" in svg and "https://" not in svg.replace("https://matplotlib.org", "")
    assert 'src="data:image/svg+xml;base64,' in chart.to_html()
    assert 'srcset="data:image/svg+xml;base64,' in chart.to_html()
    narrow = chart.narrow.decode("utf-8")
    assert "<text" in narrow and 'width="288pt"' in narrow and "<script" not in narrow  # 4 inches
    assert (chart.width, chart.height) == (880, 495) and chart.narrow_size[0] == 440
    # deterministic: the same chart twice gives the same bytes
    assert charts.trend_chart(trend_data(), **kw).image == chart.image


# ---------------------------------------------------------------------------------------------------------------
# The densest real charts: every local authority's funnel plot for 2024, from ../shared/data/dfe
# ---------------------------------------------------------------------------------------------------------------

def _headline_indicators() -> list[str]:
    from analysis import indicators

    return [ind for ind, entry in indicators.registry().items() if entry.get("headline")]


def _real_funnel(real_table, indicator: str, width: float):
    from analysis import indicators
    from analysis.read import areas

    entry = indicators.registry()[indicator]
    t = real_table[(real_table["indicator"] == indicator) & (real_table["time_period"].astype(str) == "2024")]
    la = t[(t["geographic_level"] == areas.LEVEL_LA) & t["value"].notna() & t["denominator"].gt(0)]
    assert len(la) > 140, indicator
    data = pd.DataFrame({"area_name": la["area_name"], "numerator": la["numerator"], "denominator": la["denominator"],
                         "value": la["value"], "role": np.where(la["area_code"] == "E06000004", "la", "other")})
    england = t.loc[t["area_code"] == areas.ENGLAND_CODE, "value"].item()
    return data, charts._funnel_figure(
        data, comparator=england, comparator_name="England", method=entry["method"],
        multiplier=entry["multiplier"], title=f"{entry['short_title']}: every local authority",
        subtitle=f"{entry['short_title']}, {entry['unit']}, all local authorities, year ending 31 March 2024",
        unit=entry["unit"], decimals=entry["decimals"], source="Source: DfE", la_name=LA,
        x_label="Children aged 0-17" if entry["denominator"] == "population" else
        "Denominator (number of children or cases)", width=width)


@pytest.mark.parametrize("width", [charts.FIG_WIDTH, charts.NARROW_WIDTH], ids=["wide", "narrow"])
@pytest.mark.parametrize("indicator", _headline_indicators())
def test_real_funnel_labels_clear_of_each_other_and_of_every_dot(real_table, indicator, width):
    data, (fig, out, alt, caption) = _real_funnel(real_table, indicator, width)
    assert _overlapping(fig) == []
    assert _outside_figure(fig) == []
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    label = next(t for t in ax.texts if t.get_text().startswith(LA))
    box = matplotlib.text.Text.get_window_extent(label, renderer)  # the words, not the leader
    frame = ax.get_window_extent(renderer)
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    # The other LAs' dots: circles of the scatter's marker size (points squared) round their centres.
    others = ax.collections[0]
    centres = ax.transData.transform(others.get_offsets())
    radius = np.sqrt(others.get_sizes()[0]) / 2 * fig.dpi / 72
    nearest_x = np.clip(centres[:, 0], box.x0, box.x1)
    nearest_y = np.clip(centres[:, 1], box.y0, box.y1)
    covered = np.hypot(centres[:, 0] - nearest_x, centres[:, 1] - nearest_y) < radius
    assert not covered.any(), f"{LA}'s label covers {int(covered.sum())} other dots"
    assert len(centres) == len(data) - 1


def test_real_funnel_allows_for_overdispersion_and_spreads_the_las(real_table):
    # Children looked after, 2024: the LAs' rates differ far more than Poisson noise allows (the issue counted
    # 106 of 152 outside England's 99.8% Poisson limits), so the limits are widened and say so.
    data, (fig, out, alt, caption) = _real_funnel(real_table, "cla_rate", charts.FIG_WIDTH)
    plain = charts.funnel_positions(data, _england(real_table), "rate", 10000, adjust=False)
    assert plain.str.startswith("outside 99.8%").sum() > len(data) / 2
    outside = out["position"].str.startswith("outside 99.8%").sum()
    assert outside < len(data) / 10
    match = re.search(r"The limits allow for overdispersion: on Poisson limits alone (\d+) of (\d+) local authorities "
                      r"would lie outside the 99.8% limits, far more than chance explains \(Spiegelhalter's "
                      r"overdispersion test: dispersion ratio [\d.]+, p < 0.001\)", caption)
    assert match and int(match.group(1)) == plain.str.startswith("outside 99.8%").sum()
    assert int(match.group(2)) == len(data)
    assert alt.endswith("limits widened for overdispersion.")
    # The denominators run from 364 (Isles of Scilly) to 348,000: on the old linear axis to 400,000 the middle
    # 90% of LAs took a third of the width; on a square-root or log axis they take more.
    ax = fig.axes[0]
    assert ax.get_xscale() in ("log", "function")
    q05, q95 = np.percentile(data["denominator"], [5, 95])
    x05, x95 = (ax.transData.transform([[q, 0]])[0, 0] for q in (q05, q95))
    assert (x95 - x05) / ax.get_window_extent().width > 0.38
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert len(ticks) >= 4 and all(re.fullmatch(r"\d{1,3}(,\d{3})*", t) for t in ticks)


def _england(real_table) -> float:
    from analysis.read import areas

    t = real_table[(real_table["indicator"] == "cla_rate") & (real_table["time_period"].astype(str) == "2024")]
    return t.loc[t["area_code"] == areas.ENGLAND_CODE, "value"].item()


def test_interval_named_at_the_confidence_the_pack_uses():
    """A pack at 99.8% says so in the caption and the alternative text; 95% stays the default."""
    chart = charts.trend_chart(trend_data(), **{**TREND_KW, "interval": "99.8%"})
    assert "99.8% confidence interval" in chart.caption and "99.8% confidence interval" in chart.alt
    assert "95%" not in chart.caption + chart.alt
    assert "95% confidence interval" in charts.trend_chart(trend_data(), **TREND_KW).caption


def test_layout_box_is_matplotlibs_tight_box_with_leader_lines():
    """The axes are fitted to a box measured without drawing the leaders' arrows: it must be matplotlib's own."""
    for width in (charts.FIG_WIDTH, charts.NARROW_WIDTH):
        fig = charts._trend_figure(trend_data(), **_nofmt(TREND_KW), width=width)[0]
        ax = fig.axes[0]
        leaders = [a for a in ax.texts if isinstance(a, matplotlib.text.Annotation) and a.arrow_patch is not None]
        assert len(leaders) == 4  # one per series: the case the shortcut is for
        renderer = fig.canvas.get_renderer()
        np.testing.assert_allclose(charts._tight_box(ax, renderer).bounds, ax.get_tightbbox(renderer).bounds,
                                   atol=1e-9)


def test_a_long_file_name_in_the_source_breaks_at_its_underscores_in_the_narrow_layout():
    """DfE's file names run to 80 characters and more, with no space: on a phone the source line must still fit."""
    name = "la_children_who_were_missing_or_away_from_placement_without_authorisation_updated25.csv"
    kw = {**_nofmt(TREND_KW), "source": f"DfE: {name}"}
    for build, data in ((charts._trend_figure, trend_data()), (charts._benchmark_figure, bench_data())):
        fig = build(data, **{**kw, **({} if build is charts._trend_figure else
                                      {k: v for k, v in _nofmt(BENCH_KW).items() if k != "source"})},
                    width=charts.NARROW_WIDTH)[0]
        assert _outside_figure(fig) == []
        source = next(t.get_text() for t in fig.texts if "Source" in t.get_text())
        assert re.sub(r"\s", "", source) == re.sub(r"\s", "", f"Source: DfE: {name}")  # only broken, nothing lost
        assert len(source.split("\n")) >= 3
        assert all(line.endswith(("_", ":")) for line in source.split("\n")[:-1])


# ---------------------------------------------------------------------------------------------------------------
# Small multiples
# ---------------------------------------------------------------------------------------------------------------

def test_small_multiples_keep_every_label_and_title_inside_the_image(monkeypatch):
    """Four panels in a row: the last panel's latest value (its highest, labelled up and to the right of the line's
    end) and every panel title stay inside the figure, so nothing is cut off at the image's edge."""
    drawn = []
    render = charts.render
    monkeypatch.setattr(charts, "render", lambda fig, fmt=None: drawn.append(fig) or render(fig, fmt))
    rows = []
    for k, (name, la_values) in enumerate([("Children in need (per 10,000)", [300.0, 320.0, 310.0]),
                                           ("Child protection plans (per 10,000)", [40.0, 45.0, 42.0]),
                                           ("Looked-after children (per 10,000)", [90.0, 95.0, 99.0]),
                                           ("Second or subsequent CP plans (%)", [18.0, 20.0, 22345.6])]):
        for year, value in zip(("2022", "2023", "2024"), la_values):
            rows += [{"panel": name, "time_period": year, "role": "la", "value": value, "decimals": 1},
                     {"panel": name, "time_period": year, "role": "england", "value": value * 0.9, "decimals": 1}]
    chart = charts.small_multiples(pd.DataFrame(rows), title="The council's KPIs", subtitle="Each on its own scale",
                                   source="Demo data", la_name=LA)
    assert chart.kind == "small multiples" and "22,345.6" in chart.alt
    assert chart.narrow and chart.narrow_size[0] == round(charts.NARROW_WIDTH * charts.DPI)
    assert len(drawn) == 2  # four columns wide, two narrow
    for fig, columns in zip(drawn, (4, 2)):
        assert len({round(ax.get_position().x0, 3) for ax in fig.axes}) == columns
        assert [t for t, _ in _text_boxes(fig) if t == "22,345.6"]  # the label is drawn, and measured below
        assert _outside_figure(fig) == []
        renderer = fig.canvas.get_renderer()
        titles = [ax.title.get_window_extent(renderer) for ax in fig.axes]
        for i, box in enumerate(titles):
            assert box.x1 <= fig.bbox.width + 0.5 and box.y1 <= fig.bbox.height + 0.5
            assert not [b for b in titles[i + 1:] if b.overlaps(box)], "panel titles overlap"
