"""Selection mode's training: the loss terms, the noise, both schedules, checkpoint, resume and failures."""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from scinet.errors import RoleFailed, TrainingInterrupted
from scinet.nets import read_checkpoint
from scinet.selection.config import SelectionTrainConfig
from scinet.selection.data import SelectionData
from scinet.selection.model import LossSettings, SelectionModel
from scinet.selection.training import train_selection

GRID = (4, 4, 4)
SMALL = SelectionTrainConfig(
    schedule="fused", device="cpu", steps=30, batch_size=16, latent_dim=4, log_interval=10,
    checkpoint_interval=1000.0,
)  # fmt: skip


def synthetic(seed: int, n: int = 400, grid: tuple[int, ...] = GRID) -> SelectionData:
    rng = np.random.default_rng(seed)
    cells = np.stack([rng.integers(0, side, n) for side in grid], axis=1).astype(np.int8)
    return SelectionData(cells, rng.integers(0, 6, n).astype(np.int8), rng.random(n).astype(np.float32))


DATA = [synthetic(k) for k in range(3)]


def _batch(batch: int = 5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    percepts = torch.zeros(batch, sum(GRID))
    for offset in (0, 4, 8):
        percepts[torch.arange(batch), offset + torch.randint(4, (batch,), generator=gen)] = 1.0
    actions = torch.nn.functional.one_hot(torch.randint(6, (batch,), generator=gen), 6).float()
    targets = torch.tensor([0.0, 3.0, -2.0, 0.5, 1.2])[:batch]  # both branches of smooth L1
    return percepts, actions, targets, torch.randn(batch, 3, generator=gen)


def _model() -> SelectionModel:
    torch.manual_seed(0)
    model = SelectionModel(sum(GRID), latent_dim=3, num_decoders=2)
    with torch.no_grad():
        model.encoder.selection.selectors.copy_(torch.tensor([0.5, -1.0, 0.2]))
        model.decoders[1].selection.selectors.copy_(torch.tensor([-0.3, 0.1, 0.4]))
    return model


@pytest.mark.parametrize("from_logits", [False, True])
def test_loss_terms_match_a_hand_computation(from_logits: bool) -> None:
    """Both ways of computing the BCE give the paper's loss."""
    model, weights = (
        _model(),
        LossSettings(
            2.0, decoder_selection=0.3, encoder_selection=0.7, reconstruction=5.0, bce_from_logits=from_logits
        ),
    )
    percepts, actions, targets, eps = _batch()
    loss = model.loss(1, percepts, actions, targets, eps, weights)

    s_enc, s_dec = model.encoder.selection.selectors, model.decoders[1].selection.selectors
    latent = model.encoder(percepts)
    noisy = latent + latent.std(dim=0) * torch.exp(s_enc) * eps  # the autoencoder reads the noisy latent
    reconstruction = model.autoencoder_decoder(noisy)
    decoder = model.decoders[1]
    h = decoder.visible(torch.cat((noisy + noisy.std(dim=0) * torch.exp(s_dec) * eps, actions), dim=1))
    for layer in decoder.dense:
        h = layer(h)
    diff = (decoder.output(h).squeeze(1) - targets).abs()
    smooth_l1 = torch.where(diff < 1, 0.5 * diff**2, diff - 0.5).mean()
    bce = -(percepts * reconstruction.log() + (1 - percepts) * (1 - reconstruction).log()).mean()
    total = 2.0 * smooth_l1 - 0.3 * s_dec.sum() - 0.7 * s_enc.sum() + 5.0 * bce

    assert float(loss.smooth_l1) == pytest.approx(smooth_l1.item(), rel=1e-5)
    assert float(loss.bce) == pytest.approx(bce.item(), rel=1e-5)
    assert loss.total.item() == pytest.approx(total.item(), rel=1e-5)


def test_a_saturated_reconstruction_learns_again_only_with_the_bce_from_logits() -> None:
    """Why ``reconstruction_bce: logits`` exists: an output stuck near 0 where the target is 1 costs ~100.

    From the sigmoid's output PyTorch's BCE gives that output's logit (almost) no gradient, so nothing
    undoes it; from the logits the gradient is the usual (p - target) / N.
    """
    model, (percepts, actions, targets, eps) = _model(), _batch()
    channel = int(percepts[0].argmax())  # a target of 1 in the first row
    with torch.no_grad():
        model.autoencoder_decoder.decoding[-1][0].bias[channel] = -200.0
    gradients = {}
    for from_logits in (False, True):
        settings = LossSettings(target=0.0, decoder_selection=0.0, encoder_selection=0.0, reconstruction=1.0,
                                bce_from_logits=from_logits)  # fmt: skip
        model.zero_grad()
        loss = model.loss(1, percepts, actions, targets, eps, settings)
        loss.total.backward()
        gradients[from_logits] = float(model.autoencoder_decoder.decoding[-1][0].bias.grad[channel])
        if not from_logits:  # each target of 1 on that channel costs the clamped maximum, 100
            assert float(loss.bce) > 100 * float(percepts[:, channel].sum()) / percepts.numel()
    assert abs(gradients[False]) < 1e-9
    assert gradients[True] == pytest.approx(-float(percepts[:, channel].sum()) / percepts.numel(), rel=1e-3)


def test_selection_terms_reward_noise_on_the_encoder_and_the_stepping_decoder_only() -> None:
    model, (percepts, actions, targets, eps) = _model(), _batch()
    weights = LossSettings(target=0.0, decoder_selection=0.04, encoder_selection=0.02, reconstruction=0.0)
    loss = model.loss(1, percepts, actions, targets, eps, weights)
    loss.total.backward()
    expected = -0.04 * (-0.3 + 0.1 + 0.4) - 0.02 * (0.5 - 1.0 + 0.2)
    assert loss.total.item() == pytest.approx(expected, rel=1e-6)
    # Gradient descent raises every selection value (more noise) of the encoder and decoder 1.
    torch.testing.assert_close(model.encoder.selection.selectors.grad, torch.full((3,), -0.02))
    torch.testing.assert_close(model.decoders[1].selection.selectors.grad, torch.full((3,), -0.04))
    assert model.decoders[0].selection.selectors.grad is None


def test_selection_noise_is_batch_std_times_exp_s_times_eps() -> None:
    model, (percepts, actions, _, eps) = _model(), _batch()
    out = model(1, percepts, actions, eps)
    expected = out.latent.std(dim=0) * torch.exp(model.encoder.selection.selectors) * eps
    torch.testing.assert_close(out.noisy - out.latent, expected)
    fresh = SelectionModel(sum(GRID), latent_dim=3, num_decoders=2)
    out = fresh(0, percepts, actions, eps)
    assert fresh.encoder.selection.selectors.tolist() == [-10.0] * 3  # exp(-10): hardly any noise at first
    assert (out.noisy - out.latent).abs().max() < 1e-3 * out.latent.std(dim=0).max()


def _untimed(rows: list[dict[str, float]]) -> list[dict[str, float]]:
    return [{k: v for k, v in row.items() if k != "wall_seconds"} for row in rows]


def _same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_fused_schedule_is_bit_identical_for_a_seed() -> None:
    first, second = train_selection(DATA, GRID, SMALL), train_selection(DATA, GRID, SMALL)
    assert first.steps == [30, 30, 30] and [row["step"] for row in first.curve] == [10, 20, 30]
    assert _same_weights(first.weights, second.weights)
    assert _untimed(first.curve) == _untimed(second.curve)
    other = train_selection(DATA, GRID, dataclasses.replace(SMALL, seed=1))
    assert not torch.equal(
        first.weights["encoder.abstraction.weight"], other.weights["encoder.abstraction.weight"]
    )
    assert set(first.final_losses) == {
        "decoder0_loss",
        "decoder1_loss",
        "decoder2_loss",
        "reconstruction_bce",
    }


def _once_checkpointed(checkpoint: Path, action: Callable[[], None]) -> None:
    """Runs ``action`` in a thread once a periodic checkpoint with some steps of every decoder exists."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            saved = read_checkpoint(checkpoint).extra if checkpoint.is_file() else {}
            if saved and all(d["step"] > 0 for d in saved["decoders"]):
                break
            time.sleep(0.05)
        action()

    threading.Thread(target=watch, daemon=True).start()


def _interrupted(config: SelectionTrainConfig, checkpoint: Path, data: list[SelectionData] = DATA) -> dict:
    """The checkpoint of an endless run stopped by SIGINT to this process after its first checkpoint."""
    endless = dataclasses.replace(config, steps=10**6, checkpoint_interval=0.3)
    with pytest.raises(TrainingInterrupted):
        _once_checkpointed(checkpoint, lambda: os.kill(os.getpid(), signal.SIGINT))
        train_selection(data, GRID, endless, checkpoint)
    return read_checkpoint(checkpoint).extra


def test_fused_resume_continues_exactly_where_the_interrupted_run_stood(tmp_path: Path) -> None:
    checkpoint = tmp_path / "selection.pt"
    saved = _interrupted(SMALL, checkpoint)
    done = saved["decoders"][0]["step"]
    assert [d["step"] for d in saved["decoders"]] == [done] * 3 and len(saved["optimizers"]) == 1
    config = dataclasses.replace(SMALL, steps=done + 7)
    resumed = train_selection(DATA, GRID, config, checkpoint)
    assert resumed.steps == [done + 7] * 3 and not checkpoint.exists()
    straight = train_selection(DATA, GRID, config)
    assert _same_weights(resumed.weights, straight.weights)  # weights, Adam moments, random streams went on
    assert _untimed(resumed.curve) == _untimed(straight.curve)


def test_checkpoint_of_other_settings_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    checkpoint = tmp_path / "selection.pt"
    _interrupted(SMALL, checkpoint)
    other = dataclasses.replace(SMALL, learning_rate=3e-4)
    caplog.set_level(logging.INFO, logger="scinet.sampling.resume")
    ignoring = train_selection(DATA, GRID, other, checkpoint)
    assert "ignoring" in caplog.text and ignoring.steps == [SMALL.steps] * 3 and not checkpoint.exists()
    assert _same_weights(ignoring.weights, train_selection(DATA, GRID, other).weights)  # a fresh start


ASYNC = dataclasses.replace(SMALL, schedule="async")


def test_async_schedule_runs_every_decoder_to_its_budget_and_leaves_no_process() -> None:
    result = train_selection(DATA, GRID, ASYNC)
    assert result.steps == [30, 30, 30]
    assert [row["step"] for row in result.curve] == [10, 20, 30]
    row = result.curve[-1]
    assert len(row) == 1 + 3 + 1 + 4 + 3 * 4 + 1
    assert all(np.isfinite(v) for v in row.values())
    assert all(-10.1 < row[f"decoder2_s{i}"] < -9.9 for i in range(4))  # selection values start near -10
    assert result.final_losses["reconstruction_bce"] == row["reconstruction_bce"] > 0
    assert result.steps_per_second > 0
    assert multiprocessing.active_children() == []


def test_async_interrupt_checkpoints_consistent_state_and_resume_finishes(tmp_path: Path) -> None:
    checkpoint, data = tmp_path / "selection.pt", DATA[:2]  # two trainers: spawning costs seconds each
    saved = _interrupted(ASYNC, checkpoint, data)
    steps = [d["step"] for d in saved["decoders"]]
    adam_steps = [int(next(iter(o["state"].values()))["step"]) for o in saved["optimizers"]]
    assert adam_steps == steps  # optimiser states taken at the same moment as the step counts
    target = max(steps) + 5
    resumed = train_selection(data, GRID, dataclasses.replace(ASYNC, steps=target), checkpoint)
    assert resumed.steps == [target] * 2 and not checkpoint.exists()
    assert resumed.curve[: len(saved["curve"])] == saved["curve"] and resumed.curve[-1]["step"] == target
    assert multiprocessing.active_children() == []


def test_a_killed_async_trainer_fails_the_run_promptly_naming_it(tmp_path: Path) -> None:
    checkpoint, killed = tmp_path / "selection.pt", []

    def kill_trainer_1() -> None:
        trainers = [p.pid for p in multiprocessing.active_children() if p.name == "trainer 1"]
        os.kill(trainers[0] if trainers else os.getpid(), signal.SIGKILL if trainers else signal.SIGINT)
        killed.append(time.monotonic())  # (SIGINT to ourselves if there was no trainer: fail, not hang)

    _once_checkpointed(checkpoint, kill_trainer_1)  # both trainers are past start-up and training
    endless = dataclasses.replace(ASYNC, steps=10**6, checkpoint_interval=0.3)
    with pytest.raises(RoleFailed, match="trainer 1"):
        train_selection(DATA[:2], GRID, endless, checkpoint)
    # Noticed within a poll; the rest is stopping the other trainer (bounded by the 5 s join, then a kill),
    # which on a loaded 2-core machine can take a few seconds. The policy trainer's bound is 30 s.
    assert killed and time.monotonic() - killed[0] < 10.0
    assert multiprocessing.active_children() == []
