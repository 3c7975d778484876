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

from scinet.errors import RoleFailed
from scinet.nets import DPSNetwork
from scinet.policy.context import RunContext
from scinet.policy.learner import trainer_main
from scinet.policy.rollout import Rollout
from scinet.runtime import resolve_device
from scinet.sampling.predictor import predictor_main
from scinet.sampling.processes import Channels
from scinet.sampling.snapshots import to_cpu
from scinet.sampling.statistics import ProgressBar, Statistics
from scinet.sampling.supervision import SNAPSHOT_TIMEOUT, Children
from scinet.sampling.worker import worker_main

BACKLOG_PER_WORKER = 4
"""Experience chunks that may wait for the trainers per worker before the workers block."""


def run_async(run: RunContext) -> tuple[dict[str, Tensor], list[dict[str, Any]]]:
    """Trains until the episode budget is spent; returns the weights and every trainer's optimiser state.

    A stop (signal, or the launcher's death) is honoured at any moment, during the children's start-up
    too: the checkpoint then holds what the trainers that run have learned, and, for those still
    starting, the state they were given.
    """
    env, config, net, stats = run.env, run.config, run.net, run.stats
    device = resolve_device(config.device)
    net.to(device)
    if device.type == "cpu":
        net.share_memory()
    channels = Channels.create(
        config.workers, config.predictors, config.trainers, BACKLOG_PER_WORKER * config.workers
    )
    children = Children(channels, run.stop)
    progress = ProgressBar(stats, config.episodes, run.show_progress)
    given = [run.optimizers[i] if i < len(run.optimizers) else None for i in range(config.trainers)]
    try:
        for i in range(config.predictors):
            children.start(f"predictor {i}", predictor_main, i, net, env.grid_size, str(device))
        learning_rate = config.learning_rate_at(stats.episodes)
        for i in range(config.trainers):
            args = (i, net, env.grid_size, config, str(device), given[i], learning_rate)
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
                run.checkpointer.save(*_snapshot(net, given, channels, children, stats), stats)
        weights, optimizer_states = _snapshot(net, given, channels, children, stats)
        if run.stop.received is not None:
            run.checkpointer.save(weights, optimizer_states, stats)
            raise run.stop.interruption(run.checkpointer.path)
        return weights, optimizer_states
    finally:
        progress.close()
        children.shutdown()
        children.drain(stats, timeout=0.0)


def _snapshot(
    net: DPSNetwork,
    given: list[dict[str, Any] | None],
    channels: Channels,
    children: Children,
    stats: Statistics,
) -> tuple[dict[str, Tensor], list[dict[str, Any] | None]]:
    """Asks every trainer for its state; trainer 0 also sends the weights.

    Only trainers that have reached their loop are waited for: one still starting has changed nothing
    yet, so its optimiser state is the one it was ``given`` and the weights are the shared ``net``'s
    (one that reaches its loop at this very moment may have taken an update more than that state says).
    """
    request = time.monotonic_ns()  # tells this request's answers from late answers to an earlier one
    for commands in channels.commands:
        commands.put(("snapshot", request))
    names = [f"trainer {i}" for i in range(len(channels.commands))]
    waited = {i for i, name in enumerate(names) if children.beating(name)}
    answers: dict[int, tuple] = {}
    deadline = time.monotonic() + SNAPSHOT_TIMEOUT
    while not waited <= answers.keys():
        if time.monotonic() > deadline:
            raise RoleFailed(f"trainers did not answer a snapshot request within {SNAPSHOT_TIMEOUT:.0f} s")
        children.fail_if_dead()
        try:
            answered, index, updates, weights, optimizer = channels.snapshots.get(timeout=0.1)
        except queue.Empty:
            children.drain(stats, timeout=0.0)
            continue
        if answered != request:
            continue
        answers[index] = (weights, optimizer)
        stats.record_updates(index, updates, [])
    weights = answers[0][0] if 0 in answers else to_cpu(net.state_dict())
    return weights, [answers[i][1] if i in answers else given[i] for i in range(len(names))]
