"""Training one DPS agent in policy mode: resume, run (serial or async), checkpoint, stop on signals.

This is policy mode's public entry point. It owns what both modes share: the network's initialisation
from the run seed, the resumable state, the signal handling and the checkpoint file's life cycle (written
every ``checkpoint_interval`` seconds and on interruption, removed once the run has finished).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from scinet.envs import SubGridConfig
from scinet.nets import DPSNetwork
from scinet.policy.asynchronous import run_async
from scinet.policy.checkpoint import Checkpointer, fingerprint, load_training_state
from scinet.policy.config import PolicyConfig
from scinet.policy.context import RunContext, worker_seeds
from scinet.policy.serial import run_serial
from scinet.runtime import StopSignals
from scinet.sampling.divergence import require_finite_weights
from scinet.sampling.statistics import Statistics

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingResult:
    """A finished run: the trained weights and what the statistics saw."""

    weights: dict[str, Tensor]
    stats: Statistics
    resumed_from: int  # episodes already done when this invocation started


def train_policy(
    env: SubGridConfig,
    config: PolicyConfig,
    checkpoint: Path | None = None,
    show_progress: bool = False,
    keep_checkpoint: bool = False,
) -> TrainingResult:
    """Trains one agent until ``config.episodes`` episodes are done, resuming from ``checkpoint`` if it fits.

    Raises :class:`TrainingInterrupted` after checkpointing on SIGINT/SIGTERM (or when the launching
    process exits), :class:`RoleFailed` if a child process dies or hangs, and :class:`Diverged` if a
    loss, h-value or weight stops being finite. A finished run removes its checkpoint, unless
    ``keep_checkpoint``: then it leaves the finished state there, so that a caller interrupted before it
    has stored the result gets it back from the next call without training again, and removes the
    file itself once the result is safe.
    """
    run_fingerprint = fingerprint(env, config)
    state = load_training_state(checkpoint, run_fingerprint) if checkpoint is not None else None
    torch.manual_seed(config.seed)
    net = DPSNetwork(env.obs_size, hidden=config.hidden)
    checkpointer = Checkpointer(checkpoint, run_fingerprint, config.checkpoint_interval)
    if state is None:
        stats, optimizers = Statistics(config.log_interval), []
    else:
        net.load_state_dict(state.weights)
        stats = Statistics(
            config.log_interval,
            state.episodes,
            state.env_steps,
            state.updates,
            state.wall_seconds,
            state.curve,
        )
        optimizers = state.optimizers
        checkpointer.resumes = state.resumes + 1
        LOG.info("resuming from %s at episode %d (update %d)", checkpoint, state.episodes, state.updates)
    seeds = worker_seeds(config.seed, config.workers, checkpointer.resumes)
    resumed_from = stats.episodes

    runner = run_serial if config.mode == "serial" else run_async
    if stats.episodes >= config.episodes:  # a finished run kept by keep_checkpoint: nothing to train
        weights = {k: v.detach().clone() for k, v in net.state_dict().items()}
    else:
        with StopSignals().installed() as stop:
            context = RunContext(
                env, config, net, optimizers, seeds, stats, checkpointer, stop, show_progress
            )
            weights, optimizers = runner(context)
    require_finite_weights(weights, "training", f"update {stats.updates}")
    if keep_checkpoint:
        checkpointer.save(weights, optimizers, stats)
    else:
        checkpointer.remove()
    return TrainingResult(weights, stats, resumed_from)
