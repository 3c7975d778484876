"""A coordinate split over several kept neurons: what the pieces carry, so a failing verdict says why.

The agents' rewards sit at x = 6, y = 11 and z = 6 of the 12³ grid, and what a decoder needs from a
coordinate is where the reward lies from the agent: how far (|c - r|) and on which side (sign(c - r)). One
neuron can carry both (a level mean that jumps at the reward, as the published encoder's do); two neurons
can carry them one each. The second is a split the selection neurons do not undo, since neither piece is
redundant to the decoders. :func:`find_splits` measures it over every cell of the grid, on the noiseless
latent, with the same tools as the verdict (η², nearest level mean).

It works on the latent over the grid as an array, like scinet.resolution; scinet.verdicts calls it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scinet.analysis import eta_squared
from scinet.envs.config import SubGridConfig


@dataclass(frozen=True)
class Split:
    """One coordinate encoded by several kept neurons.

    ``joint_accuracy``: the coordinate read back from all of them together (nearest level mean, each neuron
    in units of its pooled within-level SD), i.e. whether the pieces hold the whole coordinate between them.
    ``reward_at``: the reward's position along the coordinate (None when the agents disagree on it, so
    that distance and side have no single meaning). ``distance_eta2`` / ``side_eta2``: per neuron, η² with
    |c - reward_at| and with sign(c - reward_at); empty without ``reward_at``.
    """

    coordinate: str
    neurons: tuple[int, ...]
    joint_accuracy: float
    reward_at: int | None
    distance_eta2: dict[int, float]
    side_eta2: dict[int, float]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with string keys for the per-neuron numbers."""
        return {
            "coordinate": self.coordinate,
            "neurons": list(self.neurons),
            "joint_accuracy": self.joint_accuracy,
            "reward_at": self.reward_at,
            "distance_eta2": {str(i): v for i, v in self.distance_eta2.items()},
            "side_eta2": {str(i): v for i, v in self.side_eta2.items()},
        }

    def describe(self) -> str:
        """One clause for a verdict's reason: the split, and what each piece reads more of."""
        c = self.coordinate
        neurons = " and ".join(str(i) for i in self.neurons)
        text = (
            f"{c} is split over neurons {neurons}, which together resolve it "
            f"(accuracy {self.joint_accuracy:.4f})"
        )
        if self.reward_at is None:
            return text
        pieces = []
        for i in self.neurons:
            distance, side = self.distance_eta2[i], self.side_eta2[i]
            what, other = ("distance to", "side") if distance >= side else ("side of", "distance")
            pieces.append(
                f"neuron {i} reads the {what} the reward at {c} = {self.reward_at} "
                f"(eta2 {max(distance, side):.4f}, with the {other} {min(distance, side):.4f})"
            )
        return f"{text}: {', '.join(pieces)}"


def joint_accuracy(values: np.ndarray, levels: np.ndarray) -> float:
    """Share of cells whose level the nearest level mean of several neurons (n_cells, k) gets right.

    Each neuron is first divided by its pooled within-level SD, so that a neuron of large range does not
    outvote a sharper one of small range; a neuron with no spread within levels is left as it is.
    """
    _, index, counts = np.unique(levels, return_inverse=True, return_counts=True)
    means = np.stack([np.bincount(index, weights=col) / counts for col in values.T], axis=1)
    spread = np.sqrt(np.mean((values - means[index]) ** 2, axis=0))
    scale = np.where(spread > 0, spread, 1.0)
    scaled, centres = values / scale, means / scale
    nearest = ((scaled[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    return float(np.mean(nearest == index))


def find_splits(
    latent: np.ndarray,
    cells: np.ndarray,
    encodes: Mapping[int, str],
    coords: Sequence[str],
    reward_at: Mapping[str, int],
) -> list[Split]:
    """Every coordinate that more than one kept neuron encodes (``encodes``: kept neuron -> coordinate).

    ``latent`` (n_cells, n_latent) and ``cells`` (n_cells, len(coords)) cover the grid; ``reward_at`` maps a
    coordinate to the reward's position along it, where the agents agree on one.
    """
    splits = []
    for axis, c in enumerate(coords):
        neurons = tuple(sorted(i for i, e in encodes.items() if e == c))
        if len(neurons) < 2:
            continue
        levels = cells[:, axis]
        accuracy = joint_accuracy(latent[:, list(neurons)], levels)
        reward = reward_at.get(c)
        distance, side = {}, {}
        if reward is not None:
            for i in neurons:
                distance[i] = eta_squared(latent[:, i], np.abs(levels - reward))
                side[i] = eta_squared(latent[:, i], np.sign(levels - reward))
        splits.append(Split(c, neurons, accuracy, reward, distance, side))
    return splits


def reward_positions(objectives: Sequence[SubGridConfig], coords: Sequence[str]) -> dict[str, int]:
    """The reward's position along each coordinate that the objectives' planes agree on.

    A coordinate outside every plane, or where two agents' rewards lie at different values, is left out:
    distance and side then have no single meaning.
    """
    seen: dict[str, set[int]] = {}
    for objective in objectives:
        for axis, position in zip(objective.plane_axes, objective.reward_pos, strict=True):
            seen.setdefault(coords[axis], set()).add(position)
    return {c: next(iter(p)) for c, p in seen.items() if len(p) == 1}
