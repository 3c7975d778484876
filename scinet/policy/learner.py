"""Learner role ("trainer i" in messages): cut experiences into batches and update the shared network.

Experiences arrive as chunks of any size; the learner cuts them into batches of exactly ``batch_size`` and
keeps the remainder for the next chunk, so every experience is trained on exactly once, as in serial mode.
On request it answers a snapshot (its update count and optimiser state, see :mod:`scinet.sampling.snapshots`)
for the coordinator's checkpoint.
"""

from __future__ import annotations

import queue
import time
from typing import Any, NamedTuple

import torch

from scinet.nets import DPSNetwork
from scinet.policy.config import PolicyConfig
from scinet.ps.glow import Experiences
from scinet.ps.update import DPSLearner
from scinet.sampling.divergence import require_finite_loss
from scinet.sampling.messages import LearnerReport
from scinet.sampling.processes import POLL_SECONDS, Channels, should_stop
from scinet.sampling.snapshots import SnapshotRequest, answer_snapshot


class BatchAssembler:
    """Turns a stream of experience chunks into batches of a fixed size, dropping nothing."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.parts: list[Experiences] = []
        self.count = 0

    def add(self, chunk: Experiences) -> list[Experiences]:
        """Adds a chunk and returns every full batch now available, oldest experiences first."""
        self.parts.append(chunk)
        self.count += len(chunk)
        if self.count < self.batch_size:
            return []
        pooled = Experiences.concat(self.parts)
        full = len(pooled) // self.batch_size * self.batch_size
        batches = [pooled.take(i, i + self.batch_size) for i in range(0, full, self.batch_size)]
        rest = pooled.take(full, len(pooled))
        self.parts, self.count = [rest], len(rest)
        return batches


class SetLearningRate(NamedTuple):
    """The coordinator's command to follow the learning-rate schedule."""

    learning_rate: float


def learner_main(
    channels: Channels,
    index: int,
    net: DPSNetwork,
    grid_size: tuple[int, ...],
    config: PolicyConfig,
    device: str,
    optimizer_state: dict[str, Any] | None,
    learning_rate: float,
) -> None:
    learner = DPSLearner(net, grid_size, config.learning_rate, config.weight_decay, torch.device(device))
    if optimizer_state is not None:
        learner.optimizer.load_state_dict(optimizer_state)
    learner.set_learning_rate(learning_rate)
    assembler = BatchAssembler(config.batch_size)
    updates = 0
    losses: list[float] = []
    busy = idle = 0.0
    last_report = time.perf_counter()
    while not should_stop(channels) and _answer_commands(channels, index, learner, updates):
        started = time.perf_counter()
        try:
            chunk = channels.experiences.get(timeout=POLL_SECONDS)
        except queue.Empty:
            idle += time.perf_counter() - started
            continue
        computing = time.perf_counter()
        for batch in assembler.add(chunk):
            losses.append(learner.update(batch))
            updates += 1
            require_finite_loss(losses[-1], f"trainer {index}", f"its update {updates}")
        now = time.perf_counter()
        idle += computing - started
        busy += now - computing
        if now - last_report >= 0.5:
            channels.stats.put(LearnerReport(index, updates, losses, busy, idle))
            losses, busy, idle, last_report = [], 0.0, 0.0, now
    channels.stats.put(LearnerReport(index, updates, losses, busy, idle))


def _answer_commands(channels: Channels, index: int, learner: DPSLearner, updates: int) -> bool:
    """Applies the coordinator's commands (a learning rate, a snapshot request); False once the run stops."""
    while True:
        try:
            command = channels.commands[index].get_nowait()
        except queue.Empty:
            return True
        if isinstance(command, SetLearningRate):
            learner.set_learning_rate(command.learning_rate)
        elif isinstance(command, SnapshotRequest) and not answer_snapshot(
            channels, index, command, updates, learner.optimizer, learner.device
        ):
            return False
