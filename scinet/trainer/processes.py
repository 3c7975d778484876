"""Process plumbing shared by the roles: spawn context, channels, signals and a watchdog on the parent.

Children ignore SIGINT and SIGTERM: the coordinator alone decides when to stop, takes a checkpoint and then
sets the stop event, so a Ctrl-C that reaches the whole process group cannot kill a trainer mid-snapshot.
Every blocking call in a child uses a short timeout and re-checks :func:`should_stop`, which is also true
when the parent has died, so no child outlives its coordinator.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from typing import Any

import torch.multiprocessing as tmp

POLL_SECONDS = 0.05
"""How long a child blocks on a queue before it re-checks whether it should stop."""

CONTEXT = tmp.get_context("spawn")
"""Spawned children start clean (no forked torch or CUDA state) on every platform."""


@dataclass
class Channels:
    """Every queue of one run; the coordinator creates them and hands them to each child at spawn."""

    requests: list[Any]  # per predictor: (worker index, cells) from the workers
    replies: list[Any]  # per worker: h-values from its predictor
    experiences: Any  # bounded: workers block here when the trainers fall behind
    commands: list[Any]  # per trainer: snapshot requests from the coordinator
    snapshots: Any  # trainers' answers to snapshot requests
    stats: Any  # every role's reports to the coordinator
    stop: Event

    @staticmethod
    def create(workers: int, predictors: int, trainers: int, backlog: int) -> Channels:
        return Channels(
            requests=[CONTEXT.Queue() for _ in range(predictors)],
            replies=[CONTEXT.Queue() for _ in range(workers)],
            experiences=CONTEXT.Queue(maxsize=backlog),
            commands=[CONTEXT.Queue() for _ in range(trainers)],
            snapshots=CONTEXT.Queue(),
            stats=CONTEXT.Queue(),
            stop=CONTEXT.Event(),
        )


def should_stop(channels: Channels) -> bool:
    """True once the coordinator asked to stop, or died without asking."""
    parent = mp.parent_process()
    return channels.stop.is_set() or (parent is not None and not parent.is_alive())


def get(q: Any, channels: Channels) -> Any | None:
    """Blocks on ``q`` until an item arrives (returned) or the run stops (None)."""
    while not should_stop(channels):
        try:
            return q.get(timeout=POLL_SECONDS)
        except queue.Empty:
            continue
    return None


def put(q: Any, item: Any, channels: Channels) -> bool:
    """Blocks until ``q`` takes the item (True) or the run stops (False): back-pressure, never a drop."""
    while not should_stop(channels):
        try:
            q.put(item, timeout=POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


def run_role(name: str, body: Callable[..., None], channels: Channels, *args: Any) -> None:
    """Entry point of every child: ignore stop signals, run the role, report a crash before dying."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    import torch

    torch.set_num_threads(1)
    try:
        body(channels, *args)
    except BaseException:
        channels.stats.put(("crash", name, traceback.format_exc()))
        time.sleep(0.2)  # let the queue's feeder thread hand the report over before the queue is abandoned
        raise
    finally:
        # Let the process exit even if a queue it fed is never read again (the run is over).
        for q in (
            *channels.requests,
            *channels.replies,
            channels.experiences,
            channels.snapshots,
            channels.stats,
        ):
            q.cancel_join_thread()
