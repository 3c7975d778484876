"""What made a result: the params, the device and the software versions, recorded inside each output.

``dvc.lock`` says which params and code a result should come from; the record inside the result says what
actually made it, so that a file restored from a cache, copied by hand or left over from another run can be
checked against the lock afterwards. Versions are read from the installed packages' metadata, so recording
them loads neither torch nor anything else heavy.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from importlib import metadata
from typing import Any


def provenance(params: Mapping[str, Any], device: str) -> dict[str, Any]:
    """The record of one run: ``params`` as the stage read them, the device it ran on and the versions.

    ``params`` are keyed as ``dvc.lock`` keys a stage's params (``policy``, ``env.grid_size``, ...), so the
    two compare directly. The result holds only plain values: it fits a JSON file and a checkpoint that is
    loaded with ``weights_only=True``.
    """
    return {
        "params": dict(params),
        "device": device,
        "python": platform.python_version(),
        **{name: _version(name) for name in ("scinet-repro", "torch", "numpy")},
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
