"""The ``selection:`` section of params.yaml, split into the data and the training settings.

It lives apart from :mod:`scinet.params` so that the policy-mode stages, which depend on that module's file,
do not re-run when selection settings gain a key; both use the one validator of :mod:`scinet.settings`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from scinet.errors import ParamsError
from scinet.seeds import parse_seeds
from scinet.selection.config import SelectionDataConfig, SelectionTrainConfig
from scinet.settings import BYTES_PER_ENV, check_device, check_fits, parse_section

DATA_KEYS = tuple(f.name for f in dataclasses.fields(SelectionDataConfig) if f.name != "seed")
TRAIN_KEYS = tuple(f.name for f in dataclasses.fields(SelectionTrainConfig) if f.name != "seed")


def parse_selection(raw: Any, seed: int | None = None) -> tuple[SelectionDataConfig, SelectionTrainConfig]:
    """Validates the section and returns the settings of the run of ``seed`` (default: the first listed).

    Every key belongs to the data settings, the training settings or both, but for ``seeds``. A ``seed``
    that is not in the list is an error: a stage item must never make a run that params.yaml does not list.
    """
    seeds = parse_seeds(raw)
    if seed is None:
        seed = seeds[0]
    elif seed not in seeds:
        raise ParamsError(f"selection.seeds: seed {seed} is not in the list {list(seeds)}")
    known = tuple(dict.fromkeys((*DATA_KEYS, *TRAIN_KEYS, "seeds")))
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ParamsError(f"selection: unknown key(s) {unknown}; expected some of {list(known)}")
    data_raw = {k: v for k, v in raw.items() if k in DATA_KEYS}
    train_raw = {k: v for k, v in raw.items() if k in TRAIN_KEYS}
    data = parse_section(SelectionDataConfig, {**data_raw, "seed": seed}, "selection")
    train = parse_section(SelectionTrainConfig, {**train_raw, "seed": seed}, "selection")
    check_device(data.device, "selection.device")
    check_fits(
        "selection.samples", 32 * data.samples, "each agent's samples while they are gathered and stored"
    )
    envs = data.workers * data.envs_per_worker * BYTES_PER_ENV
    check_fits("selection.envs_per_worker", envs, "workers x envs_per_worker worlds and their histories")
    check_fits("selection.batch_size", 64 * train.batch_size * 128, "activations of one batch per decoder")
    check_fits("selection.latent_dim", 64 * 128 * train.latent_dim, "the layers next to the latent neurons")
    return data, train
