"""Checks that the provenance recorded inside a repository's outputs agrees with its dvc.lock."""

from __future__ import annotations

import json
from pathlib import Path

from ruamel.yaml import YAML

from scinet.nets import read_checkpoint

RECORD_KEYS = {"params", "device", "python", "scinet-repro", "torch", "numpy"}


def recorded(path: Path) -> dict:
    """The provenance record inside a metrics JSON or a model file."""
    if path.suffix == ".json":
        records = json.loads(path.read_text())["provenance"]
        assert isinstance(records, list) and len(records) == 1, path
        return records[0]
    return read_checkpoint(path).extra["provenance"]


def check_outputs_match_the_lock(repo: Path, require_models: bool = True) -> list[str]:
    """Every metrics JSON and model file a stage of ``repo``'s dvc.lock writes records exactly that stage's
    locked params; returns the paths checked."""
    # DVC writes the lock as YAML 1.2 (``5e-05`` is a number there, a string to PyYAML), so read it likewise
    lock = YAML(typ="safe").load((repo / "dvc.lock").read_text())["stages"]
    checked = []
    for name, stage in lock.items():
        params = stage.get("params", {}).get("params.yaml", {})
        for out in stage.get("outs", []):
            path = repo / out["path"]
            if not (path.suffix == ".json" or (path.suffix == ".pt" and path.parts[-3] == "models")):
                continue
            if path.suffix == ".pt" and not path.is_file() and not require_models:
                continue
            record = recorded(path)
            assert set(record) - {"stage"} == RECORD_KEYS, (out["path"], sorted(record))
            if "@" in name and name.split("@")[1].isdigit():  # a per-seed item: its seed is in its command
                assert record.get("stage") == name, (
                    f"{out['path']}: made by {record.get('stage')}, not {name}"
                )
            assert record["params"] == params, f"{out['path']}: recorded params differ from dvc.lock's {name}"
            assert record["device"] == "cpu" or record["device"].startswith("cuda"), record["device"]
            assert record["torch"] and record["numpy"] and record["python"], record
            checked.append(out["path"])
    return checked
