"""The paper's worlds by Gymnasium id, their rendering and the agent's cell in ``info``."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from scinet.envs import ENV_ID, PAPER_ENV_IDS, PAPER_OBJECTIVES, SubGridWorld

ALL_IDS = [ENV_ID, *PAPER_ENV_IDS.values()]
PUBLISHED = {
    "env1": ((1, 1, 0), (6, 11)),
    "env2": ((0, 1, 1), (11, 6)),
    "env3": ((1, 0, 1), (6, 6)),
}


@pytest.mark.parametrize("env_id", ALL_IDS)
@pytest.mark.parametrize("render_mode", [None, "ansi", "rgb_array"])
def test_every_registered_id_passes_the_env_checker_without_warnings(env_id: str, render_mode: str) -> None:
    env = gym.make(env_id, render_mode=render_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the checker reports many problems as warnings only
        check_env(env.unwrapped)


@pytest.mark.parametrize("objective", ["env1", "env2", "env3"])
def test_paper_ids_are_the_papers_worlds_with_a_400_step_limit(objective: str) -> None:
    env = gym.make(f"scinet/SubGridWorld-{objective}-v0")
    assert PAPER_ENV_IDS[objective] == f"scinet/SubGridWorld-{objective}-v0"
    config = env.unwrapped.config  # type: ignore[attr-defined]
    assert (config.plane, config.reward_pos) == PUBLISHED[objective]
    assert config.grid_size == (12, 12, 12) and config.max_steps == 400 and config.plane_walls == ()
    assert env.spec is not None and env.spec.max_episode_steps == 400
    assert config == PAPER_OBJECTIVES[objective]


def test_the_bare_id_defaults_to_the_papers_first_world() -> None:
    env = gym.make(ENV_ID)
    assert env.unwrapped.config == PAPER_OBJECTIVES["env1"]  # type: ignore[attr-defined]
    # Its time limit is the world's own max_steps keyword, so that a longer one is not cut at 400.
    long = gym.make(ENV_ID, max_steps=1000)
    long.reset(seed=0, options={"agent_pos": (0, 0, 0)})
    for _ in range(999):
        assert long.step(1)[3] is False
    assert long.step(1)[2:4] == (False, True)


def test_a_time_out_is_truncated_not_terminated_and_scores_minus_one() -> None:
    env = gym.make(PAPER_ENV_IDS["env1"])
    env.reset(seed=0, options={"agent_pos": (0, 0, 0)})
    for _ in range(399):
        assert env.step(1)[1:4] == (0.0, False, False)
    assert env.step(1)[1:4] == (-1.0, False, True)


def test_info_holds_the_agents_cell_and_the_rewards_cell() -> None:
    env = gym.make(PAPER_ENV_IDS["env3"])
    _, info = env.reset(seed=0, options={"agent_pos": (6, 2, 5)})
    assert info == {"agent_pos": (6, 2, 5), "reward_cell": (6, 2, 6), "time": 0}
    _, reward, terminated, _, info = env.step(4)  # +z
    assert (reward, terminated) == (1.0, True)
    assert info == {"agent_pos": (6, 2, 6), "reward_cell": (6, 2, 6), "time": 1}


def test_ansi_shows_the_plane_with_the_agent_and_the_reward() -> None:
    env = SubGridWorld(grid_size=[4, 3, 5], plane=[1, 0, 1], reward_pos=[3, 4], render_mode="ansi")
    env.reset(options={"agent_pos": (1, 2, 0)})
    text = env.render()
    assert isinstance(text, str)
    lines = text.splitlines()
    # The xz plane, z growing upwards: the reward at x=3, z=4 (top row), the agent at x=1, z=0 (bottom row).
    assert lines[:6] == ["z . . . R", "  . . . .", "  . . . .", "  . . . .", "  . A . .", "  x"]
    assert "agent (1, 2, 0)" in lines[-1] and "reward (3, 2, 4)" in lines[-1] and "step 0/400" in lines[-1]


def test_rgb_array_draws_agent_reward_and_walls_in_the_plane() -> None:
    env = SubGridWorld(
        grid_size=[5, 4, 3], plane=[1, 1, 0], reward_pos=[4, 3], plane_walls=[[2, 1]], render_mode="rgb_array"
    )
    env.reset(options={"agent_pos": (0, 0, 2)})
    image = env.render()
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape[2] == 3
    colours = {tuple(c) for c in image.reshape(-1, 3).tolist()}
    from scinet.envs.render import AGENT, REWARD, WALL

    assert {AGENT, REWARD, WALL} <= colours
    before = image.copy()
    env.step(0)  # +x: the agent moves, so the picture changes
    assert not np.array_equal(env.render(), before)


def test_render_without_a_mode_returns_none_and_an_unknown_mode_is_refused() -> None:
    assert SubGridWorld().render() is None
    with pytest.raises(ValueError, match="render_mode"):
        SubGridWorld(render_mode="human")
