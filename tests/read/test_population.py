"""Population vintages when several releases sit side by side (hand-worked tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import indicators
from analysis.read import population
from conftest import B1_HEADER, b1_rows, write_csv
from test_folder import CLA_HEADER, cla_row


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
