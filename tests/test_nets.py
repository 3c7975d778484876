"""Tests for scinet.nets: selection noise, DPS network, autoencoder, checkpoints."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch

from scinet.nets import (
    CheckpointError,
    DenseAutoencoder,
    DPSNetwork,
    SelectionNeurons,
    load_autoencoder,
    load_dps_agent,
    read_checkpoint,
    save_checkpoint,
)

UPSTREAM = Path(__file__).resolve().parents[2] / "shared" / "upstream"
PUBLISHED_ENCODER_SELECTION = [-3.63, -3.38, 4.67, 6.79, 3.29, 6.84, -3.62, 4.88]


@pytest.fixture
def upstream() -> Path:
    if not UPSTREAM.is_dir():
        pytest.skip(f"authors' checkpoints not available ({UPSTREAM} is absent)")
    return UPSTREAM


# (a) selection neurons -----------------------------------------------------------------------------


def _known_std_batch() -> tuple[torch.Tensor, torch.Tensor]:
    # Columns 0..2, 0..4 step 2, 5..7 (plus offsets): unbiased std over the batch is exactly 1, 2, 1.
    latent = torch.tensor([[0.0, 0.0, 5.0], [1.0, 2.0, 6.0], [2.0, 4.0, 7.0]])
    return latent, torch.tensor([1.0, 2.0, 1.0])


def test_selection_init_value() -> None:
    assert torch.equal(SelectionNeurons(5).selectors, torch.full((5,), -10.0))
    assert torch.equal(SelectionNeurons(3, init_value=0.5).selectors, torch.full((3,), 0.5))
    assert [name for name, _ in SelectionNeurons(4).named_parameters()] == ["selectors"]


def test_selection_noise_uses_batch_std() -> None:
    sel = SelectionNeurons(3)
    with torch.no_grad():
        sel.selectors.fill_(math.log(2.0))
    latent, std = _known_std_batch()
    eps = torch.tensor([[0.5, -1.0, 2.0], [0.0, 1.0, -0.25], [1.5, 0.3, 0.0]])
    torch.testing.assert_close(sel(latent, eps), latent + 2.0 * std * eps, rtol=0, atol=0)


def test_selection_noise_uses_given_sigma() -> None:
    sel = SelectionNeurons(3)
    with torch.no_grad():
        sel.selectors.fill_(math.log(2.0))
    latent, _ = _known_std_batch()
    eps = torch.ones_like(latent)
    sigma = torch.tensor([0.25, 4.0, 0.0])
    torch.testing.assert_close(sel(latent, eps, sigma), latent + 2.0 * sigma * eps, rtol=0, atol=0)


def test_selection_gradient_reaches_selectors() -> None:
    sel = SelectionNeurons(3, init_value=0.0)
    latent, _ = _known_std_batch()
    sel.noisy(latent, generator=torch.Generator().manual_seed(0)).sum().backward()
    assert sel.selectors.grad is not None
    assert torch.all(sel.selectors.grad != 0)


def test_selection_noisy_is_reproducible_with_generator() -> None:
    sel = SelectionNeurons(3, init_value=0.0)
    latent, _ = _known_std_batch()
    a = sel.noisy(latent, generator=torch.Generator().manual_seed(7))
    b = sel.noisy(latent, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    assert not torch.equal(a, latent)


# (b), (c) DPS network ------------------------------------------------------------------------------


def test_h_values_match_separate_forward_calls() -> None:
    torch.manual_seed(0)
    net = DPSNetwork(10)
    obs = torch.randn(4, 10)
    table = net.h_values(obs)
    assert table.shape == (4, 6)
    for a in range(6):
        onehot = torch.zeros(4, 6)
        onehot[:, a] = 1.0
        torch.testing.assert_close(table[:, a : a + 1], net(obs, onehot))


def test_forward_applies_selection_only_with_eps() -> None:
    torch.manual_seed(0)
    net = DPSNetwork(4, trainable_output=True)
    with torch.no_grad():
        net.selection.selectors.fill_(1.0)
    obs, actions = torch.randn(8, 4), torch.eye(6)[torch.arange(8) % 6]
    eps = torch.randn(8, 4)
    assert net(obs, actions).shape == (8, 1)
    assert torch.equal(net(obs, actions, eps=torch.zeros(8, 4)), net(obs, actions))
    assert not torch.equal(net(obs, actions, eps=eps), net(obs, actions))
    noisy_obs = net.selection(obs, eps)
    torch.testing.assert_close(net(obs, actions, eps=eps), net(noisy_obs, actions))


def test_agent_output_layer_is_frozen_at_one() -> None:
    net = DPSNetwork(36)
    assert torch.equal(net.output.weight, torch.ones(1, 32))
    assert torch.equal(net.output.bias, torch.ones(1))
    assert not net.output.weight.requires_grad and not net.output.bias.requires_grad
    assert not net.selection.selectors.requires_grad
    assert torch.equal(net.selection.selectors, torch.full((36,), -10.0))


def test_decoder_output_layer_is_trainable_with_zero_bias() -> None:
    net = DPSNetwork(8, hidden=(64, 128, 128, 128, 128, 64, 32), trainable_output=True)
    assert torch.equal(net.output.weight, torch.ones(1, 32))
    assert torch.equal(net.output.bias, torch.zeros(1))
    assert net.output.weight.requires_grad and net.output.bias.requires_grad
    assert net.selection.selectors.requires_grad
    assert net.visible[0].in_features == 14 and len(net.dense) == 6


def test_hidden_init_is_kaiming_uniform() -> None:
    torch.manual_seed(0)
    net = DPSNetwork(36)
    layers = [net.visible[0], *(block[0] for block in net.dense)]
    assert [layer.out_features for layer in layers] == [128, 128, 128, 128, 64, 32]
    for layer in layers:
        bound = math.sqrt(6.0 / layer.in_features)
        w = layer.weight
        assert w.abs().max() <= bound
        # The default nn.Linear init has bound sqrt(1/fan_in); Kaiming's is sqrt(6) times wider.
        assert w.abs().max() > 0.9 * bound
        assert abs(w.var().item() - bound**2 / 3) < 0.25 * bound**2 / 3


# (d) the authors' checkpoints -----------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3])
def test_upstream_agents_load_strictly(upstream: Path, k: int) -> None:
    state = read_checkpoint(upstream / f"ps_pretrain_{k}.pth").state_dict
    DPSNetwork(36).load_state_dict(state, strict=True)
    agent = load_dps_agent(upstream / f"ps_pretrain_{k}.pth")
    assert not agent.training
    assert torch.equal(agent.output.bias, torch.ones(1))
    assert torch.isfinite(agent.h_values(torch.zeros(2, 36))).all()


def test_upstream_autoencoder_loads_strictly(upstream: Path) -> None:
    state = read_checkpoint(upstream / "ae_select.pth").state_dict
    DenseAutoencoder().load_state_dict(state, strict=True)
    ae = load_autoencoder(upstream / "ae_select.pth")
    selectors = ae.encoder.selection.selectors.detach()
    assert torch.round(selectors, decimals=2).tolist() == pytest.approx(PUBLISHED_ENCODER_SELECTION, abs=1e-6)
    out = ae(torch.rand(3, 36))
    # The trained sigmoid saturates to exactly 0.0 / 1.0 in float32 on some inputs, hence closed bounds.
    assert out.shape == (3, 36) and bool(((out >= 0) & (out <= 1)).all())


def test_upstream_agent_into_wrong_size_names_file_and_key(upstream: Path) -> None:
    path = upstream / "ps_pretrain_1.pth"
    with pytest.raises(
        CheckpointError, match=rf"^{re.escape(str(path))}: selection\.selectors has shape \(36,\)"
    ):
        load_dps_agent(path, input_dim=8)


# (e) our checkpoint format --------------------------------------------------------------------------


def test_mismatched_shape_raises_with_key(tmp_path: Path) -> None:
    path = tmp_path / "agent.pt"
    save_checkpoint(path, "dps-agent", DPSNetwork(36, num_actions=4))
    with pytest.raises(CheckpointError) as info:
        load_dps_agent(path, input_dim=36, num_actions=6)
    assert str(info.value).startswith(f"{path}: visible.0.weight has shape (128, 40), expected (128, 42); ")


def test_wrong_network_raises_missing_key(tmp_path: Path) -> None:
    path = tmp_path / "ae.pt"
    torch.save(DenseAutoencoder().state_dict(), path)
    with pytest.raises(
        CheckpointError, match=rf"^{re.escape(str(path))}: missing key selection\.selectors; "
    ):
        load_dps_agent(path)


def test_round_trip_gives_identical_tensors(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = DPSNetwork(36)
    path = tmp_path / "sub" / "agent.pt"
    save_checkpoint(path, "dps-agent", net, episodes=12, note="x")
    ckpt = read_checkpoint(path)
    assert ckpt.kind == "dps-agent" and ckpt.extra == {"episodes": 12, "note": "x"}
    reference = net.state_dict()
    assert ckpt.state_dict.keys() == reference.keys()
    for key, value in reference.items():
        assert torch.equal(ckpt.state_dict[key], value)
    loaded = load_dps_agent(path)
    obs = torch.randn(5, 36)
    assert torch.equal(loaded.h_values(obs), net.h_values(obs))
    assert [p.name for p in path.parent.iterdir()] == ["agent.pt"]  # no temp file left behind


def test_plain_state_dict_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "plain.pth"
    net = DenseAutoencoder()
    torch.save(net.state_dict(), path)
    assert read_checkpoint(path).kind is None
    loaded = load_autoencoder(path)
    assert torch.equal(loaded.decoder.decoding[4][0].weight, net.decoder.decoding[4][0].weight)


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "nope.pth"
    with pytest.raises(FileNotFoundError, match=r"nope\.pth"):
        read_checkpoint(path)
    with pytest.raises(FileNotFoundError):
        load_autoencoder(path)


class _NotATensor:
    pass


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"net": _NotATensor()}, "refused by weights_only loading"),
        ([torch.zeros(1)], "neither a state dict nor a scinet checkpoint"),
        ({"format": "other/thing", "state_dict": {}}, "unknown checkpoint format"),
    ],
)
def test_unusable_files_raise_checkpoint_error(tmp_path: Path, payload: object, message: str) -> None:
    path = tmp_path / "bad.pt"
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match=message):
        read_checkpoint(path)


def test_garbage_file_raises_checkpoint_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.pt"
    path.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match=rf"^{re.escape(str(path))}: "):
        read_checkpoint(path)
