"""Pinned results of the deterministic runs: a refactoring of the runtime must not change what they compute.

Each digest was taken on the code before the sampling runtime was split out of policy mode. A serial policy
run, a serial selection-data run and a fused selection run are deterministic for a seed, so their weights
(or samples) hash to the same md5 as long as the code computes the same thing, on one intra-op thread.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from scinet.envs import SubGridConfig
from scinet.nets import DPSNetwork
from scinet.policy.config import PolicyConfig
from scinet.policy.training import train_policy
from scinet.selection.config import SelectionDataConfig, SelectionTrainConfig
from scinet.selection.data import SelectionData
from scinet.selection.generate import generate_selection_data
from scinet.selection.training import train_selection

ENV = SubGridConfig(grid_size=(5, 5, 4), plane=(1, 1, 0), reward_pos=(4, 2), max_steps=40)
POLICY = PolicyConfig(
    mode="serial", device="cpu", workers=2, predictors=1, envs_per_worker=16, episodes=600, batch_size=50,
    learning_rate=1e-3, lr_schedule="linear", learning_rate_end=1e-4, unrewarded_steps="forget",
    hidden=(32, 16), log_interval=100, checkpoint_interval=1000.0,
)  # fmt: skip
SELECTION = SelectionTrainConfig(
    schedule="fused", device="cpu", steps=30, batch_size=16, latent_dim=4, log_interval=10,
    reconstruction_bce="logits", checkpoint_interval=1000.0,
)  # fmt: skip
GRID = (4, 4, 4)


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def md5_of_weights(weights: dict[str, torch.Tensor]) -> str:
    digest = hashlib.md5()
    for name in sorted(weights):
        digest.update(name.encode())
        digest.update(weights[name].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def md5_of_data(data: SelectionData) -> str:
    digest = hashlib.md5()
    for array in (data.cells, data.actions, data.targets):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def test_serial_policy_training_computes_the_pinned_weights() -> None:
    result = train_policy(ENV, POLICY)
    assert md5_of_weights(result.weights) == "66b69c60cf645e6a97dd6eabdba1dcc8"


def test_serial_selection_data_is_the_pinned_sample() -> None:
    torch.manual_seed(3)
    agent = DPSNetwork(ENV.obs_size, hidden=(32, 16))
    config = SelectionDataConfig(mode="serial", device="cpu", workers=2, envs_per_worker=32, samples=500)
    assert md5_of_data(generate_selection_data(agent, ENV, config)) == "e2ecc5b585a5570ea55020d7c329d12d"


def test_fused_selection_training_computes_the_pinned_weights() -> None:
    rng = np.random.default_rng(7)
    data = []
    for _ in range(3):
        cells = np.stack([rng.integers(0, side, 400) for side in GRID], axis=1).astype(np.int8)
        actions, targets = rng.integers(0, 6, 400).astype(np.int8), rng.random(400).astype(np.float32)
        data.append(SelectionData(cells, actions, targets))
    result = train_selection(data, GRID, SELECTION)
    assert md5_of_weights(result.weights) == "2d9a03b4ecfb13093dcd32e1d1e3f10d"
