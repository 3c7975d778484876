"""Fetch a Zenodo record with zenodo-get, verify it, unpack it, parse its logs, publish it atomically.

Why it is built this way:

- The download itself is zenodo-get's (run as ``python -m zenodo_get``, a separate process, so its global
  HTTP client, logging and Ctrl-C handler stay out of ours): it requests the record JSON
  ``https://zenodo.org/api/records/<id>``, downloads each file from the JSON's ``links.self``, checks each md5
  against the JSON, deletes a mismatching file and exits non-zero.
- Before that we read the same record JSON ourselves, with zenodo-get's own HTTP client factory (same proxy
  and certificate rules), for three reasons: an unreachable host can be told apart from an HTTP error (the
  command line exits 1 for both), file names are checked before zenodo-get writes them, and every file's md5
  is verified a second time against the record after zenodo-get is done (belt and braces).
- zenodo-get reads the record JSON again and writes each file under the name that *its* copy gives, relative
  to its output directory. A record changed in between (or hostile) could name ``../x`` or an absolute path,
  so zenodo-get is handed each validated name as an exact ``--glob`` (it downloads no other entry), writes
  into a private staging directory, and what it left there is checked before it becomes ``raw``.
- Files already under ``out_dir/raw`` with the record's md5 are copied into the work directory first;
  zenodo-get then skips them ("already downloaded correctly"), so a re-run downloads nothing but the JSON.
- All work happens in a temporary directory next to ``out_dir`` that replaces ``out_dir`` only when complete.
  On any error ``out_dir`` is left exactly as it was (the previous complete result, if any); an unreachable
  host replaces it with a ``status.json`` saying ``available: false`` and nothing that looks like data.
- Nothing written depends on the time or the machine, so the same record gives byte-identical outputs.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from zenodo_get.downloader import create_configured_client

from scinet.zenodo.archives import SizeBudget, UnreadableArchive, is_archive, unpack
from scinet.zenodo.logs import parse_logs, write_tables
from scinet.zenodo.record import (
    RecordFile,
    ZenodoError,
    check_record_id,
    md5_of,
    parse_record_files,
    record_url,
    verify_file,
)

STATUS_FILE = "status.json"
RAW_DIR = "raw"
UNPACKED_DIR = "unpacked"
MAX_NESTING = 3  # archives inside archives are unpacked this deep
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class FetchOptions:
    """How hard to try. The defaults are zenodo-get's command-line defaults except ``http_retries`` (its
    default 5 would make every offline ``dvc repro`` wait 15 s before reporting "not available").

    ``http_retries`` are zenodo-get's transport retries (connection errors, 429 and 502-504, exponential
    backoff from ``backoff`` seconds); ``retries`` and ``pause`` its per-file retries after a failed download;
    ``timeout`` the connection time-out in seconds. Tests make them all small.
    """

    http_retries: int = 3
    backoff: float = 0.5
    retries: int = 1
    pause: float = 3.0
    timeout: float = 25.0


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch_record` published in ``out_dir``."""

    record: str
    available: bool
    reason: str | None = None
    files: tuple[RecordFile, ...] = ()
    downloaded: tuple[str, ...] = ()
    reused: tuple[str, ...] = ()
    tables: Mapping[str, int] = field(default_factory=dict)
    unknown_files: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for the stage to print."""
        if not self.available:
            return f"record {self.record} not available: {self.reason} (status.json says available: false)"
        tables = ", ".join(f"{name} {rows} rows" for name, rows in self.tables.items())
        return (
            f"record {self.record}: {len(self.files)} files verified ({len(self.downloaded)} downloaded, "
            f"{len(self.reused)} already present); {tables}; {len(self.unknown_files)} unknown files"
        )


def fetch_record(record: str, out_dir: Path, options: FetchOptions | None = None) -> FetchResult:
    """Fetches Zenodo record ``record`` into ``out_dir`` (see the module docstring for the why).

    Layout of ``out_dir`` on success: ``status.json``; ``raw/<file>`` exactly as published;
    ``unpacked/<archive name>/...`` for every archive; ``episodes.tsv``, ``losses.tsv``, ``selection.tsv``
    (:mod:`scinet.zenodo.logs`).

    Returns normally with ``available=False`` when the host cannot be reached (no network, DNS failure,
    refused connection or proxy, time-out): that is a property of where the pipeline runs, not a fault.
    Raises :class:`ZenodoError` for an HTTP error, a malformed record, a checksum mismatch, an unsafe archive
    (escaping or conflicting members, too large in total) or a zenodo-get failure or misdeed; ``out_dir`` is
    then untouched.
    """
    record = check_record_id(record)
    options = options or FetchOptions()
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(out_dir)

    metadata = _read_record(record, options)
    if isinstance(metadata, str):
        _publish_unavailable(record, out_dir, metadata)
        return FetchResult(record=record, available=False, reason=metadata)
    files = parse_record_files(metadata, record)

    work = _work_dir(out_dir)
    try:
        reused = _download(record, files, out_dir / RAW_DIR, work, options)
        for file in files:
            verify_file(work / RAW_DIR / file.name, file)
        candidates, unknown = _unpack_all(files, work)
        logs = parse_logs(candidates)
        unknown.extend(logs.unknown)
        table_entries = write_tables(logs, work)
        status = {
            "available": True,
            "record": record,
            "title": _metadata_text(metadata, "title"),
            "doi": _metadata_text(metadata, "doi"),
            "files": [file.as_json() for file in files],
            "tables": table_entries,
            "logs": [dataclasses.asdict(log) for log in logs.logs],
            "unknown_files": sorted(unknown),
        }
        (work / STATUS_FILE).write_text(json.dumps(status, indent=2) + "\n")
        _replace_dir(work, out_dir)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return FetchResult(
        record=record,
        available=True,
        files=tuple(files),
        downloaded=tuple(file.name for file in files if file.name not in reused),
        reused=tuple(sorted(reused)),
        tables={f"{kind}.tsv": len(table) for kind, table in logs.tables.items()},
        unknown_files=tuple(sorted(unknown)),
    )


def _read_record(record: str, options: FetchOptions) -> dict[str, Any] | str:
    """The record JSON, or a plain reason (a string) when the host cannot be reached at all."""
    url = record_url(record)
    client = create_configured_client(
        retry_total=options.http_retries, backoff_factor=options.backoff, verbosity=0
    )
    try:
        with client:
            response = client.get(url, timeout=options.timeout)
            response.raise_for_status()
            content = response.content
    except httpx2.HTTPStatusError as err:
        status = err.response
        raise ZenodoError(f"{url}: HTTP {status.status_code} {status.reason_phrase}") from err
    except httpx2.RequestError as err:
        if _is_tls_failure(err):  # someone answered for zenodo.org with a certificate we do not trust
            raise ZenodoError(f"{url}: TLS certificate verification failed: {err}") from err
        return f"cannot reach {url}: {_describe(err)}"
    try:
        metadata = json.loads(content)
    except ValueError as err:
        raise ZenodoError(f"{url}: malformed record: not JSON ({err})") from err
    if not isinstance(metadata, dict):
        raise ZenodoError(f"{url}: malformed record: expected a JSON object")
    return metadata


def _is_tls_failure(err: BaseException) -> bool:
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _download(
    record: str, files: list[RecordFile], previous: Path, work: Path, options: FetchOptions
) -> set[str]:
    """Puts the record's files in ``work/raw`` (see the module docstring); returns the names reused.

    The staging directory is private (mkdtemp: 0700) until checked, and ``work`` holds nothing else while
    zenodo-get runs, so a file it wrote beside its output directory is seen too.
    """
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=work))
    reused = _seed_verified(files, previous, staging)
    names = {file.name for file in files}
    _run_zenodo_get(record, staging, sorted(names), options)
    beside = [f"../{path.name}" for path in work.iterdir() if path != staging]
    wrong = [path.name for path in staging.iterdir() if path.name not in names or not _is_plain_file(path)]
    if beside or wrong:
        raise ZenodoError(
            f"zenodo_get {record} wrote {sorted(beside + wrong)}, not regular files named in the record as "
            "first read (did the record change during the download? run again)"
        )
    raw = work / RAW_DIR
    staging.rename(raw)
    raw.chmod(0o755)
    return reused


def _is_plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _seed_verified(files: list[RecordFile], previous: Path, raw: Path) -> set[str]:
    """Copies the files of a previous run that still match the record; returns their names.

    A copy, not a hard link: DVC may link ``out_dir`` files to its cache, and zenodo-get truncates a file it
    re-downloads, which through a link would corrupt the cache.
    """
    reused: set[str] = set()
    for file in files:
        old = previous / file.name
        if old.is_file() and old.stat().st_size == file.size and md5_of(old) == file.md5:
            shutil.copyfile(old, raw / file.name)
            reused.add(file.name)
    return reused


def _run_zenodo_get(record: str, directory: Path, names: list[str], options: FetchOptions) -> None:
    """Runs the zenodo-get command line into ``directory`` for the files ``names`` only (an escaped glob
    matches its name alone); a non-zero exit is a :class:`ZenodoError` quoting its error lines (they name the
    file: "Checksum is INCORRECT for ...", "Download error for ...")."""
    command = [
        sys.executable, "-m", "zenodo_get", record,
        *(f"--glob={glob.escape(name)}" for name in names),
        "--output-dir", str(directory),
        "--verbosity", "1",
        "--retry", str(options.retries),
        "--pause", str(options.pause),
        "--time-out", str(options.timeout),
        "--max-http-retries", str(options.http_retries),
        "--backoff-factor", str(options.backoff),
    ]  # fmt: skip
    done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return
    output = _ANSI.sub("", done.stdout + done.stderr)
    errors = [line.strip() for line in output.splitlines() if line.startswith(("ERROR", "CRITICAL"))]
    detail = "; ".join(errors) or output.strip()[-2000:] or "no output"
    raise ZenodoError(f"zenodo_get {record} failed (exit {done.returncode}): {detail}")


def _unpack_all(files: list[RecordFile], work: Path) -> tuple[list[tuple[Path, str]], list[str]]:
    """Unpacks every archive (nested ones too, :data:`MAX_NESTING` deep) and returns the files to try as logs
    with their names relative to ``out_dir``, plus the archives that could not be read. One size budget
    covers them all, so nesting cannot multiply the limit."""
    candidates: list[tuple[Path, str]] = []
    unknown: list[str] = []
    budget = SizeBudget()
    pending = [(work / RAW_DIR / file.name, work / UNPACKED_DIR / file.name, 0) for file in files]
    while pending:
        path, target, depth = pending.pop()
        source = path.relative_to(work).as_posix()
        if not is_archive(path) or depth >= MAX_NESTING:
            candidates.append((path, source))
            continue
        try:
            members = unpack(path, target, budget)
        except UnreadableArchive:
            shutil.rmtree(target, ignore_errors=True)
            unknown.append(source)
            continue
        for member in members:
            pending.append((member, member.with_name(member.name + ".contents"), depth + 1))
    return candidates, unknown


def _metadata_text(metadata: Mapping[str, Any], key: str) -> str | None:
    """``metadata.<key>`` (where Zenodo puts title and DOI), else top-level ``<key>``, if it is a string."""
    inner = metadata.get("metadata")
    for value in (inner.get(key) if isinstance(inner, Mapping) else None, metadata.get(key)):
        if isinstance(value, str):
            return value
    return None


def _publish_unavailable(record: str, out_dir: Path, reason: str) -> None:
    """Replaces ``out_dir`` by a lone status.json: stale tables must not pass for freshly verified data."""
    work = _work_dir(out_dir)
    try:
        status = {"available": False, "reason": reason, "record": record}
        (work / STATUS_FILE).write_text(json.dumps(status, indent=2) + "\n")
        _replace_dir(work, out_dir)
    finally:
        if work.exists():
            shutil.rmtree(work)


def _work_dir(out_dir: Path) -> Path:
    """A fresh directory beside ``out_dir`` (same file system, so the final rename is atomic); mkdtemp makes
    it private (0700), which would become the published directory's mode, hence the chmod."""
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    work.chmod(0o755)
    return work


def _replace_dir(new: Path, out_dir: Path) -> None:
    """Puts the complete directory ``new`` at ``out_dir`` with renames on one file system.

    Two renames: out_dir -> aside, new -> out_dir. A crash between them leaves no ``out_dir`` at all (and
    the old one aside, removed by the next run), never a mixture of old and new files.
    """
    aside = None
    if out_dir.exists() or out_dir.is_symlink():
        aside = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(out_dir, aside)
    os.replace(new, out_dir)
    if aside is not None:
        _remove(aside)


def _remove_leftovers(out_dir: Path) -> None:
    """Removes work and set-aside directories that an interrupted earlier run left next to ``out_dir``."""
    for pattern in (f".{out_dir.name}.tmp-*", f".{out_dir.name}.old-*"):
        for leftover in out_dir.parent.glob(pattern):
            _remove(leftover)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
