"""The ``env`` and ``policy`` sections of params.yaml, validated (the rules: :mod:`scinet.settings`).

Stage scripts and the command line read the YAML file and hand its sections here, to
:mod:`scinet.selection.params` and to :func:`scinet.zenodo.parse_zenodo_params`; every value is checked
before any work starts, and a bad one is a single :class:`ParamsError` naming its key.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, TypeVar

from scinet.envs.config import SubGridConfig
from scinet.errors import ParamsError
from scinet.policy.config import PolicyConfig
from scinet.settings import (
    BYTES_PER_ENV,
    check_device,
    check_fits,
    mapping,
    parse_section,
    reject_unknown,
    require,
)

T = TypeVar("T")


@dataclass(frozen=True)
class EnvParams:
    """The ``env`` section: one sub-grid world per objective (the paper's env1, env2, env3)."""

    objectives: dict[str, SubGridConfig]

    def objective(self, name: str) -> SubGridConfig:
        """The world of one objective; an unknown name is a :class:`ParamsError` listing the known ones."""
        if name not in self.objectives:
            known = ", ".join(self.objectives)
            raise ParamsError(f"unknown objective {name!r}; params define: {known}")
        return self.objectives[name]


_SHARED_KEYS = ("grid_size", "max_steps")
_OBJECTIVE_KEYS = ("plane", "reward_pos")
_OPTIONAL_OBJECTIVE_KEYS = ("plane_walls",)  # the paper's worlds have none
MAX_SIDE = 127
"""Largest grid side: selection data stores a cell's coordinates as int8."""


def parse_env(raw: Any) -> EnvParams:
    """Validates the ``env`` section: shared ``grid_size`` and ``max_steps``, and ``objectives``.

    Each objective gives ``plane``, ``reward_pos`` and optionally ``plane_walls``.
    """
    section = mapping(raw, "env")
    reject_unknown(section, "env", (*_SHARED_KEYS, "objectives"))
    require(section, "env", (*_SHARED_KEYS, "objectives"))
    shared = {key: section[key] for key in _SHARED_KEYS}
    grid = shared["grid_size"]
    if isinstance(grid, list) and any(isinstance(n, int) and n > MAX_SIDE for n in grid):
        # checked before any world is built: a world's start table holds one entry per cell
        raise ParamsError(
            f"env.grid_size: every side must be <= {MAX_SIDE} (selection data stores cells as int8), "
            f"got {grid}"
        )
    objectives_raw = mapping(section["objectives"], "env.objectives")
    if not objectives_raw:
        raise ParamsError("env.objectives: at least one objective is required")
    objectives = {}
    for name, entry in objectives_raw.items():
        where = f"env.objectives.{name}"
        entry = mapping(entry, where)
        reject_unknown(entry, where, (*_OBJECTIVE_KEYS, *_OPTIONAL_OBJECTIVE_KEYS))
        require(entry, where, _OBJECTIVE_KEYS)
        try:
            objectives[str(name)] = SubGridConfig(**shared, **entry)
        except (TypeError, ValueError) as err:
            raise ParamsError(f"{where}: {err}") from None
    return EnvParams(objectives)


def parse_policy(raw: Any) -> PolicyConfig:
    """Validates the ``policy`` section; ``device: cuda`` on a machine without a GPU is an error here."""
    config = parse_section(PolicyConfig, raw, "policy")
    check_device(config.device, "policy.device")
    weights = sum(a * b for a, b in itertools.pairwise((config.hidden[0], *config.hidden)))
    check_fits("policy.hidden", 16 * weights, "weights, gradients and two Adam moments per layer")
    environments = config.workers * config.envs_per_worker * BYTES_PER_ENV
    check_fits("policy.envs_per_worker", environments, "workers x envs_per_worker worlds and their histories")
    activations = 4 * config.batch_size * (sum(config.hidden) + 3 * MAX_SIDE) * 4
    check_fits("policy.batch_size", activations, "activations and gradients of one batch")
    check_fits("policy.eval_episodes", 64 * config.eval_episodes, "per-episode results of the evaluation")
    return config
