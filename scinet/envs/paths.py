"""Exact optimal path lengths in the sub-grid world, the yardstick for every trained agent.

Only the plane matters: moving along the orthogonal axis never brings the agent closer, so the shortest path
from a start is the breadth-first distance in the plane from its projection to ``reward_pos`` (walls
included). Averaging over the valid starts weights every plane cell equally, exactly as the uniform start in
the cube does.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np

from scinet.envs.config import SubGridConfig


def plane_distances(config: Mapping[str, Any] | SubGridConfig) -> np.ndarray:
    """Steps from each plane cell to the reward (breadth-first search); -1 on walls and unreachable cells."""
    cfg = SubGridConfig.from_mapping(config)
    dist = np.full(cfg.wall_mask.shape, -1, dtype=np.int64)
    dist[cfg.reward_pos] = 0
    queue = deque([cfg.reward_pos])
    while queue:
        i, j = queue.popleft()
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            ni, nj = i + di, j + dj
            inside = 0 <= ni < dist.shape[0] and 0 <= nj < dist.shape[1]
            if inside and dist[ni, nj] < 0 and not cfg.wall_mask[ni, nj]:
                dist[ni, nj] = dist[i, j] + 1
                queue.append((ni, nj))
    return dist


def optimal_mean_path(config: Mapping[str, Any] | SubGridConfig) -> float:
    """Mean optimal path length over uniformly random valid starts (``math.inf`` if some cannot reach it).

    ``config`` holds the environment's keywords, e.g. ``{"grid_size": [12, 12, 12], "plane": [1, 1, 0],
    "reward_pos": [6, 11]}`` (8.5594 steps).
    """
    cfg = SubGridConfig.from_mapping(config)
    dist = plane_distances(cfg)
    a, b = cfg.plane_axes
    start_dist = dist[cfg.valid_starts[:, a], cfg.valid_starts[:, b]]
    if np.any(start_dist < 0):
        return math.inf
    return float(start_dist.mean())
