"""The sub-grid world: single Gymnasium env (registered ids), batched array env and exact optimal paths."""

from __future__ import annotations

from scinet.envs.batched import BatchedSubGridWorld
from scinet.envs.config import ACTION_DELTAS, NUM_ACTIONS, SubGridConfig
from scinet.envs.paths import optimal_mean_path, plane_distances
from scinet.envs.registration import ENV_ID, PAPER_ENV_IDS, PAPER_OBJECTIVES, register_envs
from scinet.envs.subgridworld import SubGridWorld

register_envs()

__all__ = [
    "ACTION_DELTAS",
    "ENV_ID",
    "NUM_ACTIONS",
    "PAPER_ENV_IDS",
    "PAPER_OBJECTIVES",
    "BatchedSubGridWorld",
    "SubGridConfig",
    "SubGridWorld",
    "optimal_mean_path",
    "plane_distances",
]
