"""Playing a trained agent in the batched sub-grid world and measuring its path lengths.

Each environment of the batch plays a fixed quota of episodes, so the statistics are over exactly the
requested number of episodes and are not biased towards short ones (stopping at the first N finished episodes
of a batch would over-sample them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from scinet.envs import BatchedSubGridWorld, SubGridConfig, optimal_mean_path
from scinet.nets import DPSNetwork
from scinet.ps import greedy_actions, sample_actions


@dataclass(frozen=True)
class PathStats:
    """Path lengths of an agent's episodes; a time-out counts with its full ``max_steps`` length."""

    mean: float
    median: float
    timeouts: float
    optimal_mean: float
    episodes: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def evaluate_agent(
    agent: DPSNetwork,
    config: SubGridConfig,
    episodes: int,
    seed: int,
    beta: float = 0.5,
    greedy: bool = False,
    num_envs: int = 2048,
) -> PathStats:
    """Plays ``episodes`` episodes with the agent's softmax (or greedy) policy and summarises them."""
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if not config.max_steps:
        raise ValueError("evaluation needs max_steps > 0, or an untrained agent may never finish")
    num_envs = min(num_envs, episodes)
    env = BatchedSubGridWorld(num_envs, seed=seed, **config.as_kwargs())
    generator = torch.Generator().manual_seed(seed)
    quota = np.full(num_envs, episodes // num_envs) + (np.arange(num_envs) < episodes % num_envs)
    lengths: list[np.ndarray] = []
    timeouts = 0
    obs = env.observe()
    with torch.inference_mode():
        while quota.any():
            active = np.flatnonzero(quota > 0)
            h_values = agent.h_values(torch.from_numpy(obs[active]))
            chosen = greedy_actions(h_values) if greedy else sample_actions(h_values, beta, generator)
            actions = np.zeros(num_envs, dtype=np.int64)
            actions[active] = chosen.numpy()
            obs, _, terminated, truncated, info = env.step(actions)
            counted = (terminated | truncated) & (quota > 0)
            lengths.append(info["lengths"][counted])
            timeouts += int((truncated & counted).sum())
            quota -= counted
    all_lengths = np.concatenate(lengths)
    return PathStats(
        mean=float(all_lengths.mean()),
        median=float(np.median(all_lengths)),
        timeouts=timeouts / episodes,
        optimal_mean=optimal_mean_path(config),
        episodes=episodes,
    )
