"""Async mode: the coordinator spawns the roles, listens to their statistics and watches over them.

Predictors, trainers and workers are spawned processes sharing one network (shared memory on CPU, CUDA
tensors on a GPU). The coordinator checkpoints through the trainers' snapshots, and stops everything once
the episode budget is spent, on SIGINT/SIGTERM, or as soon as any child dies, naming it.
"""

from __future__ import annotations

import logging
import queue
import time
from typing import Any

from torch import Tensor

from scinet.trainer.predictor import predictor_main
from scinet.trainer.processes import CONTEXT, Channels, run_role
from scinet.trainer.run import RoleFailed, RunContext, TrainingInterrupted, resolve_device
from scinet.trainer.statistics import ProgressBar, Statistics
from scinet.trainer.trainer import trainer_main
from scinet.trainer.worker import worker_main

LOG = logging.getLogger(__name__)
SNAPSHOT_TIMEOUT = 10.0
JOIN_TIMEOUT = 5.0
BACKLOG_PER_WORKER = 4
"""Experience chunks that may wait for the trainers per worker before the workers block."""


class _Children:
    """The spawned processes by role name, with liveness checks and a bounded shutdown."""

    def __init__(self) -> None:
        self.processes: dict[str, Any] = {}

    def start(self, name: str, channels: Channels, body: Any, *args: Any) -> None:
        process = CONTEXT.Process(target=run_role, args=(name, body, channels, *args), name=name, daemon=True)
        process.start()
        LOG.info("started %s (pid %d)", name, process.pid)
        self.processes[name] = process

    def first_dead(self) -> tuple[str, int] | None:
        for name, process in self.processes.items():
            if process.exitcode is not None:
                return name, process.exitcode
        return None

    def shutdown(self, channels: Channels) -> None:
        channels.stop.set()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for process in self.processes.values():
            process.join(max(deadline - time.monotonic(), 0.0))
        for process in self.processes.values():
            if process.is_alive():  # children ignore SIGTERM by design: this is the last resort
                process.kill()
                process.join()


def run_async(run: RunContext) -> dict[str, Tensor]:
    env, config, net, stats = run.env, run.config, run.net, run.stats
    device = resolve_device(config.device)
    net.to(device)
    if device.type == "cpu":
        net.share_memory()
    channels = Channels.create(
        config.workers, config.predictors, config.trainers, BACKLOG_PER_WORKER * config.workers
    )
    children = _Children()
    crashes: dict[str, str] = {}
    progress = ProgressBar(stats, config.episodes, run.show_progress)
    try:
        for i in range(config.predictors):
            children.start(f"predictor {i}", channels, predictor_main, i, net, env.grid_size, str(device))
        for i in range(config.trainers):
            state = run.optimizers[i] if i < len(run.optimizers) else None
            learning_rate = config.learning_rate_at(stats.episodes)
            args = (i, net, env.grid_size, config, str(device), state, learning_rate)
            children.start(f"trainer {i}", channels, trainer_main, *args)
        for i in range(config.workers):
            children.start(f"worker {i}", channels, worker_main, i, env, config, run.seeds[i])

        learning_rate = config.learning_rate_at(stats.episodes)
        while stats.episodes < config.episodes and run.stop.received is None:
            _drain(channels, stats, crashes, timeout=0.1)
            _fail_if_dead(children, crashes)
            progress.update()
            if config.learning_rate_at(stats.episodes) != learning_rate:
                learning_rate = config.learning_rate_at(stats.episodes)
                for commands in channels.commands:
                    commands.put(("lr", learning_rate))
            if run.checkpointer.due():
                run.checkpointer.save(*_snapshot(channels, children, stats, crashes), stats)
        weights, optimizer_states = _snapshot(channels, children, stats, crashes)
        if run.stop.received is not None:
            run.checkpointer.save(weights, optimizer_states, stats)
            raise TrainingInterrupted(run.stop.received, run.checkpointer.path)
        return weights
    finally:
        progress.close()
        children.shutdown(channels)
        _drain(channels, stats, crashes, timeout=0.0)


def _drain(channels: Channels, stats: Statistics, crashes: dict[str, str], timeout: float) -> None:
    """Applies every pending report; waits up to ``timeout`` for the first one."""
    try:
        message = channels.stats.get(timeout=timeout) if timeout else channels.stats.get_nowait()
        while True:
            _apply(message, stats, crashes)
            message = channels.stats.get_nowait()
    except queue.Empty:
        return


def _apply(message: tuple, stats: Statistics, crashes: dict[str, str]) -> None:
    kind, index, *payload = message
    if kind == "worker":
        steps, lengths, timeouts, waiting, stepping = payload
        stats.record_episodes(steps, lengths, timeouts)
        stats.record_time("worker", waiting=waiting, stepping=stepping)
    elif kind == "trainer":
        updates, losses, busy, idle = payload
        stats.record_updates(index, updates, losses)
        stats.record_time("trainer", busy=busy, idle=idle)
    elif kind == "predictor":
        _, busy, idle = payload
        stats.record_time("predictor", busy=busy, idle=idle)
    elif kind == "crash":
        crashes[index] = payload[0]


def _fail_if_dead(children: _Children, crashes: dict[str, str]) -> None:
    dead = children.first_dead()
    if dead is None:
        return
    name, exitcode = dead
    detail = crashes.get(name, "").strip().splitlines()
    reason = f": {detail[-1]}" if detail else ""
    raise RoleFailed(f"{name} died (exit code {exitcode}){reason}")


def _snapshot(
    channels: Channels, children: _Children, stats: Statistics, crashes: dict[str, str]
) -> tuple[dict[str, Tensor], list[dict[str, Any]]]:
    """Asks every trainer for its state; trainer 0 also sends the weights."""
    for commands in channels.commands:
        commands.put(("snapshot",))
    answers: dict[int, tuple] = {}
    deadline = time.monotonic() + SNAPSHOT_TIMEOUT
    while len(answers) < len(channels.commands):
        if time.monotonic() > deadline:
            raise RoleFailed(f"trainers did not answer a snapshot request within {SNAPSHOT_TIMEOUT:.0f} s")
        _fail_if_dead(children, crashes)
        try:
            index, updates, weights, optimizer = channels.snapshots.get(timeout=0.1)
        except queue.Empty:
            _drain(channels, stats, crashes, timeout=0.0)
            continue
        answers[index] = (weights, optimizer)
        stats.record_updates(index, updates, [])
    return answers[0][0], [answers[i][1] for i in sorted(answers)]
