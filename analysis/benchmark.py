"""Benchmarking: each LA against its statistical neighbours, its region and England, over time and against targets.

One function, :func:`benchmark`, turns the indicator table (values with confidence intervals) into the benchmarked
table for every LA, indicator and year at once, vectorised; :func:`indicator_table` is the whole pipeline from a
data folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import areas, compare, indicators, numbers, trends
from .config import TARGETS_DIR
from .errors import InputError, ParameterError

#: The benchmarked table's columns, in order. They never vary with arguments.
TABLE_COLUMNS = [
    "indicator", "time_period", "period_end", "geographic_level", "area_code", "old_la_code", "area_name",
    "region_code", "region_name", "numerator", "denominator", "value", "lower_95", "upper_95", "lower_99_8",
    "upper_99_8", "status", "display", "published_value", "sn_mean", "sn_n", "sn_missing", "region_value",
    "england_value", "vs_england", "vs_sn", "vs_region", "rank", "rank_of", "quartile_band", "previous_value",
    "change", "trend", "target", "target_year", "target_status", "unit", "decimals", "polarity", "ci_method",
    "population_vintage", "denominator_kind", "source_file", "release", "data_kind",
]


def _neighbour_stats(la: pd.DataFrame, neighbours: pd.DataFrame) -> pd.DataFrame:
    """Unweighted mean of the neighbours that have a value, how many did, and which did not (as LAIT does)."""
    key = ["indicator", "time_period"]
    if neighbours.empty:
        return pd.DataFrame(columns=key + ["area_code", "sn_mean", "sn_n", "sn_missing"])
    pairs = la[key + ["area_code"]].merge(neighbours[["area_code", "neighbour_code", "neighbour_name",
                                                      "neighbour_rank"]], on="area_code")
    vals = la[key + ["area_code", "value"]].rename(columns={"area_code": "neighbour_code", "value": "n_value"})
    pairs = pairs.merge(vals, on=key + ["neighbour_code"], how="left")
    group = key + ["area_code"]
    stats = pairs.groupby(group, sort=False).agg(sn_mean=("n_value", "mean"), sn_n=("n_value", "count"))
    lacking = pairs[pairs["n_value"].isna()].sort_values("neighbour_rank")
    stats["sn_missing"] = lacking.groupby(group, sort=False)["neighbour_name"].agg("; ".join)
    stats["sn_missing"] = stats["sn_missing"].fillna("")
    return stats.reset_index()


def load_targets(la_name: str, targets_dir: Path | None = None) -> pd.DataFrame:
    """An LA's local targets from ``targets/<la-slug>.yaml`` (empty if it has none).

    Returns
    -------
    pandas.DataFrame
        ``area_code, indicator, target, target_year, direction, baseline, baseline_year, description, source``.

    Raises
    ------
    InputError
        A target names an unknown indicator or has no number.
    """
    path = Path(targets_dir or TARGETS_DIR) / f"{areas.slug(la_name)}.yaml"
    cols = ["area_code", "indicator", "target", "target_year", "direction", "baseline", "baseline_year",
            "description", "source"]
    if not path.is_file():
        return pd.DataFrame(columns=cols)
    return read_targets(path)


def read_targets(path: str | Path) -> pd.DataFrame:
    """Read a targets YAML file (see ``targets/stockton-on-tees.yaml`` for the format)."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    reg = indicators.registry()
    la = areas.resolve_la(str(doc.get("la", "")))
    rows = []
    for i, t in enumerate(doc.get("targets", []), start=1):
        if t.get("indicator") not in reg:
            raise InputError(path.name, f"target {i}: unknown indicator '{t.get('indicator')}'; expected one of "
                                        f"{', '.join(reg)}", column="indicator")
        if not isinstance(t.get("target"), (int, float)):
            raise InputError(path.name, f"target {i} ({t['indicator']}): target must be a number", column="target")
        direction = t.get("direction", "lower")
        if direction not in ("lower", "higher"):
            raise InputError(path.name, f"target {i}: direction '{direction}'; expected lower or higher",
                             column="direction")
        rows.append({"area_code": la["area_code"], "indicator": t["indicator"], "target": float(t["target"]),
                     "target_year": str(t.get("target_year", "")), "direction": direction,
                     "baseline": t.get("baseline"), "baseline_year": str(t.get("baseline_year", "")),
                     "description": t.get("description", ""), "source": t.get("source", "")})
    return pd.DataFrame(rows, columns=["area_code", "indicator", "target", "target_year", "direction", "baseline",
                                       "baseline_year", "description", "source"])


def benchmark(table: pd.DataFrame, neighbours: pd.DataFrame, reg: dict | None = None,
              targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Benchmark every row of an indicator table.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`analysis.indicators.compute`: observations with ``value`` and confidence limits, for every area
        (LAs, regions, England) and year.
    neighbours : pandas.DataFrame
        The neighbour model (:data:`analysis.neighbours.NEIGHBOUR_COLUMNS`).
    reg : dict, optional
        The registry.
    targets : pandas.DataFrame, optional
        Local targets (:func:`load_targets`).

    Returns
    -------
    pandas.DataFrame
        :data:`TABLE_COLUMNS`, one row per indicator, area and year:

        - ``sn_mean``, ``sn_n``, ``sn_missing``: unweighted mean of the LA's ten neighbours that have a value, how
          many contributed, and the names of those that did not (LAIT's method);
        - ``region_value``, ``england_value``;
        - ``vs_england``, ``vs_sn``, ``vs_region``: whether the comparator lies outside the area's 95% confidence
          interval (Fingertips' overlapping-CI comparison): ``better``, ``similar``, ``worse`` with the indicator's
          polarity, ``higher``, ``similar``, ``lower`` where it has none, ``not compared`` without a CI;
        - ``rank`` (1 = lowest value among LAs, ties take the lowest rank) of ``rank_of`` LAs with a value;
          ``quartile_band`` A (lowest quarter) to D by type-7 quartiles, as LAIT bands;
        - ``previous_value``, ``change``: last year's value and the change since;
        - ``trend``: the recent trend over the last five points to this year (Fingertips' chi-square test for
          trend, significant above qchisq(0.998, 1)); ``increasing``, ``decreasing``, ``no significant change`` or
          ``cannot be calculated``;
        - ``target``, ``target_year``, ``target_status``: ``on track`` / ``off track`` against a local target (the
          latest target set on or before the year), compared on the published precision.
    """
    reg = reg or indicators.registry()
    frame = indicators.registry_frame(reg)
    t = table.copy()
    t["unit"] = t["indicator"].map(frame["unit"])
    t["decimals"] = t["indicator"].map(frame["decimals"]).astype(int)
    t["polarity"] = t["indicator"].map(frame["polarity"])
    key = ["indicator", "time_period"]
    is_la = t["geographic_level"].eq(areas.LEVEL_LA)

    # England and region
    eng = t[t["geographic_level"].eq(areas.LEVEL_NATIONAL)][key + ["value"]].rename(columns={"value": "england_value"})
    t = t.merge(eng.drop_duplicates(key), on=key, how="left")
    reg_rows = t[t["geographic_level"].eq(areas.LEVEL_REGION)][key + ["area_code", "value"]]
    reg_rows = reg_rows.rename(columns={"area_code": "region_code", "value": "region_value"}).drop_duplicates(
        key + ["region_code"])
    t = t.merge(reg_rows, on=key + ["region_code"], how="left")
    t.loc[~t["geographic_level"].eq(areas.LEVEL_LA), "region_value"] = np.nan
    is_la = t["geographic_level"].eq(areas.LEVEL_LA)

    # Statistical neighbours
    sn = _neighbour_stats(t[is_la], neighbours)
    t = t.merge(sn, on=key + ["area_code"], how="left")
    t["sn_n"] = t["sn_n"].astype("Int64")
    t["sn_missing"] = t["sn_missing"].fillna("")

    # Significance by CI overlap
    t["vs_england"] = compare.compare_ci(t["value"], t["lower_95"], t["upper_95"], t["england_value"], t["polarity"])
    t["vs_sn"] = compare.compare_ci(t["value"], t["lower_95"], t["upper_95"], t["sn_mean"], t["polarity"])
    t["vs_region"] = compare.compare_ci(t["value"], t["lower_95"], t["upper_95"], t["region_value"], t["polarity"])
    t.loc[t["geographic_level"].eq(areas.LEVEL_NATIONAL), "vs_england"] = ""
    t.loc[~is_la, ["vs_sn", "vs_region"]] = ""

    # Rank and quartile band among LAs
    la_groups = t["indicator"] + "|" + t["time_period"]
    la_vals = t["value"].where(is_la)
    t["rank"] = compare.rank_min(la_vals, la_groups)
    t["rank_of"] = la_vals.notna().groupby(la_groups).transform("sum").where(is_la).astype("Int64")
    t["quartile_band"] = pd.Series(compare.quartile_band(la_vals, la_groups), index=t.index).where(is_la, "").fillna("")

    # Change on last year
    t["_year"] = pd.to_numeric(t["time_period"], errors="coerce")
    prev = t[["indicator", "area_code", "_year", "value"]].copy()
    prev["_year"] = prev["_year"] + 1
    t = t.merge(prev.rename(columns={"value": "previous_value"}).drop_duplicates(["indicator", "area_code", "_year"]),
                on=["indicator", "area_code", "_year"], how="left")
    t["change"] = t["value"] - t["previous_value"]

    # Recent trend: the five points up to each year
    t["trend"] = _trends(t, frame)

    # Targets
    t["target"], t["target_year"], t["target_status"] = np.nan, "", ""
    if targets is not None and len(targets):
        t = _apply_targets(t, targets)

    t["display"] = numbers.format_values(t["value"], t["decimals"], t["status"]).to_numpy()
    t = t.sort_values(["indicator", "geographic_level", "area_code", "period_end"], key=None).reset_index(drop=True)
    order = frame["order"]
    t = t.iloc[np.lexsort((t["period_end"].to_numpy(), t["area_code"].to_numpy(),
                           t["geographic_level"].map({areas.LEVEL_NATIONAL: 0, areas.LEVEL_REGION: 1,
                                                      areas.LEVEL_LA: 2}).to_numpy(),
                           t["indicator"].map(order).to_numpy()))].reset_index(drop=True)
    return t[TABLE_COLUMNS]


def _trends(t: pd.DataFrame, frame: pd.DataFrame) -> pd.Series:
    """The recent trend for every row over the five years ending at its year (windows built by a cross join)."""
    base = t[["indicator", "area_code", "_year"]].dropna()
    points = t[["indicator", "area_code", "_year", "value", "numerator", "denominator"]].dropna(subset=["_year"])
    windows = base.assign(_k=1).merge(pd.DataFrame({"_k": 1, "_offset": np.arange(5)}), on="_k")
    windows["_point_year"] = windows["_year"] - windows["_offset"]
    windows = windows.merge(points.rename(columns={"_year": "_point_year"}), on=["indicator", "area_code",
                                                                                  "_point_year"], how="inner")
    windows["method"] = windows["indicator"].map(frame["method"])
    result = trends.recent_trend(windows, group_cols=["indicator", "area_code", "_year"], period_col="_point_year",
                                 numerator_col="numerator", denominator_col="denominator", kind_col="method")
    merged = t[["indicator", "area_code", "_year"]].merge(result[["indicator", "area_code", "_year", "trend"]],
                                                         on=["indicator", "area_code", "_year"], how="left")
    return merged["trend"].fillna("cannot be calculated").to_numpy()


def _apply_targets(t: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    tg = targets.copy()
    tg["_tyear"] = pd.to_numeric(tg["target_year"], errors="coerce").fillna(0)
    cand = t[["indicator", "area_code", "_year"]].reset_index().merge(tg, on=["indicator", "area_code"])
    cand = cand[cand["_year"] >= cand["_tyear"]].sort_values(["index", "_tyear"]).drop_duplicates("index", keep="last")
    cand = cand.set_index("index")
    t = t.copy()
    t.loc[cand.index, "target"] = cand["target"].astype(float)
    t.loc[cand.index, "target_year"] = cand["target_year"]
    shown = pd.Series(numbers.round_half_up(t.loc[cand.index, "value"].to_numpy(),
                                            t.loc[cand.index, "decimals"].to_numpy()), index=cand.index)
    lower = cand["direction"].eq("lower")
    met = np.where(lower, shown <= cand["target"], shown >= cand["target"])
    status = np.where(shown.isna(), "", np.where(met, "on track", "off track"))
    t.loc[cand.index, "target_status"] = status
    return t


def indicator_table(data_dir, years=None, las=None, vintage: str = "release", targets: bool = True,
                    dataset: indicators.Dataset | None = None) -> pd.DataFrame:
    """The whole pipeline: read a data folder, compute every indicator with limits, benchmark, then filter.

    Parameters
    ----------
    data_dir : str or Path
        Folder of official (or demo) files.
    years : list of int or str, optional
        Keep these years (every year is still used for the change and the trend).
    las : list of str, optional
        Keep these LAs (by code, old code or name); default every area: LAs, regions and England.
    vintage : {"release", "latest"}
        Population vintage for the denominators.
    targets : bool
        Attach each kept LA's local targets from ``targets/``.
    dataset : Dataset, optional
        Already-loaded data (skips reading).

    Returns
    -------
    pandas.DataFrame
        :data:`TABLE_COLUMNS`.

    Raises
    ------
    ParameterError
        Unknown LA, or a year the data do not hold.
    """
    ds = dataset or indicators.load(data_dir, vintage=vintage)
    table = indicators.compute(ds.observations)
    available = table[table["geographic_level"].eq(areas.LEVEL_LA)][["area_code", "old_la_code", "area_name"]]
    chosen = [areas.resolve_la(la, available.drop_duplicates("area_code")) for la in (las or [])]
    tg = None
    if targets and chosen:
        tg = pd.concat([load_targets(c["area_name"]) for c in chosen], ignore_index=True)
    out = benchmark(table, ds.neighbours, targets=tg)
    if years:
        wanted = [str(y) for y in years]
        have = set(out["time_period"])
        missing = [y for y in wanted if y not in have]
        if missing:
            raise ParameterError(f"no data for year {', '.join(missing)} in {ds.data_dir}; years available: "
                                 f"{min(have)} to {max(have)}")
        out = out[out["time_period"].isin(wanted)]
    if chosen:
        out = out[out["area_code"].isin([c["area_code"] for c in chosen])]
    return out.reset_index(drop=True)
