"""params.yaml is validated up front: the shipped file parses, and each mistake names its key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scinet.params import ParamsError, parse_env

ROOT = Path(__file__).resolve().parents[1]


def _env_section() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())["env"]


def test_shipped_params_define_the_paper_objectives() -> None:
    env = parse_env(_env_section())
    assert list(env.objectives) == ["env1", "env2", "env3"]
    assert env.objective("env1").plane == (1, 1, 0) and env.objective("env1").reward_pos == (6, 11)
    assert env.objective("env2").plane == (0, 1, 1) and env.objective("env2").reward_pos == (11, 6)
    assert env.objective("env3").plane == (1, 0, 1) and env.objective("env3").reward_pos == (6, 6)
    assert all(c.grid_size == (12, 12, 12) and c.max_steps == 400 for c in env.objectives.values())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda e: e.update(max_steps="400"), r"env\.objectives\.env1: max_steps must be an integer"),
        (lambda e: e.update(grid_size=[12, 12]), r"env\.objectives\.env1: .*3-D"),
        (lambda e: e["objectives"]["env2"].update(plane=[1, 1, 1]), r"env\.objectives\.env2: .*two ones"),
        (lambda e: e["objectives"]["env3"].update(colour="red"), r"env\.objectives\.env3: unknown key"),
        (lambda e: e.update(objectives={}), r"env\.objectives: at least one"),
        (lambda e: e.update(objectives=[1, 2]), r"env\.objectives: expected a mapping"),
        (lambda e: e.update(seed=1), r"env: unknown key"),
    ],
)
def test_bad_values_name_their_key(edit, message: str) -> None:  # type: ignore[no-untyped-def]
    section = _env_section()
    edit(section)
    with pytest.raises(ParamsError, match=message):
        parse_env(section)


def test_unknown_objective_lists_the_known_ones() -> None:
    with pytest.raises(ParamsError, match="unknown objective 'env9'; params define: env1, env2, env3"):
        parse_env(_env_section()).objective("env9")
