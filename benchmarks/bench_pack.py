"""Speed of building packs, against floors measured in the same run.

1. One LA's pack against the floor: papermill executing the same number of notebooks that hold only the
   parameters cell and the imports, plus the same HTML rendering. Target: at most 1.5x. The pack runs all its
   notebooks in one kernel (see analysis.pack.KernelSession), so it is also timed against a second floor: the same
   parameters-and-imports notebooks run by the pack's own one-kernel executor: the cost of the pack's content.
2. Many LAs with `--la` on all cores (build_many) against the same LAs built one after another. Target: at least
   1.7x faster on 2 cores.

Usage: python benchmarks/bench_pack.py [--las 20] [--skip-many]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
from contextlib import contextmanager  # noqa: E402
import papermill as pm  # noqa: E402

from analysis import pack  # noqa: E402
from analysis.demo import ensure_demo_data  # noqa: E402


@contextmanager
def kernel_log(path: Path):
    """Send what kernels print to stderr (their start-up chatter) to a log beside the build, not the terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def floor_notebooks(folder: Path, count: int) -> list[Path]:
    """``count`` notebooks with only the real notebooks' parameters cell and the import."""
    real = nbformat.read(pack.notebook_paths()[0], as_version=4)
    params = next(c for c in real.cells if "parameters" in c.metadata.get("tags", []))
    paths = []
    for i in range(count):
        nb = nbformat.v4.new_notebook()
        nb.cells = [params, nbformat.v4.new_code_cell("from analysis import report")]
        nb.metadata = real.metadata
        path = folder / f"{i:02d}_floor.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def run_floor(paths: list[Path], out: Path, parameters: dict) -> float:
    t0 = time.perf_counter()
    for path in paths:
        executed = out / path.name
        with kernel_log(out / ".kernel.log"):
            pm.execute_notebook(str(path), str(executed), parameters=parameters, kernel_name=pack.KERNEL,
                                progress_bar=False, log_output=False, cwd=str(path.parent),
                                request_save_on_cell_execute=False, autosave_cell_every=0)
        nb = nbformat.read(executed, as_version=4)
        body = pack._wrap_tables(pack.notebook_body(nb))
        (out / f"{path.stem}.html").write_text(pack._page("floor", body, [], "", "floor"), "utf-8")
    return time.perf_counter() - t0


def run_floor_shared(paths: list[Path], out: Path, parameters: dict) -> float:
    """The floor notebooks through the pack's own executor (one kernel for all), plus the same HTML rendering."""
    t0 = time.perf_counter()
    with pack.KernelSession(out / ".kernel.log", cwd=paths[0].parent) as kernel:
        for path in paths:
            executed = out / path.name
            kernel.run(path, executed, parameters, "floor")
            nb = nbformat.read(executed, as_version=4)
            body = pack._wrap_tables(pack.notebook_body(nb))
            (out / f"{path.stem}.html").write_text(pack._page("floor", body, [], "", "floor"), "utf-8")
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--las", type=int, default=20, help="LAs for the parallel benchmark (default 20)")
    ap.add_argument("--skip-many", action="store_true", help="only the one-LA benchmark")
    args = ap.parse_args()
    data = ensure_demo_data()
    work = Path(tempfile.mkdtemp(prefix="bench-pack-"))
    try:
        n = len(pack.notebook_paths())
        folder = work / "floor_nb"
        folder.mkdir()
        (work / "floor_out").mkdir()
        paths = floor_notebooks(folder, n)
        parameters = {"la": "Stockton-on-Tees", "year": 2024, "data_dir": str(data)}
        # warm both (file caches, font cache) before timing
        pack.build_pack(pack.PackParams(la="Stockton-on-Tees", year=2024, out=str(work / "warm")))
        floor_s = run_floor(paths, work / "floor_out", parameters)
        (work / "floor_shared").mkdir()
        shared_s = run_floor_shared(paths, work / "floor_shared", parameters)
        t0 = time.perf_counter()
        pack.build_pack(pack.PackParams(la="Stockton-on-Tees", year=2024, out=str(work / "one")))
        one_s = time.perf_counter() - t0
        print(f"one pack ({n} notebooks): {one_s:.1f} s; floor (papermill running {n} notebooks with only the "
              f"parameters cell and the imports, plus the same HTML rendering): {floor_s:.1f} s; ratio "
              f"{one_s / floor_s:.2f}x (target <= 1.5x)")
        print(f"  like for like: the same floor notebooks through the pack's one-kernel executor: {shared_s:.1f} s; "
              f"ratio {one_s / shared_s:.2f}x (what the pack's content costs over kernel start-up and imports)")
        if args.skip_many:
            return
        from analysis.indicators import load
        obs = load(data).observations
        las = sorted(obs.loc[obs["geographic_level"] == "Local authority", "area_name"].unique())[: args.las]
        t0 = time.perf_counter()
        for la in las:
            pack.build_pack(pack.PackParams(la=la, year=2024, out=str(work / "seq")))
        seq_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        results = pack.build_many([pack.PackParams(la=la, year=2024, out=str(work / "par")) for la in las],
                                  jobs=os.cpu_count(), progress=False)
        par_s = time.perf_counter() - t0
        failed = [r for r in results if r[2]]
        print(f"{len(las)} LAs on {os.cpu_count()} cores: one after another {seq_s:.1f} s; with --la list "
              f"{par_s:.1f} s; {seq_s / par_s:.2f}x faster (target >= 1.7x); failures: {len(failed)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
