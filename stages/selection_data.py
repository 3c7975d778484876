"""Stage selection_data@<seed>: each trained agent plays again and its first steps become selection data.

Usage: ``python -m stages.selection_data SEED``. Reads models/policy/<objective>.pt for every objective and
writes data/selection/seed<SEED>/<objective>.npz (cells, actions, targets) plus a small summary in
metrics/selection/seed<SEED>/data.json.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from tqdm.contrib.logging import logging_redirect_tqdm

from scinet.envs import SubGridConfig
from scinet.nets import load_dps_agent
from scinet.params import ParamsError, parse_env, parse_policy
from scinet.policy.config import PolicyConfig
from scinet.runtime import run_device
from scinet.selection.config import SelectionDataConfig
from scinet.selection.generate import generate_selection_data
from scinet.selection.params import parse_selection
from stages.common import (
    exit_on_bad_file,
    exit_on_stop,
    fail_on_bad_params,
    read_params,
    write_metrics,
)
from stages.seeds import SeedFiles, made_by_item, seed_argument

PARAMS = ["env", "policy.beta", "policy.glow"] + [
    f"selection.{key}" for key in ("mode", "device", "workers", "predictors", "envs_per_worker", "samples")
]
"""The params this stage depends on, as its ``params`` in dvc.yaml."""


def main() -> None:
    seed = seed_argument("selection_data")
    raw = read_params()
    try:
        env = parse_env(raw.get("env"))
        policy = parse_policy(raw.get("policy"))
        config, _ = parse_selection(raw.get("selection"), seed)
    except ParamsError as err:
        fail_on_bad_params(err)
    logging.basicConfig(level=logging.INFO, format=f"selection_data@{seed}: %(message)s")

    files = SeedFiles(seed)
    summary: dict[str, object] = {"seed": seed}
    with exit_on_stop(f"selection_data@{seed}", resumable=False), logging_redirect_tqdm():
        for objective, world in env.objectives.items():
            summary[objective] = _generate(objective, world, config, policy, files.samples(objective))
        device = str(run_device(config.mode, config.device))
        write_metrics(
            files.data_summary, summary, made_by_item(raw, PARAMS, device, f"selection_data@{seed}")
        )


def _generate(
    objective: str, world: SubGridConfig, config: SelectionDataConfig, policy: PolicyConfig, out: Path
) -> dict[str, float]:
    """Plays one trained agent, saves its samples and returns their summary."""
    agent = load_dps_agent(Path(f"models/policy/{objective}.pt"), input_dim=world.obs_size)
    started = time.monotonic()
    data = generate_selection_data(
        agent, world, config, beta=policy.beta, glow=policy.glow, show_progress=True
    )
    seconds = time.monotonic() - started
    data.save(out)
    logging.info("%s: %d samples in %.1f s", objective, len(data), seconds)
    return {
        "samples": len(data),
        "rewarded": round(float(np.mean(data.targets > 0)), 4),
        "mean_target": round(float(data.targets.mean()), 4),
        "samples_per_second": round(len(data) / seconds),
    }


if __name__ == "__main__":
    with exit_on_bad_file("selection_data"):
        main()
