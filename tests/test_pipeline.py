"""The DVC pipeline, run by the real `dvc` CLI in a temporary git repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh git + DVC repository holding this project's pipeline files."""
    for name in ("dvc.yaml", "params.yaml", ".dvcignore"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("stages", "scinet"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for cmd in (["git", "init", "-q"], [sys.executable, "-m", "dvc", "init", "-q"]):
        assert _run(cmd, tmp_path).returncode == 0
    return tmp_path


def test_repro_writes_the_optimal_paths(repo: Path) -> None:
    result = _run([sys.executable, "-m", "dvc", "repro", "optimal_paths"], repo)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((repo / "metrics" / "optimal_paths.json").read_text())
    assert metrics == {
        "env1": {"optimal_mean_path": 8.5594},
        "env2": {"optimal_mean_path": 8.5594},
        "env3": {"optimal_mean_path": 6.042},
    }
    again = _run([sys.executable, "-m", "dvc", "repro", "optimal_paths"], repo)
    assert "didn't change, skipping" in again.stdout


def test_bad_param_fails_with_one_line_and_writes_nothing(repo: Path) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["env"]["objectives"]["env2"]["plane"] = [1, 1, 1]
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    result = _run([sys.executable, "stages/optimal_paths.py"], repo)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "params.yaml: env.objectives.env2: "
        "The plane must have exactly two ones (e.g. [1, 1, 0]), got plane=[1, 1, 1]"
    ]
    assert not (repo / "metrics").exists()
