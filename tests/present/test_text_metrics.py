"""Text measured once per process gives matplotlib's own measurements, never a stale one.

The reference is matplotlib itself: the measuring methods as matplotlib defines them (kept as ``__wrapped__``),
called afresh on a new renderer each time.
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from analysis.present import text_metrics

TEXTS = ["Children looked after", "534.8", "Stockton-on-Tees", "2023-24", "$10^{3}$"]


def fresh(cls, s, prop, ismath, *args):
    return cls.get_text_width_height_descent.__wrapped__(*args, s, prop, ismath)


def test_remembered_measurements_are_matplotlibs_own():
    text_metrics.install()
    text_metrics.install()  # twice: still one layer
    assert not hasattr(RendererAgg.get_text_width_height_descent.__wrapped__, "__wrapped__")
    for size, weight in ((10, "normal"), (13.5, "bold")):
        prop = FontProperties(family="DejaVu Sans", size=size, weight=weight)
        for s in TEXTS:
            ismath = s.startswith("$")
            for dpi in (72, 110):
                for _ in range(2):  # measured, then remembered
                    got = RendererAgg(800, 400, dpi).get_text_width_height_descent(s, prop, ismath)
                    assert got == fresh(RendererAgg, s, prop, ismath, RendererAgg(800, 400, dpi))
            got = RendererSVG(8, 4, io.StringIO()).get_text_width_height_descent(s, prop, ismath)
            assert got == fresh(TextToPath, s, prop, ismath, TextToPath())


def test_a_change_of_font_size_or_setting_is_measured_afresh():
    text_metrics.install()
    renderer = RendererAgg(800, 400, 110)
    small = FontProperties(family="DejaVu Sans", size=10)
    wide = renderer.get_text_width_height_descent("Darlington", small, False)[0]
    bigger = small.copy()
    bigger.set_size(20)
    assert renderer.get_text_width_height_descent("Darlington", bigger, False)[0] > 1.9 * wide
    small.set_size(20)  # the same object changed after it was measured
    assert renderer.get_text_width_height_descent("Darlington", small, False)[0] > 1.9 * wide
    with matplotlib.rc_context({"font.sans-serif": ["DejaVu Sans Mono"], "font.family": "sans-serif"}):
        generic = FontProperties(family="sans-serif", size=10)
        mono = renderer.get_text_width_height_descent("iiiiiiii", generic, False)
        assert mono == fresh(RendererAgg, "iiiiiiii", generic, False, RendererAgg(800, 400, 110))
    proportional = renderer.get_text_width_height_descent("iiiiiiii", FontProperties(family="sans-serif", size=10),
                                                          False)
    assert proportional[0] < mono[0]  # the monospaced i is wider: not served from the other setting
