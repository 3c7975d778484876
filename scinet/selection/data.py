"""Selection data: what one agent would and would not do at the first step of an episode, stored compactly.

An observation is a grid cell, so the data keeps the cell's three coordinates (int8) and the action index
(int8) instead of the 36-float one-hot observation and 6-float one-hot action: 6 bytes instead of 168.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scinet.atomic import atomic_write
from scinet.envs.config import NUM_ACTIONS
from scinet.errors import CheckpointError

FIELDS = {
    "cells": ("iu", (3,), "integers of shape (n, 3)"),
    "actions": ("iu", (), "integers of shape (n,)"),
    "targets": ("f", (), "floats of shape (n,)"),
}
"""Each array's allowed dtype kinds (numpy's ``dtype.kind``), its shape after the sample axis, in words."""


@dataclass(frozen=True)
class SelectionData:
    """One agent's experiences: ``cells`` (n, 3), ``actions`` (n,), ``targets`` (n,)."""

    cells: np.ndarray
    actions: np.ndarray
    targets: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.cells)
        if self.cells.shape != (n, 3) or self.actions.shape != (n,) or self.targets.shape != (n,):
            raise ValueError(
                f"inconsistent selection data: cells {self.cells.shape}, actions {self.actions.shape}, "
                f"targets {self.targets.shape}"
            )

    def __len__(self) -> int:
        return len(self.targets)

    @staticmethod
    def concat(parts: list[SelectionData]) -> SelectionData:
        return SelectionData(
            np.concatenate([p.cells for p in parts]).astype(np.int8),
            np.concatenate([p.actions for p in parts]).astype(np.int8),
            np.concatenate([p.targets for p in parts]).astype(np.float32),
        )

    def head(self, n: int) -> SelectionData:
        return SelectionData(self.cells[:n], self.actions[:n], self.targets[:n])

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes a compressed .npz atomically (a temporary file renamed into place)."""
        with atomic_write(path, "wb") as handle:
            np.savez_compressed(
                handle,
                cells=self.cells.astype(np.int8),
                actions=self.actions.astype(np.int8),
                targets=self.targets.astype(np.float32),
            )

    @staticmethod
    def load(path: str | os.PathLike[str], grid_size: Sequence[int] | None = None) -> SelectionData:
        """The data saved at ``path``; CheckpointError (naming the path and the fix) for any damage.

        Every array is checked, because nothing downstream would notice a bad value: an action of 7 or a
        NaN target only makes training learn nonsense. ``grid_size``, if given, bounds the cells too.
        Healthy files return their arrays unchanged (int8, int8, float32, as :meth:`save` writes them).
        """
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
        except FileNotFoundError:
            raise
        except Exception as exc:  # zipfile, zlib and numpy's format reader each raise their own types
            problem = f"not a readable .npz file ({type(exc).__name__}: {exc})"
            raise CheckpointError.at(path, problem) from exc
        return SelectionData._checked(path, arrays, grid_size)

    @staticmethod
    def _checked(
        path: str | os.PathLike[str], arrays: dict[str, np.ndarray], grid_size: Sequence[int] | None
    ) -> SelectionData:
        if sorted(arrays) != sorted(FIELDS):
            raise CheckpointError.at(path, f"holds arrays {sorted(arrays)}, expected {list(FIELDS)}")
        for name, (kinds, row, wanted) in FIELDS.items():
            array = arrays[name]
            if array.dtype.kind not in kinds or array.ndim != 1 + len(row) or array.shape[1:] != row:
                problem = f"{name} is {array.dtype} of shape {array.shape}, expected {wanted}"
                raise CheckpointError.at(path, problem)
        lengths = {name: len(array) for name, array in arrays.items()}
        if len(set(lengths.values())) != 1:
            raise CheckpointError.at(path, f"arrays of different lengths {lengths}")
        if lengths["targets"] == 0:
            raise CheckpointError.at(path, "holds no samples")
        cells, actions, targets = arrays["cells"], arrays["actions"], arrays["targets"]
        upper = np.asarray(grid_size if grid_size is not None else [np.iinfo(np.int8).max + 1] * 3)
        if (cells < 0).any() or (cells >= upper).any():
            raise CheckpointError.at(path, f"cells outside the grid {tuple(int(u) for u in upper)}")
        if (actions < 0).any() or (actions >= NUM_ACTIONS).any():
            raise CheckpointError.at(path, f"actions outside 0..{NUM_ACTIONS - 1}")
        if not np.isfinite(targets).all():
            raise CheckpointError.at(path, "non-finite targets")
        return SelectionData(cells.astype(np.int8), actions.astype(np.int8), targets.astype(np.float32))
