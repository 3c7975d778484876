"""`python -m scinet play`: a trained agent's episodes as an animated GIF, for the objective it learned."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from PIL import Image

from scinet.envs import SubGridConfig
from scinet.nets import DPSNetwork, save_checkpoint
from scinet.play import play_episodes, write_gif

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = [16, 8]
TINY_ENV = {
    "grid_size": [4, 4, 3],
    "max_steps": 12,
    "objectives": {
        "env1": {"plane": [1, 1, 0], "reward_pos": [3, 3]},
        "env3": {"plane": [1, 0, 1], "reward_pos": [0, 2]},
    },
}
TINY_ENV1 = SubGridConfig(grid_size=(4, 4, 3), plane=(1, 1, 0), reward_pos=(3, 3), max_steps=12)


def _agent(path: Path, **extra: object) -> Path:
    """A small untrained agent saved as the train_policy stage saves one (its objective and sizes)."""
    torch.manual_seed(0)
    save_checkpoint(path, "dps-agent", DPSNetwork(11, hidden=HIDDEN), hidden=HIDDEN, **extra)
    return path


def _play(tmp_path: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"env": TINY_ENV}))
    return subprocess.run(
        [sys.executable, "-m", "scinet", "play", "--params", str(params), *map(str, args)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _frames(gif: Path) -> int:
    with Image.open(gif) as image:
        assert image.format == "GIF" and image.is_animated
        return image.n_frames


def test_play_writes_one_gif_frame_per_state_of_every_episode(tmp_path: Path) -> None:
    agent = _agent(tmp_path / "env3.pt", objective="env3")
    result = _play(tmp_path, "--agent", agent, "--episodes", "3", "--gif", "out.gif", "--seed", "4")
    assert result.returncode == 0, result.stderr
    # The objective is the checkpoint's own: env3, the xz plane of the params file.
    assert "objective  env3 (plane [1, 0, 1], reward [0, 2])" in result.stdout
    steps = [int(n) for n in re.findall(r"^episode \d  .* (\d+) steps", result.stdout, flags=re.MULTILINE)]
    assert len(steps) == 3 and all(1 <= n <= 12 for n in steps)
    assert f"wrote out.gif ({sum(steps) + 3} frames)" in result.stdout
    assert _frames(tmp_path / "out.gif") == sum(steps) + 3  # the start and one frame per step


def test_the_gif_is_named_after_the_agent_by_default(tmp_path: Path) -> None:
    result = _play(tmp_path, "--agent", _agent(tmp_path / "env1.pt", objective="env1"), "--greedy")
    assert result.returncode == 0, result.stderr
    assert "policy     greedy" in result.stdout
    assert _frames(tmp_path / "env1.gif") >= 2


@pytest.mark.parametrize(
    ("extra", "args", "message"),
    [
        (
            {"objective": "env3"},
            ("--objective", "env1"),
            "{agent} was trained for objective env3, not env1: omit --objective or pass env3",
        ),
        ({}, (), "{agent} does not record its objective (the authors' checkpoints do not): pass --objective"),
        ({"objective": "env9"}, (), "unknown objective 'env9'; params define: env1, env3"),
    ],
)
def test_a_wrong_or_missing_objective_is_one_line_and_exit_2(
    tmp_path: Path, extra: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    agent = _agent(tmp_path / "agent.pt", **extra)
    result = _play(tmp_path, "--agent", agent, *args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"scinet play: error: {message.format(agent=agent)}"]
    assert not list(tmp_path.glob("*.gif"))


def test_an_explicit_objective_plays_an_authors_style_checkpoint(tmp_path: Path) -> None:
    agent = _agent(tmp_path / "plain.pt")  # no objective recorded, as in the authors' files
    result = _play(tmp_path, "--agent", agent, "--objective", "env1", "--gif", "plain.gif")
    assert result.returncode == 0, result.stderr
    assert "objective  env1 (plane [1, 1, 0], reward [3, 3])" in result.stdout


def test_help_shows_every_options_default() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scinet", "play", "--help"], capture_output=True, text=True, check=True
    )
    options = re.findall(r"^  (--[a-z]+)", result.stdout, flags=re.MULTILINE)
    assert set(options) >= {"--agent", "--objective", "--episodes", "--gif", "--seed", "--greedy", "--params"}
    flat = " ".join(result.stdout.split("options:", 1)[1].split())
    for option in set(options) - {"--agent"}:  # --agent is required
        help_text = flat.split(option, 1)[1].split(" --", 1)[0]
        assert "default" in help_text, f"{option} hides its default: {help_text}"


def test_same_seed_same_episodes_and_frames_match_the_gif(tmp_path: Path) -> None:
    torch.manual_seed(0)
    agent = DPSNetwork(11, hidden=HIDDEN).eval()
    first = play_episodes(agent, TINY_ENV1, episodes=4, seed=7)
    again = play_episodes(agent, TINY_ENV1, episodes=4, seed=7)
    assert first == again
    for episode in first:
        assert episode.cells[-1] == episode.reward_cell if episode.reached else episode.steps == 12
        assert 1 <= episode.shortest <= 6
    frames = write_gif(tmp_path / "a.gif", first, TINY_ENV1, title="env1")
    assert frames == sum(e.steps + 1 for e in first) == _frames(tmp_path / "a.gif")


def test_a_world_without_a_time_limit_is_refused() -> None:
    endless = SubGridConfig(grid_size=(4, 4, 3), plane=(1, 1, 0), reward_pos=(3, 3), max_steps=0)
    with pytest.raises(ValueError, match="max_steps > 0"):
        play_episodes(DPSNetwork(11, hidden=HIDDEN), endless, episodes=1, seed=0)
