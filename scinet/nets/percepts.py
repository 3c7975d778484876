"""Percepts: a grid cell as the networks see it, the concatenated one-hot x, y and z on a device.

Experiences, requests and selection data travel as compact cell coordinates; they become percepts only here,
on the device that computes with them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def cells_to_percepts(
    cells: np.ndarray | torch.Tensor, grid_size: Sequence[int], device: torch.device
) -> torch.Tensor:
    """(n, 3) cell coordinates -> (n, N+M+L) float32 concatenated one-hot percepts on ``device``."""
    cells = torch.as_tensor(np.asarray(cells), device=device).long()
    offsets = torch.tensor([0, grid_size[0], grid_size[0] + grid_size[1]], device=device)
    percepts = torch.zeros((cells.shape[0], sum(grid_size)), device=device)
    return percepts.scatter_(1, cells + offsets, 1.0)
