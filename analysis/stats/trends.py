"""The recent-trend test: is an indicator significantly increasing or decreasing over its latest points?

Vectorised over any number of series (one per local authority and indicator, say) with groupby sums: no Python
loop over groups or rows. The input table is never modified.

References
----------
.. [1] Public Health England / OHID. Fingertips technical guidance: recent trends, a chi-square test for
   linear trend over the most recent five data points (fingertips-open, ``RecentTrendCalculator``).
.. [2] Armitage P, Berry G, Matthews JNS. Statistical methods in medical research (4th edn). Oxford:
   Blackwell; 2002. Section 15.2, the chi-square test for linear trend as weighted regression.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.stats.rates import _parse_confidence, _string_dtype, chi2_ppf

__all__ = ["recent_trend", "TREND_COLUMNS", "TREND_VALUES"]

#: Columns added to the group columns in the output of :func:`recent_trend`, always these.
TREND_COLUMNS = ["trend", "trend_statistic", "trend_points"]

#: The possible values of the ``trend`` column.
TREND_VALUES = ("increasing", "decreasing", "no significant change", "cannot be calculated")

# Accepted spellings of the two kinds, matched case-insensitively. Method names from analysis.stats.rates count too.
_KIND_ALIASES = {
    "proportion": "proportion",
    "percentage": "proportion",
    "wilson": "proportion",
    "rate": "rate",
    "crude rate": "rate",
    "byars": "rate",
    "exact": "rate",
    "poisson": "rate",
}


def _kinds(df: pd.DataFrame, kind: str | None, kind_col: str | None) -> np.ndarray:
    """Per-row kind, "proportion" or "rate", from a literal ``kind`` or the column ``kind_col``."""
    if (kind is None) == (kind_col is None):
        raise ValueError("give exactly one of kind ('proportion' or 'rate') and kind_col (a column name)")
    if kind is not None:
        resolved = _KIND_ALIASES.get(str(kind).strip().lower())
        if resolved is None:
            raise ValueError(f"kind {kind!r} is not known: use 'proportion' or 'rate'")
        return np.full(len(df), resolved, dtype=object)
    if kind_col not in df.columns:
        raise ValueError(f"kind_col {kind_col!r} is not a column of the table")
    raw = df[kind_col]
    resolved = raw.astype("string").str.strip().str.lower().astype(object).map(_KIND_ALIASES)
    unknown = resolved.isna().to_numpy()
    if unknown.any():
        first = int(np.flatnonzero(unknown)[0])
        raise ValueError(
            f"column {kind_col!r}: {int(unknown.sum())} rows have a kind that is not 'proportion' or 'rate' "
            f"(first at position {first}: {raw.iloc[first]!r})"
        )
    return resolved.to_numpy(dtype=object)


def recent_trend(
    df: pd.DataFrame,
    group_cols: str | list[str],
    period_col: str,
    numerator_col: str,
    denominator_col: str,
    kind: str | None = None,
    *,
    kind_col: str | None = None,
    n_points: int = 5,
    confidence: float | str = 0.998,
) -> pd.DataFrame:
    """Recent trend of each series: chi-square test for linear trend over its latest ``n_points`` points.

    Parameters
    ----------
    df : pandas.DataFrame
        Long table, one row per group and period, holding counts and denominators. Not modified.
    group_cols : str or list of str
        Columns identifying a series (e.g. ``["la_code", "indicator"]``).
    period_col : str
        Column giving the period; its values must sort in time order (years, or labels such as
        ``"2019/20"``). Each group should have one row per period, with missing counts where there is no
        value: periods absent from the table cannot be detected as gaps.
    numerator_col, denominator_col : str
        Columns with the counts and denominators (a row has a value when both are present and the
        denominator is positive).
    kind : {"proportion", "rate"}, optional
        The kind of every series. ``"wilson"``, ``"byars"`` and ``"exact"`` (the method names of
        :mod:`analysis.stats.rates`) are accepted as aliases.
    kind_col : str, optional
        Instead of ``kind``: a column giving the kind per row (same values). Give exactly one of the two.
    n_points : int, default 5
        Number of most recent consecutive points the test needs.
    confidence : float or str, default 0.998
        Significance is declared when the statistic exceeds the chi-square (1 d.f.) quantile at this level;
        0.998 gives 9.5495, as Fingertips.

    Returns
    -------
    pandas.DataFrame
        One row per group (sorted by the group columns; missing keys kept), with the group columns and then
        always exactly

        ``trend``
            ``"increasing"``, ``"decreasing"``, ``"no significant change"`` or ``"cannot be calculated"``;
        ``trend_statistic``
            the chi-square statistic (missing when it cannot be calculated);
        ``trend_points``
            the number of points with a value among the ``n_points`` periods ending at the latest period with
            a value (``Int64``; the test runs only when this equals ``n_points``).

    Raises
    ------
    ValueError
        If a column is missing, a group has two rows for one period, ``kind``/``kind_col`` are not given
        exactly once or hold an unknown kind, ``n_points`` is below 2, or the confidence is invalid.

    Notes
    -----
    Fingertips' recent-trend method (chi-square test for linear trend, Armitage, Berry and Matthews 2002):

    1. Periods after the latest one with a value are ignored. The ``n_points`` periods ending at the latest
       period with a value must all have a value; otherwise the trend cannot be calculated (also when the
       series has fewer periods, or a point has zero variance, i.e. a proportion of 0 or 1 or a count of 0).
    2. Each point has ``y`` and a variance ``v``: for proportions ``y = O/n`` and ``v = y(1 - y)/n``
       (binomial); for rates ``y = O/n`` and ``v = O/n^2`` (Poisson). Weights are ``w = 1/v``; time ``t`` is
       0, 1, ..., ``n_points - 1``.
    3. With weighted means ``tbar = sum(w t)/sum(w)`` and ``ybar = sum(w y)/sum(w)``, the statistic is
       ``X2 = (sum w (t - tbar)(y - ybar))^2 / sum w (t - tbar)^2``, the squared weighted least-squares slope
       over its variance, chi-square with 1 d.f. under no trend.
    4. When ``X2`` exceeds ``chi2.ppf(confidence, 1)`` the trend is increasing if the slope is positive,
       else decreasing; otherwise no significant change.

    The multiplier of the indicator (per 100, per 10,000) scales ``y`` and ``sqrt(v)`` alike and cancels out
    of ``X2``, so it is not a parameter; nor is the value column, which is ``O/n`` times the multiplier.
    With a pooled variance instead of each point's own, ``X2`` is the Cochran-Armitage trend statistic.
    """
    if isinstance(group_cols, str):
        group_cols = [group_cols]
    group_cols = list(group_cols)
    needed = group_cols + [period_col, numerator_col, denominator_col]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ValueError(f"recent_trend: the table has no column(s) {', '.join(map(repr, missing))}")
    if not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ValueError(f"n_points must be an integer of at least 2, got {n_points!r}")
    threshold = float(chi2_ppf(_parse_confidence(confidence), 1))

    work = df[group_cols + [period_col]].copy()
    work["_kind"] = _kinds(df, kind, kind_col)
    work["_o"] = df[numerator_col].to_numpy(dtype="float64", na_value=np.nan)
    work["_n"] = df[denominator_col].to_numpy(dtype="float64", na_value=np.nan)
    work = work.reset_index(drop=True)

    dup = work.duplicated(group_cols + [period_col], keep=False)
    if dup.any():
        first = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(
            f"recent_trend: {int(dup.sum())} rows share a group and period with another row "
            f"(first at position {first}); give one row per group and period"
        )

    work = work.sort_values(group_cols + [period_col], kind="stable", na_position="last").reset_index(drop=True)
    grouped_rows = work.groupby(group_cols, dropna=False, sort=False)
    pos = grouped_rows.cumcount().to_numpy()

    o, n = work["_o"].to_numpy(), work["_n"].to_numpy()
    has_value = ~np.isnan(o) & (n > 0) & (o >= 0)
    # Window: the n_points positions ending at the latest position with a value in the group.
    last = pd.Series(np.where(has_value, pos, np.nan)).groupby(grouped_rows.ngroup()).transform("max").to_numpy()
    in_window = (pos <= last) & (pos > last - n_points)

    with np.errstate(divide="ignore", invalid="ignore"):
        y = o / n
        var = np.where(work["_kind"].to_numpy() == "proportion", y * (1 - y) / n, o / n**2)
    usable = in_window & has_value
    zero_var = usable & ~(var > 0)
    t = (pos - (last - n_points + 1)).astype("float64")  # 0 .. n_points-1 inside the window

    w = np.where(usable & ~zero_var, 1 / np.where(var > 0, var, 1.0), 0.0)
    yy = np.where(usable & ~zero_var, y, 0.0)
    tt = np.where(usable, t, 0.0)
    gid = grouped_rows.ngroup().to_numpy()

    sums = pd.DataFrame({
        "gid": gid,
        "w": w,
        "wt": w * tt,
        "wy": w * yy,
        "points": usable.astype("int64"),
        "zero_var": zero_var.astype("int64"),
    }).groupby("gid").sum()
    sw = sums["w"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        tbar_g = sums["wt"].to_numpy() / sw
        ybar_g = sums["wy"].to_numpy() / sw
    # Second pass on deviations from the weighted means (numerically stable).
    dt = tt - tbar_g[gid]
    dy = yy - ybar_g[gid]
    dev = pd.DataFrame({"gid": gid, "sxy": w * dt * dy, "sxx": w * dt * dt}).groupby("gid").sum()
    sxy, sxx = dev["sxy"].to_numpy(), dev["sxx"].to_numpy()

    points = sums["points"].to_numpy()
    ok = (points == n_points) & (sums["zero_var"].to_numpy() == 0) & (sxx > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = np.where(ok, sxy**2 / sxx, np.nan)
    trend = np.select(
        [~ok, statistic > threshold],
        ["cannot be calculated", np.where(sxy > 0, "increasing", "decreasing")],
        default="no significant change",
    ).astype(object)

    # ``work`` is sorted by the group columns, so groups are numbered (sort=False) in sorted order and the
    # first row of each group, in table order, lines up with the per-group arrays above.
    first_rows = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]]) if len(gid) else np.array([], dtype=int)
    keys = work.loc[first_rows, group_cols].reset_index(drop=True)
    out = keys.copy()
    out["trend"] = pd.Series(trend, dtype=_string_dtype())
    out["trend_statistic"] = statistic
    out["trend_points"] = pd.Series(points, dtype="Int64")
    return out[group_cols + TREND_COLUMNS]


#: Labels of the codes :func:`rolling_trend_codes` returns, by code.
TREND_LABELS = ("cannot be calculated", "no significant change", "increasing", "decreasing")


def rolling_trend(numerator, denominator, is_proportion, n_points: int = 5, confidence: float | str = 0.998):
    """As :func:`rolling_trend_codes`, with the trend as words."""
    codes, statistic = rolling_trend_codes(numerator, denominator, is_proportion, n_points, confidence)
    return np.asarray(TREND_LABELS, dtype=object)[codes], statistic


def rolling_trend_codes(numerator, denominator, is_proportion, n_points: int = 5, confidence: float | str = 0.998):
    """The recent-trend test for every window of ``n_points`` consecutive periods, on dense arrays.

    The same statistic as :func:`recent_trend`, for tables already laid out as arrays whose last axis is time (for
    example indicator x area x year): the result at position ``[..., k]`` tests the ``n_points`` periods ending at
    ``k``. Every period in the window must have a value with a positive variance, else "cannot be calculated".

    Parameters
    ----------
    numerator, denominator : numpy.ndarray
        Same shape ``(..., T)``.
    is_proportion : numpy.ndarray of bool
        Broadcastable to the shape: proportions use variance p(1-p)/n, rates O/n^2.
    n_points : int
    confidence : float or str

    Returns
    -------
    (trend, statistic) : (numpy.ndarray of int8, numpy.ndarray of float)
        Shape ``(..., T)``; the trend as codes into :data:`TREND_LABELS`.
    """
    o = np.asarray(numerator, dtype="float64")
    n = np.asarray(denominator, dtype="float64")
    threshold = float(chi2_ppf(_parse_confidence(confidence), 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        y = o / n
        var = np.where(np.broadcast_to(is_proportion, o.shape), y * (1 - y) / n, o / n**2)
        ok_point = np.isfinite(o) & (n > 0) & (o >= 0) & (var > 0)
        w = np.where(ok_point, 1 / np.where(ok_point, var, 1.0), 0.0)
    y = np.where(ok_point, y, 0.0)
    shape = o.shape
    T = shape[-1]
    trend = np.zeros(shape, dtype=np.int8)
    statistic = np.full(shape, np.nan)
    if T < n_points:
        return trend, statistic
    # Window sums from cumulative sums along time. The statistic does not depend on where time starts, so the
    # absolute period index serves: Sxx = S(wt^2) - S(wt)^2/S(w), Sxy = S(wty) - S(wt)S(wy)/S(w).
    t = np.arange(T, dtype="float64")

    def window(a):
        c = np.cumsum(a, axis=-1)
        out = c[..., n_points - 1:].copy()
        out[..., 1:] -= c[..., :-n_points]
        return out

    sw, swt, swtt = window(w), window(w * t), window(w * t * t)
    swy, swty = window(w * y), window(w * t * y)
    OK = window(ok_point.astype("float64")) == n_points
    with np.errstate(divide="ignore", invalid="ignore"):
        sxx = swtt - swt * swt / sw
        sxy = swty - swt * swy / sw
        stat = np.where(OK & (sxx > 0), sxy**2 / sxx, np.nan)
    label = np.where(~np.isfinite(stat), 0, np.where(stat > threshold, np.where(sxy > 0, 2, 3), 1))
    trend[..., n_points - 1:] = label
    statistic[..., n_points - 1:] = stat
    return trend, statistic
