"""The ``selection:`` section of params.yaml, split into the data and the training settings.

It lives apart from :mod:`scinet.params` (whose generic checker it reuses) so that the policy-mode stages,
which depend on that module's file, do not re-run when selection settings gain a key.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from scinet.errors import ParamsError
from scinet.params import check_device, parse_dataclass
from scinet.selection.config import SelectionDataConfig, SelectionTrainConfig

DATA_KEYS = tuple(f.name for f in dataclasses.fields(SelectionDataConfig))
TRAIN_KEYS = tuple(f.name for f in dataclasses.fields(SelectionTrainConfig))


def parse_selection(raw: Any) -> tuple[SelectionDataConfig, SelectionTrainConfig]:
    """Validates the section: every key belongs to the data settings, the training settings or both."""
    if not isinstance(raw, dict):
        raise ParamsError(f"selection: expected a mapping, got {raw!r}")
    known = tuple(dict.fromkeys((*DATA_KEYS, *TRAIN_KEYS)))
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ParamsError(f"selection: unknown key(s) {unknown}; expected some of {list(known)}")
    data = parse_dataclass(SelectionDataConfig, {k: v for k, v in raw.items() if k in DATA_KEYS}, "selection")
    train = parse_dataclass(
        SelectionTrainConfig, {k: v for k, v in raw.items() if k in TRAIN_KEYS}, "selection"
    )
    check_device(data.device, "selection.device")
    return data, train
