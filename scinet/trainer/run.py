"""Training one DPS agent in policy mode: resume, run (serial or async), checkpoint, stop on signals.

This is the trainer's public entry point. It owns what both modes share: the network's initialisation
from the run seed, the resumable state, the signal handling and the checkpoint file's life cycle (written
every ``checkpoint_interval`` seconds and on interruption, removed once the run has finished).
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from scinet.envs import SubGridConfig
from scinet.errors import TrainingInterrupted
from scinet.nets import DPSNetwork
from scinet.trainer.checkpoint import TrainingState, fingerprint, load_training_state, save_training_state
from scinet.trainer.config import PolicyConfig
from scinet.trainer.divergence import require_finite_weights
from scinet.trainer.launcher import Launcher
from scinet.trainer.statistics import Statistics

LOG = logging.getLogger(__name__)
LAUNCHER_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class TrainingResult:
    """A finished run: the trained weights and what the statistics saw."""

    weights: dict[str, Tensor]
    stats: Statistics
    resumed_from: int  # episodes already done when this invocation started


class StopSignals:
    """Records SIGINT/SIGTERM instead of dying, so the run can checkpoint and stop its children first.

    The death of the process that started this one (see :mod:`scinet.trainer.launcher`) counts as a stop
    too, reported as SIGHUP, the signal a terminal sends when it goes away. It is looked at no more often
    than every ``LAUNCHER_POLL_SECONDS``, so polling :attr:`received` in a tight loop stays cheap.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.reason: str | None = None
        self.launcher = Launcher.of_this_process()
        self._looked = time.monotonic()

    @property
    def received(self) -> int | None:
        """The stop's signal number, or None while the run should go on."""
        if self.signum is None and time.monotonic() - self._looked >= LAUNCHER_POLL_SECONDS:
            self._looked = time.monotonic()
            gone = self.launcher.gone()
            if gone is not None:
                self.signum, self.reason = signal.SIGHUP, f"because its launcher (pid {gone}) exited"
        return self.signum

    def interruption(self, checkpoint: Path | None) -> TrainingInterrupted:
        """The exception that ends a stopped run; raise it once ``checkpoint`` is written."""
        assert self.signum is not None
        return TrainingInterrupted(self.signum, checkpoint, self.reason)

    def _handle(self, signum: int, _frame: Any) -> None:
        self.signum = signum

    @contextmanager
    def installed(self) -> Iterator[StopSignals]:
        previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


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


@dataclass
class RunContext:
    """Everything a runner (serial or async) needs, prepared by :func:`train_policy`."""

    env: SubGridConfig
    config: PolicyConfig
    net: DPSNetwork
    optimizers: list[dict[str, Any]]  # saved optimiser states, one per trainer (empty for a fresh run)
    seeds: list[np.random.SeedSequence]  # one per worker
    stats: Statistics
    checkpointer: Checkpointer
    stop: StopSignals
    show_progress: bool


def worker_seeds(seed: int, workers: int, resumes: int) -> list[np.random.SeedSequence]:
    """Distinct random streams for every worker, derived from the run seed.

    Each invocation of a run (the first, then each resume) gets its own streams, so that a resumed run
    does not replay the episodes it already played.
    """
    return np.random.SeedSequence(seed, spawn_key=(resumes,)).spawn(workers)


def resolve_device(device: str) -> torch.device:
    """``auto`` picks CUDA when a GPU is there; ``cuda`` without a GPU was already refused by the params."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def run_device(mode: str, device: str) -> torch.device:
    """The device on which a run of ``mode`` computes: a serial run keeps every role in this process, on
    the CPU; an async run's predictors and trainers use ``device``, resolved."""
    return torch.device("cpu") if mode == "serial" else resolve_device(device)


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
        if checkpoint is not None and checkpoint.is_file():
            LOG.info("ignoring %s: it was made with other settings", checkpoint)
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

    from scinet.trainer.coordinator import run_async
    from scinet.trainer.serial import run_serial

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
