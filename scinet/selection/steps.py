"""What both selection schedules share: one decoder's batch stream, the learning curve, the run's context.

A :class:`DecoderFeed` owns everything that belongs to one decoder's sequence of steps (its agent's data on
the device, its random stream for batches and noise, its step count and the loss window of the current
curve point), so the fused schedule (all feeds in one process) and the async one (one feed per trainer
process) take exactly the same steps, and a checkpoint can store each feed's state and resume it exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from scinet.nets.percepts import cells_to_percepts
from scinet.runtime import StopSignals
from scinet.sampling.divergence import require_finite_loss, require_finite_weights
from scinet.sampling.progress import ProgressBar
from scinet.sampling.resume import save_state
from scinet.selection.config import SelectionTrainConfig
from scinet.selection.data import SelectionData
from scinet.selection.model import NUM_ACTIONS, LossSettings, SelectionModel

KIND = "selection-training"
"""Checkpoint kind of an unfinished selection run (see :func:`scinet.nets.save_checkpoint`)."""


def decoder_seeds(seed: int, num_decoders: int) -> list[int]:
    """One independent seed per decoder's random stream, derived from the run seed.

    The model's initial weights come from ``torch.manual_seed(seed)`` itself; the decoders' streams are
    spawned children of ``SeedSequence(seed)``, so no two of them (nor the initialisation) coincide.
    """
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(num_decoders)]


def initial_feed_state() -> dict[str, Any]:
    """A decoder feed's state before its first step (its stream is then seeded from the run seed)."""
    return {"step": 0, "generator": None, "loss_sum": 0.0, "bce_sum": 0.0, "count": 0}


def make_optimizer(parameters: list[torch.nn.Parameter], config: SelectionTrainConfig) -> torch.optim.Adam:
    """The original's optimiser: Adam with AMSGrad and L2 weight decay."""
    return torch.optim.Adam(
        parameters, lr=config.learning_rate, weight_decay=config.weight_decay, amsgrad=True
    )


class DecoderFeed:
    """Decoder k's training steps: random batches of its agent's data, noise, loss window, step count.

    ``state`` (from :meth:`state`, e.g. out of a checkpoint) restores the step count, the random stream
    and the partial loss window, so a resumed run continues exactly where the saved one stood.
    """

    def __init__(
        self,
        index: int,
        data: SelectionData,
        grid_size: tuple[int, ...],
        config: SelectionTrainConfig,
        device: torch.device,
        seed: int,
        state: dict[str, Any] | None = None,
    ) -> None:
        self.index, self.config, self.device = index, config, device
        self.loss_settings = LossSettings.from_config(config)
        self.percepts = cells_to_percepts(data.cells, grid_size, device)
        actions = torch.as_tensor(data.actions.astype(np.int64), device=device)
        self.actions = F.one_hot(actions, NUM_ACTIONS).float()
        self.targets = torch.as_tensor(data.targets, dtype=torch.float32, device=device)
        self.generator = torch.Generator(device=device)
        state = state or initial_feed_state()
        if state["generator"] is None:
            self.generator.manual_seed(seed)
        else:
            self.generator.set_state(state["generator"])
        self.step, self.count = state["step"], state["count"]
        self.loss_sum = torch.tensor(state["loss_sum"], device=device)
        self.bce_sum = torch.tensor(state["bce_sum"], device=device)

    @property
    def finished(self) -> bool:
        return self.step >= self.config.steps

    def train_step(self, model: SelectionModel, optimizer: torch.optim.Optimizer) -> dict[str, Any] | None:
        """One optimiser step of decoder k; returns a curve report at each log interval and at the end.

        ``zero_grad`` sets gradients to None, so in the fused schedule's single optimiser the other
        decoders' parameters (and their Adam moments) are left alone by this step. A loss that is not
        finite raises :class:`~scinet.errors.Diverged` before it can reach the shared weights; checking
        it waits for the device once per step, a small price on a GPU for never training on NaNs.
        """
        role, step = f"decoder {self.index}", f"step {self.step + 1}"
        batch, latent_dim = self.config.batch_size, model.encoder.selection.selectors.numel()
        rows = torch.randint(len(self.targets), (batch,), generator=self.generator, device=self.device)
        eps = torch.randn((batch, latent_dim), generator=self.generator, device=self.device)
        try:
            loss = model.loss(
                self.index,
                self.percepts[rows],
                self.actions[rows],
                self.targets[rows],
                eps,
                self.loss_settings,
            )
        except RuntimeError:  # the BCE refuses a NaN reconstruction: weights diverged without a NaN loss
            require_finite_weights(model.state_dict(), role, step)
            raise
        require_finite_loss(float(loss.total.detach()), role, step)
        optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        optimizer.step()
        self.loss_sum += loss.smooth_l1
        self.bce_sum += loss.bce
        self.count += 1
        self.step += 1
        if self.step % self.config.log_interval == 0 or self.step == self.config.steps:
            return self._report(model)
        return None

    def _report(self, model: SelectionModel) -> dict[str, Any]:
        """Mean losses over the window and the current selection values; empties the window."""
        report = {
            "decoder": self.index,
            "step": self.step,
            "loss": float(self.loss_sum) / self.count,
            "bce": float(self.bce_sum) / self.count,
            "encoder_s": model.encoder.selection.selectors.detach().cpu().tolist(),
            "decoder_s": model.decoders[self.index].selection.selectors.detach().cpu().tolist(),
        }
        self.loss_sum.zero_()
        self.bce_sum.zero_()
        self.count = 0
        return report

    def state(self) -> dict[str, Any]:
        """Plain values and CPU tensors only, so a checkpoint stays loadable with weights_only=True."""
        return {
            "step": self.step,
            "generator": self.generator.get_state(),
            "loss_sum": float(self.loss_sum),
            "bce_sum": float(self.bce_sum),
            "count": self.count,
        }


class Curve:
    """Learning-curve rows, one per log interval, assembled from the decoders' reports.

    A row for step s is complete once every decoder has reported step s; in the async schedule the
    decoders get there at different times, so reports wait in ``pending`` (saved with checkpoints).
    """

    def __init__(
        self, num_decoders: int, rows: list[dict[str, float]] | None = None, pending: list[dict] | None = None
    ) -> None:
        self.num_decoders = num_decoders
        self.rows = list(rows or [])
        self._pending: dict[int, dict[int, dict[str, Any]]] = {}
        for report in pending or []:
            self._pending.setdefault(report["step"], {})[report["decoder"]] = report

    def add(self, report: dict[str, Any], wall_seconds: float) -> None:
        """Files a report; the one completing a row gives that row its encoder values and time."""
        step = report["step"]
        reports = self._pending.setdefault(step, {})
        reports[report["decoder"]] = report
        if len(reports) < self.num_decoders:
            return
        del self._pending[step]
        ordered = [reports[k] for k in range(self.num_decoders)]
        row: dict[str, float] = {"step": step}
        row |= {f"decoder{k}_loss": r["loss"] for k, r in enumerate(ordered)}
        row["reconstruction_bce"] = float(np.mean([r["bce"] for r in ordered]))
        row |= {f"encoder_s{i}": s for i, s in enumerate(report["encoder_s"])}
        for k, r in enumerate(ordered):
            row |= {f"decoder{k}_s{i}": s for i, s in enumerate(r["decoder_s"])}
        row["wall_seconds"] = wall_seconds
        self.rows.append(row)

    def figures(self) -> dict[str, str]:
        """What a progress bar shows beside the steps: the latest curve point's losses, if any."""
        if not self.rows:
            return {}
        last = self.rows[-1]
        losses = [last[f"decoder{k}_loss"] for k in range(self.num_decoders)]
        return {"loss": "/".join(f"{x:.3f}" for x in losses), "bce": f"{last['reconstruction_bce']:.2e}"}

    @property
    def pending(self) -> list[dict[str, Any]]:
        return [report for reports in self._pending.values() for report in reports.values()]


@dataclass(frozen=True)
class SelectionState:
    """The resumable part of a selection checkpoint (see :mod:`scinet.sampling.resume`)."""

    weights: dict[str, Tensor]
    optimizers: list[dict[str, Any] | None]
    decoders: list[dict[str, Any]]
    curve: list[dict[str, float]]
    pending: list[dict[str, Any]]
    wall_seconds: float


@dataclass
class SelectionRun:
    """Everything a schedule needs, prepared (and resumed) by ``train_selection``.

    ``optimizers`` and ``decoders`` hold saved states (empty / None for a fresh run): one optimiser for
    the fused schedule, one per decoder for the async one.
    """

    model: SelectionModel
    data: list[SelectionData]
    grid_size: tuple[int, ...]
    config: SelectionTrainConfig
    device: torch.device
    seeds: list[int]
    optimizers: list[dict[str, Any] | None]
    decoders: list[dict[str, Any] | None]
    curve: Curve
    stop: StopSignals
    progress: ProgressBar
    checkpoint: Path | None
    fingerprint: str
    base_wall: float = 0.0
    started: float = field(default_factory=time.monotonic)
    last_checkpoint: float = field(default_factory=time.monotonic)

    def wall_seconds(self) -> float:
        """Training time of the whole run, earlier invocations included."""
        return self.base_wall + time.monotonic() - self.started

    def checkpoint_due(self) -> bool:
        elapsed = time.monotonic() - self.last_checkpoint
        return self.checkpoint is not None and elapsed >= self.config.checkpoint_interval

    def save(
        self,
        weights: dict[str, Tensor],
        optimizers: list[dict[str, Any] | None],
        decoders: list[dict[str, Any]],
    ) -> None:
        """Writes the resumable state (atomically); a run without a checkpoint path saves nothing.

        Weights that are not finite raise :class:`~scinet.errors.Diverged` instead, keeping the last
        good checkpoint.
        """
        if self.checkpoint is None:
            return
        steps = [d["step"] if d else 0 for d in decoders]
        require_finite_weights(weights, "selection training", f"steps {steps}")
        state = SelectionState(
            weights, optimizers, decoders, self.curve.rows, self.curve.pending, self.wall_seconds()
        )
        save_state(self.checkpoint, KIND, state, self.fingerprint)
        self.last_checkpoint = time.monotonic()
