"""A council's local targets: ``targets/<la-slug>.yaml`` read and checked into a table.

The file names its LA and lists targets by registry id (see ``targets/stockton-on-tees.yaml`` for the format). Which
ids exist is the registry's to say: the caller passes them in (:func:`analysis.indicators.registry`).
:mod:`analysis.indicators.benchmark` compares each figure with its target; ``benchmark.load_targets`` and
``benchmark.read_targets`` call these with the package's registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd
import yaml

from analysis.read import areas
from analysis.read.workbooks import end_year
from analysis.config import TARGETS_DIR
from analysis.errors import InputError

#: The columns of a targets table, in order.
TARGET_COLUMNS = ["area_code", "indicator", "target", "target_year", "direction", "baseline", "baseline_year",
                  "description", "source"]


def load_targets(la_name: str, known: Iterable[str], targets_dir: Path | None = None) -> pd.DataFrame:
    """An LA's local targets from ``targets/<la-slug>.yaml`` (empty if it has none).

    Parameters
    ----------
    la_name : str
        The LA's name; the file is named by its slug (``Stockton-on-Tees`` -> ``stockton-on-tees.yaml``).
    known : iterable of str
        The indicator ids a target may name (the registry, or its keys).
    targets_dir : Path, optional
        Where the files are; default the project's ``targets/``.

    Returns
    -------
    pandas.DataFrame
        :data:`TARGET_COLUMNS`: ``area_code, indicator, target, target_year, direction, baseline, baseline_year,
        description, source``.

    Raises
    ------
    InputError
        A target names an unknown indicator or has no number (see :func:`read_targets`).
    """
    path = Path(targets_dir or TARGETS_DIR) / f"{areas.slug(la_name)}.yaml"
    if not path.is_file():
        return pd.DataFrame(columns=TARGET_COLUMNS)
    return read_targets(path, known)


def read_targets(path: str | Path, known: Iterable[str]) -> pd.DataFrame:
    """Read a targets YAML file (see ``targets/stockton-on-tees.yaml`` for the format).

    Parameters
    ----------
    path : str or Path
        The file: ``la`` (a code or name) and ``targets``, a list of ``indicator, target, target_year, direction
        (lower or higher, default lower), baseline, baseline_year, description, source``.
    known : iterable of str
        The indicator ids a target may name (the registry, or its keys).

    Returns
    -------
    pandas.DataFrame
        :data:`TARGET_COLUMNS`, one row per target in the file's order.

    Raises
    ------
    InputError
        A target names an indicator not in ``known``, its target is not a number, its target year is not a year
        (``2026``, or a period such as ``2025-26``, read as the year it ends, as the table's periods are), or its
        direction is neither ``lower`` nor ``higher``; the message names the file, the target's position and the
        field. A target without a year stands in every year.
    ParameterError
        The file's ``la`` is not an LA (:func:`analysis.read.areas.resolve_la`).
    """
    path = Path(path)
    known = list(known)
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    la = areas.resolve_la(str(doc.get("la", "")))
    rows = []
    for i, t in enumerate(doc.get("targets", []), start=1):
        if t.get("indicator") not in known:
            raise InputError(path.name, f"target {i}: unknown indicator '{t.get('indicator')}'; expected one of "
                                        f"{', '.join(known)}", column="indicator")
        if not isinstance(t.get("target"), (int, float)):
            raise InputError(path.name, f"target {i} ({t['indicator']}): target must be a number", column="target")
        direction = t.get("direction", "lower")
        if direction not in ("lower", "higher"):
            raise InputError(path.name, f"target {i}: direction '{direction}'; expected lower or higher",
                             column="direction")
        year = str(t.get("target_year", "") or "").strip()
        if year:  # the year the target period ends, as the table's periods are: 2025-26 is 2026
            ended = end_year(year)
            if not ended:
                raise InputError(path.name, f"target {i} ({t['indicator']}): target_year '{year}'; expected a year "
                                            "such as 2026 or 2025-26", column="target_year")
            year = ended
        rows.append({"area_code": la["area_code"], "indicator": t["indicator"], "target": float(t["target"]),
                     "target_year": year, "direction": direction,
                     "baseline": t.get("baseline"), "baseline_year": str(t.get("baseline_year", "")),
                     "description": t.get("description", ""), "source": t.get("source", "")})
    return pd.DataFrame(rows, columns=TARGET_COLUMNS)
