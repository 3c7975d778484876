"""Policy mode's resumable state: weights, optimiser states, counters and the learning curve so far.

Its fingerprint is the environment and every learning hyper-parameter (see :mod:`scinet.sampling.resume`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import Tensor

from scinet.envs import SubGridConfig
from scinet.policy.config import PolicyConfig
from scinet.sampling import resume
from scinet.sampling.divergence import require_finite_weights
from scinet.sampling.resume import learning_settings, load_state, save_state
from scinet.sampling.statistics import Statistics

KIND = "policy-training"
EXECUTION_ONLY = (
    "mode", "device", "workers", "predictors", "trainers", "envs_per_worker", "episodes",
    "checkpoint_interval", "log_interval", "eval_episodes",
)  # fmt: skip


def fingerprint(env: SubGridConfig, config: PolicyConfig) -> str:
    """A short hash of everything that changes what is learned: the world and the learning settings."""
    return resume.fingerprint({"env": env.as_kwargs(), "policy": learning_settings(config, EXECUTION_ONLY)})


@dataclass
class TrainingState:
    """Everything a resumed run needs to continue where the interrupted one stopped."""

    weights: dict[str, Tensor]
    optimizers: list[dict[str, Any]]
    episodes: int = 0
    env_steps: int = 0
    updates: int = 0
    wall_seconds: float = 0.0
    resumes: int = 0
    curve: list[dict[str, float]] = field(default_factory=list)


def save_training_state(path: Path, state: TrainingState, run_fingerprint: str) -> None:
    save_state(path, KIND, state, run_fingerprint)


def load_training_state(path: Path, run_fingerprint: str) -> TrainingState | None:
    """The saved state if ``path`` holds a checkpoint of this very run's settings, else None."""
    return load_state(path, KIND, run_fingerprint, TrainingState)


class Checkpointer:
    """Writes the resumable state to one file at most every ``interval`` seconds."""

    def __init__(self, path: Path | None, run_fingerprint: str, interval: float) -> None:
        self.path, self.run_fingerprint, self.interval = path, run_fingerprint, interval
        self.last = time.monotonic()
        self.resumes = 0

    def due(self) -> bool:
        return self.path is not None and time.monotonic() - self.last >= self.interval

    def save(self, weights: dict[str, Tensor], optimizers: list[dict[str, Any]], stats: Statistics) -> None:
        if self.path is None:
            return
        require_finite_weights(weights, "training", f"update {stats.updates}")  # keep the last good one
        state = TrainingState(
            weights=weights, optimizers=optimizers, episodes=stats.episodes, env_steps=stats.env_steps,
            updates=stats.updates, wall_seconds=stats.wall_seconds, resumes=self.resumes,
            curve=stats.curve_rows(),
        )  # fmt: skip
        save_training_state(self.path, state, self.run_fingerprint)
        self.last = time.monotonic()

    def remove(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
