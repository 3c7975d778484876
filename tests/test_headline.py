"""`dvc exp show` stays readable: a few headline metrics per stage item, the full records as plain outputs.

Every scalar of a declared metrics file is a `dvc exp show` column; the full records once made about 210 of
them, each printed as "…". These tests read the committed repository through the real `dvc` CLI.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML

from scinet.headline import neurons, policy_headline, selection_headline

ROOT = Path(__file__).resolve().parents[1]
MAX_COLUMNS = 15
"""Most `dvc exp show` columns the metrics of one stage item may add."""
WIDTH = 120
SEEDS = yaml.safe_load((ROOT / "params.yaml").read_text())["selection"]["seeds"]
OBJECTIVES = ("env1", "env2", "env3")


def _dvc(*args: str, columns: int | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    command = [sys.executable, "-m", "dvc", *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def _columns(value: Any) -> int:
    """Columns a metrics value makes in `dvc exp show`: its scalar leaves; DVC skips lists."""
    if isinstance(value, dict):
        return sum(_columns(v) for v in value.values())
    return 0 if isinstance(value, list) else 1


def _json(path: str) -> Any:
    return json.loads((ROOT / path).read_text())


def _without_provenance(path: str) -> dict[str, Any]:
    data = _json(path)
    assert len(data.pop("provenance")) == 1, path
    return data


def test_each_stage_item_adds_at_most_15_columns() -> None:
    (workspace,) = json.loads(_dvc("metrics", "show", "--json").stdout).values()
    shown = workspace["data"]
    lock = YAML(typ="safe").load((ROOT / "dvc.lock").read_text())["stages"]
    owner = {out["path"]: name for name, stage in lock.items() for out in stage.get("outs", [])}
    per_stage: Counter[str] = Counter()
    for path, entry in shown.items():
        assert "error" not in entry, (path, entry)
        per_stage[owner[path]] += _columns(entry["data"])
    too_wide = {name: n for name, n in per_stage.items() if n > MAX_COLUMNS}
    assert not too_wide, f"more than {MAX_COLUMNS} `dvc exp show` columns: {too_wide}"
    assert set(per_stage) == {  # the training stages declare no metrics: re-declaring them re-runs nothing
        "optimal_paths",
        "report",
        "robustness",
        *(f"analyze_selection@{seed}" for seed in SEEDS),
    }


def test_the_full_records_are_plain_outputs_and_still_written() -> None:
    """The details left the table, not the pipeline: each stage still writes them, DVC still tracks them."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    records = {
        "train_policy": "metrics/policy/${key}.json",
        "selection_data": "metrics/selection/seed${item}/data.json",
        "train_selection": "metrics/selection/seed${item}/training.json",
        "analyze_selection": "metrics/selection/seed${item}/verdict.json",
    }
    for name, record in records.items():
        stage = stages[name]["do"]
        assert {record: {"cache": False}} in stage["outs"], name
        assert "metrics" not in stage or all(record not in m for m in stage["metrics"]), name
    for env in OBJECTIVES:
        agent = _without_provenance(f"metrics/policy/{env}.json")
        assert {"softmax", "greedy", "episodes", "env_steps_per_second"} <= set(agent)
    for seed in SEEDS:
        folder = f"metrics/selection/seed{seed}"
        assert set(_without_provenance(f"{folder}/data.json")) >= {"seed", *OBJECTIVES}
        assert "final_losses" in _without_provenance(f"{folder}/training.json")
        encoder = _without_provenance(f"{folder}/verdict.json")["encoder"]
        assert len(encoder["eta2"]) == 8 and all(set(v) == {"x", "y", "z"} for v in encoder["eta2"].values())
        assert encoder["verdict"]["reason"] and "splits" in encoder and encoder["resolution"]


def test_the_headlines_are_the_records_condensed() -> None:
    """The committed headlines are what the library makes of the committed records (no drift)."""
    agents = {env: _json(f"metrics/policy/{env}.json") for env in OBJECTIVES}
    assert _without_provenance("metrics/policy/headline.json") == policy_headline(agents)
    for seed in SEEDS:
        folder = f"metrics/selection/seed{seed}"
        headline = _without_provenance(f"{folder}/headline.json")
        assert headline == selection_headline(_json(f"{folder}/verdict.json"))


def test_the_documented_recipe_fits_in_120_columns() -> None:
    """docs/pipeline.md's `dvc exp show` line shows its columns whole (no "…") in a 120-column terminal."""
    page = (ROOT / "docs" / "pipeline.md").read_text()
    recipes = re.findall(r"^dvc exp show --drop .*$", page, re.MULTILINE)
    assert len(recipes) == 1
    table = _dvc(*shlex.split(recipes[0])[1:], "--no-pager", columns=WIDTH).stdout
    lines = table.splitlines()
    assert max(len(line) for line in lines) <= WIDTH and "…" not in table, table
    header = lines[1].split()
    ratios = [f"{env}.ratio" for env in OBJECTIVES]
    assert header == ["Experiment", "Created", f"seed{SEEDS[0]}.verdict", "holds", "total", *ratios]


VERDICT = {
    "seed": 4,
    "encoder": {"kept": [2, 5], "encodes": {"2": "x", "5": "z"}},
    "decoders": {"env3": {"kept": [2, 5]}, "env1": {"kept": []}},
    "final_losses": {"decoder0_loss": 0.31, "decoder1_loss": 0.29, "reconstruction_bce": 0.0008},
    "kept_settled_at_step": 231_000,
    "verdict": False,
}


def test_a_seed_headline_keys_its_columns_by_seed_and_losses_by_decoder_order() -> None:
    assert selection_headline(VERDICT) == {
        "seed4": {
            "verdict": False,
            "encoder": "2:x 5:z",
            "env3_kept": "2,5",
            "env3_loss": 0.31,  # decoder 0 is the first of "decoders", whatever its name
            "env1_kept": "-",
            "env1_loss": 0.29,
            "bce": 0.0008,
            "settled_step": 231_000,
        }
    }


def test_kept_neurons_are_one_string() -> None:
    assert neurons([0, 4, 6], {"0": "x", "4": "z"}) == "0:x 4:z 6:?"
    assert neurons([1, 3]) == "1,3"
    assert neurons([]) == "-"
