"""The ``env`` and ``policy`` sections of params.yaml, validated (the rules: :mod:`scinet.settings`).

Stage scripts and the command line read the YAML file and hand its sections here, to
:mod:`scinet.selection.params` and to :func:`scinet.zenodo.parse_zenodo_params`; every value is checked
before any work starts, and a bad one is a single :class:`ParamsError` naming its key.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from scinet.envs.config import SubGridConfig
from scinet.errors import ParamsError
from scinet.policy.config import PolicyConfig
from scinet.settings import (
    BYTES_PER_ENV,
    check_device,
    check_fits,
    mapping,
    parse_section,
    parsed_by,
    reject_unknown,
    require,
)


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


_OBJECTIVE_KEYS = ("plane", "reward_pos")
_OPTIONAL_OBJECTIVE_KEYS = ("plane_walls",)  # the paper's worlds have none
MAX_SIDE = 127
"""Largest grid side: selection data stores a cell's coordinates as int8."""


def _grid_size(value: Any, key: str) -> Any:
    """Refuses a side above ``MAX_SIDE`` before any world is built (a world's start table holds every cell);
    every other rule of the grid is the worlds' own, which name their objective."""
    if isinstance(value, list) and any(isinstance(n, int) and n > MAX_SIDE for n in value):
        raise ParamsError(
            f"{key}: every side must be <= {MAX_SIDE} (selection data stores cells as int8), got {value}"
        )
    return value


def _as_given(value: Any, key: str) -> Any:
    """A value that the worlds built from it check (and name their objective)."""
    return value


def _objectives(value: Any, key: str) -> dict[str, dict[str, Any]]:
    """At least one objective, each a mapping of ``plane``, ``reward_pos`` and optionally ``plane_walls``."""
    entries = mapping(value, key)
    if not entries:
        raise ParamsError(f"{key}: at least one objective is required")
    objectives = {}
    for name, entry in entries.items():
        where = f"{key}.{name}"
        entry = mapping(entry, where)
        reject_unknown(entry, where, (*_OBJECTIVE_KEYS, *_OPTIONAL_OBJECTIVE_KEYS))
        require(entry, where, _OBJECTIVE_KEYS)
        objectives[str(name)] = dict(entry)
    return objectives


@dataclass(frozen=True)
class EnvSection:
    """The ``env`` section as params.yaml writes it; :func:`parse_env` builds its worlds."""

    grid_size: Any = field(metadata=parsed_by(_grid_size))
    """the cube's sides [x, y, z], shared by every objective (the paper's: 12 each)"""
    max_steps: Any = field(metadata=parsed_by(_as_given))
    """steps after which an episode times out with reward -1 (0: never), shared by every objective"""
    objectives: dict[str, dict[str, Any]] = field(metadata=parsed_by(_objectives))
    """per objective: the hidden plane, the reward's position in it and optionally walls of the plane"""


def parse_env(raw: Any) -> EnvParams:
    """Validates the ``env`` section and builds one sub-grid world per objective."""
    section = parse_section(EnvSection, raw, "env")
    objectives = {}
    for name, entry in section.objectives.items():
        try:
            objectives[name] = SubGridConfig(
                grid_size=section.grid_size, max_steps=section.max_steps, **entry
            )
        except (TypeError, ValueError) as err:
            raise ParamsError(f"env.objectives.{name}: {err}") from None
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
