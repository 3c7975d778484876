"""Pictures of a sub-grid world: the plane that matters as text or as an RGB image.

Only the hidden plane decides where the reward is, so both pictures show that plane (its first axis to
the right, its second axis upwards) with the agent's and the reward's projections and the walls. The axis
the objective ignores still matters for reaching the reward (the reward sits at the start's coordinate
along it), so the text names both cells and the image adds a strip with the two coordinates on that axis.
"""

from __future__ import annotations

import numpy as np

from scinet.envs.config import SubGridConfig

AXES = "xyz"
CELL = 16
"""Pixels per cell side in the RGB image."""
INSET = 3
"""The agent is drawn this many pixels inside its cell, so that a reward under it stays visible."""
BACKGROUND = (245, 245, 245)
GRID = (205, 205, 205)
WALL = (80, 80, 80)
REWARD = (235, 170, 0)
AGENT = (30, 90, 200)


def ansi_frame(config: SubGridConfig, agent: tuple[int, ...], reward: tuple[int, ...], time: int) -> str:
    """The plane as rows of ``.`` (free), ``#`` (wall), ``R`` (reward) and ``A`` (agent), then the cells.

    The agent's letter wins where both project onto one plane cell; the last line says whether they also
    share the third coordinate.
    """
    a, b = config.plane_axes
    cells = np.where(config.wall_mask, "#", ".").astype("<U1")
    cells[reward[a], reward[b]] = "R"
    cells[agent[a], agent[b]] = "A"
    rows = []
    for j in reversed(range(cells.shape[1])):
        label = AXES[b] if j == cells.shape[1] - 1 else " "
        rows.append(f"{label} " + " ".join(cells[:, j]))
    rows.append(f"  {AXES[a]}")
    limit = f"/{config.max_steps}" if config.max_steps else ""
    rows.append(f"agent {tuple(agent)}  reward {tuple(reward)}  step {time}{limit}")
    return "\n".join(rows) + "\n"


def rgb_frame(config: SubGridConfig, agent: tuple[int, ...], reward: tuple[int, ...]) -> np.ndarray:
    """An (H, W, 3) uint8 image: the plane, a one-cell gap, and a strip along the ignored axis."""
    a, b = config.plane_axes
    c = config.orthogonal_axis
    side_a, side_b, side_c = config.grid_size[a], config.grid_size[b], config.grid_size[c]
    rows = max(side_b, side_c)
    image = np.empty((rows * CELL, (side_a + 2) * CELL, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    canvas = _Canvas(image, rows)
    for i in range(side_a):
        for j in range(side_b):
            canvas.cell(i, j, WALL if config.wall_mask[i, j] else BACKGROUND)
    canvas.cell(reward[a], reward[b], REWARD)
    canvas.cell(agent[a], agent[b], AGENT, inset=INSET)
    strip = side_a + 1
    for k in range(side_c):
        canvas.cell(strip, k, BACKGROUND)
    canvas.cell(strip, reward[c], REWARD)
    canvas.cell(strip, agent[c], AGENT, inset=INSET)
    return image


class _Canvas:
    """Paints grid cells by (column, row) with row 0 at the bottom, as the plane's axes are drawn."""

    def __init__(self, image: np.ndarray, rows: int) -> None:
        self.image, self.rows = image, rows

    def cell(self, column: int, row: int, colour: tuple[int, int, int], inset: int = 0) -> None:
        top, left = (self.rows - 1 - row) * CELL, column * CELL
        if inset == 0:  # a free cell: its grid line first, the cell's colour inside it
            self.image[top : top + CELL, left : left + CELL] = GRID
            inset = 1
        self.image[top + inset : top + CELL - inset, left + inset : left + CELL - inset] = colour
