"""Tests for analysis.stats.funnel: Spiegelhalter's overdispersion test and random-effects limits, worked by hand.

The worked examples are chosen so that every step is exact arithmetic:

- Rates: a comparator of 100 per 10,000 and denominators of 10,000 give an expected count E = 100 (sqrt 10) for
  every unit, and a value equal to its count O. With O a perfect square, the square-root z-score
  2 (sqrt(O) - sqrt(E)) is a whole number: O = 64 -> -4, 81 -> -2, 100 -> 0, 121 -> 2, 196 -> 8.
- Eleven units, so type-7 percentiles at 10% and 90% fall exactly on the 2nd and 10th sorted z-scores
  (h = 10 x 0.1 = 1 and 10 x 0.9 = 9), and the chi-square test has 10 degrees of freedom, whose upper tail has
  the closed form exp(-x/2) (1 + x/2 + (x/2)^2/2! + (x/2)^3/3! + (x/2)^4/4!).
- Proportions round 50%: asin(sqrt(0.5)) = pi/4, and sin^2(pi/4 + a) = (1 + sin 2a) / 2.

FunnelPlotR's own tests (``tests/testthat``) check shapes and types but publish no phi or tau2, so these
hand-worked cases are the independent expected values.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.stats import compare, funnel

N = np.full(11, 10_000.0)  # E = 100 for each unit at 100 per 10,000
REL = 1e-9


def chi2_tail_10df(x: float) -> float:
    """Upper tail of chi-square on 10 degrees of freedom, from the Poisson-sum identity (no library)."""
    return math.exp(-x / 2) * sum((x / 2) ** i / math.factorial(i) for i in range(5))


# Overdispersed: z = -4, -2, 0, 2, 4, 6, -6, 8, 0, 0, 0.
OVER = np.array([64.0, 81, 100, 121, 144, 169, 49, 196, 100, 100, 100])
# Within chance: z = -2, -1, -1, 0, 0, 0, 0, 1, 1, 1, 2 (9.5^2 = 90.25, 10.5^2 = 110.25).
CHANCE = np.array([81.0, 90.25, 90.25, 100, 100, 100, 100, 110.25, 110.25, 110.25, 121])


def test_rate_z_scores_on_the_square_root_scale():
    z, s = funnel.z_scores(OVER, N, 100, "rate", 10_000)
    assert list(z) == pytest.approx([-4, -2, 0, 2, 4, 6, -6, 8, 0, 0, 0], abs=1e-12)
    assert list(s) == pytest.approx([1 / (2 * 10)] * 11)  # 1 / (2 sqrt(E))


def test_proportion_z_scores_on_the_arcsine_scale():
    # asin(sqrt(0.75)) = pi/3 and asin(sqrt(0.25)) = pi/6, against pi/4; s = 1 / (2 sqrt(100)) = 0.05.
    z, s = funnel.z_scores([75.0, 25.0, 50.0], [100, 100, 100], 50, "proportion", 100)
    assert list(z) == pytest.approx([(math.pi / 12) / 0.05, -(math.pi / 12) / 0.05, 0.0], rel=REL)
    assert list(s) == pytest.approx([0.05] * 3)


def test_z_scores_missing_where_not_comparable():
    z, _ = funnel.z_scores([100.0, np.nan, 100.0, 100.0], [10_000, 10_000, 0, np.nan], 100, "rate", 10_000)
    assert z[0] == 0 and np.isnan(z[1:]).all()
    z, _ = funnel.z_scores([100.0], [10_000], 0, "rate", 10_000)  # nothing expected: no z-score
    assert np.isnan(z).all()


def test_winsorise_at_type7_percentiles():
    # Ten z-scores: h = 9 x 0.1 = 0.9, so the 10th percentile is -6 + 0.9 x (-4 - -6) = -4.2, and the 90th
    # (h = 8.1) is 6 + 0.1 x (8 - 6) = 6.2.
    z = [-4.0, -2, 0, 2, 4, 6, -6, 8, 0, 0]
    assert list(funnel.winsorise(z)) == pytest.approx([-4, -2, 0, 2, 4, 6, -4.2, 6.2, 0, 0])
    assert np.isnan(funnel.winsorise([1.0, np.nan, 3.0])[1])


def test_overdispersion_hand_worked():
    # Sorted z: -6 -4 -2 0 0 0 0 2 4 6 8; winsorised at -4 and 6, the squares sum to
    # 16 + 16 + 4 + 0 + 0 + 0 + 0 + 4 + 16 + 36 + 36 = 128, so phi = 128 / 11 and I phi = 128.
    # DerSimonian-Laird: w = 1 / s^2 = 4E = 400 for each unit, sum w = 4400, sum w^2 / sum w = 400,
    # tau2 = (128 - 10) / (4400 - 400) = 0.0295.
    od = funnel.overdispersion(OVER, N, 100, "rate", 10_000)
    assert od.units == 11
    assert od.phi == pytest.approx(128 / 11, rel=REL)
    assert od.statistic == pytest.approx(128, rel=REL)
    assert od.p_value == pytest.approx(chi2_tail_10df(128), rel=1e-6)
    assert od.tau2 == pytest.approx(0.0295, rel=REL)
    assert od.overdispersed and od.alpha == 0.05


def test_no_overdispersion_hand_worked():
    # Sorted z: -2 -1 -1 0 0 0 0 1 1 1 2, winsorised at -1 and 1: squares sum to 7, phi = 7/11, I phi = 7 < 10,
    # so tau2 = 0; p = exp(-3.5) (1 + 3.5 + 3.5^2/2 + 3.5^3/6 + 3.5^4/24) = 0.7254.
    od = funnel.overdispersion(CHANCE, N, 100, "rate", 10_000)
    assert od.phi == pytest.approx(7 / 11, rel=REL)
    assert od.p_value == pytest.approx(chi2_tail_10df(7), rel=1e-6)
    assert od.p_value == pytest.approx(0.7254, abs=5e-5)
    assert od.tau2 == 0 and not od.overdispersed


def test_overdispersion_needs_two_units():
    od = funnel.overdispersion([150.0, np.nan], [10_000, 10_000], 100, "rate", 10_000)
    assert od.units == 1 and np.isnan(od.phi) and od.tau2 == 0 and not od.overdispersed


def test_random_effects_rate_limits_hand_worked():
    # At E = 100: sd = sqrt(1/400 + 0.0295) = sqrt(0.032) = 0.178885; limits 100 (1 -/+ z sd)^2:
    #   95%:   100 x (1 -/+ 1.959964 x 0.178885)^2 = 42.1709 and 182.4145
    #   99.8%: 100 x (1 -/+ 3.090232 x 0.178885)^2 = 19.9990 and 241.1180
    lo95, up95, lo998, up998 = funnel.limits(100, [10_000.0], "rate", 10_000, tau2=0.0295)
    sd = math.sqrt(0.032)
    assert lo95[0] == pytest.approx(100 * (1 - 1.959964 * sd) ** 2, rel=REL)
    assert up95[0] == pytest.approx(100 * (1 + 1.959964 * sd) ** 2, rel=REL)
    assert lo998[0] == pytest.approx(100 * (1 - 3.090232 * sd) ** 2, rel=REL)
    assert up998[0] == pytest.approx(100 * (1 + 3.090232 * sd) ** 2, rel=REL)
    assert (lo95[0], up95[0], lo998[0], up998[0]) == pytest.approx((42.1709, 182.4145, 19.9990, 241.1180), abs=1e-4)


def test_random_effects_lower_rate_limit_stops_at_zero():
    # tau2 = 1: sd > 1 / 3.090232, so 1 - z sd < 0 and the lower 99.8% limit is 0, not (1 - z sd)^2 > 0.
    lo95, _, lo998, up998 = funnel.limits(100, [10_000.0], "rate", 10_000, tau2=1.0)
    assert lo998[0] == 0 and lo95[0] == 0
    assert up998[0] == pytest.approx(100 * (1 + 3.090232 * math.sqrt(1.0025)) ** 2, rel=REL)


def test_random_effects_proportion_limits_hand_worked():
    # p0 = 50%: y0 = pi/4; n = 100: s = 0.05; tau2 = 0.01: sd = sqrt(0.0125) = 0.111803.
    # sin^2(pi/4 + a) = (1 + sin 2a) / 2, so the upper 95% limit is 50 (1 + sin(2 x 1.959964 x 0.111803)) = 71.218.
    lo95, up95, lo998, up998 = funnel.limits(50, [100.0], "proportion", 100, tau2=0.01)
    a95, a998 = 1.959964 * math.sqrt(0.0125), 3.090232 * math.sqrt(0.0125)
    assert up95[0] == pytest.approx(50 * (1 + math.sin(2 * a95)), rel=REL)
    assert lo95[0] == pytest.approx(50 * (1 - math.sin(2 * a95)), rel=REL)
    assert up998[0] == pytest.approx(50 * (1 + math.sin(2 * a998)), rel=REL)
    assert lo998[0] == pytest.approx(50 * (1 - math.sin(2 * a998)), rel=REL)
    assert up95[0] == pytest.approx(71.2183, abs=1e-4)
    # Near 100% the angle stops at pi/2: the limit is 100%, never past it and back down.
    _, up95, _, up998 = funnel.limits(99, [100.0], "proportion", 100, tau2=0.5)
    assert up95[0] == 100 and up998[0] == 100


def test_unadjusted_limits_are_compare_limits():
    den = np.array([500.0, 5_000.0, 50_000.0])
    lo95, up95, lo998, up998 = funnel.limits(70, den, "rate", 10_000)
    assert list(up998) == list(compare.funnel_limits_rate(70, den, 0.998, 10_000)[1])
    assert list(lo95) == list(compare.funnel_limits_rate(70, den, 0.95, 10_000)[0])
    lo95, up95, lo998, up998 = funnel.limits(10, [100.0], "proportion", 100)
    assert (lo998[0], up998[0]) == pytest.approx((0.729304, 19.270696), abs=1e-6)  # 10 -/+ 3.090232 x 3


def test_positions_on_adjusted_limits_hand_worked():
    # On the limits above (95%: 42.17 to 182.41; 99.8%: 20.00 to 241.12): 196 is between the upper limits;
    # 169, 64 and 49 are within 95%. On Poisson limits alone 144, 169 and 196 lie far outside.
    got = funnel.positions(OVER, N, 100, "rate", 10_000, tau2=0.0295)
    assert got[7] == "between 95% and 99.8% limits (above)"    # 196 > 182.41
    assert got[5] == got[0] == got[6] == "within 95% limits"   # 169 <= 182.41; 64 and 49 >= 42.17
    low = funnel.positions([36.0, 16.0, 250.0], N[:3], 100, "rate", 10_000, tau2=0.0295)
    assert list(low) == ["between 95% and 99.8% limits (below)",  # 20.00 <= 36 < 42.17
                         "outside 99.8% limits (below)",          # 16 < 20.00
                         "outside 99.8% limits (above)"]          # 250 > 241.12
    plain = funnel.positions(OVER, N, 100, "rate", 10_000)
    assert [plain[i] for i in (4, 5, 7)] == ["outside 99.8% limits (above)"] * 3


def test_positions_not_compared_and_on_a_limit():
    got = funnel.positions([np.nan, 100.0, 19.270696], [10_000, 0, 100], 10, "proportion", 100)
    assert list(got[:2]) == ["not compared", "not compared"]
    assert got[2] == "between 95% and 99.8% limits (above)"  # on the 99.8% limit is inside it


def test_funnel_adjusts_only_where_overdispersed():
    over = funnel.funnel(OVER, N, 100, "rate", 10_000)
    assert over.adjusted and over.tau2 == pytest.approx(0.0295)
    assert over.position[7] == "between 95% and 99.8% limits (above)"
    kept = funnel.funnel(OVER, N, 100, "rate", 10_000, adjust=False)
    assert not kept.adjusted and kept.tau2 == 0 and kept.overdispersion.overdispersed
    assert kept.position[7] == "outside 99.8% limits (above)"
    chance = funnel.funnel(CHANCE, N, 100, "rate", 10_000)
    assert not chance.adjusted and chance.tau2 == 0
    assert list(chance.position) == list(funnel.positions(CHANCE, N, 100, "rate", 10_000))


def test_bad_method():
    with pytest.raises(ValueError, match="method must be 'rate' or 'proportion'"):
        funnel.funnel(OVER, N, 100, "poisson", 10_000)
