"""Small-count suppression: hand-worked tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.stats.suppression import is_small, is_suppressed, suppress_counts


def test_primary_suppression_zero_shown_na_x():
    out = suppress_counts(pd.Series([0, 1, 5, 6, 1234, None]))
    assert out.tolist() == ["0", "c", "c", "6", "1234", "x"]


def test_accepts_lists_floats_and_nullable_ints():
    assert suppress_counts([3.0, 7.0, np.nan]).tolist() == ["c", "7", "x"]
    assert suppress_counts(pd.Series([2, pd.NA, 40], dtype="Int64")).tolist() == ["c", "x", "40"]


def test_threshold():
    assert suppress_counts([5, 9, 10, 11], threshold=10).tolist() == ["c", "c", "c", "11"]


def test_index_kept():
    s = pd.Series([4, 50], index=["cla_at", "cin_at"])
    out = suppress_counts(s)
    assert out.index.tolist() == ["cla_at", "cin_at"] and out["cla_at"] == "c"


def test_is_small_is_the_rule():
    # 1 to 5 are small; 0, 6, missing and negative are not
    assert is_small([0, 1, 5, 6, None, -1]).tolist() == [False, True, True, False, False, False]
    assert is_small(pd.Series([2, pd.NA, 40], dtype="Int64")).tolist() == [True, False, False]
    assert is_small([10, 11], threshold=10).tolist() == [True, False]


def test_is_suppressed():
    out = suppress_counts([0, 3, None, 12])
    assert is_suppressed(out).tolist() == [False, True, False, False]
    assert is_suppressed(["c", "x", "10"]).tolist() == [True, False, False]


@pytest.mark.parametrize("bad", [[-1], [2.5], ["seven"]])
def test_bad_counts(bad):
    with pytest.raises(ParameterError):
        suppress_counts(bad)


def test_bad_threshold():
    with pytest.raises(ParameterError):
        suppress_counts([1], threshold=0)
    with pytest.raises(ParameterError):
        is_small([1], threshold=2.5)


def test_threshold_of_one_suppresses_only_ones():
    # The smallest threshold allowed: only a count of 1 is hidden.
    assert is_small([0, 1, 2], threshold=1).tolist() == [False, True, False]
    assert suppress_counts([0, 1, 2], threshold=1).tolist() == ["0", "c", "2"]


def test_is_small_is_a_boolean_mask_for_text_columns_with_na():
    # Counts read into an object column keep pd.NA and None: the rule still gives a bool mask, whose negation
    # keeps the other rows (an object array of Python bools would negate to -2 and -1).
    counts = pd.Series([2, pd.NA, 40, None], dtype=object, index=[7, 8, 9, 10])
    mask = is_small(counts)
    assert mask.dtype == bool
    assert mask.tolist() == [True, False, False, False]
    assert (~mask).tolist() == [False, True, True, True]


def test_is_suppressed_keeps_the_index():
    s = pd.Series(["c", "12", "x"], index=["cla_at", "cin_at", "cpp_at"])
    out = is_suppressed(s)
    assert out.index.tolist() == ["cla_at", "cin_at", "cpp_at"]
    assert out["cla_at"] and not out["cin_at"] and not out["cpp_at"]


def test_messages_name_what_was_wrong():
    with pytest.raises(ParameterError, match=r"^counts must be numbers; found 'seven'$"):
        suppress_counts([4, "seven"])
    with pytest.raises(ParameterError, match=r"^counts must be whole numbers of zero or more$"):
        suppress_counts([4, 2.5])
    with pytest.raises(ParameterError, match=r"^suppression threshold must be a whole number of at least 1, not 0$"):
        is_small([1], threshold=0)
