"""Snapshots of the learners for the coordinator's checkpoint: one protocol for every mode that learns.

The coordinator sends every learner a :class:`SnapshotRequest`; a learner waits for its device, answers with
a :class:`Snapshot` (its own counters and optimiser state) on the statistics queue, after every report it
sent before, and then pauses until :class:`Resume`. Once every running learner has answered, the coordinator
copies the shared weights, which nobody writes meanwhile, so a checkpoint's weights, counters and optimiser
moments are those of one moment. Learners still starting are not waited for: the state they were given
stands in for theirs (one that reaches its loop at this very moment may have taken a step more than that
state says, which a resumed run merely repeats).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from scinet.errors import RoleFailed
from scinet.sampling.processes import Channels, get
from scinet.sampling.supervision import Children

SNAPSHOT_TIMEOUT = 120.0
"""How long live learners may take to answer a checkpoint's snapshot request before the run counts them hung.

A dead or hung learner is caught sooner by its exit code or heartbeat; this bound is only for a live one
that beats but never answers.
"""


class SnapshotRequest(NamedTuple):
    """The coordinator asks for a snapshot; ``request`` tells this request's answers from late ones."""

    request: int


class Resume(NamedTuple):
    """The snapshot is taken: the learner that answered may go on."""


class Snapshot(NamedTuple):
    """A learner's answer: its own counters (``progress``) and its optimiser state, on the CPU."""

    request: int
    index: int
    progress: Any
    optimizer: dict[str, Any]


def to_cpu(state: Any) -> Any:
    """A copy of a (nested) state dict with every tensor on the CPU, ready to pickle or save."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {key: to_cpu(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(to_cpu(value) for value in state)
    return state


def synchronize(device: torch.device) -> None:
    """Waits for this process's queued kernels, so that the shared weights others read are up to date."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def answer_snapshot(
    channels: Channels,
    index: int,
    request: SnapshotRequest,
    progress: Any,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
) -> bool:
    """A learner's side: answer ``request``, then pause until resumed; False if the run stopped meanwhile."""
    synchronize(device)
    channels.stats.put(Snapshot(request.request, index, progress, to_cpu(optimizer.state_dict())))
    return get(channels.commands[index], channels) is not None


class Snapshots:
    """The coordinator's side: requests, collects the answers it is :meth:`offer` ed, copies the weights.

    ``given`` holds, per learner, the (progress, optimiser state) it was started from.
    """

    def __init__(self, channels: Channels, children: Children, given: list[tuple[Any, Any]]) -> None:
        self.channels, self.children, self.given = channels, children, given
        self.request = 0
        self.answers: dict[int, Snapshot] = {}

    def offer(self, message: Any) -> bool:
        """Files ``message`` if it answers the current request; True if it was a snapshot at all."""
        if not isinstance(message, Snapshot):
            return False
        if message.request == self.request:
            self.answers[message.index] = message
        return True

    def take(
        self, net: nn.Module, poll: Callable[[float], None]
    ) -> tuple[dict[str, Tensor], list[Any], list[Any]]:
        """Weights, and every learner's progress and optimiser state, of one moment.

        ``poll(timeout)`` reads the statistics queue, handing every message to :meth:`offer` first.
        """
        self.answers.clear()
        self.request += 1
        for commands in self.channels.commands:
            commands.put(SnapshotRequest(self.request))
        learners = range(len(self.channels.commands))
        waited = {k for k in learners if self.children.beating(f"trainer {k}")}
        deadline = time.monotonic() + SNAPSHOT_TIMEOUT
        while not waited <= self.answers.keys():
            if time.monotonic() > deadline:
                late = f"trainers did not answer a snapshot request within {SNAPSHOT_TIMEOUT:.0f} s"
                raise RoleFailed(late)
            poll(0.1)
            self.children.fail_if_dead()
        weights = to_cpu(net.state_dict())
        for commands in self.channels.commands:
            commands.put(Resume())
        states = [
            (self.answers[k].progress, self.answers[k].optimizer) if k in self.answers else self.given[k]
            for k in learners
        ]
        return weights, [progress for progress, _ in states], [optimizer for _, optimizer in states]
