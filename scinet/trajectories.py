"""A figure of each trained agent's walks, drawn in the plane that the agent's objective depends on.

The learning curves and path-length statistics say how close to optimal an agent is on average; a few of its
walks show how it gets there: straight at the reward, along a detour, or stepping along the axis its
objective ignores. The episodes are played by :func:`scinet.play.play_episodes`, the code behind
``python -m scinet play``, so the figure shows the behaviour the GIFs and the evaluation measure (the
softmax policy at the params' ``beta``), with a fixed seed so that the same agents give the same PNG.

Each panel is the agent's own plane, with the plane's first axis to the right and its second upwards as in
:mod:`scinet.envs.render`. The third coordinate does not enter the objective, so a step along it (or a bump
into the edge of the cube) moves nothing in the picture; the legend counts the steps along that axis, so the
step count in the title never looks larger than the drawn path without a reason.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from scinet.envs import SubGridConfig
from scinet.errors import CheckpointError
from scinet.figures import COORDS, save_png
from scinet.nets import DPSNetwork, dps_agent_objective, load_dps_agent
from scinet.play import Episode, play_episodes

EPISODES = 4
"""Episodes drawn per agent: enough to show starts on several sides of the reward, few enough to read."""
SEED = 0
"""Seeds the starts and the softmax choices of every agent's episodes: a fixed seed, a reproducible figure."""
PANEL_WIDTH = 4.6
"""Inches per agent's panel; the figure's height follows from it, the planes' shapes and the legends."""
SPREAD = 0.12
"""Cells by which consecutive episodes' lines are shifted apart, so that shared stretches stay visible."""

PlaneCell = tuple[int, int]


@dataclass(frozen=True)
class PlanePath:
    """One episode projected onto the agent's plane: the cells drawn and the counts its legend gives."""

    cells: tuple[PlaneCell, ...]
    """The agent's plane cell at the start and after every step (a step along the ignored axis repeats it)."""
    start: tuple[int, int, int]
    steps: int
    shortest: int
    off_plane: int
    """Steps that moved the agent along the axis its objective ignores."""
    reached: bool


@dataclass(frozen=True)
class Panel:
    """One agent's panel: its title and the paths drawn in it."""

    title: str
    reward: PlaneCell
    paths: tuple[PlanePath, ...]


@dataclass(frozen=True)
class TrajectoryFigure:
    """What :func:`trajectory_panels` drew: one panel per agent, by objective name."""

    path: Path
    panels: dict[str, Panel]


def load_agent(path: Path, objective: str, config: SubGridConfig) -> DPSNetwork:
    """The trained agent of ``objective``; one that records another objective is refused (CheckpointError).

    An agent walks in any world of its size, and in the wrong plane it only wanders: its panel would look
    like a bad agent rather than like swapped files.
    """
    recorded = dps_agent_objective(path)
    if recorded not in (None, objective):
        raise CheckpointError.at(path, f"was trained for objective {recorded}, not {objective}")
    return load_dps_agent(path, input_dim=config.obs_size)


def play_agents(
    agents: Mapping[str, tuple[DPSNetwork, SubGridConfig]],
    beta: float,
    episodes: int = EPISODES,
    seed: int = SEED,
) -> dict[str, tuple[SubGridConfig, list[Episode]]]:
    """Each agent's ``episodes`` episodes in its own world, as ``scinet play --seed SEED`` plays them."""
    return {
        name: (config, play_episodes(agent, config, episodes, seed, beta=beta))
        for name, (agent, config) in agents.items()
    }


def project(episode: Episode, config: SubGridConfig) -> PlanePath:
    """The episode as the agent's plane sees it, with its steps along the ignored axis counted."""
    a, b = config.plane_axes
    c = config.orthogonal_axis
    off_plane = sum(before[c] != after[c] for before, after in itertools.pairwise(episode.cells))
    return PlanePath(
        cells=tuple((cell[a], cell[b]) for cell in episode.cells),
        start=episode.cells[0],
        steps=episode.steps,
        shortest=episode.shortest,
        off_plane=off_plane,
        reached=episode.reached,
    )


def trajectory_panels(
    played: Mapping[str, tuple[SubGridConfig, Sequence[Episode]]], out: Path
) -> TrajectoryFigure:
    """One panel per agent: its episodes' paths in its plane, each start, the reward and the walls.

    The title gives the agent's steps against the optimal path lengths summed over its episodes; the legend
    gives each episode's start (all three coordinates), steps, optimum and steps along the ignored axis. A
    time-out's last cell is marked with a cross, since its path ends away from the reward.
    """
    names = list(played)
    fig = Figure(figsize=(PANEL_WIDTH * len(names), _height(played.values())), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    panels = {}
    for ax, name in zip(axes, names, strict=True):
        config, episodes = played[name]
        panels[name] = _draw_panel(ax, name, config, [project(e, config) for e in episodes])
    fig.suptitle("The trained agents' episodes, each drawn in the plane of its objective")
    save_png(fig, out)
    return TrajectoryFigure(Path(out), panels)


def _height(played: Iterable[tuple[SubGridConfig, Sequence[Episode]]]) -> float:
    """Inches for the titles, the tallest plane at the panel's width and the longest legend below it.

    Constrained layout keeps each square of cells square but does not grow the figure: a figure too short
    for its legends would cut them off.
    """
    tallest = legend_rows = 0.0
    for config, episodes in played:
        a, b = config.plane_axes
        tallest = max(tallest, config.grid_size[b] / config.grid_size[a])
        legend_rows = max(legend_rows, len(episodes) + 2)  # the legend's title, the reward, each episode
    return 1.45 + (PANEL_WIDTH - 0.7) * tallest + 0.2 * legend_rows


def _draw_panel(ax: Axes, name: str, config: SubGridConfig, paths: list[PlanePath]) -> Panel:
    a, b = config.plane_axes
    ignored = COORDS[config.orthogonal_axis]
    side_a, side_b = config.grid_size[a], config.grid_size[b]
    for i, j in zip(*config.wall_mask.nonzero(), strict=True):
        ax.add_patch(Rectangle((i - 0.5, j - 0.5), 1, 1, color="0.3", zorder=1))
    reward = config.reward_pos
    ax.add_patch(Rectangle((reward[0] - 0.5, reward[1] - 0.5), 1, 1, color="#ebaa00", alpha=0.45, zorder=1))
    ax.plot(*reward, marker="*", ms=16, color="#c98c00", mec="k", mew=0.6, ls="none", zorder=4,
            label=f"reward ({COORDS[a]}, {COORDS[b]}) = {reward}")  # fmt: skip
    for k, path in enumerate(paths):
        shift = (k - (len(paths) - 1) / 2) * SPREAD
        xs = [cell[0] + shift for cell in path.cells]
        ys = [cell[1] + shift for cell in path.cells]
        colour = f"C{k}"
        ax.plot(xs, ys, color=colour, lw=1.8, alpha=0.85, marker="o", markevery=[0], ms=8, mec="k", mew=0.6,
                zorder=3, label=_legend(path, ignored))  # fmt: skip
        if not path.reached:
            ax.plot(xs[-1], ys[-1], marker="X", ms=9, color=colour, mec="k", mew=0.6, zorder=3)
    steps = sum(p.steps for p in paths)
    shortest = sum(p.shortest for p in paths)
    title = (
        f"{name}: {COORDS[a]}{COORDS[b]} plane ({ignored} ignored)\n"
        f"optimal {shortest} vs agent {steps} steps over {len(paths)} episodes"
    )
    ax.set_title(title, fontsize=10)
    ax.set_xlim(-0.5, side_a - 0.5)
    ax.set_ylim(-0.5, side_b - 0.5)
    ax.set_aspect("equal", anchor="N")  # the square sits under its title; the room left is the legend's
    ax.set_xticks(range(side_a))
    ax.set_yticks(range(side_b))
    ax.set_xticks([v - 0.5 for v in range(1, side_a)], minor=True)
    ax.set_yticks([v - 0.5 for v in range(1, side_b)], minor=True)
    ax.tick_params(labelsize=7, which="both", length=0)
    ax.grid(True, which="minor", color="0.85", lw=0.6)
    ax.set_xlabel(COORDS[a])
    ax.set_ylabel(COORDS[b])
    note = "dot: start; cross: where a time-out ended" if not all(p.reached for p in paths) else "dot: start"
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=7, frameon=False, title=note,
              title_fontsize=7)  # fmt: skip
    return Panel(title, reward, tuple(paths))


def _legend(path: PlanePath, ignored: str) -> str:
    ended = f"{path.steps} steps" if path.reached else f"time-out at {path.steps} steps"
    along = f", {path.off_plane} along {ignored}" if path.off_plane else ""
    return f"start {path.start}: {ended} (optimal {path.shortest}){along}"
