"""Watching the process that started this one, so that a run never trains on unsupervised.

When ``dvc repro`` dies (SIGTERM or SIGKILL to its PID), nothing tells the stage it started: the stage
is silently re-parented and would train on for hours as an orphan whose outputs nobody records. The
kernel does change the orphan's parent PID, so a run notes its parent at start and checks it while it
runs. DVC starts a stage through ``$SHELL -c "<cmd>"``; bash and dash replace themselves by a single
command, but a shell that stays in between would hide the launcher's death, so a shell parent is looked
through and its own parent is watched too (from ``/proc``; elsewhere only the direct parent is watched).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SHELLS = frozenset({"sh", "ash", "dash", "bash", "zsh", "ksh", "mksh", "fish", "busybox"})
"""Process names of shells that may sit between a launcher and the stage it runs."""

MAX_SHELLS = 3
"""At most this many shells are looked through (``sh -c "bash -c '...'"``)."""


def _proc_parent(pid: int) -> int | None:
    """The parent PID of ``pid`` from /proc, or None if the process is gone or /proc is unavailable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])  # the name in (...) may hold spaces


def _proc_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


@dataclass(frozen=True)
class Launcher:
    """Parent links noted at start: (pid, its parent's pid), from this process up through shells."""

    links: tuple[tuple[int, int], ...]

    @staticmethod
    def of_this_process() -> Launcher:
        links = [(os.getpid(), os.getppid())]
        for _ in range(MAX_SHELLS):
            shell = links[-1][1]
            parent = _proc_parent(shell) if _proc_name(shell) in SHELLS else None
            if parent is None or parent <= 1:
                break
            links.append((shell, parent))
        return Launcher(tuple(links))

    def gone(self) -> int | None:
        """The PID of a watched parent that has exited (its child was re-parented), else None."""
        for pid, parent in self.links:
            now = os.getppid() if pid == os.getpid() else _proc_parent(pid)
            if now is not None and now != parent:
                return parent
        return None
