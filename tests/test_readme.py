"""The README's two set-up commands are the ones users copy; CI must run command (2) exactly."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n# \(\d\)[^\n]*\n([^\n]+)\n```", (ROOT / "README.md").read_text())
    return blocks


def test_readme_has_exactly_two_setup_commands() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert all("pip install -q torch==2.13.0" in c for c in commands), "torch must be pinned to the CPU build"
    assert commands[0].endswith("dvc repro")


def test_ci_runs_readme_command_2_verbatim() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _readme_commands()[1] == ci_lines[-1]
