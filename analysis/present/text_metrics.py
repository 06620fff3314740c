"""Text measured once per process: matplotlib's text metrics remembered across figures and renderers.

Measuring a string (FreeType lays out every glyph) is the slowest step in building and drawing the charts: each
chart is built in two layouts and drawn to SVG, and each of those measures the same titles, tick labels and area
names again, because matplotlib remembers metrics only per renderer, and every figure has its own. :func:`install`
makes the two measuring methods (the Agg renderer's, which lays charts out, and the one SVG output uses) remember
their results for the whole process, keyed by everything the result depends on: the string, the font properties,
math or not, the resolution, and the settings that choose and scale the font. The numbers are the ones matplotlib
computes; only the repeats are skipped.
"""

from __future__ import annotations

import matplotlib as mpl
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.textpath import TextToPath

#: The settings a measurement depends on besides its arguments: which font a family name finds, hinting and
#: kerning, and the math fonts.
_SETTINGS = tuple(k for k in mpl.rcParams if k.startswith(("font.", "mathtext."))) + (
    "text.hinting", "text.hinting_factor", "text.kerning_factor")

#: Remembered measurements; cleared when full (a pack measures a few thousand distinct strings).
_CACHE: dict = {}
_LIMIT = 100_000


def _settings() -> tuple:
    rc = mpl.rcParams
    get = dict.__getitem__  # the stored (validated) values, without RcParams' per-key lookup
    return tuple(tuple(v) if isinstance(v, list) else v for v in (get(rc, k) for k in _SETTINGS))


def _remembering(method, kind: str):
    def measure(self, s, prop, ismath):
        if ismath == "TeX":  # LaTeX runs outside matplotlib: not remembered
            return method(self, s, prop, ismath)
        key = (kind, s, hash(prop), ismath, getattr(self, "dpi", None), _settings())
        found = _CACHE.get(key)
        if found is None:
            if len(_CACHE) >= _LIMIT:
                _CACHE.clear()
            found = _CACHE[key] = method(self, s, prop, ismath)
        return found

    measure.__wrapped__ = method
    measure.__doc__ = method.__doc__
    return measure


def install() -> None:
    """Make text measurement remember its results for the process (once; calling again does nothing)."""
    for cls, kind in ((RendererAgg, "agg"), (TextToPath, "path")):
        method = cls.get_text_width_height_descent
        if not hasattr(method, "__wrapped__"):
            cls.get_text_width_height_descent = _remembering(method, kind)
