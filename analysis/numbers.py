"""Numbers as readers see them: DfE rounding (half up, not banker's) and the published symbols, in one place."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: The published symbols (DfE conventions) and what they mean.
SYMBOLS = {
    "c": "suppressed to protect confidentiality",
    "x": "not available",
    "z": "not applicable",
    "k": "rounds to zero, but is not zero",
    "u": "low reliability",
    "low": "rounds to zero, but is not zero",
    ":": "not available",
}

_EPS = np.sqrt(np.finfo(float).eps)


def round_half_up(values, decimals: int = 0):
    """Round half away from zero, as DfE publishes (``dfeR::round_five_up``).

    Parameters
    ----------
    values : scalar, array-like or pandas.Series
    decimals : int or array-like of int
        Places to keep; may vary by element.

    Returns
    -------
    numpy.ndarray or pandas.Series
        Same shape (a Series keeps its index); NaN stays NaN.

    Notes
    -----
    ``sign(x) * trunc(|x| * 10^d + 0.5 + sqrt(machine eps)) / 10^d``, the formula of dfeR's ``round_five_up``: the
    small epsilon rescues halves that binary floating point stores just below .5 (2.675 -> 2.68). Python's
    ``round`` and numpy's ``around`` round halves to even (2.5 -> 2), which DfE does not.
    """
    arr = np.asarray(values, dtype=float)
    scale = np.power(10.0, np.asarray(decimals, dtype=float))
    out = np.sign(arr) * np.trunc(np.abs(arr) * scale + 0.5 + _EPS) / scale
    if isinstance(values, pd.Series):
        return pd.Series(out, index=values.index, name=values.name)
    return out if out.ndim else float(out)


def format_value(value, decimals: int, status=None, thousands: bool = True) -> str:
    """One number as text for readers, exactly as :func:`format_values` shows it (the quick way for one number:
    a sentence formats numbers one at a time)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if math.isfinite(number):
        d = int(decimals)
        rounded = round_half_up(number, d)
        if math.isfinite(rounded):
            return f"{rounded:{',' if thousands else ''}.{d}f}"
    symbol = "" if status is None or (isinstance(status, float) and math.isnan(status)) else str(status)
    return symbol if symbol in SYMBOLS else "x"


def format_values(values, decimals, status=None, thousands: bool = True) -> pd.Series:
    """Numbers as text for readers: rounded half up, thousands separated, a symbol where there is no number.

    Parameters
    ----------
    values : array-like of float
    decimals : int or array-like of int
    status : array-like of str, optional
        A published symbol (``c``, ``x``, ``z``, ``k``, ``u``, ``low``) shown instead of the number; where the value is
        missing and there is no status, ``x`` (not available) is shown.
    thousands : bool
        Separate thousands with commas.

    Returns
    -------
    pandas.Series of str
    """
    vals = np.asarray(values, dtype=float)
    dec = np.broadcast_to(np.asarray(decimals, dtype=int), vals.shape)
    rounded = round_half_up(vals, dec)
    sep = "," if thousands else ""
    text = np.full(vals.shape, "x", dtype=object)
    finite = np.isfinite(rounded)
    for d in np.unique(dec[finite]):  # a handful of precisions, not rows
        m = finite & (dec == d)
        fmt = ("{:" + sep + "." + str(int(d)) + "f}").format
        text[m] = [fmt(v) for v in rounded[m].tolist()]
    if status is not None:
        stat = np.asarray(pd.Series(np.asarray(status, dtype=object)).fillna("").astype(str), dtype=object)
        symbol = ~finite & pd.Series(stat).isin(list(SYMBOLS)).to_numpy()
        text[symbol] = stat[symbol]
    return pd.Series(text, dtype=object)
