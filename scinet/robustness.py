"""Does the paper's result hold on every seed? One compact record per seed, and how many hold.

A single run proves little: asynchronous selection training is not deterministic, and a representation
that comes out right for one seed can split a coordinate over two neurons for another. The robustness
claim is therefore counted over the seeds params.yaml lists, each with its own selection data and training.
A seed holds when every verdict holds (the encoder's, at full resolution, and each decoder's) and the
autoencoder ends reconstructing the observation (BCE at most :data:`BCE_BOUND`; the paper's is about 1e-3,
while a saturated output costs about 0.23 per stuck coordinate value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

BCE_BOUND = 1e-2
"""Largest final reconstruction BCE of a seed that holds: ten times the published ≈ 1e-3."""


def seed_record(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """One seed's summary from its verdict metrics (what ``analyze_selection@<seed>`` writes)."""
    encoder, losses = verdict["encoder"], verdict["final_losses"]
    bce = float(losses["reconstruction_bce"])
    decoders = verdict["decoders"]
    return {
        "seed": int(verdict["seed"]),
        "holds": bool(verdict["verdict"]) and bce <= BCE_BOUND,
        "verdict": bool(verdict["verdict"]),
        "encoder_verdict": encoder["verdict"]["reason"],
        "reconstruction_bce": bce,
        "encoder_selection": [round(float(s), 4) for s in encoder["selection"]],
        "encoder_keeps": {str(i): encoder["encodes"][str(i)] for i in encoder["kept"]},
        "decoders": {
            name: {"kept": d["kept"], "holds": bool(d["verdict"]["ok"])} for name, d in decoders.items()
        },
        "decoder_losses": [float(v) for k, v in sorted(losses.items()) if k.startswith("decoder")],
        "steps_per_decoder": min(verdict["steps_per_decoder"]),
        "kept_settled_at_step": verdict.get("kept_settled_at_step"),
    }


def robustness(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``{"seeds": [...], "holds": k, "total": n}``, seeds in the order given (params.yaml's list)."""
    return {
        "seeds": [dict(r) for r in records],
        "holds": sum(bool(r["holds"]) for r in records),
        "total": len(records),
    }
