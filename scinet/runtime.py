"""The light base of every run: stop signals and device resolution, beside :mod:`scinet.errors`' exceptions.

Every mode (policy training, selection data, selection training) stops the same way: SIGINT, SIGTERM or the
death of the launching process is recorded, the run checkpoints and stops its children, and then raises
:class:`~scinet.errors.TrainingInterrupted`. Importing this module loads neither torch nor any mode.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scinet.errors import TrainingInterrupted
from scinet.launcher import Launcher

if TYPE_CHECKING:
    import torch

LAUNCHER_POLL_SECONDS = 0.5
"""How often :attr:`StopSignals.received` looks whether the launching process is still there."""


class StopSignals:
    """Records SIGINT/SIGTERM instead of dying, so the run can checkpoint and stop its children first.

    The death of the process that started this one (see :mod:`scinet.launcher`) counts as a stop too,
    reported as SIGHUP, the signal a terminal sends when it goes away. It is looked at no more often than
    every ``LAUNCHER_POLL_SECONDS``, so polling :attr:`received` in a tight loop stays cheap.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.reason: str | None = None
        self.launcher = Launcher.of_this_process()
        self._looked = time.monotonic()

    @property
    def received(self) -> int | None:
        """The stop's signal number, or None while the run should go on."""
        if self.signum is None and time.monotonic() - self._looked >= LAUNCHER_POLL_SECONDS:
            self._looked = time.monotonic()
            gone = self.launcher.gone()
            if gone is not None:
                self.signum, self.reason = signal.SIGHUP, f"because its launcher (pid {gone}) exited"
        return self.signum

    def interruption(self, checkpoint: Path | None) -> TrainingInterrupted:
        """The exception that ends a stopped run; raise it once ``checkpoint`` is written."""
        assert self.signum is not None
        return TrainingInterrupted(self.signum, checkpoint, self.reason)

    def _handle(self, signum: int, _frame: Any) -> None:
        self.signum = signum

    @contextmanager
    def installed(self) -> Iterator[StopSignals]:
        previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def resolve_device(device: str) -> torch.device:
    """``auto`` picks CUDA when a GPU is there; ``cuda`` without a GPU was already refused by the params."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def run_device(mode: str, device: str) -> torch.device:
    """The device on which a run of ``mode`` computes: a serial run keeps every role in this process, on
    the CPU; an async run's predictors and learners use ``device``, resolved."""
    import torch

    return torch.device("cpu") if mode == "serial" else resolve_device(device)
