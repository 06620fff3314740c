"""The DfE children's services statistical-neighbour model: each LA's ten closest LAs."""

from __future__ import annotations

import pandas as pd

from . import areas, sources
from .errors import InputError

NEIGHBOUR_COLUMNS = ["area_code", "old_la_code", "area_name", "neighbour_rank", "neighbour_code",
                     "neighbour_old_code", "neighbour_name", "closeness", "source_file"]


def from_model(raw: sources.RawFile) -> pd.DataFrame:
    """Long neighbour table from the wide model file (``old_la_code, la_name, SN_1 .. SN_10, SN_1P ..``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`NEIGHBOUR_COLUMNS`, ten rows per LA, nearest first. Codes are current nine-character codes.

    Raises
    ------
    InputError
        A neighbour code that is not an LA, an LA listed as its own neighbour, or an LA listed twice.
    """
    t = raw.table
    dup = t["old_la_code"].duplicated(keep=False)
    if dup.any():
        rows = t.loc[dup, "_row"].tolist()
        raise InputError(raw.name, f"LA {t.loc[dup, 'old_la_code'].iloc[0]} is listed twice (rows {rows[0]} and "
                                   f"{rows[1]}); expected one row per LA", column="old_la_code", row=rows[1])
    long = t.melt(id_vars=["old_la_code", "la_name", "_row"], value_vars=[f"SN_{i}" for i in range(1, 11)],
                  var_name="slot", value_name="neighbour_old_code")
    long["neighbour_rank"] = long["slot"].str[3:].astype(int)
    closeness_cols = [f"SN_{i}P" for i in range(1, 11)]
    available = [c for c in closeness_cols if c in raw.table.columns]
    if available:
        close = t.melt(id_vars=["old_la_code"], value_vars=available, var_name="slot", value_name="closeness")
        close["neighbour_rank"] = close["slot"].str[3:-1].astype(int)
        long = long.merge(close.drop(columns="slot"), on=["old_la_code", "neighbour_rank"], how="left")
    else:
        long["closeness"] = ""
    known = areas.current().set_index("old_la_code")
    unknown = ~long["neighbour_old_code"].isin(known.index) | ~long["old_la_code"].isin(known.index)
    if unknown.any():
        r = long[unknown].iloc[0]
        bad = r["neighbour_old_code"] if r["neighbour_old_code"] not in known.index else r["old_la_code"]
        raise InputError(raw.name, f"'{bad}' is not a known LA old code; expected a three-digit LA code",
                         column=r["slot"] if bad == r["neighbour_old_code"] else "old_la_code", row=int(r["_row"]))
    own = long["neighbour_old_code"] == long["old_la_code"]
    if own.any():
        r = long[own].iloc[0]
        raise InputError(raw.name, f"{r['la_name']} is listed as its own neighbour", column=r["slot"],
                         row=int(r["_row"]))
    long["area_code"] = long["old_la_code"].map(known["new_la_code"])
    long["area_name"] = long["old_la_code"].map(known["la_name"])
    long["neighbour_code"] = long["neighbour_old_code"].map(known["new_la_code"])
    long["neighbour_name"] = long["neighbour_old_code"].map(known["la_name"])
    long["closeness"] = long["closeness"].fillna("").str.strip()
    long["source_file"] = raw.name
    return long.sort_values(["area_code", "neighbour_rank"]).reset_index(drop=True)[NEIGHBOUR_COLUMNS]


def neighbours_of(table: pd.DataFrame, area_code: str) -> pd.DataFrame:
    """The ten neighbours of one LA, nearest first."""
    return table[table["area_code"] == area_code].sort_values("neighbour_rank").reset_index(drop=True)
