"""The figures render from small synthetic inputs, overlay published curves only when there are any, and
say "published data unavailable" otherwise; the trajectory figure draws each agent's episodes in its plane."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import torch

from scinet import figures, trajectories
from scinet.analysis import grid_cells
from scinet.envs import SubGridConfig
from scinet.nets import DPSNetwork
from scinet.play import Episode

OBJECTIVES = ["env1", "env2", "env3"]
LATENT = 4
ENCODES = {0: "x", 2: "z"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200
    assert np.ptp(image[..., :3]) > 0  # not a blank canvas
    assert not list(path.parent.glob("*.tmp"))


def policy_curves() -> dict[str, pd.DataFrame]:
    episodes = np.arange(1, 21) * 1000
    return {
        name: pd.DataFrame({"episodes": episodes, "mean_steps": 300.0 / np.sqrt(np.arange(1, 21)) + 8 + k})
        for k, name in enumerate(OBJECTIVES)
    }


def selection_curve() -> pd.DataFrame:
    step = np.arange(1, 11) * 100
    data: dict[str, np.ndarray] = {"step": step, "reconstruction_bce": np.geomspace(0.2, 1e-3, 10)}
    for k in range(3):
        data[f"decoder{k}_loss"] = np.geomspace(0.5, 0.3, 10)
    for prefix in ("encoder", "decoder0", "decoder1", "decoder2"):
        for i in range(LATENT):
            data[f"{prefix}_s{i}"] = np.linspace(-10, -3 if i in ENCODES else 5, 10)
    return pd.DataFrame(data)


def zenodo_tables() -> dict[str, pd.DataFrame]:
    """Small tables in the layout the fetch_zenodo stage writes (two agents, both loss types, enc + env1)."""
    n = 50
    episodes = pd.concat(
        pd.DataFrame({"time": "t", "env_id": env, "episode": np.arange(1, n + 1), "total_reward": 1.0,
                      "length": np.linspace(200, 10, n).astype(int), "source": "log.txt"})
        for env in ("env1", "env2")
    )  # fmt: skip
    losses = pd.concat(
        pd.DataFrame({"time": "t", "loss_type": kind, "env_id": env, "training_count": np.arange(n) * 10,
                      "loss": np.geomspace(0.5, 0.01, n), "source": "loss.txt"})
        for kind, env in (("Policy", "env1"), ("Policy", "env3"), ("Autoencoder", "env1"))
    )  # fmt: skip
    selection = pd.concat(
        pd.DataFrame({"env_id": env, "step": step, "neuron": np.arange(8), "value": step - 1.0})
        for env in ("enc", "env1")
        for step in range(5)
    ).assign(source="selection.txt")
    return {"episodes": episodes, "losses": losses, "selection": selection}


def draw_all(out: Path, tables: dict[str, pd.DataFrame | None]) -> dict[str, figures.FigureResult]:
    curve = selection_curve()
    size = (4, 5, 6)
    cells = grid_cells(size).astype(float)
    latent = np.column_stack([cells[:, 0], cells.sum(1), np.sin(cells[:, 2]), np.zeros(len(cells))])
    eta2 = {0: {"x": 1.0, "y": 0.0, "z": 0.0}, 2: {"x": 0.0, "y": 0.0, "z": 0.999}}
    return {
        "learning": figures.learning_curves(
            policy_curves(), {n: 8.0 for n in OBJECTIVES}, out / "lc.png", tables["episodes"], window=5
        ),
        "losses": figures.selection_losses(curve, OBJECTIVES, out / "loss.png", tables["losses"]),
        "values": figures.selection_values(
            curve, OBJECTIVES, ENCODES, out / "sel.png", tables["selection"], {"env1": ["x", "y"]}
        ),
        "latent": figures.latent_responses(latent, size, ENCODES, eta2, out / "lat.png"),
    }


def test_without_published_data_every_panel_says_unavailable(tmp_path: Path) -> None:
    results = draw_all(tmp_path, {"episodes": None, "losses": None, "selection": None})
    for result in results.values():
        assert_png(result.path)
        assert result.published == 0
    assert results["learning"].ours == 3 and results["learning"].notes == 3
    assert results["losses"].ours == 4 and results["losses"].notes == 2
    assert results["values"].ours == 4 * LATENT and results["values"].notes == 4
    assert results["latent"].ours == len(ENCODES) * 3 and results["latent"].notes == 0


def test_published_tables_are_overlaid_where_they_have_rows(tmp_path: Path) -> None:
    results = draw_all(tmp_path, zenodo_tables())
    for result in results.values():
        assert_png(result.path)
    # env1 and env2 have published episodes; env3's panel keeps the note
    assert (results["learning"].published, results["learning"].notes) == (2, 1)
    # Policy: env1, env3; Autoencoder: env1
    assert (results["losses"].published, results["losses"].notes) == (3, 0)
    # enc and env1: 8 neurons each; env2 and env3 panels keep the note
    assert (results["values"].published, results["values"].notes) == (16, 2)


def test_empty_published_tables_count_as_unavailable(tmp_path: Path) -> None:
    empty = zenodo_tables()["episodes"].iloc[:0]
    result = figures.learning_curves(policy_curves(), {}, tmp_path / "lc.png", empty)
    assert_png(result.path)
    assert (result.published, result.notes) == (0, 3)


def test_latent_responses_without_kept_neurons(tmp_path: Path) -> None:
    result = figures.latent_responses(np.zeros((8, 2)), (2, 2, 2), {}, {}, tmp_path / "none.png")
    assert_png(result.path)
    assert result.ours == 0


def test_stage_reads_zenodo_only_when_status_says_available(tmp_path: Path) -> None:
    """The stage's gate: tables present but ``available: false`` (a stale fetch) are not drawn."""
    for available in (False, True):
        zenodo = tmp_path / str(available) / "data" / "zenodo"
        zenodo.mkdir(parents=True)
        (zenodo / "status.json").write_text(json.dumps({"available": available, "reason": "offline"}))
        for name, table in zenodo_tables().items():
            table.to_csv(zenodo / f"{name}.tsv", sep="\t", index=False)
    root = Path(__file__).resolve().parents[1]
    code = (  # one interpreter for both cases: importing the stage imports torch
        f"import os, sys; sys.path.insert(0, {str(root)!r}); import stages.figures as f\n"
        "for case in ('False', 'True'):\n"
        "    os.chdir(case); t = f.published_tables(); os.chdir('..')\n"
        "    print('tables', sorted(k for k, v in t.items() if v is not None))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("tables")]
    assert lines == ["tables []", "tables ['episodes', 'losses', 'selection']"]


TINY_OBJECTIVES = {"env1": ((1, 1, 0), (3, 4)), "env2": ((0, 1, 1), (4, 1)), "env3": ((1, 0, 1), (0, 2))}
"""Three objectives of a 4x5x3 world, one per plane, as in params.yaml but small."""


class TowardTheReward(DPSNetwork):
    """A hand-built agent that knows its objective: every step is one along a shortest path to the reward.

    Its h-value for that step exceeds the others' by 100, so the softmax at beta 0.5 takes it with
    probability 1 - 5e-22: the agent plays :func:`scinet.play.play_episodes` like a perfect trained one.
    """

    def __init__(self, config: SubGridConfig) -> None:
        super().__init__(config.obs_size, hidden=[1])
        self.config = config

    def h_values(self, obs: torch.Tensor) -> torch.Tensor:
        bounds = np.cumsum((0, *self.config.grid_size))
        h = torch.zeros(obs.shape[0], 6)
        for row, one_hot in enumerate(obs.numpy()):
            cell = [int(one_hot[lo:hi].argmax()) for lo, hi in itertools.pairwise(bounds)]
            for axis, target in zip(self.config.plane_axes, self.config.reward_pos, strict=True):
                if cell[axis] != target:
                    h[row, 2 * axis + int(cell[axis] > target)] = 100.0
                    break
        return h


def tiny_worlds() -> dict[str, SubGridConfig]:
    return {
        name: SubGridConfig(grid_size=(4, 5, 3), plane=plane, reward_pos=reward, max_steps=20)
        for name, (plane, reward) in TINY_OBJECTIVES.items()
    }


def test_one_trajectory_panel_per_agent_from_its_starts_to_its_reward(tmp_path: Path) -> None:
    worlds = tiny_worlds()
    played = trajectories.play_agents({n: (TowardTheReward(w), w) for n, w in worlds.items()}, beta=0.5)
    result = trajectories.trajectory_panels(played, tmp_path / "trajectories.png")
    assert_png(result.path)
    assert list(result.panels) == OBJECTIVES
    for name, (world, episodes) in played.items():
        panel = result.panels[name]
        a, b = world.plane_axes
        assert len(panel.paths) == len(episodes) == trajectories.EPISODES
        assert panel.reward == world.reward_pos
        for path, episode in zip(panel.paths, episodes, strict=True):
            assert path.start == episode.cells[0]
            assert path.cells[0] == (episode.cells[0][a], episode.cells[0][b])  # the start, in the plane
            assert path.cells[-1] == world.reward_pos and path.reached  # the path ends on the reward
            assert path.steps == path.shortest and path.off_plane == 0  # the hand-built agent is optimal
        steps = sum(p.steps for p in panel.paths)
        assert f"optimal {steps} vs agent {steps} steps over 4 episodes" in panel.title
    assert "xz plane (y ignored)" in result.panels["env3"].title


def test_steps_off_the_plane_and_time_outs_are_counted(tmp_path: Path) -> None:
    world = tiny_worlds()["env1"]  # xy plane, z ignored
    wander = Episode(((0, 4, 0), (0, 4, 1), (1, 4, 1), (1, 4, 0), (2, 4, 0)), (3, 4, 0), False, 3)
    result = trajectories.trajectory_panels({"env1": (world, [wander])}, tmp_path / "t.png")
    (path,) = result.panels["env1"].paths
    assert path.cells == ((0, 4), (0, 4), (1, 4), (1, 4), (2, 4))
    assert (path.steps, path.shortest, path.off_plane, path.reached) == (4, 3, 2, False)
    assert "optimal 3 vs agent 4 steps over 1 episodes" in result.panels["env1"].title


def test_the_trajectory_figure_is_the_same_bytes_for_the_same_agents(tmp_path: Path) -> None:
    worlds = tiny_worlds()
    agents = {n: (TowardTheReward(w), w) for n, w in worlds.items()}
    for name in ("a.png", "b.png"):
        trajectories.trajectory_panels(trajectories.play_agents(agents, beta=0.5), tmp_path / name)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
