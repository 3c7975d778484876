"""A stage started as a user starts it, in its own session, and read line by line while it runs."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path


def start_stage(project: Path, started: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    """``python -m stages.train_policy env1`` in ``project``, its stderr piped; listed in ``started`` so that
    the test's clean-up can kill its process group whatever the test's outcome."""
    process = subprocess.Popen(
        [sys.executable, "-m", "stages.train_policy", "env1"], cwd=project, stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip
    started.append(process)
    return process


def read_until(process: subprocess.Popen[str], pattern: str, timeout: float = 120) -> tuple[re.Match, str]:
    """Reads the stage's stderr until a line matches; returns the match and everything read so far."""
    seen = ""
    deadline = time.monotonic() + timeout
    assert process.stderr is not None
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen += line
        if match := re.search(pattern, line):
            return match, seen
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"no line matching {pattern!r} in:\n{seen}")
