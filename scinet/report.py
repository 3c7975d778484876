"""The paper's numbers beside ours: one Markdown table built from the pipeline's metrics.

The table is generated rather than typed so that the README can never quote a number the metrics do not
hold (a test compares the two), and so that every experiment (`dvc exp run`) gets its own table.
The published side is fixed: it is what the paper and the authors' checkpoints say (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PUBLISHED_AGENT_STEPS = "about 15 to 40"
PUBLISHED_ENCODER_SELECTION = (-3.63, -3.38, 4.67, 6.79, 3.29, 6.84, -3.62, 4.88)
PUBLISHED_ENCODER_KEEPS = "0, 1, 6 (z, y, x)"
"""Which coordinate each kept neuron encodes: our η² analysis of the authors' ae_select.pth."""
PUBLISHED_ETA2 = "≥ 0.997"
PUBLISHED_RESOLUTION = "0.9983, 0.9942, 1.0000"
"""Accuracy of each kept neuron (0, 1, 6) alone at telling its coordinate's values apart, and of the
autoencoder from those three alone: our full-resolution analysis of ae_select.pth."""
PUBLISHED_RECONSTRUCTION = "1.0000, 1.0000, 1.0000"
PUBLISHED_DECODER_LOSSES = "≈ 0.25 to 0.35"
PUBLISHED_BCE = "≈ 1e-3"
PUBLISHED_STEPS = "≈ 830,000"


def results_table(
    agents: Mapping[str, Mapping[str, Any]], selection: Mapping[str, Any], seeds: Mapping[str, Any]
) -> str:
    """Markdown table: quantity | published | reproduced.

    ``agents`` maps each objective (env1, ...) to its metrics/policy/<env>.json; ``selection`` is the
    headline seed's verdict metrics and ``seeds`` metrics/robustness.json (``holds`` of ``total`` seeds).
    Agents are quoted under the softmax policy, the one the paper's agents act by.
    """
    encoder = selection["encoder"]
    kept = encoder["kept"]
    rows = [("quantity", "published", "reproduced"), ("---", "---", "---")]
    for name, metrics in agents.items():
        rows.append((f"{name} agent: mean steps to the reward", PUBLISHED_AGENT_STEPS, _agent(metrics)))
    rows += [
        ("encoder selection values", _values(PUBLISHED_ENCODER_SELECTION), _values(encoder["selection"])),
        ("encoder keeps neurons (coordinates)", PUBLISHED_ENCODER_KEEPS, _neurons(kept, encoder["encodes"])),
        (
            "η² of each kept neuron with its coordinate",
            PUBLISHED_ETA2,
            ", ".join(f"{encoder['eta2'][str(i)][encoder['encodes'][str(i)]]:.4f}" for i in kept),
        ),
        (
            "accuracy of each kept neuron alone at telling its coordinate's values apart",
            PUBLISHED_RESOLUTION,
            ", ".join(f"{encoder['resolution'][str(i)]['accuracy']:.4f}" for i in kept),
        ),
        (
            "autoencoder's accuracy from the kept neurons alone (x, y, z)",
            PUBLISHED_RECONSTRUCTION,
            ", ".join(f"{encoder['reconstruction'][c]:.4f}" for c in ("x", "y", "z")),
        ),
    ]
    for name, decoder in selection["decoders"].items():
        plane = ", ".join(decoder["plane"])
        rows.append((f"{name} decoder keeps neurons", plane, _neurons(decoder["kept"], encoder["encodes"])))
    losses = selection["final_losses"]
    decoder_losses = [v for k, v in sorted(losses.items()) if k.startswith("decoder")]
    settled = selection.get("kept_settled_at_step")
    steps = selection["steps_per_decoder"]
    rows += [
        ("decoders' smooth-L1 loss", PUBLISHED_DECODER_LOSSES, ", ".join(f"{v:.3f}" for v in decoder_losses)),
        ("autoencoder BCE", PUBLISHED_BCE, f"{losses['reconstruction_bce']:.1e}"),
        (
            "training steps per decoder",
            PUBLISHED_STEPS,
            f"{min(steps):,}" + (f" (kept neurons final from step {settled:,})" if settled else ""),
        ),
        (f"all verdicts hold (seed {selection['seed']})", "yes", "yes" if selection["verdict"] else "**no**"),
        ("the result holds for", "—", f"{seeds['holds']} of {seeds['total']} seeds"),
    ]
    return "\n".join(f"| {' | '.join(row)} |" for row in rows) + "\n"


def _agent(metrics: Mapping[str, Any]) -> str:
    softmax, optimal = metrics["softmax"], metrics["optimal_mean"]
    return (
        f"{softmax['mean']:.2f} ({softmax['ratio_to_optimal']:.2f}x the optimal {optimal:.2f}), "
        f"{100 * softmax['timeouts']:.2f} % time-outs"
    )


def _values(values: Any) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _neurons(kept: list[int], encodes: Mapping[str, str]) -> str:
    """'1, 3 (x, y)'; a neuron the encoder does not keep shows as '?'."""
    if not kept:
        return "none"
    return f"{', '.join(map(str, kept))} ({', '.join(encodes.get(str(i), '?') for i in kept)})"
