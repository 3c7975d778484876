"""A learner's state for the coordinator's checkpoint, copied to the CPU, ready to pickle or save."""

from __future__ import annotations

from typing import Any

import torch


def to_cpu(state: Any) -> Any:
    """A copy of a (nested) state dict with every tensor on the CPU, ready to pickle or save."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {key: to_cpu(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(to_cpu(value) for value in state)
    return state
