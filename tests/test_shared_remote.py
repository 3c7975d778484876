"""The README's shared-remote set-up ("Running on a cluster"), run word for word against an SSH server.

The server is asyncssh's SFTP server on 127.0.0.1 (tests/sftp.py); ``HOST`` in the README becomes its
address. The set-up must push every published result there and commit the remote, so that another clone of
the project pulls them from that server alone.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from sftp import sftp_server
from test_pipeline import _env as command_env
from test_sweep import DVC, GIT, readme_cluster_lines

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = {"dvc": DVC, "pip": [sys.executable, "-m", "pip"], "git": GIT}


def _set_up_lines() -> list[str]:
    """The cluster block's lines up to the sweep: installing the SSH remote, pushing to it, committing it."""
    lines = readme_cluster_lines()
    return lines[: next(k for k, line in enumerate(lines) if line.startswith("python -m scinet sweep "))]


def _run(words: list[str], cwd: Path, env: dict[str, str]) -> str:
    cmd = [*PROGRAMS[words[0]], *words[1:]]
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{shlex.join(words)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _cached_files(store: Path) -> set[str]:
    return {str(path.relative_to(store)) for path in (store / "files" / "md5").rglob("*") if path.is_file()}


def test_the_readme_s_shared_remote_set_up_pushes_the_results_to_an_ssh_server(tmp_path: Path) -> None:
    lines = _set_up_lines()
    assert len(lines) == 2 and "ssh://HOST/" in lines[0], lines
    server = tmp_path / "server"
    server.mkdir()
    env = {**command_env(), "HOME": str(tmp_path / "home")}  # the client trusts the server's key from there
    origin = tmp_path / "origin.git"
    _run(["git", "clone", "-q", "--bare", str(ROOT), str(origin)], tmp_path, env)
    clone = tmp_path / "clone"
    _run(["git", "clone", "-q", str(origin), str(clone)], tmp_path, env)

    with sftp_server(server, tmp_path / "home") as port:
        for line in lines:
            for command in line.split(" && "):
                _run(shlex.split(command.replace("ssh://HOST/", f"ssh://127.0.0.1:{port}/")), clone, env)

        pushed = _cached_files(server / "scratch" / "me" / "scinet-dvc")
        assert pushed and pushed <= _cached_files(clone / "dvc-store")  # the store also keeps older results
        other = tmp_path / "other"  # a colleague's clone: the committed remote is the SSH server
        _run(["git", "clone", "-q", str(origin), str(other)], tmp_path, env)
        assert _run(["dvc", "remote", "default"], other, env).strip() == "cluster"
        out = _run(["dvc", "pull"], other, env)
    assert re.search(r"\b\d+ files? (fetched|added)", out), out
    assert (other / "models" / "selection" / "seed0.pt").is_file()
