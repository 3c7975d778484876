"""Sweeps on a distributed engine: ``python -m scinet sweep`` (see :mod:`scinet.sweep.command`).

A sweep submits jobs through submitit, here or on SLURM; each job reproduces stage items of the pipeline in
its own clone with the ``dvc`` command line and pushes what it made to the shared DVC remote. This package
calls ``git`` and ``dvc`` as programs; no stage imports it, so the stages' dependencies do not include it.
"""

from scinet.errors import ScinetError


class SweepError(ScinetError):
    """A sweep cannot start (a dirty tree, an unpushed commit, a remote jobs cannot share); one line."""
