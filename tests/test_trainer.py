"""Policy mode's trainer: serial determinism, async runs, seeding, checkpoint and resume."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from scinet.envs import SubGridConfig
from scinet.errors import TrainingInterrupted
from scinet.nets import read_checkpoint
from scinet.policy.config import PolicyConfig
from scinet.policy.context import worker_seeds
from scinet.policy.rollout import Rollout
from scinet.policy.training import train_policy

SMALL_ENV = SubGridConfig(grid_size=(5, 5, 4), plane=(1, 1, 0), reward_pos=(4, 2), max_steps=40)
SMALL = PolicyConfig(
    mode="serial", device="cpu", workers=2, predictors=1, envs_per_worker=16, episodes=600, batch_size=50,
    learning_rate=1e-3, hidden=(32, 16), log_interval=100, checkpoint_interval=1000.0,
)  # fmt: skip


def test_serial_mode_is_bit_identical_for_a_seed() -> None:
    first = train_policy(SMALL_ENV, SMALL)
    second = train_policy(SMALL_ENV, SMALL)
    assert first.stats.updates > 20
    assert all(torch.equal(first.weights[k], second.weights[k]) for k in first.weights)
    untimed = lambda rows: [{k: v for k, v in row.items() if k != "wall_seconds"} for row in rows]  # noqa: E731
    assert untimed(first.stats.curve_rows()) == untimed(second.stats.curve_rows())
    other = train_policy(SMALL_ENV, dataclasses.replace(SMALL, seed=1))
    assert not torch.equal(first.weights["visible.0.weight"], other.weights["visible.0.weight"])


def test_every_worker_gets_its_own_stream_from_the_run_seed() -> None:
    def starts(seed: int, resumes: int) -> list[tuple]:
        rollouts = [Rollout(SMALL_ENV, 32, s, 0.1, 0.01, 0.5) for s in worker_seeds(seed, 4, resumes)]
        return [tuple(r.cells.ravel()) for r in rollouts]

    run = starts(seed=0, resumes=0)
    assert len(set(run)) == 4  # distinct workers
    assert run == starts(seed=0, resumes=0)  # reproducible from the run seed
    assert set(run).isdisjoint(starts(seed=1, resumes=0))  # another seed, other streams
    assert set(run).isdisjoint(starts(seed=0, resumes=1))  # a resumed run does not replay its episodes


def test_async_mode_trains_with_every_role_and_leaves_no_process() -> None:
    config = dataclasses.replace(SMALL, mode="async", episodes=1500, predictors=2)
    result = train_policy(SMALL_ENV, config)
    stats = result.stats
    assert stats.episodes >= 1500 and stats.updates > 0 and len(stats.curve) >= 5
    # A curve point spans about log_interval episodes however fast the workers are: a worker reports at
    # least every log_interval // workers episodes, plus the one batched step that crossed the bound.
    windows = np.diff([0] + [point.episodes for point in stats.curve])
    report_episodes = config.log_interval // config.workers
    assert windows.max() <= config.log_interval + report_episodes + config.envs_per_worker
    # Learning happened: late episodes are shorter than the untrained agent's first ones.
    assert stats.curve[-1].mean_steps < stats.curve[0].mean_steps
    for key in ("worker_waiting_s", "worker_stepping_s", "predictor_busy_s", "trainer_busy_s"):
        assert stats.timing[key] > 0, key
    assert multiprocessing.active_children() == []


def _interrupt_once_checkpointed(checkpoint: Path, after: dict | None = None) -> threading.Thread:
    """SIGINT to this process once a periodic checkpoint has more episodes and updates than ``after``."""
    after = after or {"episodes": 0, "updates": 0}

    def watch() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            saved = read_checkpoint(checkpoint).extra if checkpoint.is_file() else {}
            if all(saved.get(key, 0) > after[key] for key in ("episodes", "updates")):
                break
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("mode", ["serial", "async"])
def test_interrupt_checkpoints_and_resume_continues_counts_and_optimizer(tmp_path: Path, mode: str) -> None:
    checkpoint = tmp_path / "run.pt"
    config = dataclasses.replace(SMALL, mode=mode, episodes=10**7, checkpoint_interval=0.5)
    with pytest.raises(TrainingInterrupted):
        _interrupt_once_checkpointed(checkpoint)
        train_policy(SMALL_ENV, config, checkpoint)
    first = read_checkpoint(checkpoint).extra
    assert first["episodes"] > 0 and first["updates"] > 0
    assert _adam_steps(first) == first["updates"]

    with pytest.raises(TrainingInterrupted):
        _interrupt_once_checkpointed(checkpoint, after=first)
        train_policy(SMALL_ENV, config, checkpoint)
    second = read_checkpoint(checkpoint).extra
    assert second["episodes"] > first["episodes"] and second["resumes"] == 1
    assert _adam_steps(second) == second["updates"] > first["updates"]  # the optimizer state went on
    np.testing.assert_equal(
        second["curve"][: len(first["curve"])], first["curve"]
    )  # NaN losses compare equal

    done = train_policy(SMALL_ENV, dataclasses.replace(config, episodes=second["episodes"] + 200), checkpoint)
    assert done.resumed_from == second["episodes"]
    assert done.stats.episodes >= second["episodes"] + 200
    assert not checkpoint.exists()  # a finished run leaves no checkpoint to resume by mistake


def test_checkpoint_of_other_settings_is_not_resumed(tmp_path: Path) -> None:
    checkpoint = tmp_path / "run.pt"
    with pytest.raises(TrainingInterrupted):
        _interrupt_once_checkpointed(checkpoint)
        endless = dataclasses.replace(SMALL, episodes=10**7, checkpoint_interval=0.5)
        train_policy(SMALL_ENV, endless, checkpoint)
    other = dataclasses.replace(SMALL, learning_rate=5e-4)
    assert train_policy(SMALL_ENV, other, checkpoint).resumed_from == 0


def _adam_steps(extra: dict) -> int:
    steps = {int(np.asarray(s["step"])) for s in extra["optimizers"][0]["state"].values()}
    assert len(steps) == 1
    return steps.pop()
