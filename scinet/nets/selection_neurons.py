"""Selection neurons: learnable, per-neuron Gaussian noise on a latent representation.

A network that reads a latent vector through selection neurons sees ``l + sigma * exp(s) * eps``.
Training pushes each ``s_i`` up (a reward term ``-sum(s)`` in the loss) until the noise would hurt the
task; the neurons a task needs end with small ``s_i`` and the others drown in noise. Scaling the noise by
the batch standard deviation of each latent makes ``s_i`` comparable across neurons whatever their scale.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class SelectionNeurons(nn.Module):
    """One selector ``s_i`` per latent neuron; ``exp(s_i)`` is that neuron's relative noise level.

    The initial value -10 makes the noise negligible (exp(-10) ~ 4.5e-5), so a fresh network first
    learns its task and only then learns which inputs it can do without.
    """

    def __init__(self, num_latents: int, init_value: float = -10.0) -> None:
        super().__init__()
        self.selectors = nn.Parameter(torch.full((num_latents,), float(init_value)))

    def forward(self, latent: Tensor, eps: Tensor, sigma: Tensor | None = None) -> Tensor:
        """Return ``latent + sigma * exp(selectors) * eps``.

        ``eps`` (standard normal, same shape as ``latent``) is the caller's because the original training
        draws one noise batch per step and uses it for both the encoder's and a decoder's selection
        neurons. ``sigma`` defaults to the (unbiased) standard deviation of ``latent`` over the batch;
        pass it explicitly when the batch is too small for that, e.g. at prediction time.
        """
        if sigma is None:
            sigma = latent.std(dim=0)
        return latent + sigma * torch.exp(self.selectors) * eps

    def noisy(self, latent: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Like ``forward`` with batch-std sigma, drawing ``eps`` itself (optionally from ``generator``)."""
        eps = torch.randn(latent.shape, generator=generator, dtype=latent.dtype, device=latent.device)
        return self(latent, eps)
