"""The two selection schedules: fused (one process, decoders in turn) and async (one process per decoder).

Async is the original's: each decoder's trainer updates the shared model Hogwild-style (no locks; shared
memory on CPU, CUDA tensors shared between processes on a GPU) with its own AMSGrad optimiser over the
encoder, the autoencoder decoder and its decoder. Fused takes the same per-decoder steps in a fixed order
with one optimiser over everything, which makes it deterministic for a seed. Both return the final
:data:`State` (weights on the CPU, optimiser and decoder feed states, as a checkpoint holds them); both
checkpoint every ``checkpoint_interval`` seconds and, on a stop (SIGINT/SIGTERM, or the launching process
exited), checkpoint and raise :class:`~scinet.errors.TrainingInterrupted`.
"""

from __future__ import annotations

import queue
import time
from typing import Any, NamedTuple

import torch
from torch import Tensor

from scinet.sampling.processes import POLL_SECONDS, Channels, should_stop
from scinet.sampling.snapshots import SnapshotRequest, Snapshots, answer_snapshot, synchronize, to_cpu
from scinet.sampling.supervision import Children
from scinet.selection.config import SelectionTrainConfig
from scinet.selection.data import SelectionData
from scinet.selection.model import SelectionModel
from scinet.selection.steps import DecoderFeed, SelectionRun, initial_feed_state, make_optimizer

PROGRESS_SECONDS = 0.5
"""How often an async trainer tells the coordinator its step count (curve reports come on top)."""

State = tuple[dict[str, Tensor], list[dict[str, Any] | None], list[dict[str, Any]]]
"""Weights, optimiser states and decoder feed states that belong together (see ``SelectionRun.save``)."""


def run_fused(run: SelectionRun) -> State:
    """All decoders' steps in turn in this process; on a CPU with one intra-op thread.

    The layers (at most 128 wide, batch 200) are too small for intra-op threads to pay off, and on a
    busy CPU their spin-waiting makes a step hundreds of times slower (measured: 3 ms with one thread,
    880 ms with two, on two cores shared with two other jobs). The caller's setting is restored after.
    """
    threads = torch.get_num_threads()
    if run.device.type == "cpu":
        torch.set_num_threads(1)
    try:
        return _fused_steps(run)
    finally:
        torch.set_num_threads(threads)


def _fused_steps(run: SelectionRun) -> State:
    model = run.model.to(run.device)
    optimizer = make_optimizer(list(model.parameters()), run.config)
    if run.optimizers:
        optimizer.load_state_dict(run.optimizers[0])
    feeds = [
        DecoderFeed(k, run.data[k], run.grid_size, run.config, run.device, run.seeds[k], run.decoders[k])
        for k in range(len(run.data))
    ]

    def state() -> State:
        return to_cpu(model.state_dict()), [to_cpu(optimizer.state_dict())], [f.state() for f in feeds]

    while not all(f.finished for f in feeds) and run.stop.received is None:
        for feed in feeds:
            if not feed.finished and (report := feed.train_step(model, optimizer)) is not None:
                run.curve.add(report, run.wall_seconds())
        run.progress.update(sum(f.step for f in feeds), **run.curve.figures())
        if run.checkpoint_due():
            run.save(*state())
    if run.stop.received is not None:
        run.save(*state())
        raise run.stop.interruption(run.checkpoint)
    return state()


def run_async(run: SelectionRun) -> State:
    """One trainer process per decoder on the shared model; this process watches, reports and checkpoints.

    Trainer k's random stream is seeded with ``run.seeds[k]`` (see ``decoder_seeds``), so the decoders'
    batches are those of the fused schedule, but the interleaving of their updates depends on timing. The
    trainers are supervised and snapshotted like policy mode's learners (:mod:`scinet.sampling.snapshots`).
    """
    model = run.model.to(run.device)
    if run.device.type == "cpu":
        model.share_memory()
    num_decoders = len(run.data)
    channels = Channels.create(workers=0, predictors=0, learners=num_decoders, backlog=1)
    children = Children(channels, run.stop)
    given = [
        (state or initial_feed_state(), run.optimizers[k] if run.optimizers else None)
        for k, state in enumerate(run.decoders)
    ]  # what trainer k starts from: its state in a snapshot taken before it runs
    inbox = _Inbox(run, children, Snapshots(channels, children, given))

    def snapshot() -> State:
        weights, feeds, optimizers = inbox.snapshots.take(model, inbox.poll)
        inbox.steps = [feed["step"] for feed in feeds]
        return weights, optimizers, feeds

    try:
        for k in range(num_decoders):
            args = (k, model, run.data[k], run.grid_size, run.config, str(run.device), run.seeds[k])
            children.start(f"trainer {k}", decoder_learner_main, *args, run.decoders[k], given[k][1])
        while len(inbox.done) < num_decoders and run.stop.received is None:
            inbox.poll(timeout=0.1)
            children.fail_if_dead()
            run.progress.update(sum(inbox.steps), **run.curve.figures())
            if run.checkpoint_due():
                run.save(*snapshot())
        state = snapshot()
        if run.stop.received is not None:
            run.save(*state)
            raise run.stop.interruption(run.checkpoint)
        # Every trainer has synchronised its device and now idles: the snapshot's weights are final.
        return state
    finally:
        children.shutdown()


class CurveReport(NamedTuple):
    """A trainer's curve point (see :meth:`DecoderFeed.train_step`)."""

    index: int
    report: dict[str, Any]


class StepCount(NamedTuple):
    """A trainer's step count; ``done`` once it has taken its budget and synchronised its device."""

    index: int
    step: int
    done: bool


class _Inbox:
    """The coordinator's view of the trainers, updated from their messages on the stats queue.

    Snapshot answers travel on the same queue as the curve reports, after them, so a snapshot never
    misses a report its trainer sent before answering (two queues would not keep that order).
    """

    def __init__(self, run: SelectionRun, children: Children, snapshots: Snapshots) -> None:
        self.run, self.children, self.snapshots = run, children, snapshots
        self.steps = [state["step"] if state else 0 for state in run.decoders]
        self.done: set[int] = set()

    def poll(self, timeout: float) -> None:
        """Applies every pending message; waits up to ``timeout`` for the first."""
        self.children.drain(None, timeout, self._apply)

    def _apply(self, message: Any) -> None:
        if self.snapshots.offer(message):
            return
        if isinstance(message, CurveReport):
            self.run.curve.add(message.report, self.run.wall_seconds())
        elif isinstance(message, StepCount):
            self.steps[message.index] = message.step
            if message.done:
                self.done.add(message.index)


def decoder_learner_main(
    channels: Channels,
    index: int,
    model: SelectionModel,
    data: SelectionData,
    grid_size: tuple[int, ...],
    config: SelectionTrainConfig,
    device: str,
    seed: int,
    feed_state: dict[str, Any] | None,
    optimizer_state: dict[str, Any] | None,
) -> None:
    """Decoder ``index``'s trainer: its steps on the shared model, then idle until the run stops.

    A finished trainer stays alive (answering snapshot requests) so that a process that exits is always
    a failure the coordinator can name; the percepts are built here from the compact cells.
    """
    feed = DecoderFeed(index, data, grid_size, config, torch.device(device), seed, feed_state)
    optimizer = make_optimizer(model.decoder_parameters(index), config)
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
    reported = time.monotonic()
    announced = False
    while _serve_commands(channels, index, feed, optimizer, wait=feed.finished):
        if feed.finished:
            if not announced:
                synchronize(feed.device)
                channels.stats.put(StepCount(index, feed.step, done=True))
                announced = True
            continue
        report = feed.train_step(model, optimizer)
        if report is not None:
            channels.stats.put(CurveReport(index, report))
        if time.monotonic() - reported >= PROGRESS_SECONDS:
            channels.stats.put(StepCount(index, feed.step, done=False))
            reported = time.monotonic()


def _serve_commands(
    channels: Channels, index: int, feed: DecoderFeed, optimizer: torch.optim.Optimizer, wait: bool
) -> bool:
    """Answers the coordinator's snapshot requests; False once the run stops.

    With ``wait`` it blocks up to one poll interval for a command (an idle trainer), else it only looks.
    """
    commands = channels.commands[index]
    while True:
        try:
            command = commands.get(timeout=POLL_SECONDS) if wait else commands.get_nowait()
        except queue.Empty:
            return not should_stop(channels)
        wait = False
        if isinstance(command, SnapshotRequest) and not answer_snapshot(
            channels, index, command, feed.state(), optimizer, feed.device
        ):
            return False
