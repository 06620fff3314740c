"""Charts for the evidence pack: trend lines, benchmark bars and funnel plots, as accessible images.

Every chart follows the UK Government Analysis Function charts guidance (the ``afcharts`` style): a headline
title that states the finding, a subtitle with the measure and period, the source at the bottom left, no chart
junk (no top or right spines, light gridlines along the value axis only), a value axis from zero, and direct
labels instead of a legend, so that no meaning is carried by colour alone (lines also differ by line style and
marker, bars by their names). The local authority of interest is always dark blue.

Each function returns a :class:`Chart`: the title, subtitle, alternative text (what the chart shows with its key
numbers), the data behind it and the PNG image, ready for :meth:`Chart.to_html`. Every number printed on a chart
or in its alternative text is rounded half up, as DfE publishes (:func:`analysis.numbers.format_values`).

Figures are built with :class:`matplotlib.figure.Figure` and rendered by the Agg canvas directly, never through
``pyplot``: nothing leaks into pyplot's figure list and Jupyter shows one image per chart (its HTML). The
matplotlib style is set for each chart inside a style context, so a notebook's own style (seaborn themes,
``savefig.bbox = "tight"``...) neither changes the charts nor is changed by them.

References
----------
.. [1] Government Analysis Function. Data visualisation: charts (2023), and the ``afcharts`` R/Python packages
   (palette, theme and direct labelling).
.. [2] Spiegelhalter DJ. Funnel plots for comparing institutional performance. Stat Med 2005; 24:1185-1202.
"""

from __future__ import annotations

import base64
import html
import io
import math
import struct
import sys
import textwrap
from dataclasses import dataclass, field
from typing import Any

import matplotlib

# A library should not choose the backend for its users: only when nothing has chosen one yet (no MPLBACKEND,
# no matplotlibrc setting, no matplotlib.use, pyplot not imported) is Agg selected, so that a script run on a
# server never tries a GUI backend. Jupyter sets MPLBACKEND to its inline backend, which is left alone. The
# charts themselves never depend on the backend: they are drawn by FigureCanvasAgg.
_get_backend = getattr(matplotlib.rcParams, "_get_backend_or_none", None)
if _get_backend is not None and _get_backend() is None and "matplotlib.pyplot" not in sys.modules:
    matplotlib.use("Agg")

import matplotlib.style  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import patheffects, ticker  # noqa: E402
from matplotlib import transforms as mtransforms  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402

from analysis.stats import compare  # noqa: E402
from analysis.errors import ParameterError  # noqa: E402
from analysis.numbers import format_values, round_half_up  # noqa: E402
from analysis.numbers import SYMBOLS  # noqa: E402

__all__ = [
    "Chart",
    "trend_chart",
    "benchmark_chart",
    "funnel_chart",
    "funnel_positions",
    "figure_png",
    "DARK_BLUE",
    "TURQUOISE",
    "DARK_PINK",
    "ORANGE",
    "DARK_GREY",
    "LIGHT_PURPLE",
    "MID_GREY",
    "LIGHT_GREY",
    "PALETTE",
    "ROLE_COLOURS",
    "POSITIONS",
]

# ---------------------------------------------------------------------------------------------------------------
# Palette and style
# ---------------------------------------------------------------------------------------------------------------

#: afcharts main palette.
DARK_BLUE = "#12436D"
TURQUOISE = "#28A197"
DARK_PINK = "#801650"
ORANGE = "#F46A25"
DARK_GREY = "#3D3D3D"
LIGHT_PURPLE = "#A285D1"
PALETTE = (DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, DARK_GREY, LIGHT_PURPLE)

#: Greys for context: the statistical neighbours' bars and the other LAs' funnel points.
MID_GREY = "#8C8C8C"
LIGHT_GREY = "#BFBFBF"

#: Colour of each data role. The LA of interest is always dark blue.
ROLE_COLOURS = {
    "la": DARK_BLUE,
    "sn": TURQUOISE,
    "region": DARK_PINK,
    "england": DARK_GREY,
    "neighbour": MID_GREY,
    "other": LIGHT_GREY,
}

#: Line style and marker of each trend role (no meaning by colour alone).
_LINE_STYLES = {
    "la": {"linestyle": "-", "marker": "o", "linewidth": 2.4, "markersize": 5.5},
    "sn": {"linestyle": "--", "linewidth": 2.0},
    "region": {"linestyle": "-.", "linewidth": 2.0},
    "england": {"linestyle": ":", "linewidth": 2.4},
}
_ISOLATED_MARKERS = {"sn": "s", "region": "D", "england": "^"}

#: The funnel positions, from the middle out.
POSITIONS = (
    "within 95% limits",
    "between 95% and 99.8% limits (above)",
    "between 95% and 99.8% limits (below)",
    "outside 99.8% limits (above)",
    "outside 99.8% limits (below)",
)
NOT_COMPARED = "not compared"

_Z95 = 1.959964
_Z998 = 3.090232

TEXT = "#0B0C0C"        # GOV.UK text colour
SECONDARY = "#505A5F"   # GOV.UK secondary text (7:1 on white)
GRID = "#D9D9D9"
AXIS = "#6F777B"
LIMITS = "#505A5F"
CI_ALPHA = 0.15

FIG_WIDTH = 8.0
FIG_HEIGHT = 4.5
DPI = 110
TITLE_SIZE = 13.5
SUBTITLE_SIZE = 11
TEXT_SIZE = 10

_MARGIN = 0.14  # inches round the figure's edge
_ROLES_TREND = ("la", "sn", "region", "england")
_ROLES_BENCH = ("la", "neighbour", "sn", "region", "england")

_STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": TEXT_SIZE,
    "text.color": TEXT,
    "axes.edgecolor": AXIS,
    "axes.labelcolor": TEXT,
    "axes.labelsize": TEXT_SIZE,
    "axes.linewidth": 0.9,
    "axes.facecolor": "white",
    "axes.grid": False,
    "xtick.color": AXIS,
    "ytick.color": AXIS,
    "xtick.labelcolor": TEXT,
    "ytick.labelcolor": TEXT,
    "xtick.labelsize": TEXT_SIZE,
    "ytick.labelsize": TEXT_SIZE,
    "figure.facecolor": "white",
    "figure.dpi": DPI,
    "savefig.facecolor": "white",
    "savefig.edgecolor": "white",
    "savefig.dpi": DPI,
    "savefig.transparent": False,
    "savefig.bbox": "standard",
    "figure.autolayout": False,
    "figure.constrained_layout.use": False,
}


def _style():
    """The charts' matplotlib style (on top of matplotlib's defaults, whatever the user's rcParams)."""
    return matplotlib.style.context(["default", _STYLE])


# ---------------------------------------------------------------------------------------------------------------
# The chart object
# ---------------------------------------------------------------------------------------------------------------

def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels from a PNG's IHDR chunk."""
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG image")
    return struct.unpack(">II", png[16:24])


@dataclass(eq=False)
class Chart:
    """A rendered chart with everything an accessible page needs.

    Attributes
    ----------
    title : str
        The headline: the finding.
    subtitle : str
        The measure and period.
    alt : str
        Alternative text: what the chart shows, with the key numbers, in one to three sentences.
    data : pandas.DataFrame
        The data behind the chart, tidy.
    png : bytes
        The rendered image.
    kind : str
        ``"trend"``, ``"benchmark"`` or ``"funnel"``.
    """

    title: str
    subtitle: str
    alt: str
    data: pd.DataFrame = field(repr=False)
    image: bytes = field(repr=False)
    kind: str
    mime: str = "image/svg+xml"
    size: tuple = (0, 0)

    @property
    def png(self) -> bytes:
        """The image as PNG bytes (only when the chart was rendered with ``fmt="png"``)."""
        if self.mime != "image/png":
            raise AttributeError("this chart was rendered as SVG; render with fmt='png' for PNG bytes")
        return self.image

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return self.size[0]

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return self.size[1]

    def to_html(self) -> str:
        """A self-contained ``<figure>``: the image inline (base64) with its alternative text, and a caption.

        The caption holds the title and subtitle as text (no heading tags: the page decides the outline).
        """
        src = base64.b64encode(self.image).decode("ascii")
        alt = html.escape(self.alt, quote=True)
        return (
            f'<figure class="chart">'
            f'<img src="data:{self.mime};base64,{src}" alt="{alt}" width="{self.width}" height="{self.height}">'
            f'<figcaption><span class="chart-title">{html.escape(self.title)}</span> '
            f'<span class="chart-subtitle">{html.escape(self.subtitle)}</span></figcaption>'
            f"</figure>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


#: Default image format: SVG keeps text as text (sharp at any zoom, selectable, and quicker to render than PNG).
IMAGE_FORMAT = "svg"
_SVG_FONTS = "'DejaVu Sans', Arial, Helvetica, sans-serif"


def render(fig: Figure, fmt: str | None = None) -> tuple[bytes, str, tuple[int, int]]:
    """Render a figure once: ``(bytes, mime type, (width px, height px))`` as SVG (default) or PNG."""
    fmt = fmt or IMAGE_FORMAT
    if fmt == "png":
        data = figure_png(fig)
        return data, "image/png", _png_size(data)
    if fmt == "svg":
        w, h = fig.get_size_inches()
        return figure_svg(fig), "image/svg+xml", (int(round(w * DPI)), int(round(h * DPI)))
    raise ValueError(f"image format must be 'svg' or 'png', not {fmt!r}")


def figure_svg(fig: Figure) -> bytes:
    """Render a figure to SVG with its text as text, deterministic (fixed ids, no date)."""
    buf = io.BytesIO()
    with matplotlib.rc_context({"savefig.bbox": "standard", "savefig.transparent": False, "svg.fonttype": "none",
                                "svg.hashsalt": "needs-analysis"}):
        fig.savefig(buf, format="svg", facecolor="white", edgecolor="white", metadata={"Date": None})
    text = buf.getvalue().decode("utf-8")
    text = text.replace("'DejaVu Sans'", _SVG_FONTS).replace('"DejaVu Sans"', _SVG_FONTS.replace("'", ""))
    return text.encode("utf-8")


def figure_png(fig: Figure, dpi: float = DPI) -> bytes:
    """Render a figure to PNG bytes with the Agg canvas (whatever pyplot's backend), once, at ``dpi``.

    The figure keeps its size (no tight bounding box); the background is white.
    """
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    with matplotlib.rc_context({"savefig.bbox": "standard", "savefig.transparent": False}):
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white", edgecolor="white")
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------------------------
# Words and numbers
# ---------------------------------------------------------------------------------------------------------------

_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")
_ORDINALS = ("", "", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
             "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
             "eighteenth", "nineteenth", "twentieth")


def _word(n: int) -> str:
    return _WORDS[n] if 0 <= n < len(_WORDS) else f"{n:,}"


def _ordinal(n: int) -> str:
    if 2 <= n < len(_ORDINALS):
        return _ORDINALS[n]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _is_percent(unit: str) -> bool:
    return (unit or "").strip() == "%"


def _texts(values: Any, decimals: int, unit: str = "", status: Any = None) -> list[str]:
    """Numbers as printed (half up, thousands separated; a symbol where missing), with ``%`` for percentages."""
    values = np.atleast_1d(np.asarray(values, dtype=float))
    if values.size == 0:
        return []
    out = list(format_values(values, decimals, status))
    if _is_percent(unit):
        out = [t + "%" if not np.isnan(v) else t for t, v in zip(out, values)]
    return out


def _text(value: float, decimals: int, unit: str = "", status: Any = None) -> str:
    return _texts([value], decimals, unit, None if status is None else [status])[0]


def _lower_first(text: str, names: tuple[str, ...] = ()) -> str:
    """Lower-case the first letter of a phrase for use mid-sentence, unless it starts with a name or acronym."""
    text = text.strip().rstrip(".")
    first = text.split(" ", 1)[0]
    if not first or not first[0].isupper() or any(c.isupper() for c in first[1:]) or any(
        n and text.startswith(n) for n in names + ("England", "English", "Local", "UK")
    ):
        return text
    return first[0].lower() + text[1:]


def _and_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _source_line(source: str) -> str:
    source = (source or "").strip()
    return source if not source or source.lower().startswith("source") else f"Source: {source}"


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


# ---------------------------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------------------------

def _check_frame(data: Any, columns: tuple[str, ...], caller: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(f"{caller}: data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ParameterError(f"{caller}: data has no column {', '.join(repr(c) for c in missing)}; "
                             f"expected columns {', '.join(columns)}")
    return data


def _float_column(data: pd.DataFrame, column: str, caller: str) -> np.ndarray:
    if column not in data.columns:
        return np.full(len(data), np.nan)
    values = pd.to_numeric(data[column], errors="coerce")
    bad = values.isna() & data[column].notna()
    if bad.any():
        raise ParameterError(f"{caller}: column '{column}' has a value that is not a number "
                             f"({data[column][bad].iloc[0]!r})")
    return values.to_numpy(dtype=float, na_value=np.nan)


def _check_roles(roles: pd.Series, allowed: tuple[str, ...], caller: str) -> None:
    bad = ~roles.isin(allowed)
    if bad.any():
        raise ParameterError(f"{caller}: unknown role {roles[bad].iloc[0]!r}; use one of {', '.join(allowed)}")
    if (roles == "la").sum() == 0:
        raise ParameterError(f"{caller}: no row has role 'la' (the local authority of interest)")


# ---------------------------------------------------------------------------------------------------------------
# Layout: fixed header and footer bands, axes fitted once to their tick labels and direct labels
# ---------------------------------------------------------------------------------------------------------------

def _new_figure(height: float = FIG_HEIGHT) -> tuple[Figure, Any]:
    fig = Figure(figsize=(FIG_WIDTH, height), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.1, 0.15, 0.75, 0.6))
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.spines["bottom"].set_color(AXIS)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0, pad=6)
    ax.tick_params(axis="x", length=4, width=0.9, pad=4)
    return fig, ax


def _wrap(text: str, prop: FontProperties, width_px: float, renderer: Any) -> str:
    """Word wrap to a width in pixels, measured with the renderer (explicit newlines are kept).

    Measuring text is the slow part of drawing, so a line that fits is measured once, and a long one is wrapped
    at the number of characters its measured width suggests, narrowing only if a line still does not fit.
    """
    def width(s: str) -> float:
        return renderer.get_text_width_height_descent(s, prop, ismath=False)[0]

    lines: list[str] = []
    for para in str(text).split("\n"):
        full = width(para) if para else 0.0
        if full <= width_px:
            lines.append(para)
            continue
        chars = max(8, int(len(para) * width_px / full))
        while True:
            wrapped = textwrap.wrap(para, chars, break_long_words=False, break_on_hyphens=False)
            if chars <= 8 or all(width(w) <= width_px for w in wrapped):
                break
            chars -= max(1, chars // 20)
        lines.extend(wrapped)
    return "\n".join(lines)


def _frame_texts(fig: Figure, title: str, subtitle: str, notes: list[str]) -> tuple[float, float]:
    """Title and subtitle at the top left, notes and source at the bottom left, wrapped to the figure width.

    Returns the pixel heights (from the bottom of the figure) of the header's lower edge and the footer's upper
    edge: the axes (with their tick labels) go between them.
    """
    renderer = fig.canvas.get_renderer()
    width_px, height_px = fig.bbox.width, fig.bbox.height
    margin = _MARGIN * fig.dpi
    avail = width_px - 2 * margin
    x = margin / width_px
    y = height_px - margin
    for text, size, weight, colour, gap in (
        (title, TITLE_SIZE, "bold", TEXT, 5),
        (subtitle, SUBTITLE_SIZE, "normal", TEXT, 0),
    ):
        if not text:
            continue
        prop = FontProperties(family="DejaVu Sans", size=size, weight=weight)
        t = fig.text(x, y / height_px, _wrap(text, prop, avail, renderer), fontproperties=prop, color=colour,
                     ha="left", va="top", parse_math=False, linespacing=1.25)
        y -= t.get_window_extent(renderer).height + gap * fig.dpi / 72
    top = y - 10 * fig.dpi / 72
    y = margin
    prop = FontProperties(family="DejaVu Sans", size=TEXT_SIZE)
    for text in reversed([n for n in notes if n]):
        t = fig.text(x, y / height_px, _wrap(text, prop, avail, renderer), fontproperties=prop, color=SECONDARY,
                     ha="left", va="bottom", parse_math=False, linespacing=1.25)
        y += t.get_window_extent(renderer).height + 2 * fig.dpi / 72
    bottom = y + 8 * fig.dpi / 72
    return top, bottom


def _fit_axes(fig: Figure, ax: Any, top: float, bottom: float) -> None:
    """Place the axes so that they and everything drawn round them (tick labels, axis label, direct labels) fill
    the space between the header and footer and the side margins: one measurement, no layout loop.

    Tick positions and labels are fixed before this is called, so they do not change with the axes' size.
    """
    renderer = fig.canvas.get_renderer()
    width_px, height_px = fig.bbox.width, fig.bbox.height
    margin = _MARGIN * fig.dpi
    box = ax.get_window_extent(renderer)
    tight = ax.get_tightbbox(renderer)
    over_left = max(box.x0 - tight.x0, 0.0)
    over_right = max(tight.x1 - box.x1, 0.0)
    over_bottom = max(box.y0 - tight.y0, 0.0)
    over_top = max(tight.y1 - box.y1, 0.0)
    x0 = margin + over_left
    x1 = width_px - margin - over_right
    y0 = bottom + over_bottom
    y1 = top - over_top
    if x1 - x0 < 0.3 * width_px:  # absurdly long labels: keep a usable plot rather than a negative width
        x0, x1 = 0.35 * width_px, 0.7 * width_px
    if y1 - y0 < 0.25 * height_px:
        y0, y1 = 0.25 * height_px, 0.55 * height_px
    ax.set_position((x0 / width_px, y0 / height_px, (x1 - x0) / width_px, (y1 - y0) / height_px))


def _nice_ticks(vmin: float, vmax: float, nbins: int = 5) -> np.ndarray:
    if not np.isfinite(vmin) or not np.isfinite(vmax):
        vmin, vmax = 0.0, 1.0
    if vmax <= vmin:
        vmax = vmin + (abs(vmin) if vmin else 1.0)
    ticks = ticker.MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]).tick_values(vmin, vmax)
    # MaxNLocator adds a tick either side of the range; keep only those needed to cover it.
    lo = ticks[ticks <= vmin + 1e-12 * max(1.0, abs(vmin))]
    hi = ticks[ticks >= vmax - 1e-12 * max(1.0, abs(vmax))]
    start = lo.max() if lo.size else ticks[0]
    stop = hi.min() if hi.size else ticks[-1]
    return ticks[(ticks >= start) & (ticks <= stop)]


def _tick_decimals(ticks: np.ndarray) -> int:
    step = float(np.min(np.diff(ticks))) if len(ticks) > 1 else 1.0
    for d in range(7):
        if abs(step * 10 ** d - round(step * 10 ** d)) < 1e-9 * 10 ** d:
            return d
    return 6


def _set_value_ticks(ax: Any, ticks: np.ndarray, unit: str, axis: str = "y") -> None:
    labels = _texts(ticks, _tick_decimals(ticks), unit)
    if axis == "y":
        ax.set_yticks(ticks, labels=labels)
        ax.set_ylim(ticks[0], ticks[-1])
        ax.yaxis.grid(True, color=GRID, linewidth=0.8)
    else:
        ax.set_xticks(ticks, labels=labels)
        ax.set_xlim(ticks[0], ticks[-1])


def _spread(targets: np.ndarray, sep: float, lo: float, hi: float, sizes: Any = None) -> np.ndarray:
    """Label positions as close as possible (least squares) to ``targets`` without overlapping, kept between
    ``lo`` and ``hi`` where there is room.

    Label ``i`` is ``sizes[i]`` lines tall (default 1) and two neighbouring labels' centres must be at least
    ``sep`` times their mean height apart. Sorting the targets and subtracting each label's cumulative offset
    turns the gap constraint into a monotone one, solved exactly by pool-adjacent-violators (a handful of
    labels: a tiny loop).
    """
    targets = np.asarray(targets, dtype=float)
    n = targets.size
    if n == 0:
        return targets
    sizes = np.ones(n) if sizes is None else np.asarray(sizes, dtype=float)
    order = np.argsort(targets, kind="stable")
    size = sizes[order]
    steps = np.r_[0.0, np.cumsum(sep * (size[:-1] + size[1:]) / 2)]
    z = targets[order] - steps
    blocks: list[list[float]] = []
    for v in z:
        blocks.append([v, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
    fitted = np.concatenate([np.full(int(c), s / c) for s, c in blocks]) + steps
    if steps[-1] <= hi - lo:
        fitted = np.minimum(fitted, hi - (steps[-1] - steps))
        fitted = np.maximum(fitted, lo + steps)
    out = np.empty(n)
    out[order] = fitted
    return out


def _points_per_data_unit(ax: Any) -> float:
    """How many points one unit of the y data spans on the axes (as placed)."""
    height_pt = ax.get_position().height * ax.figure.get_figheight() * 72
    lo, hi = ax.get_ylim()
    return height_pt / (hi - lo) if hi > lo else 1.0


def _direct_labels(ax: Any, items: list[dict], x_end: float) -> list[tuple[Any, float, int]]:
    """Labels in the right margin, each joined to its line's end by a short leader in the line's colour.

    ``items``: dicts with ``text``, ``y`` (data), ``colour``, ``weight``. A long label is wrapped to at most
    2.3 inches. Returns (annotation, target y, number of lines) for :func:`_nudge`, which sets the positions once
    the axes are placed.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    offset = mtransforms.ScaledTranslation(14 / 72, 0, fig.dpi_scale_trans)
    where = mtransforms.blended_transform_factory(ax.transAxes, ax.transData) + offset
    lo, hi = ax.get_ylim()
    out = []
    for item in items:
        weight = item.get("weight", "normal")
        prop = FontProperties(family="DejaVu Sans", size=TEXT_SIZE, weight=weight)
        text = _wrap(item["text"], prop, 2.3 * fig.dpi, renderer)
        y = float(np.clip(item["y"], lo, hi))
        ann = ax.annotate(
            text, xy=(x_end, item["y"]), xycoords="data", xytext=(1.0, y), textcoords=where,
            ha="left", va="center", multialignment="left", fontproperties=prop, color=TEXT,
            annotation_clip=False, parse_math=False, linespacing=1.1,
            # The leader leaves the label's left edge, so it never crosses another label.
            arrowprops={"arrowstyle": "-", "color": item["colour"], "linewidth": 1.0, "shrinkA": 2,
                        "shrinkB": 3, "relpos": (0.0, 0.5)},
        )
        ann.set_clip_on(False)
        out.append((ann, float(item["y"]), text.count("\n") + 1))
    return out


def _nudge(ax: Any, labels: list[tuple[Any, float, int]]) -> None:
    """Move direct labels apart vertically: at least one text line (and 4% of the axis range) between them."""
    if not labels:
        return
    lo, hi = ax.get_ylim()
    ppu = _points_per_data_unit(ax)
    sep = max(0.04 * (hi - lo), TEXT_SIZE * 1.3 / ppu)
    targets = np.array([y for _, y, _ in labels])
    sizes = np.array([1 + 0.85 * (k - 1) for _, _, k in labels])  # extra lines at 1.1 spacing
    ys = _spread(targets, sep, lo + 0.3 * sep, hi, sizes)
    for (lab, _, _), y in zip(labels, ys):
        lab.xyann = (1.0, y)


def _isolated(values: np.ndarray) -> np.ndarray:
    """Points with no present neighbour on either side (a line through them draws nothing)."""
    present = ~np.isnan(values)
    left = np.r_[False, present[:-1]]
    right = np.r_[present[1:], False]
    return present & ~left & ~right


# ---------------------------------------------------------------------------------------------------------------
# Trend
# ---------------------------------------------------------------------------------------------------------------

def _trend_figure(data: pd.DataFrame, *, title: str, subtitle: str, unit: str, decimals: int, source: str,
                  la_name: str, start_at_zero: bool = True) -> tuple[Figure, pd.DataFrame, str]:
    caller = "trend_chart"
    _check_frame(data, ("time_period", "series", "role", "value"), caller)
    tidy = pd.DataFrame({
        "time_period": data["time_period"].astype(str).to_numpy(),
        "series": data["series"].astype(str).to_numpy(),
        "role": data["role"].astype(str).str.lower().to_numpy(),
        "value": _float_column(data, "value", caller),
        "lower": _float_column(data, "lower", caller),
        "upper": _float_column(data, "upper", caller),
    })
    _check_roles(tidy["role"], _ROLES_TREND, caller)
    if tidy.duplicated(["series", "time_period"]).any():
        dup = tidy[tidy.duplicated(["series", "time_period"])].iloc[0]
        raise ParameterError(f"{caller}: series {dup['series']!r} has more than one row for {dup['time_period']}")
    periods = sorted(tidy["time_period"].unique())
    n = len(periods)
    x = np.arange(n)

    # Series in role order (LA first), then as given.
    first_seen = {s: i for i, s in enumerate(pd.unique(tidy["series"]))}
    series_role = tidy.drop_duplicates("series").set_index("series")["role"]
    if (series_role == "la").sum() > 1:
        raise ParameterError(f"{caller}: more than one series has role 'la'")
    names = sorted(series_role.index, key=lambda s: (_ROLES_TREND.index(series_role[s]), first_seen[s]))
    wide = {c: tidy.pivot(index="series", columns="time_period", values=c).reindex(index=names, columns=periods)
            for c in ("value", "lower", "upper")}
    tidy["_order"] = tidy["series"].map({s: i for i, s in enumerate(names)})
    tidy = tidy.sort_values(["_order", "time_period"]).drop(columns="_order").reset_index(drop=True)

    with _style():
        fig, ax = _new_figure()
        la_series = next(s for s in names if series_role[s] == "la")
        lo = wide["lower"].loc[la_series].to_numpy(dtype=float)
        up = wide["upper"].loc[la_series].to_numpy(dtype=float)
        has_ci = bool((~np.isnan(lo) & ~np.isnan(up)).any())
        if has_ci:
            band = ~np.isnan(lo) & ~np.isnan(up) & ~np.isnan(wide["value"].loc[la_series].to_numpy(dtype=float))
            ax.fill_between(x, np.where(band, lo, np.nan), np.where(band, up, np.nan), color=DARK_BLUE,
                            alpha=CI_ALPHA, linewidth=0, zorder=1)
        # Comparators first, so the LA's line is drawn on top.
        for s in reversed(names):
            role = series_role[s]
            y = wide["value"].loc[s].to_numpy(dtype=float)
            colour = ROLE_COLOURS[role]
            ax.plot(x, y, color=colour, zorder=4 if role == "la" else 3, solid_capstyle="round",
                    **_LINE_STYLES[role])
            if role != "la":
                alone = _isolated(y)
                if alone.any():
                    ax.plot(x[alone], y[alone], linestyle="none", marker=_ISOLATED_MARKERS[role], color=colour,
                            markersize=5, zorder=3)

        vals = np.concatenate([wide[c].to_numpy(dtype=float).ravel() for c in ("value", "lower", "upper")])
        vals = vals[~np.isnan(vals)]
        vmax = vals.max() if vals.size else 1.0
        vmin = vals.min() if vals.size else 0.0
        vmin = min(0.0, vmin) if start_at_zero else vmin
        _set_value_ticks(ax, _nice_ticks(vmin, vmax + 0.03 * (vmax - vmin)), unit)  # markers clear the top
        ax.set_xticks(x, labels=periods)
        ax.set_xlim(-0.3, n - 1 + 0.3 if n > 1 else 0.3)

        # Direct labels: series name and its last value (and when, if that is not the last period).
        items = []
        for s in names:
            y = wide["value"].loc[s].to_numpy(dtype=float)
            present = np.flatnonzero(~np.isnan(y))
            if not present.size:
                continue
            i = int(present[-1])
            label = f"{s} {_text(y[i], decimals, unit)}"
            if i != n - 1:
                label += f" ({periods[i]})"
            items.append({"text": label, "y": y[i], "x": i, "colour": ROLE_COLOURS[series_role[s]],
                          "weight": "bold" if series_role[s] == "la" else "normal"})
        labels = []
        for item in items:
            labels += _direct_labels(ax, [item], item["x"])

        notes = []
        if has_ci:
            notes.append(f"Shaded band: 95% confidence interval for {la_series}.")
        notes.append(_source_line(source))
        top, bottom = _frame_texts(fig, title, subtitle, notes)
        _fit_axes(fig, ax, top, bottom)
        _nudge(ax, labels)
        _thin_x_labels(ax, periods)

    alt = _trend_alt(tidy, wide, periods, names, series_role, la_series, subtitle, unit, decimals, la_name,
                     has_ci)
    return fig, tidy, alt


def _thin_x_labels(ax: Any, periods: list[str]) -> None:
    """Show every k-th period label (always the last) when they would not fit side by side."""
    n = len(periods)
    if n < 2:
        return
    renderer = ax.figure.canvas.get_renderer()
    prop = FontProperties(family="DejaVu Sans", size=TEXT_SIZE)
    widest = max(renderer.get_text_width_height_descent(p, prop, ismath=False)[0] for p in periods)
    room = ax.get_window_extent(renderer).width / n
    k = max(1, math.ceil((widest + 8 * ax.figure.dpi / 72) / room))
    if k > 1:
        ax.set_xticks(np.arange(n), labels=[p if (n - 1 - i) % k == 0 else "" for i, p in enumerate(periods)])


def _trend_alt(tidy, wide, periods, names, series_role, la_series, subtitle, unit, decimals, la_name,
               has_ci) -> str:
    known = tuple(names) + (la_name,)
    first = f"Line chart of {_lower_first(subtitle, known)}."
    y = wide["value"].loc[la_series].to_numpy(dtype=float)
    present = np.flatnonzero(~np.isnan(y))
    if present.size == 0:
        second = f"No values are published for {la_name}"
        last_i = len(periods) - 1
    else:
        i0, i1 = int(present[0]), int(present[-1])
        last_i = i1
        t0, t1 = _texts([y[i0], y[i1]], decimals, unit)
        if i0 == i1:
            second = f"{la_name} was {t1} in {periods[i1]}"
        else:
            second = f"{la_name} went from {t0} in {periods[i0]} to {t1} in {periods[i1]}"
    parts = []
    for s in names:
        role = series_role[s]
        if role == "la":
            continue
        v = wide["value"].loc[s].iloc[last_i]
        if np.isnan(v):
            continue
        what = "the statistical neighbours' average" if role == "sn" else s
        parts.append((what, _text(v, decimals, unit)))
    if parts:
        (w0, v0), rest = parts[0], parts[1:]
        listing = _and_list([f"{w0} was {v0}"] + [f"{w} {v}" for w, v in rest])
        second += f"; in {periods[last_i]} {listing}"
    second += "."
    sentences = [first, second]
    if has_ci:
        sentences.append(f"The shaded band is the 95% confidence interval for {la_name}.")
    return " ".join(sentences)


def trend_chart(data: pd.DataFrame, *, title: str, subtitle: str, unit: str, decimals: int, source: str,
                la_name: str, start_at_zero: bool = True, fmt: str | None = None) -> Chart:
    """Line chart of the LA against its comparators over time, directly labelled.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per series and period: ``time_period`` (text such as ``"2024"`` or ``"2023-24"``), ``series``
        (the name shown), ``role`` (``"la"``, ``"sn"``, ``"region"`` or ``"england"``), ``value``, and the LA's
        95% confidence limits ``lower`` and ``upper`` (missing for the others, optional).
    title : str
        The headline, stating the finding.
    subtitle : str
        The measure and period.
    unit : str
        The unit as written after a number (``"%"`` is printed after the numbers; other units are left to the
        subtitle).
    decimals : int
        Decimal places shown (rounded half up).
    source : str
        The source note (``"Source: "`` is added if it does not start so).
    la_name : str
        The LA's name as written in the alternative text.
    start_at_zero : bool, default True
        Start the value axis at zero (False: at the lowest value shown).

    Returns
    -------
    Chart
        ``kind="trend"``; ``data`` holds ``time_period, series, role, value, lower, upper`` in drawing order.

    Notes
    -----
    Periods are the x axis in sorted order; a missing value leaves a gap in its line (a value with no
    neighbour is drawn as a marker). The LA is a solid dark-blue line with circles and a shaded 95% confidence
    band; the statistical neighbours' average is dashed turquoise, the region dash-dot dark pink, England dotted
    dark grey. Each series is labelled at its end with its name and last value, the labels moved apart so they do
    not overlap.
    """
    fig, tidy, alt = _trend_figure(data, title=title, subtitle=subtitle, unit=unit, decimals=decimals,
                                   source=source, la_name=la_name, start_at_zero=start_at_zero)
    with _style():
        image, mime, size = render(fig, fmt)
    return Chart(title=title, subtitle=subtitle, alt=alt, data=tidy, image=image, mime=mime, size=size,
                 kind="trend")


# ---------------------------------------------------------------------------------------------------------------
# Benchmark bars
# ---------------------------------------------------------------------------------------------------------------

def _benchmark_figure(data: pd.DataFrame, *, title: str, subtitle: str, unit: str, decimals: int, source: str,
                      la_name: str) -> tuple[Figure, pd.DataFrame, str]:
    caller = "benchmark_chart"
    _check_frame(data, ("area_name", "role", "value"), caller)
    tidy = pd.DataFrame({
        "area_name": data["area_name"].astype(str).to_numpy(),
        "role": data["role"].astype(str).str.lower().to_numpy(),
        "value": _float_column(data, "value", caller),
        "lower": _float_column(data, "lower", caller),
        "upper": _float_column(data, "upper", caller),
    })
    if "status" in data.columns:
        tidy["status"] = data["status"].astype(object).where(data["status"].notna(), "").astype(str).to_numpy()
    _check_roles(tidy["role"], _ROLES_BENCH, caller)
    # Highest at the top; missing values at the bottom.
    tidy = tidy.sort_values("value", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    n = len(tidy)
    value = tidy["value"].to_numpy(dtype=float)
    lower = tidy["lower"].to_numpy(dtype=float)
    upper = tidy["upper"].to_numpy(dtype=float)
    status = tidy["status"].to_numpy(dtype=object) if "status" in tidy.columns else None
    shown = _texts(value, decimals, unit, status)
    roles = tidy["role"].to_numpy(dtype=object)
    is_la = roles == "la"

    height = max(FIG_HEIGHT, 2.1 + 0.2 * n)
    with _style():
        fig, ax = _new_figure(height)
        ypos = np.arange(n)[::-1].astype(float)
        colours = [ROLE_COLOURS[r] for r in roles]
        present = ~np.isnan(value)
        ax.barh(ypos[present], value[present], height=0.72, color=np.array(colours, dtype=object)[present],
                zorder=2)
        ci = present & ~np.isnan(lower) & ~np.isnan(upper)
        if ci.any():
            xerr = [np.maximum(value[ci] - lower[ci], 0), np.maximum(upper[ci] - value[ci], 0)]
            # A white halo under the black line keeps it visible over the dark bars.
            for colour, width, z in (("white", 2.8, 3), ("black", 1.0, 3.5)):
                ax.errorbar(value[ci], ypos[ci], xerr=xerr, fmt="none", ecolor=colour, elinewidth=width,
                            capsize=3, capthick=width, zorder=z)
        ends = np.where(ci, np.fmax(value, upper), np.where(present, value, 0.0))
        ends = np.where(np.isnan(ends), 0.0, ends)
        low_end = np.nanmin(np.r_[0.0, value[present], lower[ci]])
        high_end = max(float(np.nanmax(ends)) if n else 1.0, 0.0)
        if high_end <= low_end:
            high_end = low_end + 1.0
        ax.set_xlim(low_end, high_end)
        ax.set_ylim(-0.6, n - 0.4)
        # The bars are labelled, so the value axis goes (afcharts: no axis when data labels are used).
        ax.set_xticks([])
        ax.set_yticks([])
        ax.spines["bottom"].set_visible(False)
        ax.axvline(0, color=AXIS, linewidth=0.9, zorder=4)
        names = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
        names += mtransforms.ScaledTranslation(-6 / 72, 0, fig.dpi_scale_trans)
        for y, name, la, text, end, here in zip(ypos, tidy["area_name"], is_la, shown, ends, present):
            weight = "bold" if la else "normal"
            ax.text(0.0, y, name, transform=names, ha="right", va="center", fontsize=TEXT_SIZE,
                    fontweight=weight, color=TEXT, parse_math=False, clip_on=False)
            ax.annotate(text, xy=(end if here else 0.0, y), xytext=(4, 0), textcoords="offset points",
                        ha="left", va="center", fontsize=TEXT_SIZE, fontweight=weight,
                        color=TEXT if here else SECONDARY, annotation_clip=False, parse_math=False)
        notes = []
        if ci.any():
            notes.append("Black lines show 95% confidence intervals.")
        symbols = [s for s in dict.fromkeys(t for t, h in zip(shown, present) if not h) if s in SYMBOLS]
        if symbols:
            notes.append("; ".join(f"{s} = {SYMBOLS[s]}" for s in symbols) + ".")
        notes.append(_source_line(source))
        top, bottom = _frame_texts(fig, title, subtitle, notes)
        _fit_axes(fig, ax, top, bottom)

    alt = _benchmark_alt(tidy, shown, subtitle, unit, decimals, la_name)
    return fig, tidy, alt


def _benchmark_alt(tidy: pd.DataFrame, shown: list[str], subtitle: str, unit: str, decimals: int,
                   la_name: str) -> str:
    names = tuple(tidy["area_name"]) + (la_name,)
    roles = tidy["role"].to_numpy(dtype=object)
    value = tidy["value"].to_numpy(dtype=float)
    la_i = int(np.flatnonzero(roles == "la")[0])
    head = f"Bar chart comparing {_lower_first(subtitle, names)}: "
    if np.isnan(value[la_i]):
        what = SYMBOLS.get(shown[la_i], "not available")
        la_part = f"{la_name} has no published value ({what})"
    else:
        la_part = f"{la_name} {shown[la_i]}"
    # Rank among the neighbours, on the numbers as printed (so the words agree with the labels).
    nb = roles == "neighbour"
    n_nb = int(nb.sum())
    rounded = round_half_up(value, decimals)
    nb_vals = rounded[nb & ~np.isnan(value)]
    k = nb_vals.size
    if n_nb and k and not np.isnan(value[la_i]):
        la_v = rounded[la_i]
        higher, equal = int((nb_vals > la_v).sum()), int((nb_vals == la_v).sum())
        if k == n_nb:
            of = f"its {_word(n_nb)} statistical neighbour{'s' if n_nb > 1 else ''}"
            every = f"all {_word(k)} of its statistical neighbours" if k > 1 else of
        else:
            of = (f"the {_word(k)} of its {_word(n_nb)} statistical neighbours with a published value" if k > 1
                  else f"the one of its {_word(n_nb)} statistical neighbours with a published value")
            every = (f"all {_word(k)} of its {_word(n_nb)} statistical neighbours with a published value" if k > 1
                     else of)
        lo_t, hi_t = _texts([nb_vals.min(), nb_vals.max()], decimals, unit)
        rng = f" (range {lo_t} to {hi_t})" if k > 1 else f" ({lo_t})"
        if higher == 0 and equal == 0:
            rank = f"higher than {every}"
        elif higher == k:
            rank = f"lower than {every}"
        else:
            joint = "joint " if equal else ""
            place = higher + 1
            rank = (f"the {joint}highest when ranked with {of}" if place == 1 else
                    f"{joint}{_ordinal(place)} highest when ranked with {of}")
        la_part += f", {rank}{rng}"
    elif n_nb and not k:
        la_part += f"; none of its {_word(n_nb)} statistical neighbours has a published value"
    others = []
    for r in ("sn", "region", "england"):
        for i in np.flatnonzero(roles == r):
            if np.isnan(value[i]):
                continue
            who = "neighbours' average" if r == "sn" else tidy["area_name"].iloc[i]
            others.append(f"{who} {shown[i]}")
    text = head + la_part
    if others:
        text += "; " + ", ".join(others)
    return text + "."


def benchmark_chart(data: pd.DataFrame, *, title: str, subtitle: str, unit: str, decimals: int, source: str,
                    la_name: str, fmt: str | None = None) -> Chart:
    """Horizontal bar chart of the LA, its statistical neighbours and its comparators, highest at the top.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per bar: ``area_name``, ``role`` (``"la"``, ``"neighbour"``, ``"sn"`` for the neighbours'
        average, ``"region"``, ``"england"``), ``value``, and optional 95% limits ``lower``, ``upper`` and
        published ``status`` symbol (``"c"``, ``"x"``...).
    title, subtitle, unit, decimals, source, la_name
        As for :func:`trend_chart`.

    Returns
    -------
    Chart
        ``kind="benchmark"``; ``data`` holds ``area_name, role, value, lower, upper`` (and ``status`` if given),
        top bar first.

    Notes
    -----
    The LA's bar is dark blue and its name bold, the neighbours' bars mid grey, the neighbours' average
    turquoise, the region dark pink and England dark grey; every bar is labelled with its value at its end
    (beyond the confidence interval, drawn as a thin black line where given), so the value axis is left out.
    A missing value has no bar and shows its symbol (``c`` suppressed, ``x`` not available), explained in a note.
    The figure grows taller beyond 12 bars so bars stay readable.
    """
    fig, tidy, alt = _benchmark_figure(data, title=title, subtitle=subtitle, unit=unit, decimals=decimals,
                                       source=source, la_name=la_name)
    with _style():
        image, mime, size = render(fig, fmt)
    return Chart(title=title, subtitle=subtitle, alt=alt, data=tidy, image=image, mime=mime, size=size,
                 kind="benchmark")


# ---------------------------------------------------------------------------------------------------------------
# Funnel
# ---------------------------------------------------------------------------------------------------------------

def _limits(comparator: float, denominators: Any, method: str, multiplier: float) -> tuple[Any, Any, Any, Any]:
    """(lower 95%, upper 95%, lower 99.8%, upper 99.8%) at each denominator."""
    if method == "rate":
        lo95, up95 = compare.funnel_limits_rate(comparator, denominators, 0.95, multiplier)
        lo998, up998 = compare.funnel_limits_rate(comparator, denominators, 0.998, multiplier)
    elif method == "proportion":
        lo95, up95 = compare.funnel_limits_proportion(comparator, denominators, _Z95, multiplier)
        lo998, up998 = compare.funnel_limits_proportion(comparator, denominators, _Z998, multiplier)
    else:
        raise ParameterError(f"funnel: method must be 'rate' or 'proportion', got {method!r}")
    return lo95, up95, lo998, up998


def funnel_positions(data: pd.DataFrame, comparator: float, method: str, multiplier: float) -> pd.Series:
    """Where each area lies on the funnel plot: within the 95% limits, between 95% and 99.8%, or outside 99.8%.

    Parameters
    ----------
    data : pandas.DataFrame
        With ``value`` (on the ``multiplier`` scale) and ``denominator``.
    comparator : float
        The comparator's value (England), on the same scale.
    method : str
        ``"rate"``: Poisson limits (:func:`analysis.stats.compare.funnel_limits_rate`, confidence 0.95 and 0.998);
        ``"proportion"``: normal-approximation limits (:func:`analysis.stats.compare.funnel_limits_proportion`,
        z 1.959964 and 3.090232).
    multiplier : float
        The indicator's scale (100 for a percentage, 10000 for a rate per 10,000).

    Returns
    -------
    pandas.Series
        One of :data:`POSITIONS` (``"within 95% limits"``, ``"between 95% and 99.8% limits (above)"``,
        ``"outside 99.8% limits (below)"``...), or ``"not compared"`` where the value or denominator is missing
        or the denominator is not positive; index of ``data``.

    Notes
    -----
    Each area is compared with the limits at its own denominator, vectorised. A value exactly on a limit is
    inside it (as :func:`analysis.stats.compare.compare_spc_proportion`).
    """
    _check_frame(data, ("value", "denominator"), "funnel_positions")
    value = _float_column(data, "value", "funnel_positions")
    den = _float_column(data, "denominator", "funnel_positions")
    ok = ~np.isnan(value) & ~np.isnan(den) & (den > 0)
    safe = np.where(ok, den, 1.0)
    lo95, up95, lo998, up998 = (np.asarray(a, dtype=float) for a in _limits(comparator, safe, method, multiplier))
    with np.errstate(invalid="ignore"):
        position = np.select(
            [~ok, value > up998, value < lo998, value > up95, value < lo95],
            [NOT_COMPARED, POSITIONS[3], POSITIONS[4], POSITIONS[1], POSITIONS[2]],
            default=POSITIONS[0],
        )
    return pd.Series(position.astype(object), index=data.index, name="position", dtype=object)


def _funnel_figure(data: pd.DataFrame, *, comparator: float, comparator_name: str, method: str,
                   multiplier: float, title: str, subtitle: str, unit: str, decimals: int, source: str,
                   la_name: str, x_label: str, start_at_zero: bool = True) -> tuple[Figure, pd.DataFrame, str]:
    caller = "funnel_chart"
    _check_frame(data, ("area_name", "denominator", "value", "role"), caller)
    if method not in ("rate", "proportion"):
        raise ParameterError(f"{caller}: method must be 'rate' or 'proportion', got {method!r}")
    comparator = float(comparator)
    if not np.isfinite(comparator):
        raise ParameterError(f"{caller}: the comparator ({comparator_name}) has no value")
    out = data.copy()
    out["role"] = out["role"].astype(str).str.lower()
    _check_roles(out["role"], ("la", "other"), caller)
    out["position"] = funnel_positions(out, comparator, method, multiplier)
    value = _float_column(out, "value", caller)
    den = _float_column(out, "denominator", caller)
    num = _float_column(out, "numerator", caller)
    ok = ~np.isnan(value) & ~np.isnan(den) & (den > 0)
    is_la = (out["role"] == "la").to_numpy()
    la_i = int(np.flatnonzero(is_la)[0])
    if not ok.any():
        raise ParameterError(f"{caller}: no area has both a value and a positive denominator")

    grid = np.geomspace(den[ok].min(), den[ok].max(), 200) if den[ok].min() < den[ok].max() else \
        np.geomspace(den[ok].min() * 0.5, den[ok].max() * 1.5, 200)
    lo95, up95, lo998, up998 = (np.asarray(a, dtype=float) for a in _limits(comparator, grid, method, multiplier))

    with _style():
        fig, ax = _new_figure()
        other = ok & ~is_la
        ax.scatter(den[other], value[other], s=22, color=LIGHT_GREY, edgecolors=MID_GREY, linewidths=0.5,
                   zorder=3)
        ax.plot(grid, up95, color=LIMITS, linestyle=(0, (5, 2.5)), linewidth=1.3, zorder=2)
        ax.plot(grid, lo95, color=LIMITS, linestyle=(0, (5, 2.5)), linewidth=1.3, zorder=2)
        ax.plot(grid, up998, color=LIMITS, linestyle=(0, (1.2, 1.8)), linewidth=1.6, zorder=2,
                dash_capstyle="round")
        ax.plot(grid, lo998, color=LIMITS, linestyle=(0, (1.2, 1.8)), linewidth=1.6, zorder=2,
                dash_capstyle="round")
        ax.axhline(comparator, color=DARK_GREY, linewidth=1.6, zorder=2)
        la_ok = ok[la_i]
        if la_ok:
            ax.scatter([den[la_i]], [value[la_i]], s=80, color=DARK_BLUE, edgecolors="white", linewidths=1.2,
                       zorder=5, clip_on=False)

        vals = np.r_[value[ok], comparator]
        vmin = min(0.0, vals.min()) if start_at_zero else vals.min()
        yticks = _nice_ticks(vmin, vals.max() + 0.04 * (vals.max() - vmin))  # dots clear the top
        if _is_percent(unit) and multiplier == 100:
            yticks = yticks[yticks <= 100] if yticks[-1] > 100 and vals.max() <= 100 else yticks
        _set_value_ticks(ax, yticks, unit)
        xticks = _nice_ticks(0.0, den[ok].max())
        _set_value_ticks(ax, xticks, "", axis="x")
        ax.set_xlim(0.0, max(xticks[-1], den[ok].max() * 1.03))  # the largest LA's dot clears the edge
        ax.set_xlabel(x_label, fontsize=TEXT_SIZE, color=TEXT, labelpad=6)

        comp_text = _text(comparator, decimals, unit)
        ends = [
            {"text": "99.8% limits", "y": up998[-1], "colour": LIMITS},
            {"text": "95% limits", "y": up95[-1], "colour": LIMITS},
            {"text": f"{comparator_name} {comp_text}", "y": comparator, "colour": DARK_GREY},
        ]
        labels = _direct_labels(ax, ends, grid[-1])
        la_label = None
        if la_ok:
            x_frac = (den[la_i] - ax.get_xlim()[0]) / (ax.get_xlim()[1] - ax.get_xlim()[0])
            right = x_frac < 0.7
            la_label = ax.annotate(
                f"{la_name} {_text(value[la_i], decimals, unit)}", xy=(den[la_i], value[la_i]),
                xytext=(8 if right else -8, 8), textcoords="offset points", ha="left" if right else "right",
                va="bottom", fontsize=TEXT_SIZE, fontweight="bold", color=DARK_BLUE, parse_math=False,
                annotation_clip=False, zorder=6,
                path_effects=[patheffects.withStroke(linewidth=3, foreground="white")],
            )
        notes = ["Each dot is a local authority. Dashed lines: 95% limits; dotted lines: 99.8% limits around "
                 f"{comparator_name}.", _source_line(source)]
        top, bottom = _frame_texts(fig, title, subtitle, notes)
        _fit_axes(fig, ax, top, bottom)
        _nudge(ax, labels)
        if la_label is not None:
            _keep_inside(ax, la_label)

    alt = _funnel_alt(out, value, den, num, ok, la_i, comparator, comparator_name, comp_text, subtitle, unit,
                      decimals, la_name, x_label)
    return fig, out.reset_index(drop=True), alt


def _keep_inside(ax: Any, label: Any) -> None:
    """Move the LA's label below its dot if above it would run past the top of the plot."""
    renderer = ax.figure.canvas.get_renderer()
    if label.get_window_extent(renderer).y1 > ax.get_window_extent(renderer).y1:
        label.set_va("top")
        label.xyann = (label.xyann[0], -8)


def _funnel_alt(out, value, den, num, ok, la_i, comparator, comparator_name, comp_text, subtitle, unit,
                decimals, la_name, x_label) -> str:
    names = tuple(out["area_name"].astype(str)) + (la_name, comparator_name)
    sub = _lower_first(subtitle, names)
    n = int(ok.sum())
    sep = "," if "," in sub else ""
    first = (f"Funnel plot of {sub}{sep} for {n:,} local authorit{'y' if n == 1 else 'ies'}, against "
             f"{_possessive(comparator_name)} {comp_text}.")
    position = out["position"].iloc[la_i]
    if not ok[la_i]:
        second = f"{la_name} has no published value, so is not shown."
    else:
        count = ""
        if not np.isnan(num[la_i]):
            n_t, d_t = _texts([num[la_i], den[la_i]], 0)
            count = f", from {n_t} out of {d_t} {_lower_first(x_label, names)}"
        else:
            count = f", {_lower_first(x_label, names)} {_text(den[la_i], 0)}"
        who = f"{la_name} ({_text(value[la_i], decimals, unit)}{count})"
        diff = f"the difference from {comparator_name}"
        if position == POSITIONS[0]:
            where = f"lies within the 95% limits: {diff} could be due to chance"
        else:
            side = "above the upper" if position.endswith("(above)") else "below the lower"
            if position.startswith("between"):
                where = f"lies {side} 95% limit but within the 99.8% limits: {diff} is unlikely to be chance"
            else:
                where = f"lies {side} 99.8% limit: {diff} is very unlikely to be chance"
        second = f"{who} {where}."
    pos = out["position"]
    above, below = int((pos == POSITIONS[3]).sum()), int((pos == POSITIONS[4]).sum())
    third = (f"Of all {n:,}, {above:,} lie{'s' if above == 1 else ''} above the upper 99.8% limit and {below:,} "
             f"below the lower.")
    return " ".join([first, second, third])


def funnel_chart(data: pd.DataFrame, *, comparator: float, comparator_name: str, method: str, multiplier: float,
                 title: str, subtitle: str, unit: str, decimals: int, source: str, la_name: str, x_label: str,
                 start_at_zero: bool = True, fmt: str | None = None) -> Chart:
    """Funnel plot of every LA's value against its denominator, with 95% and 99.8% limits round the comparator.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per LA: ``area_name``, ``numerator`` (optional), ``denominator``, ``value`` (on the
        ``multiplier`` scale) and ``role`` (``"la"`` for the LA of interest, ``"other"``).
    comparator : float
        The comparator's value (England), on the same scale.
    comparator_name : str
        Its name as shown (``"England"``).
    method : str
        ``"rate"`` or ``"proportion"``: which limits (see :func:`funnel_positions`).
    multiplier : float
        The indicator's scale (100, 1000, 10000...).
    title, subtitle, unit, decimals, source, la_name
        As for :func:`trend_chart`.
    x_label : str
        What the denominator counts (``"Children aged 0-17"``): the x axis title.
    start_at_zero : bool, default True
        Start the value axis at zero.

    Returns
    -------
    Chart
        ``kind="funnel"``; ``data`` is every LA's row with a ``position`` column (see :func:`funnel_positions`).

    Notes
    -----
    Other LAs are small light-grey dots, the LA a larger dark-blue dot labelled with its name and value, the
    comparator a solid line, the 95% limits dashed and the 99.8% limits dotted, computed on 200 denominators
    spaced geometrically from the smallest to the largest; the lines are labelled at their right ends.
    """
    fig, out, alt = _funnel_figure(data, comparator=comparator, comparator_name=comparator_name, method=method,
                                   multiplier=multiplier, title=title, subtitle=subtitle, unit=unit,
                                   decimals=decimals, source=source, la_name=la_name, x_label=x_label,
                                   start_at_zero=start_at_zero)
    with _style():
        image, mime, size = render(fig, fmt)
    return Chart(title=title, subtitle=subtitle, alt=alt, data=out, image=image, mime=mime, size=size,
                 kind="funnel")


def small_multiples(data: pd.DataFrame, *, title: str, subtitle: str, source: str, la_name: str,
                    columns: int = 4) -> Chart:
    """One small trend per indicator on a grid: the LA (dark line, latest value labelled) and England (grey).

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy: ``panel`` (the panel's title, with its unit), ``time_period``, ``role`` (``la`` or ``england``),
        ``value``, ``decimals``. Panels appear in the order of first appearance; each has its own value axis.

    Returns
    -------
    Chart
        ``kind`` ``"small multiples"``; the alt text names each panel's latest value.
    """
    frame = _check_frame(data, ("panel", "time_period", "role", "value", "decimals"), "small_multiples")
    panels = list(dict.fromkeys(frame["panel"]))
    rows = max(1, -(-len(panels) // columns))
    _style()
    fig = Figure(figsize=(FIG_WIDTH, 1.9 * rows + 1.2))
    top = 1 - 0.9 / fig.get_figheight()
    fig.text(0.01, 1 - 0.25 / fig.get_figheight(), title, fontsize=13, fontweight="bold", va="top")
    fig.text(0.01, 1 - 0.6 / fig.get_figheight(), subtitle, fontsize=9.5, color="#505a5f", va="top")
    grid = fig.add_gridspec(rows, columns, left=0.06, right=0.98, top=top - 0.04, bottom=0.5 / fig.get_figheight(),
                            hspace=0.75, wspace=0.35)
    said = []
    for k, panel in enumerate(panels):
        ax = fig.add_subplot(grid[k // columns, k % columns])
        p = frame[frame["panel"] == panel]
        periods = sorted(p["time_period"].astype(str).unique())
        x = {t: i for i, t in enumerate(periods)}
        for role, colour, width in (("england", "#8a8a8a", 1.2), ("la", "#12436d", 2.0)):
            s = p[p["role"] == role].sort_values("time_period")
            ax.plot([x[str(t)] for t in s["time_period"]], s["value"].astype(float), color=colour, lw=width,
                    marker="o" if role == "la" else None, ms=2.5)
        la = p[(p["role"] == "la") & p["value"].notna()].sort_values("time_period")
        d = int(p["decimals"].iloc[0])
        if len(la):
            last = la.iloc[-1]
            text = _text(float(last["value"]), d)
            ax.annotate(text, (x[str(last["time_period"])], float(last["value"])), xytext=(3, 3),
                        textcoords="offset points", fontsize=7.5, color="#12436d")
            said.append(f"{panel}: {text} in {last['time_period']}")
        ax.set_title(textwrap.fill(str(panel), 34), fontsize=7.5, loc="left")
        ax.set_xticks([0, len(periods) - 1] if len(periods) > 1 else [0])
        ax.set_xticklabels([periods[0], periods[-1]] if len(periods) > 1 else periods, fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.text(0.01, 0.12 / fig.get_figheight(), f"{la_name}: dark line; England: grey line. {_source_line(source)}",
             fontsize=7.5, color="#505a5f")
    image, mime, size = render(fig)
    alt = (f"{len(panels)} small charts, one per indicator, of {_possessive(la_name)} figures over time beside "
           f"England's. Latest: " + "; ".join(said) + ".")
    return Chart(title=title, subtitle=subtitle, alt=alt, data=frame, image=image, kind="small multiples",
                 mime=mime, size=size)
