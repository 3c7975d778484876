"""Projective simulation's learning rule: glow targets, the softmax policy and the DPS update."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scinet.nets import DPSNetwork
from scinet.nets.percepts import cells_to_percepts
from scinet.policy.learner import BatchAssembler
from scinet.ps.glow import GLOW_THRESHOLD, EpisodeMemory, Experiences, glow_values
from scinet.ps.policy import sample_softmax
from scinet.ps.update import DPSLearner


def glow_targets(
    h_chosen: np.ndarray, rewards: np.ndarray, glow: float, gamma: float
) -> tuple[np.ndarray, np.ndarray]:
    """The reference for one episode (1-D arrays over its steps): the mask of steps kept and their targets."""
    g = glow_values(np.maximum(rewards, 0.0)[None, :], glow)[0]
    keep = np.abs(g) > GLOW_THRESHOLD
    return keep, ((1.0 - gamma) * h_chosen[keep] + g[keep]).astype(np.float32)


def test_glow_targets_of_a_hand_computed_episode() -> None:
    # Walking back from the reward: g = 1, 0.9, 0.81; target = 0.99 h + g.
    keep, targets = glow_targets(np.array([2.0, 3.0, 4.0]), np.array([0.0, 0.0, 1.0]), glow=0.1, gamma=0.01)
    assert keep.tolist() == [True, True, True]
    np.testing.assert_allclose(targets, [0.99 * 2 + 0.81, 0.99 * 3 + 0.9, 0.99 * 4 + 1.0], rtol=1e-6)


def test_intermediate_rewards_add_up_along_the_glow() -> None:
    _, targets = glow_targets(np.zeros(3), np.array([1.0, 0.0, 1.0]), glow=0.1, gamma=0.01)
    np.testing.assert_allclose(targets, [1.81, 0.9, 1.0], rtol=1e-6)


def test_negative_rewards_are_clipped_so_time_outs_teach_nothing() -> None:
    keep, targets = glow_targets(np.ones(4), np.array([0.0, 0.0, 0.0, -1.0]), glow=0.1, gamma=0.01)
    assert not keep.any() and len(targets) == 0


def test_glow_below_threshold_is_cut() -> None:
    # 0.9^152 = 1.08e-7 is kept, 0.9^153 = 9.8e-8 is not: the last 153 steps of a 200-step episode count.
    rewards = np.zeros(200)
    rewards[-1] = 1.0
    keep, _ = glow_targets(np.zeros(200), rewards, glow=0.1, gamma=0.01)
    assert keep.sum() == 153 and keep[-153:].all()


def test_episode_memory_emits_each_finished_episode_like_the_single_rule() -> None:
    rng = np.random.default_rng(0)
    memory = EpisodeMemory(3, glow=0.1, gamma=0.01)
    # env 0 finishes with reward at step 2, env 1 times out at step 3, env 2 gets reward at step 4.
    schedule = {1: ([0, 0, 0], [False, False, False]), 2: ([1, 0, 0], [True, False, False]),
                3: ([0, -1, 0], [False, True, False]), 4: ([0, 0, 1], [False, False, True])}  # fmt: skip
    episodes: dict[int, list] = {0: [], 1: [], 2: []}
    emitted: list[Experiences] = []
    for step in range(1, 5):
        rewards, done = (np.array(x) for x in schedule[step])
        cells = rng.integers(0, 12, size=(3, 3)).astype(np.int16)
        actions = rng.integers(0, 6, size=3).astype(np.int8)
        h = rng.random(3).astype(np.float32) * 10
        for env in range(3):
            episodes[env].append((cells[env], actions[env], h[env], rewards[env]))
        emitted.append(memory.record(cells, actions, h, rewards, done))
        for env in np.flatnonzero(done):
            episodes[env].append("end")
    assert [len(e) for e in emitted] == [0, 2, 0, 4]  # env 0: 2 steps, env 2: 4 steps, env 1 timed out
    for batch, env in ((emitted[1], 0), (emitted[3], 2)):
        steps = episodes[env][: episodes[env].index("end")]
        h = np.array([s[2] for s in steps])
        rewards = np.array([s[3] for s in steps], dtype=float)
        _, targets = glow_targets(h, rewards, glow=0.1, gamma=0.01)
        np.testing.assert_allclose(batch.targets, targets, rtol=1e-6)
        np.testing.assert_array_equal(batch.cells, np.array([s[0] for s in steps]))
        np.testing.assert_array_equal(batch.actions, np.array([s[1] for s in steps]))


def test_episode_memory_flushes_a_full_history() -> None:
    memory = EpisodeMemory(1, glow=0.1, gamma=0.0, length=4)
    outputs = []
    for step in range(7):
        reward = np.array([1.0 if step == 6 else 0.0])
        outputs.append(
            memory.record(np.zeros((1, 3)), np.zeros(1), np.zeros(1), reward, np.array([step == 6]))
        )
    # Steps 0-3 were flushed (no reward: nothing); steps 4-6 form the next history.
    assert [len(o) for o in outputs] == [0, 0, 0, 0, 0, 0, 3]
    np.testing.assert_allclose(outputs[-1].targets, [0.81, 0.9, 1.0], rtol=1e-6)


def test_sample_softmax_follows_the_policy() -> None:
    h = np.tile(np.array([[0.0, 1.0, 2.0, 0.0, 0.0, 4.0]]), (60_000, 1))
    actions = sample_softmax(h, beta=0.5, rng=np.random.default_rng(1))
    expected = np.exp(0.5 * h[0]) / np.exp(0.5 * h[0]).sum()
    np.testing.assert_allclose(np.bincount(actions, minlength=6) / len(actions), expected, atol=0.01)
    peaked = sample_softmax(np.array([[0.0, 500.0, 0, 0, 0, 0]]), beta=0.5, rng=np.random.default_rng(0))
    assert peaked.tolist() == [1]


def test_batch_assembler_cuts_fixed_batches_in_order() -> None:
    assembler = BatchAssembler(200)
    chunk = lambda start, n: Experiences(  # noqa: E731
        np.zeros((n, 3), np.int16), np.zeros(n, np.int8), np.arange(start, start + n, dtype=np.float32)
    )
    assert assembler.add(chunk(0, 120)) == []
    first = assembler.add(chunk(120, 90))
    second = assembler.add(chunk(210, 250))
    assert [len(b) for b in first] == [200] and [len(b) for b in second] == [200]
    np.testing.assert_array_equal(np.concatenate([b.targets for b in first + second]), np.arange(400))
    assert assembler.count == 60


def test_cells_become_concatenated_one_hot_percepts() -> None:
    percepts = cells_to_percepts(np.array([[0, 5, 11], [11, 0, 3]]), (12, 12, 12), torch.device("cpu"))
    assert percepts.shape == (2, 36) and percepts.sum().item() == 6
    assert percepts[0, [0, 17, 35]].tolist() == [1, 1, 1]
    assert percepts[1, [11, 12, 27]].tolist() == [1, 1, 1]


def test_dps_update_is_smooth_l1_with_amsgrad_adam_and_a_frozen_output() -> None:
    torch.manual_seed(0)
    net = DPSNetwork(36)
    learner = DPSLearner(net, (12, 12, 12), learning_rate=5e-5, weight_decay=1e-5, device=torch.device("cpu"))
    group = learner.optimizer.param_groups[0]
    assert (group["lr"], group["weight_decay"], group["amsgrad"]) == (5e-5, 1e-5, True)
    batch = Experiences(
        np.random.default_rng(0).integers(0, 12, size=(200, 3)).astype(np.int16),
        np.random.default_rng(1).integers(0, 6, size=200).astype(np.int8),
        np.full(200, 50.0, dtype=np.float32),
    )
    frozen = net.output.weight.clone(), net.output.bias.clone(), net.selection.selectors.clone()
    losses = [learner.update(batch) for _ in range(30)]
    assert losses[-1] < losses[0]
    percepts = cells_to_percepts(batch.cells, (12, 12, 12), torch.device("cpu"))
    actions = torch.eye(6)[torch.as_tensor(batch.actions.astype(np.int64))]
    # The reported loss is the smooth L1 of the batch before the step.
    with torch.no_grad():
        after = torch.nn.functional.smooth_l1_loss(
            net(percepts, actions).squeeze(1), torch.full((200,), 50.0)
        )
    assert after.item() < losses[-1] + 1e-6
    assert torch.equal(net.output.weight, frozen[0]) and torch.equal(net.output.bias, frozen[1])
    assert torch.equal(net.selection.selectors, frozen[2])


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_sampled_actions_are_valid(beta: float) -> None:
    actions = sample_softmax(
        np.random.default_rng(0).normal(size=(1000, 6)) * 50, beta, np.random.default_rng(0)
    )
    assert actions.min() >= 0 and actions.max() <= 5


def test_forget_mode_keeps_unrewarded_steps_with_a_pure_forgetting_target() -> None:
    memory = EpisodeMemory(2, glow=0.1, gamma=0.01, forget_unrewarded=True)
    h = np.array([50.0, 20.0], dtype=np.float32)
    cells, actions = np.zeros((2, 3), np.int16), np.array([4, 5], np.int8)
    memory.record(cells, actions, h, np.zeros(2), np.array([False, False]))
    # env 0 times out (reward -1, clipped), env 1 reaches the reward: both histories are emitted.
    out = memory.record(cells, actions, h, np.array([-1.0, 1.0]), np.array([True, True]))
    assert len(out) == 4
    # Time-out: no glow anywhere, so each step's target is the forgotten h = 0.99 * 50.
    # Reward: glow 0.9 and 1 on top of 0.99 * 20.
    np.testing.assert_allclose(out.targets, [49.5, 49.5, 19.8 + 0.9, 19.8 + 1.0], rtol=1e-6)
    # Faithful mode drops the time-out entirely.
    faithful = EpisodeMemory(2, glow=0.1, gamma=0.01)
    faithful.record(cells, actions, h, np.zeros(2), np.array([False, False]))
    assert len(faithful.record(cells, actions, h, np.array([-1.0, 1.0]), np.array([True, True]))) == 2
