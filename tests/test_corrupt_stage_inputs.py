"""A stage or the command line given a damaged input: exactly one line on stderr with the path and the fix.

Each case runs the real entry point (``python -m stages.<name>`` in a temporary copy of the project, as DVC
runs it, or ``python -m scinet``) on one truncated or garbage file and expects a non-zero exit, no traceback,
and the advice that fits the file: ``dvc checkout``/``dvc pull`` for pipeline outputs, ``dvc repro`` for
metrics, deleting it for a training checkpoint.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from scinet.nets import DPSNetwork, save_checkpoint
from scinet.selection.model import SelectionModel

ROOT = Path(__file__).resolve().parents[1]
TINY_ENV = {
    "grid_size": [4, 4, 4],
    "max_steps": 20,
    "objectives": {"env1": {"plane": [1, 1, 0], "reward_pos": [3, 2]}},
}
DVC_FIX = "restore it with `dvc checkout {path}` (or `dvc pull {path}` if the cache lacks it)"
DELETE_FIX = "delete it to start the run over"
REPRO_FIX = "run `dvc repro` to rewrite it"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The stage scripts and a params.yaml of the real sections, on a tiny one-objective world."""
    shutil.copytree(ROOT / "stages", tmp_path / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["env"] = TINY_ENV
    params["policy"] = {**params["policy"], "device": "cpu", "mode": "serial", "hidden": [8]}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp_path


def _damage(path: Path, healthy: bytes | None = None) -> None:
    """Writes the first half of ``healthy`` (a truncated file) or, without it, bytes of no format at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(healthy[: len(healthy) // 2] if healthy else b"\x00garbage, not a model\xff" * 10)


def _selection_model(path: Path) -> bytes:
    save_checkpoint(path, "selection-model", SelectionModel(12, 8, 1), objectives=["env1"], latent_dim=8)
    return path.read_bytes()


def _one_line(result: subprocess.CompletedProcess[str], prefix: str, path: str, fix: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"{prefix}: error: ") and f" {path}: " in lines[0], lines[0]
    assert lines[0].endswith(fix.format(path=path)), lines[0]


def _stage(project: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", f"stages.{name}", *args]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120, check=False)


def test_analyze_selection_with_a_truncated_selection_model(project: Path) -> None:
    path = project / "models/selection/seed0.pt"
    _damage(path, _selection_model(path))
    result = _stage(project, "analyze_selection", "0")
    _one_line(result, "analyze_selection", "models/selection/seed0.pt", DVC_FIX)


def test_selection_data_with_a_garbage_policy_model(project: Path) -> None:
    _damage(project / "models/policy/env1.pt")
    _one_line(_stage(project, "selection_data", "0"), "selection_data", "models/policy/env1.pt", DVC_FIX)


def test_selection_data_with_the_selection_model_where_the_agent_belongs(project: Path) -> None:
    _selection_model(project / "models/policy/env1.pt")
    result = _stage(project, "selection_data", "0")
    _one_line(result, "selection_data", "models/policy/env1.pt", DVC_FIX)
    assert "holds a scinet/selection-model checkpoint where a scinet/dps-agent checkpoint" in result.stderr


def test_train_selection_with_truncated_data(project: Path) -> None:
    path = project / "data/selection/seed0/env1.npz"
    path.parent.mkdir(parents=True)
    np.savez_compressed(
        path, cells=np.zeros((9, 3), np.int8), actions=np.zeros(9, np.int8), targets=np.zeros(9)
    )
    _damage(path, path.read_bytes())
    result = _stage(project, "train_selection", "0")
    _one_line(result, "train_selection", "data/selection/seed0/env1.npz", DVC_FIX)


def test_robustness_with_the_verdict_of_another_seed_or_an_incomplete_one(project: Path) -> None:
    """A verdict copied into another seed's folder must not be counted as that seed's result."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["selection"]["seeds"] = [0, 1]
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    verdict = {"encoder": {}, "decoders": {}, "final_losses": {}, "steps_per_decoder": [], "verdict": False}
    for seed in (0, 1):
        folder = project / f"metrics/selection/seed{seed}"
        folder.mkdir(parents=True)
        (folder / "verdict.json").write_text(json.dumps({**verdict, "seed": 1}))
        (folder / "curve.tsv").write_text("step\n1000\n")
    path = "metrics/selection/seed0/verdict.json"
    fix = "holds the verdict of seed 1, not 0; " + REPRO_FIX
    _one_line(_stage(project, "robustness"), "robustness", path, fix)
    (project / path).write_text(json.dumps({**verdict, "seed": 0}))
    result = _stage(project, "robustness")
    _one_line(result, "robustness", path, REPRO_FIX)
    assert "has a missing or malformed entry (KeyError: 'reconstruction_bce')" in result.stderr


def test_train_policy_with_a_damaged_checkpoint(project: Path) -> None:
    _damage(project / "checkpoints/policy/env1.pt")
    _one_line(
        _stage(project, "train_policy", "env1"), "train_policy", "checkpoints/policy/env1.pt", DELETE_FIX
    )


def test_report_with_truncated_metrics(project: Path) -> None:
    (project / "metrics/policy").mkdir(parents=True)
    (project / "metrics/policy/env1.json").write_text('{"softmax": {"mean": 12.5, "ratio_to_opt')
    _one_line(_stage(project, "report"), "report", "metrics/policy/env1.json", REPRO_FIX)


def test_figures_with_a_garbage_curve(project: Path) -> None:
    _damage(project / "metrics/policy/env1_curve.tsv")
    _one_line(_stage(project, "figures"), "figures", "metrics/policy/env1_curve.tsv", REPRO_FIX)


def test_cli_evaluate_and_analyze_encoder_with_damaged_checkpoints(tmp_path: Path) -> None:
    agent = tmp_path / "models" / "agent.pt"
    agent.parent.mkdir()
    save_checkpoint(agent, "dps-agent", DPSNetwork(36, hidden=(8,)), hidden=[8])
    _damage(agent, agent.read_bytes())
    command = [sys.executable, "-m", "scinet", "evaluate", "--agent", str(agent), "--objective", "env1"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    _one_line(result, "scinet evaluate", str(agent), DVC_FIX)
    encoder = tmp_path / "encoder.pt"
    _damage(encoder)
    command = [sys.executable, "-m", "scinet", "analyze-encoder", "--checkpoint", str(encoder)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    _one_line(result, "scinet analyze-encoder", str(encoder), "or replace it with an intact copy")
