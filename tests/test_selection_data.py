"""Selection data: the first-step sampling rule on hand-built h-values, the player, and the generator."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from scinet.envs import SubGridConfig
from scinet.nets import DPSNetwork
from scinet.selection.config import SelectionDataConfig
from scinet.selection.data import SelectionData
from scinet.selection.generate import generate_selection_data
from scinet.selection.player import TARGET_SCALE, SelectionPlayer, split_actions

SMALL_ENV = SubGridConfig(grid_size=(5, 5, 4), plane=(1, 1, 0), reward_pos=(4, 2), max_steps=30)


def test_split_draws_uniformly_among_likely_and_among_unlikely_actions() -> None:
    # beta 0.5: p ~ exp(0.5 h). Actions 0 and 3 are far ahead (p ~ 0.5 each), the other four far behind.
    h = np.tile([20.0, 1.0, 2.0, 20.0, 0.0, 3.0], (60_000, 1))
    likely, unlikely = split_actions(h, 0.5, np.random.default_rng(0))
    assert set(np.unique(likely)) == {0, 3}
    assert set(np.unique(unlikely)) == {1, 2, 4, 5}
    np.testing.assert_allclose(np.bincount(likely, minlength=6)[[0, 3]] / len(h), 0.5, atol=0.01)
    np.testing.assert_allclose(np.bincount(unlikely, minlength=6)[[1, 2, 4, 5]] / len(h), 0.25, atol=0.01)


def test_split_threshold_is_one_sixth_and_a_flat_policy_has_no_unlikely_action() -> None:
    # p = (e^x, 1, 1, 1, 1, 1) / (e^x + 5) with beta = 1: p_0 > 1/6 but p_1..5 < 1/6 for any x > 0.
    rows = np.array([[0.1, 0, 0, 0, 0, 0], [0.0, 0, 0, 0, 0, 0], [-0.1, 0, 0, 0, 0, 0]])
    likely, unlikely = split_actions(rows, 1.0, np.random.default_rng(1))
    assert likely[0] == 0 and unlikely[0] in {1, 2, 3, 4, 5}
    assert likely[1] in range(6) and unlikely[1] == -1  # every p is exactly 1/6: all likely
    assert likely[2] in {1, 2, 3, 4, 5} and unlikely[2] == 0


def _play(env: SubGridConfig, glow: float, steps: int = 40) -> tuple[SelectionData, int]:
    """Plays 64 worlds in which +x (action 0) dominates by 100 everywhere: the only likely action, taken
    for good. Returns the samples and the number of finished episodes."""
    player = SelectionPlayer(env, 64, np.random.SeedSequence(3), beta=0.5, glow=glow)
    h = np.tile([100.0, 0.0, 0.0, 0.0, 0.0, 0.0], (64, 1))
    parts, episodes = [], 0
    for _ in range(steps):
        report = player.step(h)
        parts.append(report.experiences)
        episodes += len(report.lengths)
    return SelectionData.concat(parts), episodes


def test_player_takes_the_likely_action_and_targets_its_glowed_reward() -> None:
    # From (x, 0, z) the +x walk reaches the reward (5, 0) in 5 - x steps; from (x, 1, z) it never does.
    env = SubGridConfig(grid_size=(6, 2, 2), plane=(1, 1, 0), reward_pos=(5, 0), max_steps=12)
    data, episodes = _play(env, glow=0.1)
    taken = data.actions == 0
    naught = ~taken
    assert naught.sum() == episodes  # one naught sample per episode, time-out or not
    assert set(np.unique(data.actions[naught])) == {1, 2, 3, 4, 5}  # drawn among the unlikely ones
    assert (data.targets[naught] == 0).all()
    cells, targets = data.cells[taken], data.targets[taken]
    assert (cells[:, 1] == 0).all()  # a time-out (y = 1) gives no taken sample: the glow never reached it
    expected = TARGET_SCALE * 0.9 ** (5 - cells[:, 0].astype(float) - 1)
    np.testing.assert_allclose(targets, expected, rtol=1e-6)
    timeouts = (data.cells[naught, 1] == 1).sum()
    assert 0 < timeouts < episodes and taken.sum() == episodes - timeouts


def test_a_taken_action_the_glow_does_not_reach_gives_only_the_naught_sample() -> None:
    # Glow 0.99: the first step's glow is 0.01^(L-1), so episodes of L <= 4 steps reach it (>= 1e-6) and
    # the 5-step walk from x = 0 does not (1e-8 <= 1e-7, the original's cut-off), like a time-out.
    env = SubGridConfig(grid_size=(6, 2, 2), plane=(1, 1, 0), reward_pos=(5, 0), max_steps=12)
    data, episodes = _play(env, glow=0.99)
    taken, naught = data.actions == 0, data.actions != 0
    assert naught.sum() == episodes
    reaching = data.cells[naught][data.cells[naught, 1] == 0]  # starts from which the walk is rewarded
    starts = np.bincount(reaching[:, 0], minlength=6)
    assert starts[0] > 0  # rewarded episodes did start at x = 0 ...
    assert (data.cells[taken, 0] > 0).all()  # ... and none of them gave a taken sample
    assert taken.sum() == starts[1:].sum()
    np.testing.assert_allclose(data.targets[taken].min(), TARGET_SCALE * 0.01**3, rtol=1e-5)


def test_serial_generation_is_deterministic_and_async_produces_the_requested_samples() -> None:
    torch.manual_seed(0)
    agent = DPSNetwork(SMALL_ENV.obs_size, hidden=(16,))
    config = SelectionDataConfig(mode="serial", device="cpu", workers=2, envs_per_worker=32, samples=500)
    first = generate_selection_data(agent, SMALL_ENV, config)
    second = generate_selection_data(agent, SMALL_ENV, config)
    assert len(first) == 500
    assert all(np.array_equal(getattr(first, f), getattr(second, f)) for f in ("cells", "actions", "targets"))
    assert first.cells.dtype == np.int8 and first.actions.dtype == np.int8
    other = generate_selection_data(agent, SMALL_ENV, dataclasses.replace(config, seed=1))
    assert not np.array_equal(first.cells, other.cells)

    in_async = generate_selection_data(agent, SMALL_ENV, dataclasses.replace(config, mode="async"))
    assert len(in_async) == 500
    assert ((in_async.targets >= 0) & (in_async.targets <= TARGET_SCALE)).all()


def test_selection_data_round_trips_compactly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = SelectionData(
        np.array([[1, 2, 3], [4, 5, 6]], np.int8), np.array([0, 5], np.int8), np.array([8.1, 0], np.float32)
    )
    data.save(tmp_path / "d.npz")
    back = SelectionData.load(tmp_path / "d.npz")
    assert np.array_equal(back.cells, data.cells) and np.array_equal(back.targets, data.targets)
    assert [p.name for p in tmp_path.iterdir()] == ["d.npz"]  # no temporary file left


def test_progress_counts_samples_to_the_end_and_shows_the_agents_mean_path(capsys) -> None:  # type: ignore[no-untyped-def]
    # An episode yields one or two samples, so a bar over episodes stopped short of its total.
    torch.manual_seed(0)
    agent = DPSNetwork(SMALL_ENV.obs_size, hidden=(16,))
    config = SelectionDataConfig(mode="serial", device="cpu", workers=2, envs_per_worker=32, samples=500)
    generate_selection_data(agent, SMALL_ENV, config, show_progress=True)
    final = capsys.readouterr().err.rstrip().split("\r")[-1]
    assert "100%" in final and "500/500" in final and "sample" in final, final
    assert "mean_steps=" in final and "nan" not in final, final
