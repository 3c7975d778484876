"""The selection model: one encoder with selection neurons, its autoencoder decoder and one decoder per agent.

Every decoder reads the encoder's noisy latent through its own selection neurons, so the loss of decoder k
can buy noise (a reward ``-sum(s)``) on every latent neuron it does not need, while the encoder can only
buy noise on neurons that no decoder and not the autoencoder needs (DESIGN.md, "Selection mode").
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from scinet.nets import DenseDecoder, DenseEncoder, DPSNetwork
from scinet.selection.config import SelectionTrainConfig

ENCODER_HIDDEN = (128, 128, 64, 32)
AUTOENCODER_HIDDEN = (32, 64, 128, 128, 128)
DECODER_HIDDEN = (64, 128, 128, 128, 128, 64, 32)
NUM_ACTIONS = 6


@dataclass(frozen=True)
class LossSettings:
    """The four terms' weights and how the BCE is computed; the defaults are the paper's.

    ``bce_from_logits`` computes the reconstruction BCE from the autoencoder's pre-sigmoid output: the same
    loss (but for PyTorch's clamp of the log at -100), yet the faithful BCE of the sigmoid's output stops
    learning where that output has saturated. PyTorch's BCE clamps its gradient's denominator at 1e-12, so
    an output pushed below ~1e-12 for a target of 1 costs up to 100 and gets almost no gradient to undo it.
    """

    target: float = 1.0
    decoder_selection: float = 0.04
    encoder_selection: float = 0.02
    reconstruction: float = 10.0
    bce_from_logits: bool = False

    @staticmethod
    def from_config(config: SelectionTrainConfig) -> LossSettings:
        return LossSettings(
            config.target_weight,
            config.decoder_selection_weight,
            config.encoder_selection_weight,
            config.reconstruction_weight,
            config.reconstruction_bce == "logits",
        )


@dataclass(frozen=True)
class SelectionOutputs:
    """What one decoder's forward pass computes, kept separate so tests can check each stage."""

    latent: Tensor  # the encoder's noiseless latent
    noisy: Tensor  # the latent after the encoder's selection neurons
    reconstruction_logits: Tensor  # autoencoder decoder's output from ``noisy``, before its sigmoid
    prediction: Tensor  # decoder k's target estimate, shape (B,)


@dataclass(frozen=True)
class StepLoss:
    """``total`` to differentiate; the parts are detached 0-d tensors, read with ``float()``.

    The parts stay tensors (on the model's device) so that a training loop can sum them over a logging
    interval without a device synchronisation on every step; converting costs one sync per curve point.
    """

    total: Tensor
    smooth_l1: Tensor
    bce: Tensor


class SelectionModel(nn.Module):
    """``encoder`` (observation -> latent), ``autoencoder_decoder`` (latent -> observation) and ``decoders``.

    The attribute names are part of the checkpoint format: analysis tools read the ``encoder.*`` keys.
    """

    def __init__(
        self, input_dim: int = 36, latent_dim: int = 8, num_decoders: int = 3, num_actions: int = NUM_ACTIONS
    ) -> None:
        super().__init__()
        self.encoder = DenseEncoder(input_dim, ENCODER_HIDDEN, latent_dim)
        self.autoencoder_decoder = DenseDecoder(latent_dim, AUTOENCODER_HIDDEN, input_dim)
        self.decoders = nn.ModuleList(
            DPSNetwork(latent_dim, num_actions, hidden=DECODER_HIDDEN, trainable_output=True)
            for _ in range(num_decoders)
        )

    def decoder_parameters(self, k: int) -> list[nn.Parameter]:
        """What a step of decoder k changes: the shared encoder and autoencoder decoder, and decoder k."""
        return [
            *self.encoder.parameters(),
            *self.autoencoder_decoder.parameters(),
            *self.decoders[k].parameters(),
        ]

    def forward(self, k: int, percepts: Tensor, actions_onehot: Tensor, eps: Tensor) -> SelectionOutputs:
        """Decoder k's pass with noise ``eps`` (B, latent_dim), shared by both layers of selection neurons.

        The original draws one noise batch per step and feeds it to the encoder's and to the decoder's
        selection neurons alike; each scales it by the batch standard deviation of its own input. The
        autoencoder decoder reads the *noisy* latent (DESIGN.md: "autoencoder output from that latent",
        i.e. the latent with encoder selection noise), so the reconstruction term keeps noise off every
        neuron that carries information about the observation, as the published encoder values show.
        """
        latent = self.encoder(percepts)
        noisy = self.encoder.selection(latent, eps)
        reconstruction_logits = self.autoencoder_decoder.logits(noisy)
        prediction = self.decoders[k](noisy, actions_onehot, eps=eps).squeeze(1)
        return SelectionOutputs(latent, noisy, reconstruction_logits, prediction)

    def loss(
        self,
        k: int,
        percepts: Tensor,
        actions_onehot: Tensor,
        targets: Tensor,
        eps: Tensor,
        settings: LossSettings,
    ) -> StepLoss:
        """target·smoothL1 - decoder_selection·Σ s_k - encoder_selection·Σ s_enc + reconstruction·BCE.

        Both regression terms are batch means (torch's defaults, as in the original), so the published
        values (smooth L1 about 0.3, BCE about 1e-3) are comparable to ours.
        """
        out = self(k, percepts, actions_onehot, eps)
        smooth_l1 = F.smooth_l1_loss(out.prediction, targets)
        if settings.bce_from_logits:
            bce = F.binary_cross_entropy_with_logits(out.reconstruction_logits, percepts)
        else:
            bce = F.binary_cross_entropy(torch.sigmoid(out.reconstruction_logits), percepts)
        total = (
            settings.target * smooth_l1
            - settings.decoder_selection * self.decoders[k].selection.selectors.sum()
            - settings.encoder_selection * self.encoder.selection.selectors.sum()
            + settings.reconstruction * bce
        )
        return StepLoss(total, smooth_l1.detach(), bce.detach())
