"""Glow: how projective simulation turns one episode's rewards into training targets.

At the end of an episode the history is walked backwards with a glow value g <- g (1 - eta) + r (negative
rewards clipped to 0), so that the reward flows back to the steps that led to it with geometrically decaying
weight. Every step whose |g| exceeds 1e-7 becomes an experience with target (1 - gamma) h + g, where h is the
h-value of the chosen action when it was chosen: the h-value is pulled towards g / gamma at its fixed point.

:class:`EpisodeMemory` keeps the histories of a whole batch of environments as arrays and emits the
experiences of all environments that finish in a step in a few vectorised operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GLOW_THRESHOLD = 1e-7
"""Steps whose glow is at most this do not become experiences (the original's cut-off)."""

HISTORY_LENGTH = 401
"""Steps kept per environment; a longer episode is flushed every this many steps, as in the original."""


@dataclass(frozen=True)
class Experiences:
    """Training examples in compact form: cell coordinates instead of one-hot observations."""

    cells: np.ndarray  # (n, 3) int16: the agent's cell when it chose
    actions: np.ndarray  # (n,) int8: the chosen action
    targets: np.ndarray  # (n,) float32: (1 - gamma) h + g

    def __len__(self) -> int:
        return len(self.targets)

    @staticmethod
    def empty() -> Experiences:
        return Experiences(np.zeros((0, 3), np.int16), np.zeros(0, np.int8), np.zeros(0, np.float32))

    @staticmethod
    def concat(parts: list[Experiences]) -> Experiences:
        if not parts:
            return Experiences.empty()
        return Experiences(
            np.concatenate([p.cells for p in parts]),
            np.concatenate([p.actions for p in parts]),
            np.concatenate([p.targets for p in parts]),
        )

    def take(self, start: int, stop: int) -> Experiences:
        return Experiences(self.cells[start:stop], self.actions[start:stop], self.targets[start:stop])


def glow_values(rewards: np.ndarray, glow: float) -> np.ndarray:
    """g_t for each step of (n, T) clipped reward rows: g_t = sum over s >= t of (1 - glow)^(s - t) r_s.

    The backward recursion g <- g (1 - glow) + r in closed form, as a reversed cumulative sum of
    discount-weighted rewards, in float64 so that 401 steps of decay (down to ~1e-19) stay exact enough.
    """
    steps = rewards.shape[1]
    decay = (1.0 - glow) ** np.arange(steps, dtype=np.float64)
    weighted = rewards.astype(np.float64) * decay
    tail_sums = np.cumsum(weighted[:, ::-1], axis=1)[:, ::-1]
    return tail_sums / decay


def _target(h_chosen: np.ndarray, g: np.ndarray, gamma: float) -> np.ndarray:
    """The DPS update target: the old h-value, forgotten by gamma, plus the glowed reward."""
    return ((1.0 - gamma) * h_chosen + g).astype(np.float32)


class EpisodeMemory:
    """The running histories of ``num_envs`` environments, ``HISTORY_LENGTH`` steps each."""

    def __init__(
        self,
        num_envs: int,
        glow: float,
        gamma: float,
        length: int = HISTORY_LENGTH,
        forget_unrewarded: bool = False,
    ) -> None:
        """``forget_unrewarded`` keeps the steps that glow does not reach (time-outs above all) as
        experiences with target (1 - gamma) h instead of dropping them; see ``PolicyConfig.unrewarded_steps``.
        """
        self.glow, self.gamma, self.length = glow, gamma, length
        self.forget_unrewarded = forget_unrewarded
        self.cells = np.zeros((num_envs, length, 3), dtype=np.int16)
        self.actions = np.zeros((num_envs, length), dtype=np.int8)
        self.h_chosen = np.zeros((num_envs, length), dtype=np.float32)
        self.rewards = np.zeros((num_envs, length), dtype=np.float32)
        self.steps = np.zeros(num_envs, dtype=np.int64)
        self._rows = np.arange(num_envs)

    def record(
        self,
        cells: np.ndarray,
        actions: np.ndarray,
        h_chosen: np.ndarray,
        rewards: np.ndarray,
        done: np.ndarray,
    ) -> Experiences:
        """Appends one step of every environment; returns the experiences of the histories that closed.

        A history closes when its episode is done or when it is full (an episode longer than the memory).
        """
        t = self.steps
        self.cells[self._rows, t] = cells
        self.actions[self._rows, t] = actions
        self.h_chosen[self._rows, t] = h_chosen
        self.rewards[self._rows, t] = np.maximum(rewards, 0.0)
        self.steps += 1
        closing = done | (self.steps >= self.length)
        if not closing.any():
            return Experiences.empty()
        rows = np.flatnonzero(closing)
        experiences = self._experiences(rows)
        self.steps[rows] = 0
        return experiences

    def _experiences(self, rows: np.ndarray) -> Experiences:
        if not self.forget_unrewarded:
            # Only histories holding some reward can yield glow; the rest (time-outs here) are dropped.
            rows = rows[self.rewards[rows].max(axis=1, initial=0.0, where=self._filled(rows)) > 0]
            if len(rows) == 0:
                return Experiences.empty()
        span = int(self.steps[rows].max())
        filled = self._filled(rows)[:, :span]
        rewards = np.where(filled, self.rewards[rows, :span], 0.0)
        g = glow_values(rewards, self.glow)
        keep = filled if self.forget_unrewarded else filled & (np.abs(g) > GLOW_THRESHOLD)
        h = self.h_chosen[rows, :span][keep]
        return Experiences(
            self.cells[rows, :span][keep],
            self.actions[rows, :span][keep],
            _target(h, g[keep], self.gamma),
        )

    def _filled(self, rows: np.ndarray) -> np.ndarray:
        return np.arange(self.length)[None, :] < self.steps[rows, None]
