"""The notebooks' parameters are defined once (analysis/pack/params.py) and every place that names them follows it:
the notebooks' parameters cells, ``report.load``, ``needs pack``'s options and parameters files, and the manifest."""

from __future__ import annotations

import inspect
import json
import re

import nbformat
import pytest

from analysis.errors import ParameterError
from analysis.pack import params, report
from conftest import ROOT, run_needs

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_has_the_one_parameters_cell_and_the_projects_kernel(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "one parameters cell"
    assert cells[0].source == params.parameters_cell(), "run `make notebooks` to write it from params.py"
    assert nb.metadata["kernelspec"]["name"] == "needs-analysis"


def test_the_parameters_cell_runs_and_gives_each_parameter_its_type_and_default():
    namespace: dict = {}
    exec(compile(params.parameters_cell(), "<cell>", "exec", dont_inherit=True), namespace)  # noqa: S102
    assert {k: namespace[k] for k in params.NAMES} == {"la": "Stockton-on-Tees", "year": 2024, "data_dir": "",
                                                       "neighbour_model": "", "confidence": 0.95, "targets": "",
                                                       "output_dir": "", "population": "release", "period": "",
                                                       "returns_dir": "", "table_cache": ""}
    annotations = namespace["__annotations__"]
    assert annotations["year"] is int and annotations["confidence"] is float and annotations["la"] is str


def test_make_notebooks_has_nothing_left_to_change(tmp_path):
    for p in NOTEBOOKS:
        (tmp_path / p.name).write_bytes(p.read_bytes())
    assert params.write_notebooks(tmp_path) == []
    # and it does rewrite a cell that has drifted
    nb = json.loads((tmp_path / NOTEBOOKS[0].name).read_text("utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    cell["source"] = ["year: int = 2023\n"]
    (tmp_path / NOTEBOOKS[0].name).write_text(json.dumps(nb), "utf-8")
    assert params.write_notebooks(tmp_path) == [tmp_path / NOTEBOOKS[0].name]
    assert nbformat.read(tmp_path / NOTEBOOKS[0].name, as_version=4).cells[0].source == params.parameters_cell()


def test_report_load_takes_exactly_the_parameters_with_their_defaults():
    sig = inspect.signature(report.load)
    assert set(sig.parameters) == set(params.NAMES)
    for p in params.PARAMETERS:
        assert sig.parameters[p.name].default == p.default, p.name


def test_collect_takes_the_parameters_from_a_namespace_and_nothing_else():
    ns = {"la": "808", "year": 2023, "confidence": 0.998, "ctx": object(), "frame": None}
    got = params.collect(ns)
    assert list(got) == list(params.NAMES)
    assert (got["la"], got["year"], got["confidence"], got["data_dir"]) == ("808", 2023, 0.998, "")


def test_notebook_values_are_typed_and_refuse_unknown_names():
    got = params.notebook_values(la="Stockton-on-Tees", year="2024", confidence="0.998")
    assert got["year"] == 2024 and isinstance(got["year"], int)
    assert got["confidence"] == 0.998 and got["population"] == "release"
    with pytest.raises(ParameterError, match="unknown notebook parameter.*yeer"):
        params.notebook_values(yeer=2024)


def test_pack_options_help_is_the_parameters_definition():
    result = run_needs("pack", "--help")
    assert result.returncode == 0
    text = re.sub(r"\s+", " ", result.stdout)
    for p in params.PARAMETERS:
        if p.option:
            assert p.option in text, p.option
            assert p.help in text, p.help


def test_a_parameters_file_with_an_unknown_key_fails_naming_it(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("la: Stockton-on-Tees\nyeer: 2024\n", "utf-8")
    result = run_needs("pack", "-f", f, "--out", tmp_path / "out")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("needs: error: run.yaml: unknown parameter 'yeer'"), lines
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_manifest_parameters_are_the_user_parameters():
    got = params.manifest_values({"la": "Stockton-on-Tees", "year": 2024}, la_code="E06000004")
    assert set(got) == {p.name for p in params.PARAMETERS if p.option} | {"la_code"}
    assert "table_cache" not in got and "output_dir" not in got
