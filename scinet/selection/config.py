"""Settings of the selection part: how the selection data is generated and how the selection model trains.

One ``selection:`` section of params.yaml feeds both dataclasses;
:func:`scinet.selection.params.parse_selection` splits it by field name, so each DVC stage can depend on
exactly the keys it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


def _at_least(low: float) -> dict:
    return {"check": lambda v: v >= low, "rule": f"must be >= {low:g}"}


def _positive() -> dict:
    return {"check": lambda v: v > 0, "rule": "must be > 0"}


@dataclass(frozen=True)
class SelectionDataConfig:
    """How the trained agents play again to produce selection data (DESIGN.md, "Selection data").

    ``samples`` counts experiences per agent. An episode yields its naught sample (an action the agent
    would not take, target 0), and its taken sample only if the first step's glow exceeds 1e-7 (a
    time-out, or an episode so long that the reward's glow has faded, yields the naught sample alone).
    """

    mode: Literal["async", "serial"] = "async"
    device: Literal["cpu", "cuda", "auto"] = "auto"
    workers: int = field(default=2, metadata=_at_least(1))
    predictors: int = field(default=1, metadata=_at_least(1))
    envs_per_worker: int = field(default=256, metadata=_at_least(1))
    samples: int = field(default=200_000, metadata=_at_least(2))  # faithful
    seed: int = field(default=0, metadata=_at_least(0))


@dataclass(frozen=True)
class SelectionTrainConfig:
    """Training of the encoder, its autoencoder decoder and one decoder per agent (DESIGN.md, "Selection
    mode").

    ``schedule`` is ``async`` (faithful: one trainer process per decoder against the shared encoder) or
    ``fused`` (one process; every step updates all decoders once, in turn). ``steps`` counts updates per
    decoder. ``reconstruction_bce`` is ``sigmoid`` (faithful: the BCE of the autoencoder's sigmoid output,
    whose gradient vanishes where that output saturates) or ``logits`` (the same loss computed from the
    pre-sigmoid values, whose gradient does not).
    """

    schedule: Literal["async", "fused"] = "async"
    device: Literal["cpu", "cuda", "auto"] = "auto"
    steps: int = field(default=830_000, metadata=_at_least(1))  # faithful: about 0.83M
    batch_size: int = field(default=200, metadata=_at_least(2))  # faithful
    learning_rate: float = field(default=1e-4, metadata=_positive())  # faithful
    weight_decay: float = field(default=1e-5, metadata=_at_least(0))  # faithful
    latent_dim: int = field(default=8, metadata=_at_least(1))  # faithful
    target_weight: float = field(default=1.0, metadata=_at_least(0))  # faithful: decoder smooth-L1
    decoder_selection_weight: float = field(default=0.04, metadata=_at_least(0))  # faithful
    encoder_selection_weight: float = field(default=0.02, metadata=_at_least(0))  # faithful
    reconstruction_weight: float = field(default=10.0, metadata=_at_least(0))  # faithful: autoencoder BCE
    reconstruction_bce: Literal["sigmoid", "logits"] = "sigmoid"  # faithful: BCE of the sigmoid's output
    seed: int = field(default=0, metadata=_at_least(0))
    log_interval: int = field(default=1_000, metadata=_at_least(1))  # steps per curve point
    checkpoint_interval: float = field(default=60.0, metadata=_positive())  # seconds between checkpoints
