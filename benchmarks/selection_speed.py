"""Selection-mode throughput: samples/s of the selection data, decoder steps/s of the training schedules.

Run: ``python benchmarks/selection_speed.py [--part data|training] [--seconds 20] [--device cpu]``.

Data: a trained agent (ours from models/policy/, else the authors' from ../shared/upstream/) generates
``--data-samples`` samples in serial mode and in async mode at a few worker counts; the rate depends on the
agent's path lengths, so the agent used is printed. Training: each schedule
trains the paper-sized model (batch 200, three decoders) on synthetic data (200,000 random samples per
agent on the 12x12x12 grid; speed does not depend on the values) for a fixed wall time, then is stopped
by SIGINT like an interrupted run. The rate, summed over the decoders, is read between the first and the
last learning-curve points, so process start-up is excluded. The paper's run took about 0.83M steps per
decoder, so the rate sets the wall time of a faithful run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from scinet.envs import SubGridConfig
from scinet.errors import TrainingInterrupted
from scinet.nets import load_dps_agent, read_checkpoint
from scinet.runtime import resolve_device
from scinet.selection.config import SelectionDataConfig, SelectionTrainConfig
from scinet.selection.data import SelectionData
from scinet.selection.generate import generate_selection_data
from scinet.selection.training import train_selection

GRID = (12, 12, 12)


def synthetic_data(samples: int, agents: int = 3, seed: int = 0) -> list[SelectionData]:
    rng = np.random.default_rng(seed)
    return [
        SelectionData(
            rng.integers(0, GRID[0], (samples, 3)).astype(np.int8),
            rng.integers(0, 6, samples).astype(np.int8),
            (10 * rng.random(samples)).astype(np.float32),
        )
        for _ in range(agents)
    ]


def measure(data: list[SelectionData], config: SelectionTrainConfig, seconds: float) -> tuple[float, int]:
    """(decoder steps/s over all decoders, steps per decoder) of a run stopped after ``seconds``."""
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = Path(folder) / "benchmark.pt"
        timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:
            train_selection(data, GRID, config, checkpoint)
        except TrainingInterrupted:
            pass
        finally:
            timer.cancel()
        saved = read_checkpoint(checkpoint).extra
    curve, steps = saved["curve"], [d["step"] for d in saved["decoders"]]
    if len(curve) < 2:
        raise SystemExit(f"{config.schedule}: fewer than two curve points in {seconds} s; run longer")
    first, last = curve[0], curve[-1]
    rate = len(data) * (last["step"] - first["step"]) / (last["wall_seconds"] - first["wall_seconds"])
    return rate, min(steps)


def time_training(args: argparse.Namespace) -> None:
    data = synthetic_data(args.samples)
    base = SelectionTrainConfig(
        device=args.device, steps=10**9, log_interval=args.log_interval, checkpoint_interval=1e9
    )
    device = resolve_device(args.device)
    name = torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or "CPU"
    print(f"# training: {name}, {os.cpu_count()} CPUs, torch {torch.__version__}, batch {base.batch_size}")
    print(f"{'schedule':<10}{'decoder steps/s':>17}{'steps per decoder':>19}")
    for schedule in args.schedules:
        rate, steps = measure(data, dataclasses.replace(base, schedule=schedule), args.seconds)
        print(f"{schedule:<10}{rate:>17,.1f}{steps:>19,}")


ENV1 = SubGridConfig(grid_size=GRID, plane=(1, 1, 0), reward_pos=(6, 11), max_steps=400)
AGENTS = (Path("models/policy/env1.pt"), Path("../shared/upstream/ps_pretrain_1.pth"))


def time_data(args: argparse.Namespace) -> None:
    agent_path = next((p for p in AGENTS if p.is_file()), None)
    if agent_path is None:
        raise SystemExit(f"no trained env1 agent at any of {[str(p) for p in AGENTS]}")
    print(f"# data: agent {agent_path} (env1), {os.cpu_count()} CPUs, {args.data_samples:,} samples per run")
    print(f"{'mode':<8}{'workers':>8}{'samples/s':>12}")
    runs = [("serial", 1), *(("async", w) for w in args.workers)]
    for mode, workers in runs:
        config = SelectionDataConfig(
            mode=mode, device=args.device, workers=workers, samples=args.data_samples
        )
        agent = load_dps_agent(agent_path)
        started = time.perf_counter()
        generate_selection_data(agent, ENV1, config)
        rate = args.data_samples / (time.perf_counter() - started)
        print(f"{mode:<8}{workers:>8}{rate:>12,.0f}")


PARTS: dict[str, Callable[[argparse.Namespace], None]] = {"data": time_data, "training": time_training}
"""Each part of the selection pipeline that this script times, by ``--part`` name."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="all", choices=[*PARTS, "all"])
    parser.add_argument("--seconds", type=float, default=20.0, help="wall time per measured configuration")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--samples", type=int, default=200_000, help="synthetic samples per agent")
    parser.add_argument("--schedules", nargs="+", default=["fused", "async"], choices=["fused", "async"])
    parser.add_argument("--log-interval", type=int, default=20, help="steps per decoder between rate samples")
    parser.add_argument("--data-samples", type=int, default=100_000, help="selection samples per data run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="async data worker counts")
    args = parser.parse_args()
    for name, part in PARTS.items():
        if args.part in (name, "all"):
            part(args)


if __name__ == "__main__":
    main()
