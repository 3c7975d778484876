"""Training the selection model: the public entry point, resuming from a checkpoint, and the result.

:func:`train_selection` owns what both schedules share (initialisation from the run seed, the resumable
state, the signal handling, the checkpoint file's life cycle); :mod:`scinet.selection.schedules` runs the
steps. A checkpoint is resumed only by a run of the same *fingerprint*: the same data, grid, device type
and learning settings, but possibly another step budget, log interval or checkpoint interval.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from scinet.runtime import StopSignals, resolve_device
from scinet.sampling import resume
from scinet.sampling.divergence import require_finite_weights
from scinet.sampling.progress import ProgressBar
from scinet.sampling.resume import learning_settings, load_state
from scinet.selection.config import SelectionTrainConfig
from scinet.selection.data import SelectionData
from scinet.selection.model import SelectionModel
from scinet.selection.schedules import run_async, run_fused
from scinet.selection.steps import KIND, Curve, SelectionRun, SelectionState, decoder_seeds

LOG = logging.getLogger(__name__)

EXECUTION_ONLY = ("device", "steps", "log_interval", "checkpoint_interval")
"""Settings that do not change what one step learns; a checkpoint made under other values still resumes.

The device *type* does count (it is added to the fingerprint separately): CPU and CUDA random generators
have different states, so a stream saved on one cannot continue on the other.
"""


@dataclass(frozen=True)
class SelectionResult:
    """A finished run. ``steps_per_second`` counts decoder steps of all decoders in this invocation."""

    weights: dict[str, Tensor]
    curve: list[dict[str, float]]
    final_losses: dict[str, float]  # the last curve point's decoder{k}_loss and reconstruction_bce
    steps: list[int]  # per decoder, earlier invocations included
    wall_seconds: float  # training time, earlier invocations included
    steps_per_second: float


def fingerprint(
    data: Sequence[SelectionData], grid_size: Sequence[int], config: SelectionTrainConfig, device_type: str
) -> str:
    """A short hash of everything that changes what is learned, the data's contents included."""
    header = {
        "config": learning_settings(config, EXECUTION_ONLY),
        "grid_size": list(grid_size),
        "device": device_type,
    }
    return resume.fingerprint(header, _data_bytes(data))


def _data_bytes(data: Sequence[SelectionData]) -> Iterator[bytes]:
    for part in data:
        for array, dtype in ((part.cells, np.int8), (part.actions, np.int8), (part.targets, np.float32)):
            yield np.ascontiguousarray(array, dtype=dtype).tobytes()
            yield str(array.shape).encode()


def _load(path: Path | None, run_fingerprint: str) -> SelectionState | None:
    """The resumable state in ``path`` if it is a checkpoint of this very run, None if there is none."""
    return load_state(path, KIND, run_fingerprint, SelectionState)


def train_selection(
    data: list[SelectionData],
    grid_size: Sequence[int],
    config: SelectionTrainConfig,
    checkpoint: Path | None = None,
    show_progress: bool = False,
    keep_checkpoint: bool = False,
) -> SelectionResult:
    """Trains the encoder, autoencoder decoder and one decoder per entry of ``data`` for ``config.steps``.

    Resumes from ``checkpoint`` if it holds a run of the same settings and data, writes it every
    ``config.checkpoint_interval`` seconds and removes it once the run has finished, unless
    ``keep_checkpoint``: then the finished state stays there, so that a caller interrupted before it has
    stored the result gets it back from the next call without training, and the caller removes the
    file. Raises :class:`~scinet.errors.TrainingInterrupted` after checkpointing on SIGINT/SIGTERM (or
    when the launching process exits), :class:`~scinet.errors.RoleFailed` if an async trainer process
    dies or hangs, and :class:`~scinet.errors.Diverged` if a loss or weight stops being finite.
    """
    if not data:
        raise ValueError("train_selection needs the data of at least one agent")
    grid_size = tuple(int(n) for n in grid_size)
    for k, part in enumerate(data):
        if len(part) == 0 or (part.cells < 0).any() or (part.cells.max(axis=0) >= np.array(grid_size)).any():
            raise ValueError(f"data of agent {k} is empty or has cells outside the grid {grid_size}")
    device = resolve_device(config.device)
    run_fingerprint = fingerprint(data, grid_size, config, device.type)
    saved = _load(checkpoint, run_fingerprint)
    torch.manual_seed(config.seed)
    model = SelectionModel(sum(grid_size), config.latent_dim, len(data))
    if saved is not None:
        model.load_state_dict(saved.weights)
        LOG.info("resuming from %s at steps %s", checkpoint, [d["step"] for d in saved.decoders])
    decoders = list(saved.decoders) if saved else [None] * len(data)
    started_steps = sum(d["step"] for d in decoders if d is not None)
    progress = ProgressBar(config.steps * len(data), started_steps, "step", show_progress)
    runner = run_fused if config.schedule == "fused" else run_async
    finished = all(d is not None and d["step"] >= config.steps for d in decoders)
    try:
        with StopSignals().installed() as stop:
            run = SelectionRun(
                model, data, grid_size, config, device, decoder_seeds(config.seed, len(data)),
                optimizers=saved.optimizers if saved else [], decoders=decoders,
                curve=Curve(len(data), saved.curve, saved.pending) if saved else Curve(len(data)),
                stop=stop, progress=progress, checkpoint=checkpoint, fingerprint=run_fingerprint,
                base_wall=saved.wall_seconds if saved else 0.0,
            )  # fmt: skip
            if finished and saved is not None:  # kept by keep_checkpoint: nothing to train
                state = (saved.weights, saved.optimizers, saved.decoders)
            else:
                state = runner(run)
    finally:
        progress.close()
    weights, steps = state[0], [d["step"] for d in state[2]]
    require_finite_weights(weights, "selection training", f"steps {steps}")
    if keep_checkpoint:
        run.save(*state)
    elif checkpoint is not None:
        checkpoint.unlink(missing_ok=True)
    last = run.curve.rows[-1] if run.curve.rows else {}
    final = {k: v for k, v in last.items() if k.endswith("_loss") or k == "reconstruction_bce"}
    rate = (sum(steps) - started_steps) / (time.monotonic() - run.started)
    return SelectionResult(weights, run.curve.rows, final, steps, run.wall_seconds(), rate)
