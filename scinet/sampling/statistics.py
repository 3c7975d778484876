"""Statistics role: what the coordinator learns from the other roles, and the learning curve it draws.

Workers report env steps and finished episodes, trainers their updates and losses, predictors and workers
their busy and waiting times (per-component timing, to see which role limits the throughput).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class CurvePoint:
    """One point of the learning curve: the episodes finished since the previous point, summarised."""

    episodes: int
    mean_steps: float
    timeouts: float
    loss: float
    env_steps: int
    updates: int
    wall_seconds: float


class Statistics:
    """Running totals of a (possibly resumed) run and its learning curve."""

    def __init__(
        self, log_interval: int, episodes: int = 0, env_steps: int = 0, updates: int = 0,
        wall_seconds: float = 0.0, curve: list[dict[str, float]] | None = None,
    ) -> None:  # fmt: skip
        self.log_interval = log_interval
        self.episodes, self.env_steps = episodes, env_steps
        self.base_updates = updates
        self.trainer_updates: dict[int, int] = {}
        self.base_wall = wall_seconds
        self.started = time.monotonic()
        self.curve = [CurvePoint(**point) for point in curve or []]
        self.run_env_steps = 0
        self.timing: dict[str, float] = defaultdict(float)
        self._lengths: list[np.ndarray] = []
        self._window_episodes = self._window_timeouts = 0
        self._losses: list[float] = []

    @property
    def updates(self) -> int:
        return self.base_updates + sum(self.trainer_updates.values())

    @property
    def wall_seconds(self) -> float:
        return self.base_wall + time.monotonic() - self.started

    def record_episodes(self, env_steps: int, lengths: np.ndarray, timeouts: int) -> None:
        self.env_steps += env_steps
        self.run_env_steps += env_steps
        if len(lengths) == 0:
            return
        self.episodes += len(lengths)
        self._lengths.append(lengths)
        self._window_episodes += len(lengths)
        self._window_timeouts += timeouts
        if self._window_episodes >= self.log_interval:
            self._close_point()

    def report_episodes(self, workers: int) -> int:
        """Finished episodes a worker may gather before reporting, so a curve point spans a few reports."""
        return max(self.log_interval // workers, 1)

    def record_updates(self, trainer: int, updates_so_far: int, losses: list[float]) -> None:
        self.trainer_updates[trainer] = updates_so_far
        self._losses.extend(losses)

    def record_time(self, role: str, **seconds: float) -> None:
        for what, value in seconds.items():
            self.timing[f"{role}_{what}_s"] += value

    def env_steps_per_second(self) -> float:
        return self.run_env_steps / max(time.monotonic() - self.started, 1e-9)

    def recent_mean_steps(self) -> float:
        return self.curve[-1].mean_steps if self.curve else float("nan")

    def figures(self) -> dict[str, str]:
        """What a progress bar shows beside the episodes: the recent mean path, the env steps per second."""
        return {
            "mean_steps": f"{self.recent_mean_steps():.1f}",
            "steps_per_s": f"{self.env_steps_per_second():,.0f}",
        }

    def curve_rows(self) -> list[dict[str, float]]:
        return [asdict(point) for point in self.curve]

    def _close_point(self) -> None:
        lengths = np.concatenate(self._lengths)
        self.curve.append(
            CurvePoint(
                episodes=self.episodes,
                mean_steps=round(float(lengths.mean()), 4),
                timeouts=round(self._window_timeouts / len(lengths), 6),
                loss=round(float(np.mean(self._losses)), 6) if self._losses else float("nan"),
                env_steps=self.env_steps,
                updates=self.updates,
                wall_seconds=round(self.wall_seconds, 2),
            )
        )
        self._lengths, self._losses = [], []
        self._window_episodes = self._window_timeouts = 0
