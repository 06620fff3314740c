"""Statistical-neighbour models: DfE's current layout and its older groupings layout, and choosing among several."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from analysis import indicators
from analysis.read import neighbours, sources
from analysis.errors import InputError, ParameterError
from conftest import B1_HEADER, SHARED_DATA, b1_rows, needs_shared, write_csv

MODEL = SHARED_DATA / "sn_model_2025_wide.csv"
# Twelve North East LAs by old code; each one's neighbours are the next ten round the ring (hand-made)
NE = ["390", "391", "392", "393", "394", "805", "806", "807", "808", "840", "841", "929"]
NE_NAMES = dict(zip(NE, ["Gateshead", "Newcastle upon Tyne", "North Tyneside", "South Tyneside", "Sunderland",
                         "Hartlepool", "Middlesbrough", "Redcar and Cleveland", "Stockton-on-Tees", "County Durham",
                         "Darlington", "Northumberland"]))
LABELS = ["Extremely close", "Very close", "Close", "Close", "Close", "Somewhat close", "Somewhat close",
          "Somewhat close", "Not close", "Not close"]


def ring(code):
    i = NE.index(code)
    return [NE[(i + k) % len(NE)] for k in range(1, 11)]


def write_current(path: Path) -> Path:
    header = ["old_la_code", "la_name", "region_ind", "region_name"]
    for k in range(1, 11):
        header += [f"SN_{k}", f"SN_{k}P"]
    rows = []
    for code in NE:
        r = [code, NE_NAMES[code], "1", "North East"]
        for n, label in zip(ring(code), LABELS):
            r += [n, label]
        rows.append(r)
    return write_csv(path, header, rows)


def write_groupings(path: Path, title=("Statistical neighbours: LA SN Groups", "Published April 2021"),
                    codes=None, repeated_snp=True, as_float=False) -> Path:
    """The older layout as the workbook's "LA SN Groups" sheet saves to CSV: title lines, LA num, SN1, SNP, ..."""
    codes = codes or {c: ring(c) for c in NE}
    header = ["LA num", "LA Name", "GOReg"]
    for k in range(1, 11):
        header += [f"SN{k}", "SNP" if repeated_snp else f"SN{k}P"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        for line in title:
            w.writerow([line] + [""] * (len(header) - 1))
        w.writerow(header)
        for code, near in codes.items():
            r = [f"{code}.0" if as_float else code, NE_NAMES.get(code, code), "North East"]
            for n, label in zip(near, LABELS):
                r += [f"{n}.0" if as_float else n, label]
            w.writerow(r)
        w.writerow([""] * len(header))  # the blank line under a spreadsheet's table
    return path


# Stockton-on-Tees (808, E06000004) in the real 2025 model: sn_model_2025_wide.csv, line 123, SN_1 .. SN_10 with
# every SN_kP "Very close". The nine-character codes of those old codes are the ones the ONS population file in the
# same folder gives them (ons_mid-year_population_estimates_2012_to_2024.csv, old_la_code and new_la_code).
STOCKTON_NEIGHBOURS = [("841", "E06000005", "Darlington"), ("332", "E08000027", "Dudley"),
                       ("888", "E10000017", "Lancashire"), ("390", "E08000037", "Gateshead"),
                       ("384", "E08000036", "Wakefield"), ("351", "E08000002", "Bury"),
                       ("840", "E06000047", "County Durham"), ("372", "E08000018", "Rotherham"),
                       ("894", "E06000020", "Telford and Wrekin"), ("344", "E08000015", "Wirral")]


def test_real_model_gives_stocktons_published_neighbours_nearest_first():
    needs_shared()
    table = neighbours.from_model(sources.read_raw(MODEL))
    assert len(table) == 153 * 10 and list(table.columns) == neighbours.NEIGHBOUR_COLUMNS
    st = neighbours.neighbours_of(table, "E06000004")
    assert list(st["neighbour_rank"]) == list(range(1, 11))
    assert list(zip(st["neighbour_old_code"], st["neighbour_code"], st["neighbour_name"])) == STOCKTON_NEIGHBOURS
    assert set(st["closeness"]) == {"Very close"}
    assert set(st["old_la_code"]) == {"808"} and set(st["area_name"]) == {"Stockton-on-Tees"}
    # the same list as the file holds it, read with the csv module
    with open(MODEL, encoding="utf-8-sig", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["old_la_code"] == "808")
    assert [row[f"SN_{k}"] for k in range(1, 11)] == [old for old, _, _ in STOCKTON_NEIGHBOURS]


def test_real_neighbours_of_stockton(real_dataset):
    """The folder's chosen model (the only one in ../shared/data/dfe) gives the same list."""
    names = neighbours.neighbours_of(real_dataset.neighbours, "E06000004")["neighbour_name"].tolist()
    assert names == [name for _, _, name in STOCKTON_NEIGHBOURS]
    assert names == ["Darlington", "Dudley", "Lancashire", "Gateshead", "Wakefield", "Bury", "County Durham",
                     "Rotherham", "Telford and Wrekin", "Wirral"]


@pytest.mark.parametrize("repeated_snp,as_float", [(True, False), (False, True)])
def test_groupings_read_to_the_same_neighbours_as_the_current_layout(tmp_path, repeated_snp, as_float):
    want = neighbours.from_model(sources.read_raw(write_current(tmp_path / "current.csv")))
    raw = neighbours.read_groupings(write_groupings(tmp_path / "older.csv", repeated_snp=repeated_snp,
                                                    as_float=as_float))
    got = neighbours.from_groupings(raw)
    assert len(got) == 120
    pd.testing.assert_frame_equal(got.drop(columns="source_file"), want.drop(columns="source_file"))
    stockton = neighbours.neighbours_of(got, "E06000004")
    assert list(stockton["neighbour_old_code"]) == ring("808")
    assert list(stockton["closeness"]) == LABELS


def test_real_model_saved_in_the_groupings_layout_reads_the_same(tmp_path):
    needs_shared()
    with open(MODEL, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 153
    path = tmp_path / "groupings.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Children's services statistical neighbour benchmarking tool"])
        w.writerow([])
        w.writerow(["LA num", "LA Name"] + [h for k in range(1, 11) for h in (f"SN{k}", "SNP")])
        for r in rows:
            w.writerow([r["old_la_code"], r["la_name"]] + [r[f"SN_{k}{p}"] for k in range(1, 11) for p in ("", "P")])
    got = neighbours.from_groupings(neighbours.read_groupings(path))
    want = neighbours.from_model(sources.read_raw(MODEL))
    pd.testing.assert_frame_equal(got.drop(columns="source_file"), want.drop(columns="source_file"))


def test_groupings_bad_code_is_located(tmp_path):
    path = write_groupings(tmp_path / "older.csv")
    text = path.read_text().replace("\n808,", "\nStockton,", 1)
    path.write_text(text)
    with pytest.raises(InputError, match=r"older.csv, column 'LA num', row 12: 'Stockton' is not a three-digit LA"):
        neighbours.from_groupings(neighbours.read_groupings(path))


def b1_folder(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    write_csv(folder / "cin.csv", B1_HEADER, b1_rows())
    return folder


def older_real_model(path: Path) -> Path:
    """The real 2025 model as an older model would have it: Cumbria (909) in place of Cumberland and Westmorland."""
    with open(MODEL, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for r in rows:
        code = "909" if r["old_la_code"] in ("942", "943") else r["old_la_code"]
        near = ["909" if r[f"SN_{k}"] in ("942", "943") else r[f"SN_{k}"] for k in range(1, 11)]
        near = [n for n in dict.fromkeys(near) if n != code]
        while len(near) < 10:
            near.append(next(c for c in NE if c not in near and c != code))
        out.setdefault(code, near)
    NE_NAMES.setdefault("909", "Cumbria")
    return write_groupings(path, title=("LA SN Groups 2021",), codes=out)


def test_newest_model_is_chosen_by_content_not_name(tmp_path):
    needs_shared()
    folder = b1_folder(tmp_path / "data")
    (folder / "a_model.csv").symlink_to(MODEL)
    older_real_model(folder / "sn_model_2099_latest.csv")
    ds = indicators.load(folder)
    assert ds.neighbour_model["file"] == "a_model.csv"
    assert ds.neighbour_model["layout"] == "sn_model"
    assert "153 LAs" in ds.neighbour_model["description"]
    inv = indicators.inventory(ds).set_index("file")
    assert inv.loc["sn_model_2099_latest.csv", "status"] == "not used (older model)"
    assert inv.loc["sn_model_2099_latest.csv", "layout"] == "sn_groupings"
    assert inv.loc["a_model.csv", "status"] == "used"
    assert not any("sn_model_2099" in w for w in ds.warnings)  # recognised, so no "unknown layout"
    assert "E06000063" in set(ds.neighbours["area_code"])  # Cumberland has neighbours


def test_named_model_is_used(tmp_path):
    needs_shared()
    folder = b1_folder(tmp_path / "data")
    (folder / "a_model.csv").symlink_to(MODEL)
    older_real_model(folder / "old.csv")
    ds = indicators.load(folder, neighbour_model="old.csv")
    assert ds.neighbour_model["file"] == "old.csv" and ds.neighbour_model["layout"] == "sn_groupings"
    assert "2021" in ds.neighbour_model["description"]
    assert "909" in set(ds.neighbours["old_la_code"])
    inv = indicators.inventory(ds).set_index("file")
    assert inv.loc["a_model.csv", "status"] == "not used (older model)"
    # a file outside the folder, by path
    outside = write_current(tmp_path / "ne_model.csv")
    ds = indicators.load(folder, neighbour_model=outside)
    assert ds.neighbour_model["file"] == "ne_model.csv"
    assert set(ds.neighbours["old_la_code"]) == set(NE)
    assert "ne_model.csv" in set(indicators.inventory(ds)["file"])


def test_named_model_must_exist_and_be_a_model(tmp_path):
    folder = b1_folder(tmp_path / "data")
    with pytest.raises(ParameterError, match="neighbour model file not found: nowhere.csv"):
        indicators.load(folder, neighbour_model="nowhere.csv")
    with pytest.raises(ParameterError, match=r"cin.csv is not a statistical-neighbour model \(it looks like "
                                             r"Characteristics of children in need, table B1\b"):
        indicators.load(folder, neighbour_model="cin.csv")
