"""Safe unpacking of the record's archives (.zip, .tar, .tar.gz, .tgz).

Archives come from the internet, so a member may try to escape the target directory (``../x``, an absolute
path, a link), collide with another member or expand without bound (also by nesting: archives in archives).
Such an archive is rejected as a whole (:class:`ZenodoError`) before anything of it is written; only regular
files and directories are ever extracted.
"""

from __future__ import annotations

import gzip
import shutil
import tarfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO

from scinet.zenodo.record import ZenodoError

MAX_UNPACKED_BYTES = 4 << 30  # for a whole record: far above any log record, far below filling a disk
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")


class UnreadableArchive(ZenodoError):
    """A verified file named like an archive that is not one of its kind: listed as unknown, not fatal."""


class SizeBudget:
    """The bytes a record may still unpack, shared by all its archives, nested ones included.

    A limit per archive would not bound the disk used: an archive holding archives (or a record of many)
    could multiply it. The limit is read when the budget is made, so it is :data:`MAX_UNPACKED_BYTES` as it
    stands then.
    """

    def __init__(self) -> None:
        self.limit = MAX_UNPACKED_BYTES
        self.used = 0

    def spend(self, archive: Path, size: int) -> None:
        """Counts ``size`` more bytes for ``archive``, or raises :class:`ZenodoError` above the limit."""
        total = self.used + size
        if total > self.limit:
            raise ZenodoError(
                f"{archive.name}: unpacking it would bring the record to {total} bytes unpacked (nested "
                f"archives included), above the {self.limit} bytes limit"
            )
        self.used = total


def is_archive(path: Path) -> bool:
    """Whether the name says archive; the content is checked when it is opened."""
    return path.name.lower().endswith(_ARCHIVE_SUFFIXES)


def _safe_member(name: str, archive: Path) -> PurePosixPath:
    """The member's relative path, or :class:`ZenodoError` if it could land outside the target."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ZenodoError(f"{archive.name}: unsafe member path {name!r} (outside the unpack directory)")
    return path


def unpack(archive: Path, target: Path, budget: SizeBudget | None = None) -> list[Path]:
    """Extracts ``archive`` into ``target`` (created, so not there yet) and returns the regular files written.

    Raises :class:`ZenodoError` for an unsafe member (path traversal, link, device), conflicting members
    (:func:`_check_conflicts`), a ``target`` that exists already (a nested ``x.zip`` unpacks beside itself to
    ``x.zip.contents``, which its own archive may hold too) or a size above what ``budget`` (by default a
    fresh one) has left; :class:`UnreadableArchive` for a file that is not a readable archive of its kind
    (its md5 matched, so it is what was published; we just cannot read it).
    """
    if target.exists() or target.is_symlink():
        raise ZenodoError(f"{archive.name}: its unpack directory {target.name!r} conflicts with a member")
    target.mkdir(parents=True)
    budget = budget or SizeBudget()
    try:
        if archive.name.lower().endswith(".zip"):
            return _unpack_zip(archive, target, budget)
        return _unpack_tar(archive, target, budget)
    except (zipfile.BadZipFile, tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError) as err:
        raise UnreadableArchive(f"{archive.name}: cannot unpack: {err}") from err


def _unpack_zip(archive: Path, target: Path, budget: SizeBudget) -> list[Path]:
    with zipfile.ZipFile(archive) as bundle:
        members = bundle.infolist()
        for info in members:  # check everything before writing anything
            mode = info.external_attr >> 16
            if mode and (mode & 0o170000) not in (0, 0o100000, 0o040000):
                raise ZenodoError(f"{archive.name}: member {info.filename!r} is a link or special file")
        _check_paths(archive, [(info.filename, info.is_dir()) for info in members])
        budget.spend(archive, sum(info.file_size for info in members))
        entries = [(info.filename, info.is_dir(), partial(bundle.open, info)) for info in members]
        return _extract(archive, target, entries)


def _unpack_tar(archive: Path, target: Path, budget: SizeBudget) -> list[Path]:
    with tarfile.open(archive, mode="r:*") as bundle:
        members = bundle.getmembers()
        for member in members:
            if not (member.isfile() or member.isdir()):
                raise ZenodoError(f"{archive.name}: member {member.name!r} is a link or special file")
        _check_paths(archive, [(member.name, member.isdir()) for member in members])
        budget.spend(archive, sum(member.size for member in members if member.isfile()))
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


def _check_paths(archive: Path, members: list[tuple[str, bool]]) -> None:
    """Raises :class:`ZenodoError` for an unsafe member path or for two members that would land on one path:

    a file named twice (``a`` and ``./a`` too: the second would silently win), a file that another member
    needs as a directory (``a`` and ``a/b``), or two names equal but for case or Unicode normalisation, which
    are one path on macOS and Windows file systems, so the output would depend on the machine. A directory
    may be named more than once, and ``.`` is the target itself.
    """
    seen: dict[PurePosixPath, tuple[bool, str]] = {}  # path -> (is a directory, the member that made it)
    folded: dict[str, PurePosixPath] = {}

    def claim(path: PurePosixPath, is_dir: bool, name: str) -> None:
        previous = seen.get(path)
        if previous is not None:
            if is_dir and previous[0]:
                return
            why = "a file cannot be a directory" if is_dir or previous[0] else "both name one file"
            raise ZenodoError(f"{archive.name}: member {name!r} conflicts with {previous[1]!r} ({why})")
        key = unicodedata.normalize("NFC", unicodedata.normalize("NFC", path.as_posix()).casefold())
        if key in folded:
            other = seen[folded[key]][1]
            raise ZenodoError(
                f"{archive.name}: member {name!r} conflicts with {other!r} (the names differ only in case or "
                "Unicode normalisation: one file on macOS and Windows)"
            )
        seen[path] = (is_dir, name)
        folded[key] = path

    for name, is_dir in members:
        path = _safe_member(name, archive)
        for parent in reversed(path.parents[:-1]):  # all but '.', outermost first
            claim(parent, True, name)
        if path != PurePosixPath():
            claim(path, is_dir, name)
        elif not is_dir:
            raise ZenodoError(
                f"{archive.name}: member {name!r} names no file (it conflicts with the directory)"
            )
