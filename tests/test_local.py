"""In-year rows: suppression of small counts, quarter labels, and the comparison with published figures."""

import numpy as np
import pandas as pd
import pytest

from analysis import local, sources
from analysis.errors import ParameterError


def _obs(rows):
    base = {c: "" for c in sources.OBS_COLUMNS}
    return pd.DataFrame([dict(base, indicator=i, numerator=n, denominator=d, denominator_kind=k, status="")
                         for i, n, d, k in rows], columns=sources.OBS_COLUMNS)


def test_counts_one_to_five_are_suppressed_with_what_is_made_from_them():
    obs = _obs([
        ("cla_rate", 3, 44000, "population"),        # 3 children: suppressed
        ("cla_rate", 0, 44000, "population"),        # 0 is shown (DfE shows zero)
        ("cla_rate", 6, 44000, "population"),        # 6 is shown
        ("missing_incidents", 40, 4, "file"),        # 40 incidents by 4 children: the 4 would be revealed
        ("missing_pct", 5, 700, "file"),             # 5 of 700: suppressed
    ])
    out = local._suppress(obs)
    assert out["status"].tolist() == ["c", "", "", "c", "c"]
    assert np.isnan(out.loc[0, "numerator"]) and out.loc[1, "numerator"] == 0 and out.loc[2, "numerator"] == 6
    assert np.isnan(out.loc[3, "denominator"]) and np.isnan(out.loc[3, "numerator"])
    assert out.loc[0, "denominator"] == 44000  # a population is not a count of children in the data


def test_periods():
    assert local.resolve_period("2025q1") == "2025Q1"
    assert local._previous_label("2025Q1", 1) == "2024Q4"
    assert local._previous_label("2025Q1", 4) == "2024Q1"
    with pytest.raises(ParameterError, match="not a quarter"):
        local.resolve_period("March")
