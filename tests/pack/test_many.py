"""Packs for many LAs share one reading of the folder and one benchmarked national table.

``needs pack --la A B C`` (and ``--la all``) reads the data folder and benchmarks the national table once, before
the worker processes fork; each LA's pack only attaches its own targets. These tests count the reading and the
benchmarking across the forked workers (through a file, since each worker is its own process) and check that the
packs come out exactly as the one-LA path builds them. Tiny fixture notebooks keep them quick: each saves the LA's
rows of the benchmarked table (with the target columns) to the workbook.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import openpyxl
import pytest

from conftest import ROOT

LAS = ["Stockton-on-Tees", "Darlington", "Hartlepool"]  # Stockton-on-Tees has targets (targets/), the others none

ROWS = ('rows = ctx.table[ctx.table["area_code"] == ctx.la_code]\n'
        'cols = ["indicator", "time_period", "value", "sn_mean", "rank", "vs_england", "trend", "target", '
        '"target_year", "target_status", "target_direction"]\n'
        'ctx.register("{name}", rows[cols].astype(str).reset_index(drop=True), title="The LA\'s rows")')


def write_notebook(path: Path, *extra_cells: str) -> Path:
    real = nbformat.read(ROOT / "notebooks" / "00_summary.ipynb", as_version=4)
    params = next(c for c in real.cells if "parameters" in c.metadata.get("tags", []))
    load = ("from analysis.pack import report\n"
            "ctx = report.load(la=la, year=year, data_dir=data_dir, table_cache=table_cache, output_dir=output_dir)\n"
            'report.title(ctx, "Fixture")')
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["needs"] = {"title": path.stem.split("_", 1)[-1].capitalize()}
    nb.cells = [params, nbformat.v4.new_code_cell(load)] + [nbformat.v4.new_code_cell(s) for s in extra_cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebooks(tmp_path) -> Path:
    folder = tmp_path / "notebooks"
    write_notebook(folder / "01_rows.ipynb", ROWS.format(name="la_rows"))
    write_notebook(folder / "02_more.ipynb", ROWS.format(name="la_rows_again"), 'print("second page")')
    return folder


@pytest.fixture
def counted(tmp_path, monkeypatch) -> Path:
    """Count every reading of a folder and every benchmarking of a table, in this process and its forks."""
    from analysis import indicators
    from analysis.indicators import benchmark

    log = tmp_path / "calls.log"

    def counting(name, func):
        def wrapper(*args, **kwargs):
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(name + "\n")
            return func(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(indicators, "load", counting("load", indicators.load))
    monkeypatch.setattr(benchmark, "benchmark", counting("benchmark", benchmark.benchmark))
    return log


def calls(log: Path) -> dict:
    lines = log.read_text("utf-8").split() if log.is_file() else []
    return {name: lines.count(name) for name in ("load", "benchmark")}


def workbook(path: Path) -> dict:
    wb = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def manifest(folder: Path) -> dict:
    """The manifest without what differs between any two builds: when, how long, how many kernels at once."""
    m = json.loads((folder / "manifest.json").read_text("utf-8"))
    for key in ("built", "seconds", "kernels"):
        m.pop(key)
    for nb in m["notebooks"].values():
        nb.pop("seconds")
    return m


def test_many_las_read_and_benchmark_once_and_match_the_one_la_packs(tmp_path, notebooks, counted):
    from analysis.demo import ensure_demo_data
    from analysis.pack import PackParams, build_many, build_pack

    ensure_demo_data()
    shared = tmp_path / "shared"
    results = build_many([PackParams(la=la, year=2024, out=str(shared), notebooks=str(notebooks)) for la in LAS],
                         jobs=2, progress=False)
    assert [(la, error) for la, _, error in results] == [(la, "") for la in LAS]
    assert calls(counted) == {"load": 1, "benchmark": 1}, "the folder was read or benchmarked more than once"

    one = tmp_path / "one"
    for la in LAS:
        build_pack(PackParams(la=la, year=2024, out=str(one), notebooks=str(notebooks)))
    assert calls(counted) == {"load": 1 + len(LAS), "benchmark": 1 + len(LAS)}  # the one-LA path: once per pack

    for la in LAS:
        slug = la.lower()
        a, b = shared / slug / "2024", one / slug / "2024"
        sheets = workbook(a / "tables.xlsx")
        assert sheets == workbook(b / "tables.xlsx"), f"{la}: the workbooks differ"
        assert manifest(a) == manifest(b), f"{la}: the manifests differ"
        for page in ("index.html", "01_rows.html", "02_more.html"):
            assert (a / page).read_text("utf-8") == (b / page).read_text("utf-8"), f"{la}: {page} differs"
        # each LA's own targets, and only its own: Stockton-on-Tees sets some (targets/), the others none
        statuses = {row[9] for row in sheets["la_rows"][1:] if row and len(row) > 9}
        if la == "Stockton-on-Tees":
            assert {"on track", "off track"} <= statuses, statuses
        else:
            assert not statuses & {"on track", "off track"}, statuses


def test_a_folder_that_cannot_be_read_fails_every_la_in_one_line(tmp_path, notebooks):
    from analysis.pack import PackParams, build_many

    missing = tmp_path / "no-such-folder"
    results = build_many([PackParams(la=la, year=2024, data_dir=str(missing), out=str(tmp_path / "out"),
                                     notebooks=str(notebooks)) for la in LAS[:2]], jobs=2, progress=False)
    assert [(la, folder) for la, folder, _ in results] == [(la, "") for la in LAS[:2]]
    assert all(error == f"data folder not found: {missing}" for _, _, error in results), results


def test_a_pack_adopts_the_kernels_started_ahead_and_leaves_none_running(tmp_path, notebooks, monkeypatch):
    from analysis.demo import ensure_demo_data
    from analysis.pack import build

    ensure_demo_data()
    adopted = []
    adopt = build._adopt_prestarted
    monkeypatch.setattr(build, "_adopt_prestarted", lambda cwd, n: adopted.extend(adopt(cwd, n)) or list(adopted))
    build.prestart_kernels(str(notebooks), 2)  # as `needs pack` does before it reads the folder
    ahead = [holder for _, _, holder in build._PRESTARTED]
    assert len(ahead) == 2
    folder = build.build_pack(build.PackParams(la="Darlington", year=2024, out=str(tmp_path / "out"),
                                               notebooks=str(notebooks)), kernels=2)
    assert (folder / "01_rows.html").is_file() and (folder / "02_more.html").is_file()
    assert json.loads((folder / "manifest.json").read_text("utf-8"))["kernels"] == 2
    assert len(adopted) == 2 and {id(k) for k in adopted} == {id(h["kernel"]) for h in ahead}
    assert build._PRESTARTED == []
    assert not any(k.km.is_alive() for k in adopted), "a kernel started ahead is still running"
    assert not any(h["folder"].exists() for h in ahead)

    # kernels started ahead for a pack that never comes (bad parameters, a pack up to date) are shut down
    build.prestart_kernels(str(notebooks), 1)
    (_, thread, holder), = build._PRESTARTED
    build.close_prestarted()
    assert build._PRESTARTED == [] and not holder["kernel"].km.is_alive() and not holder["folder"].exists()
