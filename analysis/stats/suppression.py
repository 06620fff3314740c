"""Small-count suppression for anything published from child-level records.

Conventions (following DfE practice in its local-authority children-in-need and looked-after tables)
--------------------------------------------------------------------------------------------------
* counts of 1 to ``threshold`` (default 5) are replaced by ``"c"`` (confidential);
* a zero is shown as ``"0"``: DfE publishes true zeros, since a zero tells nobody anything about an
  individual child;
* a missing count (NA) is shown as ``"x"`` (DfE's symbol for "not available");
* every other count is shown as a whole number (``"1234"``).

Secondary suppression: when ``groups`` is given, each group's cells are taken to add up to a total that
is published (or can be worked out) elsewhere. A group with exactly one suppressed cell would let a
reader recover it as total minus the others, so the next smallest cell of that group is suppressed too
(the smallest non-zero unsuppressed count; a zero only if the group has no non-zero candidate; ties go
to the first row). Only one grouping dimension is protected: for a two-way table, run once per
dimension and combine with :func:`is_suppressed`, or suppress the margins yourself. A group whose only
cell is suppressed cannot be protected inside the group: suppress its published total too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

SUPPRESSED = "c"
NOT_AVAILABLE = "x"


def suppress_counts(counts, groups=None, threshold: int = 5) -> pd.Series:
    """Counts as publishable strings with primary (1..threshold) and secondary suppression.

    Parameters
    ----------
    counts : Series or array-like of whole non-negative numbers (NA allowed)
    groups : Series or array-like of group labels, the same length as ``counts`` (optional);
        rows with an NA label are not grouped.
    threshold : the largest count suppressed (default 5).

    Returns
    -------
    Series of ``str`` with the index of ``counts`` (or a RangeIndex).
    """
    if int(threshold) != threshold or threshold < 1:
        raise ParameterError(f"suppression threshold must be a whole number of at least 1, not {threshold!r}")
    series = counts.copy() if isinstance(counts, pd.Series) else pd.Series(list(np.asarray(counts, dtype=object)))
    values = pd.to_numeric(series, errors="coerce").astype("Float64")
    bad_text = values.isna() & series.notna()
    if bad_text.any():
        raise ParameterError(f"counts must be numbers; found {series[bad_text].iloc[0]!r}")
    known = values.dropna()
    if (known < 0).any() or (known != known.round()).any():
        raise ParameterError("counts must be whole numbers of zero or more")

    na = values.isna().to_numpy(bool)
    v = values.fillna(-1).to_numpy(float)
    primary = (~na) & (v >= 1) & (v <= threshold)
    text = pd.Series(np.where(na, 0, v).astype(np.int64), index=series.index).astype(str)
    hidden = primary.copy()

    if groups is not None:
        g = groups.to_numpy() if isinstance(groups, pd.Series) else np.asarray(groups, dtype=object)
        if len(g) != len(series):
            raise ParameterError(f"groups has {len(g)} rows but counts has {len(series)}")
        frame = pd.DataFrame(
            {"g": pd.Series(g, dtype=object), "primary": primary, "v": v, "na": na, "pos": np.arange(len(v))}
        )
        n_primary = frame.groupby("g", dropna=True)["primary"].transform("sum")
        exposed = n_primary.eq(1).to_numpy(bool)
        candidates = frame[exposed & ~primary & ~na & frame["g"].notna().to_numpy(bool)]
        if not candidates.empty:
            candidates = candidates.assign(zero=candidates["v"] == 0)
            chosen = (
                candidates.sort_values(["zero", "v", "pos"], kind="stable")
                .drop_duplicates("g", keep="first")["pos"]
                .to_numpy()
            )
            hidden[chosen] = True

    out = text.where(~hidden, SUPPRESSED).where(~na, NOT_AVAILABLE)
    return out.astype(str)


def is_suppressed(series) -> pd.Series:
    """True where a value was suppressed for disclosure control (``"c"``); ``"x"`` (not available) is not."""
    s = series if isinstance(series, pd.Series) else pd.Series(list(series))
    return s.astype(str).str.strip().eq(SUPPRESSED)


__all__ = ["suppress_counts", "is_suppressed", "SUPPRESSED", "NOT_AVAILABLE"]
