"""Stage train_policy as a user runs it: outputs, Ctrl-C / SIGTERM with resume, a dying worker, bad params."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from stage_process import read_until, start_stage

from scinet.nets import load_dps_agent, read_checkpoint

ROOT = Path(__file__).resolve().parents[1]
TINY_POLICY = {
    "mode": "async", "device": "cpu", "workers": 2, "predictors": 1, "trainers": 1, "envs_per_worker": 16,
    "episodes": 2000, "batch_size": 50, "learning_rate": 1e-3, "hidden": [32, 16], "seed": 0,
    "checkpoint_interval": 0.5, "log_interval": 200, "eval_episodes": 200, "lr_schedule": "constant",
    "learning_rate_end": 1e-4, "weight_decay": 1e-5, "glow": 0.1, "gamma": 0.01, "beta": 0.5,
    "unrewarded_steps": "drop",
}  # fmt: skip
STARTED: list[subprocess.Popen[str]] = []
TINY_ENV = {
    "grid_size": [5, 5, 4],
    "max_steps": 40,
    "objectives": {"env1": {"plane": [1, 1, 0], "reward_pos": [4, 2]}},
}


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    shutil.copytree(ROOT / "stages", tmp_path / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    _write_params(tmp_path)
    yield tmp_path
    for process in STARTED:  # a failed assertion must not leave a training run behind
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    STARTED.clear()


def _write_params(project: Path, **policy: object) -> None:
    params = {"env": TINY_ENV, "policy": {**TINY_POLICY, **policy}}
    (project / "params.yaml").write_text(yaml.safe_dump(params))


def _run_stage(project: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "stages.train_policy", "env1"]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=300, check=False)


def _child_pids(log: str) -> dict[str, int]:
    return {name: int(pid) for name, pid in re.findall(r"started (\w+ \d+) \(pid (\d+)\)", log)}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def test_stage_writes_model_curve_and_metrics(project: Path) -> None:
    result = _run_stage(project)
    assert result.returncode == 0, result.stderr
    agent = load_dps_agent(project / "models/policy/env1.pt", input_dim=14)
    assert [layer[0].out_features for layer in (agent.visible, *agent.dense)] == [32, 16]
    metrics = json.loads((project / "metrics/policy/env1.json").read_text())
    assert metrics["episodes"] >= 2000 and metrics["eval_episodes"] == 200
    assert set(metrics["softmax"]) == {"mean", "median", "timeouts", "ratio_to_optimal"}
    assert metrics["env_steps_per_second"] > 0 and metrics["wall_seconds"] > 0
    curve = (project / "metrics/policy/env1_curve.tsv").read_text().splitlines()
    assert curve[0].split("\t")[:3] == ["episodes", "mean_steps", "timeouts"] and len(curve) > 3
    assert not (project / "checkpoints/policy/env1.pt").exists()
    # Log lines (children starting, the evaluation) come while the bar runs: each must stand on its own line.
    logged = [part for part in re.split(r"[\r\n]", result.stderr) if "train_policy: " in part]
    assert logged and all(part.startswith("train_policy: ") for part in logged), result.stderr


@pytest.mark.parametrize(("sig", "whole_group"), [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_signal_stops_every_process_and_the_rerun_resumes(project: Path, sig: int, whole_group: bool) -> None:
    _write_params(project, episodes=10**7)
    process = start_stage(project, STARTED)
    _, log = read_until(process, r"started worker 1")
    children = _child_pids(log)
    assert len(children) == 4  # 1 predictor, 1 trainer, 2 workers
    checkpoint = project / "checkpoints/policy/env1.pt"
    deadline = time.monotonic() + 120
    while not (checkpoint.is_file() and read_checkpoint(checkpoint).extra["updates"] > 0):
        assert time.monotonic() < deadline, "no checkpoint with progress"
        time.sleep(0.2)
    sent = time.monotonic()
    if whole_group:  # Ctrl-C in a terminal reaches the whole process group
        os.killpg(process.pid, sig)
    else:
        process.send_signal(sig)
    process.wait(timeout=10)
    stopped = time.monotonic() - sent
    assert stopped < 10 and process.returncode == 128 + sig
    assert not any(_alive(pid) for pid in children.values()), children
    saved = read_checkpoint(checkpoint).extra
    assert saved["episodes"] > 0

    _write_params(project, episodes=saved["episodes"] + 300)
    rerun = start_stage(project, STARTED)
    match, _ = read_until(rerun, r"resuming from \S+ at episode (\d+)")
    assert int(match.group(1)) == saved["episodes"]
    rerun.wait(timeout=300)
    assert rerun.returncode == 0
    metrics = json.loads((project / "metrics/policy/env1.json").read_text())
    assert metrics["episodes"] >= saved["episodes"] + 300 and metrics["updates"] > saved["updates"]


def test_a_dying_worker_fails_the_run_loudly(project: Path) -> None:
    _write_params(project, episodes=10**7)
    process = start_stage(project, STARTED)
    _, log = read_until(process, r"started worker 1")
    children = _child_pids(log)
    time.sleep(1.0)
    killed = time.monotonic()
    os.kill(children["worker 1"], signal.SIGKILL)
    _, rest = process.communicate(timeout=30)
    assert time.monotonic() - killed < 30
    assert process.returncode == 1
    assert "worker 1 died (exit code -9)" in rest
    assert not any(_alive(pid) for pid in children.values())


def test_bad_policy_param_is_one_line_and_nothing_is_written(project: Path) -> None:
    _write_params(project, workers=-1)
    result = _run_stage(project)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["params.yaml: policy.workers: must be >= 1, got -1"]
    assert sorted(p.name for p in project.iterdir()) == ["params.yaml", "stages"]
