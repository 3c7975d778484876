"""What the latent neurons of a selection encoder encode, and how finely.

The paper's claim (Section 6) is about the encoder after selection mode: it keeps 3 of its 8 latent neurons,
which encode x, y and z, and each agent decoder keeps only the two neurons of its own plane. "Encodes" is
measured here, as in the paper, by the correlation ratio η² of a neuron's noiseless activation over all cells
of the grid with each coordinate: the share of the neuron's variance that the coordinate explains through
any function whatsoever, so a monotone but nonlinear encoding still scores 1. For the same reason η² cannot
tell x from a coarse function of x (its parity scores 1 too), so each kept neuron must also separate every
value of its coordinate, and the autoencoder decoder must read x, y and z back from the kept neurons alone
(scinet.resolution). Whether all that is the paper's result is scinet.verdicts' business.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from scinet.errors import CheckpointError
from scinet.nets import (
    AUTOENCODER,
    SELECTION_MODEL,
    DenseDecoder,
    DenseEncoder,
    check_state_dict,
    read_checkpoint,
)
from scinet.nets.percepts import cells_to_percepts
from scinet.resolution import Resolution, neuron_resolution, reconstruction_accuracy
from scinet.selection.model import SelectionModel

COORDS = ("x", "y", "z")
KEEP_BELOW = 0.0
"""A neuron whose selection value is at or above this is cut off: its noise (exp(s) ≥ 1 standard deviation of
the neuron) drowns the signal, which is how the paper reads the selection values."""


def eta_squared(values: np.ndarray, groups: np.ndarray) -> float:
    """Correlation ratio η² = Var_between / Var_total of ``values`` grouped by the labels ``groups``.

    Var_between is the variance of the per-group means (weighted by group size), i.e. the variance of the best
    predictor of ``values`` that depends only on the group, so η² is in [0, 1]. Constant ``values`` make the
    ratio 0/0; we return 0.0 because a constant neuron carries no information about any coordinate, and the
    verdicts below must never count such a neuron as encoding one.
    """
    values = np.asarray(values, dtype=np.float64)
    groups = np.asarray(groups)
    if values.ndim != 1 or values.shape != groups.shape or values.size == 0:
        shapes = f"{values.shape}, {groups.shape}"
        raise ValueError(f"values and groups must be non-empty 1-D arrays of equal length, got {shapes}")
    if np.ptp(values) == 0.0:
        return 0.0
    _, index, counts = np.unique(groups, return_inverse=True, return_counts=True)
    group_means = np.bincount(index, weights=values) / counts
    mean = values.mean()
    between = float(np.sum(counts * (group_means - mean) ** 2))
    total = float(np.sum((values - mean) ** 2))
    return min(between / total, 1.0)  # rounding can push an exact functional dependence a hair above 1


def grid_cells(grid_size: Sequence[int] = (12, 12, 12)) -> np.ndarray:
    """Every cell of the grid as an (N*M*L, 3) int array of (x, y, z), x varying slowest.

    The full grid is a balanced design (every coordinate value occurs equally often), so η² over it measures
    the encoding itself and not the sampling of some data set.
    """
    if len(grid_size) != 3:
        raise ValueError(f"grid_size must have 3 sides, got {tuple(grid_size)}")
    return np.indices(tuple(grid_size)).reshape(3, -1).T.astype(np.int64)


def latent_over_grid(encoder: DenseEncoder, grid_size: Sequence[int] = (12, 12, 12)) -> np.ndarray:
    """(n_cells, latent_dim) noiseless latent of every cell, in the order of :func:`grid_cells`.

    Noiseless because η² asks what a neuron encodes, not how much noise a decoder would add on top of it.
    """
    device = next(encoder.parameters()).device
    percepts = cells_to_percepts(grid_cells(grid_size), grid_size, device)
    with torch.inference_mode():
        return encoder(percepts).double().cpu().numpy()


@dataclass(frozen=True)
class RepresentationReport:
    """Selection values of an encoder, what each of its latent neurons encodes, and how finely.

    ``eta2`` covers every latent neuron (a cut-off neuron encoding a coordinate is worth seeing too);
    ``encodes`` only the kept ones, with the coordinate of largest η²; ``resolution`` each kept neuron's
    :class:`~scinet.resolution.Resolution` of that coordinate; ``reconstruction`` the autoencoder decoder's
    accuracy per coordinate from the kept neurons alone.
    """

    selection: tuple[float, ...]
    kept: tuple[int, ...]
    eta2: dict[int, dict[str, float]]
    encodes: dict[int, str]
    resolution: dict[int, Resolution]
    reconstruction: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: lists for tuples, and string keys, since JSON objects have nothing else."""
        return {
            "selection": list(self.selection),
            "kept": list(self.kept),
            "encodes": {str(i): c for i, c in self.encodes.items()},
            "eta2": {str(i): dict(scores) for i, scores in self.eta2.items()},
            "resolution": {str(i): r.as_dict() for i, r in self.resolution.items()},
            "reconstruction": dict(self.reconstruction),
        }


def analyze_encoder(
    encoder: DenseEncoder, decoder: DenseDecoder, grid_size: Sequence[int] = (12, 12, 12)
) -> RepresentationReport:
    """η² of every latent neuron with each coordinate over the whole grid, which neurons are kept, how
    finely each kept neuron resolves its coordinate, and what ``decoder`` (the autoencoder's) reconstructs
    from the kept neurons alone."""
    cells = grid_cells(grid_size)
    latent = latent_over_grid(encoder, grid_size)
    selection = tuple(float(s) for s in encoder.selection.selectors.detach().cpu())
    if len(selection) != latent.shape[1]:
        raise ValueError(f"{len(selection)} selection neurons for {latent.shape[1]} latent neurons")
    eta2 = {
        i: {c: eta_squared(latent[:, i], cells[:, axis]) for axis, c in enumerate(COORDS)}
        for i in range(latent.shape[1])
    }
    kept = tuple(i for i, s in enumerate(selection) if s < KEEP_BELOW)
    encodes = {i: max(COORDS, key=lambda c, i=i: eta2[i][c]) for i in kept}
    resolution = {i: neuron_resolution(latent[:, i], cells[:, COORDS.index(encodes[i])]) for i in kept}
    rebuilt = reconstruction_accuracy(decoder, latent, kept, cells, grid_size)
    return RepresentationReport(
        selection, kept, eta2, encodes, resolution, dict(zip(COORDS, rebuilt, strict=True))
    )


def load_encoder(path: str | os.PathLike[str]) -> DenseEncoder:
    """The paper-sized encoder (36 -> 8) in eval mode, from any checkpoint that holds one under ``encoder.``.

    That covers the authors' autoencoder state dict, ours, and a model that registers its encoder as the
    attribute ``encoder`` next to other parts (their keys are ignored). Raises FileNotFoundError or
    CheckpointError, like the loaders of :mod:`scinet.nets`; a policy agent or a training checkpoint is a
    CheckpointError even though it has tensors, since no encoder lives there.
    """
    state_dict = read_checkpoint(path, kinds=(AUTOENCODER, SELECTION_MODEL, None)).state_dict
    encoder = DenseEncoder()
    holder = nn.ModuleDict({"encoder": encoder})  # so that keys, and error messages, keep their prefix
    ours = {k: v for k, v in state_dict.items() if k.startswith("encoder.")}
    check_state_dict(path, ours, holder)
    holder.load_state_dict(ours, strict=True)
    return encoder.eval()


def load_autoencoder_decoder(path: str | os.PathLike[str]) -> DenseDecoder:
    """The paper-sized autoencoder decoder (8 -> 36) in eval mode, from the same checkpoints as load_encoder.

    Our selection model registers it as ``autoencoder_decoder`` (its ``decoders`` are the agent decoders),
    an autoencoder (the authors' file and ours) as ``decoder``; the checkpoint's kind says which, so that a
    selection model never passes off something else as its autoencoder. Errors as in :func:`load_encoder`.
    """
    saved = read_checkpoint(path, kinds=(AUTOENCODER, SELECTION_MODEL, None))
    prefix = "autoencoder_decoder" if saved.kind == SELECTION_MODEL else "decoder"
    decoder = DenseDecoder()
    holder = nn.ModuleDict({prefix: decoder})
    ours = {k: v for k, v in saved.state_dict.items() if k.startswith(f"{prefix}.")}
    check_state_dict(path, ours, holder)
    holder.load_state_dict(ours, strict=True)
    return decoder.eval()


def kept_settled_step(curve: pd.DataFrame) -> int | None:
    """The first logged step from which every kept set (the encoder's and each decoder's) is its final one.

    Selection neurons cut what a decoder does not need gradually and not always in one go (a neuron can be
    cut and come back), so the steps a run needs are measured by when the cutting stops, not by when the
    losses flatten. ``curve`` has a ``step`` column and ``<part>_s<i>`` selection-value columns, as in
    train_selection's curve; None for an empty curve.
    """
    values = curve.filter(regex=r"^(encoder|decoder\d+)_s\d+$").to_numpy()
    if len(values) == 0:
        return None
    kept = values < KEEP_BELOW
    changed = np.flatnonzero((kept != kept[-1]).any(axis=1))
    first = changed[-1] + 1 if len(changed) else 0
    return int(curve["step"].iloc[first])


def load_selection_model(path: str | os.PathLike[str]) -> tuple[SelectionModel, list[str]]:
    """Our trained selection model in eval mode, and the objective of each decoder, in decoder order.

    The sizes come from the checkpoint itself (input width from the encoder's first layer, latent size and
    objectives from what ``train_selection`` recorded), so readers need no parameters to rebuild it. Each of
    them is checked before use, so that a damaged or foreign file is a CheckpointError naming it.
    """
    saved = read_checkpoint(path, kinds=(SELECTION_MODEL,))
    objectives, latent_dim = saved.extra.get("objectives"), saved.extra.get("latent_dim")
    if not (isinstance(objectives, list) and objectives and all(isinstance(n, str) for n in objectives)):
        raise CheckpointError.at(path, f"'objectives' is {objectives!r}, not a list of objective names")
    if not (type(latent_dim) is int and latent_dim > 0):
        raise CheckpointError.at(path, f"'latent_dim' is {latent_dim!r}, not a positive integer")
    first = saved.state_dict.get("encoder.input.0.weight")
    selectors = saved.state_dict.get("encoder.selection.selectors")
    if first is None or first.dim() != 2 or selectors is None or tuple(selectors.shape) != (latent_dim,):
        raise CheckpointError.at(path, f"has no encoder of {latent_dim} latent neurons to rebuild from")
    model = SelectionModel(first.shape[1], latent_dim, len(objectives))
    check_state_dict(path, saved.state_dict, model)
    model.load_state_dict(saved.state_dict)
    return model.eval(), list(objectives)
