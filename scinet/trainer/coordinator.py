"""Async mode: the coordinator spawns the roles, listens to their statistics and watches over them.

Predictors, trainers and workers are spawned processes sharing one network (shared memory on CPU, CUDA
tensors on a GPU). The coordinator checkpoints through the trainers' snapshots, and stops everything once
the episode budget is spent, on SIGINT/SIGTERM, or as soon as any child dies, naming it.
"""

from __future__ import annotations

import queue
import time
from functools import partial
from typing import Any

from torch import Tensor

from scinet.errors import RoleFailed, TrainingInterrupted
from scinet.trainer.predictor import predictor_main
from scinet.trainer.processes import Channels
from scinet.trainer.rollout import Rollout
from scinet.trainer.run import RunContext, resolve_device
from scinet.trainer.statistics import ProgressBar, Statistics
from scinet.trainer.supervision import SNAPSHOT_TIMEOUT, Children
from scinet.trainer.trainer import trainer_main
from scinet.trainer.worker import worker_main

BACKLOG_PER_WORKER = 4
"""Experience chunks that may wait for the trainers per worker before the workers block."""


def run_async(run: RunContext) -> dict[str, Tensor]:
    env, config, net, stats = run.env, run.config, run.net, run.stats
    device = resolve_device(config.device)
    net.to(device)
    if device.type == "cpu":
        net.share_memory()
    channels = Channels.create(
        config.workers, config.predictors, config.trainers, BACKLOG_PER_WORKER * config.workers
    )
    children = Children(channels)
    progress = ProgressBar(stats, config.episodes, run.show_progress)
    try:
        for i in range(config.predictors):
            children.start(f"predictor {i}", predictor_main, i, net, env.grid_size, str(device))
        learning_rate = config.learning_rate_at(stats.episodes)
        for i in range(config.trainers):
            state = run.optimizers[i] if i < len(run.optimizers) else None
            args = (i, net, env.grid_size, config, str(device), state, learning_rate)
            children.start(f"trainer {i}", trainer_main, *args)
        make_rollout = partial(Rollout.for_config, env, config)
        report_episodes = stats.report_episodes(config.workers)
        for i in range(config.workers):
            args = (i, i % config.predictors, make_rollout, run.seeds[i], report_episodes)
            children.start(f"worker {i}", worker_main, *args)

        while stats.episodes < config.episodes and run.stop.received is None:
            children.drain(stats, timeout=0.1)
            children.fail_if_dead()
            progress.update()
            scheduled = config.learning_rate_at(stats.episodes)
            if scheduled != learning_rate:
                learning_rate = scheduled
                for commands in channels.commands:
                    commands.put(("lr", learning_rate))
            if run.checkpointer.due():
                run.checkpointer.save(*_snapshot(channels, children, stats), stats)
        weights, optimizer_states = _snapshot(channels, children, stats)
        if run.stop.received is not None:
            run.checkpointer.save(weights, optimizer_states, stats)
            raise TrainingInterrupted(run.stop.received, run.checkpointer.path)
        return weights
    finally:
        progress.close()
        children.shutdown()
        children.drain(stats, timeout=0.0)


def _snapshot(
    channels: Channels, children: Children, stats: Statistics
) -> tuple[dict[str, Tensor], list[dict[str, Any]]]:
    """Asks every trainer for its state; trainer 0 also sends the weights."""
    for commands in channels.commands:
        commands.put(("snapshot",))
    answers: dict[int, tuple] = {}
    deadline = time.monotonic() + SNAPSHOT_TIMEOUT
    while len(answers) < len(channels.commands):
        if time.monotonic() > deadline:
            raise RoleFailed(f"trainers did not answer a snapshot request within {SNAPSHOT_TIMEOUT:.0f} s")
        children.fail_if_dead()
        try:
            index, updates, weights, optimizer = channels.snapshots.get(timeout=0.1)
        except queue.Empty:
            children.drain(stats, timeout=0.0)
            continue
        answers[index] = (weights, optimizer)
        stats.record_updates(index, updates, [])
    return answers[0][0], [answers[i][1] for i in sorted(answers)]
