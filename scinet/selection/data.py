"""Selection data: what one agent would and would not do at the first step of an episode, stored compactly.

An observation is a grid cell, so the data keeps the cell's three coordinates (int8) and the action index
(int8) instead of the 36-float one-hot observation and 6-float one-hot action: 6 bytes instead of 168.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


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
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial.npz")
        np.savez_compressed(
            partial,
            cells=self.cells.astype(np.int8),
            actions=self.actions.astype(np.int8),
            targets=self.targets.astype(np.float32),
        )
        partial.replace(path)

    @staticmethod
    def load(path: str | os.PathLike[str]) -> SelectionData:
        with np.load(path) as arrays:
            return SelectionData(arrays["cells"], arrays["actions"], arrays["targets"])
