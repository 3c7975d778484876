"""Selection data from a trained agent: a sampler with the selection player and no learner.

The agent is frozen: the sampler's predictors serve its h-values, its workers play
:class:`~scinet.selection.player.SelectionPlayer` batches, and this coordinator collects the finished
episodes' samples until it has enough. The serial form plays the same players in one process and is
deterministic for a seed; the async form is as fast as the cores allow but its sample order depends on
process timing.
"""

from __future__ import annotations

import math
import queue
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from scinet.envs import SubGridConfig
from scinet.nets import DPSNetwork
from scinet.runtime import StopSignals, resolve_device
from scinet.sampling.progress import ProgressBar
from scinet.sampling.sampler import Sampler
from scinet.sampling.statistics import Statistics
from scinet.sampling.supervision import Children
from scinet.selection.config import SelectionDataConfig
from scinet.selection.data import SelectionData
from scinet.selection.player import SelectionPlayer

CURVE_POINTS = 100
"""Points of the run's (unsaved) curve of path lengths: each closes a window for the bar's mean_steps."""


@dataclass
class _Job:
    """One generation run's pieces, shared by the serial and the async loop."""

    sampler: Sampler
    config: SelectionDataConfig
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
    stats = Statistics(log_interval=max(config.samples // CURVE_POINTS, 1))
    progress = ProgressBar(config.samples, 0, "sample", show_progress)
    player = partial(SelectionPlayer.for_config, env, config, beta, glow)
    seeds = np.random.SeedSequence(config.seed).spawn(config.workers)
    try:
        with StopSignals().installed() as stop:
            job = _Job(Sampler(agent, env.grid_size, player, seeds), config, stats, progress, stop)
            (_run_serial if config.mode == "serial" else _run_async)(job)
    finally:
        progress.close()
    return SelectionData.concat(job.parts).head(config.samples)


def _run_serial(job: _Job) -> None:
    sampler = job.sampler.serial(job.stats)
    while not job.done:
        for env_steps, report in sampler.steps():
            job.add(report.experiences)
            job.stats.record_episodes(env_steps, report.lengths, report.timeouts)
        _show(job)


def _show(job: _Job) -> None:
    """Moves the bar to the samples collected, the run's goal; an episode yields one or two samples, so no
    episode count predicts the end. Beside it: the episodes, and the agent's mean path over the last window
    (about 1 % of the run, nothing before the first closes), a check that it still plays as trained."""
    figures = {"episodes": f"{job.stats.episodes:,}"}
    mean_steps = job.stats.recent_mean_steps()
    if not math.isnan(mean_steps):
        figures["mean_steps"] = f"{mean_steps:.1f}"
    job.progress.update(min(job.collected, job.config.samples), **figures)


def _run_async(job: _Job) -> None:
    config, sampler = job.config, job.sampler
    device = resolve_device(config.device)
    sampler.share(device)
    channels = sampler.channels(config.predictors, learners=0)
    children = Children(channels, job.stop)
    try:
        sampler.start_predictors(children, config.predictors, device)
        sampler.start_workers(children, config.predictors, job.stats.report_episodes(config.workers))
        while not job.done:
            children.fail_if_dead()
            try:
                job.add(channels.experiences.get(timeout=0.1))
            except queue.Empty:
                continue
            children.drain(job.stats, timeout=0.0)
            _show(job)
    finally:
        children.shutdown()
        sampler.net.cpu()
