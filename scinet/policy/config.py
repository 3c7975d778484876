"""Settings of a policy-mode run: the process layout, the DPS learning rule and the run's bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from scinet.settings import at_least, fraction, positive


@dataclass(frozen=True)
class PolicyConfig:
    """One agent's training run (the ``policy`` section of params.yaml).

    Every default is the original's (the paper's run: 21 workers with one world each, 2 predictors, 1
    trainer, about 1M episodes per agent); params.yaml sets every key, so these serve only direct library
    use. Deviations (a linear lr decay, ``forget``) are off by default.
    """

    mode: Literal["async", "serial"] = "async"
    """async: worker, predictor and trainer processes; serial: every role in this process, deterministic"""
    device: Literal["cpu", "cuda", "auto"] = "auto"
    """where predictors and trainers compute; auto picks CUDA when a GPU is there"""
    workers: int = field(default=21, metadata=at_least(1))
    """worker processes, each stepping its own batch of worlds"""
    predictors: int = field(default=2, metadata=at_least(1))
    """predictor processes, each batching the forward passes of several workers"""
    trainers: int = field(default=1, metadata=at_least(1))
    """learner processes updating the shared network"""
    envs_per_worker: int = field(default=1, metadata=at_least(1))
    """worlds a worker steps as one batch of arrays"""
    episodes: int = field(default=1_000_000, metadata=at_least(1))
    """the run's episode budget"""
    batch_size: int = field(default=200, metadata=at_least(1))
    """experiences per update (faithful)"""
    learning_rate: float = field(default=5e-5, metadata=positive())
    """Adam's learning rate, at the start of the run (faithful)"""
    lr_schedule: Literal["constant", "linear"] = "constant"
    """constant (faithful), or linear from learning_rate to learning_rate_end over the episode budget"""
    learning_rate_end: float = field(default=5e-6, metadata=positive())
    """the learning rate at the end of the run if lr_schedule is linear"""
    weight_decay: float = field(default=1e-5, metadata=at_least(0))
    """Adam's L2 weight decay (faithful)"""
    glow: float = field(default=0.1, metadata=fraction())
    """eta: how fast the reward's glow fades per step back in the episode (faithful)"""
    gamma: float = field(default=0.01, metadata=fraction())
    """forgetting: the target is (1 - gamma) h + g (faithful)"""
    beta: float = field(default=0.5, metadata=positive())
    """the softmax policy's inverse temperature (faithful)"""
    unrewarded_steps: Literal["drop", "forget"] = "drop"
    """drop (faithful): steps the glow does not reach teach nothing; forget: they train to (1 - gamma) h"""
    hidden: tuple[int, ...] = (128, 128, 128, 128, 64, 32)
    """widths of the DPS network's hidden layers (faithful)"""
    seed: int = field(default=0, metadata=at_least(0))
    """seeds the network's initialisation and every worker's random streams"""
    checkpoint_interval: float = field(default=60.0, metadata=positive())
    """seconds between two checkpoints"""
    log_interval: int = field(default=5_000, metadata=at_least(1))
    """episodes per learning-curve point"""
    eval_episodes: int = field(default=10_000, metadata=at_least(1))
    """episodes of the trained agent's evaluation"""

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
