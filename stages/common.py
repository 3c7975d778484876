"""Glue shared by the stage scripts: read params.yaml, write small JSON outputs atomically, exit codes."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from scinet.errors import ParamsError, RoleFailed, TrainingInterrupted
from scinet.provenance import provenance

PARAMS_FILE = Path("params.yaml")


def read_params() -> dict[str, Any]:
    """The whole params.yaml as plain data; the stage passes its sections to ``scinet.params``.

    A file that is not YAML, or not a mapping of sections, ends the stage with one line, like a bad value.
    """
    try:
        raw = yaml.safe_load(PARAMS_FILE.read_text())
    except yaml.YAMLError as err:
        fail_on_bad_params(ParamsError(f"not valid YAML ({' '.join(str(err).split())})"))
    if not isinstance(raw, dict):
        fail_on_bad_params(ParamsError(f"expected a mapping of sections, got {type(raw).__name__}"))
    return raw


def made_by(raw: dict[str, Any], keys: list[str], device: str) -> dict[str, Any]:
    """The provenance record of a stage's output: the params it depends on (``keys`` exactly as its
    ``params`` in dvc.yaml, so that they compare with dvc.lock), the device and the versions."""
    params = {}
    for key in keys:
        value: Any = raw
        for part in key.split("."):
            value = value[part]
        params[key] = value
    return provenance(params, device)


def write_metrics(path: Path, metrics: dict[str, Any], record: dict[str, Any]) -> None:
    """Writes a metrics JSON with its provenance record under ``provenance``, wrapped in a one-element list.

    DVC turns every number and string of a metrics file into a `dvc exp show` column but skips lists; the
    params are columns already (from params.yaml), so the record stays in the file without doubling them.
    """
    write_json(path, {**metrics, "provenance": [record]})


def write_json(path: Path, data: Any) -> None:
    """Writes JSON through a temporary file so that an interrupted stage never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def fail_on_bad_params(err: ParamsError) -> None:
    """One clear line and exit code 2 for a bad parameter, before any output is written."""
    print(f"params.yaml: {err}", file=sys.stderr)
    raise SystemExit(2)


@contextmanager
def exit_on_stop(stage: str, resumable: bool, checkpoint: Path | None = None) -> Iterator[None]:
    """A stopped run (signal: 128 + its number) or a failed role (1) exits with one line on stderr.

    Exiting non-zero is what keeps DVC from recording outputs of an unfinished run; ``resumable`` stages
    have left a checkpoint, and the line says that running the stage again resumes from it. Inside the
    block SIGINT/SIGTERM stop the stage at once with that same line, wherever they land (between two
    trainings, during an evaluation, while outputs are written); the training functions replace this
    with their own handling while they run, so that they can checkpoint and stop their children first.
    """

    def stop_now(signum: int, _frame: Any) -> None:
        raise TrainingInterrupted(signum, checkpoint)

    previous = {sig: signal.signal(sig, stop_now) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except TrainingInterrupted as stop:
        hint = "; run the stage again to resume" if resumable else ""
        print(f"{stage}: {stop}{hint}", file=sys.stderr)
        raise SystemExit(128 + stop.signum) from None
    except RoleFailed as err:
        print(f"{stage}: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
