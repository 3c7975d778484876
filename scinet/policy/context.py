"""What a policy-mode runner (serial or async) is handed: the run's pieces, prepared by ``train_policy``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scinet.envs import SubGridConfig
from scinet.nets import DPSNetwork
from scinet.policy.checkpoint import Checkpointer
from scinet.policy.config import PolicyConfig
from scinet.runtime import StopSignals
from scinet.sampling.statistics import Statistics


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
