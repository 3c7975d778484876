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
        "eta2": {str(i): encoder["eta2"][str(i)][encoder["encodes"][str(i)]] for i in encoder["kept"]},
        "resolution": {str(i): encoder["resolution"][str(i)]["accuracy"] for i in encoder["kept"]},
        "reconstruction": dict(encoder["reconstruction"]),
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


def seeds_table(summary: Mapping[str, Any]) -> str:
    """Markdown table of every seed (what the README quotes, generated so that it cannot drift).

    Kept neurons' selection values are bold; each kept neuron is shown with its coordinate, η² and the
    accuracy with which it alone tells every value of that coordinate apart.
    """
    rows = [
        "| seed | holds | encoder selection values (kept in bold) | kept: coordinate (η², resolution) "
        "| decoders keep | smooth-L1 | BCE | settled at step |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in summary["seeds"]:
        keeps = r["encoder_keeps"]
        values = ", ".join(
            f"**{v:.2f}**" if str(i) in keeps else f"{v:.2f}" for i, v in enumerate(r["encoder_selection"])
        )
        kept = ", ".join(f"{i}: {c} ({r['eta2'][i]:.4f}, {r['resolution'][i]:.3f})" for i, c in keeps.items())
        decoders = " / ".join(
            ", ".join(keeps.get(str(i), f"{i}?") for i in d["kept"]) + ("" if d["holds"] else " ✗")
            for d in r["decoders"].values()
        )
        outcome = "yes" if r["holds"] else "**no**"
        if not r["verdict"]:
            outcome += f": {r['encoder_verdict']}"
        elif not r["holds"]:
            outcome += f": BCE above {BCE_BOUND:g}"
        settled = r["kept_settled_at_step"]
        rows.append(
            f"| {r['seed']} | {outcome} | {values} | {kept} | {decoders} "
            f"| {', '.join(f'{v:.3f}' for v in r['decoder_losses'])} | {r['reconstruction_bce']:.1e} "
            f"| {f'{settled:,}' if settled is not None else '—'} |"
        )
    rows.append("")
    rows.append(f"The result holds for {summary['holds']} of {summary['total']} seeds.")
    return "\n".join(rows) + "\n"
