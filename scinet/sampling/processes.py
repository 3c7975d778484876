"""Process plumbing shared by the roles: spawn context, channels, signals, heartbeats, a parent watchdog.

Children ignore SIGINT and SIGTERM: the coordinator alone decides when to stop, takes a checkpoint and then
sets the stop event, so a Ctrl-C that reaches the whole process group cannot kill a trainer mid-snapshot.
They are born with both signals blocked (see :func:`signals_blocked`), because a spawned child spends
seconds importing torch before it can ignore anything, and a Ctrl-C in that window used to kill it with a
traceback. Every blocking call in a child uses a short timeout and re-checks :func:`should_stop`, which is
also true when the parent has died, so no child outlives its coordinator; the same call stamps the child's
heartbeat, so a child that stops calling it (stopped, deadlocked) is seen as hung.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from typing import Any

import torch.multiprocessing as tmp

from scinet.errors import RoleFailed
from scinet.sampling.messages import Crash

POLL_SECONDS = 0.05
"""How long a child blocks on a queue before it re-checks whether it should stop."""

CONTEXT = tmp.get_context("spawn")
"""Spawned children start clean (no forked torch or CUDA state) on every platform."""

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Channels:
    """Every queue of one run; the coordinator creates them and hands them to each child at spawn."""

    requests: list[Any]  # per predictor: CellsRequest from the workers
    replies: list[Any]  # per worker: h-values from its predictor
    experiences: Any  # bounded: workers block here when the learners fall behind
    commands: list[Any]  # per learner: the coordinator's commands (snapshot requests, ...)
    stats: Any  # every role's reports to the coordinator
    crashes: Any  # Crash from a child that is about to die
    stop: Event
    heartbeats: Any  # per child slot: time.monotonic() of its last should_stop call, 0.0 before the first
    slot: int = -1  # this process's heartbeat slot; set in each child, -1 in the coordinator

    @staticmethod
    def create(workers: int, predictors: int, learners: int, backlog: int) -> Channels:
        return Channels(
            requests=[CONTEXT.Queue() for _ in range(predictors)],
            replies=[CONTEXT.Queue() for _ in range(workers)],
            experiences=CONTEXT.Queue(maxsize=backlog),
            commands=[CONTEXT.Queue() for _ in range(learners)],
            stats=CONTEXT.Queue(),
            crashes=CONTEXT.Queue(),
            stop=CONTEXT.Event(),
            # Lock-free: each slot has one writer, and an aligned double is written in one store.
            heartbeats=CONTEXT.RawArray("d", workers + predictors + learners),
        )


def should_stop(channels: Channels) -> bool:
    """True once the coordinator asked to stop, or died without asking; stamps this child's heartbeat.

    CLOCK_MONOTONIC is one clock for all processes of the machine, so the coordinator can compare stamps.
    """
    if channels.slot >= 0:
        channels.heartbeats[channels.slot] = time.monotonic()
    parent = mp.parent_process()
    return channels.stop.is_set() or (parent is not None and not parent.is_alive())


@contextmanager
def signals_blocked() -> Iterator[None]:
    """Blocks SIGINT/SIGTERM in this thread while a child is spawned: the child inherits the mask.

    A signal that arrives meanwhile stays pending here and is handled right after (nothing is lost), and
    in the child it waits until :func:`run_role` ignores it, which discards it.
    """
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX: nothing to inherit
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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


def run_role(name: str, slot: int, body: Callable[..., None], channels: Channels, *args: Any) -> None:
    """Entry point of every child: ignore stop signals, run the role, report a crash before dying.

    A :class:`RoleFailed` (e.g. a divergence) travels to the coordinator as it is, to be raised there with
    its own message; any other error travels as its traceback.
    """
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    channels.slot = slot
    import torch

    torch.set_num_threads(1)
    try:
        body(channels, *args)
    except BaseException as err:
        failure = err if isinstance(err, RoleFailed) else None
        channels.crashes.put(Crash(name, traceback.format_exc(), failure))
        time.sleep(0.2)  # let the queue's feeder thread hand the report over before the queue is abandoned
        if failure is None:
            raise
        raise SystemExit(1) from None  # the coordinator says it in one line; no traceback here
    finally:
        # Let the process exit even if a queue it fed is never read again (the run is over).
        for q in (
            *channels.requests,
            *channels.replies,
            channels.experiences,
            channels.stats,
            channels.crashes,
        ):
            q.cancel_join_thread()
