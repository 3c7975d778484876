"""Resumable training state, one format for both modes: a checkpoint resumes only a run of its fingerprint.

The fingerprint hashes everything that changes what a run learns (its learning settings, and for selection
training the data too), but not how the work is spread over processes or how long the run is, so that an
interrupted run can be resumed with more workers or a larger budget. A checkpoint of other settings is
another run's and is replaced. A file that is damaged, or is no training checkpoint of the expected kind,
raises CheckpointError advising to delete it: overwriting it silently could throw away a model someone put
there by mistake, and hours of training if the damage were ours to repair.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from scinet.errors import DELETE_CHECKPOINT
from scinet.nets import read_checkpoint, require_extra, save_checkpoint

LOG = logging.getLogger(__name__)
State = TypeVar("State")


def learning_settings(config: Any, execution_only: Collection[str]) -> dict[str, Any]:
    """The fields of a settings dataclass that change what is learned (all but ``execution_only``)."""
    return {k: v for k, v in dataclasses.asdict(config).items() if k not in execution_only}


def fingerprint(header: Mapping[str, Any], data: Iterable[bytes] = ()) -> str:
    """A short hash of ``header`` (as sorted JSON) followed by the bytes of ``data``."""
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for chunk in data:
        digest.update(chunk)
    return digest.hexdigest()[:16]


def save_state(path: Path, kind: str, state: Any, run_fingerprint: str) -> None:
    """Writes ``state`` (a dataclass with a ``weights`` state dict) atomically as a ``kind`` checkpoint."""
    extra = {f.name: getattr(state, f.name) for f in dataclasses.fields(state) if f.name != "weights"}
    save_checkpoint(path, kind, state.weights, fingerprint=run_fingerprint, **extra)


def load_state(path: Path | None, kind: str, run_fingerprint: str, cls: type[State]) -> State | None:
    """The ``cls`` state saved in ``path`` if it is a checkpoint of this very run, else None (logged)."""
    if path is None or not path.is_file():
        return None
    saved = read_checkpoint(path, kinds=(kind,), fix=DELETE_CHECKPOINT)
    if saved.extra.get("fingerprint") != run_fingerprint:
        LOG.info("ignoring %s: it was made with other settings or data", path)
        return None
    fields = {f.name for f in dataclasses.fields(cls)} - {"weights"}  # type: ignore[arg-type]
    require_extra(path, saved, fields | {"fingerprint"}, DELETE_CHECKPOINT)
    return cls(weights=saved.state_dict, **{k: saved.extra[k] for k in fields})
