"""Settings of the selection part: how the selection data is generated and how the selection model trains.

One ``selection:`` section of params.yaml feeds both dataclasses;
:func:`scinet.selection.params.parse_selection` splits it by field name, so each DVC stage can depend on
exactly the keys it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from scinet.settings import at_least, positive


@dataclass(frozen=True)
class SelectionDataConfig:
    """How the trained agents play again to produce selection data (DESIGN.md, "Selection data").

    An episode yields its naught sample (an action the agent would not take, target 0) if some action is
    unlikely enough, and its taken sample only if the first step's glow exceeds 1e-7: a time-out, or an
    episode so long that the reward's glow has faded, yields the naught sample alone.
    """

    mode: Literal["async", "serial"] = "async"
    """async: worker and predictor processes; serial: one process, deterministic for a seed"""
    device: Literal["cpu", "cuda", "auto"] = "auto"
    """where the predictors compute; auto picks CUDA when a GPU is there"""
    workers: int = field(default=2, metadata=at_least(1))
    """worker processes, each stepping its own batch of worlds"""
    predictors: int = field(default=1, metadata=at_least(1))
    """predictor processes serving the agent's h-values"""
    envs_per_worker: int = field(default=256, metadata=at_least(1))
    """worlds a worker steps as one batch of arrays"""
    samples: int = field(default=200_000, metadata=at_least(2))
    """samples per agent (faithful)"""
    seed: int = field(default=0, metadata=at_least(0))
    """the selection run's seed (an item of selection.seeds): seeds the worlds and the action draws"""


@dataclass(frozen=True)
class SelectionTrainConfig:
    """Training of the encoder, its autoencoder decoder and one decoder per agent (DESIGN.md, "Selection
    mode")."""

    schedule: Literal["async", "fused"] = "async"
    """async (faithful): one trainer process per decoder on the shared encoder; fused: one process, in turn"""
    device: Literal["cpu", "cuda", "auto"] = "auto"
    """where the model trains; auto picks CUDA when a GPU is there"""
    steps: int = field(default=830_000, metadata=at_least(1))
    """updates per decoder (faithful: about 0.83M)"""
    batch_size: int = field(default=200, metadata=at_least(2))
    """samples per decoder step (faithful)"""
    learning_rate: float = field(default=1e-4, metadata=positive())
    """Adam's learning rate (faithful)"""
    weight_decay: float = field(default=1e-5, metadata=at_least(0))
    """Adam's L2 weight decay (faithful)"""
    latent_dim: int = field(default=8, metadata=at_least(1))
    """latent neurons of the encoder (faithful)"""
    target_weight: float = field(default=1.0, metadata=at_least(0))
    """weight of a decoder's smooth-L1 loss (faithful)"""
    decoder_selection_weight: float = field(default=0.04, metadata=at_least(0))
    """weight of the reward -sum(s) on the stepping decoder's selection values (faithful)"""
    encoder_selection_weight: float = field(default=0.02, metadata=at_least(0))
    """weight of the reward -sum(s) on the encoder's selection values (faithful)"""
    reconstruction_weight: float = field(default=10.0, metadata=at_least(0))
    """weight of the autoencoder's BCE (faithful)"""
    reconstruction_bce: Literal["sigmoid", "logits"] = "sigmoid"
    """sigmoid (faithful): BCE of the sigmoid's output, stuck where that saturates; logits: same loss, not"""
    seed: int = field(default=0, metadata=at_least(0))
    """the selection run's seed (an item of selection.seeds): seeds the weights and the decoders' streams"""
    log_interval: int = field(default=1_000, metadata=at_least(1))
    """steps per learning-curve point"""
    checkpoint_interval: float = field(default=60.0, metadata=positive())
    """seconds between two checkpoints"""
