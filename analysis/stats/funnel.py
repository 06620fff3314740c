"""Funnel plots: control limits round a comparator, a test for overdispersion, and where each unit lies.

A funnel plot compares every unit (local authority) with one comparator (England) by limits that narrow as the
denominator grows. Limits from the sampling error alone (Poisson for rates, binomial for proportions) assume the
units differ only by chance. With 150 local authorities whose true rates differ for reasons no statistic removes
(deprivation, local practice), most fall outside those limits and the plot flags everyone. Spiegelhalter's
method measures that extra variation (overdispersion) and, where it is significant, widens the limits by it.

Arrays in, arrays out, vectorised; no file is read and nothing is drawn (``analysis.present.charts`` draws).

The method [1]_ [2]_, as NHS-R's FunnelPlotR [4]_ and the SHMI/CQC funnels implement it:

1. Each unit's z-score on a variance-stabilising scale, against the comparator ``theta0``:
   proportions ``y = asin(sqrt(p))``, ``s = 1 / (2 sqrt(n))``; rates (and ratios) as counts ``O`` against the
   expected ``E = theta0 n / multiplier`` on the square-root scale, ``y = sqrt(O / E)``, target 1,
   ``s = 1 / (2 sqrt(E))``, so ``z = 2 (sqrt(O) - sqrt(E))``.
2. Winsorise: z-scores below the 10th percentile are set to it, above the 90th to it (type-7 percentiles), so a
   few extreme units do not inflate the estimate.
3. ``phi = mean(z_w^2)`` over the ``I`` units; ``I phi`` is compared with chi-square on ``I - 1`` degrees of
   freedom. Overdispersion is declared where it exceeds the ``1 - alpha`` quantile (``alpha`` 0.05).
4. The between-unit variance by DerSimonian and Laird [3]_, ``tau2 = (I phi - (I - 1)) / (sum w - sum w^2 /
   sum w)`` with ``w = 1 / s^2`` (0 when ``I phi <= I - 1``), and additive random-effects limits
   ``y0 +/- z sqrt(s^2 + tau2)`` at each denominator, transformed back to the indicator's scale.

Where the test finds no overdispersion the limits are the usual ones (``tau2 = 0``):
:func:`analysis.stats.compare.funnel_limits_rate` (exact Poisson and Byar's) and
:func:`analysis.stats.compare.funnel_limits_proportion` (normal approximation to the binomial).

References
----------
.. [1] Spiegelhalter DJ. Funnel plots for comparing institutional performance. Stat Med 2005; 24:1185-1202.
.. [2] Spiegelhalter DJ. Handling over-dispersion of performance indicators. Qual Saf Health Care 2005;
   14:347-351.
.. [3] DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin Trials 1986; 7:177-188.
.. [4] NHS-R Community. FunnelPlotR (``R/od_adjustment.R``: ``winsorisation``, ``phi_func``, ``tau_func``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from analysis.stats import compare
from analysis.stats.rates import _to_float

__all__ = [
    "METHODS",
    "POSITIONS",
    "NOT_COMPARED",
    "Z95",
    "Z998",
    "Overdispersion",
    "Funnel",
    "z_scores",
    "winsorise",
    "overdispersion",
    "limits",
    "positions",
    "funnel",
]

#: The two kinds of indicator a funnel takes.
METHODS = ("rate", "proportion")

#: Where a unit lies, from the middle out.
POSITIONS = (
    "within 95% limits",
    "between 95% and 99.8% limits (above)",
    "between 95% and 99.8% limits (below)",
    "outside 99.8% limits (above)",
    "outside 99.8% limits (below)",
)
NOT_COMPARED = "not compared"

#: Standard normal quantiles of the two-sided 95% and 99.8% limits.
Z95 = 1.959964
Z998 = 3.090232

#: The share winsorised at each end before phi is estimated.
WINSORISE = 0.1
#: The significance level of the overdispersion test.
ALPHA = 0.05


@dataclass(frozen=True)
class Overdispersion:
    """Spiegelhalter's overdispersion statistics for one set of units.

    Attributes
    ----------
    units : int
        ``I``, the units with a value and a positive expected count.
    phi : float
        The dispersion ratio, the mean squared winsorised z-score (about 1 when units differ by chance alone).
    statistic : float
        ``I phi``, compared with chi-square on ``I - 1`` degrees of freedom.
    p_value : float
        Its upper tail probability.
    tau2 : float
        The DerSimonian-Laird between-unit variance on the transformed scale (0 when ``I phi <= I - 1``).
    overdispersed : bool
        Whether ``p_value`` is below the test's level.
    alpha : float
        The test's level.
    """

    units: int
    phi: float
    statistic: float
    p_value: float
    tau2: float
    overdispersed: bool
    alpha: float


@dataclass(frozen=True)
class Funnel:
    """Where each unit lies, and on which limits.

    Attributes
    ----------
    position : numpy.ndarray
        One of :data:`POSITIONS` or :data:`NOT_COMPARED` per unit.
    overdispersion : Overdispersion
        The test behind the choice of limits.
    tau2 : float
        The between-unit variance the limits add: ``overdispersion.tau2`` where overdispersion was found (and
        adjustment asked for), else 0 (the unadjusted Poisson or binomial limits).
    """

    position: np.ndarray
    overdispersion: Overdispersion
    tau2: float

    @property
    def adjusted(self) -> bool:
        """Whether the limits are widened for overdispersion."""
        return self.tau2 > 0


def _check_method(method: str, caller: str) -> None:
    if method not in METHODS:
        raise ValueError(f"{caller}: method must be 'rate' or 'proportion', got {method!r}")


def _scale(comparator: float, denominators: np.ndarray, method: str, multiplier: float
           ) -> tuple[float, np.ndarray]:
    """The target ``y0`` and the within-unit standard error ``s`` on the transformed scale (NaN where undefined)."""
    den = np.where(denominators > 0, denominators, np.nan)
    if method == "proportion":
        p0 = comparator / multiplier
        target = float(np.arcsin(np.sqrt(p0))) if 0 <= p0 <= 1 else np.nan
        return target, 0.5 / np.sqrt(den)
    expected = comparator / multiplier * den
    with np.errstate(divide="ignore"):
        return 1.0, np.where(expected > 0, 0.5 / np.sqrt(expected), np.nan)


def z_scores(value: Any, denominator: Any, comparator: float, method: str, multiplier: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's z-score against the comparator on the variance-stabilising scale, and its standard error.

    Parameters
    ----------
    value : array-like
        The units' values on the ``multiplier`` scale (a percentage for ``multiplier`` 100).
    denominator : array-like
        Their denominators (population, or children for a percentage).
    comparator : float
        The comparator (England) on the same scale.
    method : str
        ``"proportion"`` (arcsine square root) or ``"rate"`` (square root of observed over expected).
    multiplier : float
        The indicator's scale.

    Returns
    -------
    (z, s) : tuple of numpy.ndarray
        ``z = (y - y0) / s``; missing where the value or denominator is missing or the denominator (or, for a
        rate, the expected count) is not positive.
    """
    _check_method(method, "z_scores")
    val, den = _to_float(value), _to_float(denominator)
    target, s = _scale(float(comparator), den, method, float(multiplier))
    with np.errstate(invalid="ignore"):
        if method == "proportion":
            y = np.arcsin(np.sqrt(np.clip(val / multiplier, 0.0, 1.0)))
        else:
            y = np.sqrt(np.maximum(val, 0.0) / comparator) if comparator > 0 else np.full(val.shape, np.nan)
        z = (y - target) / s
    return z, s


def winsorise(z: Any, fraction: float = WINSORISE) -> np.ndarray:
    """z-scores pulled in to their ``fraction`` and ``1 - fraction`` type-7 percentiles (missing stay missing)."""
    z = _to_float(z)
    lo, hi = compare.quantile_type7(z, [fraction, 1 - fraction])
    return np.clip(z, lo, hi)


def overdispersion(value: Any, denominator: Any, comparator: float, method: str, multiplier: float, *,
                   fraction: float = WINSORISE, alpha: float = ALPHA) -> Overdispersion:
    """Test the units for overdispersion and estimate the between-unit variance (see the module's notes).

    Parameters
    ----------
    value, denominator, comparator, method, multiplier
        As for :func:`z_scores`.
    fraction : float, default 0.1
        The share winsorised at each end.
    alpha : float, default 0.05
        The test's level.

    Returns
    -------
    Overdispersion
        With ``phi``, ``statistic`` and ``p_value`` missing (and no overdispersion) when fewer than two units
        can be compared.
    """
    z, s = z_scores(value, denominator, comparator, method, multiplier)
    ok = ~np.isnan(z)
    units = int(ok.sum())
    if units < 2:
        return Overdispersion(units, np.nan, np.nan, np.nan, 0.0, False, alpha)
    zw = winsorise(z[ok], fraction)
    phi = float(np.mean(zw ** 2))
    statistic = units * phi
    p_value = float(special.chdtrc(units - 1, statistic))
    w = 1.0 / s[ok] ** 2
    tau2 = max(0.0, (statistic - (units - 1)) / (w.sum() - (w ** 2).sum() / w.sum()))
    return Overdispersion(units, phi, statistic, p_value, float(tau2), bool(p_value < alpha), alpha)


def limits(comparator: float, denominators: Any, method: str, multiplier: float, tau2: float = 0.0
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The (lower 95%, upper 95%, lower 99.8%, upper 99.8%) limits at each denominator.

    Parameters
    ----------
    comparator, method, multiplier
        As for :func:`z_scores`.
    denominators : array-like
        Where to give the limits.
    tau2 : float, default 0
        The between-unit variance to add (:attr:`Overdispersion.tau2`). 0 gives the unadjusted limits: exact
        Poisson (Byar's from 10 expected events) for a rate, the normal approximation to the binomial for a
        proportion, as :mod:`analysis.stats.compare`.

    Returns
    -------
    tuple of numpy.ndarray
        On the indicator's scale; missing where the denominator is missing or not positive. With ``tau2 > 0``,
        ``y0 +/- z sqrt(s^2 + tau2)`` transformed back: ``comparator (1 +/- z sd)^2`` for a rate (the lower limit
        0 once ``z sd`` reaches 1), ``multiplier sin^2(y)`` for a proportion (the angle kept within 0 to pi/2).
    """
    _check_method(method, "limits")
    den = _to_float(denominators)
    comparator, multiplier = float(comparator), float(multiplier)
    if not tau2 > 0:
        if method == "rate":
            lo95, up95 = compare.funnel_limits_rate(comparator, den, 0.95, multiplier)
            lo998, up998 = compare.funnel_limits_rate(comparator, den, 0.998, multiplier)
        else:
            lo95, up95 = compare.funnel_limits_proportion(comparator, den, Z95, multiplier)
            lo998, up998 = compare.funnel_limits_proportion(comparator, den, Z998, multiplier)
        return tuple(np.asarray(a, dtype=float) for a in (lo95, up95, lo998, up998))
    target, s = _scale(comparator, den, method, multiplier)
    sd = np.sqrt(s ** 2 + tau2)
    out = []
    for z in (-Z95, Z95, -Z998, Z998):
        y = target + z * sd
        if method == "rate":
            out.append(comparator * np.maximum(y, 0.0) ** 2)
        else:
            out.append(multiplier * np.sin(np.clip(y, 0.0, np.pi / 2)) ** 2)
    return tuple(out)


def positions(value: Any, denominator: Any, comparator: float, method: str, multiplier: float,
              tau2: float = 0.0) -> np.ndarray:
    """Where each unit lies against the limits at its own denominator (see :func:`limits`).

    Returns
    -------
    numpy.ndarray of str
        One of :data:`POSITIONS`, or ``"not compared"`` where the value or denominator is missing or the
        denominator is not positive. A value exactly on a limit is inside it.
    """
    _check_method(method, "positions")
    val, den = _to_float(value), _to_float(denominator)
    ok = ~np.isnan(val) & ~np.isnan(den) & (den > 0)
    lo95, up95, lo998, up998 = limits(comparator, np.where(ok, den, 1.0), method, multiplier, tau2)
    with np.errstate(invalid="ignore"):
        position = np.select(
            [~ok, val > up998, val < lo998, val > up95, val < lo95],
            [NOT_COMPARED, POSITIONS[3], POSITIONS[4], POSITIONS[1], POSITIONS[2]],
            default=POSITIONS[0],
        )
    return position.astype(object)


def funnel(value: Any, denominator: Any, comparator: float, method: str, multiplier: float, *,
           adjust: bool = True, fraction: float = WINSORISE, alpha: float = ALPHA) -> Funnel:
    """Test for overdispersion, choose the limits, and place every unit against them.

    Parameters
    ----------
    value, denominator, comparator, method, multiplier
        As for :func:`z_scores`.
    adjust : bool, default True
        Widen the limits by the between-unit variance where the test finds overdispersion. False: always the
        unadjusted limits (the test is still reported).
    fraction, alpha
        As for :func:`overdispersion`.

    Returns
    -------
    Funnel
    """
    od = overdispersion(value, denominator, comparator, method, multiplier, fraction=fraction, alpha=alpha)
    tau2 = od.tau2 if adjust and od.overdispersed else 0.0
    return Funnel(positions(value, denominator, comparator, method, multiplier, tau2), od, tau2)
