"""Every stage's ``deps`` in dvc.yaml cover every project module the stage can run.

A module a stage loads but does not list is code DVC does not hash: changing it would leave the stage's cached
result standing although the code that made it is gone. The modules are found in a fresh interpreter (what
importing the stage loads) plus the project imports written anywhere in those modules (function-level ones,
which run later, and those of spawned children, which import the same modules).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("scinet", "stages")


def _stages() -> dict[str, dict]:
    """Each stage of dvc.yaml; a ``foreach`` stage once per key of a mapping (its deps with ``${key}``
    filled in), or once for the first item of a list (every item runs the same command on its own seed)."""
    stages = {}
    for name, stage in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].items():
        if "foreach" not in stage:
            stages[name] = stage
            continue
        params = yaml.safe_load((ROOT / "params.yaml").read_text())
        section, key = stage["foreach"].strip("${}").split(".")
        items = params[section][key]
        for item in items if isinstance(items, dict) else items[:1]:
            text = json.dumps(stage["do"]).replace("${key}", str(item)).replace("${item}", str(item))
            stages[f"{name}@{item}"] = json.loads(text)
    return stages


def _loaded_files(module: str) -> set[Path]:
    """Project files that importing ``module`` loads, seen by a fresh interpreter in the repository root."""
    code = (
        f"import sys, json, {module}\n"
        "print(json.dumps([getattr(m, '__file__', None) for m in list(sys.modules.values())]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    files = {Path(f).resolve() for f in json.loads(out.splitlines()[-1]) if f}
    return {f for f in files if f.is_relative_to(ROOT) and f.relative_to(ROOT).parts[0] in PACKAGES}


def _module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_files(path: Path) -> set[Path]:
    """Project modules that ``path`` imports anywhere (module level or inside functions), with parents."""
    files = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] not in PACKAGES:
                continue
            for depth in range(1, len(parts) + 1):
                found = _module_file(".".join(parts[:depth]))
                if found is not None:
                    files.add(found)
    return files


def _closure(files: set[Path]) -> set[Path]:
    todo, seen = list(files), set(files)
    while todo:
        for found in _imported_files(todo.pop()) - seen:
            seen.add(found)
            todo.append(found)
    return seen


def _stage_module(cmd: str) -> str:
    words = cmd.split()
    assert words[:3][:2] == ["python", "-m"] and words[2].startswith("stages."), (
        f"a stage runs as `python -m stages.<name>` (so it imports the checkout's scinet), got {cmd!r}"
    )
    return words[2]


@pytest.mark.parametrize(("name", "stage"), sorted(_stages().items()))
def test_deps_cover_every_module_the_stage_runs(name: str, stage: dict) -> None:
    module = _stage_module(stage["cmd"])
    files = _closure(_loaded_files(module))
    deps = [ROOT / dep for dep in stage.get("deps", [])]
    uncovered = sorted(
        str(f.relative_to(ROOT)) for f in files if not any(f == d or f.is_relative_to(d) for d in deps)
    )
    assert not uncovered, f"{name}: loads modules none of its deps cover: {uncovered}"


def test_the_report_stage_loads_neither_torch_nor_the_trainer() -> None:
    """The report only formats numbers: it must not re-run when the trainer or the networks change."""
    code = "import sys, stages.report; print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    loaded = {str(f.relative_to(ROOT)) for f in _loaded_files("stages.report")}
    heavy = {f for f in loaded if f.startswith(("scinet/nets/", "scinet/ps/", "scinet/selection/"))}
    policy = {f for f in loaded if f.startswith(("scinet/policy/", "scinet/sampling/"))}
    assert not heavy and policy <= {"scinet/policy/__init__.py", "scinet/policy/config.py"}
