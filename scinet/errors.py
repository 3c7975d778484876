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
    """SIGINT or SIGTERM stopped the run after its checkpoint was written; rerunning resumes it.

    ``reason`` replaces "by SIGINT" when no signal came, e.g. when the process that started the run exited;
    ``signum`` then only sets the exit code (128 + signum), as a shell reports a signal's death.
    """

    def __init__(self, signum: int, checkpoint: Path | None, reason: str | None = None) -> None:
        why = reason or f"by {signal.Signals(signum).name}"
        super().__init__(f"stopped {why}; checkpoint: {checkpoint}")
        self.signum = signum


class RoleFailed(ScinetError, RuntimeError):
    """A child process died, hung or crashed, or training diverged; the message names the role."""


class Diverged(RoleFailed):
    """A loss, h-value or weight became NaN or infinite; the message names the role and its step.

    Raised at once, before anything is written: weights that are not finite only ever get worse, and a
    model or checkpoint made of them would silently poison every later stage.
    """
