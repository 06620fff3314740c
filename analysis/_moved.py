"""Old import paths of the modules that moved into the layer folders (release 0.2), kept for one release.

``import analysis.rates`` still works and gives :mod:`analysis.stats.rates` itself (the same module object, so
monkeypatching and ``isinstance`` behave), with a ``DeprecationWarning`` naming the new path. Notebooks outside the
project may import the old names; the project's own code and tests use the new ones.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

MOVED = {
    "areas": "read.areas", "files": "read.files", "neighbours": "read.neighbours", "population": "read.population",
    "records": "read.records", "returns": "read.returns", "returns_xml": "read.returns_xml",
    "sources": "read.sources",
    "compare": "stats.compare", "rates": "stats.rates", "suppression": "stats.suppression", "trends": "stats.trends",
    "benchmark": "indicators.benchmark", "local": "indicators.local",
    "charts": "present.charts", "export": "present.export", "narrative": "present.narrative",
    "report": "pack.report",
    "demo_returns": "demo.returns",
}


class _OldPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``analysis.<old name>`` and hands back the module at its new path."""

    def find_spec(self, fullname, path=None, target=None):
        old = fullname.partition("analysis.")[2]
        if fullname.startswith("analysis.") and old in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return None  # a placeholder; exec_module swaps in the real module

    def exec_module(self, module):
        new = "analysis." + MOVED[module.__name__.partition("analysis.")[2]]
        warnings.warn(f"{module.__name__} has moved to {new}; the old path will be removed in the next release",
                      DeprecationWarning, stacklevel=2)
        # The import system returns whatever sys.modules holds under the name once this returns.
        sys.modules[module.__name__] = importlib.import_module(new)


def install() -> None:
    if not any(isinstance(f, _OldPaths) for f in sys.meta_path):
        sys.meta_path.append(_OldPaths())
