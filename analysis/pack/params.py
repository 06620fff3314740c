"""The notebooks' parameters, defined once.

One typed, commented definition (:data:`PARAMETERS`) feeds every place a parameter appears:

- the ``parameters`` cell of every notebook (:func:`parameters_cell`; ``make notebooks`` writes it, and a test checks
  each notebook's cell is exactly this);
- the values papermill injects when the pack runs the notebooks (:func:`notebook_values`);
- ``report.load`` in a notebook (:func:`collect` picks the parameters out of the notebook's namespace);
- the keys a ``needs pack --params FILE.yaml`` may hold (:func:`check_keys`) and the help of ``needs pack``'s options
  (:func:`help_for`);
- the ``parameters`` of the pack's ``manifest.json`` (:func:`manifest_values`).

Adding a parameter is one entry here (and a keyword of :func:`analysis.pack.report.load`, which a test checks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from analysis.errors import ParameterError


@dataclass(frozen=True)
class Parameter:
    """One notebook parameter.

    Attributes
    ----------
    name : str
        The notebook variable, the keyword of ``report.load``, the YAML key and the manifest key.
    type : type
        ``str``, ``int`` or ``float``: the annotation in the parameters cell.
    default : Any
        The value a notebook runs with when opened on its own (the demo data, Stockton-on-Tees, 2024).
    help : str
        One line: the comment in the parameters cell and the help of the command-line option.
    option : str
        The ``needs pack`` option that sets it (``""``: set by the pack itself, not by the user).
    """

    name: str
    type: type
    default: Any
    help: str
    option: str = ""

    def cell_line(self) -> str:
        """The line of the parameters cell: ``name: type = default   # help``."""
        value = json.dumps(self.default) if isinstance(self.default, str) else repr(self.default)
        return f"{self.name}: {self.type.__name__} = {value}".ljust(32) + f"# {self.help}"


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("la", str, "Stockton-on-Tees", "local authority: name, code (E06000004) or old code (808)", "--la"),
    Parameter("year", int, 2024, "report year: year ending 31 March (NEET: year of the Dec-Feb average)", "--year"),
    Parameter("data_dir", str, "", "folder of official DfE/ONS files (several: joined by os.pathsep); empty: the demo data",
              "--data-dir"),
    Parameter("neighbour_model", str, "", "neighbour model file; empty: the one in data_dir", "--neighbour-model"),
    Parameter("confidence", float, 0.95, "confidence for intervals and significance: 0.95 or 0.998", "--confidence"),
    Parameter("targets", str, "", "local targets YAML; empty: targets/<la-name>.yaml if any", "--targets"),
    Parameter("output_dir", str, "", "folder for the tables behind the charts; empty: none"),
    Parameter("population", str, "release", "denominators: release (as published) or latest (revised)",
              "--population"),
    Parameter("period", str, "", "quarterly run: a quarter such as 2025Q2, or latest; empty: annual pack", "--period"),
    Parameter("returns_dir", str, "", "quarterly run: folder of the LA's SSDA903 and CIN census extracts",
              "--returns"),
    Parameter("table_cache", str, "", "set by the pack so every page reads the data once; leave empty"),
)

BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}
NAMES: tuple[str, ...] = tuple(BY_NAME)

#: Keys a parameters file may hold besides the notebook parameters: options of the build itself, and the
#: command-line spelling of ``returns_dir``.
BUILD_KEYS: tuple[str, ...] = ("out", "jobs", "force", "notebooks", "returns")

_CELL_HEAD = "# Parameters: the pack (papermill) replaces these; change them here to explore another LA or year."


def parameters_cell() -> str:
    """The source of every notebook's ``parameters`` cell: typed, commented defaults that run as they are."""
    return "\n".join([_CELL_HEAD, *(p.cell_line() for p in PARAMETERS)])


def defaults() -> dict[str, Any]:
    """``{name: default}`` for every parameter."""
    return {p.name: p.default for p in PARAMETERS}


def collect(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters out of a notebook's namespace (``collect(globals())``), as keywords for ``report.load``.

    A parameter missing from the namespace takes its default.
    """
    return {p.name: namespace.get(p.name, p.default) for p in PARAMETERS}


def notebook_values(**values: Any) -> dict[str, Any]:
    """The values papermill injects: every parameter, in definition order, each of its declared type.

    Raises
    ------
    ParameterError
        A name that is not a parameter.
    """
    unknown = sorted(set(values) - set(NAMES))
    if unknown:
        raise ParameterError(f"unknown notebook parameter(s) {', '.join(unknown)}; expected {', '.join(NAMES)}")
    out = {}
    for p in PARAMETERS:
        v = values.get(p.name, p.default)
        out[p.name] = p.type(v) if v is not None else p.default
    return out


def manifest_values(values: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """The manifest's ``parameters``: every parameter the user sets (not those the pack sets for itself), plus
    ``extra`` (the LA's codes)."""
    return {**{p.name: values.get(p.name, p.default) for p in PARAMETERS if p.option}, **extra}


def check_keys(doc: Mapping[str, Any], source: str) -> None:
    """Refuse a parameters file with a key that is neither a parameter nor a build option (a typo would be ignored).

    Raises
    ------
    ParameterError
        Naming the file, the key and the keys expected.
    """
    allowed = {p.name for p in PARAMETERS if p.option} | set(BUILD_KEYS)
    unknown = [k for k in doc if k not in allowed]
    if unknown:
        raise ParameterError(f"{source}: unknown parameter '{unknown[0]}'; expected one of "
                             f"{', '.join(sorted(allowed))}")


def help_for(name: str, more: str = "") -> str:
    """The help of a parameter's command-line option: its one-line definition (and ``more``)."""
    text = BY_NAME[name].help
    return f"{text}{'; ' + more if more else ''}"


#: The kernel the notebooks declare: the project's environment, registered by ``make`` (``ipykernel install
#: --sys-prefix --name needs-analysis``), so that a shared JupyterLab runs them with this package installed.
KERNELSPEC = {"name": "needs-analysis", "display_name": "Needs analysis (project)", "language": "python"}


def write_notebooks(folder) -> list:
    """Rewrite each notebook's ``parameters`` cell from :data:`PARAMETERS` and declare :data:`KERNELSPEC`.

    Returns the notebooks changed (``make notebooks`` runs this; a test checks nothing is left to change).
    """
    from pathlib import Path

    changed = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        nb = json.loads(path.read_text("utf-8"))
        before = json.dumps(nb, sort_keys=True)
        for cell in nb["cells"]:
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                cell["source"] = parameters_cell().splitlines(keepends=True)
        nb.setdefault("metadata", {})["kernelspec"] = dict(KERNELSPEC)
        if json.dumps(nb, sort_keys=True) != before:
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", "utf-8")
            changed.append(path)
    return changed

