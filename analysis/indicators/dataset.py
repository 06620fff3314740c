"""The indicator registry, and the indicator table: observations with values and confidence intervals.

An indicator is data, not code: :func:`registry` reads ``indicators.yaml``; every chart, table and sentence reads it.

:func:`load` reads a folder as analysts keep it (several releases of a table side by side, second downloads,
unrelated files) with the package's registry: the newest release wins for each figure, decided by content; files it
cannot use are one warning each; :func:`inventory` says what became of every file. The reading itself is
:func:`analysis.read.folder.read_folder`; its names (:class:`Dataset`, :func:`data_files`, :func:`check_aggregates`,
...) are importable from here as before. :func:`compute` gives every observation its value and confidence limits.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.read import folder, sources
# Reading a folder is analysis.read.folder's; its names stay importable from here, as they were before it moved.
from analysis.read.folder import (AGGREGATE_DISAGREES, DATA_SUFFIXES, INVENTORY_COLUMNS, OBS_KEY,  # noqa: F401
                                  STATUSES, Dataset, check_aggregates, data_files, is_demo_folder, lait_measures)
from analysis.stats import rates
from analysis.errors import InputError

REGISTRY_FILE = Path(__file__).resolve().parent / "indicators.yaml"
REQUIRED_FIELDS = ["title", "short_title", "theme", "unit", "multiplier", "method", "polarity", "decimals", "source",
                   "numerator", "denominator", "period", "definition"]
METHODS = {"rate", "proportion", "ratio", "published"}
POLARITIES = {"low_is_good", "high_is_good", "none"}
THEMES = {
    "children_in_need": "Children in need",
    "child_protection": "Child protection",
    "looked_after": "Children looked after",
    "missing": "Missing from care",
    "neet": "NEET and not known (16-17)",
    "care_leavers": "Care leavers",
    "early_years": "Early years",
    "education": "Education and SEND",
    "wider": "Health, poverty, youth justice and spend",
}
CI_COLUMNS = ["value", "lower_95", "upper_95", "lower_99_8", "upper_99_8"]


#: A sheet tab holds 31 characters: the registry's ``sheet_title`` and " trend".
SHEET_TITLE_MAX = 25


@lru_cache(maxsize=4)
def _load_registry(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        entries = yaml.safe_load(fh)
    for ind, entry in entries.items():
        missing = [f for f in REQUIRED_FIELDS if f not in entry]
        if missing:
            raise InputError(Path(path).name, f"indicator '{ind}' lacks {', '.join(missing)}")
        if entry["method"] not in METHODS:
            raise InputError(Path(path).name, f"indicator '{ind}': method '{entry['method']}'; expected rate or proportion")
        if entry["polarity"] not in POLARITIES:
            raise InputError(Path(path).name, f"indicator '{ind}': polarity '{entry['polarity']}'; expected "
                                              f"{', '.join(sorted(POLARITIES))}")
        if entry["source"] not in sources.LAYOUTS:
            raise InputError(Path(path).name, f"indicator '{ind}': source '{entry['source']}' is not a known layout")
        if entry["method"] == "published" and not (entry.get("lait") or entry.get("published")):
            raise InputError(Path(path).name, f"indicator '{ind}': method published needs a lait code or published")
        if len(str(entry.get("sheet_title", ""))) > SHEET_TITLE_MAX:
            raise InputError(Path(path).name, f"indicator '{ind}': sheet_title '{entry['sheet_title']}' is longer "
                                              f"than {SHEET_TITLE_MAX} characters")
        if entry["theme"] not in THEMES:
            raise InputError(Path(path).name, f"indicator '{ind}': theme '{entry['theme']}' is not one of {', '.join(THEMES)}")
    return entries


def registry(path: str | Path | None = None) -> dict:
    """The indicator registry: ``{id: entry}`` in the order of ``indicators.yaml``.

    Each entry has ``title, short_title, theme, unit, multiplier, method, polarity, decimals, source, numerator,
    denominator, published, period, definition, outcome`` (see the file's header for their meaning).
    """
    return _load_registry(str(path or REGISTRY_FILE))


def registry_frame(reg: dict | None = None) -> pd.DataFrame:
    """The registry as a table indexed by indicator id (scalar fields only)."""
    if reg is None or reg is registry():
        return _default_registry_frame().copy()
    return _registry_frame(reg)


@lru_cache(maxsize=1)
def _default_registry_frame() -> pd.DataFrame:
    return _registry_frame(registry())


def _methods(frame: pd.DataFrame) -> dict:
    """``{id: (multiplier, method)}`` from a registry table: what :func:`compute` needs of each indicator."""
    return dict(zip(frame.index, zip(frame["multiplier"], frame["method"])))


@lru_cache(maxsize=1)
def _package_methods() -> dict:
    """:func:`_methods` of the package's registry, read once."""
    return _methods(_default_registry_frame())


def _registry_frame(reg: dict) -> pd.DataFrame:
    fields = ["title", "short_title", "theme", "unit", "multiplier", "method", "polarity", "decimals", "source",
              "period", "definition", "outcome"]
    frame = pd.DataFrame([{f: e.get(f, "") for f in fields} for e in reg.values()], index=list(reg))
    frame.index.name = "indicator"
    frame["order"] = np.arange(len(frame))
    return frame


def load(data_dir: str | Path, vintage: str = "release", reg: dict | None = None, indicators=None,
         neighbour_model=None) -> Dataset:
    """Read every official file in a folder into observations, populations and the neighbour model.

    :func:`analysis.read.folder.read_folder` with the package's registry (or ``reg``): its parameters, result and
    errors, and how several folders, releases of one table, copies, unrelated files and population vintages are
    settled, are described there. What each file's content decides is kept for the life of the process when the
    registry is the package's own (it does not change between calls).
    """
    reg = reg or registry()
    return folder.read_folder(data_dir, reg, vintage=vintage, indicators=indicators, neighbour_model=neighbour_model,
                              cache=reg is registry())


def inventory(ds: Dataset) -> pd.DataFrame:
    """Every file in the folder a :class:`Dataset` was read from, and what became of it.

    Parameters
    ----------
    ds : Dataset
        From :func:`load`.

    Returns
    -------
    pandas.DataFrame
        One row per file (also those not recognised), sorted by file name, columns :data:`INVENTORY_COLUMNS`:
        ``file, layout, publication``; ``status`` (one of :data:`STATUSES`) and ``reason``; ``release`` (the latest
        period a table covers, a population file's vintage, the year a neighbour model names); ``periods`` (e.g.
        ``2013 to 2024``); ``areas`` (e.g. ``152 LAs, 9 regions, England``); ``indicators``; ``rows_used`` and
        ``rows_superseded`` (observations kept, and replaced by a newer release); ``sha256`` (first 12 hex
        characters).
    """
    return pd.DataFrame(ds.inventory_rows, columns=INVENTORY_COLUMNS)


def sort_rows(table: pd.DataFrame, reg: dict | None = None) -> pd.DataFrame:
    """Rows in reading order: indicator (registry order), England, regions, LAs (by code), then period.

    Works on positions, so any index (duplicated, not starting at 0) is fine; the result has a fresh index
    (:func:`analysis.read.folder.sort_rows` with the package's registry by default).
    """
    return folder.sort_rows(table, registry() if reg is None else reg)


#: The ``ci_method`` column's type: no method (no count), the exact Poisson method, Byar's, Wilson's.
_CI_METHODS = pd.CategoricalDtype(["", "Exact", "Byars", "Wilson"])


def compute(obs: pd.DataFrame, reg: dict | None = None) -> pd.DataFrame:
    """Values and 95% / 99.8% confidence limits for every observation.

    Parameters
    ----------
    obs : pandas.DataFrame
        Observations with numerators and denominators (:data:`analysis.read.sources.OBS_COLUMNS`).
    reg : dict, optional
        The registry.

    Returns
    -------
    pandas.DataFrame
        A new table: the observations plus ``value, lower_95, upper_95, lower_99_8, upper_99_8, ci_method``.

    Notes
    -----
    Rates: exact Poisson limits below 10 events, Byar's method from 10; proportions: Wilson score limits
    (:mod:`analysis.stats.rates`, after PHEindicatormethods). Limits are computed on the unit scale and multiplied, which
    is exact because both methods scale linearly.
    """
    fields = _package_methods() if reg is None or reg is registry() else _methods(_registry_frame(reg))
    codes, found = pd.factorize(obs["indicator"])
    each = [fields.get(ind, (np.nan, np.nan)) for ind in found.tolist()]  # one per indicator: compared once each
    mult = np.array([m for m, _ in each], dtype=float)[codes]
    kinds = np.array([k for _, k in each], dtype=object)
    num = obs["numerator"].to_numpy(dtype=float)
    den = obs["denominator"].to_numpy(dtype=float)
    n = len(obs)
    cols = {c: np.full(n, np.nan) for c in CI_COLUMNS}
    # the method each row's limits used, as analysis.stats.rates names it: "", Exact, Byars, Wilson
    code = np.zeros(n, dtype=np.int8)
    for kind, func in (("rate", rates.rate_limits), ("proportion", rates.proportion_limits)):
        m = (kinds == kind)[codes]
        if not m.any():
            continue
        value, limits = func(num[m], den[m], 1.0)
        scale = mult[m]
        cols["value"][m] = value * scale
        for col, arr in limits.items():
            cols[col][m] = arr * scale
        code[m] = np.where(num[m] < rates.BYARS_FROM, 1, 2) if kind == "rate" else 3
    code[np.isnan(num)] = 0
    ratio = (kinds == "ratio")[codes] & (den > 0)  # an average or spend per child: no sampling model, no limits
    cols["value"][ratio] = num[ratio] / den[ratio] * mult[ratio]
    if "value_basis" in obs.columns:  # a published figure and nothing to compute it from: the figure itself
        only = obs["value_basis"].eq(sources.PUBLISHED_ONLY).to_numpy(dtype=bool, na_value=False)
        cols["value"][only] = obs["published_value"].to_numpy(dtype=float)[only]
    cols["ci_method"] = pd.Categorical.from_codes(code, dtype=_CI_METHODS)
    if obs.index.is_unique and not any(col in obs.columns for col in cols):
        return pd.concat([obs, pd.DataFrame(cols, index=obs.index)], axis=1)  # no copy of the observations
    out = obs.copy()
    for col, arr in cols.items():
        out[col] = arr
    return out
