"""Faults in long runs: interrupts lose nothing, nothing runs on unsupervised, divergence is loud.

Stage-level tests run ``python -m stages.train_policy`` (or ``dvc repro``) in a temporary folder at tiny
settings; library-level tests call the trainers in this process. Every bound is generous, for a loaded
machine; every test checks that no process it caused is left behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest
import yaml
from stage_process import read_until, start_stage

from scinet.envs import SubGridConfig
from scinet.errors import Diverged, RoleFailed
from scinet.nets import read_checkpoint
from scinet.policy.config import PolicyConfig
from scinet.policy.training import train_policy
from scinet.sampling import supervision
from scinet.selection.config import SelectionTrainConfig
from scinet.selection.data import SelectionData
from scinet.selection.training import train_selection

ROOT = Path(__file__).resolve().parents[1]
TINY_ENV = {
    "grid_size": [5, 5, 4],
    "max_steps": 40,
    "objectives": {"env1": {"plane": [1, 1, 0], "reward_pos": [4, 2]}},
}
TINY_POLICY = {
    "mode": "async", "device": "cpu", "workers": 2, "predictors": 1, "trainers": 1, "envs_per_worker": 16,
    "episodes": 10**7, "batch_size": 50, "learning_rate": 1e-3, "hidden": [32, 16], "seed": 0,
    "checkpoint_interval": 0.5, "log_interval": 200, "eval_episodes": 200,
}  # fmt: skip
CHECKPOINT = "checkpoints/policy/env1.pt"
SMALL_ENV = SubGridConfig(grid_size=(5, 5, 4), plane=(1, 1, 0), reward_pos=(4, 2), max_steps=40)
SMALL = PolicyConfig(
    mode="serial", device="cpu", workers=2, envs_per_worker=16, episodes=600, batch_size=50,
    learning_rate=1e-3, hidden=(32, 16), log_interval=100, checkpoint_interval=1000.0,
)  # fmt: skip


# --- helpers -------------------------------------------------------------------------------------------


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts, each in its own session; whatever is left of them is killed at the end."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _project(folder: Path, **policy: object) -> Path:
    shutil.copytree(ROOT / "stages", folder / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    _write_params(folder, **policy)
    return folder


def _write_params(folder: Path, **policy: object) -> None:
    """The project's params.yaml (every key must be set) with a tiny world and policy."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["env"] = TINY_ENV
    params["policy"].update({**TINY_POLICY, **policy})
    (folder / "params.yaml").write_text(yaml.safe_dump(params))


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_gone(pids: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, (
            f"still running after {timeout} s: {[p for p in pids if _alive(p)]}"
        )
        time.sleep(0.1)


def _wait_for_progress(checkpoint: Path, timeout: float = 120) -> dict:
    """The checkpoint's counters once a periodic checkpoint shows training progress."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError):
            saved = read_checkpoint(checkpoint).extra
            if saved["updates"] > 0:
                return saved
        time.sleep(0.2)
    raise AssertionError(f"no checkpoint with progress in {checkpoint} after {timeout} s")


@contextlib.contextmanager
def _interrupted_after(seconds: float) -> Iterator[None]:
    """SIGINT to this process after ``seconds`` unless the block is over: a run that never ends fails."""
    done = threading.Event()

    def watch() -> None:
        if not done.wait(seconds):
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


# --- 6. interrupts lose nothing --------------------------------------------------------------------------


@pytest.mark.parametrize(("sig", "whole_group"), [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_a_stop_while_children_start_is_one_line_and_a_checkpoint(
    tmp_path: Path, processes: list, sig: int, whole_group: bool
) -> None:
    project = _project(tmp_path)
    stage = start_stage(project, processes)
    _, log = read_until(stage, r"started predictor 0 \(pid \d+\)")
    os.killpg(stage.pid, sig) if whole_group else stage.send_signal(sig)
    sent = time.monotonic()
    _, rest = stage.communicate(timeout=60)
    assert time.monotonic() - sent < 20
    log += rest
    assert stage.returncode == 128 + sig, log
    assert "Traceback" not in log and "died" not in log, log
    name = signal.Signals(sig).name
    assert log.strip().splitlines()[-1] == (
        f"train_policy: stopped by {name}; checkpoint: {CHECKPOINT}; run the stage again to resume"
    )
    assert read_checkpoint(project / CHECKPOINT).extra["episodes"] >= 0
    children = [int(pid) for pid in re.findall(r"started \w+ \d+ \(pid (\d+)\)", log)]
    _wait_gone(children, timeout=10)


def test_a_stop_during_the_evaluation_keeps_the_training(tmp_path: Path, processes: list) -> None:
    project = _project(tmp_path, mode="serial", episodes=100, eval_episodes=400_000)
    stage = start_stage(project, processes)
    model = project / "models/policy/env1.pt"  # written just before the evaluation starts
    deadline = time.monotonic() + 120
    while not model.is_file():
        assert stage.poll() is None and time.monotonic() < deadline, "the stage ended before its evaluation"
        time.sleep(0.05)
    stage.send_signal(signal.SIGINT)
    _, log = stage.communicate(timeout=20)
    assert stage.returncode == 128 + signal.SIGINT, log
    assert "Traceback" not in log, log
    assert log.strip().splitlines()[-1].startswith("train_policy: stopped by SIGINT; checkpoint: ")
    trained = read_checkpoint(project / CHECKPOINT).extra
    assert trained["episodes"] >= 100

    _write_params(project, mode="serial", episodes=100, eval_episodes=200)
    rerun = subprocess.run(
        [sys.executable, "-m", "stages.train_policy", "env1"], cwd=project, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert f"resuming from {CHECKPOINT} at episode {trained['episodes']}" in rerun.stderr
    metrics = json.loads((project / "metrics/policy/env1.json").read_text())
    assert (metrics["episodes"], metrics["updates"]) == (
        trained["episodes"],
        trained["updates"],
    )  # no retraining
    assert not (project / CHECKPOINT).exists()


def test_a_finished_selection_run_can_keep_its_checkpoint_until_its_outputs_are_written(
    tmp_path: Path,
) -> None:
    checkpoint = tmp_path / "selection.pt"
    config = SelectionTrainConfig(schedule="fused", device="cpu", steps=20, log_interval=10, batch_size=20)
    data = [_selection_data(seed) for seed in range(2)]
    first = train_selection(data, (4, 4, 4), config, checkpoint, keep_checkpoint=True)
    assert read_checkpoint(checkpoint).extra["decoders"][0]["step"] == 20
    again = train_selection(data, (4, 4, 4), config, checkpoint, keep_checkpoint=True)
    assert again.steps == first.steps == [20, 20] and again.curve == first.curve
    assert all(np.array_equal(again.weights[k], first.weights[k]) for k in first.weights)
    train_selection(data, (4, 4, 4), config, checkpoint)
    assert not checkpoint.exists()


def _selection_data(seed: int, targets: float | None = None) -> SelectionData:
    rng = np.random.default_rng(seed)
    n = 100
    values = rng.random(n).astype(np.float32) if targets is None else np.full(n, targets, np.float32)
    return SelectionData(
        rng.integers(0, 4, (n, 3)).astype(np.int8), rng.integers(0, 6, n).astype(np.int8), values
    )


# --- 7. nothing runs on unsupervised ---------------------------------------------------------------------


def test_a_killed_dvc_stops_its_stage_and_children_with_a_checkpoint(tmp_path: Path, processes: list) -> None:
    repo = _dvc_repo(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with (tmp_path / "dvc.log").open("w") as log:
        dvc = subprocess.Popen(
            [sys.executable, "-m", "dvc", "repro", "train_policy@env1"], cwd=repo, env=env, stdout=log,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
    processes.append(dvc)
    deadline = time.monotonic() + 120
    while "started worker 1" not in (tmp_path / "dvc.log").read_text():
        assert dvc.poll() is None and time.monotonic() < deadline, (tmp_path / "dvc.log").read_text()
        time.sleep(0.1)
    stage_and_children = [p.pid for p in psutil.Process(dvc.pid).children(recursive=True)]
    assert len(stage_and_children) >= 5  # the stage, 1 predictor, 1 trainer, 2 workers
    dvc.send_signal(signal.SIGTERM)
    dvc.wait(timeout=20)
    _wait_gone(stage_and_children, timeout=30)
    assert read_checkpoint(repo / CHECKPOINT).extra["episodes"] >= 0
    log = (tmp_path / "dvc.log").read_text()
    assert re.search(r"train_policy: stopped because its launcher \(pid \d+\) exited; checkpoint: ", log)


def _dvc_repo(folder: Path) -> Path:
    repo = folder / "repo"
    repo.mkdir()
    for name in ("dvc.yaml", ".dvcignore"):
        shutil.copy(ROOT / name, repo / name)
    for name in ("stages", "scinet"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    _write_params(repo)
    for cmd in (["git", "init", "-q"], [sys.executable, "-m", "dvc", "init", "-q"]):
        subprocess.run(cmd, cwd=repo, check=True, capture_output=True)
    return repo


def test_a_stopped_child_fails_the_run_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(supervision, "HANG_SECONDS", 3.0)
    caplog.set_level(logging.INFO, logger=supervision.__name__)
    checkpoint = tmp_path / "run.pt"
    config = dataclasses.replace(SMALL, mode="async", workers=1, episodes=10**7, checkpoint_interval=0.5)

    def stop_the_worker() -> None:
        _wait_for_progress(checkpoint)
        pid = next(int(p) for p in re.findall(r"started worker 0 \(pid (\d+)\)", caplog.text))
        os.kill(pid, signal.SIGSTOP)

    threading.Thread(target=stop_the_worker, daemon=True).start()
    with _interrupted_after(90), pytest.raises(RoleFailed, match=r"worker 0 hung: no heartbeat for \d+ s"):
        train_policy(SMALL_ENV, config, checkpoint)
    assert multiprocessing.active_children() == []


# --- 8. divergence is loud -------------------------------------------------------------------------------


def test_a_diverging_serial_run_stops_at_once_naming_the_role_and_step(tmp_path: Path) -> None:
    checkpoint = tmp_path / "run.pt"
    config = dataclasses.replace(SMALL, episodes=10**6, learning_rate=1e30, checkpoint_interval=0.01)
    with _interrupted_after(60), pytest.raises(Diverged, match=r"^(trainer|predictor) diverged at \w+ \d+: "):
        train_policy(SMALL_ENV, config, checkpoint)
    if checkpoint.exists():  # only checkpoints made before the divergence, of finite weights
        assert all(
            bool(np.isfinite(w.numpy()).all()) for w in read_checkpoint(checkpoint).state_dict.values()
        )


def test_a_diverging_async_run_fails_naming_the_role() -> None:
    config = dataclasses.replace(SMALL, mode="async", workers=1, episodes=10**7, learning_rate=1e30)
    pattern = r"^(trainer 0 diverged at its update|predictor 0 diverged at its batch) \d+: "
    with _interrupted_after(90), pytest.raises(Diverged, match=pattern):
        train_policy(SMALL_ENV, config)
    assert multiprocessing.active_children() == []


def test_a_diverging_selection_run_stops_naming_the_decoder() -> None:
    config = SelectionTrainConfig(schedule="fused", device="cpu", steps=200, log_interval=100, batch_size=20)
    data = [_selection_data(0), _selection_data(1, targets=float("nan"))]
    with pytest.raises(Diverged, match=r"^decoder 1 diverged at step 1: loss is nan"):
        train_selection(data, (4, 4, 4), config)
