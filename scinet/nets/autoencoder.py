"""Dense autoencoder whose latent layer carries selection neurons.

Module names follow the original checkpoints (``input``, ``encoding.{i}``, ``abstraction``, ``selection``
in the encoder; ``unabstraction``, ``decoding.{i}`` in the decoder) so that their state dicts load with
``strict=True`` and no key renaming.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from scinet.nets.selection_neurons import SelectionNeurons


class DenseEncoder(nn.Module):
    """Observation -> latent, with ELU between hidden layers.

    The last hidden layer has no activation: it feeds the linear ``abstraction`` layer directly, so the
    two form one affine map through a 32-unit bottleneck. The selection neurons live here (not in the
    decoders) because the latent they act on is shared by the autoencoder and all selection decoders.
    """

    def __init__(
        self, input_dim: int = 36, hidden: Sequence[int] = (128, 128, 64, 32), latent_dim: int = 8
    ) -> None:
        super().__init__()
        if len(hidden) < 2:
            raise ValueError(f"DenseEncoder needs at least two hidden layers, got {tuple(hidden)}")
        self.input = nn.Sequential(nn.Linear(input_dim, hidden[0]), nn.ELU())
        last = len(hidden) - 2
        self.encoding = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden[i], hidden[i + 1]), *([] if i == last else [nn.ELU()]))
            for i in range(len(hidden) - 1)
        )
        self.abstraction = nn.Linear(hidden[-1], latent_dim)
        self.selection = SelectionNeurons(latent_dim)

    def forward(self, x: Tensor) -> Tensor:
        """Noiseless latent; apply ``self.selection`` separately where noise is wanted."""
        h = self.input(x)
        for layer in self.encoding:
            h = layer(h)
        return self.abstraction(h)


class DenseDecoder(nn.Module):
    """Latent -> reconstruction in (0, 1); the sigmoid matches a binary cross-entropy loss."""

    def __init__(
        self,
        latent_dim: int = 8,
        hidden: Sequence[int] = (32, 64, 128, 128, 128),
        output_dim: int = 36,
    ) -> None:
        super().__init__()
        if len(hidden) < 1:
            raise ValueError("DenseDecoder needs at least one hidden layer")
        self.unabstraction = nn.Sequential(nn.Linear(latent_dim, hidden[0]), nn.ELU())
        dims = [*hidden, output_dim]
        last = len(dims) - 2
        self.decoding = nn.ModuleList(
            nn.Sequential(nn.Linear(dims[i], dims[i + 1]), *([] if i == last else [nn.ELU()]))
            for i in range(len(dims) - 1)
        )

    def forward(self, latent: Tensor) -> Tensor:
        """The reconstruction: the sigmoid of :meth:`logits` (the output layer holds only its Linear)."""
        return torch.sigmoid(self.logits(latent))

    def logits(self, latent: Tensor) -> Tensor:
        """The output layer before its sigmoid, for a BCE computed without the saturating sigmoid."""
        h = self.unabstraction(latent)
        for layer in self.decoding:
            h = layer(h)
        return h


class DenseAutoencoder(nn.Module):
    """Encoder + decoder pair; the default sizes are the paper's (36 -> 8 -> 36)."""

    def __init__(self, encoder: DenseEncoder | None = None, decoder: DenseDecoder | None = None) -> None:
        super().__init__()
        self.encoder = encoder if encoder is not None else DenseEncoder()
        self.decoder = decoder if decoder is not None else DenseDecoder()

    def forward(self, x: Tensor) -> Tensor:
        """Reconstruction from the noiseless latent."""
        return self.decoder(self.encoder(x))
