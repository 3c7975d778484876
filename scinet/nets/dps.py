"""Deep projective simulation (DPS) network: an energy-based model h(observation, action).

The network scores one (input, action) pair at a time; the agent's policy is a softmax over the scores
of all actions (see ``h_values``). The same class, with a trainable output layer and active selection
neurons on its input, serves as a selection decoder that reads the encoder's latent.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from scinet.nets.selection_neurons import SelectionNeurons


class DPSNetwork(nn.Module):
    """ReLU MLP on ``concat(input, one_hot(action))`` with a single output, the h-value.

    For RL agents (``trainable_output=False``) the output layer is fixed to weight 1 and bias 1: the
    h-value is then 1 plus the plain sum of the last hidden layer's (non-negative) ReLU activations, so
    the energy scale is set by construction, h >= 1 as for tabular PS h-values, and only the hidden
    layers learn. Selection
    decoders regress arbitrary targets, so there the output layer is an ordinary trainable affine map
    starting at weight 1, bias 0. Policy agents never use their selection neurons; they are frozen so that
    they stay at their initial value and out of the optimizer.
    """

    PAPER_HIDDEN = (128, 128, 128, 128, 64, 32)

    def __init__(
        self,
        input_dim: int,
        num_actions: int = 6,
        hidden: Sequence[int] = PAPER_HIDDEN,
        trainable_output: bool = False,
    ) -> None:
        super().__init__()
        if len(hidden) < 1:
            raise ValueError("DPSNetwork needs at least one hidden layer")
        self.num_actions = num_actions
        self.selection = SelectionNeurons(input_dim)
        self.visible = nn.Sequential(nn.Linear(input_dim + num_actions, hidden[0]), nn.ReLU())
        self.dense = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden[i], hidden[i + 1]), nn.ReLU()) for i in range(len(hidden) - 1)
        )
        self.output = nn.Linear(hidden[-1], 1)

        for layer in (self.visible[0], *(block[0] for block in self.dense)):
            nn.init.kaiming_uniform_(layer.weight, mode="fan_in", nonlinearity="relu")
        with torch.no_grad():
            self.output.weight.fill_(1.0)
            self.output.bias.fill_(0.0 if trainable_output else 1.0)
        self.output.requires_grad_(trainable_output)
        self.selection.requires_grad_(trainable_output)

    def forward(
        self, x: Tensor, actions_onehot: Tensor, eps: Tensor | None = None, sigma: Tensor | None = None
    ) -> Tensor:
        """h-values of shape (B, 1); ``x`` passes the selection neurons only when ``eps`` is given."""
        if eps is not None:
            x = self.selection(x, eps, sigma)
        h = self.visible(torch.cat((x, actions_onehot), dim=1))
        for layer in self.dense:
            h = layer(h)
        return self.output(h)

    def h_values(self, obs: Tensor) -> Tensor:
        """h-values of every action for each row of ``obs``, shape (B, num_actions), in one forward pass.

        Row ``b * num_actions + a`` of the stacked batch pairs ``obs[b]`` with action ``a``, so a reshape
        recovers the (B, num_actions) table.
        """
        batch = obs.shape[0]
        actions = torch.eye(self.num_actions, dtype=obs.dtype, device=obs.device).repeat(batch, 1)
        stacked = obs.repeat_interleave(self.num_actions, dim=0)
        return self(stacked, actions).view(batch, self.num_actions)
