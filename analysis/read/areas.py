"""Local authorities, regions and England: codes, names and how a user names them.

An LA keeps its old (three-digit) code when its nine-character code changes (North Yorkshire E10000023 became
E06000065 in 2023), so the old code is the LA's identity across years; tables carry the LA's current code.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

import pandas as pd

from analysis.config import LOOKUP_FILE
from analysis.errors import ParameterError

ENGLAND_CODE = "E92000001"
ENGLAND_NAME = "England"
LONDON_CODE = "E12000007"
LEVEL_LA = "Local authority"
LEVEL_REGION = "Regional"
LEVEL_NATIONAL = "National"


@lru_cache(maxsize=1)
def lookup() -> pd.DataFrame:
    """The LA lookup shipped with the package.

    Returns
    -------
    pandas.DataFrame
        One row per (old code, nine-character code): ``old_la_code, new_la_code, la_name, region_code, region_name,
        first_year, last_year, subregion_code, subregion_name``. London LAs' ``region_code`` is London (E12000007);
        Inner/Outer London is kept in ``subregion_code``.
    """
    table = pd.read_csv(LOOKUP_FILE, dtype=str, keep_default_na=False)
    table["first_year"] = table["first_year"].astype(int)
    table["last_year"] = table["last_year"].astype(int)
    return table


@lru_cache(maxsize=1)
def current() -> pd.DataFrame:
    """One row per LA identity (old code): its latest code, name and region."""
    table = lookup().sort_values(["old_la_code", "last_year"])
    return table.drop_duplicates("old_la_code", keep="last").reset_index(drop=True)


def regions() -> pd.DataFrame:
    """The nine English regions as ``region_code, region_name``."""
    return (current()[["region_code", "region_name"]].drop_duplicates().sort_values("region_code")
            .reset_index(drop=True))


def canonical_codes(old_codes: pd.Series, new_codes: pd.Series) -> pd.Series:
    """Each LA's current nine-character code, found through its old code.

    Parameters
    ----------
    old_codes, new_codes : pandas.Series
        The codes as a file gives them. Where the old code is unknown the given new code is kept.

    Returns
    -------
    pandas.Series
        Current codes, aligned with the input.
    """
    latest = current().set_index("old_la_code")["new_la_code"]
    # An old code is only trusted if the new code given is one the lookup knows for it, or is itself unknown.
    mapped = old_codes.map(latest)
    return mapped.where(mapped.notna() & (mapped != ""), new_codes)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower().replace("&", "and"))


def resolve_la(name_or_code: str, available: pd.DataFrame | None = None) -> pd.Series:
    """Find an LA by its new code, old code or name, case-insensitively.

    Parameters
    ----------
    name_or_code : str
        ``E06000004``, ``808``, ``Stockton-on-Tees`` or ``stockton on tees`` all find Stockton-on-Tees.
    available : pandas.DataFrame, optional
        LAs to choose from (columns ``area_code, old_la_code, area_name``); defaults to the package lookup.

    Returns
    -------
    pandas.Series
        ``area_code, old_la_code, area_name, region_code, region_name`` of the LA.

    Raises
    ------
    ParameterError
        The LA is unknown; the message lists the closest names ("did you mean ...").
    """
    table = current().rename(columns={"new_la_code": "area_code", "la_name": "area_name"})
    if available is not None:
        table = table[table["area_code"].isin(available["area_code"])]
    key = str(name_or_code).strip()
    norm = _norm(key)
    by_code = table[(table["area_code"].str.lower() == key.lower()) | (table["old_la_code"] == key)]
    if by_code.empty:
        # Older codes (before a recode) still find the LA.
        old = lookup()[lookup()["new_la_code"].str.lower() == key.lower()]["old_la_code"]
        by_code = table[table["old_la_code"].isin(old)]
    if by_code.empty:
        by_code = table[table["area_name"].map(_norm) == norm]
    if len(by_code) == 1:
        return by_code.iloc[0][["area_code", "old_la_code", "area_name", "region_code", "region_name"]]
    names = table["area_name"].tolist()
    normed = {_norm(n): n for n in names}
    close = [normed[m] for m in difflib.get_close_matches(norm, list(normed), n=5, cutoff=0.6)]
    close += [n for n in names if norm and norm in _norm(n) and n not in close]
    hint = f"; did you mean {', '.join(close[:5])}?" if close else "; give an LA code (E06000004), old code (808) or name"
    raise ParameterError(f"unknown local authority '{name_or_code}'{hint}")


def slug(name: str) -> str:
    """A file-system-safe lower-case name: ``Stockton-on-Tees`` -> ``stockton-on-tees``."""
    return re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
