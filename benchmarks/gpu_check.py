"""One command that proves and times the training paths on a device: ``python benchmarks/gpu_check.py``.

A GPU is lent to this project's sessions only now and then, so everything the GPU path needs checking is
in one short run: an env1 agent trained asynchronously, interrupted by SIGINT (as Ctrl-C would, to the
whole process group) and resumed; that agent's selection data; the selection model trained with each
schedule, interrupted and resumed the same way; every file made on the device loaded on the CPU and checked
to compute what it computed there; and a table of env steps/s, learner updates/s, samples/s, decoder
steps/s, device memory and each role's busy share. Every training runs in a child process of its own, so
the interruption hits it exactly as in a stage. The exit code is 0 only if every check held.

``--device cpu`` runs the same sequence on the CPU with smaller budgets; the test suite runs that. The
script needs torch, numpy and gymnasium, not dvc or dvclive.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from policy_speed import busy_share  # this script's folder is on sys.path when it runs

from scinet.envs import SubGridConfig
from scinet.errors import TrainingInterrupted
from scinet.nets import DPSNetwork, load_dps_agent, read_checkpoint, save_checkpoint
from scinet.policy.config import PolicyConfig
from scinet.policy.training import train_policy
from scinet.runtime import resolve_device
from scinet.selection.config import SelectionDataConfig, SelectionTrainConfig
from scinet.selection.data import SelectionData
from scinet.selection.generate import generate_selection_data
from scinet.selection.model import SelectionModel
from scinet.selection.training import train_selection

GRID = (12, 12, 12)
ENV1 = SubGridConfig(grid_size=GRID, plane=(1, 1, 0), reward_pos=(6, 11), max_steps=400)
EXIT_INTERRUPTED = 3
SCHEDULES = ("async", "fused")


@dataclass(frozen=True)
class Budget:
    """How much each part trains: enough to outlast start-up and an interruption, no more."""

    episodes: int  # policy mode, env1 agent
    envs_per_worker: int
    samples: int  # selection data of the agent
    steps: int  # selection training, per decoder
    log_interval: int  # selection curve points, per decoder


BUDGETS = {
    "cuda": Budget(episodes=200_000, envs_per_worker=1024, samples=100_000, steps=20_000, log_interval=500),
    "cpu": Budget(episodes=4_000, envs_per_worker=128, samples=1_000, steps=400, log_interval=40),
}


@dataclass
class Report:
    """What the parent learns from the children; each failed check adds one line to ``failures``."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def check(self, holds: bool, failure: str) -> None:
        if not holds:
            self.failures.append(failure)


# --- children: one training each, in its own process ------------------------------------------------


def _child(args: argparse.Namespace) -> int:
    work, budget = Path(args.work), BUDGETS["cuda" if args.device == "cuda" else "cpu"]
    try:
        result = CHILDREN[args.child](work, args.device, budget)
    except TrainingInterrupted:
        return EXIT_INTERRUPTED
    (work / f"{args.child}.json").write_text(json.dumps(result))
    return 0


def _policy(work: Path, device: str, budget: Budget) -> dict[str, Any]:
    config = PolicyConfig(
        mode="async", device=device, workers=2, predictors=1, envs_per_worker=budget.envs_per_worker,
        episodes=budget.episodes, log_interval=max(budget.episodes // 20, 1), checkpoint_interval=1.0,
        lr_schedule="linear", unrewarded_steps="forget",
    )  # fmt: skip
    result = train_policy(ENV1, config, work / "policy_ckpt.pt")
    agent = DPSNetwork(ENV1.obs_size, hidden=config.hidden)
    agent.load_state_dict(result.weights)
    save_checkpoint(work / "agent.pt", "dps-agent", agent, objective="env1", hidden=list(config.hidden))
    first, last = result.stats.curve[0], result.stats.curve[-1]
    seconds = last.wall_seconds - first.wall_seconds
    return {
        "resumed_from": result.resumed_from,
        "env_steps_per_s": (last.env_steps - first.env_steps) / seconds,
        "updates_per_s": (last.updates - first.updates) / seconds,
        "timing": result.stats.timing,
        "outputs": _outputs(agent, _probe_inputs(ENV1.obs_size, 6), device),
    }


def _data(work: Path, device: str, budget: Budget) -> dict[str, Any]:
    config = SelectionDataConfig(mode="async", device=device, workers=2, samples=budget.samples)
    started = time.perf_counter()
    data = generate_selection_data(load_dps_agent(work / "agent.pt"), ENV1, config)
    seconds = time.perf_counter() - started
    data.save(work / "env1.npz")
    return {"samples_per_s": budget.samples / seconds}


def _selection(schedule: str) -> Callable[[Path, str, Budget], dict[str, Any]]:
    """The child that trains the selection model with ``schedule``."""

    def train(work: Path, device: str, budget: Budget) -> dict[str, Any]:
        started = time.perf_counter()
        data = [SelectionData.load(work / "env1.npz", GRID)] * 3  # the rate does not depend on the values
        config = SelectionTrainConfig(
            schedule=schedule, device=device, steps=budget.steps, log_interval=budget.log_interval,
            checkpoint_interval=1.0,
        )  # fmt: skip
        result = train_selection(data, GRID, config, work / f"selection_{schedule}_ckpt.pt")
        save_checkpoint(work / f"selection_{schedule}.pt", "selection-model", result.weights, latent_dim=8)
        first, last = result.curve[0], result.curve[-1]
        model = SelectionModel().eval()
        model.load_state_dict(result.weights)
        seconds = last["wall_seconds"] - first["wall_seconds"]
        return {
            "steps": result.steps,
            "decoder_steps_per_s": len(data) * (last["step"] - first["step"]) / seconds,
            "outputs": _outputs(model.encoder, _probe_inputs(36), device),
            # the training time it reports includes the interrupted run's: more than this run lasted
            "resumed": result.wall_seconds > time.perf_counter() - started,
        }

    return train


CHILDREN = {"policy": _policy, "data": _data, **{f"selection_{s}": _selection(s) for s in SCHEDULES}}


@torch.no_grad()
def _outputs(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], device: str) -> list[Any]:
    """What ``module`` computes on ``inputs`` on the device, as plain numbers for the parent."""
    on = resolve_device(device)
    return module.to(on)(*(x.to(on) for x in inputs)).cpu().tolist()


def _probe_inputs(*widths: int) -> tuple[torch.Tensor, ...]:
    """Fixed one-hot-like inputs, a tensor per width, on which outputs are compared across devices."""
    generator = torch.Generator().manual_seed(0)
    return tuple((torch.rand(64, width, generator=generator) < 0.1).float() for width in widths)


# --- parent: runs the children, interrupts them, checks and reports --------------------------------


def _run_child(name: str, args: argparse.Namespace, work: Path, interrupt_after: Path | None) -> int:
    """Runs one child; with ``interrupt_after``, SIGINT to its group once that checkpoint shows progress."""
    command = [sys.executable, __file__, "--child", name, "--device", args.device, "--work", str(work)]
    child = subprocess.Popen(command, start_new_session=True)
    if interrupt_after is not None:
        while child.poll() is None and _progress(interrupt_after) == 0:
            time.sleep(0.5)
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGINT)
    try:
        return child.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        raise SystemExit(f"gpu_check: {name} ran past {args.timeout} s; killed") from None


def _progress(checkpoint: Path) -> int:
    """Episodes or decoder steps a checkpoint holds; 0 before the first one that follows some training."""
    if not checkpoint.exists():
        return 0
    extra = read_checkpoint(checkpoint).extra
    return int(extra.get("episodes", 0)) + sum(int(d["step"]) for d in extra.get("decoders", []))


def _interrupt_and_resume(
    name: str, checkpoint: Path, args: argparse.Namespace, work: Path, report: Report
) -> dict[str, Any]:
    """Runs ``name`` to its first checkpoint, interrupts it, reads that checkpoint on the CPU, resumes."""
    code = _run_child(name, args, work, interrupt_after=checkpoint)
    report.check(code == EXIT_INTERRUPTED, f"{name}: SIGINT gave exit code {code}, not an interruption")
    report.check(_progress(checkpoint) > 0, f"{name}: no checkpoint of its progress after the interruption")
    code = _run_child(name, args, work, interrupt_after=None)
    report.check(code == 0, f"{name}: the resumed run exited with {code}")
    result_file = work / f"{name}.json"
    return json.loads(result_file.read_text()) if result_file.exists() else {}


class MemoryWatch:
    """Peak device memory in use while children run, sampled from the driver (children own the tensors)."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.peak, self._stop = device, 0, threading.Event()
        self.baseline = self._used()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _used(self) -> int:
        if self.device.type != "cuda":
            return 0
        free, total = torch.cuda.mem_get_info(self.device)
        return total - free

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self._used() - self.baseline)

    def stop(self) -> str:
        self._stop.set()
        self._thread.join()
        return f"{self.peak / 2**20:,.0f} MiB" if self.device.type == "cuda" else "-"


@torch.no_grad()
def _same_on_cpu(
    name: str, outputs: list[Any], module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], report: Report
) -> None:
    """A file made on the device, loaded on the CPU, computes what the device computed (float tolerance)."""
    difference = (module(*inputs) - torch.tensor(outputs)).abs().max().item()
    report.check(difference < 1e-3, f"{name}: on the CPU it computes {difference:.2e} away from the device")


def _parent(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    work = Path(args.work or tempfile.mkdtemp(prefix="gpu_check_"))
    work.mkdir(parents=True, exist_ok=True)
    report, memory = Report(), MemoryWatch(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({os.cpu_count()} cores)"
    started = time.perf_counter()

    policy = _interrupt_and_resume("policy", work / "policy_ckpt.pt", args, work, report)
    report.check(policy.get("resumed_from", 0) > 0, "policy: the second run did not resume")
    if policy:
        timing = policy["timing"]
        report.rows += [
            ("policy: env steps/s (async, 2 workers)", f"{policy['env_steps_per_s']:,.0f}"),
            ("policy: learner updates/s", f"{policy['updates_per_s']:,.1f}"),
            (
                "policy: predictor / learner busy",
                f"{busy_share(timing, 'predictor')} / {busy_share(timing, 'trainer')}",
            ),
        ]
        agent = load_dps_agent(work / "agent.pt")
        _same_on_cpu("agent", policy["outputs"], agent, _probe_inputs(ENV1.obs_size, 6), report)

    code = _run_child("data", args, work, interrupt_after=None)
    report.check(code == 0, f"data: exited with {code}")
    if code == 0:
        rate = json.loads((work / "data.json").read_text())["samples_per_s"]
        report.rows.append(("selection data: samples/s (async, 2 workers)", f"{rate:,.0f}"))
        for schedule in SCHEDULES:
            child = f"selection_{schedule}"
            result = _interrupt_and_resume(child, work / f"{child}_ckpt.pt", args, work, report)
            if result:
                rate = f"{result['decoder_steps_per_s']:,.1f}"
                report.rows.append((f"selection {schedule}: decoder steps/s (3 decoders)", rate))
                report.check(result["resumed"], f"{child}: the second run did not resume")
                model = SelectionModel().eval()
                model.load_state_dict(read_checkpoint(work / f"{child}.pt").state_dict)
                _same_on_cpu(child, result["outputs"], model.encoder, _probe_inputs(36), report)

    report.rows.append(("device memory in use, peak", memory.stop()))
    report.rows.append(("wall time of this check", f"{time.perf_counter() - started:,.0f} s"))
    print(f"\n| {name}, torch {torch.__version__} | |\n| --- | --- |")
    for what, value in report.rows:
        print(f"| {what} | {value} |")
    for failure in report.failures:
        print(f"FAILED: {failure}")
    print(
        "gpu_check: every check held" if not report.failures else f"gpu_check: {len(report.failures)} failed"
    )
    return 0 if not report.failures else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help="(default: %(default)s)")
    parser.add_argument("--work", help="an empty or new folder for its files (default: a new temporary one)")
    parser.add_argument("--timeout", type=float, default=240.0, help="s per child run (default: %(default)s)")
    parser.add_argument("--child", choices=list(CHILDREN), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is None and args.work and Path(args.work).exists() and any(Path(args.work).iterdir()):
        parser.error(f"--work {args.work} is not empty")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("no CUDA device here; --device cpu runs the same sequence on the CPU")
    return _child(args) if args.child else _parent(args)


if __name__ == "__main__":
    sys.exit(main())
