"""Worker role: one process stepping its own batch of environments (see :mod:`scinet.trainer.rollout`).

Per step it sends its cells to its predictor and waits for the h-values; finished episodes go to the
trainers as one array chunk and to the statistics as their lengths. Traffic is per batch, never per env.
"""

from __future__ import annotations

import time

import numpy as np

from scinet.envs import SubGridConfig
from scinet.trainer.config import PolicyConfig
from scinet.trainer.processes import Channels, get, put, should_stop
from scinet.trainer.rollout import Rollout, StepReport

REPORT_SECONDS = 0.5
"""How often a worker sends its counters to the statistics (episodes are batched in between)."""


class _Tally:
    """Counters between two reports: env steps, finished episodes, time-outs, time waiting and stepping."""

    def __init__(self) -> None:
        self.steps = self.timeouts = 0
        self.lengths: list[np.ndarray] = []
        self.waiting = self.stepping = 0.0

    def add(self, report: StepReport, steps: int, waiting: float, stepping: float) -> None:
        self.steps += steps
        self.timeouts += report.timeouts
        self.lengths.append(report.lengths)
        self.waiting += waiting
        self.stepping += stepping

    def message(self, index: int) -> tuple:
        lengths = np.concatenate(self.lengths) if self.lengths else np.zeros(0, np.int64)
        return ("worker", index, self.steps, lengths, self.timeouts, self.waiting, self.stepping)


def worker_main(
    channels: Channels, index: int, env: SubGridConfig, config: PolicyConfig, seed: np.random.SeedSequence
) -> None:
    rollout = Rollout(env, config.envs_per_worker, seed, config.glow, config.gamma, config.beta)
    requests = channels.requests[index % config.predictors]
    tally, last_report = _Tally(), time.perf_counter()
    while not should_stop(channels):
        started = time.perf_counter()
        if not put(requests, (index, rollout.cells), channels):
            break
        h_values = get(channels.replies[index], channels)
        if h_values is None:
            break
        acted = time.perf_counter()
        report = rollout.step(h_values)
        if len(report.experiences) and not put(channels.experiences, report.experiences, channels):
            break
        now = time.perf_counter()
        tally.add(report, config.envs_per_worker, acted - started, now - acted)
        if now - last_report >= REPORT_SECONDS:
            channels.stats.put(tally.message(index))
            tally, last_report = _Tally(), now
    channels.stats.put(tally.message(index))
