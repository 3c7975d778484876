"""fetch_zenodo: the real zenodo-get against a fake zenodo.org on 127.0.0.1 (see tests/fake_zenodo.py).

Success (tables, status, unknown files, no second download), md5 mismatch, HTTP 404, malformed record and an
unreachable host; log parsing and unsafe archives directly; the stage script as DVC runs it.
"""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fake_zenodo import (
    Certificates,
    FakeRecord,
    FakeZenodo,
    closed_port,
    make_certificates,
    make_certificates_openssl,
    md5,
    proxy_environment,
    running,
)

from scinet.zenodo import (
    COLUMNS,
    FetchOptions,
    RecordFile,
    ZenodoError,
    ZenodoParamsError,
    fetch_record,
    parse_logs,
    parse_zenodo_params,
    unpack,
    verify_file,
)

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


def _zip(members: dict[str, str], compression: int = zipfile.ZIP_STORED) -> bytes:
    return _zip_bytes({name: text.encode() for name, text in members.items()}, compression)


def _zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def _tar_gz(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@functools.cache
def _sample_files() -> dict[str, bytes]:
    """Built once: archives carry timestamps, and every test must see the same bytes."""
    return {
        "results_log.zip": _zip(
            {
                "results_log/policy/results.txt": EPISODES,
                "results_log/selection/loss.txt": LOSSES,
                "results_log/selection/selection.txt": SELECTION,
                "results_log/INFO.md": "# Server parameters\n\n+ 3 trainers\n",
            }
        ),
        "more.tar.gz": _tar_gz({"extra/results_env3.txt": MORE_EPISODES}),
        "README.txt": b"Data for the plots of the training progress.\n",
    }


def _sample_record() -> FakeRecord:
    return FakeRecord(files=dict(_sample_files()))


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def zenodo(certificates: Certificates, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeZenodo]:
    """A fake zenodo.org holding the sample record; this process and its children reach it via the proxy."""
    with running(certificates) as (fake, proxy):
        fake.records[RECORD] = _sample_record()
        _use_environment(monkeypatch, proxy_environment(proxy.url, certificates.ca, dict(os.environ)))
        yield fake
        assert all(line == "CONNECT zenodo.org:443" for line in proxy.connects), proxy.connects


def _use_environment(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> None:
    for key in set(os.environ) - set(environment):
        monkeypatch.delenv(key)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)


def _tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def _no_leftovers(parent: Path) -> None:
    assert [p.name for p in parent.iterdir() if p.name.startswith(".")] == []


def test_success_tables_status_and_no_second_download(zenodo: FakeZenodo, tmp_path: Path) -> None:
    out = tmp_path / "data" / "zenodo"
    result = fetch_record(RECORD, out, FAST)

    assert result.available and sorted(result.downloaded) == ["README.txt", "more.tar.gz", "results_log.zip"]
    assert len(zenodo.file_downloads()) == 3 and f"/api/records/{RECORD}" in zenodo.requests
    status = json.loads((out / "status.json").read_text())
    assert status["available"] is True and status["record"] == RECORD
    record = _sample_record()
    assert status["files"] == [
        {"name": name, "md5": md5(data), "size": len(data)} for name, data in record.files.items()
    ]
    assert status["unknown_files"] == ["raw/README.txt", "unpacked/results_log.zip/results_log/INFO.md"]
    assert {entry["name"]: entry["rows"] for entry in status["tables"]} == {
        "episodes.tsv": 4,
        "losses.tsv": 3,
        "selection.tsv": 24,
    }
    assert (out / "raw" / "results_log.zip").read_bytes() == record.files["results_log.zip"]
    skipped = {log["source"]: log["skipped_lines"] for log in status["logs"]}
    assert skipped["unpacked/results_log.zip/results_log/policy/results.txt"] == 1

    episodes = pd.read_csv(out / "episodes.tsv", sep="\t")
    assert list(episodes.columns) == ["time", "env_id", "episode", "total_reward", "length", "source"]
    env1 = episodes[episodes.env_id == "env1"]
    assert env1.episode.tolist() == [1, 2] and env1.length.tolist() == [23, 11]
    assert episodes[episodes.env_id == "env2"].total_reward.tolist() == [-1.0]
    assert episodes[episodes.env_id == "env3"].source.tolist() == [
        "unpacked/more.tar.gz/extra/results_env3.txt"
    ]
    losses = pd.read_csv(out / "losses.tsv", sep="\t")
    assert losses.loss_type.tolist() == ["Policy", "Autoencoder", "Policy"]
    assert losses.training_count.tolist() == [200, 200, 400] and losses.loss.tolist() == [0.3125, 0.001, 0.25]
    selection = pd.read_csv(out / "selection.tsv", sep="\t")
    assert list(selection.columns) == ["env_id", "step", "neuron", "value", "source"]
    enc = selection[selection.env_id == "enc"].sort_values("neuron")
    assert enc.neuron.tolist() == list(range(8)) and enc.value.tolist()[:3] == [-3.63, -3.38, 4.67]
    assert selection[(selection.env_id == "env1") & (selection.neuron == 2)].value.tolist() == [4.25, 5.0]

    before = _tree(out)
    again = fetch_record(RECORD, out, FAST)
    assert again.downloaded == () and len(again.reused) == 3
    assert len(zenodo.file_downloads()) == 3  # nothing downloaded a second time, only the record JSON
    assert _tree(out) == before  # byte-identical: DVC sees no change
    _no_leftovers(out.parent)

    (out / "raw" / "more.tar.gz").write_bytes(b"damaged")  # a damaged copy is fetched again, only it
    third = fetch_record(RECORD, out, FAST)
    assert third.downloaded == ("more.tar.gz",) and _tree(out) == before


def test_md5_mismatch_names_file_and_leaves_previous_output(zenodo: FakeZenodo, tmp_path: Path) -> None:
    out = tmp_path / "zenodo"
    fresh = tmp_path / "fresh"
    zenodo.records[RECORD].claimed_md5["more.tar.gz"] = "0" * 32
    with pytest.raises(ZenodoError, match=r"more\.tar\.gz"):
        fetch_record(RECORD, fresh, FAST)
    assert not fresh.exists()
    _no_leftovers(tmp_path)

    zenodo.records[RECORD] = _sample_record()
    fetch_record(RECORD, out, FAST)
    before = _tree(out)
    zenodo.records[RECORD].claimed_md5["results_log.zip"] = "f" * 32  # the record changed, the file did not
    with pytest.raises(ZenodoError, match=r"results_log\.zip"):
        fetch_record(RECORD, out, FAST)
    assert _tree(out) == before
    _no_leftovers(tmp_path)


def test_verify_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_bytes(b"abc")
    verify_file(path, RecordFile("log.txt", md5(b"abc"), 3, "u"))
    with pytest.raises(ZenodoError, match=r"log\.txt: md5 mismatch"):
        verify_file(path, RecordFile("log.txt", md5(b"abd"), 3, "u"))
    with pytest.raises(ZenodoError, match=r"log\.txt: size 3 bytes"):
        verify_file(path, RecordFile("log.txt", md5(b"abc"), 4, "u"))


def test_http_404_for_a_file_or_the_record(zenodo: FakeZenodo, tmp_path: Path) -> None:
    out = tmp_path / "zenodo"
    zenodo.records[RECORD].missing.add("README.txt")
    with pytest.raises(ZenodoError, match=r"README\.txt"):
        fetch_record(RECORD, out, FAST)
    assert not out.exists()
    with pytest.raises(ZenodoError, match=r"https://zenodo\.org/api/records/999: HTTP 404"):
        fetch_record("999", out, FAST)
    assert not out.exists()
    _no_leftovers(tmp_path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>maintenance</html>", "not JSON"),
        (b'{"files": []}', "no 'files' list"),
        (b'{"files": [{"key": "../x", "size": 1, "checksum": "md5:' + b"0" * 32 + b'"}]}', "plain file name"),
        (b'{"files": [{"key": "x", "size": 1, "checksum": "sha256:abc"}]}', "no md5 checksum"),
        (
            b'{"files": [{"key": "a\\u0000b", "size": 1, "checksum": "md5:' + b"0" * 32 + b'"}]}',
            "plain file name",
        ),
    ],
)
def test_malformed_record_is_an_error(zenodo: FakeZenodo, tmp_path: Path, body: bytes, message: str) -> None:
    zenodo.raw_metadata[RECORD] = body
    with pytest.raises(ZenodoError, match=message):
        fetch_record(RECORD, tmp_path / "zenodo", FAST)
    assert not (tmp_path / "zenodo").exists() and zenodo.file_downloads() == []


def test_unreachable_host_is_not_an_error(
    zenodo: FakeZenodo, tmp_path: Path, certificates: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "zenodo"
    fetch_record(RECORD, out, FAST)
    assert (out / "episodes.tsv").exists()
    nowhere = f"http://127.0.0.1:{closed_port()}"
    _use_environment(monkeypatch, proxy_environment(nowhere, certificates.ca, dict(os.environ)))
    requests = len(zenodo.requests)

    result = fetch_record(RECORD, out, FAST)

    assert not result.available and "cannot reach https://zenodo.org/api/records/4425741" in str(
        result.reason
    )
    assert "refused" in str(result.reason).lower()
    assert sorted(p.name for p in out.iterdir()) == ["status.json"]  # stale tables removed
    status = json.loads((out / "status.json").read_text())
    assert status == {"available": False, "reason": result.reason, "record": RECORD}
    assert len(zenodo.requests) == requests
    _no_leftovers(tmp_path)


def test_untrusted_certificate_is_an_error_not_offline(
    zenodo: FakeZenodo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever answers for zenodo.org must prove it: with another CA trusted, nothing is accepted."""
    other = tmp_path / "other-ca"
    other.mkdir()
    monkeypatch.setenv("SSL_CERT_FILE", str(make_certificates(other).ca))
    with pytest.raises(ZenodoError, match="TLS certificate verification failed"):
        fetch_record(RECORD, tmp_path / "zenodo", FAST)
    assert not (tmp_path / "zenodo").exists() and zenodo.requests == []


def test_log_detection_by_content_not_name(tmp_path: Path) -> None:
    files = {
        "a.csv": LOSSES,
        "b.dat": SELECTION,
        "c.log": "time, env_id, total_reward, length\n",  # a header alone is not a log
        "d.bin": "\x00\x01binary",
        "e.txt": "",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    logs = parse_logs([(tmp_path / name, name) for name in files])
    assert [(log.source, log.kind) for log in logs.logs] == [("a.csv", "losses"), ("b.dat", "selection")]
    assert logs.unknown == ["c.log", "d.bin", "e.txt"]
    assert len(logs.tables["episodes"]) == 0
    assert list(logs.tables["episodes"].columns) == COLUMNS["episodes"]


def test_unsafe_archives_are_rejected(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    evil.write_bytes(_zip({"ok.txt": "fine", "../escape.txt": "bad"}))
    with pytest.raises(ZenodoError, match="unsafe member path"):
        unpack(evil, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "out" / "ok.txt").exists()

    linked = tmp_path / "link.tar"
    with tarfile.open(linked, "w") as bundle:
        info = tarfile.TarInfo("passwd")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        bundle.addfile(info)
    with pytest.raises(ZenodoError, match="link or special file"):
        unpack(linked, tmp_path / "out2")


def test_params_validation() -> None:
    assert parse_zenodo_params({"record": "4425741"}).record == "4425741"
    assert parse_zenodo_params({"record": 4425741}).record == "4425741"
    for bad in ("10.5281/zenodo.4425741", "", " 1", True, -3, None):
        with pytest.raises(ZenodoParamsError, match=r"^zenodo\.record: "):
            parse_zenodo_params({"record": bad})
    with pytest.raises(ZenodoParamsError, match="unknown key"):
        parse_zenodo_params({"record": "1", "doi": "x"})


def _stage(tmp_path: Path, record: object) -> subprocess.CompletedProcess[str]:
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "stages", tmp_path / "stages", ignore=ignore, dirs_exist_ok=True)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"zenodo": {"record": record}}))
    command = [sys.executable, "-m", "stages.fetch_zenodo"]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)


def test_stage_success(zenodo: FakeZenodo, tmp_path: Path) -> None:
    done = _stage(tmp_path, RECORD)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"fetch_zenodo: record {RECORD}: 3 files verified (3 downloaded")
    assert len(done.stdout.strip().splitlines()) == 1
    assert json.loads((tmp_path / "data/zenodo/status.json").read_text())["available"] is True
    assert len(zenodo.file_downloads()) == 3


def test_stage_bad_record_param(tmp_path: Path) -> None:
    done = _stage(tmp_path, "zenodo.4425741")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "params.yaml: zenodo.record: must be a Zenodo record id (digits only, e.g. '4425741'), "
        "got 'zenodo.4425741'"
    ]
    assert not (tmp_path / "data").exists()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command line")
def test_openssl_certificates_pass_verification(tmp_path: Path) -> None:
    """The fallback for machines without ``cryptography``: a TLS handshake as zenodo.org succeeds."""
    certificates = make_certificates_openssl(tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(certificates.cert, certificates.key)
    client_context = ssl.create_default_context(cafile=str(certificates.ca))
    left, right = socket.socketpair()
    with left, right:
        server = threading.Thread(target=lambda: server_context.wrap_socket(right, server_side=True).close())
        server.start()
        with client_context.wrap_socket(left, server_hostname="zenodo.org") as client:
            assert client.getpeercert()["subjectAltName"] == (("DNS", "zenodo.org"),)
        server.join(timeout=10)


def _whole_tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` (directories as None): a fetch may change nothing but its output."""
    return {p.relative_to(root).as_posix(): None if p.is_dir() else p.read_bytes() for p in root.rglob("*")}


@pytest.mark.parametrize("keep_validated", [True, False], ids=["beside-the-files", "instead-of-them"])
def test_a_record_changed_for_zenodo_get_writes_nothing_outside(
    zenodo: FakeZenodo, tmp_path: Path, keep_validated: bool
) -> None:
    """zenodo-get reads the record again: names the stage never validated must not be written anywhere.

    A validated name with glob characters is still fetched: zenodo-get gets each name as an escaped glob.
    """

    def validated() -> FakeRecord:
        record = _sample_record()
        record.files["odd [1]*?.txt"] = b"glob characters in a name\n"
        return record

    healthy, out = tmp_path / "healthy" / "zenodo", tmp_path / "data" / "zenodo"
    zenodo.records[RECORD] = validated()
    fetch_record(RECORD, healthy, FAST)
    out.parent.mkdir()
    before = _whole_tree(tmp_path)
    hostile = validated() if keep_validated else FakeRecord(files={})
    hostile.files.update(
        {
            "../inject.txt": MORE_EPISODES.encode(),  # beside raw/: would be published as unverified data
            "../../escape.txt": b"beside data/zenodo\n",
            str(tmp_path / "absolute.txt"): b"anywhere\n",
            "renamed.zip": _sample_files()["results_log.zip"],
        }
    )
    zenodo.queued[RECORD] = [validated(), hostile]
    if keep_validated:
        assert fetch_record(RECORD, out, FAST).available
        assert _tree(out) == _tree(healthy)
    else:
        with pytest.raises(ZenodoError, match=r"missing after download"):
            fetch_record(RECORD, out, FAST)
        assert not out.exists()
    assert {path: data for path, data in _whole_tree(tmp_path).items() if "data/zenodo" not in path} == before
    assert not any("inject" in path or "renamed" in path or "escape" in path for path in zenodo.requests)


@pytest.mark.parametrize("misdeed", ["extra file", "file beside", "symlink"])
def test_what_zenodo_get_wrote_is_checked(
    zenodo: FakeZenodo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, misdeed: str
) -> None:
    """A zenodo-get that ignored the names it was given is caught by what it left in its directory."""
    import scinet.zenodo.fetch as fetch_module

    run_zenodo_get = fetch_module._run_zenodo_get
    outside = tmp_path / "outside.txt"
    outside.write_bytes(_sample_files()["README.txt"])

    def misbehaving(*args: object) -> None:
        run_zenodo_get(*args)  # type: ignore[arg-type]
        directory = args[1]
        assert isinstance(directory, Path)
        if misdeed == "extra file":
            (directory / "surprise.txt").write_text("not in the record\n")
        elif misdeed == "file beside":
            (directory.parent / "inject.txt").write_text(MORE_EPISODES)
        else:
            (directory / "README.txt").unlink()
            (directory / "README.txt").symlink_to(outside)

    monkeypatch.setattr(fetch_module, "_run_zenodo_get", misbehaving)
    out = tmp_path / "data" / "zenodo"
    with pytest.raises(ZenodoError, match=r"zenodo_get 4425741 wrote "):
        fetch_record(RECORD, out, FAST)
    assert not out.exists()
    _no_leftovers(out.parent)


def test_size_limit_applies_to_the_total_across_nested_archives(
    zenodo: FakeZenodo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two archives in an archive, each under the limit, the three together above it."""
    monkeypatch.setattr("scinet.zenodo.archives.MAX_UNPACKED_BYTES", 3000)
    inner = {name: _zip({"big.txt": "x" * 2000}, zipfile.ZIP_DEFLATED) for name in ("a.zip", "b.zip")}
    outer = _zip_bytes(inner, zipfile.ZIP_DEFLATED)
    assert len(outer) < 3000 and all(len(data) < 3000 for data in inner.values())
    zenodo.records[RECORD] = FakeRecord(files={"nested.zip": outer})
    out = tmp_path / "data" / "zenodo"
    with pytest.raises(ZenodoError, match=r"above the 3000 bytes limit"):
        fetch_record(RECORD, out, FAST)
    assert not out.exists()


def _tar_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


CONFLICTS = {
    "file then directory": ("x.zip", _zip({"a": "1", "a/b": "2"})),
    "directory then file": ("x.zip", _zip({"a/b": "2", "a": "1"})),
    "duplicate": ("x.tar", _tar_bytes([("logs/a.txt", b"1"), ("logs/./a.txt", b"2")])),
    "case": ("x.zip", _zip({"Log.txt": "1", "log.txt": "2"})),
    "unicode normalisation": ("x.zip", _zip({"caf\u00e9.txt": "1", "cafe\u0301.txt": "2"})),
}


@pytest.mark.parametrize("kind", sorted(CONFLICTS))
def test_conflicting_members_are_a_zenodo_error(tmp_path: Path, kind: str) -> None:
    """Members that would overwrite each other, here or on a case-insensitive or normalising file system
    (the stage test below meets one through the fake Zenodo); nothing of the archive is written."""
    name, data = CONFLICTS[kind]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(ZenodoError, match=rf"^{name}: member .* conflicts with "):
        unpack(tmp_path / name, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("member", ["in.zip.contents", "in.zip.contents/c"])
def test_a_nested_archive_may_not_unpack_onto_a_member(
    zenodo: FakeZenodo, tmp_path: Path, member: str
) -> None:
    """``in.zip`` unpacks to ``in.zip.contents`` beside it, which its archive must not hold already."""
    outer = _zip_bytes({"in.zip": _zip({"c": "3"}), member: b"4"})
    zenodo.records[RECORD] = FakeRecord(files={"x.zip": outer})
    out = tmp_path / "data" / "zenodo"
    with pytest.raises(ZenodoError, match=r"in\.zip: its unpack directory 'in\.zip\.contents' conflicts"):
        fetch_record(RECORD, out, FAST)
    assert not out.exists()
    _no_leftovers(out.parent)


def test_stage_conflicting_members_one_line_and_output_kept(zenodo: FakeZenodo, tmp_path: Path) -> None:
    fetch_record(RECORD, tmp_path / "data" / "zenodo", FAST)
    zenodo.records[RECORD] = FakeRecord(files={"x.zip": CONFLICTS["file then directory"][1]})
    before = _whole_tree(tmp_path / "data")
    done = _stage(tmp_path, RECORD)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "fetch_zenodo: error: x.zip: member 'a/b' conflicts with 'a' (a file cannot be a directory)"
    ]
    assert _whole_tree(tmp_path / "data") == before
