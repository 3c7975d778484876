"""The DVC pipeline, run by the real `dvc` CLI in a temporary git repository."""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from provenance import check_outputs_match_the_lock

ROOT = Path(__file__).resolve().parents[1]


CLOSED_PROXY = "http://127.0.0.1:9"
"""fetch_zenodo in these runs goes through a proxy that refuses connections: never the network."""


def _env() -> dict[str, str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        env[name] = CLOSED_PROXY
    for name in ("NO_PROXY", "no_proxy"):
        env.pop(name, None)
    return env


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh git + DVC repository holding this project's pipeline files."""
    for name in ("dvc.yaml", "params.yaml", ".dvcignore"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("stages", "scinet"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for cmd in (["git", "init", "-q"], [sys.executable, "-m", "dvc", "init", "-q"]):
        assert _run(cmd, tmp_path).returncode == 0
    return tmp_path


def test_repro_writes_the_optimal_paths(repo: Path) -> None:
    result = _run([sys.executable, "-m", "dvc", "repro", "optimal_paths"], repo)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((repo / "metrics" / "optimal_paths.json").read_text())
    assert metrics.pop("provenance")[0]["params"] == {
        "env": yaml.safe_load((repo / "params.yaml").read_text())["env"]
    }
    assert metrics == {
        "env1": {"optimal_mean_path": 8.5594},
        "env2": {"optimal_mean_path": 8.5594},
        "env3": {"optimal_mean_path": 6.042},
    }
    again = _run([sys.executable, "-m", "dvc", "repro", "optimal_paths"], repo)
    assert "didn't change, skipping" in again.stdout


def test_a_stage_runs_the_code_of_the_checkout_it_runs_in(repo: Path) -> None:
    """DVC hashes the copy's code (as in `dvc exp run --temp` or `--queue`), so the copy's code must run.

    The test interpreter's own scinet (the editable install) is this repository's, which the copy alters.
    """
    paths = repo / "scinet" / "envs" / "paths.py"
    paths.write_text(
        paths.read_text() + "\n\ndef optimal_mean_path(config):  # altered in this copy\n    return 42.0\n"
    )
    result = _run([sys.executable, "-m", "dvc", "repro", "optimal_paths"], repo)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((repo / "metrics" / "optimal_paths.json").read_text())
    del metrics["provenance"]
    assert {name: m["optimal_mean_path"] for name, m in metrics.items()} == {
        "env1": 42,
        "env2": 42,
        "env3": 42,
    }


def test_bad_param_fails_with_one_line_and_writes_nothing(repo: Path) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["env"]["objectives"]["env2"]["plane"] = [1, 1, 1]
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    result = _run([sys.executable, "-m", "stages.optimal_paths"], repo)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "params.yaml: env.objectives.env2: "
        "The plane must have exactly two ones (e.g. [1, 1, 0]), got plane=[1, 1, 1]"
    ]
    assert not (repo / "metrics").exists()


def smoke_run() -> str:
    """The README's quick-start block: the smoke configuration users run is the one this test runs."""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(dvc exp run -n smoke .*?)\n```", readme, re.DOTALL)
    assert len(blocks) == 1, "the README has one smoke-run block"
    return blocks[0]


def smoke_overrides() -> list[str]:
    """The smoke block's `-S` values, `key=value` each, in order."""
    words = shlex.split(smoke_run().replace("\\\n", " "))
    return [value for option, value in itertools.pairwise(words) if option == "-S"]


def test_the_whole_pipeline_runs_at_tiny_params(repo: Path) -> None:
    """The README's smoke run, from scratch in a fresh repository, then experiments on top of it."""
    _commit(repo, "the pipeline at the defaults")
    result = _run(["bash", "-c", smoke_run()], repo)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    for env in ("env1", "env2", "env3"):
        assert (repo / "models" / "policy" / f"{env}.pt").is_file()
        assert json.loads((repo / "metrics" / "policy" / f"{env}.json").read_text())["episodes"] >= 300
    for seed in (0, 1):
        _selection_outputs_of_seed(repo, seed)
    robust = json.loads((repo / "metrics" / "robustness.json").read_text())
    assert [r["seed"] for r in robust["seeds"]] == [0, 1]
    assert (robust["holds"], robust["total"]) == (0, 2)  # 20 steps cannot reach the paper's result
    report = (repo / "metrics" / "report.md").read_text().splitlines()
    assert report[-2:] == [
        "| all verdicts hold (seed 0) | yes | **no** |",
        "| the result holds for | — | 0 of 2 seeds |",
    ]

    figures = (
        "learning_curves",
        "selection_losses",
        "selection_values",
        "latent_responses",
        "trajectories",
        "seed_selection_values",
    )
    for figure in figures:
        assert (repo / "plots" / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    zenodo = json.loads((repo / "data" / "zenodo" / "status.json").read_text())
    assert zenodo["available"] is False and "refused" in zenodo["reason"]
    assert sorted(p.name for p in (repo / "data" / "zenodo").iterdir()) == ["status.json"]

    again = _run([sys.executable, "-m", "dvc", "status"], repo)
    assert again.stdout.split() == ["fetch_zenodo:", "always", "changed"]  # everything else is up to date
    checked = check_outputs_match_the_lock(repo)
    assert len(checked) == 19  # optimal paths, 3 agents, their metrics and headline, 2 x (data, model,
    # training, verdict, headline)

    _bad_params_touch_no_output(repo)
    _experiment_reruns_only_the_selection_part(repo)


def _selection_outputs_of_seed(repo: Path, seed: int) -> None:
    metrics = repo / "metrics" / "selection" / f"seed{seed}"
    data = json.loads((metrics / "data.json").read_text())
    assert data.pop("provenance")[0]["stage"] == f"selection_data@{seed}"
    assert data.pop("seed") == seed
    assert {env: data[env]["samples"] for env in data} == {"env1": 300, "env2": 300, "env3": 300}
    assert sorted(p.name for p in (repo / "data" / "selection" / f"seed{seed}").iterdir()) == [
        "env1.npz", "env2.npz", "env3.npz",
    ]  # fmt: skip
    training = json.loads((metrics / "training.json").read_text())
    assert training["steps_per_decoder"] == [20, 20, 20] and training["seed"] == seed
    curve = (metrics / "curve.tsv").read_text().splitlines()
    assert curve[0].startswith("step\t") and len(curve) == 3  # header + steps 10 and 20
    selection = json.loads((metrics / "verdict.json").read_text())
    assert len(selection["encoder"]["selection"]) == 8
    assert set(selection["decoders"]) == {"env1", "env2", "env3"}
    assert selection["decoders"]["env2"]["plane"] == ["y", "z"]
    assert selection["verdict"] is False  # 20 steps cannot reach the paper's result, and it must say so
    assert selection["kept_settled_at_step"] in (10, 20)  # a logged step
    assert (repo / "models" / "selection" / f"seed{seed}.pt").is_file()


def _bad_params_touch_no_output(repo: Path) -> None:
    """A bad value fails `dvc repro` in check_params, before DVC deletes the outputs of the stage it feeds."""
    outputs = sorted(
        p for folder in ("models", "metrics", "data/selection") for p in (repo / folder).rglob("*")
    )
    before = {p: p.read_bytes() for p in outputs if p.is_file()}
    good = (repo / "params.yaml").read_text()
    for key, bad, message in [
        ("learning_rate", ".inf", "params.yaml: policy.learning_rate: expected a finite number, got inf"),
        ("workers", "0", "params.yaml: policy.workers: must be >= 1, got 0"),
    ]:
        params = yaml.safe_load(good)
        params["policy"][key] = yaml.safe_load(bad)
        (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        result = _run([sys.executable, "-m", "dvc", "repro", "train_policy@env1"], repo)
        assert result.returncode != 0
        assert message in result.stderr.splitlines(), result.stdout[-2000:] + result.stderr[-2000:]
        assert {p: p.read_bytes() for p in before} == before
    (repo / "params.yaml").write_text(good)


def _experiment_reruns_only_the_selection_part(repo: Path) -> None:
    """`dvc exp run -S selection.workers=...` redoes the selection stages, figures and the Zenodo check."""
    _commit(repo, "tiny pipeline")
    dvc = [sys.executable, "-m", "dvc"]
    run = _run([*dvc, "exp", "run", "-n", "workers3", "-S", "selection.workers=3"], repo)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert sorted(_ran(run)) == [
        "analyze_selection@0",
        "analyze_selection@1",
        "check_params",
        "fetch_zenodo",
        "figures",
        "report",
        "robustness",
        "selection_data@0",
        "selection_data@1",
        "train_selection@0",
        "train_selection@1",
    ]
    added = _run([*dvc, "exp", "run", "-n", "seed5", "-S", "selection.seeds=[0,1,5]"], repo)
    assert added.returncode == 0, added.stdout[-3000:] + added.stderr[-3000:]
    assert sorted(_ran(added)) == [  # a new seed runs only that seed, then the summaries
        "analyze_selection@5",
        "check_params",
        "fetch_zenodo",
        "figures",
        "report",
        "robustness",
        "selection_data@5",
        "train_selection@5",
    ]

    shown = _run([*dvc, "exp", "show", "--csv"], repo)
    assert shown.returncode == 0 and "workers3" in shown.stdout
    metrics = _run([*dvc, "metrics", "diff", "--all"], repo)  # --all: the tiny serial runs may repeat
    assert metrics.returncode == 0 and "metrics/selection/seed0/headline.json" in metrics.stdout
    plots = _run([*dvc, "plots", "diff", "-o", "plots_diff"], repo)
    assert plots.returncode == 0, plots.stderr
    _plots_diff_shows_every_top_level_plot(repo / "plots_diff")

    bad = _run([*dvc, "exp", "run", "-S", "selection.workers=-1"], repo)
    assert bad.returncode != 0
    assert "params.yaml: selection.workers: must be >= 1, got -1" in bad.stdout + bad.stderr


def _commit(repo: Path, message: str) -> None:
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org"]
    for cmd in ([*git, "add", "-A"], [*git, "commit", "-q", "-m", message]):
        assert _run(cmd, repo).returncode == 0


def _ran(run: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.split("'")[1] for line in run.stdout.splitlines() if line.startswith("Running stage")]


def _plots_diff_shows_every_top_level_plot(out: Path) -> None:
    """Each curve declared at the top of dvc.yaml is drawn (with its data) and each figure is copied."""
    page = (out / "index.html").read_text()
    plots = yaml.safe_load((out.parent / "dvc.yaml").read_text())["plots"]
    curves = [next(iter(p.values())) for p in plots if isinstance(p, dict)]
    assert len(curves) == 3
    for curve in curves:
        assert curve["title"] in page
        for columns in curve["y"].values():
            assert all(column in page for column in ([columns] if isinstance(columns, str) else columns))
    images = sorted(p for p in plots if isinstance(p, str))
    copied = sorted(f.name for f in (out / "static").iterdir())
    assert len(copied) == 2 * len(images)  # workspace and HEAD
    assert all(any(f.endswith(Path(image).name) for f in copied) for image in images)
