"""The Gymnasium ids: the paper's three worlds by name, and a configurable one.

``scinet/SubGridWorld-env1-v0`` ... ``-env3-v0`` are the worlds the paper's three agents learned in
(12x12x12, no walls, 400 steps, as the spec's ``max_episode_steps``). The bare ``scinet/SubGridWorld-v0``
takes every keyword of :class:`~scinet.envs.config.SubGridConfig`; its defaults are the paper's first world
(env1: the xy plane, which is also the original package's default plane, with the paper's grid and time
limit instead of the original's 50x50x50 cube without one). Its time limit is the ``max_steps`` keyword
itself, not a ``TimeLimit`` wrapper, so that a world made with ``max_steps=1000`` is not cut at 400.
"""

from __future__ import annotations

import gymnasium as gym

from scinet.envs.config import SubGridConfig

ENV_ID = "scinet/SubGridWorld-v0"
ENTRY_POINT = "scinet.envs.subgridworld:SubGridWorld"

PAPER_OBJECTIVES = {
    "env1": SubGridConfig(plane=(1, 1, 0), reward_pos=(6, 11)),
    "env2": SubGridConfig(plane=(0, 1, 1), reward_pos=(11, 6)),
    "env3": SubGridConfig(plane=(1, 0, 1), reward_pos=(6, 6)),
}
"""The paper's three objectives (the grid and time limit are SubGridConfig's defaults, the paper's)."""

PAPER_ENV_IDS = {name: f"scinet/SubGridWorld-{name}-v0" for name in PAPER_OBJECTIVES}


def register_envs() -> None:
    """Registers every id once (importing :mod:`scinet.envs` calls this)."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point=ENTRY_POINT)
    for name, world in PAPER_OBJECTIVES.items():
        if PAPER_ENV_IDS[name] not in gym.registry:
            gym.register(
                id=PAPER_ENV_IDS[name],
                entry_point=ENTRY_POINT,
                kwargs=world.as_kwargs(),
                max_episode_steps=world.max_steps,
            )
