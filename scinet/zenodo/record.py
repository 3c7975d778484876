"""What a Zenodo record says about its files, checked before anything is downloaded.

The record's JSON (``https://zenodo.org/api/records/<id>``) is the only source of truth for which files exist
and what their md5 sums are, so it is validated strictly: a malformed record is an error, never a guess.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scinet.errors import ParamsError, ScinetError
from scinet.settings import parse_section, parsed_by

API_URL = "https://zenodo.org/api/records/"
_MD5 = re.compile(r"[0-9a-f]{32}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # NUL cannot be in a path or argument; the rest hide in logs


class ZenodoError(ScinetError, RuntimeError):
    """The record could be reached but is unusable: HTTP error, malformed metadata, checksum mismatch.

    The message names the file or URL concerned. It is an error (unlike an unreachable host) because running
    again would not fix it and silently continuing would publish wrong data.
    """


class ZenodoParamsError(ParamsError):
    """A bad ``zenodo`` params section; the message starts with the key (e.g. ``zenodo.record: ...``)."""


def check_record_id(value: Any, key: str = "record") -> str:
    """The record id as a string of digits, or :class:`ZenodoParamsError` naming ``key``.

    A YAML integer is accepted too (``record: 4425741`` unquoted), since it names the same record; a DOI or
    URL is rejected rather than resolved, because resolving it needs the network and hides what is fetched.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) > 0:
        return value
    raise ZenodoParamsError(f"{key}: must be a Zenodo record id (digits only, e.g. '4425741'), got {value!r}")


@dataclass(frozen=True)
class ZenodoParams:
    """The ``zenodo`` params section."""

    record: str = field(metadata=parsed_by(check_record_id))
    """the Zenodo record id of the authors' training logs (digits only)"""


def parse_zenodo_params(raw: Any) -> ZenodoParams:
    """Validates the ``zenodo`` section before any work (see :func:`check_record_id`)."""
    return parse_section(ZenodoParams, raw, "zenodo", ZenodoParamsError)


@dataclass(frozen=True)
class RecordFile:
    """One file of a record as its metadata describes it; ``url`` is where zenodo-get will fetch it."""

    name: str
    md5: str
    size: int
    url: str

    def as_json(self) -> dict[str, Any]:
        """The entry written to status.json (no URL: it can change without the data changing)."""
        return {"name": self.name, "md5": self.md5, "size": self.size}


def record_url(record: str) -> str:
    """The record API URL that zenodo-get itself requests."""
    return API_URL + record


def parse_record_files(metadata: Any, record: str) -> list[RecordFile]:
    """The files of a record's JSON, in record order, validated the way zenodo-get will read them.

    zenodo-get takes the name from ``filename`` or ``key``, the size from ``filesize`` or ``size``, the
    checksum after the last ``:`` of ``checksum`` and the link from ``links.self``. We additionally insist
    that the checksum is md5 and that each name is a plain file name without control characters: zenodo-get
    writes to that name relative to its output directory, so ``../x`` would escape it.
    """
    where = record_url(record)
    if not isinstance(metadata, Mapping):
        raise ZenodoError(f"{where}: malformed record: expected a JSON object")
    entries = metadata.get("files")
    if not isinstance(entries, list) or not entries:
        raise ZenodoError(f"{where}: malformed record: no 'files' list (no files, or access restricted)")
    files: list[RecordFile] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ZenodoError(f"{where}: malformed record: files[{index}] is not an object")
        name = entry.get("filename") or entry.get("key")
        if (
            not isinstance(name, str)
            or name != Path(name).name
            or name in {"", ".", ".."}
            or _CONTROL.search(name)
        ):
            raise ZenodoError(f"{where}: malformed record: files[{index}] has no plain file name ({name!r})")
        checksum = entry.get("checksum")
        if not isinstance(checksum, str) or not checksum.startswith("md5:"):
            raise ZenodoError(f"{where}: malformed record: file {name!r} has no md5 checksum ({checksum!r})")
        md5 = checksum.split(":")[-1].strip().lower()
        if not _MD5.fullmatch(md5):
            raise ZenodoError(f"{where}: malformed record: file {name!r} has a malformed md5 ({checksum!r})")
        size = entry.get("filesize") or entry.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ZenodoError(f"{where}: malformed record: file {name!r} has no valid size ({size!r})")
        links = entry.get("links")
        url = links.get("self") if isinstance(links, Mapping) else None
        if not isinstance(url, str) or not url:
            url = f"https://zenodo.org/records/{record}/files/{name}"
        files.append(RecordFile(name=name, md5=md5, size=size, url=url))
    names = [file.name for file in files]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ZenodoError(f"{where}: malformed record: duplicate file names {duplicates}")
    return files


def md5_of(path: Path) -> str:
    """The md5 hex digest of a file, read in chunks (the published files may be large)."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, expected: RecordFile) -> None:
    """Raises :class:`ZenodoError` naming the file unless it exists with the record's size and md5."""
    if not path.is_file():
        raise ZenodoError(f"{expected.name}: missing after download (expected md5 {expected.md5})")
    size = path.stat().st_size
    if size != expected.size:
        raise ZenodoError(f"{expected.name}: size {size} bytes, the record says {expected.size}")
    actual = md5_of(path)
    if actual != expected.md5:
        raise ZenodoError(f"{expected.name}: md5 mismatch: got {actual}, the record says {expected.md5}")
