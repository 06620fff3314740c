"""The recent trend: is an indicator significantly increasing or decreasing over its latest five points?

One implementation, :func:`trend_codes`, on arrays (the benchmarked table calls it for every row at once);
:func:`recent_trend` is the same test for a tidy table, one answer per series. Vectorised: no Python loop over
series or rows. Inputs are never modified.

References
----------
.. [1] Public Health England / OHID. Fingertips (fingertips-open), ``PholioVisualisationWS/Analysis/TrendMarkers/``
   ``TrendMarkerCalculator.cs`` and ``TrendRequest.cs``; unit tests ``AnalysisTest/TrendMarkerCalculatorTest.cs``.
.. [2] DHSC. FingertipsNext, ``trend-analysis/TrendAnalysisApp/Calculator/Legacy/TrendMarkerCalculator.cs`` (the same
   calculation, ported) and its tests against trends shown on the Fingertips website.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.stats.rates import _string_dtype

__all__ = ["recent_trend", "trend_codes", "TREND_COLUMNS", "TREND_VALUES", "POINTS", "CHI_SQUARE_THRESHOLD"]

#: Columns added to the group columns in the output of :func:`recent_trend`, always these.
TREND_COLUMNS = ["trend", "trend_statistic", "trend_points"]

#: The possible values of the ``trend`` column, in the order of the codes :func:`trend_codes` returns.
TREND_VALUES = ("cannot be calculated", "no significant change", "increasing", "decreasing")

#: How many of the latest points the test uses, and the fewest valid points it needs (Fingertips' ``PointsToUse``).
POINTS = 5

#: Fingertips' ``ChiSquareConfidence``: the chi-square (1 d.f.) quantile at 99.8%, ``qchisq(0.998, 1)``.
CHI_SQUARE_THRESHOLD = 9.54953570608324

# Fingertips turns a 95% interval into a standard error by dividing its width by 2 x 1.96.
_WIDTH_PER_SE = 3.92


def trend_codes(series, order, value, lower_95, upper_95, numerator, denominator):
    """Fingertips' recent trend at every row, taking each row as the latest point of its series.

    Parameters
    ----------
    series : array-like
        A key per row naming its series (one indicator in one area); any values that compare for equality.
    order : array-like
        A sortable time key per row (a year, a date); one row per series and time.
    value, lower_95, upper_95 : array-like of float
        The value and its 95% confidence limits (on any scale: the multiplier cancels out).
    numerator, denominator : array-like of float
        The count and the denominator behind the value.

    Returns
    -------
    (codes, statistic, points) : tuple of numpy.ndarray
        In the order of the input rows. ``codes`` (int8) index :data:`TREND_VALUES`; ``statistic`` is the
        chi-square statistic (NaN where the trend cannot be calculated); ``points`` is how many points the
        statistic uses: the latest points, at most five, of the unbroken run of valid points ending at the row
        that have both limits.

    Notes
    -----
    What is Fingertips' (``TrendMarkerCalculator`` for comparator methods other than SPC for proportions, and
    ``TrendRequest``), step by step, with the records of a series up to and including the row:

    1. A point is valid when its value and count are present and its denominator is above 0. The points used
       are the unbroken run of valid points ending at the latest record: a record without a valid value ends
       the run (so a suppressed latest point means no trend). With fewer than five records, or fewer than
       five valid points in the run, the trend cannot be calculated; nor when any point in the run has a
       count equal to its denominator (Fingertips' guard against a division by zero in its proportion method).
    2. Of the run, the latest five points that have both 95% limits are used (a point without limits is
       skipped, not a break), numbered ``t = 1, 2, ...`` in time order whatever their years. Fingertips
       computes with fewer than five such points rather than stopping; with fewer than two the statistic is
       NaN and the result is "no significant change", as in Fingertips.
    3. Each point is weighted by its confidence interval: ``se = (upper - lower) / 3.92``, ``w = 1 / se^2``.
       With ``S1 = sum w``, ``S2 = sum w y t``, ``S3 = sum w t``, ``S4 = sum w y``, ``S5 = sum w t^2`` the
       weighted least-squares slope is ``b = (S1 S2 - S3 S4) / (S1 S5 - S3^2)``, its standard error
       ``sqrt(S1 / (S1 S5 - S3^2))`` and the statistic ``X2 = (b / se(b))^2``.
    4. Outlier check: the slope is recomputed leaving out each of the five points in turn (leaving out a
       point beyond the number used leaves out nothing); a slope below 0 counts -1, any other +1, and all six
       must agree.
    5. The trend is significant when the check passes and ``X2`` exceeds 9.54953570608324 (99.8%, one
       degree of freedom; fixed whatever confidence the comparisons use): increasing if ``b > 0``, else
       decreasing. Otherwise "no significant change".

    Fingertips computes trends only for proportions and crude rates (the registry holds nothing else). For
    indicators it compares by SPC for proportions it uses a count-based chi-square instead of step 3; the
    benchmarked table compares every indicator by confidence-interval overlap, so that branch does not arise
    and is not implemented. FingertipsNext's port differs in one way not followed here: it does not stop the
    run at an invalid point.

    What is ours: the test is applied at every row (the trend "to this year" for earlier years too, from the
    records up to that year), in one vectorised pass; the result carries the statistic and the points used.
    """
    series = np.asarray(series)
    n = series.shape[0]
    value, lower, upper, num, den = (np.asarray(a, dtype="float64").reshape(n)
                                     for a in (value, lower_95, upper_95, numerator, denominator))
    order = np.asarray(order)
    # By series, then time: tables usually come in that order already, and are then used as they are.
    later = series[1:] > series[:-1]
    in_order = bool((later | ((series[1:] == series[:-1]) & (order[1:] > order[:-1]))).all())
    rows = None if in_order else np.lexsort((order, series))
    s, y, lo, up, o, d = ((series, value, lower, upper, num, den) if in_order else
                          (a[rows] for a in (series, value, lower, upper, num, den)))
    idx = np.arange(n)
    # (Running maxima and the like are worked out in place: fewer arrays the size of the table.)
    new_series = np.ones(n, dtype=bool)
    np.not_equal(s[1:], s[:-1], out=new_series[1:])
    start = np.where(new_series, idx, 0)
    np.maximum.accumulate(start, out=start)               # first row of the series

    valid = ~np.isnan(y) & ~np.isnan(o) & (d > 0)
    run_start = np.where(valid, -1, idx)
    np.maximum.accumulate(run_start, out=run_start)
    run_start += 1
    np.maximum(run_start, start, out=run_start)
    last_equal = np.where(valid & (o == d), idx, -1)
    np.maximum.accumulate(last_equal, out=last_equal)
    calculable = (last_equal < run_start)
    run_length = np.subtract(idx, run_start, out=last_equal)  # idx - run_start + 1 where valid, else 0
    run_length += 1
    calculable &= (run_length >= POINTS) & valid

    # The latest POINTS points of the run with both limits, left-aligned so that column j holds t = j + 1.
    usable = valid & ~np.isnan(lo) & ~np.isnan(up)
    upto = np.cumsum(usable)                               # usable rows at or before each row
    np.subtract(run_start, 1, out=start)
    np.maximum(start, 0, out=start)
    before_run = upto.take(start)
    before_run[run_start == 0] = 0
    k = np.subtract(upto, before_run, out=before_run)
    k[~valid] = 0
    np.minimum(k, POINTS, out=k)
    col = np.arange(POINTS)
    # Only rows where the trend can be calculated are fitted (the others' code is 0 and statistic missing), a few
    # thousand at a time: a part's arrays stay small, and their memory is used again.
    code = np.zeros(n, dtype=np.int8)
    stat = np.full(n, np.nan)
    sel = np.flatnonzero(calculable)
    usable_rows = np.append(np.flatnonzero(usable), 0)
    for part in range(0, len(sel), _FIT_ROWS):
        at = sel[part:part + _FIT_ROWS]
        ks = k[at]
        used = col[:, None] < ks                          # (point, row): points in time order, one row each
        # Row of each used point: the (upto - k + col)-th usable row; unused slots point anywhere (row 0), masked.
        pick = usable_rows.take(np.where(used, upto[at] - ks + col[:, None], -1))
        code[at], stat[at] = _fit(y, lo, up, pick, used)
    if in_order:
        return code, stat, k
    out_code, out_stat, out_points = np.empty(n, np.int8), np.empty(n), np.empty(n, dtype=np.int64)
    out_code[rows] = code
    out_stat[rows] = stat
    out_points[rows] = k
    return out_code, out_stat, out_points


#: How many rows :func:`trend_codes` fits at once (a part of the table, its arrays a megabyte or two).
_FIT_ROWS = 4096


def _fit(y: np.ndarray, lo: np.ndarray, up: np.ndarray, pick: np.ndarray, used: np.ndarray):
    """The code and statistic of the trend of each column of ``pick`` (the rows of its points, in time order,
    where ``used``): :func:`trend_codes`, steps 3 to 5."""
    col = np.arange(POINTS)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Fingertips' five terms per point, written as it writes them: 1/v, y t/v, t/v, y/v, t^2/v with v = se^2.
        # A point not used adds nothing: its terms are made 0 (an infinite variance, no value).
        v = np.where(used, ((up[pick] - lo[pick]) / _WIDTH_PER_SE) ** 2, np.inf)
        yy, t = np.where(used, y[pick], 0.0), (col + 1).astype("float64")[:, None]
        w = np.empty((POINTS, 5) + v.shape[1:])           # (point, term, row), each term worked out in its place
        np.divide(1, v, out=w[:, 0])
        np.divide(np.multiply(yy, t, out=w[:, 1]), v, out=w[:, 1])
        np.divide(t, v, out=w[:, 2])
        np.divide(yy, v, out=w[:, 3])
        np.divide(t ** 2, v, out=w[:, 4])
        # Six fits: all the points, then each of the five left out in turn (leaving out a point beyond the number
        # used leaves out nothing). Each sum runs in time order, as Fingertips sums: a point left out adds
        # nothing, so a fit's sum is the running sum to the point before it, then the points after it.
        fits = np.empty((POINTS + 1,) + w.shape[1:])      # (fit, term, row): fit 1 + j leaves out point j
        fits[2] = 0 + w[0]
        for j in col[1:-1]:                                # the running sums to points 1 to 3: the fits leaving
            np.add(fits[j + 1], w[j], out=fits[j + 2])     # out points 2 to 4
        fits[0] = fits[-1] + w[-1]                         # all the points
        fits[1] = 0.0
        for j in col[1:]:                                  # five points, not rows: each is added to the fits
            fits[1:j + 1] += w[j]                          # that leave out an earlier point
        s1, s2, s3, s4, s5 = (fits[:, i] for i in range(5))  # (6 fits, rows) each
        det = s1 * s5 - s3 ** 2
        slopes = (s1 * s2 - s3 * s4) / det                 # the slope of each fit: (6, rows)
        b, beta = slopes[0], np.sqrt(s1[0] / det[0])        # the fit of all the points, and Fingertips' beta
        statistic = (b / beta) ** 2
        # A slope below 0 counts -1, any other +1, and all six must agree: none falls, or all do.
        falling = (slopes < 0).sum(axis=0)
        significant = ((falling == 0) | (falling == POINTS + 1)) & (statistic > CHI_SQUARE_THRESHOLD)
    return np.where(significant, np.where(b > 0, 2, 3), 1), statistic


def recent_trend(
    df: pd.DataFrame,
    group_cols: str | list[str],
    period_col: str,
    numerator_col: str,
    denominator_col: str,
    value_col: str = "value",
    lower_col: str = "lower_95",
    upper_col: str = "upper_95",
) -> pd.DataFrame:
    """Recent trend of each series at its latest period, by Fingertips' method (see :func:`trend_codes`).

    Parameters
    ----------
    df : pandas.DataFrame
        Long table, one row per group and period (a benchmarked or computed indicator table, say). Not
        modified.
    group_cols : str or list of str
        Columns identifying a series (e.g. ``["indicator", "area_code"]``).
    period_col : str
        Column giving the period; its values must sort in time order (years, dates, or labels such as
        ``"2019/20"``). A row with a missing value is a gap that ends the run of valid points; a period with
        no row is not.
    numerator_col, denominator_col : str
        The count and denominator behind each value.
    value_col, lower_col, upper_col : str
        The value and its 95% confidence limits.

    Returns
    -------
    pandas.DataFrame
        One row per group (sorted by the group columns; missing keys kept), with the group columns and then
        always exactly

        ``trend``
            ``"increasing"``, ``"decreasing"``, ``"no significant change"`` or ``"cannot be calculated"``;
        ``trend_statistic``
            the chi-square statistic (missing when the trend cannot be calculated);
        ``trend_points``
            the number of points the statistic uses (``Int64``, at most five).

    Raises
    ------
    ValueError
        If a column is missing or a group has two rows for one period.
    """
    group_cols = [group_cols] if isinstance(group_cols, str) else list(group_cols)
    needed = group_cols + [period_col, numerator_col, denominator_col, value_col, lower_col, upper_col]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ValueError(f"recent_trend: the table has no column(s) {', '.join(map(repr, missing))}")
    dup = df.duplicated(group_cols + [period_col], keep=False).to_numpy()
    if dup.any():
        first = int(np.flatnonzero(dup)[0])
        raise ValueError(f"recent_trend: {int(dup.sum())} rows share a group and period with another row "
                         f"(first at position {first}); give one row per group and period")

    group = df.groupby(group_cols, dropna=False, sort=True).ngroup().to_numpy()
    period = pd.factorize(df[period_col], sort=True)[0]
    code, statistic, points = trend_codes(group, period, *(df[c].to_numpy(dtype="float64", na_value=np.nan) for c in
                                                           (value_col, lower_col, upper_col, numerator_col,
                                                            denominator_col)))
    by_time = np.lexsort((period, group))
    g = group[by_time]
    latest = by_time[np.r_[g[1:] != g[:-1], True][:len(g)]]  # the last row of each group
    out = df.iloc[latest][group_cols].reset_index(drop=True)
    out["trend"] = pd.Series(np.asarray(TREND_VALUES, dtype=object)[code[latest]], dtype=_string_dtype())
    out["trend_statistic"] = statistic[latest]
    out["trend_points"] = pd.Series(points[latest], dtype="Int64")
    return out
