"""Many sub-grid worlds stepped as arrays in one call.

The trainer's workers each own one :class:`BatchedSubGridWorld`, so a whole batch of environments costs a
handful of numpy operations per step and crosses process boundaries as one array. The dynamics are those of
:class:`scinet.envs.SubGridWorld` (a test drives both side by side); finished environments reset themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scinet.envs.config import ACTION_DELTAS, NUM_ACTIONS, SubGridConfig
from scinet.envs.subgridworld import check_start


class BatchedSubGridWorld:
    """``num_envs`` independent sub-grid worlds with the same parameters and auto-reset.

    Args:
        num_envs: how many environments to step together.
        seed: seeds the generator that draws the random starts (``numpy.random.default_rng``).
        **config: the keywords of :class:`scinet.envs.SubGridWorld`.
    """

    def __init__(
        self, num_envs: int, seed: int | np.random.SeedSequence | None = None, **config: Any
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        self.config = SubGridConfig.from_mapping(config)
        self.num_envs = int(num_envs)
        self.rng = np.random.default_rng(seed)
        self._high = np.array(self.config.grid_size, dtype=np.int64) - 1
        self._offsets = np.cumsum((0, *self.config.grid_size[:2])).astype(np.int64)
        self._rows = np.arange(self.num_envs)
        self.positions = np.zeros((self.num_envs, 3), dtype=np.int64)
        self.reward_cells = np.zeros((self.num_envs, 3), dtype=np.int64)
        self.times = np.zeros(self.num_envs, dtype=np.int64)
        self._draw_starts(np.ones(self.num_envs, dtype=bool))

    def reset(self, seed: int | None = None, agent_pos: np.ndarray | None = None) -> np.ndarray:
        """Starts a new episode everywhere: at random, or at the given (num_envs, 3) cells."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        if agent_pos is None:
            self._draw_starts(np.ones(self.num_envs, dtype=bool))
        else:
            starts = np.asarray(agent_pos, dtype=np.int64).reshape(self.num_envs, 3)
            for cell in starts:
                check_start(self.config, cell)
            self._place(np.ones(self.num_envs, dtype=bool), starts)
        return self.observe()

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Moves every environment by its action, like Gymnasium's vector envs in same-step auto-reset mode.

        Returns ``(obs, reward, terminated, truncated, info)``. Where an environment finished, ``obs`` and
        :attr:`positions` already belong to its next episode, and ``info["lengths"]`` holds the finished
        episode's length (0 elsewhere).
        """
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or not np.issubdtype(actions.dtype, np.integer):
            raise ValueError(
                f"actions must be {self.num_envs} integers, got shape {actions.shape} {actions.dtype}"
            )
        if actions.min() < 0 or actions.max() >= NUM_ACTIONS:
            raise ValueError(f"actions must lie in 0..{NUM_ACTIONS - 1}")
        moved = self.positions + ACTION_DELTAS[actions]
        np.clip(moved, 0, self._high, out=moved)
        a, b = self.config.plane_axes
        blocked = self.config.wall_mask[moved[:, a], moved[:, b]]
        np.copyto(self.positions, moved, where=~blocked[:, None])
        self.times += 1

        terminated = (self.positions == self.reward_cells).all(axis=1)
        if self.config.max_steps:
            truncated = ~terminated & (self.times >= self.config.max_steps)
        else:
            truncated = np.zeros(self.num_envs, dtype=bool)
        reward = terminated.astype(np.float32) - truncated.astype(np.float32)
        done = terminated | truncated
        lengths = np.where(done, self.times, 0)
        if done.any():
            self._draw_starts(done)
        return self.observe(), reward, terminated, truncated, {"lengths": lengths}

    def observe(self) -> np.ndarray:
        """The (num_envs, N+M+L) float32 one-hot observations of the current cells."""
        obs = np.zeros((self.num_envs, self.config.obs_size), dtype=np.float32)
        obs[self._rows[:, None], self.positions + self._offsets] = 1.0
        return obs

    def _draw_starts(self, which: np.ndarray) -> None:
        count = int(which.sum())
        index = self.rng.integers(len(self.config.valid_starts), size=count)
        self._place(which, self.config.valid_starts[index])

    def _place(self, which: np.ndarray, starts: np.ndarray) -> None:
        a, b = self.config.plane_axes
        self.positions[which] = starts
        cells = starts.copy()
        cells[:, a], cells[:, b] = self.config.reward_pos
        self.reward_cells[which] = cells
        self.times[which] = 0
