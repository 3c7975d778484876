"""The few numbers per stage family that `dvc exp show` lists: what people compare between experiments.

DVC turns every number, string and boolean of a declared metrics file into a `dvc exp show` column. The
stages' full records (each agent's evaluation and throughput, the η² of every latent neuron with every
coordinate, level statistics, verdict reasons, splits, provenance) made about 210 columns that no terminal
shows, so they are plain outputs now and only these headlines are declared as metrics. Each headline is
derived from the full record, never measured on its own, so that the two can never disagree.

Keys are short and unique across files (each seed's under ``seed<N>``), because DVC prefixes a column
with its file's path only when two files share a key: unique keys keep the column headers narrow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def policy_headline(agents: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Per agent: mean path over the optimal and share of time-outs, under softmax and greedy play.

    ``agents`` maps each objective (env1, ...) to its metrics/policy/<env>.json. Softmax comes first and
    without prefix because the paper's agents act by it (the report quotes it too); the ratio rather than
    the mean path is kept because it compares across grid sizes and reward positions.
    """
    return {
        name: {
            "ratio": float(metrics["softmax"]["ratio_to_optimal"]),
            "timeouts": float(metrics["softmax"]["timeouts"]),
            "greedy_ratio": float(metrics["greedy"]["ratio_to_optimal"]),
            "greedy_timeouts": float(metrics["greedy"]["timeouts"]),
        }
        for name, metrics in agents.items()
    }


def neurons(kept: Sequence[int], encodes: Mapping[str, str] | None = None) -> str:
    """Kept neurons as one short string (``"1:x 3:y 7:z"``, or ``"1,3"`` without coordinates).

    A string, because DVC drops list values from `dvc exp show`; ``"-"`` when none is kept, so that the
    column stays visible and says so.
    """
    if not kept:
        return "-"
    if encodes is None:
        return ",".join(str(i) for i in kept)
    return " ".join(f"{i}:{encodes.get(str(i), '?')}" for i in kept)


def selection_headline(verdict: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """One seed's headline from its verdict record (what ``analyze_selection@<seed>`` computes).

    The overall verdict, the encoder's kept neurons with the coordinate each encodes, each decoder's kept
    neurons and final smooth-L1 loss (decoder ``k`` of the losses is the ``k``-th of ``decoders``, the
    model's objective order), the autoencoder's final BCE and the step from which the kept neurons stayed
    as they ended. Reasons, η², resolution and selection values stay in the verdict record.
    """
    encoder, losses = verdict["encoder"], verdict["final_losses"]
    headline: dict[str, Any] = {
        "verdict": bool(verdict["verdict"]),
        "encoder": neurons(encoder["kept"], encoder["encodes"]),
    }
    for k, (name, decoder) in enumerate(verdict["decoders"].items()):
        headline[f"{name}_kept"] = neurons(decoder["kept"])
        headline[f"{name}_loss"] = float(losses[f"decoder{k}_loss"])
    headline["bce"] = float(losses["reconstruction_bce"])
    headline["settled_step"] = verdict.get("kept_settled_at_step")
    return {f"seed{int(verdict['seed'])}": headline}
