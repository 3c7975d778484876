"""The selection-data rule: at an episode's first step, one action the agent would take and one it would not.

For each episode, at time step 0 only, the agent's softmax policy splits the actions into likely ones
(probability >= 1/6 for six actions: at least as likely as under a uniform policy) and unlikely ones.
One likely action is drawn uniformly and actually taken; its target is 10 times the glow-discounted
reward that the rest of the episode (played on the agent's policy) brings back to that first step. One
unlikely action, drawn uniformly, is recorded with target 0 and never taken. An episode with no unlikely
action (a perfectly flat policy) yields only the first sample.

As in policy mode, the taken action becomes a sample only if the glow reaches it (|g| > 1e-7): a time-out,
or an episode so long (154 steps or more at glow 0.1) that the reward's glow has faded by the first step,
yields only its naught sample. This is the original's rule; a target of 0 for such a taken action would
teach the decoders that a likely action is worthless wherever the agent once wandered off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scinet.envs import BatchedSubGridWorld, SubGridConfig
from scinet.ps.glow import GLOW_THRESHOLD
from scinet.ps.policy import sample_softmax, softmax_weights
from scinet.selection.config import SelectionDataConfig
from scinet.selection.data import SelectionData

TARGET_SCALE = 10.0
"""The original scales the first step's discounted reward by 10 to make the regression targets O(1..10)."""


def draw_among(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row drawn uniformly among the True entries of ``mask``; -1 where a row has none."""
    scores = np.where(mask, rng.random(mask.shape), -1.0)
    choice = scores.argmax(axis=1)
    return np.where(mask.any(axis=1), choice, -1)


def split_actions(
    h_values: np.ndarray, beta: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(likely, unlikely) action per row: drawn among p >= 1/n and among p < 1/n; -1 if that set is empty."""
    weights = softmax_weights(h_values, beta)
    p = weights / weights.sum(axis=1, keepdims=True)
    likely = p >= 1.0 / h_values.shape[1]
    return draw_among(likely, rng), draw_among(~likely, rng)


@dataclass(frozen=True)
class SelectionReport:
    """One batched step's output, shaped like the policy-mode worker report."""

    experiences: SelectionData
    lengths: np.ndarray
    timeouts: int


class SelectionPlayer:
    """A batch of environments played by a trained agent, turning every finished episode into samples."""

    def __init__(
        self, env: SubGridConfig, num_envs: int, seed: np.random.SeedSequence, beta: float, glow: float
    ) -> None:
        env_seed, action_seed = seed.spawn(2)
        self.env = BatchedSubGridWorld(num_envs, seed=env_seed, **env.as_kwargs())
        self.rng = np.random.default_rng(action_seed)
        self.beta, self.glow = beta, glow
        self.start_cells = np.zeros((num_envs, 3), dtype=np.int8)
        self.taken = np.zeros(num_envs, dtype=np.int8)
        self.naught = np.zeros(num_envs, dtype=np.int8)

    @classmethod
    def for_config(
        cls,
        env: SubGridConfig,
        config: SelectionDataConfig,
        beta: float,
        glow: float,
        seed: np.random.SeedSequence,
    ) -> SelectionPlayer:
        """One worker's batch as a selection-data run configures it (picklable as a ``partial``)."""
        return cls(env, config.envs_per_worker, seed, beta, glow)

    @property
    def cells(self) -> np.ndarray:
        return self.env.positions.astype(np.int16)

    def step(self, h_values: np.ndarray) -> SelectionReport:
        cells = self.cells
        actions = sample_softmax(h_values, self.beta, self.rng)
        starting = self.env.times == 0
        if starting.any():
            likely, unlikely = split_actions(h_values[starting], self.beta, self.rng)
            actions[starting] = likely
            self.start_cells[starting] = cells[starting]
            self.taken[starting] = likely
            self.naught[starting] = unlikely
        _, rewards, terminated, truncated, info = self.env.step(actions)
        done = terminated | truncated
        lengths = info["lengths"][done]
        return SelectionReport(
            self._samples(np.flatnonzero(done), lengths, rewards[done]), lengths, int(truncated.sum())
        )

    def _samples(self, rows: np.ndarray, lengths: np.ndarray, final_rewards: np.ndarray) -> SelectionData:
        # The first step's glow: the final reward (negative ones clipped to 0) decayed over the later steps.
        first_step_glow = np.maximum(final_rewards, 0.0) * (1.0 - self.glow) ** (lengths - 1)
        reached = first_step_glow > GLOW_THRESHOLD
        taken_rows, naught_rows = rows[reached], rows[self.naught[rows] >= 0]
        return SelectionData(
            np.concatenate([self.start_cells[taken_rows], self.start_cells[naught_rows]]),
            np.concatenate([self.taken[taken_rows], self.naught[naught_rows]]),
            np.concatenate([TARGET_SCALE * first_step_glow[reached], np.zeros(len(naught_rows))]).astype(
                np.float32
            ),
        )
