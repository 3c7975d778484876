"""Submits a sweep's jobs through submitit and follows them: job ids, a live count, what failed and where.

The same job code runs on both engines: submitit's local executor starts each job as a process on this
machine (the driver keeps N running), its SLURM executor submits them all as one job array (SLURM keeps N
running). The driver only counts states; results travel through the DVC remote, not through it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psutil
import submitit

from scinet.runtime import StopSignals
from scinet.sweep import SweepError
from scinet.sweep.job import JobOutcome, JobSpec, run_job
from scinet.sweep.plan import Job
from scinet.sweep.source import Source

POLL_SECONDS = {"local": 1.0, "slurm": 15.0}
"""How often states are read; on SLURM each read may ask sacct, which clusters ask users not to flood."""

STOP_SECONDS = 30.0
"""How long a stopped sweep lets its local jobs' stages checkpoint and exit before it kills what is left."""

QUEUED = ("PENDING", "REQUEUED", "CONFIGURING", "UNKNOWN")
"""States (SLURM's, as submitit reports them) in which a job waits for a node; UNKNOWN: not yet in sacct."""


@dataclass(frozen=True)
class Resources:
    """What each job asks the engine for. The local executor uses only the time limit and the GPUs."""

    time_min: int
    cpus: int | None = None
    gpus: int | None = None
    mem_gb: float | None = None
    partition: str | None = None
    slurm_args: tuple[tuple[str, str], ...] = ()
    """Passed through unchanged as ``#SBATCH --KEY=VALUE`` (account, qos, constraint, ...)."""
    setup: tuple[str, ...] = ()
    """Shell lines the SLURM script runs before the job, e.g. ``module load python``."""


def make_executor(
    kind: str, folder: Path, resources: Resources, parallel: int | None
) -> submitit.AutoExecutor:
    """submitit's executor for ``kind`` (``local`` or ``slurm``), keeping each job's logs in ``folder``."""
    executor = submitit.AutoExecutor(folder=folder, cluster=kind)
    executor.update_parameters(
        name="scinet-sweep",
        timeout_min=resources.time_min,
        cpus_per_task=resources.cpus,
        gpus_per_node=resources.gpus,
        mem_gb=resources.mem_gb,
        slurm_partition=resources.partition,
        slurm_additional_parameters=dict(resources.slurm_args) or None,
        slurm_setup=list(resources.setup) or None,
        slurm_array_parallelism=parallel,
    )
    return executor


def run_sweep(
    repo: Path,
    jobs: Sequence[Job],
    source: Source,
    kind: str,
    resources: Resources,
    parallel: int,
    wait: bool,
) -> int:
    """Submits ``jobs`` and, if ``wait``, follows them to the end; returns 0 when every job succeeded."""
    sweep = _new_folder(repo / ".sweeps")
    executor = make_executor(kind, sweep / "logs", resources, parallel)
    specs = [JobSpec(source, sweep / f"job{k}", job) for k, job in enumerate(jobs)]
    print(f"sweep {_shown(sweep, repo)}: {len(specs)} jobs at commit {source.commit[:12]}, {kind} executor")
    print(f"DVC remote {source.remote}: {source.remote_url}")
    waiting = list(specs)
    submitted: list[tuple[JobSpec, submitit.Job[JobOutcome]]] = []
    if kind == "slurm":  # one array; SLURM runs `parallel` of it at a time
        with executor.batch():
            delayed = [executor.submit(run_job, spec) for spec in waiting]
        submitted = list(zip(waiting, delayed, strict=True))
        waiting = []
        for spec, job in submitted:
            _announce(repo, spec, job)
    if not wait:
        print("not waiting: follow them with squeue, and see the logs above")
        return 0
    with StopSignals().installed() as signals:  # a second Ctrl-C does not cut the stop short
        stopped = _follow(repo, executor, waiting, submitted, len(specs), parallel, kind, signals)
        if stopped is not None:
            return _stop(repo, kind, submitted, stopped)
    return _summary(repo, submitted)


def _follow(
    repo: Path,
    executor: submitit.AutoExecutor,
    waiting: list[JobSpec],
    submitted: list[tuple[JobSpec, submitit.Job[JobOutcome]]],
    total: int,
    parallel: int,
    kind: str,
    signals: StopSignals,
) -> int | None:
    """Submits what waits as slots free up and prints the count when it changes, until every job ended
    (returns None) or a stop signal came (returns its number)."""
    start, last = time.monotonic(), None
    while signals.received is None:
        while waiting and sum(1 for _, job in submitted if not job.done()) < parallel:
            spec = waiting.pop(0)
            job = executor.submit(run_job, spec)
            submitted.append((spec, job))
            _announce(repo, spec, job)
        counts = Counter(_state(job) for _, job in submitted)
        counts["queued"] += len(waiting)
        line = "  ".join(f"{state} {counts[state]}" for state in ("queued", "running", "done", "failed"))
        if line != last:
            minutes, seconds = divmod(int(time.monotonic() - start), 60)
            print(f"[{minutes}:{seconds:02d}] {line}", flush=True)
            last = line
        if not waiting and counts["done"] + counts["failed"] == total:
            return None
        time.sleep(POLL_SECONDS[kind])
    return signals.received


def _stop(
    repo: Path, kind: str, submitted: Sequence[tuple[JobSpec, submitit.Job[JobOutcome]]], signum: int
) -> int:
    """Ends a sweep stopped by ``signum``: local jobs are stopped as Ctrl-C stops a stage (their training
    checkpoints), SLURM jobs are left to SLURM. What finished is in the run-cache, so a re-submitted sweep
    computes only the rest."""
    ended = [(spec, job) for spec, job in submitted if job.done()]
    running = [(spec, job) for spec, job in submitted if not job.done()]
    if kind == "local":
        _stop_processes([int(job.job_id) for _, job in running])
        print(f"stopped by signal {signum}: {len(running)} running jobs stopped")
        for spec, job in running:
            print(f"stopped job {job.job_id}: {spec.job.label}  log {_shown(job.paths.stdout, repo)}")
    else:
        ids = sorted({job.job_id.split("_")[0] for _, job in running})
        print(f"stopped by signal {signum}; the SLURM jobs go on (cancel them: scancel {' '.join(ids)})")
    _summary(repo, ended)
    return 128 + signum


def _stop_processes(pids: Sequence[int]) -> None:
    """SIGINT to every process a local job started, as Ctrl-C would send it, and SIGKILL to what is left
    after :data:`STOP_SECONDS`. A job's id is the pid of submitit's controller, which ends on its own once
    the job's process has."""
    controllers: list[psutil.Process] = []
    started: list[psutil.Process] = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            controller = psutil.Process(pid)
            controllers.append(controller)
            started += controller.children(recursive=True)
    for process in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGINT)
    processes = controllers + started
    _, alive = psutil.wait_procs(processes, timeout=STOP_SECONDS)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(alive, timeout=5)


def _new_folder(parent: Path) -> Path:
    """``.sweeps/<date>-<time>``, with a suffix if two sweeps start in the same second."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder, n = parent / stamp, 1
    while folder.exists():
        n += 1
        folder = parent / f"{stamp}-{n}"
    folder.mkdir(parents=True)
    return folder


def _announce(repo: Path, spec: JobSpec, job: submitit.Job[JobOutcome]) -> None:
    print(f"job {job.job_id}: {spec.job.label}  log {_shown(job.paths.stdout, repo)}", flush=True)


def _state(job: submitit.Job[JobOutcome]) -> str:
    if job.done():
        return "failed" if job.exception() is not None else "done"
    return "queued" if job.state in QUEUED else "running"


def _summary(repo: Path, submitted: Sequence[tuple[JobSpec, submitit.Job[JobOutcome]]]) -> int:
    """One line per job; a failed one names its stage items, its log and the error's last line."""
    failed = 0
    for spec, job in submitted:
        error = job.exception()
        if error is None:
            print(f"done   job {job.job_id}: {spec.job.label}: {job.result().describe()}")
            continue
        failed += 1
        print(f"FAILED job {job.job_id}: {spec.job.label}: {_reason(error)}")
        print(f"       log {_shown(job.paths.stdout, repo)} (and {job.paths.stderr.name} beside it)")
    if failed < len(submitted):
        print("bring the results here: dvc pull --run-cache --allow-missing && dvc repro --pull")
        for overrides in sorted({spec.job.overrides for spec, _ in submitted if spec.job.overrides}):
            print("  and each grid point: dvc exp run --pull " + " ".join(f"-S {o}" for o in overrides))
    return 1 if failed else 0


def _reason(error: Exception) -> str:
    """Why a job failed, in one line.

    The line its code raised, which submitit wraps in the job's traceback; or, for a job that ended without
    a result (killed, out of time), submitit's first line about it.
    """
    raised = re.findall(r"^([\w.]+(?:Error|Exception)): (.+)$", str(error), re.MULTILINE)
    if not raised:
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    name, message = raised[-1]
    return message if name.endswith(SweepError.__name__) else f"{name.rsplit('.', 1)[-1]}: {message}"


def _shown(path: Path, repo: Path) -> str:
    """``path`` as the user, in the repository, would type it."""
    return os.path.relpath(path, repo)
