"""The sub-grid world: original dynamics, validation, Gymnasium compliance and the batched twin."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from scinet.envs import ENV_ID, BatchedSubGridWorld, SubGridConfig, SubGridWorld

PAPER = {"grid_size": [12, 12, 12], "max_steps": 400}
ENV1 = {**PAPER, "plane": [1, 1, 0], "reward_pos": [6, 11]}


def test_passes_gymnasium_env_checker() -> None:
    check_env(gym.make(ENV_ID, **ENV1).unwrapped)
    env = gym.make(ENV_ID, **ENV1)
    obs, _ = env.reset(seed=3)
    assert obs.shape == (36,) and obs.dtype == np.float32 and obs.sum() == 3


def test_defaults_are_the_papers_env1() -> None:
    cfg = SubGridConfig()
    assert cfg.grid_size == (12, 12, 12)
    assert cfg.plane == (1, 1, 0)
    assert cfg.reward_pos == (6, 11)
    assert cfg.max_steps == 400
    assert cfg.plane_walls == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"grid_size": [12, 1, 12]}, "side > 1"),
        ({"grid_size": [12, 12]}, "3-D"),
        ({"plane": [1, 2, 0]}, "0/1"),
        ({"plane": [1, 1, 1]}, "exactly two ones"),
        ({"plane_walls": [[1, 2, 3]]}, "not 2-D"),
        ({"plane_walls": [[0, 0]], "reward_pos": [0, 0]}, "inside a wall"),
        ({"reward_pos": [50, 0]}, "outside"),
        ({"max_steps": -1}, "max_steps"),
        ({"grid_size": [12.5, 12, 12]}, "integers"),
    ],
)
def test_invalid_worlds_raise_value_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SubGridWorld(**kwargs)


def test_observation_is_concatenated_one_hots() -> None:
    env = SubGridWorld(grid_size=[3, 4, 5], plane=[1, 1, 0], reward_pos=[2, 3])
    obs, _ = env.reset(options={"agent_pos": (1, 2, 4)})
    expected = np.zeros(12, dtype=np.float32)
    expected[[1, 3 + 2, 3 + 4 + 4]] = 1
    np.testing.assert_array_equal(obs, expected)


def test_moves_borders_and_walls() -> None:
    env = SubGridWorld(grid_size=[4, 4, 3], plane=[1, 1, 0], reward_pos=[3, 3], plane_walls=[[1, 1]])
    env.reset(options={"agent_pos": (0, 0, 0)})
    for action, cell in [
        (1, (0, 0, 0)),
        (3, (0, 0, 0)),
        (5, (0, 0, 0)),
        (0, (1, 0, 0)),
        (2, (1, 0, 0)),
        (4, (1, 0, 1)),
        (4, (1, 0, 2)),
        (4, (1, 0, 2)),
        (1, (0, 0, 2)),
        (2, (0, 1, 2)),
        (0, (0, 1, 2)),
        (2, (0, 2, 2)),
        (0, (1, 2, 2)),
        (3, (1, 2, 2)),
    ]:
        env.step(action)
        assert env.unwrapped.agent_pos == cell, (action, cell)


def test_reward_sits_in_the_plane_at_the_start_coordinate() -> None:
    env = SubGridWorld(grid_size=[5, 5, 5], plane=[0, 1, 1], reward_pos=[4, 2], max_steps=0)
    env.reset(options={"agent_pos": (3, 4, 1)})
    assert env.unwrapped.reward_cell == (3, 4, 2)
    # Leaving the start's x and coming back: the reward stays where it was placed at reset.
    for action in (0, 4):
        _, reward, terminated, truncated, _ = env.step(action)
        assert (reward, terminated, truncated) == (0.0, False, False)
    _, reward, terminated, truncated, _ = env.step(1)
    assert (reward, terminated, truncated) == (1.0, True, False)


def test_time_limit_gives_minus_one_and_truncates() -> None:
    env = SubGridWorld(grid_size=[5, 5, 5], plane=[1, 1, 0], reward_pos=[4, 4], max_steps=3)
    env.reset(options={"agent_pos": (0, 0, 0)})
    results = [env.step(1)[1:4] for _ in range(3)]
    assert results == [(0.0, False, False), (0.0, False, False), (-1.0, False, True)]


def test_reward_on_the_last_step_wins_over_time_limit() -> None:
    env = SubGridWorld(grid_size=[5, 5, 5], plane=[1, 1, 0], reward_pos=[2, 0], max_steps=2)
    env.reset(options={"agent_pos": (0, 0, 3)})
    env.step(0)
    assert env.step(0)[1:4] == (1.0, True, False)


@pytest.mark.parametrize("action", [6, -1, 2.5, "x"])
def test_invalid_action_is_an_error(action: object) -> None:
    env = SubGridWorld(**ENV1)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="Invalid action"):
        env.step(action)


@pytest.mark.parametrize(
    ("start", "message"), [((6, 11, 0), "on the reward"), ((1, 1, 1), "wall"), ((12, 0, 0), "not a cell")]
)
def test_invalid_start_is_an_error(start: tuple[int, int, int], message: str) -> None:
    env = SubGridWorld(**ENV1, plane_walls=[[1, 1]])
    with pytest.raises(ValueError, match=message):
        env.reset(options={"agent_pos": start})


WALLED = {"grid_size": [4, 3, 2], "plane": [1, 0, 1], "reward_pos": [3, 1], "plane_walls": [[1, 0], [2, 1]]}


def _assert_uniform_over_valid_starts(starts: np.ndarray, config: SubGridConfig) -> None:
    valid = {tuple(c) for c in config.valid_starts.tolist()}
    counts: dict[tuple[int, ...], int] = {}
    for cell in map(tuple, starts.tolist()):
        assert cell in valid, f"start {cell} is on a wall or on the reward"
        counts[cell] = counts.get(cell, 0) + 1
    assert set(counts) == valid
    expected = len(starts) / len(valid)
    # Each count is binomial: 5 standard deviations bound it for any seed in practice.
    assert all(abs(c - expected) < 5 * np.sqrt(expected) for c in counts.values()), counts


def test_random_starts_are_uniform_over_valid_cells() -> None:
    env = SubGridWorld(**WALLED)
    env.reset(seed=1)
    single = np.array([env.reset()[0].nonzero()[0] - [0, 4, 7] for _ in range(6000)])
    _assert_uniform_over_valid_starts(single, env.config)
    batched = BatchedSubGridWorld(6000, seed=1, **WALLED)
    _assert_uniform_over_valid_starts(batched.positions, batched.config)
    # (4*3*2 cells) - (2 walls + 1 reward cell) * 3 along the orthogonal axis y = 15 valid starts.
    assert len(env.config.valid_starts) == 15


def test_batched_matches_single_envs_step_by_step() -> None:
    config = {
        "grid_size": [5, 4, 6],
        "plane": [0, 1, 1],
        "reward_pos": [2, 3],
        "max_steps": 25,
        "plane_walls": [[1, 1], [2, 2], [0, 4]],
    }
    num_envs, steps = 32, 3000
    batched = BatchedSubGridWorld(num_envs, seed=7, **config)
    singles = [SubGridWorld(**config) for _ in range(num_envs)]
    for env, start in zip(singles, batched.positions, strict=True):
        env.reset(options={"agent_pos": tuple(start)})
    obs = batched.observe()
    rng = np.random.default_rng(0)
    finished = 0
    for _ in range(steps):
        actions = rng.integers(6, size=num_envs)
        obs, reward, terminated, truncated, info = batched.step(actions)
        for i, env in enumerate(singles):
            s_obs, s_reward, s_term, s_trunc, _ = env.step(int(actions[i]))
            assert (s_reward, s_term, s_trunc) == (reward[i], terminated[i], truncated[i])
            if s_term or s_trunc:
                finished += 1
                assert info["lengths"][i] == env.unwrapped._time
                s_obs, _ = env.reset(options={"agent_pos": tuple(batched.positions[i])})
            else:
                assert info["lengths"][i] == 0
            np.testing.assert_array_equal(s_obs, obs[i])
    assert finished > 1000  # both endings are exercised many times
    assert batched.reward_cells.shape == (num_envs, 3)


def test_batched_seed_is_reproducible_and_distinct() -> None:
    a = BatchedSubGridWorld(64, seed=5, **ENV1)
    b = BatchedSubGridWorld(64, seed=5, **ENV1)
    c = BatchedSubGridWorld(64, seed=6, **ENV1)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert not np.array_equal(a.positions, c.positions)
    actions = np.random.default_rng(0).integers(6, size=(500, 64))
    for step_actions in actions:
        out_a, out_b = a.step(step_actions), b.step(step_actions)
        np.testing.assert_array_equal(out_a[0], out_b[0])


def test_batched_rejects_bad_actions() -> None:
    env = BatchedSubGridWorld(4, seed=0, **ENV1)
    with pytest.raises(ValueError, match="actions"):
        env.step(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"0\.\.5"):
        env.step(np.array([0, 1, 2, 6]))
    with pytest.raises(ValueError, match="num_envs"):
        BatchedSubGridWorld(0, **ENV1)
