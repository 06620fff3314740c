"""Published rates reproduce, release by release; and how long reading the release folders takes.

For every release file in ../shared/data/dfe and ../shared/data/dfe-older (every sub-folder): read it, turn it into
observations, give each observation the denominator of its own release (the population vintage that release used:
its own ``population_estimate`` column, the CLA file of the same year, or the ONS mid-year file; see
:mod:`analysis.read.population`), compute the value from the file's own counts, round it half up to the published
decimals as DfE does, and count the local-authority figures equal to the published ones (n of N, per file and
indicator). Regional and national counts are published rounded to the nearest 10, so only LA figures are counted.

Then the time to read each folder (every file: header check, parse, observations, populations), best of 3, and
both folders together.

Usage: python benchmarks/bench_sources.py [FOLDER ...]   (default ../shared/data/dfe ../shared/data/dfe-older)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.read import areas, population, sources  # noqa: E402
from analysis import indicators
from analysis import numbers

SHARED = ROOT.parent / "shared" / "data"
DEFAULT_FOLDERS = [SHARED / "dfe", SHARED / "dfe-older"]


def release_files(folder: Path) -> list[Path]:
    """The CSV files of a folder and its sub-folders (``*.csv``, ``*.csv.gz``), sorted by path."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file()
                  and (p.name.lower().endswith(".csv") or p.name.lower().endswith(".csv.gz")))


def read_folder(files: list[Path], reg: dict):
    """Read files into (observations per file, population tables); the work a folder load does."""
    per_file, pops = {}, []
    for path in files:
        raw = sources.read_raw(path)
        name = raw.layout.name
        if name == "population":
            pops.append(population.from_ons(raw))
        elif name in ("sn_model", "sn_groupings"):
            continue
        else:
            per_file[path] = (raw, sources.observations(raw, reg))
            if name == "cla_rates":
                pops.append(population.from_release(raw))
    return per_file, population.combine(pops)


def reproduction(obs: pd.DataFrame, populations: pd.DataFrame, reg: dict | None = None) -> pd.DataFrame:
    """Every LA observation with a published figure: the value from the file's counts, rounded as DfE does.

    Parameters
    ----------
    obs : pandas.DataFrame
        Observations of one release file (:func:`analysis.read.sources.observations`).
    populations : pandas.DataFrame
        Population vintages (:func:`analysis.read.population.combine`).

    Returns
    -------
    pandas.DataFrame
        The LA rows with ``value`` and ``published_value``, plus ``decimals``, ``shown`` (value rounded half up to
        the published decimals) and ``ok`` (shown equals the published figure).
    """
    reg = reg or indicators.registry()
    obs = population.attach_denominators(obs, populations, vintage="release")
    table = indicators.compute(obs, reg)
    rows = table[(table["geographic_level"] == areas.LEVEL_LA) & table["published_value"].notna()
                 & table["value"].notna()].copy()
    decimals = indicators.registry_frame(reg)["decimals"]
    rows["decimals"] = rows["indicator"].astype(str).map(decimals).astype(int)
    rows["shown"] = numbers.round_half_up(rows["value"].to_numpy(dtype=float), rows["decimals"].to_numpy())
    rows["ok"] = np.isclose(rows["shown"].to_numpy(dtype=float), rows["published_value"].to_numpy(dtype=float),
                            rtol=0, atol=1e-9)
    return rows


def summary(per_file: dict, populations: pd.DataFrame, base: Path, reg: dict) -> pd.DataFrame:
    """n of N reproduced, per file and indicator (and the computed-only counts where a release has no rate)."""
    out = []
    for path, (raw, obs) in per_file.items():
        label = str(path.relative_to(base)) if path.is_relative_to(base) else path.name
        if obs.empty:
            out.append({"file": label, "layout": raw.layout.name, "indicator": "(none: recognised only)",
                        "decimals": "", "reproduced": 0, "published": 0, "computed_only": 0})
            continue
        rows = reproduction(obs, populations, reg)
        las = obs[obs["geographic_level"] == areas.LEVEL_LA]
        for ind in obs["indicator"].unique():
            r = rows[rows["indicator"] == ind]
            computed = las[(las["indicator"] == ind) & (las["value_basis"] == "computed") & las["numerator"].notna()]
            out.append({"file": label, "layout": raw.layout.name, "indicator": ind,
                        "decimals": int(reg[ind]["decimals"]), "reproduced": int(r["ok"].sum()), "published": len(r),
                        "computed_only": len(computed)})
    return pd.DataFrame(out)


def best_of(fn, repeat=3):
    """Best wall-clock and CPU seconds of ``repeat`` runs (CPU time says more on a machine others share)."""
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def main():
    folders = [Path(a) for a in sys.argv[1:]] or DEFAULT_FOLDERS
    reg = indicators.registry()
    files = {f: release_files(f) for f in folders}
    per_file, pops = {}, []
    for folder in folders:
        pf, pp = read_folder(files[folder], reg)
        per_file.update(pf)
        pops.append(pp)
    populations = population.combine(pops)
    base = folders[0].parent
    table = summary(per_file, populations, base, reg)
    print("Published LA rates and percentages reproduced from each release's own counts and denominators")
    print("(rounded half up to the published decimals; 'computed only': LA figures the release gives no rate for)\n")
    print("| file | layout | indicator | dp | reproduced (n of N) | computed only |")
    print("|---|---|---|---|---|---|")
    for r in table.itertuples():
        n = f"{r.reproduced} of {r.published}" if r.published else "-"
        print(f"| {r.file} | {r.layout} | {r.indicator} | {r.decimals} | {n} | {r.computed_only or ''} |")
    print("\nReading time (every file: header, parse, observations, populations), best of 3:")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    for folder in folders:
        wall, cpu = best_of(lambda: read_folder(files[folder], reg))
        print(f"  {folder.name:<12} {len(files[folder]):>3} files  {wall:6.2f} s wall  {cpu:6.2f} s CPU")
    everything = [p for f in folders for p in files[f]]
    wall, cpu = best_of(lambda: read_folder(everything, reg))
    print(f"  {'both':<12} {len(everything):>3} files  {wall:6.2f} s wall  {cpu:6.2f} s CPU  "
          f"(load average {load:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
