"""How a params section becomes settings: one validator and one set of range rules for every section.

A section's settings are a frozen dataclass with a one-line docstring under each field (the style of
CleanRL's ``Args``). A field's metadata holds its rule, made here: :func:`at_least`, :func:`positive`,
:func:`fraction`, or :func:`parsed_by` for a value with its own reader. :func:`parse_section` checks a raw
YAML mapping against the class and names the offending key in one :class:`~scinet.errors.ParamsError`.
Every key must be written out: a missing one is an error, never a silent library default, so that
``dvc.lock`` (which records params.yaml) always names every setting a result was made with. Light on
purpose: no torch, no mode.
"""

from __future__ import annotations

import dataclasses
import math
import os
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from scinet.errors import ParamsError

T = TypeVar("T")

BYTES_PER_ENV = 64 * 1024
"""Generous bound on what one environment of a worker holds: its observation and up to ``max_steps`` steps of
glow history (cells, actions, h-values), plus its share of the batches sent between processes."""


def at_least(low: float) -> dict[str, Any]:
    """The rule ``value >= low``, as a field's metadata."""
    return {"check": lambda v: v >= low, "rule": f"must be >= {low:g}"}


def positive() -> dict[str, Any]:
    """The rule ``value > 0``, as a field's metadata."""
    return {"check": lambda v: v > 0, "rule": "must be > 0"}


def fraction() -> dict[str, Any]:
    """The rule ``0 <= value < 1``, as a field's metadata."""
    return {"check": lambda v: 0 <= v < 1, "rule": "must lie in [0, 1)"}


def parsed_by(parse: Callable[[Any, str], Any]) -> dict[str, Any]:
    """A field read by ``parse(value, key)`` instead of by its type; it raises ParamsError naming ``key``."""
    return {"parse": parse}


def parse_section(cls: type[T], raw: Any, where: str, error: type[ParamsError] = ParamsError) -> T:
    """Builds a settings dataclass from a YAML mapping, checking every key's type and range rule.

    Every field must be given. Types understood: int, float (an int is accepted; never inf or NaN), bool,
    str ``Literal`` choices and ``tuple[int, ...]``; any other field needs :func:`parsed_by`. ``error`` is
    the ParamsError subclass to raise.
    """
    try:
        section = mapping(raw, where)
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        reject_unknown(section, where, tuple(fields))
        require(section, where, tuple(fields))
        hints = typing.get_type_hints(cls)
        values = {}
        for name, value in section.items():
            key, rule = f"{where}.{name}", fields[name].metadata
            values[name] = rule["parse"](value, key) if "parse" in rule else _coerce(value, hints[name], key)
            if "check" in rule and not rule["check"](values[name]):
                raise ParamsError(f"{key}: {rule['rule']}, got {value!r}")
    except ParamsError as err:
        raise (err if isinstance(err, error) else error(str(err))) from None
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


def mapping(value: Any, where: str) -> Mapping[str, Any]:
    """``value`` if it is a mapping (a YAML section), else a ParamsError naming ``where``."""
    if not isinstance(value, Mapping):
        raise ParamsError(f"{where}: expected a mapping, got {value!r}")
    return value


def require(section: Mapping[str, Any], where: str, keys: tuple[str, ...]) -> None:
    """Refuses a section that lacks any of ``keys``, naming the first missing one."""
    missing = [key for key in keys if key not in section]
    if missing:
        raise ParamsError(
            f"{where}.{missing[0]}: missing; params.yaml must set every key (missing: {missing})"
        )


def reject_unknown(section: Mapping[str, Any], where: str, known: tuple[str, ...]) -> None:
    """Refuses a section with a key outside ``known`` (a typo would otherwise be ignored)."""
    unknown = sorted(set(section) - set(known))
    if unknown:
        raise ParamsError(f"{where}: unknown key(s) {unknown}; expected some of {list(known)}")


def check_device(device: str, key: str) -> None:
    """Refuses ``cuda`` on a machine without a CUDA GPU, before any work starts."""
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ParamsError(f"{key}: 'cuda' was asked for but no CUDA GPU is available (use cpu or auto)")


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
