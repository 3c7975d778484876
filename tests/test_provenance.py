"""The committed results record what made them, and it is what dvc.lock names."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from provenance import check_outputs_match_the_lock

ROOT = Path(__file__).resolve().parents[1]
SEEDS = yaml.safe_load((ROOT / "params.yaml").read_text())["selection"]["seeds"]


def test_committed_metrics_record_the_params_dvc_lock_names() -> None:
    checked = check_outputs_match_the_lock(ROOT, require_models=False)  # models: tests/test_remote.py
    metrics = {p for p in checked if p.endswith(".json")}
    assert metrics == {
        "metrics/optimal_paths.json",
        "metrics/policy/headline.json",
        "metrics/policy/env1.json",
        "metrics/policy/env2.json",
        "metrics/policy/env3.json",
        "metrics/robustness.json",
        *(
            f"metrics/selection/seed{seed}/{name}.json"
            for seed in SEEDS
            for name in ("data", "training", "verdict", "headline")
        ),
    }


def test_a_record_that_disagrees_with_the_lock_is_caught(tmp_path: Path) -> None:
    """The check itself can fail: the same outputs against a lock whose params were edited."""
    for name in ("dvc.lock", "metrics"):
        copy = shutil.copy if name == "dvc.lock" else shutil.copytree
        copy(ROOT / name, tmp_path / name)
    lock = (tmp_path / "dvc.lock").read_text()
    (tmp_path / "dvc.lock").write_text(lock.replace("max_steps: 400", "max_steps: 401"))
    with pytest.raises(AssertionError, match=r"recorded params differ from dvc\.lock"):
        check_outputs_match_the_lock(tmp_path, require_models=False)


def test_no_cached_output_is_committed_to_git() -> None:
    """Models and selection data travel through DVC only: git holds their .gitignore files, never them."""
    listed = subprocess.run(
        ["git", "ls-files", "models", "data/selection"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert [p for p in listed if not p.endswith(".gitignore")] == []
