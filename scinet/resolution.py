"""Full resolution: whether a neuron tells every value of its coordinate apart, and whether a decoder can.

η² (scinet.analysis) measures how much of a neuron's variance a coordinate explains through *any* function of
it, so a neuron that encodes only a coarse function of x (its parity, or x // 2) scores η² = 1 with x, like
one that encodes x itself. The paper's claim is the stronger one: the 3 kept neurons *are* the coordinates.
Two checks here make that measurable, both over every cell of the grid and on the noiseless latent:

- :func:`neuron_resolution`: read the coordinate back from the neuron alone, by the nearest level mean;
- :func:`reconstruction_accuracy`: let the autoencoder decoder read the whole cell back from the kept neurons
  alone, every cut neuron held at its mean, so that a decoder relying on a "cut" neuron shows.

This module knows arrays and modules only, not encoders' reports, so that scinet.analysis can import it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from scinet.nets import DenseDecoder


@dataclass(frozen=True)
class Resolution:
    """How finely one neuron's activation separates the values (levels) of one coordinate.

    ``accuracy``: share of cells whose coordinate the nearest-level-mean classifier gets right; the pass
    criterion, since "separates every value" means exactly that the value can be read back.
    ``gap_ratio``: the smallest gap between neighbouring sorted level means divided by the pooled
    within-level standard deviation (see :func:`neuron_resolution`); the margin behind the accuracy.
    It is ``math.inf`` for an exact encoding (no spread within a level, all levels distinct) and 0 when two
    levels share one mean, whatever the spread.
    """

    accuracy: float
    gap_ratio: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; an infinite ``gap_ratio`` becomes null, since JSON has no infinity."""
        return {
            "accuracy": self.accuracy,
            "gap_ratio": None if math.isinf(self.gap_ratio) else self.gap_ratio,
        }


def neuron_resolution(values: np.ndarray, levels: np.ndarray) -> Resolution:
    """Classify ``levels`` from ``values`` alone by the nearest level mean; the accuracy and the gap ratio.

    The level mean of value v is the mean of ``values`` over the cells whose coordinate is v. Nearest mean is
    the simplest reader that makes no assumption about the shape of the encoding: the authors' neurons are
    not monotone in their coordinate (their level means fold back), so thresholds on a sorted axis of
    coordinate values would misjudge them, while sorting the *means* does not. Ties go to the smaller level.

    Gap ratio = min over neighbouring sorted level means of (m_(k+1) - m_(k)), divided by the pooled
    within-level standard deviation s_w = sqrt(Σ_cells (value - its level mean)² / (n_cells - n_levels)).
    Pooled, because every level of the full grid has the same number of cells, so s_w is the usual
    (ANOVA) estimate of the spread the classifier has to beat, from all cells rather than one level's few,
    and it is the within-level variance that η² sets against the total. With roughly normal spread, a cell
    of one of two neighbouring levels is misread when it strays more than half the gap, so a ratio r gives
    an error of about Φ(-r/2) per side: 2.3 % at r = 4, 0.6 % at r = 5, 0.1 % at r = 6.
    """
    values = np.asarray(values, dtype=np.float64)
    levels = np.asarray(levels)
    if values.ndim != 1 or values.shape != levels.shape or values.size == 0:
        shapes = f"{values.shape}, {levels.shape}"
        raise ValueError(f"values and levels must be non-empty 1-D arrays of equal length, got {shapes}")
    names, index, counts = np.unique(levels, return_inverse=True, return_counts=True)
    means = np.bincount(index, weights=values) / counts
    nearest = np.abs(values[:, None] - means[None, :]).argmin(axis=1)
    accuracy = float(np.mean(nearest == index))
    if len(names) < 2:
        return Resolution(accuracy, math.inf)  # one level: nothing to separate
    gap = float(np.diff(np.sort(means)).min())
    dof = len(values) - len(names)
    within = math.sqrt(float(np.sum((values - means[index]) ** 2)) / dof) if dof > 0 else 0.0
    if gap == 0.0:
        return Resolution(accuracy, 0.0)
    return Resolution(accuracy, gap / within if within > 0.0 else math.inf)


def reconstruction_accuracy(
    decoder: DenseDecoder,
    latent: np.ndarray,
    kept: Sequence[int],
    cells: np.ndarray,
    grid_size: Sequence[int],
) -> tuple[float, ...]:
    """Per axis, the share of cells that ``decoder`` reconstructs from the ``kept`` neurons alone.

    ``latent`` is the (n_cells, latent_dim) noiseless latent of ``cells`` (n_cells, 3). Every neuron not in
    ``kept`` is replaced by its mean over the cells: a cut neuron carries no information (its selection noise
    drowns it), and its mean is the constant the decoder sees on average, the fairest stand-in that holds
    nothing about the cell. The decoder's output is the concatenated one-hot x, y, z (lengths ``grid_size``);
    a coordinate counts as reconstructed when the argmax of its block is the cell's coordinate. The argmax is
    taken over the logits, the same as over the sigmoid's output but for the ties that the sigmoid makes
    where it rounds two large logits to 1.0 in float32.
    """
    latent = np.asarray(latent, dtype=np.float64)
    if latent.ndim != 2 or len(latent) != len(cells):
        raise ValueError(f"latent must be (n_cells, latent_dim) for {len(cells)} cells, got {latent.shape}")
    cut = sorted(set(range(latent.shape[1])) - set(kept))
    held = latent.copy()
    held[:, cut] = latent[:, cut].mean(axis=0)
    device = next(iter(decoder.parameters()), torch.empty(0)).device
    with torch.inference_mode():
        output = decoder.logits(torch.as_tensor(held, dtype=torch.float32, device=device)).cpu().numpy()
    if output.shape != (len(cells), sum(grid_size)):
        raise ValueError(f"decoder logits have shape {output.shape}, expected {(len(cells), sum(grid_size))}")
    blocks = np.split(output, np.cumsum(grid_size)[:-1], axis=1)
    return tuple(float(np.mean(b.argmax(axis=1) == cells[:, a])) for a, b in enumerate(blocks))
