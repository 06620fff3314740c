"""Charts for the evidence pack: trend lines, benchmark bars and funnel plots, as accessible images.

Every chart follows the UK Government Analysis Function charts guidance (the ``afcharts`` style): a headline
title that states the finding, a subtitle with the measure and period, the source at the bottom left, no chart
junk (no top or right spines, light gridlines along the value axis only), and direct labels instead of a legend,
so that no meaning is carried by colour alone (lines also differ by line style and marker, bars by their names).
The local authority of interest is always dark blue.

Value axes show the variation: a bar's length carries meaning, so bars start at zero; a line or a dot's height
does not, so trend and funnel axes start at zero only where the values lie near it, and otherwise at a padded
range with a break marked at the axis's foot and a note saying where it starts. Labels never overlap each other,
and the LA's label on a funnel is placed clear of every other dot.

:func:`trend`, :func:`benchmark` and :func:`funnel` return the chart as a matplotlib Figure (a :class:`ChartFigure`)
that an analyst can restyle in a notebook, and that a notebook shows as the pack shows it. :func:`trend_chart`,
:func:`benchmark_chart`, :func:`funnel_chart` and :func:`small_multiples` return the rendered :class:`Chart`: the title, subtitle, alternative text (what the chart shows with its key
numbers), a caption (the notes that add to the title: what the marks mean, which limits and why), the data
behind it and the image, rendered twice: at 880 pixels wide, and in a narrow layout (440 pixels, the same text
sizes) that a page shows on a small screen, so the text stays readable at 400 pixels. Every number printed on a
chart or in its texts is rounded half up, as DfE publishes (:func:`analysis.numbers.format_values`).

Figures are built with :class:`matplotlib.figure.Figure` and rendered by the Agg canvas directly, never through
``pyplot``: nothing leaks into pyplot's figure list and Jupyter shows one image per chart (its HTML). The
matplotlib style is set for each chart inside a style context, so a notebook's own style (seaborn themes,
``savefig.bbox = "tight"``...) neither changes the charts nor is changed by them. The statistics a chart shows
(funnel limits, overdispersion) come from :mod:`analysis.stats`; this module only draws.

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
import re
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

import matplotlib.lines  # noqa: E402
import matplotlib.text  # noqa: E402
import matplotlib.style  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import patheffects, ticker  # noqa: E402
from matplotlib import transforms as mtransforms  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402

from analysis.present import text_metrics  # noqa: E402
from analysis.stats import funnel as funnel_stats  # noqa: E402
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

#: The funnel positions, from the middle out (:data:`analysis.stats.funnel.POSITIONS`).
POSITIONS = funnel_stats.POSITIONS
NOT_COMPARED = funnel_stats.NOT_COMPARED

TEXT = "#0B0C0C"        # GOV.UK text colour
SECONDARY = "#505A5F"   # GOV.UK secondary text (7:1 on white)
GRID = "#D9D9D9"
AXIS = "#6F777B"
LIMITS = "#505A5F"
CI_ALPHA = 0.15

FIG_WIDTH = 8.0
FIG_HEIGHT = 4.5
#: The narrow layout: half the width at the same text sizes, for small screens (shown below 48em).
NARROW_WIDTH = 4.0
NARROW_HEIGHT = 4.4
NARROW_MEDIA = "(max-width: 48em)"
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


#: Hides text on screen but leaves it to screen readers (the title and subtitle are drawn in the image).
_VISUALLY_HIDDEN = ("position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;"
                    "clip:rect(0 0 0 0);white-space:nowrap;border:0")


def _sentence(text: str) -> str:
    text = (text or "").strip()
    return text if not text or text[-1] in ".!?" else text + "."


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
    image : bytes
        The rendered image (SVG by default), 880 pixels wide.
    kind : str
        ``"trend"``, ``"benchmark"`` or ``"funnel"``.
    caption : str
        The notes that add to the title: what the marks mean, where the value axis starts, which limits a
        funnel draws and why. Shown under the chart as text, so it is readable at any width.
    narrow : bytes
        The same chart in the narrow layout (440 pixels wide, the same text sizes), for small screens.
    """

    title: str
    subtitle: str
    alt: str
    data: pd.DataFrame = field(repr=False)
    image: bytes = field(repr=False)
    kind: str
    mime: str = "image/svg+xml"
    size: tuple = (0, 0)
    caption: str = ""
    narrow: bytes = field(default=b"", repr=False)
    narrow_size: tuple = (0, 0)

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

        With a narrow layout, a ``<picture>`` offers it to screens narrower than 48em. The caption shows the
        notes (:attr:`caption`); the title and subtitle, already drawn in the image, are in it for screen
        readers only (visually hidden), so the page never shows them twice. No heading tags: the page decides
        the outline.
        """
        src = base64.b64encode(self.image).decode("ascii")
        alt = html.escape(self.alt, quote=True)
        img = f'<img src="data:{self.mime};base64,{src}" alt="{alt}" width="{self.width}" height="{self.height}">'
        if self.narrow:
            narrow = base64.b64encode(self.narrow).decode("ascii")
            img = (f'<picture><source media="{NARROW_MEDIA}" srcset="data:{self.mime};base64,{narrow}" '
                   f'width="{self.narrow_size[0]}" height="{self.narrow_size[1]}">{img}</picture>')
        heading = " ".join(_sentence(t) for t in (self.title, self.subtitle) if t)
        caption = f" {html.escape(self.caption)}" if self.caption else ""
        return (
            f'<figure class="chart">{img}'
            f'<figcaption><span class="chart-title" style="{_VISUALLY_HIDDEN}">{html.escape(heading)}</span>'
            f"{caption}</figcaption></figure>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


#: Default image format: SVG keeps text as text (sharp at any zoom, selectable, and quicker to render than PNG).
IMAGE_FORMAT = "svg"
_SVG_FONTS = "'DejaVu Sans', Arial, Helvetica, sans-serif"


def render(fig: Figure, fmt: str | None = None) -> tuple[bytes, str, tuple[int, int]]:
    """Render a figure once: ``(bytes, mime type, (width px, height px))`` as SVG (default) or PNG."""
    fmt = fmt or IMAGE_FORMAT
    text_metrics.install()
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

def _new_figure(height: float = FIG_HEIGHT, width: float = FIG_WIDTH) -> tuple[Figure, Any]:
    fig = ChartFigure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.1, 0.15, 0.75, 0.6))
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.spines["bottom"].set_color(AXIS)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0, pad=6)
    ax.tick_params(axis="x", length=4, width=0.9, pad=4)
    return fig, ax


def _base_height(width: float) -> float:
    """The figure's starting height: 4.5 inches wide, 4.4 narrow (it grows when its texts need more)."""
    return FIG_HEIGHT if width >= FIG_WIDTH else NARROW_HEIGHT


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
            # A single word wider than the room (a file name) is broken apart below: narrowing cannot help it.
            if chars <= 8 or all(width(w) <= width_px or " " not in w for w in wrapped):
                break
            chars -= max(1, chars // 20)
        for line in wrapped:
            lines.extend(_break_word(line, width, width_px) if " " not in line and width(line) > width_px else [line])
    return "\n".join(lines)


def _break_word(word: str, width: Any, width_px: float) -> list[str]:
    """A word wider than the room (DfE's file names run to 80 characters) in lines that fit, broken after its
    underscores, slashes, hyphens and dots; a piece with none of them that is still too wide stays whole."""
    lines, line = [], ""
    for piece in re.split(r"(?<=[_/.-])", word):
        if line and width(line + piece) > width_px:
            lines.append(line)
            line = piece
        else:
            line += piece
    return lines + [line]


def _frame_texts(fig: Figure, title: str, subtitle: str, notes: list[str], min_plot: float = 2.2
                 ) -> tuple[float, float]:
    """Title and subtitle at the top left, notes and source at the bottom left, wrapped to the figure width.

    The figure grows taller if the texts would leave less than ``min_plot`` inches for the axes and their
    labels (the narrow layout wraps its title onto more lines). Returns the pixel heights (from the bottom of
    the figure) of the header's lower edge and the footer's upper edge: the axes go between them.
    """
    renderer = fig.canvas.get_renderer()
    dpi = fig.dpi
    width_px = fig.bbox.width
    margin = _MARGIN * dpi
    avail = width_px - 2 * margin
    x = margin / width_px
    header, footer = [], []
    for text, size, weight, gap in ((title, TITLE_SIZE, "bold", 5), (subtitle, SUBTITLE_SIZE, "normal", 0)):
        if text:
            prop = FontProperties(family="DejaVu Sans", size=size, weight=weight)
            t = fig.text(x, 1.0, _wrap(text, prop, avail, renderer), fontproperties=prop, color=TEXT, ha="left",
                         va="top", parse_math=False, linespacing=1.25)
            header.append((t, t.get_window_extent(renderer).height + gap * dpi / 72))
    prop = FontProperties(family="DejaVu Sans", size=TEXT_SIZE)
    for text in [n for n in notes if n]:
        t = fig.text(x, 0.0, _wrap(text, prop, avail, renderer), fontproperties=prop, color=SECONDARY,
                     ha="left", va="bottom", parse_math=False, linespacing=1.25)
        footer.append((t, t.get_window_extent(renderer).height + 2 * dpi / 72))
    head_px = margin + sum(h for _, h in header) + 10 * dpi / 72
    foot_px = margin + sum(h for _, h in footer) + 8 * dpi / 72
    need_px = math.ceil(head_px + foot_px + min_plot * dpi)
    if need_px > fig.bbox.height:
        fig.set_size_inches(fig.get_figwidth(), need_px / dpi)
    height_px = fig.bbox.height
    y = height_px - margin
    for t, h in header:
        t.set_y(y / height_px)
        y -= h
    top = y - 10 * dpi / 72
    y = margin
    for t, h in reversed(footer):
        t.set_y(y / height_px)
        y += h
    return top, y + 8 * dpi / 72


def _tight_box(ax: Any, renderer: Any) -> mtransforms.Bbox:
    """``ax.get_tightbbox(renderer)``, with each leader-line annotation measured by its text and the point it
    joins instead of by its arrow's path: the arrow runs between the two, so the box is the same, and measuring an
    arrow's path is the slowest part of laying a chart out."""
    leaders = [a for a in ax.texts if isinstance(a, matplotlib.text.Annotation) and a.arrow_patch is not None]
    if not leaders:
        return ax.get_tightbbox(renderer)
    others = [a for a in ax.get_default_bbox_extra_artists() if a not in leaders]
    boxes = [ax.get_tightbbox(renderer, bbox_extra_artists=others)]
    for a in leaders:
        if not a.get_visible() or not a._check_xy(renderer):
            continue
        a.update_positions(renderer)
        x, y = a._get_xy_display()
        text = matplotlib.text.Text.get_window_extent(a, renderer)
        boxes.append(mtransforms.Bbox.union([text, mtransforms.Bbox.from_bounds(x, y, 0, 0)]))
    return mtransforms.Bbox.union(boxes)


def _fit_axes(fig: Figure, ax: Any, top: float, bottom: float) -> None:
    """Place the axes so that they and everything drawn round them (tick labels, axis label, direct labels) fill
    the space between the header and footer and the side margins: one measurement, no layout loop.

    Tick positions and labels are fixed before this is called, so they do not change with the axes' size.
    """
    renderer = fig.canvas.get_renderer()
    width_px, height_px = fig.bbox.width, fig.bbox.height
    margin = _MARGIN * fig.dpi
    box = ax.get_window_extent(renderer)
    tight = _tight_box(ax, renderer)
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


def _value_range(values: np.ndarray, start_at_zero: bool | None, unit: str) -> np.ndarray:
    """Ticks for a value axis that shows the variation.

    ``start_at_zero`` True starts at zero (or below, for negative values); False at a padded range round the
    values; None decides: zero where the lowest value is at most half the highest (zero then costs at most
    half the height), otherwise the padded range. A percentage axis never runs past 100% unless a value does.
    """
    values = values[np.isfinite(values)]
    vmin, vmax = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    if start_at_zero is None:
        start_at_zero = vmin <= 0 or vmin <= 0.5 * vmax
    spread = vmax - vmin if vmax > vmin else (abs(vmax) * 0.1 or 1.0)
    lo = min(0.0, vmin) if start_at_zero else vmin - 0.08 * spread
    ticks = _nice_ticks(lo, vmax)  # no padding above: markers and dots are drawn unclipped
    if _is_percent(unit) and ticks[-1] > 100 >= vmax:
        ticks = ticks[ticks <= 100]
    return ticks


def _mark_break(ax: Any) -> None:
    """A zigzag at the foot of the value axis, marking that the axis does not start at zero.

    Drawn in points from the axes' lower-left corner, so it keeps its shape at any size and resolution.
    """
    corner = mtransforms.ScaledTranslation(0, 0, ax.transAxes)
    points = mtransforms.Affine2D().scale(1 / 72) + ax.figure.dpi_scale_trans
    xs = [0, 0, -3.5, 3.5, -3.5, 3.5, 0, 0]
    ys = [0, 3, 5, 8, 11, 14, 16, 19]
    line = matplotlib.lines.Line2D(xs, ys, color=AXIS, linewidth=1.1, transform=points + corner, clip_on=False,
                                   gid="axis-break", zorder=5, solid_joinstyle="miter")
    line.set_in_layout(False)
    ax.add_artist(line)


def _axis_note(ticks: np.ndarray, unit: str) -> str:
    """The caption's note for an axis that does not start at zero (empty when it does)."""
    if ticks[0] <= 0:
        return ""
    start = _texts(ticks[:1], _tick_decimals(ticks), unit)[0]
    return f"The value axis starts at {start}, not zero, to show the variation (marked by the zigzag at its foot)."


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
    2.3 inches (three tenths of the figure's width in the narrow layout). Returns (annotation, target y, number
    of lines) for :func:`_nudge`, which sets the positions once the axes are placed.
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
        text = _wrap(item["text"], prop, min(2.3, 0.3 * fig.get_figwidth()) * fig.dpi, renderer)
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


def _min_plot(width: float) -> float:
    """Inches the axes and their tick labels need at least: more in the narrow layout, whose plot is small."""
    return 2.2 if width >= FIG_WIDTH else 2.6


def _figure(build: Any, kind: str, data: pd.DataFrame, **kw: Any) -> "ChartFigure":
    """Build a chart's figure in the wide layout, holding what it needs to become a :class:`Chart`."""
    text_metrics.install()  # both layouts and both drawings measure the same texts: measure each once
    fig, tidy, alt, caption = build(data, width=FIG_WIDTH, **kw)
    fig.chart_kind, fig.chart_data, fig.alt, fig.caption = kind, tidy, alt, caption
    fig.chart_title, fig.chart_subtitle = kw["title"], kw["subtitle"]
    fig._narrow = (build, data, kw)
    return fig


def _chart(build: Any, kind: str, fmt: str | None, data: pd.DataFrame, **kw: Any) -> Chart:
    """Build a chart's figure in the wide and the narrow layout and render each once."""
    return _figure(build, kind, data, **kw).chart(fmt)


class ChartFigure(Figure):
    """A chart as a matplotlib :class:`~matplotlib.figure.Figure` that also holds its words.

    :func:`trend`, :func:`benchmark` and :func:`funnel` return one. Restyle it as any Figure (``fig.axes[0]``,
    ``fig.set_size_inches``...); shown in a notebook it renders as the pack shows it (:meth:`chart`): the image with
    its alternative text and caption. The pack's pages are these outputs.

    Attributes
    ----------
    chart_kind : str
        ``"trend"``, ``"benchmark"`` or ``"funnel"``.
    chart_data : pandas.DataFrame
        The data drawn, tidy (see the function that drew it).
    alt, caption : str
        The alternative text and the notes under the chart.
    chart_title, chart_subtitle : str
        The headline and the measure and period, as drawn.
    """

    chart_kind = ""
    chart_data = None
    alt = ""
    caption = ""
    chart_title = ""
    chart_subtitle = ""
    _narrow = None

    def chart(self, fmt: str | None = None) -> Chart:
        """Render the figure as it stands, and the same chart in the narrow layout, into a :class:`Chart`.

        The narrow layout is drawn afresh from the data, so a restyle of this figure shows in the wide image only.
        """
        narrow, narrow_size = b"", (0, 0)
        with _style():
            image, mime, size = render(self, fmt)
            if self._narrow is not None:
                build, data, kw = self._narrow
                narrow, _, narrow_size = render(build(data, width=NARROW_WIDTH, **kw)[0], fmt)
        return Chart(title=self.chart_title, subtitle=self.chart_subtitle, alt=self.alt, data=self.chart_data,
                     image=image, mime=mime, size=size, kind=self.chart_kind, caption=self.caption, narrow=narrow,
                     narrow_size=narrow_size)

    def _repr_html_(self) -> str:
        return self.chart().to_html()

    def _ipython_display_(self) -> None:
        """One output, the chart as the pack shows it (not also a PNG from the inline backend)."""
        from IPython.display import HTML, display

        display(HTML(self._repr_html_()))


# ---------------------------------------------------------------------------------------------------------------
# Trend
# ---------------------------------------------------------------------------------------------------------------

def _trend_figure(data: pd.DataFrame, *, title: str, subtitle: str, unit: str, decimals: int, source: str,
                  la_name: str, start_at_zero: bool | None = None, width: float = FIG_WIDTH,
                  interval: str = "95%") -> tuple[Figure, pd.DataFrame, str, str]:
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
        fig, ax = _new_figure(_base_height(width), width)
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
            ax.plot(x, y, color=colour, zorder=4 if role == "la" else 3, solid_capstyle="round", clip_on=False,
                    **_LINE_STYLES[role])
            if role != "la":
                alone = _isolated(y)
                if alone.any():
                    ax.plot(x[alone], y[alone], linestyle="none", marker=_ISOLATED_MARKERS[role], color=colour,
                            markersize=5, zorder=3, clip_on=False)

        vals = np.concatenate([wide[c].to_numpy(dtype=float).ravel() for c in ("value", "lower", "upper")])
        yticks = _value_range(vals, start_at_zero, unit)
        _set_value_ticks(ax, yticks, unit)
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
            notes.append(f"Shaded band: {interval} confidence interval for {la_series}.")
        notes.append(_axis_note(yticks, unit))
        if yticks[0] > 0:
            _mark_break(ax)
        top, bottom = _frame_texts(fig, title, subtitle, [_source_line(source)], _min_plot(width))
        _fit_axes(fig, ax, top, bottom)
        _nudge(ax, labels)
        _thin_x_labels(ax, periods)

    alt = _trend_alt(tidy, wide, periods, names, series_role, la_series, subtitle, unit, decimals, la_name,
                     has_ci, interval)
    return fig, tidy, alt, " ".join(n for n in notes if n)


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
               has_ci, interval: str = "95%") -> str:
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
        sentences.append(f"The shaded band is the {interval} confidence interval for {la_name}.")
    return " ".join(sentences)


def trend_chart(data: pd.DataFrame, *, title: str, subtitle: str, unit: str, decimals: int, source: str,
                la_name: str, start_at_zero: bool | None = None, fmt: str | None = None,
                interval: str = "95%") -> Chart:
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
    start_at_zero : bool or None, default None
        Start the value axis at zero (True), at a padded range round the values (False), or decide (None): zero
        only where the lowest value is at most half the highest. An axis that does not start at zero has a
        zigzag at its foot and a note in the caption.
    fmt : str, optional
        ``"svg"`` (the default) or ``"png"``.

    Returns
    -------
    Chart
        ``kind="trend"``; ``data`` holds ``time_period, series, role, value, lower, upper`` in drawing order;
        ``caption`` says what the shaded band is and where the value axis starts.

    Notes
    -----
    Periods are the x axis in sorted order; a missing value leaves a gap in its line (a value with no
    neighbour is drawn as a marker). The LA is a solid dark-blue line with circles and a shaded 95% confidence
    band; the statistical neighbours' average is dashed turquoise, the region dash-dot dark pink, England dotted
    dark grey. Each series is labelled at its end with its name and last value, the labels moved apart so they do
    not overlap.
    """
    return _chart(_trend_figure, "trend", fmt, data, title=title, subtitle=subtitle, unit=unit,
                  decimals=decimals, source=source, la_name=la_name, start_at_zero=start_at_zero,
                  interval=interval)


def trend(data: pd.DataFrame, *, title: str, subtitle: str, unit: str, decimals: int, source: str, la_name: str,
          start_at_zero: bool | None = None, interval: str = "95%") -> ChartFigure:
    """The trend chart of :func:`trend_chart` as a matplotlib Figure to look at, restyle or save.

    Takes the same data and words (see :func:`trend_chart`); returns a :class:`ChartFigure`, shown in a notebook as
    the pack shows it. ``trend(...).chart()`` is ``trend_chart(...)``.
    """
    return _figure(_trend_figure, "trend", data, title=title, subtitle=subtitle, unit=unit, decimals=decimals,
                   source=source, la_name=la_name, start_at_zero=start_at_zero, interval=interval)


# ---------------------------------------------------------------------------------------------------------------
# Benchmark bars
# ---------------------------------------------------------------------------------------------------------------

def _benchmark_figure(data: pd.DataFrame, *, title: str, subtitle: str, unit: str, decimals: int, source: str,
                      la_name: str, width: float = FIG_WIDTH, interval: str = "95%"
                      ) -> tuple[Figure, pd.DataFrame, str, str]:
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

    with _style():
        fig, ax = _new_figure(_base_height(width), width)
        renderer = fig.canvas.get_renderer()
        # Names wrap to 45% of the width (the narrow layout's long names take two lines), and each bar gets
        # room for its name: 0.2 inches a bar, 0.17 a line when a name wraps.
        props = [FontProperties(family="DejaVu Sans", size=TEXT_SIZE, weight="bold" if la else "normal")
                 for la in is_la]
        wrapped = [_wrap(name, prop, 0.45 * width * fig.dpi, renderer) for name, prop in zip(tidy["area_name"], props)]
        lines = max((w.count("\n") + 1 for w in wrapped), default=1)
        pitch = 0.2 if lines == 1 else 0.17 * lines
        fig.set_size_inches(width, max(_base_height(width), 2.1 + pitch * n))
        ypos = np.arange(n)[::-1].astype(float)
        colours = [ROLE_COLOURS[r] for r in roles]
        present = ~np.isnan(value)
        ax.barh(ypos[present], value[present], height=0.72, color=np.array(colours, dtype=object)[present],
                zorder=2)
        ci = present & ~np.isnan(lower) & ~np.isnan(upper)
        if ci.any():
            xerr = [np.maximum(value[ci] - lower[ci], 0), np.maximum(upper[ci] - value[ci], 0)]
            # A white halo under the black line keeps it visible over the dark bars.
            for colour, line_width, z in (("white", 2.8, 3), ("black", 1.0, 3.5)):
                ax.errorbar(value[ci], ypos[ci], xerr=xerr, fmt="none", ecolor=colour, elinewidth=line_width,
                            capsize=3, capthick=line_width, zorder=z)
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
        for y, name, prop, la, text, end, here in zip(ypos, wrapped, props, is_la, shown, ends, present):
            weight = "bold" if la else "normal"
            ax.text(0.0, y, name, transform=names, ha="right", va="center", fontproperties=prop, color=TEXT,
                    parse_math=False, clip_on=False, linespacing=1.0)
            ax.annotate(text, xy=(end if here else 0.0, y), xytext=(4, 0), textcoords="offset points",
                        ha="left", va="center", fontsize=TEXT_SIZE, fontweight=weight,
                        color=TEXT if here else SECONDARY, annotation_clip=False, parse_math=False)
        notes = []
        if ci.any():
            notes.append(f"Black lines show {interval} confidence intervals.")
        symbols = [s for s in dict.fromkeys(t for t, h in zip(shown, present) if not h) if s in SYMBOLS]
        if symbols:
            notes.append("; ".join(f"{s} = {SYMBOLS[s]}" for s in symbols) + ".")
        top, bottom = _frame_texts(fig, title, subtitle, [_source_line(source)], pitch * n + 0.2)
        _fit_axes(fig, ax, top, bottom)

    alt = _benchmark_alt(tidy, shown, subtitle, unit, decimals, la_name)
    return fig, tidy, alt, " ".join(notes)


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
                    la_name: str, fmt: str | None = None, interval: str = "95%") -> Chart:
    """Horizontal bar chart of the LA, its statistical neighbours and its comparators, highest at the top.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per bar: ``area_name``, ``role`` (``"la"``, ``"neighbour"``, ``"sn"`` for the neighbours'
        average, ``"region"``, ``"england"``), ``value``, and optional 95% limits ``lower``, ``upper`` and
        published ``status`` symbol (``"c"``, ``"x"``...).
    title, subtitle, unit, decimals, source, la_name
        As for :func:`trend_chart`.

    fmt : str, optional
        ``"svg"`` (the default) or ``"png"``.

    Returns
    -------
    Chart
        ``kind="benchmark"``; ``data`` holds ``area_name, role, value, lower, upper`` (and ``status`` if given),
        top bar first; ``caption`` explains the confidence-interval lines and any symbols.

    Notes
    -----
    The LA's bar is dark blue and its name bold, the neighbours' bars mid grey, the neighbours' average
    turquoise, the region dark pink and England dark grey; every bar is labelled with its value at its end
    (beyond the confidence interval, drawn as a thin black line where given), so the value axis is left out.
    A missing value has no bar and shows its symbol (``c`` suppressed, ``x`` not available), explained in the
    caption. Bars start at zero: their length carries the value. The figure grows taller beyond 12 bars so bars
    stay readable; a long name wraps (in the narrow layout) and the bars move apart to make room for it.
    """
    return _chart(_benchmark_figure, "benchmark", fmt, data, title=title, subtitle=subtitle, unit=unit,
                  decimals=decimals, source=source, la_name=la_name, interval=interval)


def benchmark(data: pd.DataFrame, *, title: str, subtitle: str, unit: str, decimals: int, source: str,
              la_name: str, interval: str = "95%") -> ChartFigure:
    """The bar chart of :func:`benchmark_chart` as a matplotlib Figure (a :class:`ChartFigure`); same arguments."""
    return _figure(_benchmark_figure, "benchmark", data, title=title, subtitle=subtitle, unit=unit,
                   decimals=decimals, source=source, la_name=la_name, interval=interval)


# ---------------------------------------------------------------------------------------------------------------
# Funnel
# ---------------------------------------------------------------------------------------------------------------

def _check_method(method: str, caller: str) -> None:
    if method not in funnel_stats.METHODS:
        raise ParameterError(f"{caller}: method must be 'rate' or 'proportion', got {method!r}")


def funnel_positions(data: pd.DataFrame, comparator: float, method: str, multiplier: float,
                     adjust: bool = True) -> pd.Series:
    """Where each area lies on the funnel plot: within the 95% limits, between 95% and 99.8%, or outside 99.8%.

    A thin call to :func:`analysis.stats.funnel.funnel`, which holds the statistics.

    Parameters
    ----------
    data : pandas.DataFrame
        With ``value`` (on the ``multiplier`` scale) and ``denominator``.
    comparator : float
        The comparator's value (England), on the same scale.
    method : str
        ``"rate"``: Poisson limits (exact below 10 expected events, Byar's from 10); ``"proportion"``:
        normal-approximation (binomial) limits.
    multiplier : float
        The indicator's scale (100 for a percentage, 10000 for a rate per 10,000).
    adjust : bool, default True
        Widen the limits for overdispersion where Spiegelhalter's test finds it (as the funnel chart draws
        them); False: always the Poisson or binomial limits.

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
    _check_method(method, "funnel_positions")
    value = _float_column(data, "value", "funnel_positions")
    den = _float_column(data, "denominator", "funnel_positions")
    result = funnel_stats.funnel(value, den, float(comparator), method, multiplier, adjust=adjust)
    return pd.Series(result.position, index=data.index, name="position", dtype=object)


def _denominator_scale(den: np.ndarray) -> str:
    """``"log"`` or ``"sqrt"``: the scale that spreads the middle 90% of the denominators over more of the axis.

    A log axis suits denominators over one or two orders of magnitude; when a few tiny areas (the Isles of
    Scilly, the City of London) stretch it over three, a square-root axis spreads the rest further.
    """
    q05, q95 = np.percentile(den, [5, 95])
    lo, hi = den.min(), den.max()
    log = (np.log(q95) - np.log(q05)) / (np.log(hi * 1.25) - np.log(lo / 1.25))
    sqrt = (np.sqrt(q95) - np.sqrt(q05)) / np.sqrt(hi * 1.05)
    return "sqrt" if sqrt > log else "log"


def _set_denominator_ticks(ax: Any, lo: float, hi: float, scale: str) -> None:
    """Round denominator ticks (1, 5, 2 and 3 times the powers of ten, in that preference), as many as fit.

    Each candidate is kept if its label starts within the axis and clears every label kept before it by 16
    points, measured on the axis as placed.
    """
    renderer = ax.figure.canvas.get_renderer()
    prop = FontProperties(family="DejaVu Sans", size=TEXT_SIZE)
    forward = np.log10 if scale == "log" else np.sqrt
    width_px = ax.get_window_extent(renderer).width
    f_lo, f_hi = forward(lo), forward(hi)
    gap = 16 * ax.figure.dpi / 72
    decades = range(max(0, math.floor(math.log10(max(lo, 1.0)))), math.ceil(math.log10(hi)) + 1)
    kept: list[tuple[float, float, float, str]] = []  # (value, centre px, half width px, label)
    for m in (1, 5, 2, 3):
        for d in reversed(decades):
            v = float(m * 10 ** d)
            if not lo <= v <= hi:
                continue
            label = _texts([v], 0)[0]
            half = renderer.get_text_width_height_descent(label, prop, ismath=False)[0] / 2
            centre = (forward(v) - f_lo) / (f_hi - f_lo) * width_px
            if centre - half < 0 or centre > width_px:  # may run past the right end, never the left (y labels)
                continue
            if all(abs(centre - c) >= half + h + gap for _, c, h, _ in kept):
                kept.append((v, centre, half, label))
    kept.sort()
    ax.set_xticks([k[0] for k in kept], labels=[k[3] for k in kept])
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.set_xlim(lo, hi)


def _label_point(ax: Any, texts: list[str], xy: tuple[float, float], others: np.ndarray, other_size: float,
                 own_size: float) -> Any:
    """Label a dot at the nearest place inside the plot where the label covers no other dot.

    ``texts`` are the label's forms, preferred first (one line, then name and value on two lines). For each
    form, every place for the label's box on a 3-pixel grid over the axes is scored at once (numpy): a box that
    covers another dot (a circle of the scatter's marker size, with half a point to spare) or the labelled dot
    itself is ruled out, and of the rest the one nearest the dot wins; a later form must be nearer by 10 points
    to be preferred. If every place covers a dot, the place covering fewest is taken. A label more than 9
    points from its dot is joined to it by a thin leader. Run once the axes are placed; the label's offset is
    set in points, so the placement holds at any resolution.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    px = fig.dpi / 72
    style = dict(fontsize=TEXT_SIZE, fontweight="bold", color=DARK_BLUE, parse_math=False, annotation_clip=False,
                 zorder=6, path_effects=[patheffects.withStroke(linewidth=3, foreground="white")],
                 multialignment="left", linespacing=1.1)
    here = ax.transData.transform([xy])[0]
    pts = ax.transData.transform(others) if len(others) else np.empty((0, 2))
    best = None
    for form, text in enumerate(texts):
        probe = ax.annotate(text, xy=xy, xytext=(0, 0), textcoords="offset points", ha="left", va="bottom",
                            **style)
        box = matplotlib.text.Text.get_window_extent(probe, renderer)
        probe.remove()
        score, x0, y0 = _best_place(ax, box.width, box.height, here, pts, other_size, own_size)
        score = (score[0], score[1] + 10 * px * form)
        if best is None or score < best[0]:
            best = (score, x0, y0, box.width, box.height, form)
    (_, distance), x0, y0, w, h, form = best
    arrow = None
    if distance > 9 * px:
        near_x, near_y = np.clip(here[0], x0, x0 + w), np.clip(here[1], y0, y0 + h)
        arrow = {"arrowstyle": "-", "color": DARK_BLUE, "linewidth": 0.9, "shrinkA": 1,
                 "shrinkB": math.sqrt(own_size) / 2 + 1, "relpos": ((near_x - x0) / w, (near_y - y0) / h)}
    offset = ((x0 - here[0]) / px, (y0 - here[1]) / px)
    return ax.annotate(texts[form], xy=xy, xytext=offset, textcoords="offset points", ha="left", va="bottom",
                       arrowprops=arrow, **style)


def _best_place(ax: Any, w: float, h: float, here: np.ndarray, pts: np.ndarray, other_size: float,
                own_size: float) -> tuple[tuple[int, float], float, float]:
    """The best lower-left corner (pixels) for a ``w`` by ``h`` label of the dot at ``here``, other dots at
    ``pts``: ``((dots covered, distance from the dot), x0, y0)`` (see :func:`_label_point`).

    A dot rules out the corners of every box that comes within its radius: a rectangle of corners (taking the
    circle's bounding square, to be safe), counted for all dots at once with a two-dimensional difference array.
    """
    px = ax.figure.dpi / 72
    radius = (math.sqrt(other_size) / 2 + 0.5) * px
    own = (math.sqrt(own_size) / 2 + 1.5) * px
    pad = 1.5 * px  # the white halo round the letters
    step = 3.0
    frame = ax.get_window_extent(ax.figure.canvas.get_renderer())
    xs = np.arange(frame.x0 + pad, max(frame.x0 + pad, frame.x1 - w - pad) + 1e-9, step)
    ys = np.arange(frame.y0 + pad, max(frame.y0 + pad, frame.y1 - h - pad) + 1e-9, step)
    # Corners whose box (with its pad) reaches within ``radius`` of a dot, as index ranges [i0, i1) per dot.
    i0 = np.searchsorted(xs, pts[:, 0] - w - pad - radius, "left")
    i1 = np.searchsorted(xs, pts[:, 0] + pad + radius, "right")
    j0 = np.searchsorted(ys, pts[:, 1] - h - pad - radius, "left")
    j1 = np.searchsorted(ys, pts[:, 1] + pad + radius, "right")
    diff = np.zeros((ys.size + 1, xs.size + 1))
    np.add.at(diff, (j0, i0), 1)
    np.add.at(diff, (j0, i1), -1)
    np.add.at(diff, (j1, i0), -1)
    np.add.at(diff, (j1, i1), 1)
    hits = diff.cumsum(axis=0).cumsum(axis=1)[:-1, :-1].ravel()
    x0, y0 = (a.ravel() for a in np.meshgrid(xs, ys))
    distance = np.hypot(here[0] - np.clip(here[0], x0 - pad, x0 + w + pad),
                        here[1] - np.clip(here[1], y0 - pad, y0 + h + pad))
    hits = hits + 1000 * (distance < own)  # never over the labelled dot itself
    best = np.lexsort((distance, hits))[0]
    return (int(round(hits[best])), float(distance[best])), float(x0[best]), float(y0[best])


_OTHER_SIZE = 22         # the other LAs' dots, points squared
_OTHER_SIZE_NARROW = 14  # smaller in the narrow layout, whose plot is half as wide
_LA_SIZE = 80            # the LA's dot


def _funnel_figure(data: pd.DataFrame, *, comparator: float, comparator_name: str, method: str,
                   multiplier: float, title: str, subtitle: str, unit: str, decimals: int, source: str,
                   la_name: str, x_label: str, start_at_zero: bool | None = None, adjust: bool = True,
                   width: float = FIG_WIDTH) -> tuple[Figure, pd.DataFrame, str, str]:
    caller = "funnel_chart"
    _check_frame(data, ("area_name", "denominator", "value", "role"), caller)
    _check_method(method, caller)
    comparator = float(comparator)
    if not np.isfinite(comparator):
        raise ParameterError(f"{caller}: the comparator ({comparator_name}) has no value")
    out = data.copy()
    out["role"] = out["role"].astype(str).str.lower()
    _check_roles(out["role"], ("la", "other"), caller)
    value = _float_column(out, "value", caller)
    den = _float_column(out, "denominator", caller)
    num = _float_column(out, "numerator", caller)
    ok = ~np.isnan(value) & ~np.isnan(den) & (den > 0)
    is_la = (out["role"] == "la").to_numpy()
    la_i = int(np.flatnonzero(is_la)[0])
    if not ok.any():
        raise ParameterError(f"{caller}: no area has both a value and a positive denominator")
    result = funnel_stats.funnel(value, den, comparator, method, multiplier, adjust=adjust)
    out["position"] = result.position

    # A log or square-root denominator axis: LAs from 10,000 to 350,000 children spread across the width.
    scale = _denominator_scale(den[ok])
    x_lo, x_hi = (den[ok].min() / 1.25, den[ok].max() * 1.25) if scale == "log" else (0.0, den[ok].max() * 1.05)
    grid = np.geomspace(den[ok].min() / 1.25, x_hi, 200)
    lo95, up95, lo998, up998 = funnel_stats.limits(comparator, grid, method, multiplier, result.tau2)

    with _style():
        fig, ax = _new_figure(_base_height(width), width)
        if scale == "log":
            ax.set_xscale("log")
        else:
            ax.set_xscale("function", functions=(lambda v: np.sqrt(np.maximum(v, 0)), np.square))
        other = ok & ~is_la
        dot = _OTHER_SIZE if width >= FIG_WIDTH else _OTHER_SIZE_NARROW
        ax.scatter(den[other], value[other], s=dot, color=LIGHT_GREY, edgecolors=MID_GREY, linewidths=0.5,
                   zorder=3, clip_on=False)
        for lim in (up95, lo95):
            ax.plot(grid, lim, color=LIMITS, linestyle=(0, (5, 2.5)), linewidth=1.3, zorder=2)
        for lim in (up998, lo998):
            ax.plot(grid, lim, color=LIMITS, linestyle=(0, (1.2, 1.8)), linewidth=1.6, zorder=2,
                    dash_capstyle="round")
        ax.axhline(comparator, color=DARK_GREY, linewidth=1.6, zorder=2)
        la_ok = ok[la_i]
        if la_ok:
            ax.scatter([den[la_i]], [value[la_i]], s=_LA_SIZE, color=DARK_BLUE, edgecolors="white",
                       linewidths=1.2, zorder=5, clip_on=False)

        yticks = _value_range(np.r_[value[ok], comparator], start_at_zero, unit)
        _set_value_ticks(ax, yticks, unit)
        ax.set_xticks([x_hi], labels=[_text(x_hi, 0)])  # one label's height for the layout; set below
        ax.set_xlim(x_lo, x_hi)
        scale_words = "log scale" if scale == "log" else "square-root scale"
        prop = FontProperties(family="DejaVu Sans", size=TEXT_SIZE)
        ax.set_xlabel(_wrap(f"{x_label} ({scale_words})", prop, 0.7 * width * fig.dpi, fig.canvas.get_renderer()),
                      fontproperties=prop, color=TEXT, labelpad=6)
        if yticks[0] > 0:
            _mark_break(ax)

        comp_text = _text(comparator, decimals, unit)
        ends = [
            {"text": "99.8% limits", "y": up998[-1], "colour": LIMITS},
            {"text": "95% limits", "y": up95[-1], "colour": LIMITS},
            {"text": f"{comparator_name} {comp_text}", "y": comparator, "colour": DARK_GREY},
        ]
        labels = _direct_labels(ax, ends, grid[-1])
        # The narrow plot is taller than a trend's: 150 dots need the room.
        top, bottom = _frame_texts(fig, title, subtitle, [_source_line(source)], _min_plot(width) + 0.5 * (width < FIG_WIDTH))
        _fit_axes(fig, ax, top, bottom)
        _set_denominator_ticks(ax, x_lo, x_hi, scale)
        _nudge(ax, labels)
        if la_ok:
            shown = _text(value[la_i], decimals, unit)
            _label_point(ax, [f"{la_name} {shown}", f"{la_name}\n{shown}"], (den[la_i], value[la_i]),
                         np.c_[den[other], value[other]], dot, _LA_SIZE)

    caption = " ".join(n for n in (
        f"Each dot is a local authority; the horizontal axis is on a {scale_words}. Dashed lines: 95% limits; "
        f"dotted lines: 99.8% limits around {comparator_name}.",
        _limits_note(result, value, den, comparator, method, multiplier),
        _axis_note(yticks, unit)) if n)
    alt = _funnel_alt(out, value, den, num, ok, la_i, comparator, comparator_name, comp_text, subtitle, unit,
                      decimals, la_name, x_label, result.adjusted)
    return fig, out.reset_index(drop=True), alt, caption


def _limits_note(result: Any, value: np.ndarray, den: np.ndarray, comparator: float, method: str,
                 multiplier: float) -> str:
    """Which limits the funnel draws, and why: the overdispersion test in words and numbers."""
    kind = "Poisson" if method == "rate" else "binomial"
    od = result.overdispersion
    if np.isnan(od.phi):
        return f"The limits are {kind} limits (too few local authorities to test for overdispersion)."
    ratio = _text(od.phi, 1 if od.phi >= 10 else 2)
    p = "p < 0.001" if od.p_value < 0.001 else f"p = {_text(od.p_value, 3)}"
    test = f"Spiegelhalter's overdispersion test: dispersion ratio {ratio}, {p}"
    if result.adjusted:
        plain = funnel_stats.positions(value, den, comparator, method, multiplier)
        outside = int(sum(str(q).startswith("outside") for q in plain))
        return (f"The limits allow for overdispersion: on {kind} limits alone {outside:,} of {od.units:,} "
                f"local authorities would lie outside the 99.8% limits, far more than chance explains ({test}), "
                "so the limits add the variation between local authorities (random effects).")
    if od.overdispersed:
        return f"The limits are {kind} limits, not widened for the overdispersion the test finds ({test})."
    return (f"The limits are {kind} limits: the local authorities vary no more than chance explains ({test}).")


def _funnel_alt(out, value, den, num, ok, la_i, comparator, comparator_name, comp_text, subtitle, unit,
                decimals, la_name, x_label, adjusted) -> str:
    names = tuple(out["area_name"].astype(str)) + (la_name, comparator_name)
    sub = _lower_first(subtitle, names)
    n = int(ok.sum())
    sep = "," if "," in sub else ""
    first = (f"Funnel plot of {sub}{sep} for {n:,} local authorit{'y' if n == 1 else 'ies'}, against "
             f"{_possessive(comparator_name)} {comp_text}.")
    position = out["position"].iloc[la_i]
    # Widened limits allow for the usual variation between authorities as well as chance.
    chance = "chance and the usual variation between local authorities" if adjusted else "chance"
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
            where = f"lies within the 95% limits: {diff} could be due to {chance}"
        else:
            side = "above the upper" if position.endswith("(above)") else "below the lower"
            if position.startswith("between"):
                where = f"lies {side} 95% limit but within the 99.8% limits: {diff} is unlikely to be {chance}"
            else:
                where = f"lies {side} 99.8% limit: {diff} is very unlikely to be {chance}"
        second = f"{who} {where}."
    pos = out["position"]
    above, below = int((pos == POSITIONS[3]).sum()), int((pos == POSITIONS[4]).sum())
    widened = ", limits widened for overdispersion" if adjusted else ""
    third = (f"Of all {n:,}, {above:,} lie{'s' if above == 1 else ''} above the upper 99.8% limit and {below:,} "
             f"below the lower{widened}.")
    return " ".join([first, second, third])


def funnel_chart(data: pd.DataFrame, *, comparator: float, comparator_name: str, method: str, multiplier: float,
                 title: str, subtitle: str, unit: str, decimals: int, source: str, la_name: str, x_label: str,
                 start_at_zero: bool | None = None, adjust: bool = True, fmt: str | None = None) -> Chart:
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
        What the denominator counts (``"Children aged 0-17"``): the x axis title (``"(log scale)"`` is added).
    start_at_zero : bool or None, default None
        As for :func:`trend_chart`: None starts the value axis at zero only where the values lie near it.
    adjust : bool, default True
        Widen the limits for overdispersion where Spiegelhalter's test finds it
        (:func:`analysis.stats.funnel.funnel`); False: Poisson or binomial limits whatever the test says.
    fmt : str, optional
        ``"svg"`` (the default) or ``"png"``.

    Returns
    -------
    Chart
        ``kind="funnel"``; ``data`` is every LA's row with a ``position`` column (see :func:`funnel_positions`);
        ``caption`` says which limits are drawn and why, with the test's numbers.

    Notes
    -----
    Other LAs are small light-grey dots, the LA a larger dark-blue dot labelled with its name and value (placed
    clear of every other dot), the comparator a solid line, the 95% limits dashed and the 99.8% limits dotted,
    computed on 200 denominators spaced geometrically across the axis; the lines are labelled at their right
    ends. The denominator axis is logarithmic, so that small and large authorities spread across the width.
    """
    return _chart(_funnel_figure, "funnel", fmt, data, comparator=comparator, comparator_name=comparator_name,
                  method=method, multiplier=multiplier, title=title, subtitle=subtitle, unit=unit,
                  decimals=decimals, source=source, la_name=la_name, x_label=x_label,
                  start_at_zero=start_at_zero, adjust=adjust)


def funnel(data: pd.DataFrame, *, comparator: float, comparator_name: str, method: str, multiplier: float,
           title: str, subtitle: str, unit: str, decimals: int, source: str, la_name: str, x_label: str,
           start_at_zero: bool | None = None, adjust: bool = True) -> ChartFigure:
    """The funnel plot of :func:`funnel_chart` as a matplotlib Figure (a :class:`ChartFigure`); same arguments."""
    return _figure(_funnel_figure, "funnel", data, comparator=comparator, comparator_name=comparator_name,
                   method=method, multiplier=multiplier, title=title, subtitle=subtitle, unit=unit,
                   decimals=decimals, source=source, la_name=la_name, x_label=x_label,
                   start_at_zero=start_at_zero, adjust=adjust)


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
        ``kind`` ``"small multiples"``; the alt text names each panel's latest value. Its narrow layout (for
        small screens) has two columns.
    """
    frame = _check_frame(data, ("panel", "time_period", "role", "value", "decimals"), "small_multiples")
    panels = list(dict.fromkeys(frame["panel"]))
    words = dict(title=title, subtitle=subtitle, source=source, la_name=la_name)
    drawn = [_panel(frame[frame["panel"] == panel], panel) for panel in panels]  # once for both layouts
    with _style():  # matplotlib reads the style as each artist is made
        image, mime, size = render(_multiples_figure(drawn, width=FIG_WIDTH, columns=columns, **words))
        narrow, _, narrow_size = render(_multiples_figure(drawn, width=NARROW_WIDTH, columns=min(columns, 2),
                                                          **words))
    said = [f"{p['panel']}: {p['label']} in {p['last'][0]}" for p in drawn if p["last"]]
    alt = (f"{len(panels)} small charts, one per indicator, of {_possessive(la_name)} figures over time beside "
           f"England's. Latest: " + "; ".join(said) + ".")
    return Chart(title=title, subtitle=subtitle, alt=alt, data=frame, image=image, kind="small multiples",
                 mime=mime, size=size, narrow=narrow, narrow_size=narrow_size)


def _panel(p: pd.DataFrame, panel: str) -> dict:
    """One panel's lines (x positions by period, values; England first, the LA on top) and the LA's latest point
    and its label, from the panel's tidy rows."""
    periods = sorted(p["time_period"].astype(str).unique())
    x = {t: i for i, t in enumerate(periods)}
    lines = []
    for role in ("england", "la"):
        s = p[p["role"] == role].sort_values("time_period")
        lines.append((role, [x[str(t)] for t in s["time_period"]], s["value"].astype(float).to_numpy()))
    la = p[(p["role"] == "la") & p["value"].notna()].sort_values("time_period")
    last = (str(la["time_period"].iloc[-1]), x[str(la["time_period"].iloc[-1])], float(la["value"].iloc[-1])) \
        if len(la) else None
    label = _text(last[2], int(p["decimals"].iloc[0])) if last else ""
    return {"panel": panel, "periods": periods, "lines": lines, "last": last, "label": label}


def _multiples_figure(drawn: list[dict], *, width: float, columns: int, title: str, subtitle: str, source: str,
                      la_name: str) -> Figure:
    """The small multiples ``width`` inches wide in ``columns`` columns (four wide, two in the narrow layout, the
    text the same size): the header and footer as on every chart, each panel (:func:`_panel`) titled with its
    name wrapped to its column."""
    rows = max(1, -(-len(drawn) // columns))
    fig = Figure(figsize=(width, 1.9 * rows + 1.2), dpi=DPI)
    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    note = f"{la_name}: dark line; England: grey line. {_source_line(source)}"
    top, bottom = _frame_texts(fig, title, subtitle, [note], min_plot=1.9 * rows)
    w, h, dpi = fig.bbox.width, fig.bbox.height, fig.dpi
    left, right, title_room, tick_room = 0.55 * dpi, 0.5 * dpi, 0.45 * dpi, 0.3 * dpi  # tick labels, end labels
    wspace = 0.45
    grid = fig.add_gridspec(rows, columns, left=left / w, right=1 - right / w, top=(top - title_room) / h,
                            bottom=(bottom + tick_room) / h, hspace=0.75, wspace=wspace)
    panel_px = (w - left - right) / (columns + wspace * (columns - 1))
    title_prop = FontProperties(family="DejaVu Sans", size=7.5)
    style = {"england": ("#8a8a8a", 1.2, None), "la": ("#12436d", 2.0, "o")}
    for k, p in enumerate(drawn):
        ax = fig.add_subplot(grid[k // columns, k % columns])
        for role, xs, ys in p["lines"]:
            colour, line, marker = style[role]
            ax.plot(xs, ys, color=colour, lw=line, marker=marker, ms=2.5)
        if p["last"]:
            ax.annotate(p["label"], p["last"][1:], xytext=(3, 3), textcoords="offset points", fontsize=7.5,
                        color="#12436d")
        # y given: the title sits just above the axes, where matplotlib would put it, without measuring the tick
        # labels at every drawing to check (no offset text at the top of the value axis to avoid)
        ax.set_title(_wrap(str(p["panel"]), title_prop, panel_px * (1 + 0.8 * wspace), renderer),
                     fontproperties=title_prop, loc="left", y=1.0)
        ax.ticklabel_format(axis="y", useOffset=False)
        periods = p["periods"]
        ax.set_xticks([0, len(periods) - 1] if len(periods) > 1 else [0])
        ax.set_xticklabels([periods[0], periods[-1]] if len(periods) > 1 else periods, fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig
