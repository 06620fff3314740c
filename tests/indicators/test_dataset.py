"""``analysis.indicators.dataset``: load reads a folder with the package's registry; names keep their old paths.

Reading the folder itself is tested in tests/read/test_folder.py. Expected figures come from the hand-made tables
written here or from the real B1 file (Stockton-on-Tees 2024: At31_episodes 2395, Started_episodes 2110).
"""

from __future__ import annotations

import pandas as pd

import analysis.indicators.dataset as dataset
from analysis import indicators
from analysis.read import folder
from conftest import B1_HEADER, b1_rows, write_csv

#: The names reading a folder brought with it when it moved to analysis.read.folder.
MOVED = ["AGGREGATE_DISAGREES", "DATA_SUFFIXES", "INVENTORY_COLUMNS", "OBS_KEY", "STATUSES", "Dataset",
         "check_aggregates", "data_files", "is_demo_folder", "lait_measures"]


def test_every_name_keeps_its_old_paths():
    assert set(MOVED) <= set(indicators.__all__)
    for name in indicators.__all__:
        assert getattr(dataset, name) is getattr(indicators, name), name
    for name in MOVED:
        assert getattr(indicators, name) is getattr(folder, name), name
    from analysis.indicators.dataset import Dataset, data_files, load  # noqa: F401  the old import lines
    assert load is indicators.load and Dataset is folder.Dataset and data_files is folder.data_files


def test_load_is_read_folder_with_the_package_registry(tmp_path):
    write_csv(tmp_path / "b1.csv", B1_HEADER, b1_rows())
    (tmp_path / "notes.csv").write_text("note,text\na,b\n")
    ds = indicators.load(tmp_path)
    direct = folder.read_folder(tmp_path, indicators.registry())
    assert isinstance(ds, folder.Dataset)
    pd.testing.assert_frame_equal(ds.observations, direct.observations)
    assert ds.warnings == direct.warnings and any(w.startswith("notes.csv: not recognised") for w in ds.warnings)
    pd.testing.assert_frame_equal(indicators.inventory(ds), indicators.inventory(direct))
    # b1_rows: Stockton-on-Tees 2400 children in need in 2024
    obs = ds.observations
    assert obs.loc[(obs["indicator"] == "cin_rate") & (obs["area_code"] == "E06000004"), "numerator"].item() == 2400


def test_inventory_is_one_row_per_file_in_its_columns(tmp_path):
    write_csv(tmp_path / "b1.csv", B1_HEADER, b1_rows())
    (tmp_path / "b1 (1).csv").write_bytes((tmp_path / "b1.csv").read_bytes())
    inv = indicators.inventory(indicators.load(tmp_path))
    assert list(inv.columns) == indicators.INVENTORY_COLUMNS
    assert list(inv["file"]) == ["b1 (1).csv", "b1.csv"]
    assert list(inv["status"]) == ["identical copy", "used"]


def test_sort_rows_in_the_package_registry_order_unless_given_another():
    obs = pd.DataFrame({"indicator": ["cla_rate", "cin_rate"], "geographic_level": ["National"] * 2,
                        "area_code": ["E92000001"] * 2, "period_end": pd.to_datetime(["2024-03-31"] * 2)})
    reg = indicators.registry()
    assert list(reg).index("cin_rate") < list(reg).index("cla_rate")
    assert list(indicators.sort_rows(obs)["indicator"]) == ["cin_rate", "cla_rate"]
    mine = {ind: reg[ind] for ind in ("cla_rate", "cin_rate")}
    assert list(indicators.sort_rows(obs, mine)["indicator"]) == ["cla_rate", "cin_rate"]
