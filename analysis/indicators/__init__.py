"""Indicators: the registry, computed rates, benchmarking and local figures, over the observations a folder holds.

``analysis.indicators`` is the folder-to-table API an analyst calls (``indicators.load``, ``indicators.compute``):
:mod:`.dataset` holds the registry, :func:`load` (reading a folder with the registry), :func:`compute` and
:func:`inventory`; :mod:`.benchmark` compares each LA with its neighbours, region and England; :mod:`.local` turns
record-level counts into in-year rows of the same table. Reading the folder itself is :mod:`analysis.read.folder`,
whose names (:class:`Dataset`, :func:`data_files`, :func:`check_aggregates`, ...) are importable from here too.
"""

from analysis.indicators.dataset import (CI_COLUMNS, METHODS, POLARITIES, REGISTRY_FILE, REQUIRED_FIELDS, THEMES,
                                         compute, inventory, load, registry, registry_frame, sort_rows)
from analysis.read.folder import (AGGREGATE_DISAGREES, DATA_SUFFIXES, INVENTORY_COLUMNS, OBS_KEY, STATUSES, Dataset,
                                  check_aggregates, data_files, is_demo_folder, lait_measures)

__all__ = ["AGGREGATE_DISAGREES", "CI_COLUMNS", "DATA_SUFFIXES", "INVENTORY_COLUMNS", "METHODS", "OBS_KEY", "POLARITIES",
           "REGISTRY_FILE", "REQUIRED_FIELDS", "STATUSES", "THEMES", "Dataset", "check_aggregates", "compute",
           "data_files", "inventory", "is_demo_folder", "lait_measures", "load", "registry", "registry_frame",
           "sort_rows"]
