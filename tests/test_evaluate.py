"""`python -m scinet evaluate` and the evaluation loop behind it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from scinet.envs import NUM_ACTIONS, SubGridConfig, optimal_mean_path, plane_distances
from scinet.evaluation import evaluate_agent
from scinet.nets import DPSNetwork, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT.parent / "shared" / "upstream"
ENV1 = SubGridConfig(grid_size=(12, 12, 12), plane=(1, 1, 0), reward_pos=(6, 11), max_steps=400)


class OracleAgent:
    """h-values that prefer, in each cell, the first move that shortens the path (a perfect agent)."""

    def __init__(self, config: SubGridConfig) -> None:
        self.config = config
        self.dist = plane_distances(config)

    def h_values(self, obs: torch.Tensor) -> torch.Tensor:
        sizes = self.config.grid_size
        pos = np.stack([chunk.argmax(1) for chunk in np.split(obs.numpy(), np.cumsum(sizes)[:2], axis=1)], 1)
        a, b = self.config.plane_axes
        h = np.zeros((len(pos), NUM_ACTIONS), dtype=np.float32)
        for action, step in ((0, (1, 0, 0)), (1, (-1, 0, 0)), (2, (0, 1, 0)), (3, (0, -1, 0))):
            moved = np.clip(pos + step, 0, np.array(sizes) - 1)
            h[:, action] = self.dist[moved[:, a], moved[:, b]] < self.dist[pos[:, a], pos[:, b]]
        return torch.from_numpy(h * 100.0)


def test_perfect_agent_scores_the_optimal_mean_without_bias() -> None:
    # Short episodes finish first: a loop that stopped at the first N finished episodes would be biased low.
    stats = evaluate_agent(OracleAgent(ENV1), ENV1, episodes=20_000, seed=0, greedy=True, num_envs=512)  # type: ignore[arg-type]
    assert stats.episodes == 20_000 and stats.timeouts == 0
    assert stats.mean == pytest.approx(optimal_mean_path(ENV1), abs=0.12)  # std error ~0.03
    assert stats.optimal_mean == pytest.approx(8.5594, abs=1e-4)


def test_untrained_agent_times_out_and_is_counted_at_full_length() -> None:
    config = SubGridConfig(grid_size=(12, 12, 12), plane=(1, 1, 0), reward_pos=(6, 11), max_steps=5)
    torch.manual_seed(0)
    stats = evaluate_agent(DPSNetwork(36), config, episodes=300, seed=1)
    assert stats.episodes == 300
    assert 0.5 < stats.timeouts <= 1.0
    assert stats.mean <= 5.0 and stats.median <= 5.0


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scinet", "evaluate", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.skipif(not UPSTREAM.is_dir(), reason="../shared/upstream (the authors' checkpoints) is absent")
def test_cli_evaluates_the_authors_agent_as_json() -> None:
    result = _run(
        "--agent",
        UPSTREAM / "ps_pretrain_1.pth",
        "--objective",
        "env1",
        "--episodes",
        "400",
        "--seed",
        "0",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert set(stats) == {"mean", "median", "timeouts", "optimal_mean", "episodes"}
    assert stats["episodes"] == 400
    assert stats["optimal_mean"] == pytest.approx(8.5594, abs=1e-4)
    assert 0.0 <= stats["timeouts"] <= 0.2
    # The authors' agent mostly walks optimal paths: the median is near the optimum.
    assert 7 <= stats["median"] <= 11


def test_cli_evaluates_our_checkpoint_with_text_output(tmp_path: Path) -> None:
    agent = tmp_path / "agent.pt"
    save_checkpoint(agent, "dps-agent", DPSNetwork(36))
    result = _run("--agent", agent, "--objective", "env3", "--episodes", "50", "--greedy")
    assert result.returncode == 0, result.stderr
    assert "policy       greedy" in result.stdout
    assert "optimal mean 6.0420 steps" in result.stdout
    assert "episodes     50" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--agent", "missing.pt", "--objective", "env1"), "agent checkpoint not found: missing.pt"),
        (
            ("--agent", "{agent}", "--objective", "env9"),
            "unknown objective 'env9'; params define: env1, env2, env3",
        ),
        (
            ("--agent", "{wrong}", "--objective", "env1"),
            "not a DPS agent with 36 inputs: {wrong}: selection.selectors has shape (10,), expected (36,); "
            "check that it is the file you meant, or replace it with an intact copy",
        ),
        (
            ("--agent", "{agent}", "--objective", "env1", "--params", "nowhere.yaml"),
            "params file not found: nowhere.yaml (run from the repository root or pass --params)",
        ),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    save_checkpoint(tmp_path / "agent.pt", "dps-agent", DPSNetwork(36))
    save_checkpoint(tmp_path / "wrong.pt", "dps-agent", DPSNetwork(10))
    paths = {"agent": tmp_path / "agent.pt", "wrong": tmp_path / "wrong.pt"}
    filled = [a.format(**paths) for a in args]
    result = _run(*filled)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"scinet evaluate: error: {message.format(**paths)}"]


def test_cli_refuses_an_objective_other_than_the_agents_own(tmp_path: Path) -> None:
    # Evaluated in another plane, an agent only wanders: a wrong name would pass for a bad agent.
    agent = tmp_path / "env1.pt"
    save_checkpoint(agent, "dps-agent", DPSNetwork(36), objective="env1")
    result = _run("--agent", agent, "--objective", "env3", "--episodes", "5")
    assert result.returncode == 2
    message = f"{agent} was trained for objective env1, not env3: omit --objective or pass env1"
    assert result.stderr.strip().splitlines() == [f"scinet evaluate: error: {message}"]
