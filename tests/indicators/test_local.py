"""In-year rows: suppression of small counts, quarter labels, and the comparison with published figures."""

import numpy as np
import pandas as pd
import pytest

from analysis.indicators import local
from analysis.read import sources
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


def test_latest_is_capped_by_what_the_returns_cover():
    from types import SimpleNamespace
    import datetime as dt

    # Run on 23 November 2026: the latest complete quarter is 2026Q2 (July-September 2026).
    assert local.resolve_period("latest", today=dt.date(2026, 11, 23)) == "2026Q2"
    # An extract whose last recorded date is 2 October 2025 covers quarters to 2025Q2 (ends 30 September 2025).
    eps = pd.DataFrame({"DECOM": pd.to_datetime(["2024-01-05", "2025-10-02"]),
                        "DEC": pd.to_datetime(["2024-06-01", None])})
    returns = SimpleNamespace(episodes=eps, missing=None, cin_details=None, cp_plans=None)
    assert local.resolve_period("latest", today=dt.date(2026, 11, 23), returns=returns) == "2025Q2"
    # A quarter given explicitly is kept as given.
    assert local.resolve_period("2024Q4", returns=returns) == "2024Q4"
