"""What a sweep runs: one job per stage item and per point of the parameter grid."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from scinet.sweep import SweepError


@dataclass(frozen=True)
class Job:
    """One unit of work: the stage items one ``dvc repro`` reproduces, under ``-S`` overrides.

    No targets means the whole pipeline. Overrides use DVC's own ``-S`` syntax, because the job hands them
    to ``dvc exp run`` unchanged: the sweep never reinterprets a parameter value.
    """

    targets: tuple[str, ...]
    overrides: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How status lines and errors name the job: its stage items, then its overrides."""
        what = " ".join(self.targets) or "the whole pipeline"
        return f"{what} [{' '.join(self.overrides)}]" if self.overrides else what


def parse_grid(text: str) -> tuple[str, tuple[str, ...]]:
    """``"selection.steps=1000,2000"`` -> ``("selection.steps", ("1000", "2000"))``.

    Values are split at commas outside brackets, so that a list value stays one value:
    ``"selection.seeds=[0,1],[2,3]"`` has two.
    """
    key, sep, values = text.partition("=")
    if not sep or not key or not values:
        raise SweepError(f"--grid {text!r}: expected KEY=VALUE1,VALUE2,...")
    parts, depth, start = [], 0, 0
    for i, char in enumerate(values):
        depth += {"[": 1, "{": 1, "]": -1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(values[start:i])
            start = i + 1
    parts.append(values[start:])
    if depth != 0 or not all(parts):
        raise SweepError(f"--grid {text!r}: unbalanced brackets or an empty value")
    return key, tuple(parts)


def plan_jobs(targets: Sequence[str], overrides: Sequence[str], grid: Sequence[str]) -> list[Job]:
    """Every stage item (or the whole pipeline if none) at every grid point, with ``overrides`` in all.

    One job per stage item, not one for all of them, because a job is what the engine places on a node:
    items in separate jobs run side by side.
    """
    axes = [parse_grid(text) for text in grid]
    keys = [key for key, _ in axes]
    if len(set(keys)) != len(keys):
        raise SweepError(f"--grid names a key twice: {' '.join(keys)}")
    points = itertools.product(*[[f"{key}={value}" for value in values] for key, values in axes])
    items = [(target,) for target in targets] or [()]
    return [Job(item, (*overrides, *point)) for point in points for item in items]
