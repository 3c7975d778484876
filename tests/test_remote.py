"""The pretrained models travel through any DVC remote: here the committed store, served over HTTP."""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from provenance import check_outputs_match_the_lock

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = "127.0.0.1,localhost"
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


class _QuietHandler(SimpleHTTPRequestHandler):
    requested: list[str]

    def log_message(self, format: str, *args: object) -> None:
        self.requested.append(self.path)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """DVC closes connections early (HEAD-like probes); that is not worth a traceback."""


@pytest.fixture
def http_store() -> Iterator[tuple[str, list[str]]]:
    """The committed store (dvc-store/) behind a static file server on 127.0.0.1: its URL and request log."""
    requested: list[str] = []
    handler = functools.partial(
        type("Handler", (_QuietHandler,), {"requested": requested}), directory=str(ROOT / "dvc-store")
    )
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requested
    finally:
        server.shutdown()
        thread.join()


def _pretrained_outputs() -> dict[str, str]:
    """Every file output recorded in dvc.lock for the trained models, with its md5."""
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())
    outs = {}
    for name, stage in lock["stages"].items():
        if name.startswith(("train_policy@", "train_selection@")):
            for out in stage["outs"]:
                if out["path"].endswith(".pt"):  # the models; metrics and curves live in git
                    outs[out["path"]] = out["md5"]
    return outs


def test_a_fresh_clone_pulls_the_pretrained_models_over_http(tmp_path: Path, http_store) -> None:  # type: ignore[no-untyped-def]
    url, requested = http_store
    clone = tmp_path / "clone"
    assert _run(["git", "clone", "-q", str(ROOT), str(clone)], tmp_path).returncode == 0
    assert _run([sys.executable, "-m", "dvc", "remote", "add", "web", url], clone).returncode == 0
    dvc = [sys.executable, "-m", "dvc"]
    pulled = _run([*dvc, "pull", "-r", "web"], clone)
    assert pulled.returncode == 0, pulled.stderr
    outputs = _pretrained_outputs()
    seeds = yaml.safe_load((ROOT / "params.yaml").read_text())["selection"]["seeds"]
    assert len(outputs) == 3 + len(seeds)  # three agents and one selection model per seed
    for path, md5 in outputs.items():
        assert hashlib.md5((clone / path).read_bytes()).hexdigest() == md5, path
    assert any(p.startswith("/files/md5/") for p in requested)  # it really came over HTTP
    for seed in seeds:
        selection_data = sorted(p.name for p in (clone / "data" / "selection" / f"seed{seed}").iterdir())
        assert selection_data == ["env1.npz", "env2.npz", "env3.npz"]
    status = _run([*dvc, "status"], clone)  # nothing to redo but the Zenodo check, which always runs
    assert status.stdout.split() == ["fetch_zenodo:", "always", "changed"]
    checked = check_outputs_match_the_lock(clone)  # the pulled models record the params dvc.lock names
    assert {p for p in checked if p.endswith(".pt")} == set(outputs)
