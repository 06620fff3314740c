"""Deterministic demo data, written in exactly the official DfE/ONS file layouts.

The project ships no official figures. Its embedded default data is *demo* data that this module generates: every
file has the header, column order, row order, ``time_identifier``, geographic levels, symbols, quoting, line endings
and byte-order mark of the corresponding published file, so the readers in :mod:`analysis.read.sources` read demo and real
data through the same code. The figures are synthetic (see :data:`DEMO_NOTICE`).

The model, in brief
-------------------
* Geography: the 153 current LAs of ``la_lookup.csv`` (``last_year == 2025``) for every year, no boundary changes.
* Each LA has a latent *need score* (region effect + LA type effect + noise). Rates per 10,000 children for each
  measure are ``exp(beta * need + LA noise)`` with a gentle LA trend and year-to-year noise, scaled each year so the
  England rate follows a smooth synthetic national path (CIN about 330, CP about 43, CLA about 68 in 2024).
  Stockton-on-Tees (E06000004) is pinned to CIN 540, CP 55 and CLA 130 per 10,000 in the year to March 2024.
* Counts are Poisson draws around ``rate * population / 10,000``; published rates are recomputed from the counts with
  exact integer round-half-up arithmetic (``(2 * count * scale + pop) // (2 * pop)``, identical to
  ``Decimal.quantize(ROUND_HALF_UP)``), using the demo ONS population: the year ending 31 March Y uses mid-(Y-1).
* DfE conventions: LA counts of 1 to 5 are suppressed (``c``, with the rates/percentages derived from them); regional
  and national counts are rounded to the nearest 10 while their rates use the unrounded sums; ``z`` where a rate has no
  denominator; ``k`` where a percentage rounds to zero; one LA-year of the CIN census is ``x`` (not returned).
* Statistical neighbours: the ten LAs nearest on the need score (with a small weight on log population).

Same seed, byte-identical files: every random component draws from its own ``numpy.random.default_rng([seed, k])``
stream, all orderings are explicit sorts, nothing depends on the clock.
"""

from __future__ import annotations

import csv
import gzip
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis import config
from analysis.config import DEMO_NOTICE, STAMP_FILE
from analysis.stats.suppression import is_small

#: Bump whenever the output of :func:`write_demo_data` changes, so :func:`ensure_demo_data` regenerates.
GENERATOR_VERSION = "3"
DEFAULT_SEED = 2024

ENGLAND_CODE = "E92000001"
STOCKTON_CODE = "E06000004"
#: Stockton-on-Tees in the year to 31 March 2024 (per 10,000 children): the demo's anchor LA.
STOCKTON_2024 = {"cin": 540.0, "cp": 55.0, "cla": 130.0}

# ---------------------------------------------------------------------------------------------------------------
# File layouts (hard-coded from the published files; never read at generation time)
# ---------------------------------------------------------------------------------------------------------------

_GEO_B = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
          "region_name", "old_la_code", "new_la_code", "la_name"]
# CLA publication files put la_name before new_la_code.
_GEO_CLA = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
            "region_name", "old_la_code", "la_name", "new_la_code"]

B1_COLUMNS = _GEO_B + [
    "category", "Anypoint_episodes", "Anypoint_episodes_rate", "Anypoint_child", "Anypoint_child_rate",
    "Started_episodes", "Started_episodes_rate", "Started_child", "Started_child_rate", "Ended_episodes",
    "Ended_episodes_rate", "Ended_child", "Ended_child_rate", "At31_episodes", "At31_episodes_rate",
    "Awaiting_assessment", "Awaiting_assessment_rate"]
D5_BANDS = ["3_months_or_less", "more_than_3_months_6_months", "more_than_6_months_less_than_1_year",
            "1_year_less_than_2_years", "2_years_or_more"]
D5_COLUMNS = _GEO_B + ["category", "CPP_At31"] + [c for b in D5_BANDS for c in (b, b + "_percent")]
D3_COLUMNS = _GEO_B + ["category", "CPP_start", "CPP_subsequent", "CPP_subsequent_percent"]
C1_COLUMNS = _GEO_B + [
    "category", "referral_count", "rereferral_count", "rereferral_percent", "no_further_action_count",
    "no_further_action_percent", "not_in_need_count", "not_in_need_percent", "referral_child_count",
    "rereferral_child_count", "rereferral_child_percent"]
ONS_COLUMNS = _GEO_B + ["age_group", "population_estimate"]
CLA_COLUMNS = _GEO_CLA + ["population_count", "population_estimate", "number", "rate_per_10000"]
MISSING_COLUMNS = _GEO_CLA + ["CLA_group", "number"]
STABILITY_COLUMNS = _GEO_CLA + ["cla_group", "placement_stability", "children_count", "children_percent"]
LEAVERS_COLUMNS = _GEO_CLA + ["care_leaver_age", "breakdown", "care_leaver_count", "care_leaver_percent"]
SN_COLUMNS = ["old_la_code", "la_name", "region_ind", "region_name"] + [
    c for k in range(1, 11) for c in (f"SN_{k}", f"SN_{k}P")]
NEET_COLUMNS = [
    "time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
    "region_name", "old_la_code", "new_la_code", "la_name", "Age", "Cohort_DJFavg", "NEET_not_known_percent",
    "NEET_percent", "Notknown_percent", "annual_change_ppts_NEET_not_known", "annualchange_NEET",
    "annualchange_notknown", "cohort_March", "TOTAL_participating_in_education_and_training_percent",
    "Full_time_education_percent", "Apprenticeship_percent", "Other_education_and_training_percent",
    "annual_change_Participation_in_education_training", "annual_change_FTE", "annual_change_apprenticeship",
    "annual_change_other_education_training", "September_guarantee_Offer_made_percent",
    "September_guarantee_annual_change_ppts", "cohort_noSEN_percent", "NEET_NK_noSEN_percent", "cohort_EHCP_percent",
    "NEET_NK_EHCP_percent", "cohort_SENDsupport_percent", "NEET_NK_SENDsupport_percent", "VG_cohort_DJF_avg",
    "VG_cohort_percentage", "VG_NEET_NK_percentage", "Level_3", "L2_em_GCSE_othL2", "avg_att8", "pt_l2basics_94",
    "sess_overall_percent", "enrolments_pa_10_exact_percent", "NEET_NK_quintile", "NEET_quintile",
    "Notknown_quintile", "Participation_ET_quintile", "Sep_guarantee_quintile"]

CLA_CATEGORIES = ["Children ceasing to be looked after each year", "Children looked after at 31 March each year",
                  "Children starting to be looked after each year"]
MISSING_GROUPS = [
    "Average number of away from placement without authorisation incidents per looked after child",
    "Average number of missing incidents per looked after child who went missing",
    "Children away from placement without authorisation at 31 March",
    "Children looked after during the year",
    "Children missing at 31 March",
    "Children who had a missing incident during the year",
    "Children who went missing more than once during the year",
    "Children who were away from placement without authorisation during the year",
    "Children who were away from placement without authorisation more than once during the year",
    "Number of away from placement without authorisation incidents during the year",
    "Number of missing incidents during the year",
    "Percentage of children who had a missing incident during the year",
    "Percentage of children who were away from placement without authorisation during the year",
]
_STAB_LONG = "Children looked after continuously for at least 2.5 years on 31 March aged under 16 years"
STABILITY_ROWS = [
    (_STAB_LONG, "Living with the same carer for at least 2 years"),
    (_STAB_LONG, "Total children"),
    ("CLA 2 years on 31 March", "Total children"),
    ("CLA 2 years on 31 March", "With 3 or more placements during the previous 2 years"),
    ("CLA on 31 March", "Total children"),
    ("CLA on 31 March", "With 3 or more placements during the year"),
]
LEAVER_AGES = ["17 to 18 years", "19 to 21 years"]
ACCOMMODATION_BREAKDOWNS = ["Accommodation considered suitable", "Accommodation considered unsuitable",
                            "No information", "Suitability total"]
ACTIVITY_BREAKDOWNS = [
    "Education other than higher education",
    "Higher education i.e. studies beyond A level",
    "In an apprenticeship",
    "In training or employment",
    "In training or employment (excl. apprenticeship)",
    "Not in education, training or employment, owing to illness or disability",
    "Not in education, training or employment, owing to other reasons",
    "Not in education, training or employment, owing to pregnancy or parenting",
    "Total",
    "Total in education, employment or training",
    "Total information not known",
    "Total not in education, employment or training",
]
SN_LABELS = ["Extremely close", "Very close", "Close ", "Somewhat close", "Not close"]

# Years covered by each file (reporting year = year ending 31 March; ONS = mid-year).
POP_YEARS = list(range(2012, 2025))
CIN_YEARS = list(range(2013, 2025))
CP_YEARS = list(range(2013, 2026))
CLA_YEARS = list(range(2015, 2025))
NEET_YEARS = list(range(2016, 2025))
KPI_YEARS = list(range(2021, 2026))      # placement stability and care leavers, as published
_ALL_YEARS = list(range(2013, 2026))     # reporting years modelled internally


@dataclass(frozen=True)
class DemoFile:
    """One demo file: its key, its name in the demo folder, the published file whose layout it copies."""

    key: str
    name: str
    real_name: str
    description: str


def _neet_name(year: int) -> str:
    return f"demo_UD_NEETNK_LA_dashboard_{year}.csv"


#: Every file :func:`write_demo_data` writes (besides ``README.md``), in writing order.
DEMO_FILES: tuple[DemoFile, ...] = (
    DemoFile("population", "demo_ons_mid-year_population_estimates_2012_to_2024.csv",
             "ons_mid-year_population_estimates_2012_to_2024.csv",
             "ONS-style mid-year population estimates, children aged 0 to 17, mid-2012 to mid-2024"),
    DemoFile("cin_b1", "demo_b1_children_in_need_2013_to_2024.csv", "b1_children_in_need_2013_to_2024.csv",
             "children in need (table B1), 2013 to 2024, counts and rates per 10,000"),
    DemoFile("cp_d5", "demo_d5_cpps_at31march_by_duration_2013_to_2025.csv",
             "d5_cpps_at31march_by_duration_2013_to_2025.csv",
             "child protection plans at 31 March by duration (table D5), 2013 to 2025"),
    DemoFile("cla_rates", "demo_cla_number_and_rate_per_10k_children_pub2024.csv",
             "cla_number_and_rate_per_10k_children_pub2024.csv",
             "children looked after, starting and ceasing: numbers and rates per 10,000, 2015 to 2024"),
    DemoFile("cla_missing",
             "demo_la_children_who_were_missing_or_away_from_placement_without_authorisation_updated25.csv",
             "la_children_who_were_missing_or_away_from_placement_without_authorisation_updated25.csv",
             "looked-after children missing or away from placement, 13 measures, 2015 to 2024"),
    *(DemoFile(f"neet_{y}", _neet_name(y), "UD_NEETNK_LA_dashboard_2024.csv",
               f"NEET and not known age 16-17, {y} (December {y - 1} to February {y} average)")
      for y in NEET_YEARS),
    DemoFile("sn_model", "demo_sn_model_2025_wide.csv", "sn_model_2025_wide.csv",
             "statistical-neighbour model: ten nearest LAs on a synthetic need score"),
    DemoFile("cin_c1", "demo_c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
             "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
             "referrals and re-referrals within 12 months (table C1), 2013 to 2025"),
    DemoFile("cp_d3", "demo_d3_cpps_subsequent_plan_2013_to_2025.csv", "d3_cpps_subsequent_plan_2013_to_2025.csv",
             "child protection plans that are a second or subsequent plan (table D3), 2013 to 2025"),
    DemoFile("cla_stability", "demo_la_cla_placement_stability.csv", "la_cla_placement_stability.csv",
             "placement stability of looked-after children, 2021 to 2025"),
    DemoFile("leavers_activity", "demo_la_care_leavers_activity.csv.gz", "la_care_leavers_activity.csv.gz",
             "care leavers aged 17-18 and 19-21 by activity (gzip, as published), 2021 to 2025"),
    DemoFile("leavers_accommodation", "demo_la_care_leavers_accommodation_suitability.csv",
             "la_care_leavers_accommodation_suitability.csv",
             "care leavers aged 17-18 and 19-21 by suitability of accommodation, 2021 to 2025"),
    DemoFile("ks2_social_care", "demo_ks2_la.csv", "ks2_la.csv",
             "key stage 2 of children looked after for 12 months, 2018/19 to 2024/25 (the scorecard)"),
    DemoFile("ks4_social_care", "demo_ks4_la.csv", "ks4_la.csv",
             "key stage 4 (Attainment 8, Progress 8) of children looked after for 12 months, 2018/19 to 2024/25"),
    DemoFile("cla_outcomes", "demo_la_conviction_health_outcome_cla.csv", "la_conviction_health_outcome_cla.csv",
             "looked-after children's convictions and SDQ scores, 2021 to 2025"),
    DemoFile("sen2", "demo_sen2_mi.csv", "sen2_mi.csv", "new EHC plans issued within 20 weeks, 2015 to 2022"),
    DemoFile("eyfsp", "demo_1_eyfsp_headline_measures_2022.csv", "1_eyfsp_headline_measures_2022.csv",
             "early years foundation stage profile, good level of development, 2021/22"),
    DemoFile("early_years", "demo_early_years_provision_children_registered_2018_2023.csv",
             "early_years_provision_children_registered_2018_2023.csv",
             "funded early education of eligible 2-year-olds, January 2018 to 2023"),
    DemoFile("lait", "demo_lait_bds_long_0.parquet", "lait_bds_long_0.parquet",
             "LAIT's long file (Parquet): published values of the scorecard's LAIT measures, 2016 to 2025"),
    DemoFile("rsx_2024", "demo_RSX_2023-24_data_by_LA.ods", "RSX_2023-24_data_by_LA.ods",
             "revenue outturn 2023-24 (OpenDocument): children's social care expenditure, GBP thousand"),
    DemoFile("rsx_2025", "demo_RSX_LA_Data_2024-25_data_by_LA.ods", "RSX_LA_Data_2024-25_data_by_LA.ods",
             "revenue outturn 2024-25 (OpenDocument): children's social care expenditure, GBP thousand"),
)


@dataclass(frozen=True)
class _Style:
    """How a file is written: the published file's encoding conventions."""

    columns: tuple[str, ...]
    bom: bool = False
    crlf: bool = False
    london_split: bool = True          # London LAs under Inner/Outer London; Inner/Outer regional rows present
    la_order: str = "name"             # "name": by region then LA name; "code": by region then new LA code
    quote_empty: tuple[str, ...] = ()  # columns written as "" when empty (tables D3 and D5 do this)
    time_identifier: str = "Reporting year"


_CIN_QUOTED = ("region_code", "region_name", "new_la_code", "la_name")
STYLE_B1 = _Style(tuple(B1_COLUMNS))
STYLE_D5 = _Style(tuple(D5_COLUMNS), quote_empty=_CIN_QUOTED)
STYLE_D3 = _Style(tuple(D3_COLUMNS), quote_empty=_CIN_QUOTED)
STYLE_C1 = _Style(tuple(C1_COLUMNS))
STYLE_ONS = _Style(tuple(ONS_COLUMNS))
STYLE_CLA = _Style(tuple(CLA_COLUMNS), bom=True, crlf=True, la_order="code")
STYLE_MISSING = _Style(tuple(MISSING_COLUMNS), bom=True, crlf=True, la_order="code")
STYLE_STABILITY = _Style(tuple(STABILITY_COLUMNS), bom=True, la_order="code")
STYLE_ACTIVITY = _Style(tuple(LEAVERS_COLUMNS), bom=True, la_order="code")
STYLE_ACCOMMODATION = _Style(tuple(LEAVERS_COLUMNS), la_order="code")
STYLE_NEET = _Style(tuple(NEET_COLUMNS), london_split=False, la_order="neet", time_identifier="Calendar year")
STYLE_SN = _Style(tuple(SN_COLUMNS), bom=True)

# ---------------------------------------------------------------------------------------------------------------
# Geography
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _Geo:
    old: list            # old LA codes (str)
    new: list            # new LA codes (str)
    name: list           # LA names
    region: list         # E12 region code
    region_name: list
    sub: list            # Inner/Outer London code for London LAs, else the E12 code
    sub_name: list
    regions: list        # [(code, name)] the 9 English regions, by code
    subregions: list     # [(code, name)] Inner and Outer London, by code

    @property
    def n(self) -> int:
        return len(self.new)


def _load_geo(lookup_file: Path | None = None) -> _Geo:
    path = Path(lookup_file) if lookup_file is not None else config.LOOKUP_FILE
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = [r for r in csv.DictReader(handle) if str(r["last_year"]).strip() == "2025"]
    rows.sort(key=lambda r: r["new_la_code"])
    geo = _Geo(old=[], new=[], name=[], region=[], region_name=[], sub=[], sub_name=[], regions=[], subregions=[])
    regions, subregions = {}, {}
    for r in rows:
        geo.old.append(r["old_la_code"].strip())
        geo.new.append(r["new_la_code"].strip())
        geo.name.append(r["la_name"].strip())
        geo.region.append(r["region_code"].strip())
        geo.region_name.append(r["region_name"].strip())
        regions[r["region_code"].strip()] = r["region_name"].strip()
        sub = (r.get("subregion_code") or "").strip()
        if sub:
            geo.sub.append(sub)
            geo.sub_name.append(r["subregion_name"].strip())
            subregions[sub] = r["subregion_name"].strip()
        else:
            geo.sub.append(geo.region[-1])
            geo.sub_name.append(geo.region_name[-1])
    geo.regions = sorted(regions.items())
    geo.subregions = sorted(subregions.items())
    return geo


class _Units:
    """National, regional and LA units of one file style, with row order and aggregation.

    Unit index 0 is England, 1..R the regional rows, R+1.. the LAs (in lookup order, i.e. by new code).
    """

    def __init__(self, geo: _Geo, style: _Style):
        self.geo = geo
        self.regions = list(geo.regions) + (list(geo.subregions) if style.london_split else [])
        self.R = len(self.regions)
        member = np.zeros((self.R, geo.n), dtype=np.int64)
        for r, (code, _) in enumerate(self.regions):
            for i in range(geo.n):
                if geo.region[i] == code or geo.sub[i] == code:
                    member[r, i] = 1
        self.member = member
        # Geographic columns per unit.
        blank = {"region_code": "", "region_name": "", "old_la_code": "", "new_la_code": "", "la_name": ""}
        self.geo_cols = [dict(blank, geographic_level="National")]
        for code, name in self.regions:
            self.geo_cols.append(dict(blank, geographic_level="Regional", region_code=code, region_name=name))
        la_region = []
        for i in range(geo.n):
            rc, rn = (geo.sub[i], geo.sub_name[i]) if style.london_split else (geo.region[i], geo.region_name[i])
            la_region.append((rc, rn))
            self.geo_cols.append({"geographic_level": "Local authority", "region_code": rc, "region_name": rn,
                                  "old_la_code": geo.old[i], "new_la_code": geo.new[i], "la_name": geo.name[i]})
        # Row order.
        la_idx = list(range(geo.n))
        if style.la_order == "neet":
            order = [0]
            for r in sorted(range(self.R), key=lambda r: self.regions[r][1]):
                order.append(1 + r)
                las = [i for i in la_idx if la_region[i][0] == self.regions[r][0]]
                order += [1 + self.R + i for i in sorted(las, key=lambda i: (geo.name[i], geo.new[i]))]
        else:
            if style.la_order == "code":
                key = lambda i: (la_region[i][0], geo.new[i])  # noqa: E731
            else:
                key = lambda i: (la_region[i][0], geo.name[i], geo.new[i])  # noqa: E731
            order = [0] + [1 + r for r in range(self.R)] + [1 + self.R + i for i in sorted(la_idx, key=key)]
        self.order = order
        self.is_la = np.array([False] * (1 + self.R) + [True] * geo.n)

    def agg(self, x: np.ndarray) -> np.ndarray:
        """LA values (n_la,) -> unit values (1 + R + n_la,): England and regions are sums."""
        x = np.asarray(x)
        return np.concatenate([[x.sum()], self.member @ x, x])

    def la_slice(self, u: np.ndarray) -> np.ndarray:
        return u[1 + self.R:]


# ---------------------------------------------------------------------------------------------------------------
# Exact arithmetic and formatting
# ---------------------------------------------------------------------------------------------------------------


def _div_half_up(num, den, scale: int) -> np.ndarray:
    """round_half_up(num * scale / den) for non-negative integers, exactly, with integer arithmetic.

    Equal to ``Decimal(num * scale) / Decimal(den)`` quantized with ROUND_HALF_UP. ``den`` must be positive.
    """
    num = np.asarray(num, dtype=np.int64)
    den = np.asarray(den, dtype=np.int64)
    return (2 * num * scale + den) // (2 * den)


def _round10(x) -> np.ndarray:
    """Nearest 10, halves up (the DfE rule for national and regional counts)."""
    x = np.asarray(x, dtype=np.int64)
    return (x + 5) // 10 * 10


def _fmt_tenths(t) -> np.ndarray:
    """Integer tenths -> '12.3', '12' (DfE drops a trailing '.0'), '-0.4'."""
    out = []
    for v in np.asarray(t, dtype=np.int64).tolist():
        a = abs(v)
        s = str(a // 10) if a % 10 == 0 else f"{a // 10}.{a % 10}"
        out.append("-" + s if v < 0 and s != "0" else s)
    return np.array(out, dtype=object)


def _fmt_int(x) -> np.ndarray:
    return np.array([str(v) for v in np.asarray(x, dtype=np.int64).tolist()], dtype=object)


def _counts(units: _Units, u: np.ndarray, suppress: bool = True) -> np.ndarray:
    """Unit counts -> strings: LA 1..5 'c', England and regions rounded to the nearest 10."""
    u = np.asarray(u, dtype=np.int64)
    out = np.where(units.is_la, u, _round10(u))
    s = _fmt_int(out)
    if suppress:
        s = np.where(units.is_la & is_small(u), "c", s)
    return s


def _ratio(num, den, scale: int, tenths: bool, k_symbol: bool = False) -> np.ndarray:
    """num/den*scale, half up, to 1 dp (tenths=True, scale in tenths) or whole; 'z' where den is 0."""
    num = np.asarray(num, dtype=np.int64)
    den = np.asarray(den, dtype=np.int64)
    safe = np.where(den > 0, den, 1)
    v = _div_half_up(num, safe, scale)
    s = _fmt_tenths(v) if tenths else _fmt_int(v)
    if k_symbol:
        s = np.where((num > 0) & (v == 0), "k", s)
    return np.where(den > 0, s, "z")


def _inherit(values: np.ndarray, *sources: np.ndarray) -> np.ndarray:
    """Where a source cell is a suppression symbol, the derived value takes the same symbol."""
    out = values
    for src in sources:
        out = np.where(np.isin(src, ["c", "x"]), src, out)
    return out


def _quote(field: str) -> str:
    if any(ch in field for ch in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


def _write_table(path: Path, style: _Style, rows: list[list[str]], gz: bool = False) -> Path:
    """Write rows (already strings, in column order) with the published file's conventions."""
    quote_empty = [c in style.quote_empty for c in style.columns]
    eol = "\r\n" if style.crlf else "\n"
    lines = [",".join(_quote(c) for c in style.columns)]
    for row in rows:
        lines.append(",".join('""' if (f == "" and qe) else _quote(f) for f, qe in zip(row, quote_empty)))
    data = (eol.join(lines) + eol).encode("utf-8")
    if style.bom:
        data = b"\xef\xbb\xbf" + data
    if gz:
        with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle:
            handle.write(data)
    else:
        path.write_bytes(data)
    return path


def _rows(units: _Units, style: _Style, year: int, cats: list[dict], values: list[dict]) -> list[list[str]]:
    """Rows for one year: for each unit in file order, one row per category.

    ``cats[j]`` holds the category columns of category j; ``values[j]`` maps value columns to unit arrays.
    """
    const = {"time_period": str(year), "time_identifier": style.time_identifier, "country_code": ENGLAND_CODE,
             "country_name": "England"}
    out = []
    for u in units.order:
        base = dict(const, **units.geo_cols[u])
        for cat, vals in zip(cats, values):
            rec = dict(base, **cat)
            for col, arr in vals.items():
                rec[col] = arr[u]
            out.append([rec[c] for c in style.columns])
    return out


# ---------------------------------------------------------------------------------------------------------------
# The latent model
# ---------------------------------------------------------------------------------------------------------------

_REGION_NEED = {"E12000001": 1.0, "E12000002": 0.6, "E12000003": 0.45, "E12000004": -0.05, "E12000005": 0.35,
                "E12000006": -0.45, "E12000007": 0.0, "E12000008": -0.5, "E12000009": -0.35,
                "E13000001": 0.45, "E13000002": -0.15}
_TYPE_NEED = {"E06": 0.0, "E08": 0.25, "E09": 0.0, "E10": -0.35}
# Typical child (0-17) population by LA type, mid-2024: (median, log sd).
_TYPE_POP = {"E06": (45000, 0.45), "E08": (66000, 0.35), "E09": (57000, 0.25), "E10": (215000, 0.35)}
# Fixed populations (mid-2024) for the anchor and the two tiny LAs.
_POP_FIXED = {STOCKTON_CODE: 44300, "E06000053": 340, "E09000001": 820}
_ENGLAND_POP_2024 = 12_150_000

# Measures modelled as rates per 10,000: beta on the need score, LA noise sd, LA trend sd, year noise sd.
_MEASURES = {
    "cin": (0.25, 0.15, 0.012, 0.04),
    "cp": (0.30, 0.25, 0.020, 0.09),
    "cla": (0.45, 0.18, 0.015, 0.04),
    "cla_start": (0.35, 0.20, 0.015, 0.09),
    "cla_cease": (0.35, 0.20, 0.015, 0.09),
    "referral": (0.20, 0.20, 0.015, 0.07),
    "cp_start": (0.30, 0.25, 0.020, 0.09),
}


def _england_path(measure: str, years: np.ndarray) -> np.ndarray:
    """Synthetic England rate per 10,000 for each reporting year (smooth, plausible, not official)."""
    t = years - 2013.0
    if measure == "cin":
        return 328 + 0.6 * t + 6 * np.sin(0.9 * t)
    if measure == "cp":
        return 37 + 0.45 * t + 1.5 * np.sin(0.7 * t)
    if measure == "cla":
        return 58.5 + 1.1 * t - 0.02 * t ** 2
    if measure == "cla_start":
        return 30 - 0.2 * t + 0.8 * np.sin(0.8 * t)
    if measure == "cla_cease":
        return 28.5 - 0.15 * t + 0.7 * np.sin(0.6 * t)
    if measure == "referral":
        return 545 - 1.5 * t + 12 * np.sin(0.7 * t)
    if measure == "cp_start":
        return 48 + 0.35 * t + 1.5 * np.sin(0.8 * t)
    raise KeyError(measure)


class _Model:
    """All latent quantities, drawn once; files are views of it."""

    def __init__(self, geo: _Geo, seed: int):
        self.geo = geo
        self.seed = seed
        n = geo.n
        self.stockton = geo.new.index(STOCKTON_CODE) if STOCKTON_CODE in geo.new else None
        prefix = [c[:3] for c in geo.new]

        rng = self.rng(1)
        need = np.array([_REGION_NEED.get(geo.sub[i], _REGION_NEED.get(geo.region[i], 0.0))
                         + _TYPE_NEED.get(prefix[i], 0.0) for i in range(n)])
        need = need + rng.normal(0.0, 0.5, n)
        if self.stockton is not None:
            need[self.stockton] = 1.5
        self.need = need
        self.common = rng.normal(0.0, 1.0, n)   # LA noise common to all measures

        # Population, mid-2012 .. mid-2024 (index 0..12).
        rng = self.rng(2)
        med = np.array([_TYPE_POP.get(p, (50000, 0.4))[0] for p in prefix], dtype=float)
        sd = np.array([_TYPE_POP.get(p, (50000, 0.4))[1] for p in prefix], dtype=float)
        base = med * np.exp(sd * rng.normal(0.0, 1.0, n))
        fixed = np.array([c in _POP_FIXED for c in geo.new])
        base[fixed] = [_POP_FIXED[c] for c in geo.new if c in _POP_FIXED]
        free_target = _ENGLAND_POP_2024 - base[fixed].sum()
        base[~fixed] *= free_target / base[~fixed].sum()
        growth = rng.normal(0.0055, 0.004, n)
        wiggle = rng.normal(0.0, 0.002, (n, len(POP_YEARS)))
        ty = np.array(POP_YEARS, dtype=float) - 2024
        pop = base[:, None] * (1 + growth[:, None]) ** ty[None, :] * (1 + wiggle)
        pop[:, -1] = base
        self.pop = np.rint(pop).astype(np.int64)          # (n, 13) mid-years 2012..2024

        # Rates per 10,000 for every reporting year 2013..2025 (index 0..12).
        self.years = np.array(_ALL_YEARS)
        self.rate = {}
        for k, (measure, (beta, la_sd, trend_sd, year_sd)) in enumerate(_MEASURES.items()):
            rng = self.rng(10 + k)
            own = rng.normal(0.0, 1.0, n)
            trend = rng.normal(0.0, trend_sd, n)
            eps = rng.normal(0.0, year_sd, (n, len(self.years)))
            noise = np.zeros_like(eps)
            for j in range(len(self.years)):
                noise[:, j] = eps[:, j] + (0.6 * noise[:, j - 1] if j else 0.0)
            log_m = beta * need + la_sd * (0.6 * self.common + 0.8 * own)
            raw = np.exp(log_m[:, None] + trend[:, None] * (self.years - 2019)[None, :] + noise)
            den = self.denominator_matrix()
            scale = _england_path(measure, self.years.astype(float)) * den.sum(0) / (raw * den).sum(0)
            rate = raw * scale[None, :]
            self.rate[measure] = rate
        if self.stockton is not None:
            s, j24 = self.stockton, self.year_index(2024)
            for measure, target in STOCKTON_2024.items():
                r = self.rate[measure][s]
                self.rate[measure][s] = r * (target / r[j24])

        # Counts per reporting year (n, 13), Poisson around the expected values.
        self.count = {}
        den = self.denominator_matrix()
        for k, measure in enumerate(_MEASURES):
            rng = self.rng(30 + k)
            self.count[measure] = rng.poisson(self.rate[measure] * den / 10000.0).astype(np.int64)

        # One LA-year of the CIN census "not returned" (x), never Stockton or the tiny LAs.
        rng = self.rng(50)
        eligible = [i for i in range(n) if i != self.stockton and geo.new[i] not in _POP_FIXED]
        self.x_la = int(eligible[int(rng.integers(len(eligible)))])
        self.x_year = 2021

    def rng(self, k: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, k])

    def year_index(self, year: int) -> int:
        return int(year) - _ALL_YEARS[0]

    def denominator(self, year: int) -> np.ndarray:
        """The 0-17 population used for the year ending 31 March ``year``: the mid-(year-1) estimate."""
        return self.pop[:, POP_YEARS.index(int(year) - 1)]

    def denominator_matrix(self) -> np.ndarray:
        return np.stack([self.denominator(y) for y in _ALL_YEARS], axis=1)

    def la_count(self, measure: str, year: int) -> np.ndarray:
        return self.count[measure][:, self.year_index(year)]


def _lognormal_ratio(rng, n, centre, sd) -> np.ndarray:
    return centre * np.exp(rng.normal(0.0, sd, n))


# ---------------------------------------------------------------------------------------------------------------
# The files
# ---------------------------------------------------------------------------------------------------------------


def _file_population(m: _Model, path: Path) -> Path:
    units = _Units(m.geo, STYLE_ONS)
    rows = []
    for j, year in sorted(enumerate(POP_YEARS), key=lambda t: -t[1]):
        p = units.agg(m.pop[:, j])
        rows += _rows(units, STYLE_ONS, year, [{"age_group": "Children aged 0 to 17 years"}],
                      [{"population_estimate": _fmt_int(p)}])
    return _write_table(path, STYLE_ONS, rows)


def _mask_x(units: _Units, m: _Model, year: int, values: dict) -> dict:
    """The not-returned LA-year: every value 'x'."""
    if year != m.x_year:
        return values
    u = 1 + units.R + m.x_la
    for arr in values.values():
        arr[u] = "x"
    return values


def _file_b1(m: _Model, path: Path) -> Path:
    units = _Units(m.geo, STYLE_B1)
    n = m.geo.n
    rng = m.rng(100)
    r_any = _lognormal_ratio(rng, n, 1.75, 0.08)
    r_any_ep = _lognormal_ratio(rng, n, 1.07, 0.02)
    r_start = _lognormal_ratio(rng, n, 0.93, 0.15)
    r_start_ep = _lognormal_ratio(rng, n, 1.07, 0.02)
    r_end = _lognormal_ratio(rng, n, 0.86, 0.12)
    r_end_ep = _lognormal_ratio(rng, n, 1.06, 0.02)
    r_wait = _lognormal_ratio(rng, n, 0.035, 0.9)
    rows = []
    for year in sorted(CIN_YEARS, reverse=True):
        at31 = m.la_count("cin", year)
        jit = lambda sd: np.exp(rng.normal(0.0, sd, n))  # noqa: E731
        started_c = np.rint(at31 * r_start * jit(0.05)).astype(np.int64)
        ended_c = np.rint(at31 * r_end * jit(0.05)).astype(np.int64)
        any_c = np.maximum(np.rint(at31 * r_any * jit(0.03)).astype(np.int64), np.maximum(at31, started_c))
        any_c = np.maximum(any_c, ended_c)
        cols = {
            "Anypoint_episodes": np.maximum(np.rint(any_c * r_any_ep), any_c),
            "Anypoint_child": any_c,
            "Started_episodes": np.maximum(np.rint(started_c * r_start_ep), started_c),
            "Started_child": started_c,
            "Ended_episodes": np.maximum(np.rint(ended_c * r_end_ep), ended_c),
            "Ended_child": ended_c,
            "At31_episodes": at31,
            "Awaiting_assessment": rng.poisson(at31 * r_wait * jit(0.3)),
        }
        pop = units.agg(m.denominator(year))
        vals = {}
        for col, la in cols.items():
            u = units.agg(np.asarray(la, dtype=np.int64))
            s = _counts(units, u)
            vals[col] = s
            vals[col + "_rate"] = _inherit(_ratio(u, pop, 100000, tenths=True), s)
        vals = _mask_x(units, m, year, vals)
        rows += _rows(units, STYLE_B1, year, [{"category": "Children in Need"}], [vals])
    return _write_table(path, STYLE_B1, rows)


def _secondary_suppress(units: _Units, counts: list[np.ndarray], strings: list[np.ndarray]) -> None:
    """Where exactly one band of an LA row is suppressed, also suppress the smallest other non-zero band."""
    for u in np.nonzero(units.is_la)[0]:
        hidden = [b for b, s in enumerate(strings) if s[u] == "c"]
        if len(hidden) != 1:
            continue
        others = [(counts[b][u], b) for b in range(len(counts)) if b not in hidden and counts[b][u] > 0]
        if others:
            strings[min(others)[1]][u] = "c"


def _file_d5(m: _Model, path: Path) -> Path:
    units = _Units(m.geo, STYLE_D5)
    n = m.geo.n
    rng = m.rng(110)
    base_share = np.array([0.30, 0.25, 0.27, 0.15, 0.03])
    la_alpha = base_share[None, :] * np.exp(rng.normal(0.0, 0.15, (n, 5)))
    rows = []
    for year in sorted(CP_YEARS, reverse=True):
        total = m.la_count("cp", year)
        p = la_alpha * np.exp(rng.normal(0.0, 0.1, (n, 5)))
        p = p / p.sum(1, keepdims=True)
        bands = rng.multinomial(total, p)                      # (n, 5)
        tot_u = units.agg(total)
        vals = {"CPP_At31": _counts(units, tot_u)}
        band_u = [units.agg(bands[:, b]) for b in range(5)]
        band_s = [_counts(units, bu) for bu in band_u]
        _secondary_suppress(units, band_u, band_s)
        for b, name in enumerate(D5_BANDS):
            vals[name] = band_s[b]
            pct = _inherit(_ratio(band_u[b], tot_u, 1000, tenths=True), band_s[b])
            # A suppressed total hides the non-zero bands' percentages; a zero band stays 0.
            vals[name + "_percent"] = np.where((band_u[b] > 0) & (vals["CPP_At31"] == "c"), "c", pct)
        vals = _mask_x(units, m, year, vals)
        rows += _rows(units, STYLE_D5, year, [{"category": "Child Protection Plans by length of time"}], [vals])
    return _write_table(path, STYLE_D5, rows)


def _file_d3(m: _Model, path: Path) -> Path:
    units = _Units(m.geo, STYLE_D3)
    n = m.geo.n
    rng = m.rng(120)
    p_sub = np.clip(0.21 * np.exp(0.1 * m.need + rng.normal(0.0, 0.2, n)), 0.05, 0.5)
    rows = []
    for year in sorted(CP_YEARS, reverse=True):
        start = m.la_count("cp_start", year)
        sub = rng.binomial(start, np.clip(p_sub * np.exp(rng.normal(0.0, 0.1, n)), 0.0, 0.9))
        su, bu = units.agg(start), units.agg(sub)
        ss, bs = _counts(units, su), _counts(units, bu)
        vals = {"CPP_start": ss, "CPP_subsequent": bs,
                "CPP_subsequent_percent": _inherit(_ratio(bu, su, 1000, tenths=True), bs, ss)}
        vals = _mask_x(units, m, year, vals)
        rows += _rows(units, STYLE_D3, year,
                      [{"category": "Child Protection Plans which are a second or subsequent plan"}], [vals])
    return _write_table(path, STYLE_D3, rows)


def _file_c1(m: _Model, path: Path) -> Path:
    units = _Units(m.geo, STYLE_C1)
    n = m.geo.n
    rng = m.rng(130)
    p_re = np.clip(0.21 * np.exp(rng.normal(0.0, 0.2, n)), 0.05, 0.45)
    p_nfa = np.clip(0.08 * np.exp(rng.normal(0.0, 0.9, n)), 0.0, 0.6)
    p_nin = np.clip(0.25 * np.exp(rng.normal(0.0, 0.35, n)), 0.0, 0.7)
    p_child = np.clip(0.89 * np.exp(rng.normal(0.0, 0.03, n)), 0.75, 1.0)
    rows = []
    for year in sorted(CP_YEARS, reverse=True):
        ref = m.la_count("referral", year)
        jit = lambda p: np.clip(p * np.exp(rng.normal(0.0, 0.08, n)), 0.0, 1.0)  # noqa: E731
        re = rng.binomial(ref, jit(p_re))
        nfa = rng.binomial(ref, jit(p_nfa))
        nin = rng.binomial(ref, jit(p_nin))
        child = rng.binomial(ref, p_child)
        re_child = np.minimum(rng.binomial(child, jit(p_re * 0.95)), re)
        u = {k: units.agg(v) for k, v in
             {"ref": ref, "re": re, "nfa": nfa, "nin": nin, "child": child, "re_child": re_child}.items()}
        s = {k: _counts(units, v) for k, v in u.items()}
        vals = {
            "referral_count": s["ref"],
            "rereferral_count": s["re"],
            "rereferral_percent": _inherit(_ratio(u["re"], u["ref"], 1000, True), s["re"], s["ref"]),
            "no_further_action_count": s["nfa"],
            "no_further_action_percent": _inherit(_ratio(u["nfa"], u["ref"], 1000, True), s["nfa"], s["ref"]),
            "not_in_need_count": s["nin"],
            "not_in_need_percent": _inherit(_ratio(u["nin"], u["ref"], 1000, True), s["nin"], s["ref"]),
            "referral_child_count": s["child"],
            "rereferral_child_count": s["re_child"],
            "rereferral_child_percent": _inherit(_ratio(u["re_child"], u["child"], 1000, True),
                                                 s["re_child"], s["child"]),
        }
        vals = _mask_x(units, m, year, vals)
        rows += _rows(units, STYLE_C1, year, [{"category": "Referrals and Re-referrals"}], [vals])
    return _write_table(path, STYLE_C1, rows)


def _file_cla(m: _Model, path: Path) -> Path:
    units = _Units(m.geo, STYLE_CLA)
    rows = []
    measures = {"Children ceasing to be looked after each year": "cla_cease",
                "Children looked after at 31 March each year": "cla",
                "Children starting to be looked after each year": "cla_start"}
    for year in sorted(CLA_YEARS, reverse=True):
        pop = units.agg(m.denominator(year))
        pops = _fmt_int(pop)
        cats, vals = [], []
        for cat in CLA_CATEGORIES:
            u = units.agg(m.la_count(measures[cat], year))
            s = _counts(units, u)
            cats.append({"population_count": cat})
            vals.append({"population_estimate": pops, "number": s,
                         "rate_per_10000": _inherit(_ratio(u, pop, 10000, tenths=False), s)})
        rows += _rows(units, STYLE_CLA, year, cats, vals)
    return _write_table(path, STYLE_CLA, rows)


def _file_missing(m: _Model, path: Path) -> Path:
    units = _Units(m.geo, STYLE_MISSING)
    n = m.geo.n
    rng = m.rng(140)
    p_miss = np.clip(0.11 * np.exp(0.12 * m.need + rng.normal(0.0, 0.25, n)), 0.03, 0.3)
    if m.stockton is not None:
        p_miss[m.stockton] = 0.125
    p_more = np.clip(0.63 * np.exp(rng.normal(0.0, 0.08, n)), 0.3, 0.9)
    extra = 6.9 * np.exp(rng.normal(0.0, 0.25, n))
    p_away = np.clip(0.023 * np.exp(rng.normal(0.0, 0.8, n)), 0.0, 0.15)
    rows = []
    for year in sorted(CLA_YEARS, reverse=True):
        looked_after = m.la_count("cla", year) + m.la_count("cla_cease", year)
        jit = lambda p: np.clip(p * np.exp(rng.normal(0.0, 0.1, n)), 0.0, 1.0)  # noqa: E731
        miss = rng.binomial(looked_after, jit(p_miss))
        more = rng.binomial(miss, jit(p_more))
        incidents = miss + more + rng.poisson(more * extra * np.exp(rng.normal(0.0, 0.1, n)))
        miss31 = rng.binomial(miss, 0.023)
        away = rng.binomial(looked_after, jit(p_away))
        away_more = rng.binomial(away, 0.5)
        away_inc = away + away_more + rng.poisson(away_more * 4.0)
        away31 = rng.binomial(away, 0.02)
        u = {k: units.agg(v) for k, v in {
            "L": looked_after, "M": miss, "M2": more, "N": incidents, "M31": miss31,
            "A": away, "A2": away_more, "NA": away_inc, "A31": away31}.items()}
        s = {k: _counts(units, v) for k, v in u.items()}
        # A suppressed number of missing children hides everything derived from it.
        for head, tails in (("M", ("M2", "N", "M31")), ("A", ("A2", "NA", "A31"))):
            s[head] = _inherit(s[head], s["L"])
            for t in tails:
                s[t] = _inherit(s[t], s[head])
        avg_m = _inherit(np.where(u["M"] > 0, _ratio(u["N"], u["M"], 10, True), "0"), s["M"])
        avg_a = _inherit(np.where(u["A"] > 0, _ratio(u["NA"], u["A"], 10, True), "0"), s["A"])
        pct_m = _inherit(_ratio(u["M"], u["L"], 100, False, k_symbol=True), s["M"])
        pct_a = _inherit(_ratio(u["A"], u["L"], 100, False, k_symbol=True), s["A"])
        by_group = {
            MISSING_GROUPS[0]: avg_a, MISSING_GROUPS[1]: avg_m, MISSING_GROUPS[2]: s["A31"],
            MISSING_GROUPS[3]: s["L"], MISSING_GROUPS[4]: s["M31"], MISSING_GROUPS[5]: s["M"],
            MISSING_GROUPS[6]: s["M2"], MISSING_GROUPS[7]: s["A"], MISSING_GROUPS[8]: s["A2"],
            MISSING_GROUPS[9]: s["NA"], MISSING_GROUPS[10]: s["N"], MISSING_GROUPS[11]: pct_m,
            MISSING_GROUPS[12]: pct_a}
        # No child looked after at all: every measure but the count itself is not applicable.
        none = units.is_la & (u["L"] == 0)
        for g in MISSING_GROUPS:
            if g != MISSING_GROUPS[3]:
                by_group[g] = np.where(none, "z", by_group[g])
        rows += _rows(units, STYLE_MISSING, year, [{"CLA_group": g} for g in MISSING_GROUPS],
                      [{"number": by_group[g]} for g in MISSING_GROUPS])
    return _write_table(path, STYLE_MISSING, rows)


def _file_stability(m: _Model, path: Path) -> Path:
    units = _Units(m.geo, STYLE_STABILITY)
    n = m.geo.n
    rng = m.rng(150)
    p_long = np.clip(0.35 * np.exp(rng.normal(0.0, 0.1, n)), 0.1, 0.6)
    p_same = np.clip(0.69 * np.exp(rng.normal(0.0, 0.08, n)), 0.3, 0.95)
    p_two = np.clip(0.72 * np.exp(rng.normal(0.0, 0.05, n)), 0.4, 0.95)
    p_three = np.clip(0.10 * np.exp(0.1 * m.need + rng.normal(0.0, 0.25, n)), 0.02, 0.3)
    p_three2 = np.clip(0.23 * np.exp(rng.normal(0.0, 0.2, n)), 0.05, 0.5)
    rows = []
    for year in sorted(KPI_YEARS, reverse=True):
        at31 = m.la_count("cla", year)
        long_ = rng.binomial(at31, p_long)
        same = rng.binomial(long_, p_same)
        two = rng.binomial(at31, p_two)
        three2 = rng.binomial(two, p_three2)
        three = rng.binomial(at31, p_three)
        pairs = [(same, long_), (long_, long_), (two, two), (three2, two), (at31, at31), (three, at31)]
        cats, vals = [], []
        for (group, measure), (num, den) in zip(STABILITY_ROWS, pairs):
            nu, du = units.agg(num), units.agg(den)
            ns, ds = _counts(units, nu), _counts(units, du)
            pct = _inherit(_ratio(nu, du, 100, False, k_symbol=True), ns, ds)
            cats.append({"cla_group": group, "placement_stability": measure})
            vals.append({"children_count": ns, "children_percent": pct})
        rows += _rows(units, STYLE_STABILITY, year, cats, vals)
    return _write_table(path, STYLE_STABILITY, rows)


def _leaver_totals(m: _Model, year: int, rng) -> list[np.ndarray]:
    at31 = m.la_count("cla", year)
    n = m.geo.n
    return [rng.poisson(at31 * 0.18 * np.exp(rng.normal(0.0, 0.1, n))),
            rng.poisson(at31 * 0.46 * np.exp(rng.normal(0.0, 0.1, n)))]


def _file_leavers(m: _Model, path_activity: Path, path_accommodation: Path) -> list[Path]:
    n = m.geo.n
    rng = m.rng(160)
    acc_units = _Units(m.geo, STYLE_ACCOMMODATION)
    act_units = _Units(m.geo, STYLE_ACTIVITY)
    # Activity shares: edu other, HE, apprenticeship, training/employment, NEET illness, NEET other, NEET
    # pregnancy, not known.
    act_share = [np.array([0.48, 0.03, 0.04, 0.10, 0.04, 0.22, 0.02, 0.07]),
                 np.array([0.21, 0.06, 0.03, 0.26, 0.10, 0.21, 0.06, 0.07])]
    acc_share = [np.array([0.90, 0.04, 0.06]), np.array([0.88, 0.06, 0.06])]
    la_tilt = np.exp(0.1 * m.need)
    acc_rows, act_rows = [], []
    for year in sorted(KPI_YEARS, reverse=True):
        totals = _leaver_totals(m, year, rng)
        acc_cats, acc_vals, act_cats, act_vals = [], [], [], []
        for a, age in enumerate(LEAVER_AGES):
            # Accommodation.
            p = acc_share[a][None, :] * np.exp(rng.normal(0.0, 0.2, (n, 3)))
            p[:, 1:] *= la_tilt[:, None]
            parts = rng.multinomial(totals[a], p / p.sum(1, keepdims=True))
            tot_u = acc_units.agg(totals[a])
            tot_s = _counts(acc_units, tot_u)
            for b, name in enumerate(ACCOMMODATION_BREAKDOWNS):
                num = acc_units.agg(parts[:, b]) if b < 3 else tot_u
                s = _counts(acc_units, num) if b < 3 else tot_s
                acc_cats.append({"care_leaver_age": age, "breakdown": name})
                acc_vals.append({"care_leaver_count": s,
                                 "care_leaver_percent": _inherit(_ratio(num, tot_u, 100, False, True), s, tot_s)})
            # Activity.
            p = act_share[a][None, :] * np.exp(rng.normal(0.0, 0.2, (n, 8)))
            p[:, 4:7] *= la_tilt[:, None]
            parts = rng.multinomial(totals[a], p / p.sum(1, keepdims=True))
            agg = {name: act_units.agg(parts[:, b]) for b, name in enumerate([
                ACTIVITY_BREAKDOWNS[0], ACTIVITY_BREAKDOWNS[1], ACTIVITY_BREAKDOWNS[2], ACTIVITY_BREAKDOWNS[4],
                ACTIVITY_BREAKDOWNS[5], ACTIVITY_BREAKDOWNS[6], ACTIVITY_BREAKDOWNS[7], ACTIVITY_BREAKDOWNS[10]])}
            agg[ACTIVITY_BREAKDOWNS[3]] = agg[ACTIVITY_BREAKDOWNS[2]] + agg[ACTIVITY_BREAKDOWNS[4]]
            agg[ACTIVITY_BREAKDOWNS[8]] = act_units.agg(totals[a])
            agg[ACTIVITY_BREAKDOWNS[9]] = sum(agg[ACTIVITY_BREAKDOWNS[b]] for b in (0, 1, 2, 4))
            agg[ACTIVITY_BREAKDOWNS[11]] = sum(agg[ACTIVITY_BREAKDOWNS[b]] for b in (5, 6, 7))
            total_u = agg[ACTIVITY_BREAKDOWNS[8]]
            total_s = _counts(act_units, total_u)
            for name in ACTIVITY_BREAKDOWNS:
                num = agg[name]
                s = _counts(act_units, num)
                pct = _inherit(_ratio(num, total_u, 100, False, True), s, total_s)
                # Apprenticeships were split out from 2022; before that only the combined category exists.
                split = name in (ACTIVITY_BREAKDOWNS[2], ACTIVITY_BREAKDOWNS[4])
                if (split and year < 2022) or (name == ACTIVITY_BREAKDOWNS[3] and year >= 2022):
                    s = pct = np.full(len(num), "z", dtype=object)
                act_cats.append({"care_leaver_age": age, "breakdown": name})
                act_vals.append({"care_leaver_count": s, "care_leaver_percent": pct})
        acc_rows += _rows(acc_units, STYLE_ACCOMMODATION, year, acc_cats, acc_vals)
        act_rows += _rows(act_units, STYLE_ACTIVITY, year, act_cats, act_vals)
    return [_write_table(path_activity, STYLE_ACTIVITY, act_rows, gz=path_activity.suffix == ".gz"),
            _write_table(path_accommodation, STYLE_ACCOMMODATION, acc_rows)]


def _quintile(values: np.ndarray, valid: np.ndarray, descending: bool, codes: list) -> np.ndarray:
    """1..5 by rank among valid LAs (1 = best: lowest, or highest when descending); ties broken by LA code."""
    idx = [i for i in range(len(values)) if valid[i]]
    idx.sort(key=lambda i: ((-values[i]) if descending else values[i], codes[i]))
    q = np.zeros(len(values), dtype=np.int64)
    for rank, i in enumerate(idx):
        q[i] = 1 + rank * 5 // len(idx)
    return q


def _files_neet(m: _Model, out_dir: Path) -> list[Path]:
    units = _Units(m.geo, STYLE_NEET)
    geo = m.geo
    n = geo.n
    rng = m.rng(170)
    tiny = np.array([c in ("E06000053", "E09000001") for c in geo.new])   # not published separately by DfE
    p_neet = np.clip(0.027 * np.exp(0.3 * m.need + rng.normal(0.0, 0.3, n)), 0.002, 0.12)
    p_nk = np.clip(0.018 * np.exp(0.1 * m.need + rng.normal(0.0, 0.8, n)), 0.0005, 0.12)
    appr = 45 * np.exp(0.1 * m.need + rng.normal(0.0, 0.25, n))           # tenths of a percent
    other = 20 * np.exp(rng.normal(0.0, 0.4, n))
    septg = 945 + rng.normal(0.0, 15, n)
    ehcp = 50 * np.exp(rng.normal(0.0, 0.15, n))
    send = 85 * np.exp(rng.normal(0.0, 0.25, n))
    vg = 0.026 * np.exp(0.2 * m.need + rng.normal(0.0, 0.2, n))
    ks = {"Level_3": (575, -25, 30), "L2_em_GCSE_othL2": (290, 25, 40), "avg_att8": (470, -15, 15),
          "pt_l2basics_94": (660, -25, 30), "sess_overall_percent": (88, 6, 6),
          "enrolments_pa_10_exact_percent": (255, 20, 25)}
    ks_la = {k: c + b * m.need + rng.normal(0.0, s, n) for k, (c, b, s) in ks.items()}
    paths, prev = [], None
    for year in [NEET_YEARS[0] - 1] + NEET_YEARS:
        yt = year - 2020
        cohort = np.rint(m.pop[:, POP_YEARS.index(year - 1)] * 0.105 * np.exp(rng.normal(0.0, 0.02, n)))
        cohort = cohort.astype(np.int64)
        march = cohort + np.rint(cohort * rng.normal(0.0, 0.002, n)).astype(np.int64)
        yf = 1 + 0.03 * np.sin(0.9 * yt)
        neet = rng.binomial(cohort, np.clip(p_neet * yf * np.exp(rng.normal(0.0, 0.08, n)), 0, 1))
        nk = rng.binomial(cohort, np.clip(p_nk * np.exp(rng.normal(0.0, 0.25, n)), 0, 1))
        cu, nu, ku = units.agg(cohort), units.agg(neet), units.agg(nk)
        neet_t = _div_half_up(nu, cu, 1000)
        nk_t = _div_half_up(ku, cu, 1000)
        total_t = neet_t + nk_t
        la = lambda x: units.agg(x * cohort) // np.maximum(cu, 1)  # noqa: E731  (cohort-weighted tenths)
        appr_t = la(np.rint(appr * np.exp(rng.normal(0.0, 0.05, n))).astype(np.int64))
        other_t = la(np.rint(other * np.exp(rng.normal(0.0, 0.1, n))).astype(np.int64))
        activity_other_t = la(np.rint(15 * np.exp(rng.normal(0.0, 0.3, n))).astype(np.int64))
        part_t = 1000 - total_t - activity_other_t
        fte_t = part_t - appr_t - other_t
        sep_t = np.minimum(la(np.rint(septg + rng.normal(0.0, 8, n)).astype(np.int64)), 999)
        ehcp_t = la(np.rint(ehcp).astype(np.int64))
        send_t = la(np.rint(send * np.exp(rng.normal(0.0, 0.05, n))).astype(np.int64))
        nosen_t = 1000 - ehcp_t - send_t
        vg_tenths = np.rint(cohort * vg * 10).astype(np.int64)
        vg_u = units.agg(vg_tenths)
        cur = {"NEET_not_known_percent": total_t, "NEET_percent": neet_t, "Notknown_percent": nk_t,
               "TOTAL_participating_in_education_and_training_percent": part_t, "Full_time_education_percent": fte_t,
               "Apprenticeship_percent": appr_t, "Other_education_and_training_percent": other_t,
               "September_guarantee_Offer_made_percent": sep_t}
        if prev is not None:
            v = {"Age": np.full(len(cu), "16-17", dtype=object)}
            v["Cohort_DJFavg"] = np.where(units.is_la, _fmt_int(cu), _fmt_int(_round10(cu)))
            v["cohort_March"] = np.where(units.is_la, _fmt_int(units.agg(march)),
                                         _fmt_int(_round10(units.agg(march))))
            for col, t in cur.items():
                v[col] = _fmt_tenths(t)
            changes = {"annual_change_ppts_NEET_not_known": "NEET_not_known_percent",
                       "annualchange_NEET": "NEET_percent", "annualchange_notknown": "Notknown_percent",
                       "annual_change_Participation_in_education_training":
                           "TOTAL_participating_in_education_and_training_percent",
                       "annual_change_FTE": "Full_time_education_percent",
                       "annual_change_apprenticeship": "Apprenticeship_percent",
                       "annual_change_other_education_training": "Other_education_and_training_percent",
                       "September_guarantee_annual_change_ppts": "September_guarantee_Offer_made_percent"}
            for col, src in changes.items():
                v[col] = _fmt_tenths(cur[src] - prev[src])
            v["cohort_noSEN_percent"] = _fmt_tenths(nosen_t)
            v["NEET_NK_noSEN_percent"] = _fmt_tenths(np.rint(total_t * 0.9).astype(np.int64))
            v["cohort_EHCP_percent"] = _fmt_tenths(ehcp_t)
            v["NEET_NK_EHCP_percent"] = _fmt_tenths(np.rint(total_t * 1.9 + 5).astype(np.int64))
            v["cohort_SENDsupport_percent"] = _fmt_tenths(send_t)
            v["NEET_NK_SENDsupport_percent"] = _fmt_tenths(np.rint(total_t * 1.7 + 3).astype(np.int64))
            v["VG_cohort_DJF_avg"] = np.where(units.is_la, _fmt_tenths(vg_u), _fmt_int(_round10(vg_u // 10)))
            v["VG_cohort_percentage"] = _fmt_tenths(_div_half_up(vg_u, cu * 10, 1000))
            v["VG_NEET_NK_percentage"] = _fmt_tenths(np.rint(200 + total_t * 1.5).astype(np.int64))
            for col, base in ks_la.items():
                v[col] = _fmt_tenths(la(np.rint(base + rng.normal(0.0, 5, n)).astype(np.int64)))
            # Quintiles: LAs only, the two tiny LAs excluded.
            valid = ~tiny
            la_vals = {k: units.la_slice(t) for k, t in cur.items()}
            quint = {
                "NEET_NK_quintile": _quintile(la_vals["NEET_not_known_percent"], valid, False, geo.new),
                "NEET_quintile": _quintile(la_vals["NEET_percent"], valid, False, geo.new),
                "Notknown_quintile": _quintile(la_vals["Notknown_percent"], valid, False, geo.new),
                "Participation_ET_quintile": _quintile(
                    la_vals["TOTAL_participating_in_education_and_training_percent"], valid, True, geo.new),
                "Sep_guarantee_quintile": _quintile(la_vals["September_guarantee_Offer_made_percent"], valid, True,
                                                    geo.new),
            }
            for col, q in quint.items():
                v[col] = np.concatenate([np.full(1 + units.R, "z", dtype=object), _fmt_int(q)])
            # The two tiny LAs: cohorts published, everything else suppressed (quintiles not applicable).
            for i in np.nonzero(tiny)[0]:
                u = 1 + units.R + i
                for col in NEET_COLUMNS[12:]:
                    if col != "cohort_March":
                        v[col][u] = "z" if col.endswith("_quintile") else "c"
            paths.append(_write_table(out_dir / _neet_name(year), STYLE_NEET,
                                      _rows(units, STYLE_NEET, year, [{}], [v])))
        prev = cur
    return paths


def _file_sn(m: _Model, path: Path) -> Path:
    geo = m.geo
    n = geo.n
    logpop = np.log(m.pop[:, -1].astype(float))
    feat = np.stack([m.need, 0.25 * logpop], axis=1)
    dist = np.sqrt(((feat[:, None, :] - feat[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(dist, np.inf)
    codes = np.array(geo.new)
    nearest = []
    for i in range(n):
        # Ties broken by LA code: lexsort sorts by the last key first.
        nearest.append(np.lexsort((codes, dist[i]))[:10])
    nearest = np.array(nearest)
    d = np.take_along_axis(dist, nearest, axis=1)
    cuts = np.quantile(d, [0.01, 0.55, 0.88, 0.97])
    labels = np.searchsorted(cuts, d, side="right")
    region_names = sorted({name for _, name in geo.regions})
    rows = []
    for i in sorted(range(n), key=lambda i: (geo.name[i], geo.new[i])):
        row = [geo.old[i], geo.name[i], str(region_names.index(geo.region_name[i]) + 1), geo.region_name[i]]
        for k in range(10):
            row += [geo.old[nearest[i, k]], SN_LABELS[labels[i, k]]]
        rows.append(row)
    return _write_table(path, STYLE_SN, rows)


def _readme(paths: list[Path]) -> str:
    describe = {f.name: f for f in DEMO_FILES}
    lines = ["# Demo data", "", DEMO_NOTICE, "",
             "Every figure in this folder is synthetic: generated by `analysis.demo` (generator version "
             f"{GENERATOR_VERSION}) from a fixed random seed. The files copy the layouts of the published DfE and ONS "
             "files (header, column order, symbols, encoding) so the same readers read demo and real data, but no "
             "number here is an official statistic. Local authority names and codes are real; their figures are not.",
             "", "| file | layout of | what it holds |", "|---|---|---|"]
    for p in paths:
        f = describe[p.name]
        lines.append(f"| `{f.name}` | `{f.real_name}` | {f.description} |")
    lines += ["", "Conventions, as in the published files: LA counts of 1 to 5 are `c`; national and regional counts "
              "are rounded to the nearest 10 while their rates use the unrounded counts; `x` not available, "
              "`z` not applicable, `k` a percentage that rounds to zero. Rates per 10,000 children use the demo "
              "population estimate for mid-(Y-1) for the year ending 31 March Y.", ""]
    return "\n".join(lines)


def write_demo_data(out_dir, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write every demo file (and a ``README.md``) into ``out_dir``; return their paths in writing order.

    Parameters
    ----------
    out_dir : str or Path
        The folder to write into; created if missing. Existing files of the same names are overwritten.
    seed : int
        The random seed. The same seed gives byte-identical files.

    Returns
    -------
    list of Path
        The data files (in the order of :data:`DEMO_FILES`) followed by ``README.md``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = _Model(_load_geo(), int(seed))
    name = {f.key: out / f.name for f in DEMO_FILES}
    paths = [
        _file_population(model, name["population"]),
        _file_b1(model, name["cin_b1"]),
        _file_d5(model, name["cp_d5"]),
        _file_cla(model, name["cla_rates"]),
        _file_missing(model, name["cla_missing"]),
        *_files_neet(model, out),
        _file_sn(model, name["sn_model"]),
        _file_c1(model, name["cin_c1"]),
        _file_d3(model, name["cp_d3"]),
        _file_stability(model, name["cla_stability"]),
        *_file_leavers(model, name["leavers_activity"], name["leavers_accommodation"]),
        *_files_kpi(model, name),
    ]
    readme = out / "README.md"
    readme.write_text(_readme(paths), encoding="utf-8", newline="\n")
    return paths + [readme]


def _stamp_text(seed: int) -> str:
    return f"analysis.demo generator_version={GENERATOR_VERSION} seed={seed}\n"


def _is_current(folder: Path, seed: int) -> bool:
    stamp = folder / STAMP_FILE
    try:
        if stamp.read_text(encoding="utf-8") != _stamp_text(seed):
            return False
    except OSError:
        return False
    return all((folder / f.name).is_file() for f in DEMO_FILES) and (folder / "README.md").is_file()


def ensure_demo_data(out_dir=None, seed: int = DEFAULT_SEED) -> Path:
    """Make sure the demo data exist and are current; return their folder.

    The files are (re)written when the folder is missing, incomplete, or its stamp file names another generator
    version or seed. Writing goes to a temporary folder beside the target, which then replaces it with a rename,
    so readers never see a half-written folder.

    Parameters
    ----------
    out_dir : str or Path, optional
        The folder; default :data:`analysis.config.DEMO_DATA_DIR`.
    seed : int
        The random seed (default :data:`DEFAULT_SEED`).
    """
    target = Path(out_dir) if out_dir is not None else Path(config.DEMO_DATA_DIR)
    if _is_current(target, seed):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    for leftover in (tmp, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    try:
        write_demo_data(tmp, seed=seed)
        (tmp / STAMP_FILE).write_text(_stamp_text(seed), encoding="utf-8", newline="\n")
        if target.exists():
            os.replace(target, old)
        try:
            os.replace(tmp, target)
        except OSError:
            # Another process got there first; keep its folder if it is current.
            if not _is_current(target, seed):
                raise
    finally:
        for leftover in (tmp, old):
            if leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)
    return target


__all__ = ["DEMO_NOTICE", "DEMO_FILES", "DemoFile", "GENERATOR_VERSION", "DEFAULT_SEED", "STAMP_FILE",
           "write_demo_data", "ensure_demo_data"]


def write_ods(path, sheet: str, rows: list[list[str]]) -> Path:
    """A minimal OpenDocument spreadsheet with one sheet of text and number cells (numbers where a cell parses as one),
    as MHCLG publishes its revenue outturn: enough for :mod:`analysis.read.workbooks` and any spreadsheet program."""
    import zipfile
    from xml.sax.saxutils import escape, quoteattr

    def cell(v: str) -> str:
        try:
            float(v)
            return (f'<table:table-cell office:value-type="float" office:value={quoteattr(v)}>'
                    f"<text:p>{escape(v)}</text:p></table:table-cell>")
        except ValueError:
            return f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p></table:table-cell>' \
                if v else "<table:table-cell/>"

    body = "".join("<table:table-row>" + "".join(cell(str(v)) for v in r) + "</table:table-row>" for r in rows)
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
               f'<office:spreadsheet><table:table table:name={quoteattr(sheet)}>{body}</table:table>'
               "</office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    path = Path(path)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, how in (("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED),
                                ("content.xml", content, zipfile.ZIP_DEFLATED),
                                ("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = how
            zf.writestr(info, data)
    return path


# ---------------------------------------------------------------------------------------------------------------
# The council's wider scorecard (issue 10): each measure a share or average per LA around a synthetic England path,
# higher need pulling it the way the real data go; written in the published layouts of the KPI files.
# ---------------------------------------------------------------------------------------------------------------

_GEO_KS = _GEO_CLA
KS2_COLUMNS = _GEO_KS + ["social_care_group", "version"] + [
    f"{p}_{s}{suffix}" for s in ("read", "writta", "mat", "rwm", "gps", "scita")
    for p, suffix in (("t", "_eligible_pupils"), ("t", "_met_expected_standard"), ("pt", "_met_expected_standard"))
] + [f"{p}{s}{q}" for s in ("read", "writta", "mat") for p, q in (
    ("t_", "_progress_eligible_pupils"), ("t_", "_progress_score"), ("avg_", "_progress_score"),
    ("avg_", "_progress_score_lower_CI"), ("avg_", "_progress_score_upper_CI"))]
KS4_COLUMNS = _GEO_KS + ["social_care_group", "version", "t_pupils", "t_att8", "avg_att8", "t_l2basics_95",
                         "pt_l2basics_95", "t_l2basics_94", "pt_l2basics_94", "t_ebacc_e_ptq_ee", "pt_ebacc_e_ptq_ee",
                         "t_ebaccaps", "avg_ebaccaps", "t_inp8calc", "t_p8score", "avg_p8score", "p8score_CI_low",
                         "p8score_CI_upp"]
OUTCOME_COLUMNS = _GEO_CLA + ["characteristic", "breakdown", "children_count", "children_percent"]
SEN2_COLUMNS = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
                "region_name", "new_la_code", "old_la_code", "la_name", "inc_exc_20week_ehc", "inc_exc_20week_rate",
                "tot_inc_exc_ehc"]
EYFS_COLUMNS = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
                "region_name", "old_la_code", "new_la_code", "la_name", "lad_code", "lad_name", "characteristic",
                "characteristic_type", "gender", "children_number", "gld_number", "gld_percentage"]
EARLY_COLUMNS = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
                 "region_name", "old_la_code", "new_la_code", "la_name", "entitlement_type", "age", "number_children",
                 "number_eligible_children", "percentage_eligible_children"]
STYLE_KS2 = _Style(tuple(KS2_COLUMNS), bom=True, time_identifier="Academic year")
STYLE_KS4 = _Style(tuple(KS4_COLUMNS), bom=True, time_identifier="Academic year")
STYLE_OUTCOMES = _Style(tuple(OUTCOME_COLUMNS), la_order="code")
STYLE_SEN2 = _Style(tuple(SEN2_COLUMNS), london_split=False, time_identifier="Calendar year")
STYLE_EYFS = _Style(tuple(EYFS_COLUMNS), time_identifier="Academic year")
STYLE_EARLY = _Style(tuple(EARLY_COLUMNS), bom=True)
_CLA_GROUP = "CLA 12 months at 31 March"
#: LAIT-only measures of the demo: code -> (England path start 2016, change a year, need effect, LA sd, decimals).
_LAIT_DEMO = {
    "Continue_Assess_Comp": (83.0, 0.3, -1.5, 6.0, 1), "KS2RWM_Expected_STD": (53.0, 1.2, -1.5, 3.0, 0),
    "AVG_Attain8_Score": (47.0, -0.1, -1.2, 2.0, 1), "ExcessRec": (22.0, 0.1, 0.8, 1.5, 2),
    "ExcessYr6": (34.0, 0.3, 1.2, 2.0, 2), "ChildPov": (17.0, 0.3, 2.5, 3.0, 1), "FirstYJS": (330.0, -20.0, 25.0, 40.0, 0),
    "FSP_NEW_GOODDEV": (69.0, -0.3, -1.0, 2.5, 1), "%_2yr_olds": (70.0, -0.5, 1.0, 6.0, 1),
}
_LAIT_REGION_NUMBERS = {"E12000001": 980, "E12000002": 981, "E12000003": 982, "E12000004": 983, "E12000005": 984,
                        "E12000006": 985, "E12000007": 986, "E12000008": 989, "E12000009": 990}


def _share(m: _Model, k: int, years, centre: float, slope: float, beta: float, sd: float) -> np.ndarray:
    """(n LAs, years) probabilities: logit-linear around an England path, higher need shifting by ``beta``."""
    rng = m.rng(k)
    own, yearly = rng.normal(0, sd, m.geo.n), rng.normal(0, sd / 3, (m.geo.n, len(years)))
    t = np.arange(len(years))
    logit = np.log(centre / (1 - centre)) + slope * t[None, :] + beta * m.need[:, None] + own[:, None] + yearly
    return 1 / (1 + np.exp(-logit))


def _binomial_file(m: _Model, k: int, years, size: np.ndarray, p: np.ndarray):
    """(numerators, denominators) per LA and year: denominators Poisson around ``size``, numerators binomial."""
    rng = m.rng(k)
    den = rng.poisson(np.maximum(size, 1)[:, None] * np.ones(len(years))).astype(np.int64)
    return rng.binomial(den, p).astype(np.int64), den


def _pct(units: _Units, num, den, tenths: bool) -> np.ndarray:
    """Percentages as published: from unrounded unit sums, c where the LA count is, z where there is no denominator."""
    return _inherit(_ratio(num, den, 100, tenths), _counts(units, num), _counts(units, den))


def _academic(year: int) -> str:
    return f"{year - 1}{year % 100:02d}"


def _files_kpi(m: _Model, name: dict) -> list[Path]:
    pop = m.pop[:, -1].astype(float)
    paths = []
    # key stage 2 and 4 of children looked after for 12 months
    years = list(range(2019, 2026))
    units = _Units(m.geo, STYLE_KS2)
    num, den = _binomial_file(m, 60, years, pop * 0.0006, _share(m, 61, years, 0.33, 0.02, -0.05, 0.2))
    rows = []
    for j, year in sorted(enumerate(years), key=lambda t: -t[1]):
        n, d = units.agg(num[:, j]), units.agg(den[:, j])
        vals = {c: np.full(len(n), "x", dtype=object) for c in KS2_COLUMNS[12:]}
        vals.update(t_rwm_eligible_pupils=_counts(units, d), t_rwm_met_expected_standard=_counts(units, n),
                    pt_rwm_met_expected_standard=_pct(units, n, d, False))
        rows += _rows(units, STYLE_KS2, _academic(year), [{"social_care_group": _CLA_GROUP, "version": "Final"}],
                      [vals])
    paths.append(_write_table(name["ks2_social_care"], STYLE_KS2, rows))
    units = _Units(m.geo, STYLE_KS4)
    rng = m.rng(62)
    pupils = rng.poisson(np.maximum(pop * 0.0007, 1)[:, None] * np.ones(len(years))).astype(np.int64)
    att8 = np.round(pupils * np.clip(19 - 0.8 * m.need[:, None] + rng.normal(0, 2.5, pupils.shape), 5, 40) * 4) / 4
    p8n = (pupils * 0.8).astype(np.int64)
    p8 = np.round(p8n * (-1.2 - 0.1 * m.need[:, None] + rng.normal(0, 0.25, pupils.shape)), 3)
    rows = []
    for j, year in sorted(enumerate(years), key=lambda t: -t[1]):
        n, a, pn, ps = (units.agg(x[:, j]) for x in (pupils, att8, p8n, p8))
        published = (n > 5) | ~units.is_la
        vals = {c: np.full(len(n), "x", dtype=object) for c in KS4_COLUMNS[12:]}
        vals.update(t_pupils=_counts(units, n),
                    t_att8=np.where(published, [f"{v:g}" for v in a], "c"),
                    avg_att8=np.where(published & (n > 0), [f"{v:.1f}" for v in a / np.maximum(n, 1)], "c"))
        if year not in (2020, 2021, 2025):  # Progress 8 was not published for these years
            ok = published & (pn > 0)
            vals.update(t_inp8calc=_counts(units, pn), t_p8score=np.where(ok, [f"{v:.3f}" for v in ps], "c"),
                        avg_p8score=np.where(ok, [f"{v:.2f}" for v in ps / np.maximum(pn, 1)], "c"))
        rows += _rows(units, STYLE_KS4, _academic(year), [{"social_care_group": _CLA_GROUP, "version": "Final"}],
                      [vals])
    paths.append(_write_table(name["ks4_social_care"], STYLE_KS4, rows))
    # looked-after children's convictions and SDQ
    years = list(range(2021, 2026))
    units = _Units(m.geo, STYLE_OUTCOMES)
    conv, aged = _binomial_file(m, 63, years, pop * 0.0035, _share(m, 64, years, 0.025, -0.03, 0.2, 0.3))
    concern, received = _binomial_file(m, 65, years, pop * 0.0017, _share(m, 66, years, 0.4, 0.0, 0.05, 0.2))
    score = 14.5 + 0.3 * m.need[:, None] + m.rng(67).normal(0, 0.8, (m.geo.n, len(years)))
    rows = []
    conv_label = "Convictions: Children looked after Ages 10 to 17 years"
    sdq_label = "Ages 5 to 16 years with SDQ score"
    for j, year in sorted(enumerate(years), key=lambda t: -t[1]):
        c, a, cc, r = (units.agg(x[:, j]) for x in (conv, aged, concern, received))
        sc = np.concatenate([[np.average(score[:, j], weights=received[:, j])],
                             (units.member @ (score[:, j] * received[:, j])) / np.maximum(units.member @ received[:, j], 1),
                             score[:, j]])
        hundred = np.where(a > 0, "100", "z")
        cats = [{"characteristic": conv_label, "breakdown": "Convicted or subject to youth cautions, or youth "
                 "conditional cautions during the year"},
                {"characteristic": conv_label, "breakdown": "Total ages 10 to 17 years"},
                {"characteristic": sdq_label, "breakdown": "SDQ average score"},
                {"characteristic": sdq_label, "breakdown": "SDQ score is a cause for concern"},
                {"characteristic": sdq_label, "breakdown": "SDQ score was received"}]
        vals = [{"children_count": _counts(units, c), "children_percent": _pct(units, c, a, False)},
                {"children_count": _counts(units, a), "children_percent": hundred},
                {"children_count": np.where(r > 5, [f"{v:.1f}" for v in sc], "c"),
                 "children_percent": np.full(len(c), "z", dtype=object)},
                {"children_count": _counts(units, cc), "children_percent": _pct(units, cc, r, False)},
                {"children_count": _counts(units, r), "children_percent": np.where(r > 0, "100", "z")}]
        rows += _rows(units, STYLE_OUTCOMES, year, cats, vals)
    paths.append(_write_table(name["cla_outcomes"], STYLE_OUTCOMES, rows))
    # EHC plans within 20 weeks
    years = list(range(2015, 2023))
    units = _Units(m.geo, STYLE_SEN2)
    num, den = _binomial_file(m, 68, years, pop * 0.005, _share(m, 69, years, 0.6, -0.05, 0.0, 0.9))
    rows = []
    for j, year in enumerate(years):
        n, d = units.agg(num[:, j]), units.agg(den[:, j])
        rate = np.where(d > 0, [f"{v:.3f}" for v in 100 * n / np.maximum(d, 1)], "z")
        rows += _rows(units, STYLE_SEN2, year, [{}], [{"inc_exc_20week_ehc": _fmt_int(n), "inc_exc_20week_rate": rate,
                                                       "tot_inc_exc_ehc": _fmt_int(d)}])
    paths.append(_write_table(name["sen2"], STYLE_SEN2, rows))
    # EYFS 2021/22 and funded places for 2-year-olds
    units = _Units(m.geo, STYLE_EYFS)
    num, den = _binomial_file(m, 70, [2022], pop / 18, _share(m, 71, [2022], 0.65, 0, -0.08, 0.12))
    n, d = units.agg(num[:, 0]), units.agg(den[:, 0])
    rows = _rows(units, STYLE_EYFS, "202122", [{"lad_code": "", "lad_name": "", "characteristic": "Total",
                                                "characteristic_type": "Total", "gender": "Total"}],
                 [{"children_number": _fmt_int(d), "gld_number": _fmt_int(n),
                   "gld_percentage": np.array([f"{v:.6f}" for v in 100 * n / np.maximum(d, 1)], dtype=object)}])
    paths.append(_write_table(name["eyfsp"], STYLE_EYFS, rows))
    years = list(range(2018, 2024))
    units = _Units(m.geo, STYLE_EARLY)
    num, den = _binomial_file(m, 72, years, pop * 0.012, _share(m, 73, years, 0.72, 0.0, 0.1, 0.4))
    rows = []
    for j, year in sorted(enumerate(years), key=lambda t: -t[1]):
        n, d = units.agg(num[:, j]), units.agg(den[:, j])
        rows += _rows(units, STYLE_EARLY, year, [{"entitlement_type": "15-hour entitlement", "age": "2-year-olds"}],
                      [{"number_children": _fmt_int(n), "number_eligible_children": _fmt_int(d),
                        "percentage_eligible_children": _ratio(n, d, 100, True)}])
    paths.append(_write_table(name["early_years"], STYLE_EARLY, rows))
    paths.append(_file_lait(m, name["lait"]))
    for key, year in (("rsx_2024", 2024), ("rsx_2025", 2025)):
        paths.append(_file_rsx(m, name[key], year))
    return paths


def _file_lait(m: _Model, path: Path) -> Path:
    """LAIT's long layout: one row per measure, area and year; LA Number 970 England, 980-990 regions."""
    import pandas as pd

    years = list(range(2016, 2026))
    rng = m.rng(80)
    weights = m.pop[:, -1].astype(float)
    codes, items, labels, names, values, numbers_ = [], [], [], [], [], []
    for code, (start, slope, beta, sd, d) in _LAIT_DEMO.items():
        la = (start + slope * np.arange(len(years))[None, :] + beta * m.need[:, None]
              + rng.normal(0, sd, (m.geo.n, 1)) + rng.normal(0, sd / 4, (m.geo.n, len(years))))
        la = np.maximum(la, 0)
        for j, year in enumerate(years):
            region_values = {r: float(np.average(la[np.array(m.geo.region) == r, j],
                                                 weights=weights[np.array(m.geo.region) == r]))
                             for r in _LAIT_REGION_NUMBERS}
            england = float(np.average(la[:, j], weights=weights))
            areas_ = ([(970.0, "England", england)]
                      + [(float(_LAIT_REGION_NUMBERS[r]), dict(m.geo.regions)[r], v) for r, v in region_values.items()]
                      + [(float(m.geo.old[i]), m.geo.name[i], la[i, j]) for i in range(m.geo.n)])
            for number, area, v in areas_:
                codes.append(code)
                items.append(code)
                labels.append(str(year))
                names.append(area)
                values.append(repr(round(float(v), d)))
                numbers_.append(number)
    frame = pd.DataFrame({"Short Desc": codes, "Data item": items, "Years": labels, "LA and Regions": names,
                          "Values": values, "LA Number": numbers_, "Region": ""})
    frame.to_parquet(path, index=False)
    return path


def _file_rsx(m: _Model, path: Path, year: int) -> Path:
    """The RSX data sheet: title lines, a header row, one row per LA (C3 in GBP thousand) and England."""
    rng = m.rng(90 + year)
    per_child = 1300 * np.exp(0.15 * m.need + rng.normal(0, 0.15, m.geo.n)) * (1.06 ** (year - 2024))
    spend = np.round(per_child * m.pop[:, POP_YEARS.index(year - 1)] / 1000, 3)
    label = f"{year - 1}-{year % 100:02d}"
    header = ["E-code", "ONS Code", "Local authority", "Notes", "Class", "Detailed Class",
              "Children Social Care - Total Expenditure (C3 = C1 + C2)"]
    rows = [[f"Worksheet 2: Revenue Outturn (RO) {label}: Service Expenditure Summary (RSX) data"],
            ["Data are reported in GBP thousand. Demo data: synthetic figures."], [], header]
    for i in np.argsort(m.geo.name):
        cls = {"E06": "UA", "E08": "MD", "E09": "LB", "E10": "SC"}.get(m.geo.new[i][:3], "UA")
        rows.append([f"E{i:04d}", m.geo.new[i], m.geo.name[i], "", cls, cls, repr(float(spend[i]))])
    rows.append(["Eng", ENGLAND_CODE, "ENGLAND", "", "Eng", "Eng", repr(float(spend.sum()))])
    return write_ods(path, f"RSX_LA_Data_{label}", rows)
