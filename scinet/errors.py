"""The project's exception types, in one light module that imports nothing heavy.

Stage scripts and the command line turn each of these into one line on stderr and an exit code, so they
import this module without loading torch or the trainer. Every error a user can cause or meet (a bad
parameter, a damaged file, a stopped or failed run) derives from :class:`ScinetError`.
"""

from __future__ import annotations

import signal
from pathlib import Path


class ScinetError(Exception):
    """Base of every error the project raises on purpose; its message is the one line a user sees."""


class ParamsError(ScinetError, ValueError):
    """A parameter is missing, of the wrong type or out of range; the message starts with its key."""


class CheckpointError(ScinetError, ValueError):
    """A model, checkpoint or data file exists but does not hold what the caller asked for.

    The message names the file's full path and what to do about it (``dvc checkout``, ``dvc pull``, or
    delete a stale checkpoint), because a damaged file is never fixed by running the same command again.
    """


class TrainingInterrupted(ScinetError):
    """SIGINT or SIGTERM stopped the run after its checkpoint was written; rerunning resumes it."""

    def __init__(self, signum: int, checkpoint: Path | None) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}; checkpoint: {checkpoint}")
        self.signum = signum


class RoleFailed(ScinetError, RuntimeError):
    """A child process died, hung or crashed, or training diverged; the message names the role."""
