"""A sampler: players driven by one network's h-values, in this process (serial) or in processes (async).

Any *player* (see :class:`~scinet.sampling.worker.Player`) can be driven: policy mode's training rollout,
whose experiences its learners consume, or the selection-data player, whose samples the coordinator
collects itself (a sampler with no learner). The serial form plays every player in turn on the CPU and is
deterministic for the seeds; the async form starts predictor and worker processes under the run's
:class:`~scinet.sampling.supervision.Children` and its experiences arrive on ``channels.experiences``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from scinet.nets import DPSNetwork
from scinet.sampling.divergence import require_finite_h_values
from scinet.sampling.predictor import predict_h_values, predictor_main
from scinet.sampling.processes import Channels
from scinet.sampling.statistics import Statistics
from scinet.sampling.supervision import Children
from scinet.sampling.worker import Player, Report, worker_main

BACKLOG_PER_WORKER = 4
"""Experience chunks that may wait per worker for their consumer before the workers block."""

PlayerFactory = Callable[[np.random.SeedSequence], Player]
"""Builds one worker's player from its seed; picklable (a ``partial``), as async workers build their own."""


@dataclass
class Sampler:
    """``net`` playing one player per seed of ``seeds`` (one per worker) in worlds of ``grid_size``."""

    net: DPSNetwork
    grid_size: tuple[int, ...]
    make_player: PlayerFactory
    seeds: list[np.random.SeedSequence]

    def serial(self, stats: Statistics) -> SerialSampler:
        """Every player in this process; ``stats`` dates a divergence ("episode N")."""
        return SerialSampler(self, stats)

    def channels(self, predictors: int, learners: int) -> Channels:
        """The queues of an async run with this sampler's workers, ``predictors`` and ``learners``."""
        workers = len(self.seeds)
        return Channels.create(workers, predictors, learners, BACKLOG_PER_WORKER * workers)

    def share(self, device: torch.device) -> None:
        """Puts the network where the predictors (and learners) read it: shared memory, or the GPU."""
        self.net.to(device)
        if device.type == "cpu":
            self.net.share_memory()

    def start_predictors(self, children: Children, predictors: int, device: torch.device) -> None:
        for i in range(predictors):
            children.start(f"predictor {i}", predictor_main, i, self.net, self.grid_size, str(device))

    def start_workers(self, children: Children, predictors: int, report_episodes: int) -> None:
        """One worker per seed, worker ``i`` asking predictor ``i % predictors``."""
        for i, seed in enumerate(self.seeds):
            args = (i, i % predictors, self.make_player, seed, report_episodes)
            children.start(f"worker {i}", worker_main, *args)


class SerialSampler:
    """The players of a :class:`Sampler` in this process, stepped in turn on the CPU."""

    def __init__(self, sampler: Sampler, stats: Statistics) -> None:
        self.sampler, self.stats = sampler, stats
        self.players = [sampler.make_player(seed) for seed in sampler.seeds]
        self.device = torch.device("cpu")

    def steps(self) -> Iterator[tuple[int, Report]]:
        """One batched step of every player in turn: (env steps taken, what the step produced)."""
        for player in self.players:
            cells = player.cells
            h_values = predict_h_values(self.sampler.net, cells, self.sampler.grid_size, self.device)
            require_finite_h_values(h_values, "predictor", f"episode {self.stats.episodes}")
            yield len(cells), player.step(h_values)
