"""Confidence intervals for counts, crude rates and proportions (vectorised).

Every function takes scalars, lists, numpy arrays or pandas Series and works on whole arrays at once:
there is no ``DataFrame.apply`` and no Python loop over rows. Inputs are never modified. A pandas Series in
gives a Series (same index) out; a scalar in gives a float out.

The methods are those of the Office for Health Improvement and Disparities (OHID, formerly PHE) as implemented in
the R package PHEindicatormethods and used by Fingertips:

* counts and crude rates: the exact (chi-square) Poisson method when the count is below 10 and Byar's
  approximation from 10 upwards (``phe_rate``, ``byars_lower``, ``byars_upper``);
* proportions: the Wilson score interval (``phe_proportion``, ``wilson_lower``, ``wilson_upper``).

References
----------
.. [1] Breslow NE, Day NE. Statistical methods in cancer research, volume II: the design and analysis of cohort
   studies. Lyon: IARC; 1987 (Byar's method).
.. [2] Armitage P, Berry G, Matthews JNS. Statistical methods in medical research (4th edn). Oxford: Blackwell;
   2002 (exact Poisson limits via the chi-square distribution).
.. [3] Wilson EB. Probable inference, the law of succession, and statistical inference. J Am Stat Assoc 1927;
   22:209-212. Newcombe RG, Altman DG. Proportions and their differences. In: Altman DG et al. (eds).
   Statistics with confidence (2nd edn). London: BMJ Books; 2000. pp. 46-48.
.. [4] Fox S, et al. PHEindicatormethods: common public health statistics and their confidence intervals.
   R package, https://github.com/ukhsa-collaboration/PHEindicatormethods.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

__all__ = [
    "z_value",
    "byars_lower",
    "byars_upper",
    "exact_lower",
    "exact_upper",
    "wilson_lower",
    "wilson_upper",
    "rate_ci",
    "proportion_ci",
    "poisson_limits",
    "limit_columns",
    "rate_limits",
    "proportion_limits",
    "BYARS_FROM",
    "CI_COLUMNS",
]

#: The columns of :func:`rate_ci` and :func:`proportion_ci`, always all of them, in this order.
CI_COLUMNS = ["value", "lower_95", "upper_95", "lower_99_8", "upper_99_8", "method"]

# The two confidence levels the output tables carry, and the columns each one fills.
_LEVEL_COLUMNS = {0.95: ("lower_95", "upper_95"), 0.998: ("lower_99_8", "upper_99_8")}

#: Below this count rate_ci uses the exact method, from it Byar's (PHEindicatormethods convention).
BYARS_FROM = 10
_BYARS_FROM = BYARS_FROM


# ---------------------------------------------------------------------------------------------------------------
# Small shared helpers (also used by analysis.stats.compare and analysis.stats.trends).
# ---------------------------------------------------------------------------------------------------------------


def chi2_ppf(p, df):
    """The chi-square quantile, as ``scipy.stats.chi2.ppf`` computes it (``2 * gammaincinv(df / 2, p)``).

    Taken from ``scipy.special`` directly: importing ``scipy.stats`` costs seconds at every start of the command,
    and the quantile is the same function. ``df`` of 0 or less gives NaN, as ``chi2.ppf`` does.
    """
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        out = 2 * special.gammaincinv(df / 2, p)
    return np.where(df > 0, out, np.nan) if out.ndim else (float(out) if df > 0 else float("nan"))

def _string_dtype() -> Any:
    """The dtype for text columns: pandas' default ``str`` dtype from pandas 3, ``object`` before."""
    return "str" if int(pd.__version__.split(".")[0]) >= 3 else object


def _str_series(values: np.ndarray, index: pd.Index | None = None) -> pd.Series:
    """A text Series from an object array holding strings and ``None`` (``None`` becomes missing)."""
    return pd.Series(np.asarray(values, dtype=object), index=index, dtype=_string_dtype())


def _to_float(x: Any) -> np.ndarray:
    """A float64 numpy copy of ``x`` with every kind of missing value (None, pd.NA, NaN) as NaN."""
    if isinstance(x, (pd.Series, pd.Index)):
        return x.to_numpy(dtype="float64", na_value=np.nan)
    if isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.ndim:  # already numbers: NaN stays NaN
        return x.astype("float64")
    if np.ndim(x) == 0:
        return np.asarray(np.nan if x is None or x is pd.NA else x, dtype="float64")
    return pd.Series(list(x) if not isinstance(x, np.ndarray) else x).to_numpy(dtype="float64", na_value=np.nan)


def _index_of(*args: Any) -> pd.Index | None:
    """The index of the first pandas Series among ``args``; a second Series must have the same index.

    Raises
    ------
    ValueError
        If two Series arguments have different indexes (the functions work by position, so a silent
        mismatch would pair the wrong rows).
    """
    index = None
    for a in args:
        if isinstance(a, pd.Series):
            if index is None:
                index = a.index
            elif not a.index.equals(index):
                raise ValueError(
                    "the pandas Series given have different indexes; align them first "
                    "(the calculation pairs rows by position)"
                )
    return index


def _broadcast(*args: Any) -> tuple[list[np.ndarray], pd.Index | None, bool]:
    """Float arrays of a common shape, the index to give the result, and whether every input was a scalar."""
    index = _index_of(*args)
    arrays = np.broadcast_arrays(*[_to_float(a) for a in args])
    scalar = all(np.ndim(a) == 0 for a in args)
    return [np.array(a, dtype="float64") for a in arrays], index, scalar


def _wrap(result: np.ndarray, index: pd.Index | None, scalar: bool) -> Any:
    """Give ``result`` the shape of the inputs: float for scalars, Series with ``index``, else the array."""
    if scalar:
        return float(result)
    if index is not None:
        return pd.Series(result, index=index, dtype="float64")
    return result


def _parse_confidence(confidence: Any) -> float:
    """Confidence level as a fraction in (0, 1): 0.95, 95, "95%" and "0.95" all give 0.95."""
    if isinstance(confidence, str):
        text = confidence.strip()
        try:
            level = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise ValueError(f"confidence {confidence!r} is not a number such as 0.95 or '95%'") from None
    elif isinstance(confidence, (int, float, np.integer, np.floating)) and not isinstance(confidence, bool):
        level = float(confidence)
    else:
        raise ValueError(f"confidence {confidence!r} is not a number such as 0.95 or '95%'")
    if level > 1:  # a percentage; exactly 1 (100%) stays invalid rather than becoming 1%
        level = level / 100
    # 99.8 / 100 and similar should be exactly the decimal the user meant.
    level = round(level, 12)
    if not 0 < level < 1 or math.isnan(level):
        raise ValueError(f"confidence {confidence!r} must be between 0 and 1 (or between 0% and 100%)")
    return level


def _check_non_negative(x: np.ndarray, what: str, caller: str) -> None:
    """Raise ValueError naming how many entries of ``x`` are negative and where the first one is."""
    bad = x < 0  # NaN compares False
    if bad.any():
        first = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(
            f"{caller}: {int(bad.sum())} of {bad.size} rows have a negative {what} "
            f"(first at position {first}, value {float(x.ravel()[first])!r})"
        )


# ---------------------------------------------------------------------------------------------------------------
# Public functions.
# ---------------------------------------------------------------------------------------------------------------

def z_value(confidence: float | int | str) -> float:
    """Two-sided standard normal quantile for a confidence level.

    Parameters
    ----------
    confidence : float, int or str
        The confidence level: 0.95 or 0.998 as a fraction, 95 or 99.8 as a percentage, or text such as
        ``"95%"`` or ``"99.8%"``.

    Returns
    -------
    float
        ``z`` such that ``P(-z < Z < z) = confidence`` for a standard normal ``Z`` (1.959964 for 95%,
        3.090232 for 99.8%).

    Raises
    ------
    ValueError
        If the level is not a number strictly between 0 and 1 (or 0% and 100%).

    Notes
    -----
    Computed as ``qnorm(confidence + (1 - confidence) / 2)``, the expression PHEindicatormethods uses, so that
    limits agree with it to the last few bits.
    """
    level = _parse_confidence(confidence)
    return float(special.ndtri(level + (1 - level) / 2))


def byars_lower(x: Any, confidence: float | str = 0.95) -> Any:
    """Lower confidence limit for a Poisson count by Byar's method.

    Parameters
    ----------
    x : scalar, array-like or pandas.Series
        Observed counts (non-negative; need not be integers).
    confidence : float or str, default 0.95
        Confidence level, as accepted by :func:`z_value`.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``x * (1 - 1/(9x) - z/(3 sqrt(x)))**3``. Missing where ``x`` is missing, where ``x`` is 0, and where
        the bracket is negative (small counts at high confidence, e.g. ``x = 1`` at 99.8%), because there the
        approximation breaks down; use :func:`exact_lower` for small counts.

    Raises
    ------
    ValueError
        If any count is negative, or the confidence level is invalid.

    Notes
    -----
    Byar's approximation to the exact Poisson limits (Breslow and Day 1987), as PHEindicatormethods'
    ``byars_lower``. The raw formula is applied to every count; :func:`rate_ci` switches to the exact method
    below 10.
    """
    (xa,), index, scalar = _broadcast(x)
    _check_non_negative(xa, "count", "byars_lower")
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = 1 - 1 / (9 * xa) - z / (3 * np.sqrt(xa))
        out = xa * base**3
    out = np.where((xa > 0) & (base >= 0), out, np.nan)
    return _wrap(out, index, scalar)


def byars_upper(x: Any, confidence: float | str = 0.95) -> Any:
    """Upper confidence limit for a Poisson count by Byar's method.

    Parameters
    ----------
    x : scalar, array-like or pandas.Series
        Observed counts (non-negative; need not be integers).
    confidence : float or str, default 0.95
        Confidence level, as accepted by :func:`z_value`.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``(x + 1) * (1 - 1/(9(x + 1)) + z/(3 sqrt(x + 1)))**3``; missing where ``x`` is missing.

    Raises
    ------
    ValueError
        If any count is negative, or the confidence level is invalid.

    Notes
    -----
    Byar's approximation (Breslow and Day 1987), as PHEindicatormethods' ``byars_upper``.
    """
    (xa,), index, scalar = _broadcast(x)
    _check_non_negative(xa, "count", "byars_upper")
    z = z_value(confidence)
    x1 = xa + 1
    out = x1 * (1 - 1 / (9 * x1) + z / (3 * np.sqrt(x1))) ** 3
    return _wrap(out, index, scalar)


def exact_lower(x: Any, confidence: float | str = 0.95) -> Any:
    """Exact (chi-square) lower confidence limit for a Poisson count.

    Parameters
    ----------
    x : scalar, array-like or pandas.Series
        Observed counts (non-negative; non-integers are accepted and interpolate smoothly).
    confidence : float or str, default 0.95
        Confidence level, as accepted by :func:`z_value`.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``qchisq((1 - confidence)/2, 2x) / 2``; 0 for a zero count; missing where ``x`` is missing.

    Raises
    ------
    ValueError
        If any count is negative, or the confidence level is invalid.

    Notes
    -----
    The exact Poisson limit through its relation to the chi-square distribution (Armitage, Berry and Matthews
    2002), as PHEindicatormethods' ``phe_rate`` below 10 events. R's ``qchisq(p, 0)`` is 0 while scipy's
    ``chi2.ppf(p, 0)`` is NaN, so a zero count is set to 0 explicitly.
    """
    (xa,), index, scalar = _broadcast(x)
    _check_non_negative(xa, "count", "exact_lower")
    level = _parse_confidence(confidence)
    with np.errstate(invalid="ignore"):
        out = chi2_ppf((1 - level) / 2, 2 * xa) / 2
    out = np.where(xa == 0, 0.0, out)
    return _wrap(out, index, scalar)


def exact_upper(x: Any, confidence: float | str = 0.95) -> Any:
    """Exact (chi-square) upper confidence limit for a Poisson count.

    Parameters
    ----------
    x : scalar, array-like or pandas.Series
        Observed counts (non-negative).
    confidence : float or str, default 0.95
        Confidence level, as accepted by :func:`z_value`.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``qchisq(confidence + (1 - confidence)/2, 2x + 2) / 2``; missing where ``x`` is missing.

    Raises
    ------
    ValueError
        If any count is negative, or the confidence level is invalid.

    Notes
    -----
    Exact Poisson limit via the chi-square distribution (Armitage, Berry and Matthews 2002), as
    PHEindicatormethods.
    """
    (xa,), index, scalar = _broadcast(x)
    _check_non_negative(xa, "count", "exact_upper")
    level = _parse_confidence(confidence)
    out = chi2_ppf(level + (1 - level) / 2, 2 * xa + 2) / 2
    return _wrap(out, index, scalar)


def _wilson(x: np.ndarray, n: np.ndarray, level: float, sign: int) -> np.ndarray:
    """Wilson score limit (``sign`` -1 lower, +1 upper) as a proportion; NaN where n is 0 or missing."""
    return _wilson_limits(x, n, level)[sign > 0]


def _wilson_limits(x: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Both Wilson score limits, lower and upper, as proportions: ``(2x + z^2 -/+ z root) / 2 / (n + z^2)``; NaN
    where n is 0 or missing."""
    z = special.ndtri(level + (1 - level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(z**2 + 4 * x * (1 - x / n))
        centre, half, scale = 2 * x + z**2, z * root, n + z**2
        lower, upper = (centre - half) / 2 / scale, (centre + half) / 2 / scale
    return np.where(n > 0, lower, np.nan), np.where(n > 0, upper, np.nan)


def wilson_lower(x: Any, n: Any, confidence: float | str = 0.95) -> Any:
    """Lower Wilson score confidence limit for a proportion.

    Parameters
    ----------
    x : scalar, array-like or pandas.Series
        Numerators (need not be integers, e.g. weighted counts).
    n : scalar, array-like or pandas.Series
        Denominators, broadcast against ``x``.
    confidence : float or str, default 0.95
        Confidence level, as accepted by :func:`z_value`.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``(2x + z^2 - z sqrt(z^2 + 4x(1 - x/n))) / 2 / (n + z^2)``, a proportion (between 0 and 1); missing
        where ``x`` or ``n`` is missing or ``n`` is 0.

    Raises
    ------
    ValueError
        If any value is negative, a numerator exceeds its denominator, or the confidence level is invalid.

    Notes
    -----
    The Wilson score interval (Wilson 1927; Newcombe and Altman 2000), as PHEindicatormethods'
    ``wilson_lower``.
    """
    (xa, na), index, scalar = _broadcast(x, n)
    _check_proportion_inputs(xa, na, "wilson_lower")
    return _wrap(_wilson(xa, na, _parse_confidence(confidence), -1), index, scalar)


def wilson_upper(x: Any, n: Any, confidence: float | str = 0.95) -> Any:
    """Upper Wilson score confidence limit for a proportion.

    Parameters
    ----------
    x : scalar, array-like or pandas.Series
        Numerators (need not be integers).
    n : scalar, array-like or pandas.Series
        Denominators, broadcast against ``x``.
    confidence : float or str, default 0.95
        Confidence level, as accepted by :func:`z_value`.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``(2x + z^2 + z sqrt(z^2 + 4x(1 - x/n))) / 2 / (n + z^2)``, a proportion; missing where ``x`` or
        ``n`` is missing or ``n`` is 0.

    Raises
    ------
    ValueError
        If any value is negative, a numerator exceeds its denominator, or the confidence level is invalid.

    Notes
    -----
    The Wilson score interval (Wilson 1927; Newcombe and Altman 2000), as PHEindicatormethods'
    ``wilson_upper``.
    """
    (xa, na), index, scalar = _broadcast(x, n)
    _check_proportion_inputs(xa, na, "wilson_upper")
    return _wrap(_wilson(xa, na, _parse_confidence(confidence), +1), index, scalar)


def _check_proportion_inputs(x: np.ndarray, n: np.ndarray, caller: str) -> None:
    """Raise ValueError for negative values or numerators above denominators, naming count and position."""
    _check_non_negative(x, "numerator", caller)
    _check_non_negative(n, "denominator", caller)
    bad = x > n  # NaN compares False
    if bad.any():
        first = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(
            f"{caller}: {int(bad.sum())} of {bad.size} rows have a numerator above the denominator, which a "
            f"proportion cannot have (first at position {first}: {float(x.ravel()[first])!r} out of {float(n.ravel()[first])!r})"
        )


def _level(item: Any) -> float:
    """One level that the tables carry, 0.95 or 0.998 (also ``"95%"``, ``99.8``...)."""
    level = _parse_confidence(item)
    match = [k for k in _LEVEL_COLUMNS if math.isclose(level, k, rel_tol=0, abs_tol=1e-9)]
    if not match:
        raise ValueError(f"confidence {item!r} is not supported here: use 0.95 and/or 0.998 (95% / 99.8%)")
    return match[0]


def _levels(confidence: Any) -> list[float]:
    """The requested levels, each 0.95 or 0.998, from one level or an iterable of them."""
    items = [confidence] if isinstance(confidence, (str, int, float, np.number)) else list(confidence)
    if not items:
        raise ValueError("confidence must name at least one level: 0.95 and/or 0.998")
    return [_level(item) for item in items]


def limit_columns(confidence: Any) -> tuple[str, str]:
    """The lower and upper limit columns of the tables for a confidence level.

    Parameters
    ----------
    confidence : float or str
        0.95 or 0.998 (also ``"95%"``, ``99.8``...).

    Returns
    -------
    tuple of str
        ``("lower_95", "upper_95")`` or ``("lower_99_8", "upper_99_8")``.

    Raises
    ------
    ValueError
        For any other level.
    """
    return _LEVEL_COLUMNS[_level(confidence)]


def poisson_limits(count: Any, confidence: float | str = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Confidence limits for Poisson counts: the exact method below 10, Byar's from 10.

    Parameters
    ----------
    count : scalar or array-like
        Counts (observed, or expected for funnel limits; need not be integers). Missing stays missing.
    confidence : float or str, default 0.95
        Confidence level, as accepted by :func:`z_value`.

    Returns
    -------
    (lower, upper) : tuple of numpy.ndarray
        Limits on the count scale, in the shape of ``count``.

    Raises
    ------
    ValueError
        If any count is negative, or the confidence level is invalid.

    Notes
    -----
    PHEindicatormethods' switch (``phe_rate``): :func:`exact_lower` / :func:`exact_upper` below 10,
    :func:`byars_lower` / :func:`byars_upper` from 10. The one place the switch is made: rates
    (:func:`rate_ci`) and funnel limits (:func:`analysis.stats.compare.funnel_limits_rate`) both use it.
    """
    x = _to_float(count)
    shape, x = x.shape, x.ravel()
    lower = byars_lower(np.maximum(x, _BYARS_FROM), confidence)  # the maximum spares Byar's the small counts
    upper = byars_upper(x, confidence)
    exact = _is_exact(x)
    if exact.any():  # the chi-square quantiles are costly: only for the counts below 10
        lower[exact] = exact_lower(x[exact], confidence)
        upper[exact] = exact_upper(x[exact], confidence)
    return lower.reshape(shape), upper.reshape(shape)


def _is_exact(count: np.ndarray) -> np.ndarray:
    """Where the exact method applies (a count below 10), not Byar's."""
    return count < _BYARS_FROM


def _ci_frame(value: np.ndarray, limits: dict[str, np.ndarray], method: np.ndarray, index: pd.Index | None,
              n: int) -> pd.DataFrame:
    """Assemble the fixed-column output table."""
    nan = np.full(n, np.nan)
    data = {"value": value}
    for col in CI_COLUMNS[1:5]:
        data[col] = limits.get(col, nan)
    frame = pd.DataFrame(data, index=index if index is not None else pd.RangeIndex(n))
    frame["method"] = _str_series(method, index=frame.index)
    return frame[CI_COLUMNS]


def _table_inputs(
    numerator: Any, denominator: Any, multiplier: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Index | None]:
    """Flat float arrays for the three inputs, plus the index of the Series among them (if any)."""
    (num, den, mult), index, _ = _broadcast(numerator, denominator, multiplier)
    return num.ravel(), den.ravel(), mult.ravel(), index


def rate_arrays(num: np.ndarray, den: np.ndarray, mult, confidence=(0.95, 0.998)):
    """The arrays behind :func:`rate_ci` (value, {limit column: array}, method), for callers that want no table."""
    value, limits = rate_limits(num, den, mult, confidence)
    method = np.where(np.isnan(num), None, np.where(_is_exact(num), "Exact", "Byars")).astype(object)
    return value, limits, method


def rate_limits(num: np.ndarray, den: np.ndarray, mult, confidence=(0.95, 0.998)):
    """:func:`rate_arrays` without the method names: (value, {limit column: array}).

    The method is the exact one where the count is below 10 (:func:`poisson_limits`), Byar's from 10.
    """
    _check_non_negative(num, "numerator", "rate_ci")
    _check_non_negative(den, "denominator", "rate_ci")
    usable = ~np.isnan(num) & (den > 0)
    scale = np.where(usable, mult / np.where(usable, den, 1.0), np.nan)
    limits = {}
    for level in _levels(confidence):
        low_col, up_col = _LEVEL_COLUMNS[level]
        lower, upper = poisson_limits(num, level)
        limits[low_col] = lower * scale
        limits[up_col] = upper * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(usable, num / den * mult, np.nan)
    return value, limits


def rate_ci(
    numerator: Any,
    denominator: Any,
    multiplier: Any = 1,
    confidence: Any = (0.95, 0.998),
) -> pd.DataFrame:
    """Crude rates with 95% and 99.8% confidence limits (exact method below 10 events, Byar's from 10).

    Parameters
    ----------
    numerator : array-like or pandas.Series
        Event counts. May exceed the denominator (e.g. events per child).
    denominator : array-like or pandas.Series
        Populations or person-time.
    multiplier : scalar or array-like, default 1
        Scale of the rate (e.g. 10000 for a rate per 10,000 children).
    confidence : level or iterable of levels, default (0.95, 0.998)
        Which limits to fill: 0.95 and/or 0.998 (also ``"95%"``, ``99.8``...). The table always has all four
        limit columns; those not requested are missing.

    Returns
    -------
    pandas.DataFrame
        Columns exactly ``value, lower_95, upper_95, lower_99_8, upper_99_8, method``, one row per input
        row, with the index of the input Series (else 0..n-1). ``value`` is ``numerator / denominator *
        multiplier``. ``method`` is ``"Exact"`` where the numerator is below 10, ``"Byars"`` from 10, and
        missing where the numerator is missing. Values and limits are missing where the numerator or
        denominator is missing or the denominator is 0.

    Raises
    ------
    ValueError
        If any numerator or denominator is negative (the message gives how many rows and the first position),
        if two Series inputs have different indexes, or if a confidence level other than 95% / 99.8% is asked
        for.

    Notes
    -----
    As PHEindicatormethods ``phe_rate``: below 10 events the exact Poisson limits via the chi-square
    distribution, ``qchisq((1-c)/2, 2O)/2`` and ``qchisq(c + (1-c)/2, 2O+2)/2`` (Armitage, Berry and Matthews
    2002; see :func:`exact_lower`); from 10 events Byar's approximation (Breslow and Day 1987; see
    :func:`byars_lower`). Limits on the count are divided by the denominator and multiplied by the
    multiplier. Inputs are not modified.
    """
    num, den, mult, index = _table_inputs(numerator, denominator, multiplier)
    value, limits, method = rate_arrays(num, den, mult, confidence)
    return _ci_frame(value, limits, method, index, num.size)


def proportion_arrays(num: np.ndarray, den: np.ndarray, mult, confidence=(0.95, 0.998)):
    """The arrays behind :func:`proportion_ci` (value, {limit column: array}, method)."""
    value, limits = proportion_limits(num, den, mult, confidence)
    return value, limits, np.full(num.size, "Wilson", dtype=object)


def proportion_limits(num: np.ndarray, den: np.ndarray, mult, confidence=(0.95, 0.998)):
    """:func:`proportion_arrays` without the method names (always Wilson's): (value, {limit column: array})."""
    _check_proportion_inputs(num, den, "proportion_ci")
    usable = ~np.isnan(num) & (den > 0)
    limits = {}
    for level in _levels(confidence):
        low_col, up_col = _LEVEL_COLUMNS[level]
        lower, upper = _wilson_limits(num, den, level)
        limits[low_col] = np.where(usable, lower * mult, np.nan)
        limits[up_col] = np.where(usable, upper * mult, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(usable, num / den * mult, np.nan)
    return value, limits


def proportion_ci(
    numerator: Any,
    denominator: Any,
    multiplier: Any = 1,
    confidence: Any = (0.95, 0.998),
) -> pd.DataFrame:
    """Proportions with 95% and 99.8% Wilson score confidence limits.

    Parameters
    ----------
    numerator : array-like or pandas.Series
        Counts with the characteristic (need not be integers).
    denominator : array-like or pandas.Series
        Group sizes.
    multiplier : scalar or array-like, default 1
        Scale: 1 for a proportion, 100 for a percentage.
    confidence : level or iterable of levels, default (0.95, 0.998)
        Which limits to fill: 0.95 and/or 0.998. The table always has all four limit columns.

    Returns
    -------
    pandas.DataFrame
        Columns exactly ``value, lower_95, upper_95, lower_99_8, upper_99_8, method``, index as the input
        Series (else 0..n-1). ``method`` is always ``"Wilson"``. Values and limits are missing where the
        numerator or denominator is missing or the denominator is 0.

    Raises
    ------
    ValueError
        If any numerator or denominator is negative, or any numerator exceeds its denominator; the message
        gives how many rows and the first offending position. Also for mismatched Series indexes or an
        unsupported confidence level.

    Notes
    -----
    The Wilson score interval (Wilson 1927; Newcombe and Altman 2000), as PHEindicatormethods
    ``phe_proportion``; see :func:`wilson_lower`. Inputs are not modified.
    """
    num, den, mult, index = _table_inputs(numerator, denominator, multiplier)
    value, limits, method = proportion_arrays(num, den, mult, confidence)
    return _ci_frame(value, limits, method, index, num.size)
