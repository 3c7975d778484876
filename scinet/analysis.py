"""What the latent neurons of a selection encoder encode, and whether that is the paper's result.

The paper's claim (Section 6) is about the encoder after selection mode: it keeps 3 of its 8 latent neurons,
which encode x, y and z, and each agent decoder keeps only the two neurons of its own plane. "Encodes" is
measured here, as in the paper, by the correlation ratio η² of a neuron's noiseless activation over all cells
of the grid with each coordinate: the share of the neuron's variance that the coordinate explains through
any function whatsoever, so a monotone but nonlinear encoding still scores 1.
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
from scinet.nets import AUTOENCODER, SELECTION_MODEL, DenseEncoder, check_state_dict, read_checkpoint
from scinet.ps.learner import cells_to_percepts
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
    """Selection values of an encoder and what each of its latent neurons encodes.

    ``eta2`` covers every latent neuron (a cut-off neuron encoding a coordinate is worth seeing too);
    ``encodes`` only the kept ones, with the coordinate of largest η².
    """

    selection: tuple[float, ...]
    kept: tuple[int, ...]
    eta2: dict[int, dict[str, float]]
    encodes: dict[int, str]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: lists for tuples, and string keys, since JSON objects have nothing else."""
        return {
            "selection": list(self.selection),
            "kept": list(self.kept),
            "encodes": {str(i): c for i, c in self.encodes.items()},
            "eta2": {str(i): dict(scores) for i, scores in self.eta2.items()},
        }


def analyze_encoder(encoder: DenseEncoder, grid_size: Sequence[int] = (12, 12, 12)) -> RepresentationReport:
    """η² of every latent neuron with each coordinate over the whole grid, and which neurons are kept."""
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
    return RepresentationReport(selection, kept, eta2, encodes)


@dataclass(frozen=True)
class Verdict:
    """Whether a result matches the paper's, with the reason in words for logs and metrics files."""

    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "reason": self.reason}


def encoder_verdict(report: RepresentationReport, threshold: float = 0.99) -> Verdict:
    """The paper's encoder result: exactly 3 neurons kept, encoding x, y, z one each with η² ≥ threshold."""
    if len(report.kept) != 3:
        return Verdict(False, f"{len(report.kept)} neurons kept {list(report.kept)}, expected 3")
    coords = sorted(report.encodes.values())
    if coords != sorted(COORDS):
        return Verdict(False, f"kept neurons encode {coords}, expected x, y and z one each")
    weak = [i for i in report.kept if report.eta2[i][report.encodes[i]] < threshold]
    if weak:
        return Verdict(False, f"neurons {weak} encode their coordinate with eta2 < {threshold:g}")
    low = min(report.eta2[i][report.encodes[i]] for i in report.kept)
    mapping = ", ".join(f"{i}->{report.encodes[i]}" for i in report.kept)
    return Verdict(True, f"3 neurons kept ({mapping}), eta2 >= {low:.4f}")


def decoder_verdict(
    decoder_selection: Sequence[float], report: RepresentationReport, plane_axes: tuple[str, str]
) -> Verdict:
    """The paper's decoder result: a decoder keeps exactly the 2 encoder neurons of its plane's coordinates.

    ``decoder_selection`` holds one value per latent neuron, indexed like the encoder's. Which neuron encodes
    which coordinate comes from ``report``; how well it does so is :func:`encoder_verdict`'s business.
    """
    if len(decoder_selection) != len(report.selection):
        raise ValueError(
            f"{len(decoder_selection)} decoder selection values for {len(report.selection)} latents"
        )
    if len(set(plane_axes)) != 2 or not set(plane_axes) <= set(COORDS):
        raise ValueError(f"plane_axes must be two different coordinates of {COORDS}, got {plane_axes}")
    kept = sorted(i for i, s in enumerate(decoder_selection) if s < KEEP_BELOW)
    wanted = sorted(i for i, c in report.encodes.items() if c in plane_axes)
    if sorted(report.encodes[i] for i in wanted) != sorted(plane_axes):
        return Verdict(
            False, f"the encoder has no unique neuron per coordinate of {plane_axes}: {report.encodes}"
        )
    if kept != wanted:
        return Verdict(False, f"decoder keeps neurons {kept}, expected {wanted} ({'/'.join(plane_axes)})")
    return Verdict(True, f"decoder keeps neurons {kept} ({'/'.join(plane_axes)})")


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


def selection_metrics(
    encoder: DenseEncoder,
    decoder_selection: dict[str, Sequence[float]],
    plane_axes: dict[str, tuple[str, str]],
    grid_size: Sequence[int] = (12, 12, 12),
    threshold: float = 0.99,
) -> dict[str, Any]:
    """The paper's Section 6 result for one trained selection model, as one JSON-ready dict.

    ``decoder_selection`` and ``plane_axes`` are keyed by objective (env1, ...): each decoder's selection
    values and the two coordinates of its agent's plane. The encoder part is :func:`analyze_encoder`'s
    report; each decoder gets its values, kept neurons and :func:`decoder_verdict`.
    """
    report = analyze_encoder(encoder, grid_size)
    decoders = {}
    for name, values in decoder_selection.items():
        verdict = decoder_verdict(values, report, plane_axes[name])
        decoders[name] = {
            "selection": [float(v) for v in values],
            "kept": [i for i, v in enumerate(values) if v < KEEP_BELOW],
            "plane": list(plane_axes[name]),
            "verdict": verdict.as_dict(),
        }
    encoder_ok = encoder_verdict(report, threshold)
    return {
        "encoder": {**report.as_dict(), "verdict": encoder_ok.as_dict()},
        "decoders": decoders,
        "verdict": bool(encoder_ok) and all(d["verdict"]["ok"] for d in decoders.values()),
    }


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
