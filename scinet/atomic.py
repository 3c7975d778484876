"""Writing a file all at once: an interrupted run never leaves half a model, table, figure or data file.

Light on purpose (no torch), so that the stage scripts' glue can use it too.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """A temporary file beside ``path``, opened in ``mode`` ("w" or "wb"), renamed over ``path`` at the end.

    The rename happens only once the block has finished and the bytes are on disk; if the block raises,
    the temporary file is removed and ``path`` keeps whatever it held before. Missing folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # what a plain open() would give, not mkstemp's private 0600
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
