"""The worker's job, free of any process plumbing: play a batch of environments with the DPS policy.

Each step the worker shows the current cells to a predictor, receives the h-values of all actions, samples
its actions from the softmax policy, steps its environments and turns every finished episode into glow
experiences. The same object runs inside a worker process (async mode) and in the serial loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scinet.envs import BatchedSubGridWorld, SubGridConfig
from scinet.policy.config import PolicyConfig
from scinet.ps.glow import EpisodeMemory, Experiences
from scinet.ps.policy import sample_softmax


@dataclass(frozen=True)
class StepReport:
    """What one batched step produced: experiences for the trainer, finished episodes for the statistics."""

    experiences: Experiences
    lengths: np.ndarray  # lengths of the episodes that finished in this step
    timeouts: int  # how many of them hit max_steps


class Rollout:
    """A batch of environments plus their episode memories and the policy's random stream."""

    def __init__(
        self,
        config: SubGridConfig,
        num_envs: int,
        seed: np.random.SeedSequence,
        glow: float,
        gamma: float,
        beta: float,
        forget_unrewarded: bool = False,
    ) -> None:
        env_seed, action_seed = seed.spawn(2)
        self.env = BatchedSubGridWorld(num_envs, seed=env_seed, **config.as_kwargs())
        self.memory = EpisodeMemory(num_envs, glow, gamma, forget_unrewarded=forget_unrewarded)
        self.rng = np.random.default_rng(action_seed)
        self.beta = beta

    @classmethod
    def for_config(cls, env: SubGridConfig, config: PolicyConfig, seed: np.random.SeedSequence) -> Rollout:
        """One worker's batch as a policy-mode run configures it (picklable as a ``partial``)."""
        forget = config.unrewarded_steps == "forget"
        return cls(env, config.envs_per_worker, seed, config.glow, config.gamma, config.beta, forget)

    @property
    def cells(self) -> np.ndarray:
        """Current cells, (num_envs, 3): what the predictor needs, far smaller than one-hot percepts."""
        return self.env.positions.astype(np.int16)

    def step(self, h_values: np.ndarray) -> StepReport:
        """Acts on the predictor's (num_envs, actions) h-values for the current cells."""
        cells = self.cells
        actions = sample_softmax(h_values, self.beta, self.rng)
        h_chosen = h_values[np.arange(len(actions)), actions]
        _, rewards, terminated, truncated, info = self.env.step(actions)
        done = terminated | truncated
        experiences = self.memory.record(cells, actions, h_chosen, rewards, done)
        return StepReport(experiences, info["lengths"][done], int(truncated.sum()))
