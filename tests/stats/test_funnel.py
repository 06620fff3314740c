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


@pytest.mark.filterwarnings("error")
def test_rate_z_scores_from_zero_and_at_one_expected_event():
    # O = 0 against E = 100: z = 2 (sqrt(0) - sqrt(100)) = -20. At 1 per 10,000 in 10,000, E = 1 and s = 1/2:
    # O = 4 gives z = 2 (sqrt(4) - 1) = 2.
    z, _ = funnel.z_scores([0.0], [10_000], 100, "rate", 10_000)
    assert z[0] == pytest.approx(-20, rel=REL)
    z, s = funnel.z_scores([4.0], [10_000], 1, "rate", 10_000)
    assert z[0] == pytest.approx(2, rel=REL) and s[0] == pytest.approx(0.5, rel=REL)
    # nothing expected (a comparator of 0): neither z nor s, and no warning about dividing by zero
    z, s = funnel.z_scores([4.0], [10_000], 0, "rate", 10_000)
    assert np.isnan(z).all() and np.isnan(s).all()


@pytest.mark.filterwarnings("error")
def test_proportion_z_scores_at_the_ends():
    # one child: s = 1 / (2 sqrt(1)) = 1/2, so 75% against 50% is (pi/3 - pi/4) / (1/2)
    z, s = funnel.z_scores([75.0, 75.0], [1, 0], 50, "proportion", 100)
    assert z[0] == pytest.approx((math.pi / 12) / 0.5, rel=REL) and s[0] == 0.5
    assert np.isnan(z[1]) and np.isnan(s[1])  # no denominator, no z-score
    # comparators of 0% and 100% are angles 0 and pi/2
    z, _ = funnel.z_scores([25.0], [100], 0, "proportion", 100)
    assert z[0] == pytest.approx((math.pi / 6) / 0.05, rel=REL)
    z, _ = funnel.z_scores([75.0], [100], 100, "proportion", 100)
    assert z[0] == pytest.approx(-(math.pi / 6) / 0.05, rel=REL)


def test_two_units_are_enough_hand_worked():
    # O = 121 and 81 against E = 100: z = 2 and -2. Type-7 percentiles of (-2, 2): h = 0.1 and 0.9, so -1.6 and
    # 1.6; phi = 1.6^2 = 2.56, I phi = 5.12 on 1 degree of freedom, whose upper tail is erfc(sqrt(x / 2)).
    # tau2 = (5.12 - 1) / (800 - 400) = 0.0103.
    od = funnel.overdispersion([121.0, 81.0], N[:2], 100, "rate", 10_000)
    assert od.units == 2
    assert od.phi == pytest.approx(2.56, rel=REL) and od.statistic == pytest.approx(5.12, rel=REL)
    assert od.p_value == pytest.approx(math.erfc(1.6), rel=1e-9)
    assert od.tau2 == pytest.approx(0.0103, rel=REL)
    assert od.overdispersed is True


def test_fewer_than_two_units_give_no_statistics():
    od = funnel.overdispersion([150.0, np.nan], [10_000, 10_000], 100, "rate", 10_000, alpha=0.01)
    assert np.isnan(od.statistic) and np.isnan(od.p_value)
    assert od.overdispersed is False and od.alpha == 0.01


def test_winsorising_a_fifth_at_each_end_hand_worked():
    # Sorted z: -6 -4 -2 0 0 0 0 2 4 6 8. Type-7 20th and 80th percentiles: h = 2 and 8, so -2 and 4. Winsorised,
    # the squares sum to 4 + 4 + 4 + 0 + 0 + 0 + 0 + 4 + 16 + 16 + 16 = 64.
    od = funnel.overdispersion(OVER, N, 100, "rate", 10_000, fraction=0.2)
    assert od.statistic == pytest.approx(64, rel=REL)
    whole = funnel.funnel(OVER, N, 100, "rate", 10_000, fraction=0.2, alpha=0.01)
    assert whole.overdispersion.statistic == pytest.approx(64, rel=REL) and whole.overdispersion.alpha == 0.01
    assert whole.tau2 == pytest.approx((64 - 10) / 4000, rel=REL)


@pytest.mark.parametrize("function, args", [
    ("z_scores", ([1.0], [10], 1, "ratio", 100)),
    ("limits", (1, [10], "ratio", 100)),
    ("positions", ([1.0], [10], 1, "ratio", 100)),
])
def test_bad_method_message_names_the_function(function, args):
    with pytest.raises(ValueError, match=rf"^{function}: method must be 'rate' or 'proportion', got 'ratio'$"):
        getattr(funnel, function)(*args)


def test_unadjusted_limits_on_the_proportion_scale():
    # multiplier 1: 0.1 of 100 has a standard error of sqrt(0.1 x 0.9 / 100) = 0.03
    lo95, up95, lo998, up998 = funnel.limits(0.1, [100.0], "proportion", 1)
    assert (lo95[0], up95[0]) == pytest.approx((0.1 - 1.959964 * 0.03, 0.1 + 1.959964 * 0.03), rel=REL)
    assert (lo998[0], up998[0]) == pytest.approx((0.1 - 3.090232 * 0.03, 0.1 + 3.090232 * 0.03), rel=REL)


def test_random_effects_proportion_limits_stop_at_0_percent():
    # 1%: y0 = asin(0.1) = 0.1002; n = 100 and tau2 = 0.5 give sd = 0.7089, so y0 - 1.96 sd < 0: the angle stops at
    # 0 and the lower limit is 0% (not sin^2 of a negative angle, 92%).
    lo95, up95, lo998, _ = funnel.limits(1, [100.0], "proportion", 100, tau2=0.5)
    assert lo95[0] == 0 and lo998[0] == 0 and up95[0] > 1


def test_positions_for_one_child_and_exactly_on_each_limit():
    # n = 1 is a denominator like any other: 50% of 1 at 50% lies within its limits
    assert list(funnel.positions([50.0], [1.0], 50, "proportion", 100)) == ["within 95% limits"]
    # values exactly on the limits are inside them
    lo95, up95 = compare.funnel_limits_proportion(10, 100.0, funnel.Z95)
    lo998, up998 = compare.funnel_limits_proportion(10, 100.0, funnel.Z998)
    got = funnel.positions([lo95, up95, lo998, up998], [100.0] * 4, 10, "proportion", 100)
    assert list(got) == ["within 95% limits", "within 95% limits", "between 95% and 99.8% limits (below)",
                         "between 95% and 99.8% limits (above)"]
