"""Where a sweep's jobs get their code and data from, checked before anything is submitted.

A job clones the sweep's commit from the git remote and shares the DVC remote with every other job and
with the user's clone, so a sweep refuses what a job could not see or share: uncommitted changes, a commit
the git remote lacks, no DVC remote, or one inside the repository (the committed store ``dvc-store/``, for
pulling the published defaults, not for pushes from many nodes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from scinet.sweep import SweepError

CLUSTER_REMOTE = "add a shared one: dvc remote add -d cluster ssh://HOST/PATH (or s3://BUCKET/PATH)"
"""The fix for a DVC remote that jobs cannot share (README, "Running on a cluster")."""


@dataclass(frozen=True)
class Source:
    """The commit the jobs run, the git URL they clone it from, and the DVC remote they all use.

    The remote's URL travels with its name because a job's clone resolves a relative path against itself
    and does not see the user's .dvc/config.local; the remote's other options come from .dvc/config.
    """

    commit: str
    git_url: str
    remote: str
    remote_url: str


def sweep_source(repo: Path, git_remote: str, remote: str | None) -> Source:
    """Checks that jobs can reproduce ``repo``'s HEAD and share their results; returns where they are.

    ``remote`` names the DVC remote (default: the default one). A :class:`SweepError` names the fix.
    """
    dirty = _git(repo, "status", "--porcelain", "--untracked-files=no").splitlines()
    if dirty:
        files = ", ".join(line[3:] for line in dirty)
        raise SweepError(
            f"uncommitted changes ({files}): jobs run the commit, so commit (and push) them first"
        )
    commit = _git(repo, "rev-parse", "HEAD").strip()
    git_url = _git(repo, "remote", "get-url", git_remote).strip()
    if "://" not in git_url and ":" not in git_url.split("/")[0] and not os.path.isabs(git_url):
        git_url = str((repo / git_url).resolve())  # a local path, relative to the clone
    _git(repo, "fetch", "--quiet", git_remote)
    if not _git(repo, "branch", "--remotes", "--contains", commit, "--list", f"{git_remote}/*").strip():
        raise SweepError(f"{git_remote} does not have commit {commit[:12]}: git push {git_remote} HEAD first")
    # Every level of DVC's configuration, lowest first (a later line wins); local paths made absolute.
    lines = _dvc(repo, "config", "--list").splitlines()
    config = dict(line.split("=", 1) for line in lines if "=" in line)
    name = remote or config.get("core.remote", "")
    url = config.get(f"remote.{name}.url")
    if url is None:
        which = f"no DVC remote named {name!r}" if name else "no default DVC remote"
        raise SweepError(f"{which} (--remote NAME picks one): {CLUSTER_REMOTE}")
    if "://" not in url and Path(url).resolve().is_relative_to(repo.resolve()):
        raise SweepError(
            f"DVC remote {name!r} is {url}, inside the repository: that store is for pulling the published "
            f"defaults, not for pushes from many jobs; {CLUSTER_REMOTE}"
        )
    return Source(commit, git_url, name, url)


def _git(repo: Path, *args: str) -> str:
    return _output(["git", *args], repo)


def _dvc(repo: Path, *args: str) -> str:
    return _output([sys.executable, "-m", "dvc", *args], repo)


def _output(cmd: list[str], cwd: Path) -> str:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shown = " ".join(cmd[2:] if cmd[0] == sys.executable else cmd)
        last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise SweepError(f"`{shown}` failed: {last}")
    return result.stdout
