"""Exact optimal mean path lengths, against the paper's numbers and hand-computed small worlds."""

from __future__ import annotations

import math

import pytest

from scinet.envs import optimal_mean_path, plane_distances


@pytest.mark.parametrize(
    ("plane", "reward", "expected"),
    [([1, 1, 0], [6, 11], 8.5594), ([0, 1, 1], [11, 6], 8.5594), ([1, 0, 1], [6, 6], 6.0420)],
)
def test_paper_objectives(plane: list[int], reward: list[int], expected: float) -> None:
    config = {"grid_size": [12, 12, 12], "plane": plane, "reward_pos": reward, "max_steps": 400}
    assert optimal_mean_path(config) == pytest.approx(expected, abs=5e-5)


def test_walls_force_a_detour() -> None:
    # 3x3 plane, reward in corner (2, 2), walls at (1, 2) and (1, 1): cells left of them go round via (1, 0).
    config = {
        "grid_size": [3, 3, 2],
        "plane": [1, 1, 0],
        "reward_pos": [2, 2],
        "plane_walls": [[1, 2], [1, 1]],
    }
    dist = plane_distances(config)
    assert dist.tolist() == [[4, 5, 6], [3, -1, -1], [2, 1, 0]]
    assert optimal_mean_path(config) == pytest.approx((4 + 5 + 6 + 3 + 2 + 1) / 6)


def test_unreachable_start_gives_infinity() -> None:
    config = {
        "grid_size": [3, 3, 2],
        "plane": [1, 1, 0],
        "reward_pos": [2, 2],
        "plane_walls": [[1, 0], [1, 1], [1, 2]],
    }
    assert math.isinf(optimal_mean_path(config))
