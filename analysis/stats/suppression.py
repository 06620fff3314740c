"""Small-count suppression for anything published from child-level records.

Conventions (following DfE practice in its local-authority children-in-need and looked-after tables)
--------------------------------------------------------------------------------------------------
* counts of 1 to ``threshold`` (default :data:`THRESHOLD`, 5) are replaced by ``"c"`` (confidential);
* a zero is shown as ``"0"``: DfE publishes true zeros, since a zero tells nobody anything about an
  individual child;
* a missing count (NA) is shown as ``"x"`` (DfE's symbol for "not available");
* every other count is shown as a whole number (``"1234"``).

:func:`is_small` is the rule; :func:`suppress_counts` writes counts as published text with it, and the in-year
figures (:mod:`analysis.indicators.local`) hide small counts and what is worked out from them with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

SUPPRESSED = "c"
NOT_AVAILABLE = "x"

#: The largest count suppressed.
THRESHOLD = 5


def is_small(counts, threshold: int = THRESHOLD) -> np.ndarray:
    """Where a count must be suppressed: from 1 to ``threshold`` (a zero and a missing count are not).

    Parameters
    ----------
    counts : Series or array-like of numbers (NA allowed)
    threshold : the largest count suppressed (default 5).

    Returns
    -------
    numpy.ndarray of bool, one per count.

    Raises
    ------
    ParameterError
        A threshold that is not a whole number of at least 1.
    """
    if int(threshold) != threshold or threshold < 1:
        raise ParameterError(f"suppression threshold must be a whole number of at least 1, not {threshold!r}")
    v = (counts.to_numpy("float64", na_value=np.nan) if isinstance(counts, (pd.Series, pd.Index))
         else np.asarray(counts, dtype="float64"))
    return (v >= 1) & (v <= threshold)


def suppress_counts(counts, threshold: int = THRESHOLD) -> pd.Series:
    """Counts as publishable strings: 1 to ``threshold`` as ``c``, missing as ``x``, others whole.

    Parameters
    ----------
    counts : Series or array-like of whole non-negative numbers (NA allowed)
    threshold : the largest count suppressed (default 5).

    Returns
    -------
    Series of ``str`` with the index of ``counts`` (or a RangeIndex).

    Raises
    ------
    ParameterError
        A count that is not a whole number of zero or more, or a threshold below 1.
    """
    series = counts.copy() if isinstance(counts, pd.Series) else pd.Series(list(np.asarray(counts, dtype=object)))
    values = pd.to_numeric(series, errors="coerce").astype("Float64")
    bad_text = values.isna() & series.notna()
    if bad_text.any():
        raise ParameterError(f"counts must be numbers; found {series[bad_text].iloc[0]!r}")
    known = values.dropna()
    if (known < 0).any() or (known != known.round()).any():
        raise ParameterError("counts must be whole numbers of zero or more")
    na = values.isna().to_numpy(bool)  # pragma: no mutate (to_numpy() of a bool column is bool either way)
    text = pd.Series(values.fillna(0).to_numpy("float64").astype(np.int64), index=series.index).astype(str)
    out = text.where(~is_small(values, threshold), SUPPRESSED).where(~na, NOT_AVAILABLE)
    return out.astype(str)


def is_suppressed(series) -> pd.Series:
    """True where a value was suppressed for disclosure control (``"c"``); ``"x"`` (not available) is not."""
    s = series if isinstance(series, pd.Series) else pd.Series(list(series))
    return s.astype(str).str.strip().eq(SUPPRESSED)


__all__ = ["suppress_counts", "is_small", "is_suppressed", "SUPPRESSED", "NOT_AVAILABLE", "THRESHOLD"]
