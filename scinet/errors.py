"""The project's exception types, in one light module that imports nothing heavy.

Stage scripts and the command line turn each of these into one line on stderr and an exit code, so they
import this module without loading torch or the trainer. Every error a user can cause or meet (a bad
parameter, a damaged file, a stopped or failed run) derives from :class:`ScinetError`.
"""

from __future__ import annotations

import signal
from os import PathLike
from pathlib import Path


class ScinetError(Exception):
    """Base of every error the project raises on purpose; its message is the one line a user sees."""


class ParamsError(ScinetError, ValueError):
    """A parameter is missing, of the wrong type or out of range; the message starts with its key."""


class CheckpointError(ScinetError, ValueError):
    """A model, checkpoint or data file exists but does not hold what the caller asked for.

    The message names the file's full path and what to do about it (``dvc checkout``, ``dvc pull``, or
    delete a stale checkpoint), because a damaged file is never fixed by running the same command again.
    Build it with :meth:`at`, which adds both.
    """

    @classmethod
    def at(cls, path: str | PathLike[str], problem: str, fix: str | None = None) -> CheckpointError:
        """``"<path>: <problem>; <fix>"`` on one line; ``fix`` defaults to :func:`remedy` of the path.

        ``problem`` may quote a library's multi-line message, or bytes of a garbage file; its whitespace is
        collapsed and other unprintable characters escaped, so that the error stays the one readable line
        that a stage or the command line prints.
        """
        text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in " ".join(problem.split()))
        return cls(f"{path}: {text}; {fix or remedy(path)}")


DELETE_CHECKPOINT = "delete it to start the run over"
"""The fix for a damaged training checkpoint: it only saves time, so losing it costs nothing but that."""


def remedy(path: str | PathLike[str]) -> str:
    """What a user should do about a damaged or wrong file, judged by where it lives.

    Training checkpoints (a ``checkpoints`` folder) are disposable. Models and data (``models/``,
    ``data/``) are cached DVC outputs: ``dvc checkout`` restores them from the local cache, ``dvc pull``
    from the remote. Metrics (``metrics/``) are not cached, but DVC sees that they no longer match
    dvc.lock and ``dvc repro`` rewrites them. Anything else is a file the user chose.
    """
    parts = Path(path).parts
    if "checkpoints" in parts:
        return DELETE_CHECKPOINT
    if "models" in parts or "data" in parts:
        return f"restore it with `dvc checkout {path}` (or `dvc pull {path}` if the cache lacks it)"
    if "metrics" in parts:
        return "run `dvc repro` to rewrite it"
    return "check that it is the file you meant, or replace it with an intact copy"


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
