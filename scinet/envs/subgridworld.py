"""The sub-grid world as a single Gymnasium environment.

A faithful re-implementation of the dynamics of gym-subgridworld 0.0.2 (which needs the old ``gym`` and
numpy < 2) on the Gymnasium API. The agent moves in a 3-D cube but the reward only depends on two of its
coordinates: it sits at ``reward_pos`` in the hidden plane, at the start's coordinate along the third axis.
Unlike the original we do not render a 3-D image on every step: the observation is the one-hot position,
and a picture is drawn only when :meth:`SubGridWorld.render` asks for one (``render_mode`` "ansi" or
"rgb_array", see :mod:`scinet.envs.render`).
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from scinet.envs.config import ACTION_DELTAS, NUM_ACTIONS, SubGridConfig
from scinet.envs.render import ansi_frame, rgb_frame


class SubGridWorld(gym.Env[np.ndarray, np.int64]):
    """One agent in an N x M x L grid whose reward lies in a plane it cannot see.

    Keywords are those of the original: ``grid_size``, ``plane``, ``reward_pos``, ``max_steps`` and
    ``plane_walls``. ``reset(options={"agent_pos": (x, y, z)})`` starts at a given cell; otherwise the start
    is uniform over the cells off walls and off the reward. ``info`` holds the agent's cell (``agent_pos``),
    the reward's (``reward_cell``) and the steps taken (``time``). Reaching the reward terminates an episode;
    ``max_steps`` (when > 0) truncates it with reward -1, as in the original.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 8}  # noqa: RUF012 - read by Gymnasium

    def __init__(self, render_mode: str | None = None, **config: Any) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            modes = ", ".join(self.metadata["render_modes"])
            raise ValueError(f"Unsupported render_mode {render_mode!r}: expected None or one of {modes}")
        self.render_mode = render_mode
        self.config = SubGridConfig.from_mapping(config)
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(self.config.obs_size,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(NUM_ACTIONS)
        self._high = np.array(self.config.grid_size, dtype=np.int64) - 1
        self._offsets = np.cumsum((0, *self.config.grid_size[:2]))
        self._pos = self.config.valid_starts[0].copy()
        self._reward_cell = self._reward_cell_for(self._pos)
        self._time = 0

    @property
    def agent_pos(self) -> tuple[int, int, int]:
        """The agent's current cell (x, y, z)."""
        return tuple(int(v) for v in self._pos)  # type: ignore[return-value]

    @property
    def reward_cell(self) -> tuple[int, int, int]:
        """The reward's 3-D cell for the current episode."""
        return tuple(int(v) for v in self._reward_cell)  # type: ignore[return-value]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        start = (options or {}).get("agent_pos")
        if start is None:
            index = self.np_random.integers(len(self.config.valid_starts))
            self._pos = self.config.valid_starts[index].copy()
        else:
            self._pos = check_start(self.config, start)
        self._reward_cell = self._reward_cell_for(self._pos)
        self._time = 0
        return self._observe(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(f"Invalid action {action!r}: expected an integer in 0..{NUM_ACTIONS - 1}")
        moved = np.clip(self._pos + ACTION_DELTAS[int(action)], 0, self._high)
        a, b = self.config.plane_axes
        if not self.config.wall_mask[moved[a], moved[b]]:
            self._pos = moved
        self._time += 1
        if np.array_equal(self._pos, self._reward_cell):
            return self._observe(), 1.0, True, False, self._info()
        if self.config.max_steps and self._time >= self.config.max_steps:
            return self._observe(), -1.0, False, True, self._info()
        return self._observe(), 0.0, False, False, self._info()

    def render(self) -> str | np.ndarray | None:  # type: ignore[override]
        """The current state as text ("ansi") or as an (H, W, 3) uint8 image ("rgb_array"); else None."""
        if self.render_mode == "ansi":
            return ansi_frame(self.config, self.agent_pos, self.reward_cell, self._time)
        if self.render_mode == "rgb_array":
            return rgb_frame(self.config, self.agent_pos, self.reward_cell)
        return None

    def _reward_cell_for(self, start: np.ndarray) -> np.ndarray:
        cell = start.copy()
        a, b = self.config.plane_axes
        cell[a], cell[b] = self.config.reward_pos
        return cell

    def _info(self) -> dict[str, Any]:
        return {"agent_pos": self.agent_pos, "reward_cell": self.reward_cell, "time": self._time}

    def _observe(self) -> np.ndarray:
        obs = np.zeros(self.config.obs_size, dtype=np.float32)
        obs[self._offsets + self._pos] = 1.0
        return obs


def check_start(config: SubGridConfig, start: Any) -> np.ndarray:
    """Validates a user-given start cell: inside the grid, off walls and off the reward."""
    cell = np.asarray(start, dtype=np.int64).reshape(-1)
    if cell.shape != (3,) or np.any(cell < 0) or np.any(cell >= np.array(config.grid_size)):
        raise ValueError(
            f"agent_pos {list(np.asarray(start).tolist())} is not a cell of grid {config.grid_size}"
        )
    a, b = config.plane_axes
    if config.wall_mask[cell[a], cell[b]]:
        raise ValueError(f"agent_pos {cell.tolist()} lies inside a wall")
    if (cell[a], cell[b]) == config.reward_pos:
        raise ValueError(f"agent_pos {cell.tolist()} lies on the reward")
    return cell
