"""In-year figures from the LA's own returns, in the same table as the published data, beside the latest benchmarks.

Published benchmarks come once a year and are months old; the quarterly run shows where the LA stands now. The
record-level returns (:mod:`analysis.read.returns`) give counts for any quarter end (:mod:`analysis.read.records`); this module
turns them into rows of the benchmarked table (:data:`analysis.indicators.benchmark.TABLE_COLUMNS`), with confidence
intervals, compared with the latest *published* statistical-neighbour average, region and England.

Privacy: only counts leave this module, and counts from 1 to 5 are suppressed (shown as ``c``) together with any
rate or percentage made from them, so nothing published reveals a small number of children.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.read import records
from analysis.indicators import benchmark
from analysis.stats import compare, rates
from analysis import indicators
from analysis.errors import ParameterError
from analysis.read.returns import covered_period, read_returns
from analysis.stats.suppression import is_small

LOCAL_INDICATORS = list(records.INDICATORS)


def resolve_period(period: str, today=None, returns=None) -> str:
    """``latest`` -> the latest complete quarter (that the returns cover, when given); else a checked label.

    Quarters are financial-year quarters labelled by the year the financial year starts: ``2024Q4`` ends
    31 March 2025 (see :func:`analysis.read.records.quarter_end`). With ``returns``, the quarter must end within the
    dates the returns cover (:func:`analysis.read.returns.covered_period`: from 1 April of the earliest collection year
    in which they record an event, to the latest date they record, the extract's effective date); "latest" is
    the latest quarter ending by then, so an extract taken in October gives the quarter to September even if the
    run happens later.

    Raises
    ------
    ParameterError
        Not a quarter label, or (with ``returns``) a quarter the returns do not cover, e.g. "returns cover
        1 April 2023 to 14 October 2025; period 2030Q1 ends 31 March 2030".
    """
    cover = covered_period(returns) if returns is not None else None
    if str(period).strip().lower() == "latest":
        label = records.latest_complete_quarter(today)
        if cover is not None:
            covered = records.latest_complete_quarter((cover.end + pd.Timedelta(days=1)).date())
            if records.quarter_end(covered) < records.quarter_end(label):
                label = covered
            if pd.Timestamp(records.quarter_end(label)) < cover.start:
                raise ParameterError(f"returns cover {cover.text()}, which holds no whole quarter's end; "
                                     "in-year figures need returns up to a quarter end (30 June, 30 September, "
                                     "31 December or 31 March)")
        return label
    try:
        records.quarter_end(period)
    except (ValueError, TypeError, ParameterError):
        raise ParameterError(f"period '{period}' is not a quarter; expected e.g. 2025Q1 (financial-year quarters: "
                             "Q1 ends 30 June) or 'latest'") from None
    label = str(period).strip().upper()
    if cover is not None:
        end = pd.Timestamp(records.quarter_end(label))
        if not cover.start <= end <= cover.end:
            raise ParameterError(f"returns cover {cover.text()}; period {label} ends {_long(end)}: give a quarter "
                                 "ending in that span, or 'latest'")
    return label


def _long(d) -> str:
    d = pd.Timestamp(d)
    return f"{d.day} {d:%B %Y}"


def _previous_label(label: str, back: int) -> str:
    year, q = int(label[:4]), int(label[-1])
    index = year * 4 + (q - 1) - back
    return f"{index // 4}Q{index % 4 + 1}"


def _population_for_quarters(labels: list[str], populations: pd.DataFrame, la_code: str) -> dict:
    """The 0-17 population for each quarter: the estimate for the year ending 31 March that contains the quarter
    end (the latest vintage), or the latest year available when the quarter is beyond the estimates."""
    pops = populations[(populations["area_code"] == la_code)]
    if pops.empty:
        return {}
    latest = pops.sort_values("vintage").drop_duplicates("time_period", keep="last")
    by_year = latest.set_index(latest["time_period"].astype(int))["population"].sort_index()
    out = {}
    for label in labels:
        end = records.quarter_end(label)
        year = end.year if end.month <= 3 else end.year + 1
        usable = by_year[by_year.index <= year]
        if len(usable):
            out[label] = float(usable.iloc[-1])
    return out


def local_table(returns, la: pd.Series, period: str, published: pd.DataFrame, populations: pd.DataFrame,
                quarters: int = 12, confidence: float = 0.95) -> pd.DataFrame:
    """In-year rows for the quarters up to ``period``, in the benchmarked table's layout.

    Parameters
    ----------
    returns : analysis.read.returns.Returns
        The LA's record-level returns (either may be absent: its indicators are then missing).
    la : pandas.Series
        The LA (``area_code, old_la_code, area_name, region_code, region_name``).
    period : str
        The last quarter, e.g. ``2025Q2``.
    published : pandas.DataFrame
        The benchmarked published table (:func:`analysis.indicators.benchmark.benchmark`): its latest year for each indicator
        gives the neighbours' average, region and England the in-year figures are compared with.
    populations : pandas.DataFrame
        Population estimates (:data:`analysis.read.population.POP_COLUMNS`) for the rates' denominators.
    quarters : int
        How many quarters to show, ending at ``period`` (the rolling trend by quarter); quarters ending before the
        returns' coverage starts (:func:`analysis.read.returns.covered_period`) are left out.
    confidence : {0.95, 0.998}

    Returns
    -------
    pandas.DataFrame
        :data:`analysis.indicators.benchmark.TABLE_COLUMNS` plus ``display``; ``time_period`` is the quarter label,
        ``data_kind`` is ``local`` (``local, demo comparators`` where the comparators are the project's demo data,
        not published statistics), ``release`` is "local (unpublished)", ``rank`` and ``quartile_band`` are empty
        (LAs are ranked on published figures only), ``previous_value`` and ``change`` are against the quarter
        before, ``trend`` is "cannot be calculated" (rolling 12-month figures overlap, so the trend test does not
        apply), and ``source_file`` names the published year the comparators come from.
    """
    labels = [_previous_label(period, back) for back in range(quarters - 1, -1, -1)]
    cover = covered_period(returns)
    if cover is not None:  # quarters ending before the returns begin would count from records that are not there
        labels = [lb for lb in labels if pd.Timestamp(records.quarter_end(lb)) >= cover.start] or labels[-1:]
    ends = [records.quarter_end(label) for label in labels]
    counts = records.record_counts_many(returns, ends, la["area_code"])
    pops = _population_for_quarters(labels, populations, la["area_code"])
    obs = records.record_observations(counts, pd.Series(pops, dtype=float) if pops else None,
                                      area_code=la["area_code"], area_name=la["area_name"],
                                      old_la_code=la["old_la_code"], region_code=la["region_code"],
                                      region_name=la["region_name"], source_file="LA returns",
                                      population_vintage="latest ONS estimate for the year")
    if obs.empty:
        return pd.DataFrame(columns=benchmark.TABLE_COLUMNS + ["display"])
    obs = obs[obs["indicator"].isin(indicators.registry())].reset_index(drop=True)
    obs = _suppress(obs)
    table = indicators.compute(obs)
    frame = indicators.registry_frame()
    table["unit"] = table["indicator"].map(frame["unit"])
    table["decimals"] = table["indicator"].map(frame["decimals"]).astype(int)
    table["polarity"] = table["indicator"].map(frame["polarity"])
    # The latest published comparators for each indicator
    pub = published[(published["area_code"] == la["area_code"]) & published["value"].notna()]
    pub = pub.sort_values("period_end").drop_duplicates("indicator", keep="last").set_index("indicator")
    for col in ("sn_mean", "sn_n", "sn_missing", "region_value", "england_value"):
        table[col] = table["indicator"].map(pub[col]) if len(pub) else np.nan
    table["sn_missing"] = table["sn_missing"].fillna("")
    # Say what the comparators are: published statistics, or the project's demo data (a run with no --data-dir)
    kind = table["indicator"].map(pub["data_kind"].astype(str)).fillna("published") if len(pub) else "published"
    table["source_file"] = ("LA returns; comparators: " + kind + " " + table["indicator"].map(pub["time_period"])
                            .fillna("none")) if len(pub) else "LA returns; comparators: none"
    table["data_kind"] = np.where(pd.Series(kind, index=table.index).eq("demo"), "local, demo comparators", "local")
    table["neighbour_model"] = str(published["neighbour_model"].iloc[0]) if "neighbour_model" in published and len(
        published) else ""
    lo, hi = rates.limit_columns(confidence)
    for col, comp in (("vs_england", "england_value"), ("vs_sn", "sn_mean"), ("vs_region", "region_value")):
        table[col] = compare.compare_ci(table["value"], table[lo], table[hi], table[comp], table["polarity"]).to_numpy()
    table["rank"] = pd.array([pd.NA] * len(table), dtype="Int64")
    table["rank_of"] = pd.array([pd.NA] * len(table), dtype="Int64")
    table["sn_n"] = pd.array(table["sn_n"], dtype="Int64")
    table["quartile_band"] = ""
    table = table.sort_values(["indicator", "period_end"]).reset_index(drop=True)
    table["previous_value"] = table.groupby("indicator", observed=True)["value"].shift(1)
    table["change"] = table["value"] - table["previous_value"]
    table["trend"] = "cannot be calculated"
    table["target"], table["target_year"], table["target_status"], table["target_direction"] = np.nan, "", "", ""
    table["indicator"] = table["indicator"].astype(str)
    table["aggregate_check"] = ""  # in-year figures are the LA's own: no published aggregate to check
    table = indicators.sort_rows(table)
    return benchmark.with_display(table[benchmark.TABLE_COLUMNS])


def _suppress(obs: pd.DataFrame) -> pd.DataFrame:
    """Counts 1-5 become missing with status ``c``, and so does anything worked out from them."""
    out = obs.copy()
    hide = is_small(out["numerator"]) | (out["denominator_kind"].eq("file").to_numpy() & is_small(out["denominator"]))
    out.loc[hide, "numerator"] = np.nan
    out.loc[hide & out["denominator_kind"].eq("file"), "denominator"] = np.nan
    out.loc[hide, "status"] = "c"
    return out


def for_period(table: pd.DataFrame, period: str) -> pd.DataFrame:
    """The rows of one quarter."""
    return table[table["time_period"] == period].reset_index(drop=True)


def from_returns_folder(returns_dir: str, la_row, period: str, published: pd.DataFrame, populations: pd.DataFrame,
                        confidence: float) -> dict:
    """Read a returns folder and give what a report may hold: the aggregated, suppressed table, never a record.

    Returns
    -------
    dict
        ``local`` (:func:`local_table`), ``period``, ``returns_files`` (name, table, rows, fingerprint of each file)
        and ``returns_notes`` (warnings, as counts).

    Raises
    ------
    ParameterError
        No returns folder, or a bad period.
    """
    if not returns_dir:
        raise ParameterError("a quarterly pack needs --returns DIR (the LA's SSDA903 and CIN census extracts)")
    folder = Path(returns_dir)
    if not folder.is_dir():
        raise ParameterError(f"returns folder not found: {folder}")
    returns = read_returns(folder)
    period = resolve_period(period or "latest", returns=returns)
    table = local_table(returns, la_row, period, published, populations, quarters=12, confidence=confidence)
    files = [{"file": f["file"], "table": f.get("table", ""), "rows": f.get("rows", ""), "sha256": f.get("sha256", "")}
             for f in returns.sources]
    notes = list(returns.warning_summary())
    for kind, reason in getattr(returns, "missing_tables", {}).items():
        notes.append(f"{kind}: {reason}")
    return {"local": table, "period": period, "returns_files": files, "returns_notes": notes}
