"""Indicators: the registry, the observations read from a folder, computed rates, benchmarking and local figures.

``analysis.indicators`` is the folder-to-table API an analyst calls (``indicators.load``, ``indicators.compute``);
:mod:`.benchmark` compares each LA with its neighbours, region and England; :mod:`.local` turns record-level counts
into in-year rows of the same table.
"""

from analysis.indicators.dataset import (AGGREGATE_DISAGREES, CI_COLUMNS, DATA_SUFFIXES, INVENTORY_COLUMNS, METHODS,
                                         OBS_KEY, POLARITIES, REGISTRY_FILE, REQUIRED_FIELDS, STATUSES, THEMES, Dataset,
                                         check_aggregates, compute, data_files, inventory, is_demo_folder,
                                         lait_measures, load, registry, registry_frame, sort_rows)

__all__ = ["AGGREGATE_DISAGREES", "CI_COLUMNS", "DATA_SUFFIXES", "INVENTORY_COLUMNS", "METHODS", "OBS_KEY", "POLARITIES",
           "REGISTRY_FILE", "REQUIRED_FIELDS", "STATUSES", "THEMES", "Dataset", "check_aggregates", "compute",
           "data_files", "inventory", "is_demo_folder", "lait_measures", "load", "registry", "registry_frame",
           "sort_rows"]
