"""The indicator registry, and the indicator table: observations with values and confidence intervals.

An indicator is data, not code: :func:`registry` reads ``indicators.yaml``; every chart, table and sentence reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import neighbours as neighbours_mod
from . import population, rates, sources
from .config import PACKAGE_DIR
from .errors import InputError, ParameterError

REGISTRY_FILE = PACKAGE_DIR / "indicators.yaml"
REQUIRED_FIELDS = ["title", "short_title", "theme", "unit", "multiplier", "method", "polarity", "decimals", "source",
                   "numerator", "denominator", "period", "definition"]
METHODS = {"rate", "proportion"}
POLARITIES = {"low_is_good", "high_is_good", "none"}
THEMES = {
    "children_in_need": "Children in need",
    "child_protection": "Child protection",
    "looked_after": "Children looked after",
    "missing": "Missing from care",
    "neet": "NEET and not known (16-17)",
    "care_leavers": "Care leavers",
}
CI_COLUMNS = ["value", "lower_95", "upper_95", "lower_99_8", "upper_99_8"]


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


def _registry_frame(reg: dict) -> pd.DataFrame:
    fields = ["title", "short_title", "theme", "unit", "multiplier", "method", "polarity", "decimals", "source",
              "period", "definition", "outcome"]
    frame = pd.DataFrame([{f: e.get(f, "") for f in fields} for e in reg.values()], index=list(reg))
    frame.index.name = "indicator"
    frame["order"] = np.arange(len(frame))
    return frame


@dataclass
class Dataset:
    """Everything read from one data folder."""

    data_dir: Path
    observations: pd.DataFrame
    populations: pd.DataFrame
    neighbours: pd.DataFrame
    files: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    is_demo: bool = False
    vintage: str = "release"

    @property
    def data_kind(self) -> str:
        return "demo" if self.is_demo else "published"


def is_demo_folder(data_dir: Path) -> bool:
    """True for a folder written by :mod:`analysis.demo` (its stamp, or its README's notice)."""
    from .demo import DEMO_NOTICE, STAMP_FILE

    readme = Path(data_dir) / "README.md"
    return (Path(data_dir) / STAMP_FILE).exists() or (readme.is_file() and DEMO_NOTICE in readme.read_text("utf-8"))


def data_files(data_dir: Path) -> list[Path]:
    """The CSV files of a data folder (``*.csv`` and ``*.csv.gz``), sorted by name."""
    return sorted(p for p in Path(data_dir).iterdir()
                  if p.is_file() and (p.name.lower().endswith(".csv") or p.name.lower().endswith(".csv.gz")))


def load(data_dir: str | Path, vintage: str = "release", reg: dict | None = None) -> Dataset:
    """Read every official file in a folder into observations, populations and the neighbour model.

    Parameters
    ----------
    data_dir : str or Path
        A folder of DfE/ONS CSVs (file names do not matter; layouts are recognised by their columns).
    vintage : {"release", "latest"}
        Which population estimates to divide by (see :mod:`analysis.population`).
    reg : dict, optional
        The registry; defaults to the package's.

    Returns
    -------
    Dataset

    Raises
    ------
    ParameterError
        The folder does not exist or holds no CSV files.
    InputError
        Any file fails validation (see :mod:`analysis.sources`).
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ParameterError(f"data folder not found: {data_dir}")
    paths = data_files(data_dir)
    if not paths:
        raise ParameterError(f"no CSV files in data folder {data_dir}")
    reg = reg or registry()
    is_demo = is_demo_folder(data_dir)
    kind = "demo" if is_demo else "published"
    obs, pops, neigh, files, warnings = [], [], [], [], []
    for path in paths:
        raw = sources.read_raw(path)
        layout = raw.layout.name
        info = {"file": path.name, "layout": layout, "publication": raw.layout.publication, "sha256": raw.sha256,
                "rows": len(raw.table)}
        if layout == "population":
            table = population.from_ons(raw)
            pops.append(table)
            info["release"] = str(int(table["vintage"].max()))
            info["years"] = f"mid-{int(table['time_period'].astype(int).min()) - 1} to mid-{int(table['time_period'].astype(int).max()) - 1}"
        elif layout == "sn_model":
            neigh.append(neighbours_mod.from_model(raw))
            info["release"] = ""
            info["years"] = ""
        else:
            o = sources.observations(raw, reg, data_kind=kind)
            obs.append(o)
            if layout == "cla_rates":
                pops.append(population.from_release(raw))
            years = raw.table["time_period"]
            info["release"] = str(years.astype(int).max()) if len(years) else ""
            info["years"] = f"{years.min()} to {years.max()}" if len(years) else ""
            info["indicators"] = ", ".join(sorted(o["indicator"].unique()))
        warnings.extend(raw.warnings)
        files.append(info)
    observations = pd.concat(obs, ignore_index=True) if obs else pd.DataFrame(columns=sources.OBS_COLUMNS)
    # The same indicator, area and year from two releases: the later release wins.
    observations = (observations.sort_values(["release"], kind="stable")
                    .drop_duplicates(["indicator", "geographic_level", "area_code", "time_period"], keep="last"))
    populations = population.combine(pops)
    observations = population.attach_denominators(observations, populations, vintage=vintage)
    observations = sort_rows(observations, reg)
    observations["indicator"] = pd.Categorical(observations["indicator"], categories=list(reg))
    neighbours = pd.concat(neigh, ignore_index=True) if neigh else pd.DataFrame(columns=neighbours_mod.NEIGHBOUR_COLUMNS)
    return Dataset(data_dir, observations.reset_index(drop=True), populations, neighbours, files, warnings, is_demo,
                   vintage)


def sort_rows(table: pd.DataFrame, reg: dict | None = None) -> pd.DataFrame:
    """Rows in reading order: indicator (registry order), England, regions, LAs (by code), then period."""
    order = registry_frame(reg)["order"]
    level = table["geographic_level"].map({"National": 0, "Regional": 1, "Local authority": 2}).fillna(3)
    keys = pd.DataFrame({"i": table["indicator"].map(order).fillna(len(order)), "l": level,
                         "a": table["area_code"], "p": table["period_end"]})
    return table.iloc[keys.sort_values(["i", "l", "a", "p"], kind="stable").index.to_numpy()].reset_index(drop=True)


def compute(obs: pd.DataFrame, reg: dict | None = None) -> pd.DataFrame:
    """Values and 95% / 99.8% confidence limits for every observation.

    Parameters
    ----------
    obs : pandas.DataFrame
        Observations with numerators and denominators (:data:`analysis.sources.OBS_COLUMNS`).
    reg : dict, optional
        The registry.

    Returns
    -------
    pandas.DataFrame
        A new table: the observations plus ``value, lower_95, upper_95, lower_99_8, upper_99_8, ci_method``.

    Notes
    -----
    Rates: exact Poisson limits below 10 events, Byar's method from 10; proportions: Wilson score limits
    (:mod:`analysis.rates`, after PHEindicatormethods). Limits are computed on the unit scale and multiplied, which
    is exact because both methods scale linearly.
    """
    frame = registry_frame(reg)
    codes, found = pd.factorize(obs["indicator"])
    found = pd.Index(np.asarray(found, dtype=object))
    mult = frame["multiplier"].reindex(found).to_numpy(dtype=float)[codes]
    method = frame["method"].reindex(found).to_numpy()[codes]
    num = obs["numerator"].to_numpy(dtype=float)
    den = obs["denominator"].to_numpy(dtype=float)
    cols = {c: np.full(len(obs), np.nan) for c in CI_COLUMNS}
    for kind, func in (("rate", rates.rate_arrays), ("proportion", rates.proportion_arrays)):
        m = method == kind
        if not m.any():
            continue
        value, limits, _ = func(num[m], den[m], 1.0)
        cols["value"][m] = value * mult[m]
        for col, arr in limits.items():
            cols[col][m] = arr * mult[m]
    # The method each row's limits used, as rates.rate_ci / proportion_ci name it (codes, not strings: cheap)
    known = ~np.isnan(num)
    code = np.select([known & (method == "proportion"), known & (method == "rate") & (num < 10),
                      known & (method == "rate")], [3, 1, 2], 0)
    out = obs.copy()
    for col in CI_COLUMNS:
        out[col] = cols[col]
    out["ci_method"] = pd.Categorical.from_codes(code, categories=["", "Exact", "Byars", "Wilson"])
    return out
