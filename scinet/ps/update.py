"""The DPS update: regress the network's h-value of (percept, action) onto its glow target.

Loss and optimiser are the original's: smooth L1 between output and target, Adam with amsgrad and weight
decay. Experiences travel as cell coordinates; they become one-hot percepts only here, on the device.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from scinet.nets import DPSNetwork
from scinet.nets.percepts import cells_to_percepts
from scinet.ps.glow import Experiences


class DPSLearner:
    """Owns the optimiser of one DPS network and applies batches of experiences to it."""

    def __init__(
        self,
        net: DPSNetwork,
        grid_size: Sequence[int],
        learning_rate: float,
        weight_decay: float,
        device: torch.device,
    ) -> None:
        self.net = net
        self.grid_size = tuple(grid_size)
        self.device = device
        trainable = [p for p in net.parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(
            trainable, lr=learning_rate, weight_decay=weight_decay, amsgrad=True
        )
        self.eye = torch.eye(net.num_actions, device=device)

    def set_learning_rate(self, learning_rate: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate

    def update(self, batch: Experiences) -> float:
        """One Adam step on one batch; returns its smooth-L1 loss."""
        percepts = cells_to_percepts(batch.cells, self.grid_size, self.device)
        actions = self.eye[torch.as_tensor(batch.actions.astype(np.int64), device=self.device)]
        targets = torch.as_tensor(batch.targets, device=self.device)
        output = self.net(percepts, actions).squeeze(1)
        loss = F.smooth_l1_loss(output, targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())
