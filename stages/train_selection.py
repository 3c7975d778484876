"""Stage train_selection@<seed>: the encoder with selection neurons, its autoencoder decoder and the decoders.

Usage: ``python -m stages.train_selection SEED``. Reads data/selection/seed<SEED>/<objective>.npz, writes
models/selection/seed<SEED>.pt, the curve metrics/selection/seed<SEED>/curve.tsv and
metrics/selection/seed<SEED>/training.json. SIGINT/SIGTERM leave a checkpoint
checkpoints/selection/seed<SEED>.pt that the next run resumes from; it is removed only once every output is
written.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from tqdm.contrib.logging import logging_redirect_tqdm

from scinet.nets import save_checkpoint
from scinet.params import ParamsError, parse_env
from scinet.runtime import resolve_device
from scinet.selection.config import SelectionTrainConfig
from scinet.selection.data import SelectionData
from scinet.selection.params import parse_selection
from scinet.selection.training import SelectionResult, train_selection
from stages.common import (
    exit_on_bad_file,
    exit_on_stop,
    fail_on_bad_params,
    read_params,
    write_metrics,
)
from stages.seeds import SeedFiles, made_by_item, seed_argument

PARAMS = ["env"] + [
    f"selection.{key}"
    for key in (
        "schedule", "device", "steps", "batch_size", "learning_rate", "weight_decay", "latent_dim",
        "target_weight", "decoder_selection_weight", "encoder_selection_weight", "reconstruction_weight",
        "reconstruction_bce", "log_interval", "checkpoint_interval",
    )
]  # fmt: skip
"""The params this stage depends on, as its ``params`` in dvc.yaml."""


def main() -> None:
    seed = seed_argument("train_selection")
    raw = read_params()
    try:
        env = parse_env(raw.get("env"))
        _, config = parse_selection(raw.get("selection"), seed)
    except ParamsError as err:
        fail_on_bad_params(err)
    stage = f"train_selection@{seed}"
    logging.basicConfig(level=logging.INFO, format=f"{stage}: %(message)s")

    objectives = list(env.objectives)
    grid_size = env.objective(objectives[0]).grid_size
    record = made_by_item(raw, PARAMS, str(resolve_device(config.device)), stage)
    files = SeedFiles(seed)
    with exit_on_stop(stage, resumable=True, checkpoint=files.checkpoint), logging_redirect_tqdm():
        data = [SelectionData.load(files.samples(name), grid_size) for name in objectives]
        result = train_selection(
            data, grid_size, config, files.checkpoint, show_progress=True, keep_checkpoint=True
        )
        _write_outputs(files, objectives, config, result, record)
        files.checkpoint.unlink()


def _write_outputs(
    files: SeedFiles,
    objectives: list[str],
    config: SelectionTrainConfig,
    result: SelectionResult,
    record: dict[str, Any],
) -> None:
    save_checkpoint(
        files.model, "selection-model", result.weights, objectives=objectives, latent_dim=config.latent_dim,
        steps=result.steps, seed=config.seed, provenance=record,
    )  # fmt: skip
    files.curve.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(result.curve).to_csv(files.curve, sep="\t", index=False)
    write_metrics(
        files.training,
        {
            "seed": config.seed,
            "final_losses": {k: round(v, 6) for k, v in result.final_losses.items()},
            "steps_per_decoder": result.steps,
            "decoder_steps_per_second": round(result.steps_per_second, 1),
            "wall_seconds": round(result.wall_seconds, 1),
            "schedule": config.schedule,
        },
        record,
    )


if __name__ == "__main__":
    with exit_on_bad_file("train_selection"):
        main()
