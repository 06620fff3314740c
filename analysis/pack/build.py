"""The evidence pack: execute the notebooks with papermill, render them to self-contained accessible HTML.

``needs pack --la Stockton-on-Tees --year 2024 --data-dir DIR`` writes ``outputs/stockton-on-tees/2024/`` (on the
demo data, ``outputs/demo/stockton-on-tees/2024/``):
``index.html`` and one page per notebook (no code, images embedded, nothing fetched from the network), ``tables.xlsx``
(one sheet per table behind the pages), ``manifest.json`` (parameters, inputs with SHA-256, versions, timings) and
``notebooks/`` (the executed notebooks: the audit record). A pack is built in a hidden folder and renamed into place,
so it appears complete or not at all; a failed build is kept beside it as ``<year>.failed`` with the failing notebook.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import pickle
import re
import platform
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from analysis import __version__
from analysis.read import areas, folder as folders
from analysis.present import export, narrative
from analysis.pack import params as nb_parameters
from analysis.config import NOTEBOOKS_DIR, OUTPUTS_DIR, PACKAGE_DIR
from analysis.read import files as files_mod
from analysis.errors import NeedsError, ParameterError

#: The pack runs the notebooks with the interpreter that runs ``needs`` (its ``python3`` kernel), whatever kernel the
#: notebooks declare for JupyterLab (``needs-analysis``: :data:`analysis.pack.params.KERNELSPEC`).
KERNEL = "python3"
#: Cells tagged so are for analysts in JupyterLab (the tidy table, a chart to restyle): the pack neither runs nor
#: shows them.
EXPLORE = "explore"
ANCHOR = re.compile(r'<a class="anchor-link" href="#[^"]*">[^<]*</a>')


class PackError(NeedsError):
    """A notebook failed while building a pack."""


@dataclass
class PackParams:
    """One pack's parameters, as the notebooks receive them (plus where to write)."""

    la: str
    year: int | str
    data_dir: str = ""
    neighbour_model: str = ""
    confidence: float = 0.95
    targets: str = ""
    population: str = "release"
    out: str = ""
    notebooks: str = ""
    period: str = ""
    returns_dir: str = ""
    force: bool = False
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------------------------
# Parameters


def read_params_file(path: str | Path) -> dict:
    """Parameters from YAML, read so that every value stays a string (codes like 808, dates, years).

    Numbers the pack needs as numbers (``year``, ``confidence``) are converted where they are used.
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"parameters file not found: {path}")
    with open(path, encoding="utf-8") as fh:
        try:
            doc = yaml.load(fh, Loader=yaml.BaseLoader)  # BaseLoader: no implicit types, so 0808 stays "0808"
        except yaml.YAMLError as exc:
            raise ParameterError(f"{path.name}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise ParameterError(f"{path.name}: expected 'name: value' lines")
    return doc


def _as_year(value) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise ParameterError(f"year '{value}' is not a year; expected e.g. 2024") from None


def _as_confidence(value) -> float:
    try:
        c = float(str(value).strip().rstrip("%"))
    except ValueError:
        raise ParameterError(f"confidence '{value}' is not a number; expected 0.95 or 0.998") from None
    c = c / 100 if c > 1 else c
    if c not in (0.95, 0.998):
        raise ParameterError(f"confidence must be 0.95 or 0.998, not {value}")
    return c


def notebook_paths(folder: str | Path = "") -> list[Path]:
    folder = Path(folder) if folder else NOTEBOOKS_DIR
    paths = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if not paths:
        raise ParameterError(f"no notebooks in {folder}")
    return paths


def check_writable(folder: Path) -> None:
    """Raise a one-line :class:`ParameterError` unless ``folder`` (or its nearest existing parent) can be written.

    Checked by creating and removing a temporary file, which is what the build will do, so permissions, read-only
    mounts and full disks are all caught before any notebook runs.
    """
    probe_dir = Path(folder)
    while not probe_dir.exists() and probe_dir.parent != probe_dir:
        probe_dir = probe_dir.parent
    try:
        with tempfile.NamedTemporaryFile(dir=probe_dir, prefix=".needs-write-check-"):
            pass
    except OSError as exc:
        raise ParameterError(f"cannot write to output folder {folder} ({exc.strerror or exc}); "
                             "expected a folder you can write to (--out)") from None


def clear_stale_builds(parent: Path, name: str) -> list[Path]:
    """Remove hidden build folders left by a killed build of ``name`` (their process is no longer running).

    Returns the folders removed. A folder whose process is still alive (another build running now) is left alone.
    """
    removed = []
    if not parent.is_dir():
        return removed
    for stale in parent.glob(f".{name}.*-*"):
        kind, _, pid = stale.name.rpartition("-")
        if not (kind.endswith(".building") or kind.endswith(".old")) or not pid.isdigit():
            continue
        if int(pid) != os.getpid() and _alive(int(pid)):
            continue
        shutil.rmtree(stale, ignore_errors=True)
        removed.append(stale)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def validate(params: PackParams, national: dict | None = None) -> dict:
    """Check every parameter before any notebook runs; return the context data to share with the notebooks.

    ``national`` (:func:`national_data`) is the folder read and benchmarked already, shared by many LAs' packs.

    Raises
    ------
    ParameterError
        Unknown LA, a year with no data, a missing data folder, an output folder that is a file, ...
    """
    from analysis.pack.report import build_context_data

    out_root = Path(params.out) if params.out else OUTPUTS_DIR
    if out_root.exists() and not out_root.is_dir():
        raise ParameterError(f"output folder {out_root} is a file; expected a folder")
    check_writable(out_root)
    check_data_dirs(params.data_dir)
    if params.targets and not Path(params.targets).is_file():
        raise ParameterError(f"targets file not found: {params.targets}")
    if params.returns_dir and not Path(params.returns_dir).is_dir():
        raise ParameterError(f"returns folder not found: {params.returns_dir}")
    notebook_paths(params.notebooks)
    return build_context_data(params.la, params.year, params.data_dir, params.neighbour_model, params.targets,
                              params.population, params.confidence, params.period, params.returns_dir,
                              national=national)


def check_data_dirs(data_dir) -> None:
    """Every folder ``data_dir`` names (one, a list, or joined by os.pathsep) exists, or a one-line error names it."""
    for folder in folders.data_folders(data_dir) if data_dir else []:
        if not folder.is_dir():
            raise ParameterError(f"data folder not found: {folder}")


def national_data(params: PackParams) -> dict:
    """The data folder read and its national table benchmarked once (no targets), for every LA's pack to share.

    Packs with the same data folder, neighbour model, population and confidence share it (:func:`validate`
    attaches each LA's targets, year and returns to it). Raises as :func:`validate` would for the folder.
    """
    from analysis.pack.report import national_data as national

    check_data_dirs(params.data_dir)
    return national(params.data_dir, params.neighbour_model, params.population, params.confidence)


# --------------------------------------------------------------------------------------------------------------------
# HTML


CSS = """
:root { --text: #0b0c0c; --muted: #505a5f; --link: #1d70b8; --border: #b1b4b6; --focus: #ffdd00; }
* { box-sizing: border-box; }
body { font-family: Arial, "Helvetica Neue", Helvetica, sans-serif; color: var(--text); background: #fff; margin: 0;
       line-height: 1.5; font-size: 1.05rem; }
a { color: var(--link); } a:visited { color: #4c2c92; }
a:focus { outline: 3px solid var(--focus); background: var(--focus); color: var(--text); }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; z-index: 10; }
header.site { background: #12436d; color: #fff; padding: 0.8rem 1.5rem; }
header.site p { margin: 0; font-weight: bold; } header.site a { color: #fff; }
nav.sections { background: #f3f2f1; border-bottom: 1px solid var(--border); padding: 0.4rem 1.5rem; }
nav.sections ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.3rem 1.2rem; }
nav.sections a[aria-current="page"] { font-weight: bold; color: var(--text); text-decoration: none; }
main { max-width: 70rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 2rem; line-height: 1.2; margin: 1rem 0; } h2 { font-size: 1.5rem; margin-top: 2.5rem;
  border-top: 2px solid #12436d; padding-top: 0.8rem; } h3 { font-size: 1.2rem; margin-top: 1.8rem; }
.demo-notice { border-left: 8px solid #f46a25; background: #fdf0e9; padding: 0.8rem 1rem; }
.data-notice { border-left: 8px solid #12436d; background: #f3f2f1; padding: 0.8rem 1rem; }
.definition { color: var(--muted); }
figure.chart { margin: 1rem 0; } figure.chart img { max-width: 100%; height: auto; border: 1px solid #e0e0e0; }
figcaption { color: var(--muted); font-size: 0.95rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.95rem; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.4rem; }
th, td { border-bottom: 1px solid var(--border); padding: 0.35rem 0.6rem; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
td { max-width: 24rem; }
thead th { border-bottom: 2px solid var(--text); } .num { text-align: right; font-variant-numeric: tabular-nums; }
details.chart-data summary { cursor: pointer; color: var(--link); text-decoration: underline; }
.table-wrap { overflow-x: auto; } .table-wrap:focus { outline: 3px solid var(--focus); }
td.rug { font-weight: bold; white-space: nowrap; }
td.better { background: #cce2d8; color: #005a30; } td.worse { background: #f6d7d2; color: #942514; }
td.similar { background: #fff7bf; color: #594d00; } td.higher, td.lower { background: #d2e2f1; color: #0b0c0c; }
td.none { color: var(--muted); }
.unit { color: var(--muted); font-size: 0.85rem; font-weight: normal; }
ol.findings li { margin-bottom: 0.6rem; }
footer { border-top: 1px solid var(--border); color: var(--muted); font-size: 0.9rem; padding: 1rem 1.5rem; }
@media print { nav.sections, .skip { display: none; } details { display: block; } }
"""


def _markdown(text: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return ANCHOR.sub("", markdown2html_mistune(text))


def notebook_body(nb) -> str:
    """The readable content of an executed notebook: markdown cells and rich outputs; code and logs left out."""
    parts = []
    for cell in nb.cells:
        if EXPLORE in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            if "remove-cell" in cell.metadata.get("tags", []):
                continue
            parts.append(_markdown(cell.source))
        elif cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    raise PackError(f"{output.ename}: {output.evalue}")
                if output.output_type not in ("display_data", "execute_result"):
                    continue  # stdout/stderr are logs, not report content
                data = output.get("data", {})
                if "text/html" in data:
                    parts.append(data["text/html"])
                elif "text/markdown" in data:
                    parts.append(_markdown(data["text/markdown"]))
    return "\n".join(parts)


def _page(title: str, body: str, nav: list[tuple[str, str]], current: str, footer: str) -> str:
    links = "".join(f'<li><a href="{html.escape(href)}"{" aria-current=page" if href == current else ""}>'
                    f"{html.escape(label)}</a></li>" for href, label in nav)
    return (f'<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{html.escape(title)}</title>\n'
            f"<style>{CSS}</style>\n</head>\n<body>\n"
            f'<a class="skip" href="#content">Skip to content</a>\n'
            f'<header class="site"><p>{html.escape(footer.split("|")[0].strip())}</p></header>\n'
            f'<nav class="sections" aria-label="Sections of the pack"><ul>{links}</ul></nav>\n'
            f'<main id="content">\n{body}\n</main>\n<footer><p>{html.escape(footer)}</p></footer>\n</body>\n</html>\n')


TABLE = re.compile(r"<table\b.*?</table>", re.S)
CAPTION = re.compile(r"<caption>(.*?)</caption>", re.S)


def _wrap_tables(body: str) -> str:
    """Each table in a box that scrolls sideways on a narrow screen. The box takes keyboard focus, so the table can be
    scrolled without a mouse (WCAG 2.1.1), and is a region named by the table's caption for screen readers."""
    def wrap(table: re.Match) -> str:
        caption = CAPTION.search(table.group(0))
        name = html.unescape(re.sub(r"<[^>]+>", "", caption.group(1))).strip() if caption else "Table"
        return (f'<div class="table-wrap" role="region" tabindex="0" aria-label="{html.escape(name)}">'
                f"{table.group(0)}</div>")
    return TABLE.sub(wrap, body)


# --------------------------------------------------------------------------------------------------------------------
# Building


_sha256 = files_mod.sha256


def _title_of(path: Path) -> str:
    import nbformat  # imported where used: it takes seconds to import, and most commands never need it

    nb = nbformat.read(path, as_version=4)
    return nb.metadata.get("needs", {}).get("title") or path.stem.split("_", 1)[-1].replace("_", " ").capitalize()


class KernelSession:
    """One kernel for all of a pack's notebooks, each run as papermill would run it.

    For each notebook: the user namespace is cleared (``%reset -f``), papermill injects the parameters (recorded in
    the notebook's metadata, as papermill does), and nbclient executes the cells; the executed notebook is saved,
    with the error output if a cell fails. Imports are paid once per pack instead of once per notebook. Each
    notebook still runs on its own from a fresh kernel under nbval, which catches any dependence on another.
    """

    def __init__(self, log_path: Path, cwd: Path, timeout: int = 1800):
        self.log_path, self.cwd, self.timeout = log_path, cwd, timeout

    def __enter__(self):
        self._log = open(self.log_path, "ab")
        for attempt in (1, 2):
            try:
                self._start()
                return self
            except RuntimeError as exc:  # "Kernel died before replying": on a busy machine, usually a port race
                self._stop()
                if attempt == 2:
                    self._log.close()
                    tail = self.log_path.read_text("utf-8", errors="replace").strip().splitlines()[-1:] or [str(exc)]
                    raise PackError(f"the notebook kernel ({KERNEL}) would not start, twice: {tail[0]}") from None
        return self

    def _start(self) -> None:
        from jupyter_client.manager import KernelManager

        self.km = KernelManager(kernel_name=KERNEL)  # fresh ports each time
        self.km.start_kernel(cwd=str(self.cwd), stdout=self._log, stderr=self._log)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)

    def _stop(self) -> None:
        try:
            self.kc.stop_channels()
        except Exception:  # noqa: BLE001  (a client that never started)
            pass
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001  (a kernel that already died)
            pass

    def run(self, path: Path, executed: Path, parameters: dict, what: str) -> None:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
        from papermill.iorw import load_notebook_node
        from papermill.parameterize import parameterize_notebook

        self.kc.execute_interactive("get_ipython().run_line_magic('reset', '-f')", timeout=60, store_history=False)
        source = load_notebook_node(str(path))
        source.cells = [c for c in source.cells if EXPLORE not in c.metadata.get("tags", [])]
        nb = parameterize_notebook(source, parameters, kernel_name=KERNEL, language="python")
        client = NotebookClient(nb, km=self.km, timeout=self.timeout, kernel_name=KERNEL,
                                resources={"metadata": {"path": str(path.parent)}})
        client.kc = self.kc
        try:
            client.execute(cleanup_kc=False)
        except CellExecutionError as exc:
            nbformat.write(nb, executed)
            cell = next((i for i, c in enumerate(nb.cells) if any(o.get("output_type") == "error"
                                                                   for o in c.get("outputs", []))), None)
            raise PackError(f"{what}: notebook {path.name} failed in cell {cell}: {exc.ename}: "
                            f"{str(exc.evalue).splitlines()[0] if exc.evalue else ''}") from None
        nbformat.write(nb, executed)

    def __exit__(self, *exc):
        try:
            self.kc.stop_channels()
            self.km.shutdown_kernel(now=True)
        finally:
            self._log.close()
        return False


#: Where each notebook of a pack being built writes (its ``output_dir``): one folder per notebook, so that notebooks
#: running at once never share a file; merged into the pack in notebook order (:func:`_gather`).
PARTS = ".parts"


def _cost(path: Path) -> int:
    """A notebook's expected cost, to start the longest first: its number of code cells."""
    try:
        cells = json.loads(path.read_text("utf-8")).get("cells", [])
    except (OSError, ValueError):
        return 0
    return sum(c.get("cell_type") == "code" for c in cells)


def run_notebooks(paths: list[Path], build: Path, parameters: dict, what: str, timings: dict,
                  kernels: int = 1, sessions: list | None = None) -> list[tuple[Path, Path]]:
    """Execute ``paths`` into ``build / "notebooks"`` with ``kernels`` kernels at once; return (notebook, executed)
    pairs in the notebooks' order.

    ``sessions`` are kernels already running (:func:`worker_kernels`), used instead of starting new ones and left
    running; if a notebook fails, a kernel's log is copied into ``build`` and the kernel shut down (the next pack
    starts a fresh one, whatever state the failure left).

    Each kernel takes the next notebook when it is free, the longest (most code cells) first, so two kernels finish
    together. Each notebook gets its own ``output_dir`` under ``build / PARTS``; :func:`_gather` merges them in
    notebook order, so the workbook's sheets come out in the same order whatever ran when. When a notebook fails,
    the notebooks before it (in the notebooks' order) still run and those after it do not, as one after another;
    the failure of the first failing notebook is raised.

    Raises
    ------
    PackError
        A notebook failed, or a kernel would not start.
    """
    import threading

    kernels = max(1, min(kernels, len(paths)))
    queue = sorted(paths, key=lambda p: (-_cost(p), p.name)) if kernels > 1 else list(paths)
    lock = threading.Lock()
    failures: dict = {}  # notebook position (or -1 for a kernel that would not start) -> exception
    position = {p: i for i, p in enumerate(paths)}

    if sessions:
        kernels = min(kernels, len(sessions))

    def run_queue(kernel: KernelSession) -> None:
        while True:
            with lock:
                # after a failure, only the notebooks before it still run: those one after another would have run
                first_failure = min(failures, default=len(paths))
                queue[:] = [p for p in queue if position[p] < first_failure]
                if not queue:
                    return
                path = queue.pop(0)
            t0 = time.perf_counter()
            try:
                kernel.run(path, build / "notebooks" / path.name,
                           {**parameters, "output_dir": str(build / PARTS / path.stem)}, what)
            except BaseException as exc:  # noqa: BLE001  (raised again below, in the caller's thread)
                with lock:
                    failures[position[path]] = exc
                return
            timings[path.name] = round(time.perf_counter() - t0, 3)

    def work(n: int) -> None:
        log = build / (".kernel.log" if n == 0 else f".kernel-{n + 1}.log")
        try:
            if sessions:
                run_queue(sessions[n])
                if failures:  # keep its log with the failed build; start the next pack on a fresh kernel
                    shutil.copyfile(sessions[n].log_path, log)
                    sessions[n]._stop()
                return
            with KernelSession(log, cwd=paths[0].parent) as kernel:
                run_queue(kernel)
        except BaseException as exc:  # noqa: BLE001  (a kernel that would not start)
            with lock:
                failures.setdefault(-1, exc)

    if kernels == 1:
        work(0)
    else:
        threads = [threading.Thread(target=work, args=(n,), name=f"kernel-{n + 1}", daemon=True)
                   for n in range(kernels)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if failures:
        raise failures[min(failures)]
    pages = [(p, build / "notebooks" / p.name) for p in paths]
    _gather(build, pages)
    return pages


#: The kernels a worker process keeps from one pack to the next (:func:`worker_kernels`).
_WORKER_KERNELS: list = []


def worker_kernels(cwd: Path, n: int = 1) -> list:
    """``n`` kernels that stay running in this process from one pack to the next, started when first asked for.

    A process that builds many packs (a ``--la`` worker) pays each kernel's start and imports once, not once per
    pack: each notebook still starts from a cleared namespace (``%reset -f``), as the notebooks of one pack already
    do. A kernel that has died is started again. They are shut down when the process ends.
    """
    import multiprocessing.util

    alive = [k for k in _WORKER_KERNELS if k.cwd == cwd and k.km.is_alive()]
    for k in [k for k in _WORKER_KERNELS if k not in alive]:
        _WORKER_KERNELS.remove(k)
        k.__exit__(None, None, None)
    while len(alive) < n:
        folder = Path(tempfile.mkdtemp(prefix="needs-kernel-"))
        k = KernelSession(folder / ".kernel.log", cwd=cwd).__enter__()
        multiprocessing.util.Finalize(k, _close_kernel, args=(k.km, k.kc, k._log, folder), exitpriority=10)
        _WORKER_KERNELS.append(k)
        alive.append(k)
    return alive[:n]


#: Kernels started ahead for the next pack of this process (:func:`prestart_kernels`): (cwd, thread, holder).
_PRESTARTED: list = []


def prestart_kernels(notebooks: str = "", n: int | None = None) -> None:
    """Start the kernels the next pack will run its notebooks in, in the background, and import the pack's library
    in them, so that they are ready when the data has been read (:func:`build_pack` adopts them).

    ``needs pack`` calls it before it reads the folder: starting a kernel and importing pandas, matplotlib and the
    library takes seconds, and the core that reads the folder leaves the other free. Kernels nobody adopts are shut
    down when the process ends (or by :func:`close_prestarted`).
    """
    import atexit
    import threading

    try:
        cwd = notebook_paths(notebooks)[0].parent
    except ParameterError:
        return  # reported where the parameters are checked
    if not _PRESTARTED:
        atexit.register(close_prestarted)
    for _ in range(max(0, (n or min(2, os.cpu_count() or 1)) - sum(c == cwd for c, _, _ in _PRESTARTED))):
        holder: dict = {}

        def start(holder=holder):
            folder = Path(tempfile.mkdtemp(prefix="needs-kernel-"))
            holder["folder"] = folder
            try:
                kernel = KernelSession(folder / ".kernel.log", cwd=cwd).__enter__()
                holder["kernel"] = kernel
                kernel.kc.execute_interactive("import analysis.pack.report", timeout=300, store_history=False,
                                              output_hook=lambda msg: None)
            except BaseException as exc:  # noqa: BLE001  (the pack starts its own kernel instead)
                holder["error"] = exc

        thread = threading.Thread(target=start, name="kernel-prestart", daemon=True)
        thread.start()
        _PRESTARTED.append((cwd, thread, holder))


def _adopt_prestarted(cwd: Path, n: int) -> list:
    """Up to ``n`` kernels started ahead for notebooks in ``cwd`` (waiting for them to be ready); others closed."""
    taken = []
    for entry in list(_PRESTARTED):
        c, thread, holder = entry
        _PRESTARTED.remove(entry)
        thread.join()
        kernel = holder.get("kernel")
        if c == cwd and kernel is not None and "error" not in holder and len(taken) < n and kernel.km.is_alive():
            kernel.folder = holder["folder"]
            taken.append(kernel)
        else:
            _close([kernel] if kernel is not None else [], holder.get("folder"))
    return taken


def close_prestarted() -> None:
    """Shut down the kernels started ahead that no pack adopted."""
    while _PRESTARTED:
        _, thread, holder = _PRESTARTED.pop()
        thread.join()
        _close([holder["kernel"]] if "kernel" in holder else [], holder.get("folder"))


def _close(kernels: list, folder: Path | None = None) -> None:
    """Shut down kernels started ahead, and remove their log folders."""
    for kernel in kernels:
        try:
            kernel.__exit__(None, None, None)
        except Exception:  # noqa: BLE001  (a kernel that already died)
            pass
        if getattr(kernel, "folder", None):
            shutil.rmtree(kernel.folder, ignore_errors=True)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def _close_kernel(km, kc, log, folder: Path) -> None:
    try:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    except Exception:  # noqa: BLE001  (a kernel that already died)
        pass
    finally:
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def _gather(build: Path, pages: list[tuple[Path, Path]]) -> None:
    """Move what each notebook wrote into its own folder (other than its tables) into the pack's folder."""
    for source, _ in pages:
        part = build / PARTS / source.stem
        if not part.is_dir():
            continue
        for item in part.iterdir():
            if item.name != "tables" and not (build / item.name).exists():
                item.rename(build / item.name)


def _tables(build: Path, pages: list[tuple[Path, Path]]) -> dict:
    """The tables the notebooks saved, in the order the pages show them (a table saved again keeps its place)."""
    sheets = export.load_tables(build / "tables")  # saved into the pack's own folder, if a notebook did
    for source, _ in pages:
        for key, sheet in export.load_tables(build / PARTS / source.stem / "tables").items():
            sheets[key] = sheet
    return sheets


def _fingerprint(params: PackParams, data: dict) -> str:
    """A hash of everything a pack is made from: inputs, returns, notebooks, targets, parameters and version."""
    h = hashlib.sha256()
    parts = {"version": __version__, "la": data["la"]["area_code"], "year": str(data["year"]),
             "period": data.get("period", ""), "confidence": params.confidence, "population": params.population,
             "inputs": sorted(f["sha256"] for f in data["files"]),
             "returns": sorted(f.get("sha256", "") for f in data.get("returns_files", [])),
             "notebooks": [_sha256(p) for p in notebook_paths(params.notebooks)],
             "targets": data["targets"].to_json() if len(data["targets"]) else "",
             "neighbour_model": _sha256(Path(params.neighbour_model)) if params.neighbour_model else "",
             "package": sorted((str(p.relative_to(PACKAGE_DIR)), _sha256(p)) for p in PACKAGE_DIR.rglob("*")
                               if p.suffix in (".py", ".yaml"))}
    h.update(json.dumps(parts, sort_keys=True, default=str).encode("utf-8"))
    return h.hexdigest()


def _up_to_date(final: Path, fingerprint: str) -> bool:
    manifest = final / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        return json.loads(manifest.read_text("utf-8")).get("fingerprint") == fingerprint
    except (OSError, ValueError):
        return False


def pack_folder(params: PackParams, data: dict) -> Path:
    """Where a pack goes: ``OUT/<la>/<year or period>/``. Without ``--out``, OUT is ``outputs/`` for published data
    and ``outputs/demo/`` for the demo data, so that building one never replaces the other."""
    out_root = Path(params.out) if params.out else (OUTPUTS_DIR / "demo" if data["is_demo"] else OUTPUTS_DIR)
    return out_root / areas.slug(data["la"]["area_name"]) / (data.get("period") or str(data["year"]))


def refuse_other_data(final: Path, data: dict, force: bool = False) -> None:
    """Refuse to replace a pack built from the other kind of data (demo or published) unless ``force``.

    Raises
    ------
    ParameterError
        ``final`` holds a pack whose manifest says demo data and this one is published, or the reverse.
    """
    try:
        before = json.loads((final / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return  # no pack there (or not one this tool can read): nothing to protect
    if force or bool(before.get("demo_data")) == bool(data["is_demo"]):
        return
    kind = {True: "demo data", False: "published data"}
    raise ParameterError(f"{final} holds a pack built from {kind[bool(before.get('demo_data'))]} and this one is "
                         f"from {kind[bool(data['is_demo'])]}; give another --out, or --force to replace it")


def build_pack(params: PackParams, context_data: dict | None = None, status: dict | None = None,
               kernels: int | None = None, sessions: list | None = None) -> Path:
    """Build one LA's pack; return the folder holding ``index.html``.

    ``kernels`` notebooks run at once, each in its own kernel (default: one per core, at most two); the pages,
    the workbook and the manifest are the same whatever the number. ``sessions``: kernels already running, to use
    instead of starting new ones (:func:`worker_kernels`).

    Raises
    ------
    ParameterError
        Bad parameters, or the folder holds a pack built from the other kind of data (checked before any notebook
        runs).
    PackError
        A notebook failed; the failed build is kept as ``<year>.failed`` and the message names the notebook.
    """
    started = time.perf_counter()
    if kernels is None:
        kernels = min(2, os.cpu_count() or 1)
    try:
        if context_data is None and not sessions:
            prestart_kernels(params.notebooks, kernels)  # they start while the data is read
        data = context_data if context_data is not None else validate(params)
        la = data["la"]
        final = pack_folder(params, data)
        refuse_other_data(final, data, params.force)
        fingerprint = _fingerprint(params, data)
    except BaseException:
        close_prestarted()
        raise
    if not params.force and _up_to_date(final, fingerprint):
        close_prestarted()
        if status is not None:
            status["skipped"] = True
        stale = final.parent / f"{final.name}.failed"
        if stale.exists():  # an older failed attempt; the pack beside it is current
            shutil.rmtree(stale)
        return final
    if status is not None:
        status["skipped"] = False
    final.parent.mkdir(parents=True, exist_ok=True)
    clear_stale_builds(final.parent, final.name)
    build = final.parent / f".{final.name}.building-{os.getpid()}"
    if build.exists():
        shutil.rmtree(build)
    (build / "notebooks").mkdir(parents=True)
    cache = build / ".context.pickle"
    with open(cache, "wb") as fh:
        pickle.dump(data, fh)
    nb_params = nb_parameters.notebook_values(
        la=la["area_name"], year=int(data["year"]), data_dir=data["data_dir"], neighbour_model=params.neighbour_model,
        confidence=params.confidence, targets=params.targets, output_dir=str(build), population=params.population,
        table_cache=str(cache), period=data.get("period", ""), returns_dir=params.returns_dir)
    nb_params.update(params.extra)
    timings = {}
    adopted = [] if sessions else _adopt_prestarted(notebook_paths(params.notebooks)[0].parent, kernels)
    sessions = sessions or adopted or None
    try:
        pages = run_notebooks(notebook_paths(params.notebooks), build, nb_params,
                              f"{la['area_name']} {data.get('period') or data['year']}", timings, kernels, sessions)
        _render(build, pages, data, params, timings, started, fingerprint,
                kernels=min(kernels, len(pages), len(sessions) if sessions else kernels))
    except BaseException:
        _close(adopted)
        failed = final.parent / f"{final.name}.failed"
        if failed.exists():
            shutil.rmtree(failed)
        if build.exists():
            cache.unlink(missing_ok=True)
            build.rename(failed)
        raise
    _close(adopted)
    cache.unlink(missing_ok=True)
    for log in build.glob(".kernel*.log"):
        log.unlink()
    old = final.parent / f".{final.name}.old-{os.getpid()}"
    if final.exists():
        final.rename(old)
    build.rename(final)
    if old.exists():
        shutil.rmtree(old)
    failed = final.parent / f"{final.name}.failed"
    if failed.exists():
        shutil.rmtree(failed)
    return final


def _render(build: Path, pages, data: dict, params: PackParams, timings: dict, started: float,
            fingerprint: str = "", kernels: int = 1) -> None:
    import nbformat

    la = data["la"]
    demo = " (demo data)" if data["is_demo"] else ""
    when = f"{data['period']} (published benchmarks {data['year']})" if data.get("period") else str(data["year"])
    site = f"Children's services needs analysis: {la['area_name']}, {when}{demo}"
    footer = (f"{site} | Built by needs-analysis {__version__} on {dt.date.today().isoformat()} from "
              f"{'synthetic demo data' if data['is_demo'] else 'published DfE and ONS data'}. "
              "Figures follow DfE conventions: rounded half up; c = suppressed, x = not available, z = not applicable.")
    nav = [("index.html", "Contents")] + [(p.stem + ".html", _title_of(p)) for p, _ in pages]
    for source, executed in pages:
        nb = nbformat.read(executed, as_version=4)
        body = _wrap_tables(notebook_body(nb))
        title = f"{_title_of(source)}: {la['area_name']}, {when}{demo}"
        (build / f"{source.stem}.html").write_text(_page(title, body, nav, source.stem + ".html", footer), "utf-8")
    # index
    from analysis.pack.report import Context, data_description, data_notice, local_notice, summary_rows
    ctx = Context(output_dir=None, **data)
    tables = _tables(build, pages)  # what the notebooks showed and saved
    if "key_findings" in tables:  # the summary page's findings, as its notebook wrote them
        findings = tables["key_findings"].table["Finding"].tolist()
    else:  # a pack of other notebooks: the findings the summary page would show
        findings = narrative.key_findings(summary_rows(ctx), ctx.registry(), la["area_name"], n=5,
                                          confidence=ctx.confidence,
                                          history=ctx.table[ctx.table["area_code"] == la["area_code"]])
    items = "".join(f'<li><a href="{html.escape(h)}">{html.escape(t)}</a></li>' for h, t in nav[1:])
    body = (f"<h1>Children's services needs analysis: {html.escape(la['area_name'])}, {html.escape(when)}</h1>"
            f"{data_notice(ctx)}{local_notice(ctx)}"
            f"<p>How many children in {html.escape(la['area_name'])} are in need, on child protection plans, looked "
            f"after, missing from care, and not in education, employment or training, compared fairly with the "
            f"council's ten statistical neighbours, the {html.escape(la['region_name'])} region and England, over "
            f"time and against the council's own targets.</p>"
            f"<h2>Key findings</h2><ol class=\"findings\">"
            + "".join(f"<li>{html.escape(f)}</li>" for f in findings) +
            f"</ol><h2>Contents</h2><ol>{items}</ol>"
            f"<h2>Downloads</h2><ul><li><a href=\"tables.xlsx\">The data behind every chart and table (Excel "
            f"workbook)</a></li><li><a href=\"manifest.json\">How this pack was built (parameters, input files and "
            f"their fingerprints)</a></li></ul>")
    (build / "index.html").write_text(_page(site, body, nav, "index.html", footer), "utf-8")
    # workbook: the tables the notebooks saved, in the order the pages show them
    tables_dir = build / "tables"
    export.write_workbook(tables, build / "tables.xlsx",
                          contents=f"{site}: the data behind every chart and table, one sheet each",
                          contents_source=data_description(ctx))
    for folder in (tables_dir, build / PARTS):
        if folder.exists():
            shutil.rmtree(folder)
    # manifest
    files = [{**f, "path": f.get("path") or str(Path(data["data_dir"]) / f["file"])} for f in data["files"]]
    manifest = {
        "package": "needs-analysis", "version": __version__, "python": platform.python_version(),
        "built": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "parameters": {**nb_parameters.manifest_values(
            {"la": la["area_name"], "year": int(data["year"]), "period": data.get("period", ""),
             "returns_dir": params.returns_dir, "data_dir": data["data_dir"], "neighbour_model": params.neighbour_model,
             "confidence": params.confidence, "targets": params.targets, "population": params.population},
            la_code=la["area_code"], old_la_code=la["old_la_code"]),
            **{k: str(v) for k, v in params.extra.items()}},
        "demo_data": bool(data["is_demo"]),
        "data_kind": "demo" if data["is_demo"] else "published",
        "data": data_description(ctx),
        "neighbour_model_used": str(data.get("neighbour_model", "") or ""),
        "inputs": files,
        "returns": data.get("returns_files", []),
        "fingerprint": fingerprint,
        "notebooks": {p.name: {"sha256": _sha256(p), "seconds": timings.get(p.name)} for p, _ in pages},
        "kernels": kernels,  # notebooks run at once: their seconds add up to at most kernels x seconds
        "seconds": round(time.perf_counter() - started, 3),
    }
    (build / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), "utf-8")


# --------------------------------------------------------------------------------------------------------------------
# Many LAs


#: The national data a worker process shares between the LAs it builds (set before the workers fork).
_SHARED: dict = {}


def _share(national: dict | None, worker: bool = False) -> None:
    """Keep ``national`` for :func:`_build_one` (in this process, and in worker processes forked after it)."""
    _SHARED.clear()
    if national is not None:
        _SHARED["national"] = national
    _SHARED["worker"] = worker


def _build_one(params: PackParams, kernels: int = 1):
    try:
        data = validate(params, national=_SHARED.get("national"))
        # a worker process keeps its kernels from one LA's pack to the next
        sessions = (worker_kernels(notebook_paths(params.notebooks)[0].parent, kernels) if _SHARED.get("worker")
                    else None)
        return params.la, str(build_pack(params, data, kernels=kernels, sessions=sessions)), ""
    except NeedsError as exc:
        return params.la, "", str(exc)


def _shared_for(params_list: list[PackParams]) -> tuple[dict | None, str]:
    """The national data every pack in ``params_list`` can share, computed once, or None if they differ.

    Returns ``(national, error)``: a folder that cannot be read gives every LA the same one-line error.
    """
    from analysis.pack.report import national_key

    keys = {national_key(p.data_dir, p.neighbour_model, p.population, p.confidence) for p in params_list}
    if len(keys) != 1:
        return None, ""
    try:
        return national_data(params_list[0]), ""
    except NeedsError as exc:
        return None, str(exc)


def build_many(params_list: list[PackParams], jobs: int | None = None, progress: bool = True,
               national: dict | None = None) -> list[tuple]:
    """Build several packs in parallel; one LA's failure does not stop the others.

    The data folder is read and the national table benchmarked once (:func:`national_data`, or ``national`` when
    given), before the worker processes start; they are forked from this process, so each shares it without
    reading or pickling it again, and only attaches its LA's targets.

    Returns
    -------
    list of (la, folder, error)
    """
    if jobs is not None and jobs < 1:
        raise ParameterError(f"--jobs {jobs}: expected 1 or more parallel builds")
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(params_list)))
    error = ""
    if national is None and params_list:
        national, error = _shared_for(params_list)
    if error:
        return [(p.la, "", error) for p in params_list]
    # the cores left over by parallel packs run a pack's notebooks in parallel kernels
    kernels = max(1, (os.cpu_count() or 1) // jobs)
    results = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(params_list), desc="packs", unit="LA", file=sys.stderr)
    _share(national)
    try:
        if jobs == 1:
            for p in params_list:
                results.append(_build_one(p, kernels))
                bar and bar.update(1)
        else:
            import multiprocessing

            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_share,
                                     initargs=(national, True)) as pool:
                futures = [pool.submit(_build_one, p, kernels) for p in params_list]
                for fut in as_completed(futures):
                    results.append(fut.result())
                    bar and bar.update(1)
    finally:
        _share(None)
    if bar:
        bar.close()
    order = {p.la: i for i, p in enumerate(params_list)}
    return sorted(results, key=lambda r: order.get(r[0], 0))


# --------------------------------------------------------------------------------------------------------------------
# Command line
