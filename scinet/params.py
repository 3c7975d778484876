"""Typed, validated parameters: the one place where raw params.yaml content becomes library arguments.

Stage scripts and the command line read the YAML file and hand its content here; every value is checked
before any work starts, and a bad one is a single :class:`ParamsError` naming its key. Every key must be
written out: a missing one is an error, never a silent library default, so that ``dvc.lock`` (which records
params.yaml) always names every setting a result was made with.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from scinet.envs.config import SubGridConfig
from scinet.errors import ParamsError
from scinet.policy.config import PolicyConfig

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
    section = _mapping(raw, "env")
    _reject_unknown(section, "env", (*_SHARED_KEYS, "objectives"))
    _require(section, "env", (*_SHARED_KEYS, "objectives"))
    shared = {key: section[key] for key in _SHARED_KEYS}
    grid = shared["grid_size"]
    if isinstance(grid, list) and any(isinstance(n, int) and n > MAX_SIDE for n in grid):
        # checked before any world is built: a world's start table holds one entry per cell
        raise ParamsError(
            f"env.grid_size: every side must be <= {MAX_SIDE} (selection data stores cells as int8), "
            f"got {grid}"
        )
    objectives_raw = _mapping(section["objectives"], "env.objectives")
    if not objectives_raw:
        raise ParamsError("env.objectives: at least one objective is required")
    objectives = {}
    for name, entry in objectives_raw.items():
        where = f"env.objectives.{name}"
        entry = _mapping(entry, where)
        _reject_unknown(entry, where, (*_OBJECTIVE_KEYS, *_OPTIONAL_OBJECTIVE_KEYS))
        _require(entry, where, _OBJECTIVE_KEYS)
        try:
            objectives[str(name)] = SubGridConfig(**shared, **entry)
        except (TypeError, ValueError) as err:
            raise ParamsError(f"{where}: {err}") from None
    return EnvParams(objectives)


def parse_policy(raw: Any) -> PolicyConfig:
    """Validates the ``policy`` section; ``device: cuda`` on a machine without a GPU is an error here."""
    config = parse_dataclass(PolicyConfig, raw, "policy")
    check_device(config.device, "policy.device")
    weights = sum(a * b for a, b in itertools.pairwise((config.hidden[0], *config.hidden)))
    check_fits("policy.hidden", 16 * weights, "weights, gradients and two Adam moments per layer")
    environments = config.workers * config.envs_per_worker * BYTES_PER_ENV
    check_fits("policy.envs_per_worker", environments, "workers x envs_per_worker worlds and their histories")
    activations = 4 * config.batch_size * (sum(config.hidden) + 3 * MAX_SIDE) * 4
    check_fits("policy.batch_size", activations, "activations and gradients of one batch")
    check_fits("policy.eval_episodes", 64 * config.eval_episodes, "per-episode results of the evaluation")
    return config


BYTES_PER_ENV = 64 * 1024
"""Generous bound on what one environment of a worker holds: its observation and up to ``max_steps`` steps of
glow history (cells, actions, h-values), plus its share of the batches sent between processes."""


def check_fits(key: str, nbytes: float, what: str) -> None:
    """Refuses, before any work, a size whose main allocation alone exceeds this machine's memory."""
    budget = _physical_memory()
    if nbytes > budget:
        raise ParamsError(
            f"{key}: needs about {_gib(nbytes)} of memory ({what}), more than this machine's {_gib(budget)}"
        )


def _physical_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:,.1f} GiB"


def check_device(device: str, key: str) -> None:
    """Refuses ``cuda`` on a machine without a CUDA GPU, before any work starts."""
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ParamsError(f"{key}: 'cuda' was asked for but no CUDA GPU is available (use cpu or auto)")


def parse_dataclass(cls: type[T], raw: Any, where: str) -> T:
    """Builds a settings dataclass from a YAML mapping, checking every key's type and range rule.

    Every field must be given. Types understood: int, float (an int is accepted; never inf or NaN), str
    ``Literal`` choices and ``tuple[int, ...]``. A field's metadata may carry ``check`` (a predicate) and
    ``rule`` (its wording for the message).
    """
    section = _mapping(raw, where)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    _reject_unknown(section, where, tuple(fields))
    _require(section, where, tuple(fields))
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in section.items():
        key = f"{where}.{name}"
        values[name] = _coerce(value, hints[name], key)
        rule = fields[name].metadata
        if "check" in rule and not rule["check"](values[name]):
            raise ParamsError(f"{key}: {rule['rule']}, got {value!r}")
    return cls(**values)


def _coerce(value: Any, hint: Any, key: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        if value not in args:
            raise ParamsError(f"{key}: expected one of {list(args)}, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ParamsError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamsError(f"{key}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ParamsError(f"{key}: expected a finite number, got {value!r}")
        return float(value)
    if origin is tuple and args[1:] == (Ellipsis,) and args[0] is int:
        ok = (
            isinstance(value, list)
            and value
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        )
        if not ok or min(value) < 1:
            raise ParamsError(f"{key}: expected a non-empty list of positive integers, got {value!r}")
        return tuple(value)
    raise TypeError(f"{key}: unsupported parameter type {hint!r}")  # a programming error, not the user's


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ParamsError(f"{where}: expected a mapping, got {value!r}")
    return value


def _require(section: Mapping[str, Any], where: str, keys: tuple[str, ...]) -> None:
    missing = [key for key in keys if key not in section]
    if missing:
        raise ParamsError(
            f"{where}.{missing[0]}: missing; params.yaml must set every key (missing: {missing})"
        )


def _reject_unknown(section: Mapping[str, Any], where: str, known: tuple[str, ...]) -> None:
    unknown = sorted(set(section) - set(known))
    if unknown:
        raise ParamsError(f"{where}: unknown key(s) {unknown}; expected some of {list(known)}")
