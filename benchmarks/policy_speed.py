"""Policy-mode throughput: env steps/s and trainer updates/s, serial and async, at a few worker counts.

Run: ``python benchmarks/policy_speed.py [--episodes 40000] [--device cpu]``. Each configuration trains a
fresh env1 agent end to end (acting, glow, training; no experience dropped, workers wait for the trainer)
and the rates are read between the first and last learning-curve points, so process start-up is excluded.
The original program runs 100-400 env steps/s on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform

import torch

from scinet.envs import SubGridConfig
from scinet.policy.config import PolicyConfig
from scinet.policy.training import train_policy

ENV1 = SubGridConfig(grid_size=(12, 12, 12), plane=(1, 1, 0), reward_pos=(6, 11), max_steps=400)


def measure(config: PolicyConfig) -> tuple[float, float, dict[str, float]]:
    stats = train_policy(ENV1, config).stats
    first, last = stats.curve[0], stats.curve[-1]
    seconds = last.wall_seconds - first.wall_seconds
    return (
        (last.env_steps - first.env_steps) / seconds,
        (last.updates - first.updates) / seconds,
        stats.timing,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=40_000, help="episode budget per configuration")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--envs-per-worker", type=int, default=256)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    base = PolicyConfig(
        device=args.device, predictors=1, episodes=args.episodes, envs_per_worker=args.envs_per_worker,
        log_interval=max(args.episodes // 20, 1),
    )  # fmt: skip
    runs = [("serial", dataclasses.replace(base, mode="serial", workers=2))]
    runs += [(f"async, {w} workers", dataclasses.replace(base, workers=w)) for w in args.workers]
    device = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or "CPU"
    print(f"# {device}, torch {torch.__version__}, {args.envs_per_worker} envs per worker")
    print(f"{'mode':<22}{'env steps/s':>14}{'updates/s':>12}  {'predictor busy':>15}{'trainer busy':>14}")
    for name, config in runs:
        steps, updates, timing = measure(config)
        shares = f"{busy_share(timing, 'predictor'):>15}{busy_share(timing, 'trainer'):>14}"
        print(f"{name:<22}{steps:>14,.0f}{updates:>12,.1f}  {shares}")


def busy_share(timing: dict[str, float], role: str) -> str:
    """Share of its time a role spent computing (the rest it waited for work); '-' in serial mode."""
    busy, idle = timing.get(f"{role}_busy_s", 0.0), timing.get(f"{role}_idle_s", 0.0)
    return f"{100 * busy / (busy + idle):.0f} %" if busy + idle else "-"


if __name__ == "__main__":
    main()
