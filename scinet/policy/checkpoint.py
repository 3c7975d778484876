"""Resumable training state: weights, optimiser states, counters and the learning curve so far.

A checkpoint is only resumed by a run whose learning-relevant settings match (its *fingerprint*): the
environment and every learning hyper-parameter, but not how the work is spread over processes or how long
the run is, so an interrupted run can be resumed with more workers or a larger episode budget.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import Tensor

from scinet.envs import SubGridConfig
from scinet.errors import DELETE_CHECKPOINT
from scinet.nets import read_checkpoint, require_extra, save_checkpoint
from scinet.policy.config import PolicyConfig
from scinet.sampling.divergence import require_finite_weights
from scinet.sampling.statistics import Statistics

KIND = "policy-training"
EXECUTION_ONLY = (
    "mode", "device", "workers", "predictors", "trainers", "envs_per_worker", "episodes",
    "checkpoint_interval", "log_interval", "eval_episodes",
)  # fmt: skip


def fingerprint(env: SubGridConfig, config: PolicyConfig) -> str:
    """A short hash of everything that changes what is learned."""
    learning = {k: v for k, v in dataclasses.asdict(config).items() if k not in EXECUTION_ONLY}
    text = json.dumps({"env": env.as_kwargs(), "policy": learning}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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
    extra = {k: v for k, v in dataclasses.asdict(state).items() if k != "weights"}
    save_checkpoint(path, KIND, state.weights, fingerprint=run_fingerprint, **extra)


def load_training_state(path: Path, run_fingerprint: str) -> TrainingState | None:
    """The saved state if ``path`` holds a checkpoint of this very run's settings, else None.

    A checkpoint of other settings is another run's and is replaced (the fingerprint's purpose). A file
    that is damaged, or is not a policy training checkpoint at all, raises CheckpointError advising to
    delete it: overwriting it silently could throw away a model someone put there by mistake, and hours
    of training if the damage were ours to repair.
    """
    if not path.is_file():
        return None
    saved = read_checkpoint(path, kinds=(KIND,), fix=DELETE_CHECKPOINT)
    if saved.extra.get("fingerprint") != run_fingerprint:
        return None
    fields = {f.name for f in dataclasses.fields(TrainingState)} - {"weights"}
    require_extra(path, saved, fields | {"fingerprint"}, DELETE_CHECKPOINT)
    extra = {k: v for k, v in saved.extra.items() if k != "fingerprint"}
    return TrainingState(weights=saved.state_dict, **extra)


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
