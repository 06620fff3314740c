"""Small-count suppression: hand-worked tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.stats.suppression import is_suppressed, suppress_counts


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


def test_secondary_suppression_hand_worked():
    # group a: one primary cell (3); total 25 published -> 3 recoverable, so hide the next smallest
    #          non-zero cell, 10 (the zero is left: it would not protect and DfE shows zeros).
    # group b: two primary cells (4, 5) already protect each other -> nothing more.
    # group c: nothing suppressed -> nothing more.
    counts = pd.Series([3, 10, 12, 0, 4, 5, 20, 7, 8])
    groups = ["a", "a", "a", "a", "b", "b", "b", "c", "c"]
    assert suppress_counts(counts, groups).tolist() == ["c", "c", "12", "0", "c", "c", "20", "7", "8"]


def test_secondary_picks_a_zero_only_when_nothing_else():
    assert suppress_counts([2, 0, 0], ["g", "g", "g"]).tolist() == ["c", "c", "0"]


def test_secondary_ties_go_to_first_row():
    assert suppress_counts([9, 2, 9], list("ggg")).tolist() == ["c", "c", "9"]


def test_secondary_needs_groups_and_skips_unlabelled_rows():
    assert suppress_counts([3, 10, 12]).tolist() == ["c", "10", "12"]
    assert suppress_counts([3, 10, 12], [None, None, None]).tolist() == ["c", "10", "12"]


def test_na_cells_are_not_picked():
    assert suppress_counts([3, None, 40], list("ggg")).tolist() == ["c", "x", "c"]


def test_is_suppressed():
    out = suppress_counts([0, 3, None, 12])
    assert is_suppressed(out).tolist() == [False, True, False, False]
    assert is_suppressed(["c", "x", "10"]).tolist() == [True, False, False]


@pytest.mark.parametrize("bad", [[-1], [2.5], ["seven"]])
def test_bad_counts(bad):
    with pytest.raises(ParameterError):
        suppress_counts(bad)


def test_bad_threshold_and_group_length():
    with pytest.raises(ParameterError):
        suppress_counts([1], threshold=0)
    with pytest.raises(ParameterError):
        suppress_counts([1, 2], groups=["a"])
