"""Watching over spawned roles: start them, apply their reports, fail loudly when one dies or hangs, stop all.

Shared by every multi-process run (policy training, selection-data generation, async selection training),
so that each has the same guarantees: a dead child is named within one poll, a hung one (stopped,
deadlocked: its heartbeat, see :func:`~scinet.sampling.processes.should_stop`, stands still) within
``HANG_SECONDS``, and shutdown is bounded in time.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from typing import Any

from scinet.errors import RoleFailed
from scinet.sampling.messages import LearnerReport, PredictorReport, WorkerReport
from scinet.sampling.processes import CONTEXT, Channels, run_role, signals_blocked
from scinet.sampling.statistics import Statistics

LOG = logging.getLogger(__name__)
JOIN_TIMEOUT = 5.0
HANG_SECONDS = 30.0
"""A child whose heartbeat stands still this long is hung. A healthy one beats every few milliseconds
(every queue wait polls), so the bound only has to cover a loaded machine's scheduling hiccups."""
START_SECONDS = 120.0
"""Before its first heartbeat a child may take this long: on a loaded 2-core machine a spawned child took
more than 10 s to import torch and reach its loop, and a GPU role also creates its CUDA context first."""
STALL_SECONDS = 5.0
"""If the coordinator itself did not look for this long (the whole run was stopped with Ctrl-Z, the
machine was suspended), the children's silence is counted only from when it looks again."""


class Children:
    """The spawned processes by role name, with liveness and heartbeat checks and a bounded shutdown.

    With ``stop`` (anything with a ``received`` attribute), :meth:`start` starts nothing more once a stop
    has come, so a run stopped while its children start up does not go on spawning for seconds.
    """

    def __init__(self, channels: Channels, stop: Any = None) -> None:
        self.channels, self.stop = channels, stop
        self.processes: dict[str, Any] = {}
        self.slots: dict[str, int] = {}
        self.started: dict[str, float] = {}
        self.crashes: dict[str, str] = {}  # role name -> traceback it reported before dying
        self.hung: set[str] = set()  # children found hung: they cannot stop on request
        self.hang_seconds = HANG_SECONDS
        self._looked = self._awake_since = time.monotonic()

    def start(self, name: str, body: Any, *args: Any) -> None:
        if self.stop is not None and self.stop.received is not None:
            return
        slot = len(self.processes)
        process = CONTEXT.Process(
            target=run_role, args=(name, slot, body, self.channels, *args), name=name, daemon=True
        )
        with signals_blocked():
            process.start()
        LOG.info("started %s (pid %d)", name, process.pid)
        self.processes[name], self.slots[name], self.started[name] = process, slot, time.monotonic()

    def beating(self, name: str) -> bool:
        """Whether the child has reached its role's loop (it has stamped a heartbeat)."""
        return name in self.slots and self.channels.heartbeats[self.slots[name]] > 0.0

    def fail_if_dead(self) -> None:
        """Raises :class:`RoleFailed` naming the first child that failed, exited or hung.

        A :class:`RoleFailed` that a child reported (a divergence) is raised at once, as it is; any other
        death is named with the last line of the traceback the child reported, if any.
        """
        try:
            while True:
                crash = self.channels.crashes.get_nowait()
                if crash.failure is not None:
                    raise crash.failure
                self.crashes[crash.name] = crash.trace
        except queue.Empty:
            pass
        now = time.monotonic()
        if now - self._looked > STALL_SECONDS:
            self._awake_since = now
        self._looked = now
        for name, process in self.processes.items():
            if process.exitcode is not None:
                detail = self.crashes.get(name, "").strip().splitlines()
                reason = f": {detail[-1]}" if detail else ""
                raise RoleFailed(f"{name} died (exit code {process.exitcode}){reason}")
            beat = self.channels.heartbeats[self.slots[name]]
            silent = now - max(beat or self.started[name], self._awake_since)
            if silent > (self.hang_seconds if beat else max(self.hang_seconds, START_SECONDS)):
                what = "no heartbeat" if beat else "not started"
                self.hung.add(name)
                raise RoleFailed(f"{name} hung: {what} for {silent:.0f} s (pid {process.pid})")

    def drain(
        self, stats: Statistics | None, timeout: float, other: Callable[[Any], None] | None = None
    ) -> None:
        """Applies every pending report to ``stats``; waits up to ``timeout`` for the first one.

        Messages that are no sampling report (a learner's snapshot, a mode's own reports) go to ``other``.
        """
        reports = self.channels.stats
        try:
            message = reports.get(timeout=timeout) if timeout else reports.get_nowait()
            while True:
                if stats is not None and isinstance(message, WorkerReport | PredictorReport | LearnerReport):
                    _apply(message, stats)
                elif other is not None:
                    other(message)
                message = reports.get_nowait()
        except queue.Empty:
            return

    def shutdown(self) -> None:
        self.channels.stop.set()
        for name in self.hung:
            self.processes[name].kill()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for process in self.processes.values():
            process.join(max(deadline - time.monotonic(), 0.0))
        for process in self.processes.values():
            if process.is_alive():  # children ignore SIGTERM by design: this is the last resort
                process.kill()
                process.join()


def _apply(report: WorkerReport | PredictorReport | LearnerReport, stats: Statistics) -> None:
    if isinstance(report, WorkerReport):
        stats.record_episodes(report.env_steps, report.lengths, report.timeouts)
        stats.record_time("worker", waiting=report.waiting, stepping=report.stepping)
    elif isinstance(report, LearnerReport):
        stats.record_updates(report.index, report.updates, report.losses)
        stats.record_time("trainer", busy=report.busy, idle=report.idle)
    else:
        stats.record_time("predictor", busy=report.busy, idle=report.idle)
