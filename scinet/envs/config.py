"""The sub-grid world's parameters, validated once and shared by the single and the batched environment.

Both environments and the optimal-path solver read the same :class:`SubGridConfig`, so the rules that make a
world valid (and the precomputed tables derived from it) live in exactly one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

NUM_ACTIONS = 6
"""Actions 0..5 move +x, -x, +y, -y, +z, -z."""

ACTION_DELTAS = np.array(
    [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]],
    dtype=np.int64,
)
ACTION_DELTAS.setflags(write=False)


@dataclass(frozen=True)
class SubGridConfig:
    """One sub-grid world: the cube, the hidden plane, the reward's position in it, walls and time limit.

    The defaults are the paper's first objective (env1: the xy plane of a 12x12x12 cube, 400 steps), so
    that a world built without arguments is the one the paper used; the original package's own defaults (a
    50x50x50 cube, no time limit) were never used in the paper. Invalid worlds raise
    ``ValueError`` as the original does: a grid side <= 1, a plane that is not 0/1, a wall that is not 2-D and
    a reward inside a wall. We are stricter where the original would silently misbehave: the plane must have
    exactly two ones, and the reward and walls must lie inside the plane.
    """

    grid_size: tuple[int, int, int] = (12, 12, 12)
    plane: tuple[int, int, int] = (1, 1, 0)
    reward_pos: tuple[int, int] = (6, 11)
    max_steps: int = 400
    plane_walls: tuple[tuple[int, int], ...] = ()
    wall_mask: np.ndarray = field(init=False, repr=False, compare=False)
    valid_starts: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        grid = _int_tuple(self.grid_size, "grid_size")
        if len(grid) != 3 or any(side <= 1 for side in grid):
            raise ValueError(f"The grid must be 3-D with every side > 1, got grid_size={list(grid)}")
        plane = _int_tuple(self.plane, "plane")
        if len(plane) != 3 or any(v not in (0, 1) for v in plane):
            raise ValueError(f"The plane must be a list of three 0/1 values, got plane={list(plane)}")
        if sum(plane) != 2:
            raise ValueError(
                f"The plane must have exactly two ones (e.g. [1, 1, 0]), got plane={list(plane)}"
            )
        walls = tuple(_int_tuple(w, "plane_walls entry") for w in self.plane_walls)
        for wall in walls:
            if len(wall) != 2:
                raise ValueError(f"A wall is not 2-D: {list(wall)} (walls are cells of the plane)")
        reward = _int_tuple(self.reward_pos, "reward_pos")
        if len(reward) != 2:
            raise ValueError(f"reward_pos must be 2 coordinates inside the plane, got {list(reward)}")
        if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, (int, np.integer)):
            raise ValueError(f"max_steps must be an integer, got {self.max_steps!r}")
        if self.max_steps < 0:
            raise ValueError(f"max_steps must be >= 0 (0 = unbounded), got {self.max_steps}")

        object.__setattr__(self, "grid_size", grid)
        object.__setattr__(self, "plane", plane)
        object.__setattr__(self, "reward_pos", reward)
        object.__setattr__(self, "plane_walls", walls)
        object.__setattr__(self, "max_steps", int(self.max_steps))

        a, b = self.plane_axes
        side_a, side_b = grid[a], grid[b]
        for cell, what in [(reward, "reward_pos"), *((w, "wall") for w in walls)]:
            if not (0 <= cell[0] < side_a and 0 <= cell[1] < side_b):
                raise ValueError(f"{what} {list(cell)} lies outside the {side_a}x{side_b} plane")
        if reward in walls:
            raise ValueError(f"The reward lies inside a wall: {list(reward)}")

        mask = np.zeros((side_a, side_b), dtype=bool)
        for wall in walls:
            mask[wall] = True
        mask.setflags(write=False)
        object.__setattr__(self, "wall_mask", mask)
        object.__setattr__(self, "valid_starts", self._enumerate_valid_starts())

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any] | SubGridConfig) -> SubGridConfig:
        """Builds a config from the environment's keyword arguments (as in params.yaml)."""
        if isinstance(config, SubGridConfig):
            return config
        known = {"grid_size", "plane", "reward_pos", "max_steps", "plane_walls"}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"Unknown sub-grid world keyword(s) {unknown}; expected some of {sorted(known)}")
        return cls(**dict(config))

    def as_kwargs(self) -> dict[str, Any]:
        """The environment keywords as plain lists, for ``gymnasium.make``, the batched env or a JSON file."""
        return {
            "grid_size": list(self.grid_size),
            "plane": list(self.plane),
            "reward_pos": list(self.reward_pos),
            "max_steps": self.max_steps,
            "plane_walls": [list(w) for w in self.plane_walls],
        }

    @property
    def plane_axes(self) -> tuple[int, int]:
        """The two axes (0=x, 1=y, 2=z) that span the plane in which the reward lives."""
        a, b = (i for i, v in enumerate(self.plane) if v)
        return a, b

    @property
    def obs_size(self) -> int:
        """Length of the observation: one-hot x, y and z concatenated."""
        return sum(self.grid_size)

    def _enumerate_valid_starts(self) -> np.ndarray:
        """All cells where an episode may start: off walls and off the reward, in x-major order.

        Drawing uniformly from this table is the same distribution as the original's rejection sampling
        (uniform cell, redrawn while on a wall or on the reward), and lets the batched env draw many at once.
        """
        cells = np.stack(np.meshgrid(*(np.arange(n) for n in self.grid_size), indexing="ij"), axis=-1)
        cells = cells.reshape(-1, 3)
        a, b = self.plane_axes
        on_wall = self.wall_mask[cells[:, a], cells[:, b]]
        on_reward = (cells[:, a] == self.reward_pos[0]) & (cells[:, b] == self.reward_pos[1])
        starts = np.ascontiguousarray(cells[~on_wall & ~on_reward], dtype=np.int64)
        starts.setflags(write=False)
        return starts


def _int_tuple(value: Any, name: str) -> tuple[int, ...]:
    """Coerces a list of integers (YAML gives lists) to a tuple, rejecting floats, strings and bools."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise ValueError(f"{name} must be a list of integers, got {value!r}")
    out = []
    for v in value:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{name} must be a list of integers, got {list(value)!r}")
        out.append(int(v))
    return tuple(out)
