"""Loud divergence: a non-finite loss, h-value or weight stops the run at once, naming the role and step.

Without these checks a diverged run goes on for its whole budget (NaN weights give NaN h-values, whose
softmax still yields actions) and writes a model of NaNs. Each check looks at a value the caller has on
the CPU anyway, so healthy runs pay nothing measurable and compute exactly what they did before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch

from scinet.errors import Diverged


def require_finite_loss(loss: float, role: str, step: str) -> None:
    """Raises :class:`Diverged` if ``loss`` (of ``role`` at ``step``, e.g. "update 12") is NaN or infinite."""
    if not math.isfinite(loss):
        raise Diverged(f"{role} diverged at {step}: loss is {loss}")


def require_finite_h_values(h_values: np.ndarray, role: str, step: str) -> None:
    """Raises :class:`Diverged` if any h-value the network just computed is NaN or infinite."""
    finite = np.isfinite(h_values)
    if not finite.all():
        bad = h_values[~finite].ravel()[0]
        raise Diverged(f"{role} diverged at {step}: h-value is {bad}")


def require_finite_weights(weights: Mapping[str, torch.Tensor], role: str, step: str) -> None:
    """Raises :class:`Diverged` naming the first parameter that holds a NaN or infinite value."""
    for name, tensor in weights.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise Diverged(f"{role} diverged at {step}: weights {name} are not finite")
