"""Population denominators: the real ONS file and a release's own estimates, and vintages when several releases
sit side by side.

Expected values are the published figures in ../shared/data/dfe, each named where it is used, or hand-worked tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import indicators, numbers
from analysis.read import population, sources
from conftest import B1_HEADER, SHARED_DATA, b1_rows, needs_shared, write_csv
from test_folder import CLA_HEADER, cla_row

ONS = SHARED_DATA / "ons_mid-year_population_estimates_2012_to_2024.csv"
CLA_2024 = SHARED_DATA / "cla_number_and_rate_per_10k_children_pub2024.csv"


def _at(pops: pd.DataFrame, area: str, year: str) -> pd.Series:
    hit = pops[(pops["area_code"] == area) & (pops["time_period"] == year)]
    assert len(hit) == 1, (area, year, len(hit))
    return hit.iloc[0]


def test_ons_mid_year_estimate_is_the_denominator_for_the_year_to_the_next_31_march():
    """ons_mid-year_population_estimates_2012_to_2024.csv, children aged 0 to 17: Stockton-on-Tees (E06000004)
    mid-2023 44,466 and mid-2024 45,079; England mid-2024 12,183,016. Mid-2012 to mid-2024 is the 2025 vintage."""
    needs_shared()
    pops = population.from_ons(sources.read_raw(ONS))
    assert list(pops.columns) == population.POP_COLUMNS
    assert _at(pops, "E06000004", "2024")["population"] == 44466      # mid-2023, for the year to 31 March 2024
    assert _at(pops, "E06000004", "2025")["population"] == 45079      # mid-2024
    assert _at(pops, "E92000001", "2025")["population"] == 12183016
    assert set(pops["vintage"]) == {2025}
    assert sorted(pops.loc[pops["area_code"] == "E06000004", "time_period"]) == [str(y) for y in range(2013, 2026)]
    assert _at(pops, "E06000004", "2024")["vintage_label"] == f"ONS mid-2023 estimate ({ONS.name})"


def test_a_release_with_its_own_estimates_is_its_own_vintage():
    """cla_number_and_rate_per_10k_children_pub2024.csv: Stockton-on-Tees population_estimate 44,087 in 2024 and
    43,820 in 2023, the same on each of its three rows (at 31 March, starting, ceasing): one row per year."""
    needs_shared()
    pops = population.from_release(sources.read_raw(CLA_2024))
    assert _at(pops, "E06000004", "2024")["population"] == 44087
    assert _at(pops, "E06000004", "2023")["population"] == 43820
    assert set(pops["vintage"]) == {2024}
    assert not pops.duplicated(["time_period", "geographic_level", "area_code"]).any()


def test_the_published_b1_rate_reproduces_with_its_own_release_population():
    """B1 2024 release (b1_children_in_need_2013_to_2024.csv): Stockton-on-Tees 2,395 children in need at 31 March
    2024, published rate 543.2 per 10,000. That release divides by the 2024 vintage (the CLA 2024 release's 44,087):
    2395 / 44087 x 10,000 = 543.2; the revised ONS mid-2023 estimate (44,466) would give 538.6."""
    needs_shared()
    pops = population.combine([population.from_ons(sources.read_raw(ONS)),
                               population.from_release(sources.read_raw(CLA_2024))])
    obs = pd.DataFrame({"time_period": ["2024"], "geographic_level": ["Local authority"], "area_code": ["E06000004"],
                        "release": ["2024"], "denominator_kind": ["population"], "numerator": [2395.0],
                        "denominator": [np.nan], "population_vintage": [""]})
    own = population.attach_denominators(obs, pops).iloc[0]
    assert own["denominator"] == 44087 and own["population_vintage"].startswith("2024 release population_estimate")
    assert numbers.round_half_up(2395 / own["denominator"] * 10000, 1) == 543.2
    latest = population.attach_denominators(obs, pops, vintage="latest").iloc[0]
    assert latest["denominator"] == 44466 and latest["population_vintage"].startswith("ONS mid-2023 estimate")
    assert numbers.round_half_up(2395 / latest["denominator"] * 10000, 1) == 538.6


def test_latest_vintage_changes_denominators(real_dataset):
    latest = population.attach_denominators(real_dataset.observations, real_dataset.populations, vintage="latest")
    st = latest[(latest["area_code"] == "E06000004") & (latest["time_period"] == "2024")].set_index("indicator")
    assert st.at["cin_rate", "denominator"] == 44466       # ONS mid-2023 (revised), not the 2024 release's 44087
    assert "ONS mid-2023" in st.at["cin_rate", "population_vintage"]


def test_combine_keeps_the_first_of_the_same_vintage():
    first = pd.DataFrame({"time_period": ["2024"], "geographic_level": ["Local authority"], "area_code": ["E06000004"],
                          "population": [41000.0], "vintage": [2024], "vintage_label": ["a"], "source_file": ["a"]})
    second = first.assign(population=40000.0, vintage_label="b", source_file="b")
    other = first.assign(population=39000.0, vintage=2025, vintage_label="c", source_file="c")
    out = population.combine([first, second, other])
    assert list(out["population"]) == [41000.0, 39000.0]
    assert list(population.combine([second, first])["population"]) == [40000.0]
    assert population.combine([]).empty


def test_attach_denominators_is_positional():
    pops = pd.DataFrame({"time_period": ["2024", "2024"], "geographic_level": ["Local authority"] * 2,
                         "area_code": ["E06000004", "E06000005"], "population": [40000.0, 20000.0],
                         "vintage": [2024, 2024], "vintage_label": ["v", "v"], "source_file": ["p", "p"]})
    obs = pd.DataFrame({"time_period": ["2024", "2024", "2024"], "geographic_level": ["Local authority"] * 3,
                        "area_code": ["E06000004", "E06000005", "E06000005"], "release": ["2024"] * 3,
                        "denominator_kind": ["population", "population", "file"],
                        "denominator": [np.nan, np.nan, 7.0], "population_vintage": ["", "", ""]},
                       index=[3, 3, 3])  # a repeated index must not mix rows up
    out = population.attach_denominators(obs, pops)
    assert list(out["denominator"]) == [40000.0, 20000.0, 7.0]
    assert list(out["population_vintage"]) == ["v", "v", ""]
    assert list(obs["denominator"].isna()) == [True, True, False]  # input unchanged


def b1_2023(tmp_path):
    rows = []
    for r in b1_rows()[2:]:  # Stockton 2000, Darlington 1000 children in need in 2023
        rows.append(["2023"] + r[1:11] + ["2000" if r[7] == "808" else "1000", "1.0"])
    return write_csv(tmp_path / "cin_2023_release.csv", B1_HEADER, rows)


@pytest.fixture
def releases(tmp_path):
    """CIN 2023 release; CLA 2023 release (2023 only, population 40,000); CLA 2024 release revising 2023 to 41,000."""
    b1_2023(tmp_path)
    write_csv(tmp_path / "cla_new.csv", CLA_HEADER,
              [cla_row("2023", 510, 41000, 124), cla_row("2024", 520, 41500, 125)])
    write_csv(tmp_path / "cla_old.csv", CLA_HEADER, [cla_row("2023", 500, 40000, 125)])
    return tmp_path


def test_a_superseded_release_still_gives_its_own_vintage(releases):
    ds = indicators.load(releases)
    table = indicators.compute(ds.observations)
    cin = table[(table["indicator"] == "cin_rate") & (table["area_code"] == "E06000004")].iloc[0]
    # the 2023 CIN release divides by the 2023 vintage: 2000 / 40,000 x 10,000 = 500.0 (not 2000 / 41,000 = 487.8)
    assert (cin["denominator"], cin["value"]) == (40000, 500.0)
    assert cin["population_vintage"].startswith("2023 release population_estimate (cla_old.csv)")
    cla = table[(table["indicator"] == "cla_rate") & (table["time_period"] == "2023")].iloc[0]
    assert (cla["numerator"], cla["denominator"], cla["release"]) == (510, 41000, "2024")
    inv = indicators.inventory(ds).set_index("file")
    assert inv.loc["cla_old.csv", "status"] == "superseded"
    assert "population estimates are used as the 2023 vintage" in inv.loc["cla_old.csv", "reason"]


def test_latest_vintage_uses_the_revised_estimate(releases):
    ds = indicators.load(releases, vintage="latest")
    cin = ds.observations[(ds.observations["indicator"] == "cin_rate")
                          & (ds.observations["area_code"] == "E06000004")].iloc[0]
    assert cin["denominator"] == 41000
