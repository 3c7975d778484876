"""Selection data from a trained agent, played on the policy trainer's worker and predictor roles.

No training happens here: the predictors serve the frozen agent's h-values, the workers play
:class:`~scinet.selection.sampling.SelectionPlayer` batches and send finished episodes' samples as array
chunks, and the coordinator collects chunks until it has enough. Serial mode plays the same players in one
process and is deterministic for a seed; async mode is as fast as the cores allow but its sample order
depends on process timing.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch

from scinet.envs import SubGridConfig
from scinet.nets import DPSNetwork
from scinet.runtime import StopSignals, resolve_device
from scinet.sampling.predictor import predict_h_values, predictor_main
from scinet.sampling.processes import Channels
from scinet.sampling.statistics import ProgressBar, Statistics
from scinet.sampling.supervision import Children
from scinet.sampling.worker import worker_main
from scinet.selection.config import SelectionDataConfig
from scinet.selection.data import SelectionData
from scinet.selection.sampling import SelectionPlayer

BACKLOG_PER_WORKER = 4


@dataclass
class _Job:
    """One generation run's pieces, shared by the serial and the async loop."""

    agent: DPSNetwork
    env: SubGridConfig
    config: SelectionDataConfig
    make_player: Callable[[np.random.SeedSequence], SelectionPlayer]
    seeds: list[np.random.SeedSequence]
    stats: Statistics
    progress: ProgressBar
    stop: StopSignals
    parts: list[SelectionData] = field(default_factory=list)
    collected: int = 0

    def add(self, chunk: SelectionData) -> None:
        self.parts.append(chunk)
        self.collected += len(chunk)

    @property
    def done(self) -> bool:
        if self.stop.received is not None:
            raise self.stop.interruption(None)
        return self.collected >= self.config.samples


def generate_selection_data(
    agent: DPSNetwork,
    env: SubGridConfig,
    config: SelectionDataConfig,
    beta: float = 0.5,
    glow: float = 0.1,
    show_progress: bool = False,
) -> SelectionData:
    """``config.samples`` samples of ``agent`` in ``env`` (softmax ``beta``, discount ``glow`` as trained).

    Raises :class:`~scinet.errors.TrainingInterrupted` on SIGINT/SIGTERM or when the launching process
    exits (after stopping every child) and :class:`~scinet.errors.RoleFailed` if a child dies or hangs.
    """
    agent.eval().requires_grad_(False)
    stats = Statistics(log_interval=max(config.samples // 2, 1))
    progress = ProgressBar(stats, config.samples // 2, show_progress)
    try:
        with StopSignals().installed() as stop:
            job = _Job(
                agent, env, config, partial(SelectionPlayer.for_config, env, config, beta, glow),
                np.random.SeedSequence(config.seed).spawn(config.workers), stats, progress, stop,
            )  # fmt: skip
            (_run_serial if config.mode == "serial" else _run_async)(job)
    finally:
        progress.close()
    return SelectionData.concat(job.parts).head(config.samples)


def _run_serial(job: _Job) -> None:
    players = [job.make_player(seed) for seed in job.seeds]
    cpu = torch.device("cpu")
    while not job.done:
        for player in players:
            report = player.step(predict_h_values(job.agent, player.cells, job.env.grid_size, cpu))
            job.add(report.experiences)
            job.stats.record_episodes(len(player.cells), report.lengths, report.timeouts)
        job.progress.update()


def _run_async(job: _Job) -> None:
    config, agent = job.config, job.agent
    device = resolve_device(config.device)
    agent.to(device)
    if device.type == "cpu":
        agent.share_memory()
    channels = Channels.create(config.workers, config.predictors, 0, BACKLOG_PER_WORKER * config.workers)
    children = Children(channels, job.stop)
    try:
        for i in range(config.predictors):
            children.start(f"predictor {i}", predictor_main, i, agent, job.env.grid_size, str(device))
        report_episodes = job.stats.report_episodes(config.workers)
        for i in range(config.workers):
            args = (i, i % config.predictors, job.make_player, job.seeds[i], report_episodes)
            children.start(f"worker {i}", worker_main, *args)
        while not job.done:
            children.fail_if_dead()
            try:
                job.add(channels.experiences.get(timeout=0.1))
            except queue.Empty:
                continue
            children.drain(job.stats, timeout=0.0)
            job.progress.update()
    finally:
        children.shutdown()
        agent.cpu()
