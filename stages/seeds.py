"""Glue of the per-seed selection stages (``selection_data@<seed>``, ``train_selection@<seed>``, ...).

Each seed's data, model, curve and metrics have their own paths, so DVC caches each seed on its own and
adding a seed to params.yaml runs only that seed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from stages.common import made_by


def seed_argument(stage: str) -> int:
    """The seed a stage item runs (``python -m stages.<stage> SEED``); anything else is one usage line."""
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        print(f"usage: python -m stages.{stage} SEED (one of params.yaml's selection.seeds)", file=sys.stderr)
        raise SystemExit(2)
    return int(sys.argv[1])


def made_by_item(raw: dict[str, Any], keys: list[str], device: str, stage: str) -> dict[str, Any]:
    """:func:`stages.common.made_by` plus the stage item's name as dvc.lock names it
    (``train_selection@3``): the seed is in the item's command, not in its params."""
    return {"stage": stage, **made_by(raw, keys, device)}


class SeedFiles:
    """Where one selection seed's data, model, curve and metrics live."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.data = Path(f"data/selection/seed{seed}")
        self.model = Path(f"models/selection/seed{seed}.pt")
        self.checkpoint = Path(f"checkpoints/selection/seed{seed}.pt")
        metrics = Path(f"metrics/selection/seed{seed}")
        self.data_summary = metrics / "data.json"
        self.curve = metrics / "curve.tsv"
        self.training = metrics / "training.json"
        self.verdict = metrics / "verdict.json"

    def samples(self, objective: str) -> Path:
        return self.data / f"{objective}.npz"
