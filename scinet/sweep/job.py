"""What one sweep job does on its node: clone, reproduce, push. submitit pickles :func:`run_job` and its spec.

The job talks to git and DVC through their command lines only, in a clone of its own at the sweep's
commit, so that a job on a cluster node sees exactly what the sweep's commit holds and nothing of the
user's working tree.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from scinet.sweep import SweepError
from scinet.sweep.plan import Job
from scinet.sweep.source import Source

RAN = re.compile(r"^Running stage '([^']+)':")
RESTORED = re.compile(r"^Stage '([^']+)' is cached - skipping run")


@dataclass(frozen=True)
class JobSpec:
    """Everything a job needs, pickled to its node: where code and data are, where to work, what to run."""

    source: Source
    workdir: Path
    job: Job


@dataclass(frozen=True)
class JobOutcome:
    """Which stage items the job computed and which it restored from the run-cache instead."""

    ran: tuple[str, ...]
    restored: tuple[str, ...]

    def describe(self) -> str:
        """One line for the sweep's summary."""
        kinds = (("ran", self.ran), ("restored", self.restored))
        parts = [f"{word} {' '.join(items)}" for word, items in kinds if items]
        return "; ".join(parts) or "up to date"


def run_job(spec: JobSpec) -> JobOutcome:
    """Clones the commit, reproduces the job's items with ``--pull``, and pushes what it computed.

    ``--pull`` fetches the inputs (the agents of the DVC remote) and the run-cache: an item that any
    earlier job already computed is restored, not run again, which is what makes re-submitting a sweep
    cheap. Only the items this job ran are committed and pushed.
    """
    if spec.workdir.exists():  # a requeued job starts over in a fresh clone
        shutil.rmtree(spec.workdir)
    spec.workdir.parent.mkdir(parents=True, exist_ok=True)
    source = spec.source
    _call(
        ["git", "clone", "--quiet", "--no-checkout", source.git_url, str(spec.workdir)], spec.workdir.parent
    )
    _call(["git", "checkout", "--quiet", "--detach", source.commit], spec.workdir)
    remote = [source.remote, source.remote_url]  # the URL as the sweep resolved it; options from .dvc/config
    _call([*_DVC, "remote", "add", "--local", "--force", "--default", *remote], spec.workdir)
    job = spec.job
    if job.overrides:
        settings = [arg for override in job.overrides for arg in ("-S", override)]
        reproduce = [*_DVC, "exp", "run", "--pull", *settings, *job.targets]
    else:
        reproduce = [*_DVC, "repro", "--pull", *job.targets]
    lines = _call(reproduce, spec.workdir)
    ran = tuple(m.group(1) for line in lines if (m := RAN.match(line)))
    restored = tuple(m.group(1) for line in lines if (m := RESTORED.match(line)))
    if ran:
        declare_every_output_cached(spec.workdir / "dvc.yaml")
        _call([*_DVC, "commit", "--force", *ran], spec.workdir)
        _call([*_DVC, "push", "--run-cache", *ran], spec.workdir)
    return JobOutcome(ran, restored)


def declare_every_output_cached(dvc_yaml: Path) -> None:
    """Rewrites this clone's dvc.yaml so that every output is cached; the clone is thrown away after.

    DVC records no run of a stage with a ``cache: false`` output in the run-cache, and ``dvc push`` sends
    only cached outputs (this pipeline keeps its JSON records and curves in git). Declared cached after the
    run, the stage's files go into the cache on ``dvc commit`` and to the remote on ``dvc push``, and its
    run is recorded. A run-cache entry names outputs by path, not by cache flag, so the user's clone,
    under the committed dvc.yaml, restores these runs, its git-tracked files included.
    """
    pipeline = yaml.safe_load(dvc_yaml.read_text())
    for stage in pipeline["stages"].values():
        body = stage.get("do", stage)
        for section in ("outs", "metrics", "plots"):
            if section in body:
                body[section] = [_cached(out) for out in body[section]]
    dvc_yaml.write_text(yaml.safe_dump(pipeline, sort_keys=False))


def _cached(out: str | dict[str, dict[str, object] | None]) -> str | dict[str, dict[str, object]]:
    """An output entry of dvc.yaml (a path, or a path with its flags) with ``cache: true``."""
    if isinstance(out, str):
        return out  # cached by default
    return {path: {**(flags or {}), "cache": True} for path, flags in out.items()}


_DVC = [sys.executable, "-m", "dvc"]
"""DVC of the interpreter that runs the job: the one the sweep was started with, on every node."""


def _call(cmd: list[str], cwd: Path) -> list[str]:
    """Runs ``cmd``, copying its output into the job's log as it comes; returns the lines.

    The stages' ``python`` is the job's interpreter (its folder first on PATH), as when the user runs
    ``dvc repro`` in the project's activated virtualenv.
    """
    shown = " ".join(["dvc", *cmd[len(_DVC) :]] if cmd[: len(_DVC)] == _DVC else cmd)
    print(f"$ {shown}", flush=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    lines = []
    with subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip("\n"))
    if process.returncode != 0:
        raise SweepError(f"`{shown}` exited with {process.returncode} in {cwd}")
    return lines
