"""The DPS policy: the network's h-values for every action become a softmax over actions.

In deep energy-based projective simulation the network's output for (percept, action) is the h-value, and
the agent chooses with probability proportional to ``exp(beta * h)``. Subtracting the row's maximum first
keeps the exponentials finite without changing the distribution.
"""

from __future__ import annotations

import numpy as np
import torch


def softmax_policy(h_values: torch.Tensor, beta: float) -> torch.Tensor:
    """Action probabilities p ~ exp(beta (h - max h)) for each row of (batch, actions) h-values."""
    logits = beta * (h_values - h_values.max(dim=1, keepdim=True).values)
    weights = torch.exp(logits)
    return weights / weights.sum(dim=1, keepdim=True)


def sample_actions(
    h_values: torch.Tensor, beta: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """One action per row drawn from the softmax policy; a seeded generator makes it reproducible."""
    probs = softmax_policy(h_values, beta)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


def greedy_actions(h_values: torch.Tensor) -> torch.Tensor:
    """The action with the largest h-value in each row (the first one on ties)."""
    return h_values.argmax(dim=1)


def softmax_weights(h_values: np.ndarray, beta: float) -> np.ndarray:
    """exp(beta (h - max h)) per row: the softmax policy unnormalised (NumPy twin of ps.softmax_policy)."""
    return np.exp(beta * (h_values - h_values.max(axis=1, keepdims=True)))


def sample_softmax(h_values: np.ndarray, beta: float, rng: np.random.Generator) -> np.ndarray:
    """One action per row with p proportional to exp(beta (h - max h)), by inverse-CDF sampling."""
    cdf = np.cumsum(softmax_weights(h_values, beta), axis=1)
    draws = rng.random(len(h_values)) * cdf[:, -1]
    return np.minimum((cdf <= draws[:, None]).sum(axis=1), h_values.shape[1] - 1)
