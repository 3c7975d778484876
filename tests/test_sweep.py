"""`python -m scinet sweep` end to end: jobs in their own clones, results back through the DVC remote.

The shared git remote is a bare repository and the shared DVC remote a folder, both in a temporary
directory; the jobs run through submitit's local executor, which runs the same job code as a SLURM node.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml
from test_pipeline import _env as command_env
from test_pipeline import smoke_overrides

from scinet.cli import _build_parser
from scinet.sweep import SweepError
from scinet.sweep.job import run_job
from scinet.sweep.plan import Job, parse_grid, plan_jobs

ROOT = Path(__file__).resolve().parents[1]
DVC = [sys.executable, "-m", "dvc"]
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org"]
SWEEP = [sys.executable, "-m", "scinet", "sweep"]
RESTORE = "dvc pull --run-cache --allow-missing && dvc repro --pull"
"""How a user's clone gets the swept results (README, "Running on a cluster")."""


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """As tests/test_pipeline.py runs commands (HTTPS through a closed proxy), with more time: a sweep is
    many of them, and a test here may share the CPUs with a training."""
    return subprocess.run(
        cmd, cwd=cwd, env=command_env(), capture_output=True, text=True, timeout=1800, check=False
    )


def _ok(cmd: list[str], cwd: Path) -> str:
    result = _run(cmd, cwd)
    assert result.returncode == 0, f"{cmd}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture
def user(tmp_path: Path) -> Path:
    """The user's clone at the README's smoke parameters made tinier, seeds 0 and 1; agents trained, pushed.

    Its git remote `origin` is a bare repository, its DVC remote `shared` a folder, as on a cluster.
    """
    clone = tmp_path / "user"
    clone.mkdir()
    for name in ("dvc.yaml", ".dvcignore", ".gitignore"):
        shutil.copy(ROOT / name, clone / name)
    for folder in ("stages", "scinet"):
        shutil.copytree(ROOT / folder, clone / folder, ignore=shutil.ignore_patterns("__pycache__"))
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for override in smoke_overrides():
        key, _, value = override.partition("=")
        *sections, name = key.split(".")
        node = params
        for section in sections:
            node = node[section]
        node[name] = yaml.safe_load(value)
    params["env"]["max_steps"] = 10
    params["policy"].update(episodes=16, log_interval=16, eval_episodes=16)  # agents only to play
    params["selection"].update(samples=40, batch_size=20, seeds=[0, 1])
    (clone / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    _share(clone, tmp_path, "tiny pipeline")  # dvclive, which the training logs to, needs a commit
    for cmd in (
        [*DVC, "repro", "train_policy"],  # the agents, once
        [*DVC, "push"],
        [*GIT, "add", "-A"],
        [*GIT, "commit", "-q", "-m", "agents trained"],
        ["git", "push", "-q", "origin", "HEAD"],
    ):
        _ok(cmd, clone)
    return clone


def _share(clone: Path, remotes: Path, message: str) -> None:
    """Makes ``clone`` a git + DVC repository whose files are committed as ``message`` and pushed to a bare
    ``remotes/origin.git``, with the folder ``remotes/store`` as its default DVC remote ``shared``."""
    _ok(["git", "init", "-q", "--bare", str(remotes / "origin.git")], remotes)
    for cmd in (
        ["git", "init", "-q"],
        ["git", "remote", "add", "origin", str(remotes / "origin.git")],
        [*DVC, "init", "-q"],
        [*DVC, "config", "core.analytics", "false"],
        [*DVC, "remote", "add", "-d", "shared", str(remotes / "store")],
        [*GIT, "add", "-A"],
        [*GIT, "commit", "-q", "-m", message],
        ["git", "push", "-q", "origin", "HEAD"],
    ):
        _ok(cmd, clone)


def test_a_two_job_sweep_comes_back_through_the_run_cache(user: Path, tmp_path: Path) -> None:
    start = time.monotonic()
    out = _ok([*SWEEP, "-j", "2", "train_selection@0", "train_selection@1"], user)
    swept = time.monotonic()
    ids = dict(re.findall(r"^job (\S+): (train_selection@\d)  log \S+$", out, re.MULTILINE))
    assert sorted(ids.values()) == ["train_selection@0", "train_selection@1"], out
    assert re.search(r"^\[\d+:\d\d\] queued 0  running 0  done 2  failed 0$", out, re.MULTILINE), out
    outcomes = _outcomes(out)
    for seed in (0, 1):  # the agents come from the remote, the seed's two stages are computed
        assert outcomes[f"train_selection@{seed}"]["ran"] == {
            f"selection_data@{seed}",
            f"train_selection@{seed}",
        }

    fresh = tmp_path / "fresh"
    _ok(["git", "clone", "-q", str(tmp_path / "origin.git"), str(fresh)], tmp_path)
    for command in RESTORE.split(" && "):  # the README's commands; the output of the last, `dvc repro`
        repro = _ok([sys.executable, "-m", *shlex.split(command)], fresh)
    for seed in (0, 1):
        for stage in (f"selection_data@{seed}", f"train_selection@{seed}"):
            assert f"Stage '{stage}' is cached - skipping run, checking out outputs" in repro, repro
            assert f"Running stage '{stage}'" not in repro
        assert f"Running stage 'analyze_selection@{seed}'" in repro  # not swept: computed here
        training = json.loads((fresh / "metrics" / "selection" / f"seed{seed}" / "training.json").read_text())
        assert training["seed"] == seed and training["steps_per_decoder"] == [20, 20, 20]
    assert _ok([*DVC, "status"], fresh).split() == ["fetch_zenodo:", "always", "changed"]
    robust = json.loads((fresh / "metrics" / "robustness.json").read_text())
    assert [r["seed"] for r in robust["seeds"]] == [0, 1]
    shown = _ok([*DVC, "exp", "show", "--csv"], fresh)
    assert "seed0.verdict" in shown and "seed1.verdict" in shown
    restored = time.monotonic()

    again = _ok([*SWEEP, "-j", "2", "train_selection@0", "train_selection@1"], user)
    outcomes = _outcomes(again)
    for seed in (0, 1):  # re-submitted: the run-cache holds both, so nothing is computed again
        assert "ran" not in outcomes[f"train_selection@{seed}"], again
        assert {f"selection_data@{seed}", f"train_selection@{seed}"} <= outcomes[f"train_selection@{seed}"][
            "restored"
        ]
    print(
        f"sweep {swept - start:.0f} s, fresh clone {restored - swept:.0f} s, "
        f"re-submitted {time.monotonic() - restored:.0f} s"
    )


def _outcomes(out: str) -> dict[str, dict[str, set[str]]]:
    """The summary's `done   job ID: LABEL: ran A B; restored C` lines, as {LABEL: {"ran": {A, B}, ...}}."""
    outcomes = {}
    for label, what in re.findall(r"^done   job \S+: (.+?): (.+)$", out, re.MULTILINE):
        parts = (part.split() for part in what.split("; "))
        outcomes[label] = {kind: set(items) for kind, *items in parts}
    return outcomes


TOY = """\
stages:
  count:
    cmd: echo ${p} > out.txt && echo p=${p} > note.txt
    params: [p]
    outs:
      - out.txt
      - note.txt:
          cache: false
"""
"""A pipeline of one quick stage, with a git-tracked output like this project's records."""


@pytest.fixture(scope="module")
def toy_remotes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy pipeline at p=1 pushed to a bare git remote, with a folder as its DVC remote; built once.

    The tests share the DVC remote: each sweeps its own parameter values, so none restores another's run.
    """
    remotes = tmp_path_factory.mktemp("toy-remotes")
    seed = remotes / "seed"
    seed.mkdir()
    (seed / "dvc.yaml").write_text(TOY)
    (seed / "params.yaml").write_text("p: 1\n")
    (seed / ".gitignore").write_text(".sweeps/\n")
    _share(seed, remotes, "toy pipeline")
    return remotes


@pytest.fixture
def toy(toy_remotes: Path, tmp_path: Path) -> Path:
    """A user's clone of the toy pipeline."""
    _ok(["git", "clone", "-q", str(toy_remotes / "origin.git"), str(tmp_path / "toy")], tmp_path)
    return tmp_path / "toy"


def test_a_grid_point_comes_back_as_an_experiment(toy: Path, toy_remotes: Path, tmp_path: Path) -> None:
    out = _ok([*SWEEP, "-j", "2", "--grid", "p=2,3", "count"], toy)
    outcomes = _outcomes(out)
    assert outcomes == {"count [p=2]": {"ran": {"count"}}, "count [p=3]": {"ran": {"count"}}}, out
    assert "dvc exp run --pull -S p=3" in out

    fresh = tmp_path / "fresh"
    _ok(["git", "clone", "-q", str(toy_remotes / "origin.git"), str(fresh)], tmp_path)
    run = _ok([*DVC, "exp", "run", "--pull", "-n", "p3", "-S", "p=3"], fresh)
    assert "Stage 'count' is cached - skipping run, checking out outputs" in run, run
    assert (fresh / "out.txt").read_text() == "3\n"
    assert (fresh / "note.txt").read_text() == "p=3\n"  # the git-tracked output too
    assert "p3" in _ok([*DVC, "exp", "show", "--csv"], fresh)


def test_a_failed_job_names_its_stage_item_and_its_log(toy: Path) -> None:
    result = _run([*SWEEP, "-j", "2", "count", "nosuch"], toy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"^\[\d+:\d\d\] queued 0  running 0  done 1  failed 1$", result.stdout, re.MULTILINE)
    failed = re.search(
        r"^FAILED job \S+: nosuch: `dvc repro --pull nosuch` exited with \d+ in \S+\n\s+log (\S+) ",
        result.stdout,
        re.MULTILINE,
    )
    assert failed, result.stdout
    assert "nosuch" in (toy / failed.group(1)).read_text()  # DVC's own error is in the named log
    assert _outcomes(result.stdout) == {"count": {"ran": {"count"}}}


SLOW = """\
  slow:
    cmd: sleep 300 && echo done > slow.txt
    outs: [slow.txt]
"""
"""A stage that runs until it is stopped."""


def test_a_stopped_sweep_stops_its_local_jobs_within_seconds(toy: Path) -> None:
    (toy / "dvc.yaml").write_text(TOY + SLOW)
    _ok([*GIT, "commit", "-q", "-am", "a slow stage"], toy)
    _ok(["git", "push", "-q", "origin", "HEAD:slow"], toy)  # a branch of its own: other tests clone main
    sweep = subprocess.Popen(
        [*SWEEP, "slow", "count"],
        cwd=toy,
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while not (jobs := _processes_under(toy / ".sweeps")) or not any(
        p.info["cmdline"][:2] == ["sleep", "300"] for p in jobs
    ):
        assert sweep.poll() is None and time.monotonic() < deadline, "the slow stage never started"
        time.sleep(0.5)
    sweep.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    out, _ = sweep.communicate(timeout=120)
    took = time.monotonic() - stopped
    assert sweep.returncode == 128 + signal.SIGTERM, out
    assert took < 20, out
    assert "stopped by signal 15: 1 running jobs stopped" in out and "Traceback" not in out
    assert re.search(r"^stopped job \d+: slow  log \S+$", out, re.MULTILINE), out
    assert "count" not in out.split("stopped by", 1)[1]  # queued behind the slow job: never started
    assert not _processes_under(toy / ".sweeps")


def _processes_under(folder: Path) -> list[psutil.Process]:
    """This user's processes that work in ``folder`` or below it (a job's clone)."""
    found = []
    for process in psutil.process_iter(["cwd", "cmdline"]):
        cwd = process.info["cwd"]
        if cwd and Path(cwd).is_relative_to(folder):
            found.append(process)
    return found


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ("edit", "uncommitted changes (params.yaml): jobs run the commit"),
        ("commit", "origin does not have commit "),
        ("store", "inside the repository: that store is for pulling the published defaults"),
    ],
)
def test_a_sweep_refuses_what_its_jobs_could_not_see(toy: Path, change: str, error: str) -> None:
    (toy / "params.yaml").write_text("p: 5\n")
    if change == "commit":
        _ok([*GIT, "commit", "-q", "-am", "p=5, not pushed"], toy)
    if change == "store":
        _ok(["git", "checkout", "-q", "params.yaml"], toy)
        _ok([*DVC, "remote", "add", "--local", "-d", "here", "store-here"], toy)  # toy/.dvc/store-here
    result = _run([*SWEEP, "count"], toy)
    assert result.returncode == 2
    assert result.stderr.startswith("scinet sweep: error: ") and error in result.stderr, result.stderr
    assert not (toy / ".sweeps").exists()  # nothing submitted


def test_the_slurm_job_script(
    toy: Path, toy_remotes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SLURM executor builds the same job: checked in the sbatch script that a fake `sbatch` gets."""
    fake = tmp_path / "fake-slurm"
    fake.mkdir()
    (fake / "srun").write_text("#!/bin/sh\nexit 0\n")
    (fake / "sbatch").write_text(
        '#!/bin/sh\ncp "$1" "$(dirname "$0")/script.sh"\necho "Submitted batch job 4242"\n'
    )
    for tool in ("srun", "sbatch"):
        (fake / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    options = ["--partition", "gpu", "--time", "90", "--cpus-per-job", "4", "--gpus-per-job", "1"]
    options += ["--mem-gb", "16", "--slurm-arg", "account=phys", "--setup", "module load python", "-j", "1"]
    out = _ok([*SWEEP, "--executor", "slurm", *options, "--no-wait", "count", "nosuch"], toy)
    logs = dict(re.findall(r"^job (4242_\d): \S+  log (\S+)$", out, re.MULTILINE))
    assert list(logs) == ["4242_0", "4242_1"], out

    script = (fake / "script.sh").read_text()
    flags = dict(re.findall(r"^#SBATCH --([\w-]+)=(.*)$", script, re.MULTILINE))
    folder = Path(flags["output"]).parent
    assert {key: flags[key] for key in ("partition", "time", "cpus-per-task", "gpus-per-node", "mem")} == {
        "partition": "gpu", "time": "90", "cpus-per-task": "4", "gpus-per-node": "1", "mem": "16GB"
    }  # fmt: skip
    assert (flags["account"], flags["array"], flags["job-name"]) == ("phys", "0-1%1", "scinet-sweep")
    assert flags["output"] == f"{folder}/%A_%a_0_log.out" and flags["error"] == f"{folder}/%A_%a_0_log.err"
    assert folder.parent.parent == toy / ".sweeps"
    for job, log in logs.items():  # the log the sweep names is the one SLURM writes
        assert toy / log == folder / f"{job}_0_log.out"
    assert "\nmodule load python\n" in script
    command = f"{sys.executable} -u -m submitit.core._submit {folder}"
    assert re.search(
        rf"^srun --unbuffered --output \S+ --error \S+ {re.escape(command)}$", script, re.MULTILINE
    )

    submitted = [pickle.loads((folder / f"{job}_submitted.pkl").read_bytes()) for job in logs]
    assert [s.function for s in submitted] == [run_job, run_job]
    specs = [s.args[0] for s in submitted]
    assert [spec.job for spec in specs] == [Job(("count",)), Job(("nosuch",))]
    assert [spec.workdir for spec in specs] == [folder.parent / "job0", folder.parent / "job1"]
    assert specs[0].source.remote_url == str(toy_remotes / "store")


def readme_cluster_lines() -> list[str]:
    """The command lines of the README's "Running on a cluster" block, their comments cut."""
    section = (ROOT / "README.md").read_text().split("## Running on a cluster", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "no command block in the README's cluster section"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines()]


def test_the_readme_s_cluster_commands_are_the_tested_ones() -> None:
    """The sweep line parses as the SLURM sweep this file checks; the restoring line is the one it runs."""
    lines = readme_cluster_lines()
    assert RESTORE in lines
    (sweep,) = [line for line in lines if line.startswith("python -m scinet sweep ")]
    args = _build_parser().parse_args(shlex.split(sweep)[3:])
    assert (args.executor, args.partition) == ("slurm", "gpu")
    assert all(re.fullmatch(r"train_selection@\d+", target) for target in args.targets), args.targets


def test_the_plan_is_one_job_per_stage_item_and_grid_point() -> None:
    assert plan_jobs(["a@0", "a@1"], ["x=1"], []) == [Job(("a@0",), ("x=1",)), Job(("a@1",), ("x=1",))]
    assert plan_jobs([], [], ["s=[0,1],[2]", "t=5,6"]) == [
        Job((), ("s=[0,1]", "t=5")),
        Job((), ("s=[0,1]", "t=6")),
        Job((), ("s=[2]", "t=5")),
        Job((), ("s=[2]", "t=6")),
    ]
    assert Job((), ("s=[2]",)).label == "the whole pipeline [s=[2]]"
    for bad in ("s", "s=", "s=1,,2", "s=[1,2"):
        with pytest.raises(SweepError, match="--grid"):
            parse_grid(bad)
