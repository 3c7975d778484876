"""params.yaml is validated up front: the shipped file parses, and each mistake names its key."""

from __future__ import annotations

import re
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


def _policy_section() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())["policy"]


def test_shipped_policy_params_parse_and_keep_the_faithful_rule() -> None:
    from scinet.params import parse_policy

    policy = parse_policy(_policy_section())
    assert (policy.batch_size, policy.learning_rate, policy.weight_decay) == (200, 5e-5, 1e-5)
    assert (policy.glow, policy.beta) == (0.1, 0.5)
    assert policy.hidden == (128, 128, 128, 128, 64, 32)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("workers", -2, r"policy\.workers: must be >= 1, got -2"),
        ("workers", 2.5, r"policy\.workers: expected an integer, got 2\.5"),
        ("device", "tpu", r"policy\.device: expected one of \['cpu', 'cuda', 'auto'\], got 'tpu'"),
        ("mode", "fast", r"policy\.mode: expected one of \['async', 'serial'\]"),
        ("learning_rate", "5e-5", r"policy\.learning_rate: expected a number"),
        ("glow", 1.0, r"policy\.glow: must lie in \[0, 1\)"),
        ("hidden", [128, 0], r"policy\.hidden: expected a non-empty list of positive integers"),
        ("episode", 10, r"policy: unknown key\(s\) \['episode'\]"),
    ],
)
def test_bad_policy_values_name_their_key(key: str, value: object, message: str) -> None:
    from scinet.params import parse_policy

    with pytest.raises(ParamsError, match=message):
        parse_policy({**_policy_section(), key: value})


def test_cuda_without_a_gpu_is_refused_up_front() -> None:
    import torch

    from scinet.params import parse_policy

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ParamsError, match=r"policy\.device: 'cuda' was asked for but no CUDA GPU"):
        parse_policy({**_policy_section(), "device": "cuda"})


def test_linear_learning_rate_schedule_reaches_its_end_value() -> None:
    from scinet.policy.config import PolicyConfig

    constant = PolicyConfig(episodes=1000)
    assert constant.learning_rate_at(0) == constant.learning_rate_at(1000) == 5e-5
    linear = PolicyConfig(episodes=1000, lr_schedule="linear", learning_rate=1e-4, learning_rate_end=1e-5)
    assert linear.learning_rate_at(0) == pytest.approx(1e-4)
    assert linear.learning_rate_at(500) == pytest.approx(5.5e-5)
    assert linear.learning_rate_at(1000) == linear.learning_rate_at(5000) == pytest.approx(1e-5)


def _selection_section() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())["selection"]


def test_shipped_selection_params_parse_with_the_faithful_settings() -> None:
    from scinet.selection.params import parse_selection

    data, train = parse_selection(_selection_section())
    assert data.samples == 200_000
    assert (train.batch_size, train.learning_rate, train.weight_decay, train.latent_dim) == (
        200,
        1e-4,
        1e-5,
        8,
    )
    weights = (train.target_weight, train.decoder_selection_weight, train.encoder_selection_weight)
    assert weights == (1.0, 0.04, 0.02) and train.reconstruction_weight == 10.0
    assert (train.schedule, train.reconstruction_bce) == ("async", "logits")  # a documented deviation


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("workers", 0, r"selection\.workers: must be >= 1, got 0"),
        ("schedule", "hogwild", r"selection\.schedule: expected one of \['async', 'fused'\], got 'hogwild'"),
        (
            "reconstruction_bce",
            "mse",
            r"selection\.reconstruction_bce: expected one of \['sigmoid', 'logits'\]",
        ),
        ("learning_rate", 0, r"selection\.learning_rate: must be > 0"),
        ("step", 10, r"selection: unknown key\(s\) \['step'\]"),
    ],
)
def test_bad_selection_values_name_their_key(key: str, value: object, message: str) -> None:
    from scinet.selection.params import parse_selection

    with pytest.raises(ParamsError, match=message):
        parse_selection({**_selection_section(), key: value})


@pytest.mark.parametrize(
    ("seeds", "message"),
    [
        ([], "a non-empty list"),
        ([0, 0], "distinct"),
        ([1, -2], ">= 0"),
        ([0, True], "integers"),
        (3, "list"),
        ([0.5], "integers"),
    ],
)
def test_selection_seeds_are_a_list_of_distinct_non_negative_integers(seeds: object, message: str) -> None:
    from scinet.selection.params import parse_selection

    with pytest.raises(ParamsError, match=rf"^selection\.seeds: expected .*{message}"):
        parse_selection({**_selection_section(), "seeds": seeds})


def test_a_run_takes_its_seed_from_the_list_and_only_from_it() -> None:
    from scinet.selection.params import parse_selection

    section = {**_selection_section(), "seeds": [3, 7]}
    data, train = parse_selection(section, seed=7)
    assert data.seed == train.seed == 7
    assert parse_selection(section)[1].seed == 3  # no seed given: the first listed
    with pytest.raises(ParamsError, match=r"^selection\.seeds: seed 4 is not in the list \[3, 7\]$"):
        parse_selection(section, seed=4)
    with pytest.raises(ParamsError, match=r"unknown key\(s\) \['seed'\]"):
        parse_selection({**section, "seed": 0})  # one seed key, not two


def _all_sections() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def _parse(section: str, raw: dict) -> object:
    from scinet.params import parse_policy
    from scinet.selection.params import parse_selection

    return {"env": parse_env, "policy": parse_policy, "selection": parse_selection}[section](raw)


@pytest.mark.parametrize(
    ("section", "path"),
    [
        ("env", ["grid_size"]),
        ("env", ["max_steps"]),
        ("env", ["objectives", "env2", "reward_pos"]),
        ("policy", ["learning_rate"]),
        ("policy", ["hidden"]),
        ("policy", ["seed"]),
        ("selection", ["steps"]),
        ("selection", ["samples"]),
    ],
)
def test_a_missing_key_is_an_error_naming_it(section: str, path: list[str]) -> None:
    raw = _all_sections()[section]
    parent = raw
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    with pytest.raises(ParamsError, match=rf"^{section}\.{'.'.join(path)}: missing"):
        _parse(section, raw)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("policy", "learning_rate"),
        ("policy", "checkpoint_interval"),
        ("selection", "encoder_selection_weight"),
    ],
)
def test_non_finite_numbers_are_refused(section: str, key: str, value: float) -> None:
    raw = _all_sections()[section]
    raw[key] = value
    with pytest.raises(ParamsError, match=rf"^{section}\.{key}: expected a finite number"):
        _parse(section, raw)


def test_yaml_infinity_is_refused_as_written_in_params_yaml() -> None:
    raw = yaml.safe_load(
        yaml.safe_dump(_all_sections()).replace("learning_rate: 5.0e-05", "learning_rate: .inf")
    )
    with pytest.raises(ParamsError, match=r"^policy\.learning_rate: expected a finite number, got inf"):
        _parse("policy", raw["policy"])


@pytest.mark.parametrize(("section", "key", "value"), [("policy", "seed", -1), ("selection", "seeds", [-1])])
def test_seeds_are_not_negative(section: str, key: str, value: object) -> None:
    raw = _all_sections()[section]
    raw[key] = value
    with pytest.raises(ParamsError, match=rf"^{section}\.{key}: .*>= 0, got {re.escape(str(value))}"):
        _parse(section, raw)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("policy", "envs_per_worker", 10**9),
        ("policy", "hidden", [10**6, 10**6]),
        ("policy", "batch_size", 10**12),
        ("policy", "eval_episodes", 10**14),
        ("selection", "samples", 10**13),
        ("selection", "batch_size", 10**12),
        ("selection", "latent_dim", 10**12),
    ],
)
def test_sizes_that_cannot_fit_in_memory_are_refused(section: str, key: str, value: object) -> None:
    raw = _all_sections()[section]
    raw[key] = value
    with pytest.raises(
        ParamsError, match=rf"^{section}\.{key}: needs about [\d,.]+ GiB of memory .*this machine"
    ):
        _parse(section, raw)


def test_a_grid_too_large_for_the_data_format_is_refused_before_any_world_is_built() -> None:
    raw = _all_sections()["env"]
    raw["grid_size"] = [100_000, 100_000, 100_000]  # 10^15 cells: building a world would exhaust memory
    with pytest.raises(ParamsError, match=r"^env\.grid_size: every side must be <= 127"):
        parse_env(raw)


def test_library_defaults_are_the_originals() -> None:
    from scinet.policy.config import PolicyConfig
    from scinet.selection.config import SelectionDataConfig, SelectionTrainConfig

    policy = PolicyConfig()
    assert (policy.workers, policy.predictors, policy.trainers, policy.envs_per_worker) == (21, 2, 1, 1)
    assert (policy.batch_size, policy.learning_rate, policy.weight_decay) == (200, 5e-5, 1e-5)
    assert (policy.glow, policy.gamma, policy.beta) == (0.1, 0.01, 0.5)
    assert (policy.lr_schedule, policy.unrewarded_steps) == ("constant", "drop")
    assert policy.hidden == (128, 128, 128, 128, 64, 32)
    assert SelectionDataConfig().samples == 200_000
    train = SelectionTrainConfig()
    assert (train.schedule, train.steps, train.batch_size, train.learning_rate) == (
        "async",
        830_000,
        200,
        1e-4,
    )
    assert (train.target_weight, train.decoder_selection_weight, train.encoder_selection_weight) == (
        1,
        0.04,
        0.02,
    )
    assert (train.reconstruction_weight, train.reconstruction_bce, train.latent_dim) == (10, "sigmoid", 8)


def test_params_yaml_is_in_block_style() -> None:
    """No `[...]` or `{...}`: `dvc exp run -S` writes what it sets in block style; keep one style."""
    flow = []
    stack = [yaml.compose((ROOT / "params.yaml").read_text())]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(child for pair in node.value for child in pair)
        else:
            continue
        if node.flow_style:
            flow.append(f"line {node.start_mark.line + 1}")
    assert not flow, f"flow-style collections in params.yaml: {sorted(flow, key=lambda s: int(s.split()[1]))}"
