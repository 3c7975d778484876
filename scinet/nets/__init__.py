"""Networks of the reproduction: DPS agents/decoders, the selection autoencoder, and their checkpoints."""

from __future__ import annotations

from scinet.nets.autoencoder import DenseAutoencoder, DenseDecoder, DenseEncoder
from scinet.nets.checkpoints import (
    AUTOENCODER,
    DPS_AGENT,
    SELECTION_MODEL,
    Checkpoint,
    CheckpointError,
    check_state_dict,
    dps_agent_objective,
    load_autoencoder,
    load_dps_agent,
    read_checkpoint,
    require_extra,
    save_checkpoint,
)
from scinet.nets.dps import DPSNetwork
from scinet.nets.selection_neurons import SelectionNeurons

__all__ = [
    "AUTOENCODER",
    "DPS_AGENT",
    "SELECTION_MODEL",
    "Checkpoint",
    "CheckpointError",
    "DPSNetwork",
    "DenseAutoencoder",
    "DenseDecoder",
    "DenseEncoder",
    "SelectionNeurons",
    "check_state_dict",
    "dps_agent_objective",
    "load_autoencoder",
    "load_dps_agent",
    "read_checkpoint",
    "require_extra",
    "save_checkpoint",
]
