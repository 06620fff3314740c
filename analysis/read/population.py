"""Population denominators, by vintage.

DfE revises population estimates, so a release's rates reproduce only with that release's denominators. A *vintage*
is the set of estimates one release used; it is named by the release year (the latest year ending 31 March it covers).

- The ONS mid-year file: the estimate for mid-year Y-1 is the denominator for the year ending 31 March Y, so a file
  of mid-2012 to mid-2024 is the vintage of the 2025 releases.
- A release that carries its own ``population_estimate`` column (children looked after) is the vintage of that
  release (the 2024 CLA file is the 2024 vintage, also used by that year's children-in-need release).

:func:`attach_denominators` chooses, for each observation, the vintage of its own release (``vintage="release"``),
or, where that vintage lacks the year, the earliest later vintage that has it (estimates for earlier years were not
revised between releases); ``vintage="latest"`` uses the newest estimates for every year, for a consistent series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.read import sources
POP_COLUMNS = ["time_period", "geographic_level", "area_code", "population", "vintage", "vintage_label", "source_file"]


def from_ons(raw: sources.RawFile) -> pd.DataFrame:
    """Population table from an ONS mid-year file (layout ``population``), children aged 0 to 17.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`POP_COLUMNS`; ``time_period`` is the year ending 31 March the estimate is the denominator for
        (mid-year + 1).
    """
    t = raw.table
    t = t[t["age_group"].str.contains("0 to 17", case=False, na=False)]
    geo = sources._geography(sources.RawFile(raw.path, raw.layout, t, raw.sha256, raw.warnings))
    t = t.loc[geo.index]
    numbers, status = sources.parse_numbers(t["population_estimate"], raw.name, "population_estimate", t["_row"],
                                            count=True)
    year = t["time_period"].astype(int) + 1
    vintage = int(year.max())
    label = "ONS mid-" + t["time_period"].astype(sources.TEXT) + f" estimate ({raw.name})"  # text, whatever the table's
    out = pd.DataFrame({"time_period": year.astype(str), "geographic_level": geo["geographic_level"],
                        "area_code": geo["area_code"], "population": numbers, "vintage": vintage,
                        "vintage_label": label, "source_file": raw.name})
    return out[out["population"].notna()].reset_index(drop=True)[POP_COLUMNS]


def from_release(raw: sources.RawFile) -> pd.DataFrame:
    """Population table from a release's own ``population_estimate`` column (layout ``cla_rates``)."""
    t = raw.table
    geo = sources._geography(sources.RawFile(raw.path, raw.layout, t, raw.sha256, raw.warnings))
    t = t.loc[geo.index]
    numbers, _ = sources.parse_numbers(t["population_estimate"], raw.name, "population_estimate", t["_row"],
                                       count=True)
    vintage = int(t["time_period"].astype(int).max())
    out = pd.DataFrame({"time_period": t["time_period"].astype(sources.TEXT),  # text, whatever the table's
                        "geographic_level": geo["geographic_level"], "area_code": geo["area_code"],
                        "population": numbers, "vintage": vintage, "source_file": raw.name,
                        "vintage_label": f"{vintage} release population_estimate ({raw.name})"})
    out = out[out["population"].notna()].drop_duplicates(["time_period", "geographic_level", "area_code"])
    return out.reset_index(drop=True)[POP_COLUMNS]


def combine(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """All population vintages in one table (one row per year, area and vintage).

    Parameters
    ----------
    tables : list of pandas.DataFrame
        :data:`POP_COLUMNS` tables, most trusted first: where two give the same year, area and vintage (two copies of
        one release, or an ONS file and a release of the same vintage), the earlier in the list is kept, so the
        result depends on the order the caller chose, never on file names
        (:func:`analysis.read.folder.read_folder` passes them in its release order).

    Returns
    -------
    pandas.DataFrame
        :data:`POP_COLUMNS`.
    """
    tables = [t for t in tables if len(t)]
    if not tables:
        return pd.DataFrame(columns=POP_COLUMNS)
    out = pd.concat(tables, ignore_index=True)
    return out.drop_duplicates(["time_period", "geographic_level", "area_code", "vintage"],
                               keep="first").reset_index(drop=True)


def attach_denominators(obs: pd.DataFrame, populations: pd.DataFrame, vintage: str = "release") -> pd.DataFrame:
    """Fill the population denominators of observations, choosing the vintage.

    Parameters
    ----------
    obs : pandas.DataFrame
        Observations (:data:`analysis.read.sources.OBS_COLUMNS`); rows with ``denominator_kind == "population"`` get a
        denominator, others are returned unchanged.
    populations : pandas.DataFrame
        :data:`POP_COLUMNS`, from :func:`combine`.
    vintage : {"release", "latest"}
        ``release``: the estimates the observation's own release used (see the module notes); ``latest``: the newest.

    Returns
    -------
    pandas.DataFrame
        A new table with ``denominator`` and ``population_vintage`` filled.
    """
    if vintage not in ("release", "latest"):
        raise ValueError(f"vintage must be 'release' or 'latest', not {vintage!r}")
    need = obs["denominator_kind"].eq("population")
    if not need.any() or populations.empty:
        return obs.copy()
    # positions, not index labels: the caller's index need not be unique
    target = obs.loc[need, ["time_period", "geographic_level", "area_code", "release"]].reset_index(drop=True)
    target["_pos"] = np.flatnonzero(need.to_numpy())
    cand = target.merge(populations, on=["time_period", "geographic_level", "area_code"], how="inner")
    release = cand["release"].astype(int)
    if vintage == "release":
        # own vintage first, then the nearest later one, then the nearest earlier one
        later = cand["vintage"] >= release
        cand["_priority"] = np.where(later, cand["vintage"] - release, 10_000 + release - cand["vintage"])
    else:
        cand["_priority"] = -cand["vintage"]
    best = cand.sort_values(["_pos", "_priority"], kind="stable").drop_duplicates("_pos")
    pos = best["_pos"].to_numpy()
    out = obs.copy()
    den = out["denominator"].to_numpy(dtype=float, copy=True)
    den[pos] = best["population"].to_numpy(dtype=float)
    label = out["population_vintage"].to_numpy(dtype=object, copy=True)
    label[pos] = best["vintage_label"].to_numpy(dtype=object)
    out["denominator"] = den
    out["population_vintage"] = label
    return out
