"""Finding an LA by code, old code or name; a clear 'did you mean' otherwise."""

import pytest

from analysis.read import areas
from analysis.errors import ParameterError


@pytest.mark.parametrize("given", ["E06000004", "e06000004", "808", "Stockton-on-Tees", "stockton on tees",
                                   "STOCKTON-ON-TEES"])
def test_resolve_stockton(given):
    la = areas.resolve_la(given)
    assert (la["area_code"], la["old_la_code"], la["region_name"]) == ("E06000004", "808", "North East")


def test_recoded_la_found_by_old_nine_character_code():
    assert areas.resolve_la("E10000023")["area_name"] == "North Yorkshire"


def test_unknown_la_suggests():
    with pytest.raises(ParameterError) as info:
        areas.resolve_la("Stockton")
    assert "did you mean" in str(info.value) and "Stockton-on-Tees" in str(info.value)


def test_london_las_are_in_london():
    assert areas.resolve_la("Camden")["region_code"] == areas.LONDON_CODE
