"""Typed, validated parameters: the one place where raw params.yaml content becomes library arguments.

Stage scripts and the command line read the YAML file and hand its content here; every value is checked
before any work starts, and a bad one is a single :class:`ParamsError` naming its key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scinet.envs.config import SubGridConfig


class ParamsError(ValueError):
    """A parameter is missing, of the wrong type or out of range; the message starts with its key."""


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
_OBJECTIVE_KEYS = ("plane", "reward_pos", "plane_walls")


def parse_env(raw: Any) -> EnvParams:
    """Validates the ``env`` section: shared ``grid_size`` and ``max_steps``, and ``objectives``.

    Each objective gives ``plane``, ``reward_pos`` and optionally ``plane_walls``.
    """
    section = _mapping(raw, "env")
    _reject_unknown(section, "env", (*_SHARED_KEYS, "objectives"))
    shared = {key: section[key] for key in _SHARED_KEYS if key in section}
    objectives_raw = _mapping(section.get("objectives"), "env.objectives")
    if not objectives_raw:
        raise ParamsError("env.objectives: at least one objective is required")
    objectives = {}
    for name, entry in objectives_raw.items():
        where = f"env.objectives.{name}"
        entry = _mapping(entry, where)
        _reject_unknown(entry, where, _OBJECTIVE_KEYS)
        try:
            objectives[str(name)] = SubGridConfig(**shared, **entry)
        except (TypeError, ValueError) as err:
            raise ParamsError(f"{where}: {err}") from None
    return EnvParams(objectives)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ParamsError(f"{where}: expected a mapping, got {value!r}")
    return value


def _reject_unknown(section: Mapping[str, Any], where: str, known: tuple[str, ...]) -> None:
    unknown = sorted(set(section) - set(known))
    if unknown:
        raise ParamsError(f"{where}: unknown key(s) {unknown}; expected some of {list(known)}")
