"""Speed of building packs: one pack against its 6 s target and against floors measured in the same run, and every
LA's pack (`needs pack --la all`) against its 10 minute target.

1. One LA's pack (Stockton-on-Tees 2024): wall-clock seconds against the target of 6 s on 2 cores, with the CPU
   seconds of the build and its kernels beside them (the machine is shared). Also against the floor: papermill
   executing the same number of notebooks that hold only the parameters cell and the imports, plus the same HTML
   rendering; and the same floor notebooks run by the pack's own executor (one kernel): the cost of the content.
2. Many LAs: `build_many` for the first N LAs (the folder read and the national table benchmarked once, the packs
   built on all cores) against the same LAs built one after another; and the time for every LA in the folder
   projected from it (or measured, with --las all) against the target of 10 minutes.

Usage: python benchmarks/bench_pack.py [--las 20|all] [--skip-many] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
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
from analysis.pack import build  # noqa: E402
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
        body = build._wrap_tables(build.notebook_body(nb))
        (out / f"{path.stem}.html").write_text(build._page("floor", body, [], "", "floor"), "utf-8")
    return time.perf_counter() - t0


def run_floor_shared(paths: list[Path], out: Path, parameters: dict) -> float:
    """The floor notebooks through the pack's own executor (one kernel for all), plus the same HTML rendering."""
    t0 = time.perf_counter()
    with pack.KernelSession(out / ".kernel.log", cwd=paths[0].parent) as kernel:
        for path in paths:
            executed = out / path.name
            kernel.run(path, executed, parameters, "floor")
            nb = nbformat.read(executed, as_version=4)
            body = build._wrap_tables(build.notebook_body(nb))
            (out / f"{path.stem}.html").write_text(build._page("floor", body, [], "", "floor"), "utf-8")
    return time.perf_counter() - t0


def cpu_seconds() -> float:
    """CPU seconds of this process and of every child it has waited for (kernels, worker processes)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--las", default="20", help="LAs for the many-LA benchmark, or 'all' (default 20)")
    ap.add_argument("--skip-many", action="store_true", help="only the one-LA benchmark")
    ap.add_argument("--skip-floor", action="store_true", help="leave out the papermill floors")
    ap.add_argument("--data-dir", default="", help="data folder (default: the demo data)")
    args = ap.parse_args()
    data = Path(args.data_dir).resolve() if args.data_dir else ensure_demo_data()
    data_dir = str(data) if args.data_dir else ""
    work = Path(tempfile.mkdtemp(prefix="bench-pack-"))
    try:
        n = len(pack.notebook_paths())
        parameters = {"la": "Stockton-on-Tees", "year": 2024, "data_dir": str(data)}
        # warm (file caches, font cache) before timing
        pack.build_pack(pack.PackParams(la="Stockton-on-Tees", year=2024, data_dir=data_dir, out=str(work / "warm")))
        t0, c0 = time.perf_counter(), cpu_seconds()
        pack.build_pack(pack.PackParams(la="Stockton-on-Tees", year=2024, data_dir=data_dir, out=str(work / "one")))
        one_s, one_cpu = time.perf_counter() - t0, cpu_seconds() - c0
        print(f"one pack ({n} notebooks, {args.data_dir or 'demo data'}): {one_s:.1f} s (target <= 6 s on 2 cores: "
              f"{one_s / 6:.1f}x the target); CPU {one_cpu:.1f} s; load average {os.getloadavg()[0]:.1f}")
        if not args.skip_floor:
            folder = work / "floor_nb"
            folder.mkdir()
            (work / "floor_out").mkdir()
            paths = floor_notebooks(folder, n)
            floor_s = run_floor(paths, work / "floor_out", parameters)
            (work / "floor_shared").mkdir()
            shared_s = run_floor_shared(paths, work / "floor_shared", parameters)
            print(f"  floor (papermill running {n} notebooks with only the parameters cell and the imports, plus the "
                  f"same HTML rendering): {floor_s:.1f} s; ratio {one_s / floor_s:.2f}x")
            print(f"  the same floor notebooks through the pack's executor (one kernel): {shared_s:.1f} s; ratio "
                  f"{one_s / shared_s:.2f}x (what the pack's content costs over kernel start-up and imports)")
        if args.skip_many:
            return
        from analysis.indicators import load
        obs = load(data).observations
        every = sorted(obs.loc[(obs["geographic_level"] == "Local authority") & (obs["time_period"] == "2024"),
                              "area_name"].unique())
        las = every if args.las == "all" else every[: int(args.las)]
        seq_s = None
        if args.las != "all":
            t0 = time.perf_counter()
            for la in las:
                pack.build_pack(pack.PackParams(la=la, year=2024, data_dir=data_dir, out=str(work / "seq")))
            seq_s = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), cpu_seconds()
        results = pack.build_many([pack.PackParams(la=la, year=2024, data_dir=data_dir, out=str(work / "par"))
                                   for la in las], jobs=os.cpu_count(), progress=False)
        par_s, par_cpu = time.perf_counter() - t0, cpu_seconds() - c0
        failed = [r for r in results if r[2]]
        if seq_s is not None:
            print(f"{len(las)} LAs on {os.cpu_count()} cores: one after another {seq_s:.1f} s; with --la list "
                  f"{par_s:.1f} s; {seq_s / par_s:.2f}x faster; failures: {len(failed)}")
        per_la = par_s / len(las)
        what = "measured" if len(las) == len(every) else f"projected from {len(las)} LAs ({per_la:.1f} s each)"
        minutes = per_la * len(every) / 60
        print(f"--la all ({len(every)} LAs) {what}: {minutes:.1f} min (target <= 10 min: {minutes / 10:.1f}x the "
              f"target); CPU {par_cpu / len(las):.1f} s per pack; load average {os.getloadavg()[0]:.1f}; "
              f"failures: {len(failed)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
