"""Low-level comparison primitives: significance against a comparator, funnel limits, quantiles, bands, ranks.

All functions are vectorised over rows (numpy / pandas operations, no Python loop over rows or groups) and
never modify their inputs.

Comparison outcomes are the strings ``"better"``, ``"similar"``, ``"worse"`` when the indicator has a polarity,
``"higher"``, ``"similar"``, ``"lower"`` when it has none (Fingertips makes no judgement without polarity), and
``"not compared"`` when something needed is missing.

Each statistic is written once. The benchmarked table (:mod:`analysis.indicators.benchmark`) calls
:func:`compare_ci_codes` and :func:`rank_and_quantiles` / :func:`quartile_codes`; :func:`compare_ci`, the SPC
comparisons, :func:`quantile_type7`, :func:`quartile_band` and :func:`rank_min` are built on the same code, so
the reference vectors that test them test the table's figures.

References
----------
.. [1] Public Health England / OHID. Fingertips (fingertips-open), ``PholioVisualisation.Analysis``
   comparers: ``SingleOverlappingCIsForOneCILevelComparer``, ``SpcForProportionsComparer``,
   ``SpcForDsrComparer``; quintile bounds by the type-7 percentile.
.. [2] Hyndman RJ, Fan Y. Sample quantiles in statistical packages. Am Stat 1996; 50:361-365 (type 7).
.. [3] Spiegelhalter DJ. Funnel plots for comparing institutional performance. Stat Med 2005; 24:1185-1202.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.stats.rates import (
    _broadcast,
    _check_non_negative,
    _index_of,
    _parse_confidence,
    _str_series,
    _to_float,
    poisson_limits,
)

__all__ = [
    "POLARITIES",
    "compare_ci",
    "compare_spc_proportion",
    "compare_spc_dsr",
    "funnel_limits_proportion",
    "funnel_limits_rate",
    "quantile_type7",
    "quartile_band",
    "rank_min",
    "rank_and_quantiles",
    "quartile_codes",
    "QUARTILE_BANDS",
    "RESULT_WORDS",
    "compare_ci_codes",
]

#: The accepted polarity values.
POLARITIES = ("low_is_good", "high_is_good", "none")

NOT_COMPARED = "not compared"


# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------

# Directions and polarities as small integer codes: comparing codes is far cheaper than comparing strings.
_NOT, _HIGHER, _LOWER, _SIMILAR = 0, 1, 2, 3
_POLARITY_CODE = {"none": 0, "low_is_good": 1, "high_is_good": 2}

#: The words the comparison codes index, in order ("" is for rows a caller leaves uncompared).
RESULT_WORDS = ("", NOT_COMPARED, "higher", "lower", "similar", "better", "worse")
# The one judgement of every comparison: result code by polarity code (row) and direction code (column).
_RESULT_CODES = np.array([
    [1, 2, 3, 4],   # polarity none: higher, lower, similar (no judgement)
    [1, 6, 5, 4],   # low is good: higher is worse, lower is better
    [1, 5, 6, 4],   # high is good: higher is better, lower is worse
], dtype=np.int8)


def _polarity_codes(polarity: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Polarity broadcast to ``shape`` as codes (see :data:`_POLARITY_CODE`), checked against :data:`POLARITIES`."""
    if isinstance(polarity, str):
        if polarity not in _POLARITY_CODE:
            raise ValueError(f"1 rows have an unknown polarity (first at position 0: {polarity!r}); use one of "
                             f"{', '.join(POLARITIES)}")
        return np.full(shape, _POLARITY_CODE[polarity], dtype=np.int8)
    if isinstance(polarity, pd.Series) and isinstance(polarity.dtype, pd.CategoricalDtype):
        polarity = polarity.array
    if isinstance(polarity, pd.Categorical) and polarity.shape == shape:  # fast path: codes are already there
        lut = np.array([_POLARITY_CODE.get(u, -1) for u in polarity.categories], dtype=np.int8)
        codes = polarity.codes
        out = lut[codes]
        if (codes < 0).any() or (out < 0).any():
            bad = (codes < 0) | (lut[np.maximum(codes, 0)] < 0)
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{int(bad.sum())} rows have an unknown polarity (first at position {first}: "
                             f"{polarity[first]!r}); use one of {', '.join(POLARITIES)}")
        return out
    pol = polarity.to_numpy(dtype=object) if isinstance(polarity, (pd.Series, pd.Index)) else np.asarray(polarity, dtype=object)
    pol = np.broadcast_to(pol, shape)
    codes, uniques = pd.factorize(pol.ravel())
    lut = np.array([_POLARITY_CODE.get(u, -1) for u in uniques], dtype=np.int8)  # a few distinct values
    out = lut[codes] if len(lut) else np.zeros(0, dtype=np.int8)
    if (out < 0).any() or (codes < 0).any():
        bad = (out < 0) | (codes < 0)
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{int(bad.sum())} rows have an unknown polarity (first at position {first}: "
            f"{pol.ravel()[first]!r}); use one of {', '.join(POLARITIES)}"
        )
    return out.reshape(shape)


def _polarity_names(codes: np.ndarray) -> np.ndarray:
    """Polarity codes (see :data:`_POLARITY_CODE`) back to their names."""
    return np.array(list(_POLARITY_CODE), dtype=object)[codes]


def _result_codes(direction: np.ndarray, polarity: Any) -> np.ndarray:
    """Direction codes (not compared / higher / lower / similar) judged by polarity: codes into RESULT_WORDS."""
    return np.take(_RESULT_CODES, _polarity_codes(polarity, direction.shape) * _RESULT_CODES.shape[1] + direction)


def _judge(direction: np.ndarray, polarity: Any, index: pd.Index | None, scalar: bool) -> Any:
    """Direction codes judged by polarity, as words; a str for scalar inputs, else a Series."""
    words = np.asarray(RESULT_WORDS, dtype=object)[_result_codes(direction, polarity).ravel()]
    return str(words[0]) if scalar else _str_series(words, index=index)


def _direction(value: np.ndarray, lower: np.ndarray, upper: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Code for "higher" when value > upper, "lower" when value < lower, else "similar"; "not compared" unless ok."""
    return np.select([~ok, value > upper, value < lower], [_NOT, _HIGHER, _LOWER], default=_SIMILAR).astype(np.int8)


def _present(*arrays: np.ndarray) -> np.ndarray:
    ok = np.ones(np.broadcast(*arrays).shape, dtype=bool)
    for a in arrays:
        ok &= ~np.isnan(a)
    return ok


# ---------------------------------------------------------------------------------------------------------------
# Significance
# ---------------------------------------------------------------------------------------------------------------

def _ci_direction(val: np.ndarray, lo: np.ndarray, up: np.ndarray, comp: np.ndarray) -> np.ndarray:
    """Direction codes by CI overlap: higher when the comparator is below the lower limit, lower when above the
    upper, similar otherwise (on a limit counts as similar), not compared when anything is missing."""
    ok = _present(val, lo, up, comp)
    direction = np.where(comp < lo, np.int8(_HIGHER), np.where(comp > up, np.int8(_LOWER), np.int8(_SIMILAR)))
    direction[~ok] = _NOT
    return direction


def compare_ci_codes(value: Any, lower: Any, upper: Any, comparator: Any, polarity: Any) -> np.ndarray:
    """:func:`compare_ci` as integer codes into :data:`RESULT_WORDS` (for tables of many rows: no strings made).

    ``pandas.Categorical.from_codes(codes, RESULT_WORDS)`` turns them into words; :func:`compare_ci` does.
    """
    _index_of(value, lower, upper, comparator)  # Series must share an index
    # Read only: the arrays are broadcast, not copied again as _broadcast copies them.
    val, lo, up, comp = np.broadcast_arrays(*(_to_float(a) for a in (value, lower, upper, comparator)))
    return _result_codes(_ci_direction(val, lo, up, comp), polarity)


def compare_ci(value: Any, lower: Any, upper: Any, comparator: Any, polarity: Any) -> Any:
    """Compare each area with a comparator by whether its confidence interval contains the comparator.

    Parameters
    ----------
    value : scalar, array-like or pandas.Series
        The area's values (only used to decide whether a comparison is possible).
    lower, upper : scalar, array-like or pandas.Series
        The area's confidence limits at one level (e.g. 95%).
    comparator : scalar, array-like or pandas.Series
        The comparator's value (England, region, statistical neighbours...), one or one per row.
    polarity : str or array-like of str
        ``"low_is_good"``, ``"high_is_good"`` or ``"none"``, one for all rows or one per row.

    Returns
    -------
    str or pandas.Series
        ``"better"``, ``"similar"`` or ``"worse"`` (``"higher"``, ``"similar"``, ``"lower"`` for polarity
        ``"none"``); ``"not compared"`` where the value, either limit or the comparator is missing. A Series
        (with the index of the Series given, else 0..n-1) unless every input is a scalar.

    Raises
    ------
    ValueError
        If a polarity is not one of the three accepted values, or two Series inputs have different indexes.

    Notes
    -----
    Fingertips' ``SingleOverlappingCIsForOneCILevel`` comparer: the area is higher than the comparator when the
    comparator is below the area's lower limit, lower when it is above the upper limit, and similar otherwise
    (a comparator exactly on a limit counts as similar).
    """
    (val, lo, up, comp), index, scalar = _broadcast(value, lower, upper, comparator)
    return _judge(_ci_direction(val, lo, up, comp), polarity, _index_of(value, lower, upper, comparator, polarity),
                  scalar)


def funnel_limits_proportion(comparator: Any, denominators: Any, z: Any, multiplier: Any = 100) -> tuple[Any, Any]:
    """Funnel-plot (SPC) control limits around a comparator proportion.

    Parameters
    ----------
    comparator : scalar or array-like
        The comparator on the indicator's scale (e.g. a percentage when ``multiplier`` is 100).
    denominators : scalar, array-like or pandas.Series
        The denominators at which to give the limits.
    z : float or array-like
        The number of standard errors: 1.96 for about 95% (2 sigma), 3.0902 for about 99.8% (3 sigma).
    multiplier : scalar, default 100
        The indicator's scale (100 for a percentage, 1 for a proportion).

    Returns
    -------
    (lower, upper) : tuple of float, numpy.ndarray or pandas.Series
        ``multiplier * (p -/+ z * sqrt(p (1 - p) / n))`` with ``p = comparator / multiplier``, cut to the range
        0 to ``multiplier``. Missing where the comparator or denominator is missing or the denominator is not
        positive.

    Raises
    ------
    ValueError
        If a denominator is negative, or two Series inputs have different indexes.

    Notes
    -----
    Normal approximation to the binomial around the comparator, as Fingertips' ``SpcForProportionsComparer``
    (used by :func:`compare_spc_proportion`). These limits reproduce every ``SpcForProportions`` row of the
    Fingertips unit-test vectors.
    """
    (comp, den, zz, mult), index, scalar = _broadcast(comparator, denominators, z, multiplier)
    _check_non_negative(den, "denominator", "funnel_limits_proportion")
    p = comp / mult
    with np.errstate(divide="ignore", invalid="ignore"):
        half = zz * np.sqrt(p * (1 - p) / den)
    ok = den > 0
    lower = np.where(ok, np.clip((p - half) * mult, 0, mult), np.nan)
    upper = np.where(ok, np.clip((p + half) * mult, 0, mult), np.nan)
    return _shape(lower, index, scalar), _shape(upper, index, scalar)


def _shape(a: np.ndarray, index: pd.Index | None, scalar: bool) -> Any:
    if scalar:
        return float(a)
    if index is not None:
        return pd.Series(a.ravel(), index=index, dtype="float64")
    return a


def _confidence_array(confidence: Any) -> np.ndarray:
    """Confidence level(s) as a float array (missing stays NaN); each as accepted by ``analysis.stats.rates.z_value``."""
    if isinstance(confidence, (str, int, float, np.number)):
        return np.asarray(_parse_confidence(confidence))
    values = pd.Series(np.asarray(confidence, dtype=object).ravel())
    present = values.notna()
    # Parse each distinct level once (a handful, not one per row), then map them onto the rows.
    parsed = {u: _parse_confidence(u) for u in pd.unique(values[present])}
    out = values.map(parsed).to_numpy(dtype="float64", na_value=np.nan)
    return out.reshape(np.shape(confidence))


def _poisson_count_limits(expected: np.ndarray, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`analysis.stats.rates.poisson_limits` for arrays of counts and of confidence levels."""
    expected, level = np.broadcast_arrays(expected, level)
    lower = np.full(expected.shape, np.nan)
    upper = np.full(expected.shape, np.nan)
    # The limit functions take one confidence level each; loop over the (one or two) distinct levels only.
    for lev in np.unique(level[~np.isnan(level)]):
        rows = (level == lev) & ~np.isnan(expected)
        lower[rows], upper[rows] = poisson_limits(expected[rows], lev)
    return lower, upper


def funnel_limits_rate(comparator: Any, denominators: Any, confidence: Any = 0.95,
                       multiplier: Any = 100000) -> tuple[Any, Any]:
    """Funnel-plot (SPC) control limits around a comparator rate, from Poisson limits on the expected count.

    Parameters
    ----------
    comparator : scalar or array-like
        The comparator rate per ``multiplier`` (crude rate or DSR).
    denominators : scalar, array-like or pandas.Series
        Populations at which to give the limits.
    confidence : float, str or array-like, default 0.95
        Control-limit level: 0.95 (2 sigma, tail probability 0.025) or 0.998 (3 sigma, tail 0.001); any level
        accepted by :func:`analysis.stats.rates.z_value`.
    multiplier : scalar, default 100000
        The rate's scale.

    Returns
    -------
    (lower, upper) : tuple of float, numpy.ndarray or pandas.Series
        Limits on the rate scale: ``L(E) / n * multiplier`` and ``U(E) / n * multiplier`` where
        ``E = comparator / multiplier * n`` is the expected count. Missing where the comparator or denominator
        is missing or the denominator is not positive.

    Raises
    ------
    ValueError
        If a denominator or comparator is negative, a confidence level is invalid, or two Series inputs have
        different indexes.

    Notes
    -----
    Poisson control limits on the expected count, as PHEindicatormethods' rate funnels and Fingertips'
    ``SpcForDsrComparer``: the exact (chi-square) limits ``qchisq(a, 2E)/2`` and ``qchisq(1-a, 2E+2)/2`` when
    ``E`` is below 10 and Byar's approximation from 10 (:func:`analysis.stats.rates.poisson_limits`, the switch
    :func:`analysis.stats.rates.rate_ci` uses too; the two agree to about 0.1% at ``E = 10`` at 95%). ``E`` is
    generally not an integer; the chi-square form interpolates smoothly between integers. This reproduces every ``SpcForDsr`` row of the Fingertips
    unit-test vectors.
    """
    (comp, den, mult), index, scalar = _broadcast(comparator, denominators, multiplier)
    _check_non_negative(den, "denominator", "funnel_limits_rate")
    _check_non_negative(comp, "comparator", "funnel_limits_rate")
    level = _confidence_array(confidence)
    ok = den > 0
    expected = np.where(ok, comp / mult * np.where(ok, den, 1.0), np.nan)
    low_count, up_count = _poisson_count_limits(expected, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(ok, low_count / den * mult, np.nan)
        upper = np.where(ok, up_count / den * mult, np.nan)
    scalar = scalar and np.ndim(level) == 0
    return _shape(lower, index, scalar), _shape(upper, index, scalar)


def compare_spc_proportion(value: Any, denominator: Any, comparator: Any, z: Any, polarity: Any,
                           multiplier: Any = 100) -> Any:
    """Compare proportions with a comparator by statistical process control (funnel-plot) limits.

    Parameters
    ----------
    value : scalar, array-like or pandas.Series
        The area's proportion on the ``multiplier`` scale (e.g. a percentage).
    denominator : scalar, array-like or pandas.Series
        The area's denominator.
    comparator : scalar or array-like
        The comparator proportion on the same scale.
    z : float or array-like
        Control-limit width in standard errors: 1.96 (about 95%) or 3.0902 (about 99.8%).
    polarity : str or array-like of str
        ``"low_is_good"``, ``"high_is_good"`` or ``"none"``.
    multiplier : scalar, default 100
        The scale of ``value`` and ``comparator``.

    Returns
    -------
    str or pandas.Series
        ``"better"`` / ``"similar"`` / ``"worse"`` (``"higher"`` / ``"similar"`` / ``"lower"`` for polarity
        ``"none"``), ``"not compared"`` where the value, denominator or comparator is missing or the
        denominator is not positive.

    Raises
    ------
    ValueError
        For an unknown polarity, a negative denominator, or Series with different indexes.

    Notes
    -----
    Fingertips' ``SpcForProportionsComparer``: the area is significantly higher when its value is above
    ``comparator + z sqrt(p(1-p)/n)`` (on the proportion scale, ``p`` the comparator) and lower when below
    ``comparator - z sqrt(p(1-p)/n)``; see :func:`funnel_limits_proportion`. A value exactly on a limit is
    similar. Fingertips' outputs Better / Same / Worse map to better / similar / worse.
    """
    (val, den, comp, zz, mult), index, scalar = _broadcast(value, denominator, comparator, z, multiplier)
    lower, upper = funnel_limits_proportion(comp, den, zz, mult)
    ok = _present(val, den, comp, zz) & (den > 0)
    direction = _direction(val, lower, upper, ok)
    return _judge(direction, polarity, _index_of(value, denominator, comparator, polarity), scalar)


def compare_spc_dsr(value: Any, denominator: Any, comparator: Any, p: Any, polarity: Any,
                    multiplier: Any = 100000) -> Any:
    """Compare rates (DSRs or crude rates) with a comparator by Poisson control limits on the expected count.

    Parameters
    ----------
    value : scalar, array-like or pandas.Series
        The area's rate per ``multiplier``.
    denominator : scalar, array-like or pandas.Series
        The area's population.
    comparator : scalar or array-like
        The comparator rate per ``multiplier``.
    p : float or array-like
        One-tail probability of the control limit, as Fingertips' confidence variable: 0.025 (2 sigma, 95%
        limits) or 0.001 (3 sigma, 99.8% limits).
    polarity : str or array-like of str
        ``"low_is_good"``, ``"high_is_good"`` or ``"none"``.
    multiplier : scalar, default 100000
        The scale of ``value`` and ``comparator``.

    Returns
    -------
    str or pandas.Series
        ``"better"`` / ``"similar"`` / ``"worse"`` (``"higher"`` / ``"similar"`` / ``"lower"`` for polarity
        ``"none"``); ``"not compared"`` where the value, denominator or comparator is missing or the
        denominator is not positive.

    Raises
    ------
    ValueError
        For an unknown polarity, ``p`` outside (0, 0.5), a negative denominator or comparator, or Series with
        different indexes.

    Notes
    -----
    Reproduces Fingertips' ``SpcForDsrComparer`` unit tests. The expected count for the area's population at
    the comparator rate is ``E = comparator * n / multiplier``; control limits are the Poisson limits of ``E``
    at confidence ``1 - 2p`` (exact chi-square limits below 10, Byar's from 10: see
    :func:`funnel_limits_rate`), converted back to the rate scale, and the area's value is compared with
    them. Comparing the area's own confidence interval with the comparator instead does *not* reproduce the
    Fingertips results (the first vector row is Better by these limits but its 95% CI contains the
    comparator), nor does a normal approximation ``E +/- z sqrt(E)``.
    """
    (val, den, comp, pp, mult), index, scalar = _broadcast(value, denominator, comparator, p, multiplier)
    bad_p = ~np.isnan(pp) & ~((pp > 0) & (pp < 0.5))
    if bad_p.any():
        raise ValueError(f"p must be a one-tail probability between 0 and 0.5 (such as 0.025 or 0.001), "
                         f"got {float(pp[bad_p].ravel()[0])!r}")
    ok = _present(val, den, comp, pp) & (den > 0)
    level = np.where(np.isnan(pp), np.nan, 1 - 2 * pp)
    level = np.round(level, 12)  # 1 - 2 * 0.001 should be exactly 0.998
    lower, upper = funnel_limits_rate(comp, den, level, mult)
    direction = _direction(val, lower, upper, ok)
    return _judge(direction, polarity, _index_of(value, denominator, comparator, polarity), scalar)


# ---------------------------------------------------------------------------------------------------------------
# Quantiles, bands and ranks
# ---------------------------------------------------------------------------------------------------------------

def rank_and_quantiles(values: np.ndarray, probs, axis: int = -1, polarity: Any = "none"):
    """Ranks, type-7 quantiles and counts of the non-missing values along one axis of an array.

    The one implementation of ranks and quantiles: the benchmarked table calls it for every indicator and year
    at once, and :func:`quantile_type7`, :func:`quartile_band` and :func:`rank_min` are built on it.

    Parameters
    ----------
    values : numpy.ndarray of float
        Missing values are NaN and take no part.
    probs : sequence of float
        Probabilities between 0 and 1.
    axis : int, default -1
        The axis along which to rank (for example the areas of an indicator x area x year array).
    polarity : str or array-like of str, default "none"
        ``"low_is_good"``, ``"high_is_good"`` or ``"none"``: one for all, or one per rank group, broadcastable
        to the shape of ``values`` without ``axis`` (one per indicator of an indicator x area x year array, say).

    Returns
    -------
    (ranks, quantiles, count)
        ``ranks``: float array shaped as ``values``, 1 for the best value, ties sharing the best rank ("min",
        competition ranking: 1, 2, 2, 4), NaN where the value is missing. The best value is the highest where
        ``polarity`` is ``high_is_good``, else the lowest (``low_is_good``, and ``none``, where rank 1 is simply
        the lowest). ``quantiles``: a list with one array per probability, shaped as ``values`` without ``axis``
        (NaN where there is no value), whatever the polarity; ``count``: how many values there are along the axis.

    Raises
    ------
    ValueError
        If a polarity is not one of the three accepted values.

    Notes
    -----
    One sort serves all three. The quantile is Hyndman and Fan's type 7 (R's default, numpy's "linear", the
    percentile Fingertips uses and R's ``quantile(na.rm = TRUE)`` as LAIT calls it): with the ``k`` non-missing
    values sorted, ``h = (k - 1) p`` and ``q(p) = x[floor(h)] + (h - floor(h)) (x[floor(h) + 1] - x[floor(h)])``.
    Ranks follow LAIT (``calculate_rank``: ``rank(values, ties.method = "min")`` where low is good,
    ``rank(-values, ties.method = "min")`` where high is good). LAIT shows no rank without a polarity; ours runs
    from the lowest value there, and pages say so.
    """
    v = np.moveaxis(np.asarray(values, dtype="float64"), axis, -1)
    high = _polarity_codes(polarity, v.shape[:-1]) == _POLARITY_CODE["high_is_good"]
    order = np.argsort(v, axis=-1, kind="stable")            # NaN sort last
    s = np.take_along_axis(v, order, axis=-1)
    m = s.shape[-1]
    idx = np.broadcast_to(np.arange(m, dtype=np.int32), s.shape)  # (positions: running extremes in place)
    new_run = np.ones(s.shape, dtype=bool)
    np.not_equal(s[..., 1:], s[..., :-1], out=new_run[..., 1:])
    first = np.where(new_run, idx, 0)
    np.maximum.accumulate(first, axis=-1, out=first)                      # first position of each tie run
    run_end = np.ones(s.shape, dtype=bool)
    run_end[..., :-1] = new_run[..., 1:]
    last = np.where(run_end, idx, m - 1)[..., ::-1]
    np.minimum.accumulate(last, axis=-1, out=last)
    last = last[..., ::-1]                                                # and its last
    missing = np.isnan(s)
    count = m - missing.sum(axis=-1)
    # Ascending: 1 + how many are lower; descending: 1 + how many are higher (= count - last position).
    ranked = np.where(high[..., None], count[..., None] - last, first + 1.0)
    ranked[missing] = np.nan
    ranks = np.empty_like(ranked)
    np.put_along_axis(ranks, order, ranked, axis=-1)
    if m == 0:  # nothing to take quantiles of: one missing value stands in
        s, m = np.full(s.shape[:-1] + (1,), np.nan), 1
    quantiles = []
    for p in probs:  # a few probabilities, not rows
        h = (count - 1) * p
        low = np.clip(np.floor(h).astype(int), 0, m - 1)
        high_i = np.clip(low + 1, 0, m - 1)
        xl = np.take_along_axis(s, low[..., None], axis=-1)[..., 0]
        xh = np.take_along_axis(s, high_i[..., None], axis=-1)[..., 0]
        frac = h - np.floor(h)
        q = np.where(frac > 0, xl + frac * (xh - xl), xl)  # frac 0 at the top: no step past the last value
        quantiles.append(np.where(count > 0, q, np.nan))
    return np.moveaxis(ranks, -1, axis), quantiles, count


#: Quartile bands by code: 0 no value, then A to D (A the best quarter where there is a polarity, else the lowest).
QUARTILE_BANDS = ("", "A", "B", "C", "D")


def quartile_codes(values: np.ndarray, q1: np.ndarray, q2: np.ndarray, q3: np.ndarray,
                   polarity: Any = "none") -> np.ndarray:
    """Codes into :data:`QUARTILE_BANDS` (int8), A the best quarter, as LAIT bands.

    Where low is good, or there is no polarity: A at or below Q1, B at or below Q2, C at or below Q3, D above.
    Where high is good the same cut points give the bands in reverse: A above Q3, B above Q2, C above Q1, D at
    or below Q1 (LAIT's ``calculate_quartile_band``). ``polarity`` is one for all or one per value.
    """
    code = np.where(values <= q1, 1, np.where(values <= q2, 2, np.where(values <= q3, 3,
                                                                         np.where(np.isnan(values), 0, 4))))
    high = _polarity_codes(polarity, np.shape(code)) == _POLARITY_CODE["high_is_good"]
    return np.where(high & (code > 0), 5 - code, code).astype(np.int8)


def quantile_type7(values: Any, probs: Any) -> Any:
    """Sample quantiles by R's default (type 7) definition, ignoring missing values.

    Parameters
    ----------
    values : array-like or pandas.Series
        The data; missing values are dropped.
    probs : float or array-like of float
        Probabilities between 0 and 1.

    Returns
    -------
    float or numpy.ndarray
        For each probability ``q``: with the ``n`` sorted non-missing values ``x[0..n-1]``, ``h = (n-1) q``,
        the quantile is ``x[floor(h)] + (h - floor(h)) * (x[floor(h)+1] - x[floor(h)])``. All missing when
        there are no non-missing values. A float when ``probs`` is a scalar.

    Raises
    ------
    ValueError
        If a probability is missing or outside 0 to 1.

    Notes
    -----
    Hyndman and Fan (1996) type 7 (see :func:`rank_and_quantiles`), the default of R's ``quantile`` and the
    percentile Fingertips uses for quintile bounds (1..50 at 0, 0.2, ..., 1 gives 1, 10.8, 20.6, 30.4, 40.2,
    50).
    """
    q = np.asarray(probs, dtype="float64")
    if np.isnan(q).any() or (q < 0).any() or (q > 1).any():
        raise ValueError(f"probabilities must be between 0 and 1, got {probs!r}")
    out = np.array(rank_and_quantiles(_to_float(values).ravel(), q.ravel())[1], dtype="float64").reshape(q.shape)
    return float(out) if q.ndim == 0 else out


def _keyed_frame(values: Any, groups: Any) -> tuple[pd.DataFrame, list[str], pd.Index]:
    """A positional frame with the values in ``"v"`` and group keys in ``"g0", "g1", ...``, plus the index
    the result should carry (the values' index if a Series, else 0..n-1)."""
    index = values.index if isinstance(values, pd.Series) else None
    v = _to_float(values).ravel()
    n = v.size
    frame = pd.DataFrame({"v": v})
    keys: list[Any]
    if groups is None:
        keys = []
    elif isinstance(groups, pd.DataFrame):
        keys = [groups[c] for c in groups.columns]
    elif isinstance(groups, (list, tuple)) and len(groups) > 0 and all(
        isinstance(g, (pd.Series, pd.Index, np.ndarray, list, tuple)) for g in groups
    ):
        keys = list(groups)
    else:
        keys = [groups]
    names = []
    for i, key in enumerate(keys):
        arr = key.to_numpy() if isinstance(key, (pd.Series, pd.Index)) else np.asarray(key, dtype=object)
        if arr.shape != (n,):
            raise ValueError(f"group key {i} has {arr.size} entries but there are {n} values")
        frame[f"g{i}"] = arr
        names.append(f"g{i}")
    return frame, names, (index if index is not None else pd.RangeIndex(n))


def _by_group(values: Any, groups: Any, probs, polarity: Any = "none"
              ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], pd.Index, np.ndarray]:
    """:func:`rank_and_quantiles` within groups: the values laid out one group per row of a padded array.

    Returns the values, each one's rank, each one's group quantiles (one array per probability), the index and
    each value's polarity code. A group's polarity is its values' one polarity (a ValueError if they differ).
    """
    frame, names, index = _keyed_frame(values, groups)
    v = frame["v"].to_numpy()
    pol = _polarity_codes(polarity, v.shape)
    if names:
        gid = frame.groupby(names, dropna=False, sort=False).ngroup().to_numpy()
    else:
        gid = np.zeros(v.size, dtype=int)
    groups_n = gid.max() + 1 if v.size else 0
    group_pol = np.zeros(groups_n, dtype=np.int8)
    group_pol[gid] = pol
    if (group_pol[gid] != pol).any():
        first = int(np.flatnonzero(group_pol[gid] != pol)[0])
        raise ValueError(f"the values of one group have different polarities (first at position {first}); "
                         "rank and band each indicator separately")
    pos = pd.Series(gid).groupby(gid).cumcount().to_numpy()
    dense = np.full((groups_n, pos.max() + 1 if v.size else 0), np.nan)
    dense[gid, pos] = v
    ranks, quantiles, _ = rank_and_quantiles(dense, probs, axis=1, polarity=_polarity_names(group_pol))
    return v, ranks[gid, pos], [q[gid] for q in quantiles], index, pol


def quartile_band(values: Any, groups: Any = None, polarity: Any = "none") -> pd.Series:
    """LAIT's quartile bands A to D within each group: A the best quarter where there is a polarity, else the
    lowest.

    Parameters
    ----------
    values : array-like or pandas.Series
        The values to band.
    groups : None, array-like, pandas.Series, list of array-likes or pandas.DataFrame, optional
        Group keys, one per value (e.g. indicator and year); a list of arrays or a DataFrame gives several
        keys. ``None`` puts every value in one group. Keys are matched to values by position. Missing keys
        form their own group.
    polarity : str or array-like of str, default "none"
        ``"low_is_good"``, ``"high_is_good"`` or ``"none"``, one for all values or one per value (the same
        within a group).

    Returns
    -------
    pandas.Series
        Text ``"A"``, ``"B"``, ``"C"`` or ``"D"``, missing where the value is missing; index of ``values`` if
        it is a Series, else 0..n-1.

    Raises
    ------
    ValueError
        If a group key's length differs from the number of values, a polarity is unknown, or the values of one
        group have different polarities.

    Notes
    -----
    The cut points are the type-7 quartiles (see :func:`rank_and_quantiles`) of the non-missing values in the
    group, Q1, Q2 and Q3, as in the DfE's Local Authority Interactive Tool (LAIT). Where low is good, or there
    is no polarity, a value at or below Q1 is A, at or below Q2 is B, at or below Q3 is C, and above Q3 is D;
    where high is good the bands run the other way, A above Q3 to D at or below Q1 (:func:`quartile_codes`, as
    the benchmarked table and LAIT's ``calculate_quartile_band``). Without a polarity A is only the lowest
    quarter, not the best (LAIT shows no band there).
    """
    v, _, (q1, q2, q3), index, pol = _by_group(values, groups, (0.25, 0.5, 0.75), polarity)
    words = np.array([None, *QUARTILE_BANDS[1:]], dtype=object)[quartile_codes(v, q1, q2, q3, _polarity_names(pol))]
    return _str_series(words, index=index)


def rank_min(values: Any, groups: Any = None, polarity: Any = "none") -> pd.Series:
    """Rank values within groups, 1 being the best value (the lowest without a polarity), ties sharing the best
    rank.

    Parameters
    ----------
    values : array-like or pandas.Series
        The values to rank.
    groups : None, array-like, pandas.Series, list of array-likes or pandas.DataFrame, optional
        Group keys as for :func:`quartile_band`; ``None`` ranks all values together.
    polarity : str or array-like of str, default "none"
        As for :func:`quartile_band`: ``"high_is_good"`` ranks the highest value 1, the others the lowest.

    Returns
    -------
    pandas.Series
        Nullable ``Int64`` ranks, missing where the value is missing; index of ``values`` if it is a Series,
        else 0..n-1.

    Raises
    ------
    ValueError
        If a group key's length differs from the number of values, a polarity is unknown, or the values of one
        group have different polarities.

    Notes
    -----
    "Competition" ranking (1, 2, 2, 4), as the benchmarked table and LAIT (:func:`rank_and_quantiles`).
    """
    _, ranks, _, index, _ = _by_group(values, groups, (), polarity)
    return pd.Series(ranks, index=index).astype("Int64")
