"""Settings of a policy-mode run: the trainer's roles, the DPS learning rule and the run's bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


def _at_least(low: float):  # type: ignore[no-untyped-def]
    return {"check": lambda v: v >= low, "rule": f"must be >= {low:g}"}


def _positive() -> dict:
    return {"check": lambda v: v > 0, "rule": "must be > 0"}


def _fraction() -> dict:
    return {"check": lambda v: 0 <= v < 1, "rule": "must lie in [0, 1)"}


@dataclass(frozen=True)
class PolicyConfig:
    """One agent's training run. Every default is the original's (the paper's run: 21 workers with one world
    each, 2 predictors, 1 trainer, about 1M episodes per agent); params.yaml sets every key, so these serve
    only direct library use. Deviations (a linear lr decay, ``forget``) are off by default.

    Range rules sit in each field's metadata so that :mod:`scinet.params` can check a raw YAML section
    against them generically and name the offending key.
    """

    mode: Literal["async", "serial"] = "async"
    device: Literal["cpu", "cuda", "auto"] = "auto"
    workers: int = field(default=21, metadata=_at_least(1))
    predictors: int = field(default=2, metadata=_at_least(1))
    trainers: int = field(default=1, metadata=_at_least(1))
    envs_per_worker: int = field(default=1, metadata=_at_least(1))
    episodes: int = field(default=1_000_000, metadata=_at_least(1))
    batch_size: int = field(default=200, metadata=_at_least(1))  # faithful
    learning_rate: float = field(default=5e-5, metadata=_positive())  # faithful
    lr_schedule: Literal["constant", "linear"] = "constant"  # faithful: constant
    learning_rate_end: float = field(default=5e-6, metadata=_positive())  # reached at the end if "linear"
    weight_decay: float = field(default=1e-5, metadata=_at_least(0))  # faithful
    glow: float = field(default=0.1, metadata=_fraction())  # faithful eta
    gamma: float = field(default=0.01, metadata=_fraction())  # faithful forgetting
    beta: float = field(default=0.5, metadata=_positive())  # faithful softmax inverse temperature
    unrewarded_steps: Literal["drop", "forget"] = "drop"  # faithful: drop
    hidden: tuple[int, ...] = (128, 128, 128, 128, 64, 32)  # faithful
    seed: int = field(default=0, metadata=_at_least(0))
    checkpoint_interval: float = field(default=60.0, metadata=_positive())  # seconds between checkpoints
    log_interval: int = field(default=5_000, metadata=_at_least(1))  # episodes per learning-curve point
    eval_episodes: int = field(default=10_000, metadata=_at_least(1))

    # ``unrewarded_steps``: the original trains only on steps that glow reaches (|g| > 1e-7), so a
    # time-out teaches nothing and the h-values of what led to it are inflated by survivorship. ``forget``
    # also trains those steps, towards (1 - gamma) h: tabular PS's forgetting, applied to every visited
    # step, so that h tracks the reward of all tries, the failed ones included (a deviation).

    def learning_rate_at(self, episodes: int) -> float:
        """The learning rate once ``episodes`` episodes are done: constant, or linear to the end value.

        A linear decay lets the h-values settle at the end of the run instead of jittering with the
        gradient noise of a constant rate (a deviation from the original, off by default).
        """
        if self.lr_schedule == "constant":
            return self.learning_rate
        done = min(episodes / self.episodes, 1.0)
        return self.learning_rate + (self.learning_rate_end - self.learning_rate) * done
