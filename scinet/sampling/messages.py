"""What the roles tell each other: one typed message per kind, so no side unpacks a tuple by position."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from scinet.errors import RoleFailed


class CellsRequest(NamedTuple):
    """A worker's current cells, sent to its predictor; the h-values come back on the worker's reply queue."""

    worker: int
    cells: np.ndarray


class WorkerReport(NamedTuple):
    """A worker's counters since its previous report."""

    index: int
    env_steps: int
    lengths: np.ndarray  # of the episodes that finished
    timeouts: int  # how many of them hit max_steps
    waiting: float  # seconds spent waiting for h-values
    stepping: float  # seconds spent stepping the worlds


class PredictorReport(NamedTuple):
    """A predictor's forward passes and its busy and idle seconds since its previous report."""

    index: int
    batches: int
    busy: float
    idle: float


class LearnerReport(NamedTuple):
    """A learner's update count so far, the losses of its new updates, its busy and idle seconds."""

    index: int
    updates: int
    losses: list[float]
    busy: float
    idle: float


class Crash(NamedTuple):
    """A child about to die: its role name, its traceback, and the :class:`RoleFailed` to raise as it is."""

    name: str
    trace: str
    failure: RoleFailed | None
