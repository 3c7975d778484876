"""The sample Zenodo record and the helpers the fetch_zenodo tests share (tests/conftest.py serves it)."""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml
from fake_zenodo import FakeRecord

from scinet.zenodo import FetchOptions

ROOT = Path(__file__).resolve().parents[1]
RECORD = "4425741"
FAST = FetchOptions(http_retries=0, retries=0, pause=0.0, timeout=5.0)

EPISODES = (
    "2020-03-01 10:00:00, env1,     1.0000, 23\n"
    "2020-03-01 10:00:00, env2,    -1.0000, 400\n"
    "2020-03-01 10:00:01, env1,     1.0000, 11\n"
    "2020-03-01 10:00:0"  # a run killed mid-write: dropped, counted
)
LOSSES = (
    "2020-03-02 09:00:00, Policy, env1, 200,   0.31250000\n"
    "2020-03-02 09:00:00, Autoencoder, env1, 200,   0.00100000\n"
    "2020-03-02 09:00:01, Policy, env3, 400,   0.25000000\n"
)
SELECTION = (
    "env1, [-10.0, -9.5, 4.25, 6.5, 3.0, 6.75, -3.5, 4.75]\n"
    "enc, [-3.63, -3.38, 4.67, 6.79, 3.29, 6.84, -3.62, 4.88]\n"
    "env1, [-9.0, -8.5, 5.0, 6.0, 3.5, 7.0, -3.0, 5.0]\n"
)
MORE_EPISODES = "2020-03-01 11:00:00, env3,     1.0000, 7\n"


def zip_text(members: dict[str, str], compression: int = zipfile.ZIP_STORED) -> bytes:
    return zip_bytes({name: text.encode() for name, text in members.items()}, compression)


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def tar_gz(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@functools.cache
def sample_files() -> dict[str, bytes]:
    """Built once: archives carry timestamps, and every test must see the same bytes."""
    return {
        "results_log.zip": zip_text(
            {
                "results_log/policy/results.txt": EPISODES,
                "results_log/selection/loss.txt": LOSSES,
                "results_log/selection/selection.txt": SELECTION,
                "results_log/INFO.md": "# Server parameters\n\n+ 3 trainers\n",
            }
        ),
        "more.tar.gz": tar_gz({"extra/results_env3.txt": MORE_EPISODES}),
        "README.txt": b"Data for the plots of the training progress.\n",
    }


def sample_record() -> FakeRecord:
    return FakeRecord(files=dict(sample_files()))


def use_environment(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> None:
    for key in set(os.environ) - set(environment):
        monkeypatch.delenv(key)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)


def tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def no_leftovers(parent: Path) -> None:
    assert [p.name for p in parent.iterdir() if p.name.startswith(".")] == []


def run_stage(tmp_path: Path, record: object) -> subprocess.CompletedProcess[str]:
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "stages", tmp_path / "stages", ignore=ignore, dirs_exist_ok=True)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"zenodo": {"record": record}}))
    command = [sys.executable, "-m", "stages.fetch_zenodo"]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)


def whole_tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` (directories as None): a fetch may change nothing but its output."""
    return {p.relative_to(root).as_posix(): None if p.is_dir() else p.read_bytes() for p in root.rglob("*")}


def tar_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
