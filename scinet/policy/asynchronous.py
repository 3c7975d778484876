"""Async mode: the coordinator spawns the roles, listens to their statistics and watches over them.

Predictors and workers (a :class:`~scinet.sampling.sampler.Sampler` of training rollouts) and the learners
are spawned processes sharing one network (shared memory on CPU, CUDA tensors on a GPU). The coordinator
checkpoints through the learners' snapshots, and stops everything once the episode budget is spent, on
SIGINT/SIGTERM, or as soon as any child dies, naming it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from torch import Tensor

from scinet.policy.context import RunContext
from scinet.policy.learner import SetLearningRate, learner_main
from scinet.policy.rollout import Rollout
from scinet.runtime import resolve_device
from scinet.sampling.progress import ProgressBar
from scinet.sampling.sampler import Sampler
from scinet.sampling.snapshots import Snapshots
from scinet.sampling.statistics import Statistics
from scinet.sampling.supervision import Children


def run_async(run: RunContext) -> tuple[dict[str, Tensor], list[dict[str, Any]]]:
    """Trains until the episode budget is spent; returns the weights and every learner's optimiser state.

    A stop (signal, or the launcher's death) is honoured at any moment, during the children's start-up
    too: the checkpoint then holds what the learners that run have learned, and, for those still
    starting, the state they were given.
    """
    env, config, net, stats = run.env, run.config, run.net, run.stats
    device = resolve_device(config.device)
    sampler = Sampler(net, env.grid_size, partial(Rollout.for_config, env, config), run.seeds)
    sampler.share(device)
    channels = sampler.channels(config.predictors, config.trainers)
    children = Children(channels, run.stop)
    given = [(0, run.optimizers[i] if i < len(run.optimizers) else None) for i in range(config.trainers)]
    snapshots = Snapshots(channels, children, given)
    progress = ProgressBar(config.episodes, stats.episodes, "ep", run.show_progress)

    def snapshot() -> tuple[dict[str, Tensor], list[dict[str, Any]]]:
        weights, updates, optimizers = snapshots.take(net, partial(_poll, children, stats, snapshots))
        for index, count in enumerate(updates):
            stats.record_updates(index, count, [])
        return weights, optimizers

    try:
        sampler.start_predictors(children, config.predictors, device)
        learning_rate = config.learning_rate_at(stats.episodes)
        for i in range(config.trainers):
            args = (i, net, env.grid_size, config, str(device), given[i][1], learning_rate)
            children.start(f"trainer {i}", learner_main, *args)
        sampler.start_workers(children, config.predictors, stats.report_episodes(config.workers))

        while stats.episodes < config.episodes and run.stop.received is None:
            _poll(children, stats, snapshots, timeout=0.1)
            children.fail_if_dead()
            progress.update(stats.episodes, **stats.figures())
            scheduled = config.learning_rate_at(stats.episodes)
            if scheduled != learning_rate:
                learning_rate = scheduled
                for commands in channels.commands:
                    commands.put(SetLearningRate(learning_rate))
            if run.checkpointer.due():
                run.checkpointer.save(*snapshot(), stats)
        weights, optimizer_states = snapshot()
        if run.stop.received is not None:
            run.checkpointer.save(weights, optimizer_states, stats)
            raise run.stop.interruption(run.checkpointer.path)
        return weights, optimizer_states
    finally:
        progress.close()
        children.shutdown()
        children.drain(stats, timeout=0.0)


def _poll(children: Children, stats: Statistics, snapshots: Snapshots, timeout: float) -> None:
    """Applies the reports to ``stats`` and files the learners' snapshot answers."""
    children.drain(stats, timeout, snapshots.offer)
