"""Environment steps per second on one core: the single Gymnasium env and the batched env.

Run: ``python benchmarks/env_speed.py [--seconds 3]``. Every step includes building the one-hot
observations and the auto-resets; actions are drawn in advance so that only the environment is timed.
The original gym-subgridworld runs about 9,000 steps/s on this kind of machine (it renders an 84^3 image
on every step).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from scinet.envs import BatchedSubGridWorld, SubGridWorld

PAPER_ENV1 = {"grid_size": [12, 12, 12], "plane": [1, 1, 0], "reward_pos": [6, 11], "max_steps": 400}
ORIGINAL_STEPS_PER_S = 9_000


def single_env_rate(seconds: float) -> float:
    env = SubGridWorld(**PAPER_ENV1)
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(6, size=100_000).tolist()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for action in actions[:10_000]:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        steps += 10_000
    return steps / (time.perf_counter() - start)


def batched_env_rate(num_envs: int, seconds: float) -> float:
    env = BatchedSubGridWorld(num_envs, seed=0, **PAPER_ENV1)
    actions = np.random.default_rng(0).integers(6, size=(256, num_envs))
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for row in actions:
            env.step(row)
        steps += actions.size
    return steps / (time.perf_counter() - start)


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="wall time per measurement")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the goal is stated
    print(f"# {_cpu_name()}, Python {platform.python_version()}, one core")
    print(f"{'environment':<24}{'steps/s':>14}{'x original':>12}")
    rows = [("SubGridWorld (single)", single_env_rate(args.seconds))]
    rows += [(f"BatchedSubGridWorld N={n}", batched_env_rate(n, args.seconds)) for n in (1, 64, 4096)]
    for name, rate in rows:
        print(f"{name:<24}{rate:>14,.0f}{rate / ORIGINAL_STEPS_PER_S:>12.1f}")


if __name__ == "__main__":
    main()
