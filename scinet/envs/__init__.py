"""The sub-grid world: single Gymnasium env, batched array env and exact optimal paths."""

from __future__ import annotations

import gymnasium as gym

from scinet.envs.batched import BatchedSubGridWorld
from scinet.envs.config import ACTION_DELTAS, NUM_ACTIONS, SubGridConfig
from scinet.envs.paths import optimal_mean_path, plane_distances
from scinet.envs.subgridworld import SubGridWorld

ENV_ID = "scinet/SubGridWorld-v0"

if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="scinet.envs.subgridworld:SubGridWorld")

__all__ = [
    "ACTION_DELTAS",
    "ENV_ID",
    "NUM_ACTIONS",
    "BatchedSubGridWorld",
    "SubGridConfig",
    "SubGridWorld",
    "optimal_mean_path",
    "plane_distances",
]
