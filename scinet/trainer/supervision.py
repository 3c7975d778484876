"""Watching over spawned roles: start them, apply their reports, fail loudly when one dies, stop them all.

Shared by every multi-process run (policy training and selection-data generation), so that each has the
same guarantees: a dead child is named within one poll, and shutdown is bounded in time.
"""

from __future__ import annotations

import logging
import queue
import time
from typing import Any

from scinet.errors import RoleFailed
from scinet.trainer.processes import CONTEXT, Channels, run_role
from scinet.trainer.statistics import Statistics

LOG = logging.getLogger(__name__)
JOIN_TIMEOUT = 5.0
SNAPSHOT_TIMEOUT = 120.0
"""How long live trainers may take to answer a checkpoint's snapshot request before the run counts them hung.

A dead trainer is caught within one poll regardless; this bound is only for a live one that never answers.
It must cover a trainer that is still starting: on a loaded 2-core machine a spawned child took more than
10 s to import torch and reach its loop, and a 10 s bound failed healthy runs at their first checkpoint.
"""


class Children:
    """The spawned processes by role name, with liveness checks and a bounded shutdown."""

    def __init__(self, channels: Channels) -> None:
        self.channels = channels
        self.processes: dict[str, Any] = {}
        self.crashes: dict[str, str] = {}  # role name -> traceback it reported before dying

    def start(self, name: str, body: Any, *args: Any) -> None:
        process = CONTEXT.Process(
            target=run_role, args=(name, body, self.channels, *args), name=name, daemon=True
        )
        process.start()
        LOG.info("started %s (pid %d)", name, process.pid)
        self.processes[name] = process

    def fail_if_dead(self) -> None:
        """Raises :class:`RoleFailed` naming the first child that exited, with its last traceback line."""
        for name, process in self.processes.items():
            if process.exitcode is not None:
                detail = self.crashes.get(name, "").strip().splitlines()
                reason = f": {detail[-1]}" if detail else ""
                raise RoleFailed(f"{name} died (exit code {process.exitcode}){reason}")

    def drain(self, stats: Statistics, timeout: float) -> None:
        """Applies every pending report to ``stats``; waits up to ``timeout`` for the first one."""
        reports = self.channels.stats
        try:
            message = reports.get(timeout=timeout) if timeout else reports.get_nowait()
            while True:
                self._apply(message, stats)
                message = reports.get_nowait()
        except queue.Empty:
            return

    def _apply(self, message: tuple, stats: Statistics) -> None:
        kind, index, *payload = message
        if kind == "worker":
            steps, lengths, timeouts, waiting, stepping = payload
            stats.record_episodes(steps, lengths, timeouts)
            stats.record_time("worker", waiting=waiting, stepping=stepping)
        elif kind == "trainer":
            updates, losses, busy, idle = payload
            stats.record_updates(index, updates, losses)
            stats.record_time("trainer", busy=busy, idle=idle)
        elif kind == "predictor":
            _, busy, idle = payload
            stats.record_time("predictor", busy=busy, idle=idle)
        elif kind == "crash":
            self.crashes[index] = payload[0]

    def shutdown(self) -> None:
        self.channels.stop.set()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for process in self.processes.values():
            process.join(max(deadline - time.monotonic(), 0.0))
        for process in self.processes.values():
            if process.is_alive():  # children ignore SIGTERM by design: this is the last resort
                process.kill()
                process.join()
