"""Glue shared by the stage scripts: read params.yaml, read and write small JSON/TSV files, exit codes.

Light on purpose (no torch), so that a stage's error handling costs nothing before its real work starts.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from scinet.atomic import atomic_write
from scinet.errors import CheckpointError, ParamsError, RoleFailed, TrainingInterrupted
from scinet.provenance import provenance

if TYPE_CHECKING:
    import pandas as pd

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
    with atomic_write(path) as handle:
        handle.write(json.dumps(data, indent=2) + "\n")


def read_json(path: Path, keys: Collection[str] = ()) -> Any:
    """A JSON file another stage wrote, with at least the top-level ``keys``; else CheckpointError.

    A truncated or garbled metrics file would otherwise end the stage with a JSONDecodeError or KeyError
    traceback that names neither the file nor the fix.
    """
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError.at(path, f"not valid JSON ({exc})") from exc
    missing = [key for key in keys if not isinstance(data, dict) or key not in data]
    if missing:
        raise CheckpointError.at(path, f"lacks the entries {missing}")
    return data


def read_tsv(path: Path, columns: Collection[str] = ()) -> pd.DataFrame:
    """A tab-separated table another stage wrote, with at least ``columns``; else CheckpointError."""
    import pandas as pd  # here, not at the top: most stages never read a table and pandas is slow to load

    try:
        table = pd.read_csv(path, sep="\t")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CheckpointError.at(path, f"not a readable table ({type(exc).__name__}: {exc})") from exc
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise CheckpointError.at(path, f"lacks the columns {missing}")
    return table


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


@contextmanager
def exit_on_bad_file(stage: str) -> Iterator[None]:
    """A damaged or wrong input file (CheckpointError) ends the stage with one line on stderr and exit 1.

    The error's message already names the file's path and the fix (``dvc checkout``/``dvc pull``, or
    deleting a training checkpoint); a traceback would only bury it. Stages wrap their whole ``main`` in
    it, so that every reader is covered; a non-zero exit keeps DVC from recording outputs.
    """
    try:
        yield
    except CheckpointError as err:
        print(f"{stage}: error: {err}", file=sys.stderr)
        raise SystemExit(1) from None
