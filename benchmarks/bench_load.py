"""Speed of reading an analyst's folder: the current files, the earlier releases, and both side by side.

Ours: `indicators.load` on temporary folders of links to the files of ../shared/data/dfe, of ../shared/data/dfe-older
(prefixed by their folder name, as ../shared/checks/older-releases.sh names them) and of both together, each cold (a
fresh process, nothing cached; import and registry excluded); and the combined folder warm (the same folder again in
the same process: content already seen is reused, renamed or not).
Baseline, in the same run and on the same files: plain `pd.read_csv(dtype=str)` of each file in a fresh process, the
least any reader must do. Each figure is the best of N runs; the machine's load average is printed (it is shared),
and the CPU time of each side beside its wall-clock time: on a busy machine the wall clock mostly measures the other
sessions, the CPU time much less so.

The cold run also reports the share spent parsing files and turning them into observations (sources._stage,
sources._finish and sources.observations; read_raw is those plus reading the header and bytes).

Usage: python benchmarks/bench_load.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def build_folder(folder: Path, which: str = "both") -> list[Path]:
    """Links to every file of ../shared/data/dfe (``dfe``), of ../shared/data/dfe-older (``older``) or both."""
    folder.mkdir(parents=True, exist_ok=True)
    if which in ("dfe", "both"):
        for f in (SHARED / "dfe").iterdir():
            if not f.name.endswith(".md"):
                (folder / f.name).symlink_to(f)
    if which in ("older", "both"):
        for f in (SHARED / "dfe-older").glob("*/*"):
            if not f.name.endswith(".md"):
                (folder / f"{f.parent.name}_{f.name}").symlink_to(f)
    return sorted(folder.iterdir())


COLD = """
import sys, time
sys.path.insert(0, {root!r})
from analysis import indicators
from analysis.read import sources
indicators.registry(); indicators.registry_frame()
spent = [0.0]
def timed(func):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t
    return wrapper
sources._stage, sources._finish = timed(sources._stage), timed(sources._finish)
sources.observations = timed(sources.observations)
t0, c0 = time.perf_counter(), time.process_time()
ds = indicators.load({folder!r})
print(time.perf_counter() - t0, len(ds.observations), spent[0], time.process_time() - c0)
"""

BASELINE = """
import sys, time
import pandas as pd
t0, c0 = time.perf_counter(), time.process_time()
n = sum(len(pd.read_csv(p, dtype=str, keep_default_na=False)) for p in {paths!r})
print(time.perf_counter() - t0, n, time.process_time() - c0)
"""


def run(code: str) -> tuple:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "0"})
    seconds, n, *rest = out.stdout.split()
    return (float(seconds), int(n), *map(float, rest))


def best(code: str, repeat: int) -> tuple:
    """The fastest of ``repeat`` runs by wall clock, with the least CPU time of any of them last."""
    runs = [run(code) for _ in range(repeat)]
    return (*min(runs)[:-1], min(r[-1] for r in runs))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N cold runs (default 3)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for which, label in (("dfe", "dfe"), ("older", "dfe-older"), ("both", "both together")):
            folder = Path(tmp) / which
            paths = [str(p) for p in build_folder(folder, which)]
            cold = best(COLD.format(root=str(ROOT), folder=str(folder)), args.repeat)
            base = best(BASELINE.format(paths=paths), args.repeat)
            rows.append((label, len(paths), cold, base))
        from analysis import indicators
        folder = Path(tmp) / "both"
        indicators.load(folder)
        t0 = time.perf_counter()
        ds = indicators.load(folder)
        warm = time.perf_counter() - t0
        inv = indicators.inventory(ds)
    print(f"indicators.load, cold (fresh process, best of {args.repeat}) against plain pd.read_csv of the same files:")
    for label, n, cold, base in rows:
        print(f"  {label:<14} {n:>2} files: {cold[0]:.2f} s, cpu {cold[3]:.2f} s ({cold[1]:,} observations; "
              f"{cold[2]:.2f} s parsing and observations, {cold[2] / cold[0]:.0%}); baseline {base[0]:.2f} s, "
              f"cpu {base[2]:.2f} s ({base[1]:,} rows); ratio {cold[0] / base[0]:.1f}x (cpu {cold[3] / base[2]:.1f}x)")
    print(f"both together, files: {inv['status'].value_counts().to_dict()}")
    print(f"indicators.load, warm (same process, both together): {warm:.2f} s; "
          f"ratio {warm / rows[-1][3][0]:.1f}x")
    load_after = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores; load average (1, 5, 15 min) before "
          f"{', '.join(f'{v:.2f}' for v in load_before)}, after {', '.join(f'{v:.2f}' for v in load_after)}")


if __name__ == "__main__":
    main()
