"""Glue shared by the stage scripts: read params.yaml, write small JSON outputs atomically."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from scinet.params import ParamsError

PARAMS_FILE = Path("params.yaml")


def read_params() -> dict[str, Any]:
    """The whole params.yaml as plain data; the stage passes its sections to ``scinet.params``."""
    return yaml.safe_load(PARAMS_FILE.read_text())


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
