"""fetch_zenodo: the real zenodo-get against a fake zenodo.org on 127.0.0.1 (see tests/fake_zenodo.py).

Success (tables, status, unknown files, no second download), md5 mismatch, HTTP 404, malformed record and an
unreachable host; log parsing and unsafe archives directly; the stage script as DVC runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import tarfile
import threading
from pathlib import Path

import pandas as pd
import pytest
from fake_zenodo import (
    Certificates,
    FakeZenodo,
    closed_port,
    make_certificates,
    make_certificates_openssl,
    md5,
    proxy_environment,
)
from zenodo_samples import (
    FAST,
    LOSSES,
    RECORD,
    SELECTION,
    no_leftovers,
    run_stage,
    sample_record,
    tree,
    use_environment,
    zip_text,
)

from scinet.zenodo import (
    COLUMNS,
    RecordFile,
    ZenodoError,
    ZenodoParamsError,
    fetch_record,
    parse_logs,
    parse_zenodo_params,
    unpack,
    verify_file,
)


def test_success_tables_status_and_no_second_download(zenodo: FakeZenodo, tmp_path: Path) -> None:
    out = tmp_path / "data" / "zenodo"
    result = fetch_record(RECORD, out, FAST)

    assert result.available and sorted(result.downloaded) == ["README.txt", "more.tar.gz", "results_log.zip"]
    assert len(zenodo.file_downloads()) == 3 and f"/api/records/{RECORD}" in zenodo.requests
    status = json.loads((out / "status.json").read_text())
    assert status["available"] is True and status["record"] == RECORD
    record = sample_record()
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

    before = tree(out)
    again = fetch_record(RECORD, out, FAST)
    assert again.downloaded == () and len(again.reused) == 3
    assert len(zenodo.file_downloads()) == 3  # nothing downloaded a second time, only the record JSON
    assert tree(out) == before  # byte-identical: DVC sees no change
    no_leftovers(out.parent)

    (out / "raw" / "more.tar.gz").write_bytes(b"damaged")  # a damaged copy is fetched again, only it
    third = fetch_record(RECORD, out, FAST)
    assert third.downloaded == ("more.tar.gz",) and tree(out) == before


def test_md5_mismatch_names_file_and_leaves_previous_output(zenodo: FakeZenodo, tmp_path: Path) -> None:
    out = tmp_path / "zenodo"
    fresh = tmp_path / "fresh"
    zenodo.records[RECORD].claimed_md5["more.tar.gz"] = "0" * 32
    with pytest.raises(ZenodoError, match=r"more\.tar\.gz"):
        fetch_record(RECORD, fresh, FAST)
    assert not fresh.exists()
    no_leftovers(tmp_path)

    zenodo.records[RECORD] = sample_record()
    fetch_record(RECORD, out, FAST)
    before = tree(out)
    zenodo.records[RECORD].claimed_md5["results_log.zip"] = "f" * 32  # the record changed, the file did not
    with pytest.raises(ZenodoError, match=r"results_log\.zip"):
        fetch_record(RECORD, out, FAST)
    assert tree(out) == before
    no_leftovers(tmp_path)


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
    no_leftovers(tmp_path)


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
    use_environment(monkeypatch, proxy_environment(nowhere, certificates.ca, dict(os.environ)))
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
    no_leftovers(tmp_path)


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
    evil.write_bytes(zip_text({"ok.txt": "fine", "../escape.txt": "bad"}))
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


def test_stage_success(zenodo: FakeZenodo, tmp_path: Path) -> None:
    done = run_stage(tmp_path, RECORD)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"fetch_zenodo: record {RECORD}: 3 files verified (3 downloaded")
    assert len(done.stdout.strip().splitlines()) == 1
    assert json.loads((tmp_path / "data/zenodo/status.json").read_text())["available"] is True
    assert len(zenodo.file_downloads()) == 3


def test_stage_bad_record_param(tmp_path: Path) -> None:
    done = run_stage(tmp_path, "zenodo.4425741")
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
