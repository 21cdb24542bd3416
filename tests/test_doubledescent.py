"""The double-descent peak detector on constructed curves with known shapes."""

import math

import numpy as np
import pytest

from phenolab.analysis.doubledescent import find_peak, running_median

N = 100  # the "interpolation threshold" of the constructed curves
P = np.unique(np.round(np.geomspace(5, 2000, 40))).tolist()


def double_descent(p):
    """Test error of min-norm least squares, schematically: variance blowing up at p = n from
    both sides (σ² p / (n − p) below, σ² n / (p − n) above), plus a bias that falls with p."""
    bias = 1.0 / (1 + p / 20)
    variance = 0.3 * (p / abs(N - p + 0.5)) if p < N else 0.3 * N / abs(p - N + 0.5)
    return 0.2 + bias + variance


def test_single_descent_has_no_peak():
    y = [0.2 + 1 / (1 + p / 20) for p in P]
    peak = find_peak(P, y)
    assert not peak.found and peak.index is None and peak.height == 0
    assert not peak.second_descent and "non-increasing" in peak.describe()


def test_u_shape_peaks_at_the_edge_without_a_second_descent():
    x = list(range(1, 21))
    y = [(v - 7) ** 2 + 3 for v in x]
    peak = find_peak(x, y)
    assert peak.found and peak.at_edge and peak.x == 20
    assert peak.x_before == 7 and peak.y_before == 3 and peak.height == 13**2
    assert not peak.second_descent and peak.drop == 0


def test_monotone_rising_curve_is_a_u_without_descent():
    peak = find_peak([1, 2, 3, 4], [1.0, 2.0, 3.0, 4.0])
    assert peak.found and peak.at_edge and peak.x_before == 1 and not peak.second_descent


def test_double_descent_peak_at_the_threshold_and_second_descent():
    y = [double_descent(p) for p in P]
    peak = find_peak(P, y)
    assert peak.found and peak.second_descent and not peak.at_edge
    nearest = min(P, key=lambda p: abs(p - N))
    assert peak.x == nearest  # the grid point closest to n
    i_min = int(np.argmin([double_descent(p) for p in P if p < N]))
    assert peak.x_before == P[i_min]
    assert peak.height == pytest.approx(peak.y - peak.y_before)
    assert peak.rise == pytest.approx(peak.height / peak.y_before)
    assert peak.drop > 1  # falls below the classical minimum, as the schematic does
    assert "second descent" in peak.describe()


def test_noisy_double_descent_is_found_through_a_running_median():
    rng = np.random.default_rng(0)
    clean = np.array([double_descent(p) for p in P])
    noisy = clean * np.exp(rng.normal(0, 0.15, len(P)))  # 15 % multiplicative noise
    peak = find_peak(P, noisy.tolist(), window=3)
    assert peak.found and peak.second_descent
    i = P.index(peak.x)
    j = P.index(min(P, key=lambda p: abs(p - N)))
    assert abs(i - j) <= 1  # within one grid step of the threshold


def test_noise_on_a_descent_is_not_a_peak():
    rng = np.random.default_rng(1)
    y = [(0.2 + 1 / (1 + p / 20)) * math.exp(rng.normal(0, 0.01)) for p in P]
    peak = find_peak(P, y)
    assert peak.index is not None and peak.height > 0  # the wiggles do rise a little …
    assert not peak.found and not peak.second_descent  # … but not by 10 % of the range


def test_a_second_descent_needs_to_fall_far_enough():
    x = [1, 2, 3, 4, 5]
    assert find_peak(x, [3, 1, 5, 4.5, 4.5]).drop == pytest.approx(0.5 / 4)
    assert not find_peak(x, [3, 1, 5, 4.5, 4.5]).second_descent
    assert find_peak(x, [3, 1, 5, 2, 2]).second_descent


def test_running_median_and_bad_input():
    assert running_median([1, 9, 2, 8, 3], 3) == [5, 2, 8, 3, 5.5]
    assert running_median([4, 1], 1) == [4, 1]
    with pytest.raises(ValueError, match="odd"):
        running_median([1, 2], 2)
    with pytest.raises(ValueError, match="increasing"):
        find_peak([1, 3, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="length"):
        find_peak([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="finite"):
        find_peak([1, 2], [1, math.nan])


def test_signed_reports_the_largest_rise_of_a_curve_that_never_rises():
    # the deep double-descent entries' reading (preregistered): the smallest fall to a new low
    peak = find_peak([1, 2, 3, 4], [0.9, 0.5, 0.45, 0.2], signed=True)
    assert peak.index == 2 and peak.height == pytest.approx(-0.05) and not peak.found
    assert (peak.x, peak.x_before) == (3, 2) and not peak.second_descent
    assert "non-increasing" in peak.describe()
    assert find_peak([1, 2], [0.5, 0.5], signed=True).height == 0  # flat: a rise of 0


def test_signed_and_unsigned_agree_on_a_curve_that_rises():
    rng = np.random.default_rng(2)
    for _ in range(200):
        y = rng.normal(size=int(rng.integers(2, 12))).tolist()
        a, b = find_peak(range(len(y)), y), find_peak(range(len(y)), y, signed=True)
        if a.index is not None:
            assert a == b
        else:
            assert b.height <= 0
    peak = find_peak([1, 2, 3, 4, 5], [3, 1, 5, 2, 2.5])
    assert peak.fall_to_end == pytest.approx(2.5)  # to the last point; y_after is the lowest
    assert peak.y - peak.y_after == pytest.approx(3)
