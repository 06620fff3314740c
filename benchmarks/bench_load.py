"""Speed of reading an analyst's folder: every current file plus every earlier release side by side.

Ours: `indicators.load` on a temporary folder of links to every file in ../shared/data/dfe and
../shared/data/dfe-older (as ../shared/checks/older-releases.sh builds it), cold (a fresh process, nothing cached)
and warm (the same folder again in the same process: content already seen is reused, renamed or not).
Baseline, in the same run: plain `pd.read_csv(dtype=str)` of the same files, the least any reader must do.

The cold run also reports the share spent in the file readers (sources.read_raw and sources.observations).

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


def build_folder(folder: Path) -> list[Path]:
    for f in (SHARED / "dfe").iterdir():
        if not f.name.endswith(".md"):
            (folder / f.name).symlink_to(f)
    for f in (SHARED / "dfe-older").glob("*/*"):
        if not f.name.endswith(".md"):
            (folder / f"{f.parent.name}_{f.name}").symlink_to(f)
    return sorted(folder.iterdir())


COLD = """
import sys, time
sys.path.insert(0, {root!r})
from analysis import indicators, sources
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
sources.read_raw, sources.observations = timed(sources.read_raw), timed(sources.observations)
t0 = time.perf_counter()
ds = indicators.load({folder!r})
print(time.perf_counter() - t0, len(ds.observations), spent[0])
"""

BASELINE = """
import sys, time
import pandas as pd
t0 = time.perf_counter()
n = sum(len(pd.read_csv(p, dtype=str, keep_default_na=False)) for p in {paths!r})
print(time.perf_counter() - t0, n)
"""


def run(code: str) -> tuple:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "0"})
    seconds, n, *rest = out.stdout.split()
    return (float(seconds), int(n), *map(float, rest))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N cold runs (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = [str(p) for p in build_folder(folder)]
        cold = min(run(COLD.format(root=str(ROOT), folder=str(folder))) for _ in range(args.repeat))
        base = min(run(BASELINE.format(paths=paths)) for _ in range(args.repeat))
        from analysis import indicators

        indicators.load(folder)
        t0 = time.perf_counter()
        ds = indicators.load(folder)
        warm = time.perf_counter() - t0
        inv = indicators.inventory(ds)
    print(f"folder: {len(paths)} files ({inv['status'].value_counts().to_dict()})")
    print(f"indicators.load, cold (fresh process): {cold[0]:.2f} s, {cold[1]:,} observations; of which "
          f"{cold[2]:.2f} s in sources.read_raw + sources.observations ({cold[2] / cold[0]:.0%})")
    print(f"indicators.load, warm (same process):  {warm:.2f} s")
    print(f"baseline pd.read_csv of every file:    {base[0]:.2f} s, {base[1]:,} rows")
    print(f"ratio cold / baseline: {cold[0] / base[0]:.1f}x; warm / baseline: {warm / base[0]:.1f}x")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
