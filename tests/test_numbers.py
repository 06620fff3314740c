"""DfE rounding and symbols."""

import numpy as np
import pandas as pd

from analysis.numbers import format_values, round_half_up


def test_round_half_up_not_bankers():
    # Python's round gives 2, 0, 2.67 here (halves to even, binary representation); DfE publishes 3, 1, 2.68.
    assert round_half_up(2.5, 0) == 3
    assert round_half_up(0.5, 0) == 1
    assert round_half_up(2.675, 2) == 2.68
    assert round_half_up(543.25, 1) == 543.3
    assert round_half_up(-2.5, 0) == -3


def test_round_half_up_vectorised_with_varying_decimals():
    got = round_half_up(np.array([131.78487, 543.24404, 12.85]), np.array([0, 1, 1]))
    assert got.tolist() == [132.0, 543.2, 12.9]
    assert np.isnan(round_half_up(np.array([np.nan]), 1)[0])


def test_format_values_symbols_and_separators():
    got = format_values([12345.678, np.nan, np.nan, 7.0], [1, 0, 0, 1], ["", "c", "", ""])
    assert got.tolist() == ["12,345.7", "c", "x", "7.0"]


def test_one_number_is_formatted_as_the_column_formats_it():
    """``format_value`` (one number, for sentences) and ``format_values`` (a column) show the same text, the DfE way:
    2.675 to 2 places is 2.68 (half up), thousands separated, a symbol only where there is no number."""
    from hypothesis import given, strategies as st

    from analysis.numbers import format_value

    assert format_value(2.675, 2) == "2.68"
    assert format_value(12345.678, 1) == "12,345.7"
    assert format_value(12345.678, 1, thousands=False) == "12345.7"
    assert format_value(np.nan, 0, "c") == "c" and format_value(None, 0) == "x" and format_value(7, 1, "c") == "7.0"

    @given(st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), st.integers(-10**7, 10**7)),
           st.integers(0, 3), st.sampled_from(["", "c", "x", "z", "k", "u", "low", ":", "no", None]),
           st.booleans())
    def agrees(value, decimals, status, thousands):
        column = format_values([value], [decimals], [status], thousands=thousands).iloc[0]
        assert format_value(value, decimals, status, thousands=thousands) == column

    agrees()
