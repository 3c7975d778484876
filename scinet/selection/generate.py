"""Selection data from a trained agent, played on the policy trainer's worker and predictor roles.

No training happens here: the predictors serve the frozen agent's h-values, the workers play
:class:`~scinet.selection.sampling.SelectionPlayer` batches and send finished episodes' samples as array
chunks, and the coordinator collects chunks until it has enough. Serial mode plays the same players in one
process and is deterministic for a seed; async mode is as fast as the cores allow but its sample order
depends on process timing.
"""

from __future__ import annotations

import math
import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch

from scinet.envs import SubGridConfig
from scinet.nets import DPSNetwork
from scinet.selection.config import SelectionDataConfig
from scinet.selection.data import SelectionData
from scinet.selection.sampling import SelectionPlayer
from scinet.trainer.predictor import predict_h_values, predictor_main
from scinet.trainer.processes import Channels
from scinet.trainer.run import StopSignals, resolve_device
from scinet.trainer.statistics import Statistics
from scinet.trainer.supervision import Children
from scinet.trainer.worker import worker_main

BACKLOG_PER_WORKER = 4
CURVE_POINTS = 100
"""Points of the run's (unsaved) curve of path lengths: each closes a window for the bar's mean_steps."""


class SampleBar:
    """A tqdm bar over the samples collected so far, with the agent's recent mean path length.

    It counts samples, the run's goal, not episodes: an episode yields one or two samples, so no episode
    count predicts the end. The mean path is that of the last window of finished episodes (about 1 % of
    the run), a quick check that the agent still plays as well as it was trained to.
    """

    def __init__(self, stats: Statistics, total: int, enabled: bool) -> None:
        from tqdm import tqdm

        self.stats = stats
        self.bar = tqdm(total=total, unit="sample", disable=not enabled, smoothing=0.1, mininterval=1.0)

    def update(self, collected: int) -> None:
        self.bar.update(min(collected, self.bar.total) - self.bar.n)
        mean_steps = self.stats.recent_mean_steps()
        shown = {"episodes": f"{self.stats.episodes:,}"}
        if not math.isnan(mean_steps):  # nan until the first window closes
            shown["mean_steps"] = f"{mean_steps:.1f}"
        self.bar.set_postfix(shown, refresh=False)

    def close(self) -> None:
        self.bar.close()


@dataclass
class _Job:
    """One generation run's pieces, shared by the serial and the async loop."""

    agent: DPSNetwork
    env: SubGridConfig
    config: SelectionDataConfig
    make_player: Callable[[np.random.SeedSequence], SelectionPlayer]
    seeds: list[np.random.SeedSequence]
    stats: Statistics
    progress: SampleBar
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
    stats = Statistics(log_interval=max(config.samples // CURVE_POINTS, 1))
    progress = SampleBar(stats, config.samples, show_progress)
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
        job.progress.update(job.collected)


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
            job.progress.update(job.collected)
    finally:
        children.shutdown()
        agent.cpu()
