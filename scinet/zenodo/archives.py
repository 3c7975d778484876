"""Safe unpacking of the record's archives (.zip, .tar, .tar.gz, .tgz).

Archives come from the internet, so a member may try to escape the target directory (``../x``, an absolute
path, a link) or expand without bound. Such an archive is rejected as a whole (:class:`ZenodoError`) before
anything of it is written; only regular files and directories are ever extracted.
"""

from __future__ import annotations

import gzip
import shutil
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO

from scinet.zenodo.record import ZenodoError

MAX_UNPACKED_BYTES = 4 << 30  # far above any log record, far below filling a disk
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")


class UnreadableArchive(ZenodoError):
    """A verified file named like an archive that is not one of its kind: listed as unknown, not fatal."""


def is_archive(path: Path) -> bool:
    """Whether the name says archive; the content is checked when it is opened."""
    return path.name.lower().endswith(_ARCHIVE_SUFFIXES)


def _safe_member(name: str, archive: Path) -> PurePosixPath:
    """The member's relative path, or :class:`ZenodoError` if it could land outside the target."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ZenodoError(f"{archive.name}: unsafe member path {name!r} (outside the unpack directory)")
    return path


def unpack(archive: Path, target: Path) -> list[Path]:
    """Extracts ``archive`` into ``target`` (created) and returns the regular files written.

    Raises :class:`ZenodoError` for an unsafe member (path traversal, link, device) or a total size above
    :data:`MAX_UNPACKED_BYTES`, and :class:`UnreadableArchive` for a file that is not a readable archive of
    its kind (its md5 matched, so it is what was published; we just cannot read it).
    """
    target.mkdir(parents=True, exist_ok=True)
    try:
        if archive.name.lower().endswith(".zip"):
            return _unpack_zip(archive, target)
        return _unpack_tar(archive, target)
    except (zipfile.BadZipFile, tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError) as err:
        raise UnreadableArchive(f"{archive.name}: cannot unpack: {err}") from err


def _unpack_zip(archive: Path, target: Path) -> list[Path]:
    with zipfile.ZipFile(archive) as bundle:
        members = bundle.infolist()
        for info in members:  # check everything before writing anything
            _safe_member(info.filename, archive)
            mode = info.external_attr >> 16
            if mode and (mode & 0o170000) not in (0, 0o100000, 0o040000):
                raise ZenodoError(f"{archive.name}: member {info.filename!r} is a link or special file")
        _check_total(archive, sum(info.file_size for info in members))
        entries = [(info.filename, info.is_dir(), partial(bundle.open, info)) for info in members]
        return _extract(archive, target, entries)


def _unpack_tar(archive: Path, target: Path) -> list[Path]:
    with tarfile.open(archive, mode="r:*") as bundle:
        members = bundle.getmembers()
        for member in members:
            _safe_member(member.name, archive)
            if not (member.isfile() or member.isdir()):
                raise ZenodoError(f"{archive.name}: member {member.name!r} is a link or special file")
        _check_total(archive, sum(member.size for member in members if member.isfile()))
        entries = [(m.name, m.isdir(), partial(bundle.extractfile, m)) for m in members]
        return _extract(archive, target, entries)


def _extract(
    archive: Path, target: Path, entries: list[tuple[str, bool, Callable[[], IO[bytes] | None]]]
) -> list[Path]:
    """Writes checked members (name, is a directory, opener) under ``target``; returns the files written."""
    written: list[Path] = []
    for name, is_dir, open_member in entries:
        destination = target.joinpath(*_safe_member(name, archive).parts)
        if is_dir:
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        source = open_member()
        if source is None:
            raise ZenodoError(f"{archive.name}: member {name!r} cannot be read")
        with source, destination.open("wb") as sink:
            shutil.copyfileobj(source, sink)
        written.append(destination)
    return written


def _check_total(archive: Path, total: int) -> None:
    if total > MAX_UNPACKED_BYTES:
        limit = MAX_UNPACKED_BYTES
        raise ZenodoError(f"{archive.name}: would unpack to {total} bytes, above the {limit} bytes limit")
