"""Worker role: one process stepping its own batch of environments (see :mod:`scinet.policy.rollout`).

Per step it sends its cells to its predictor and waits for the h-values; finished episodes go to the
experience queue as one array chunk and to the statistics as their lengths. Traffic is per batch, never
per env. What the worker plays is a *player* built in the child from a picklable factory: a training
:class:`~scinet.policy.rollout.Rollout` in policy mode, a selection-data player in selection mode.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sized
from typing import Protocol

import numpy as np

from scinet.sampling.messages import CellsRequest, WorkerReport
from scinet.sampling.processes import Channels, get, put, should_stop

REPORT_SECONDS = 0.5
"""The longest a worker waits between two reports of its counters to the statistics (episodes are batched)."""


class Report(Protocol):
    """What one batched step of a player produced."""

    experiences: Sized  # sent on when non-empty
    lengths: np.ndarray  # lengths of the episodes that finished in this step
    timeouts: int  # how many of them hit max_steps


class Player(Protocol):
    """A batch of environments acting on h-values from a predictor."""

    @property
    def cells(self) -> np.ndarray: ...

    def step(self, h_values: np.ndarray) -> Report: ...


class _Tally:
    """Counters between two reports: env steps, finished episodes, time-outs, time waiting and stepping."""

    def __init__(self) -> None:
        self.steps = self.timeouts = self.episodes = 0
        self.lengths: list[np.ndarray] = []
        self.waiting = self.stepping = 0.0

    def add(self, report: Report, steps: int, waiting: float, stepping: float) -> None:
        self.steps += steps
        self.timeouts += report.timeouts
        self.lengths.append(report.lengths)
        self.episodes += len(report.lengths)
        self.waiting += waiting
        self.stepping += stepping

    def message(self, index: int) -> WorkerReport:
        lengths = np.concatenate(self.lengths) if self.lengths else np.zeros(0, np.int64)
        return WorkerReport(index, self.steps, lengths, self.timeouts, self.waiting, self.stepping)


def worker_main(
    channels: Channels,
    index: int,
    predictor: int,
    make_player: Callable[[np.random.SeedSequence], Player],
    seed: np.random.SeedSequence,
    report_episodes: int,
) -> None:
    """Play until stopped, reporting every ``REPORT_SECONDS`` or every ``report_episodes`` finished episodes.

    The episode bound keeps the statistics' resolution (curve points, episode budget, learning-rate
    schedule) independent of the machine's speed: a fast worker would otherwise pack hundreds of episodes
    into one report.
    """
    player = make_player(seed)
    requests = channels.requests[predictor]
    tally, last_report = _Tally(), time.perf_counter()
    while not should_stop(channels):
        started = time.perf_counter()
        cells = player.cells
        if not put(requests, CellsRequest(index, cells), channels):
            break
        h_values = get(channels.replies[index], channels)
        if h_values is None:
            break
        acted = time.perf_counter()
        report = player.step(h_values)
        if len(report.experiences) and not put(channels.experiences, report.experiences, channels):
            break
        now = time.perf_counter()
        tally.add(report, len(cells), acted - started, now - acted)
        if now - last_report >= REPORT_SECONDS or tally.episodes >= report_episodes:
            channels.stats.put(tally.message(index))
            tally, last_report = _Tally(), now
    channels.stats.put(tally.message(index))
