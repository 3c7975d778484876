"""Seed robustness: one record per seed, what "holds" means, the count, and the figure of every seed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scinet.figures import seed_selection_values
from scinet.robustness import BCE_BOUND, robustness, seed_record, seeds_table


def _verdict(seed: int, verdict: bool, bce: float) -> dict:
    ok = {"ok": True, "reason": "fine"}
    return {
        "seed": seed,
        "encoder": {
            "selection": [-3.5, 5.0, -3.4, 6.0, 4.0, 5.5, -3.6, 4.4],
            "kept": [0, 2, 6],
            "encodes": {"0": "z", "2": "y", "6": "x"},
            "eta2": {str(i): {"x": 0.999, "y": 0.999, "z": 0.999} for i in range(8)},
            "resolution": {str(i): {"accuracy": 1.0, "gap_ratio": 6.0} for i in (0, 2, 6)},
            "reconstruction": {"x": 1.0, "y": 1.0, "z": 1.0},
            "verdict": {"ok": verdict, "reason": "3 neurons kept" if verdict else "4 neurons kept"},
        },
        "decoders": {"env1": {"kept": [2, 6], "verdict": ok}, "env2": {"kept": [0, 2], "verdict": ok}},
        "final_losses": {"decoder0_loss": 0.31, "decoder1_loss": 0.33, "reconstruction_bce": bce},
        "steps_per_decoder": [300_000, 300_000, 299_000],
        "kept_settled_at_step": 231_000,
        "verdict": verdict,
    }


def test_a_seed_holds_only_with_every_verdict_and_a_working_autoencoder() -> None:
    assert seed_record(_verdict(0, True, 1e-3))["holds"] is True
    assert seed_record(_verdict(1, False, 1e-3))["holds"] is False
    saturated = seed_record(_verdict(2, True, 0.25))  # one coordinate value stuck: the verdict alone holds
    assert saturated["verdict"] is True and saturated["holds"] is False
    assert seed_record(_verdict(3, True, BCE_BOUND))["holds"] is True


def test_the_record_is_compact_and_the_summary_counts_in_list_order() -> None:
    record = seed_record(_verdict(7, True, 8e-4))
    assert record["encoder_keeps"] == {"0": "z", "2": "y", "6": "x"}
    assert record["decoders"] == {
        "env1": {"kept": [2, 6], "holds": True},
        "env2": {"kept": [0, 2], "holds": True},
    }
    assert record["decoder_losses"] == [0.31, 0.33] and record["steps_per_decoder"] == 299_000
    summary = robustness([seed_record(_verdict(s, s != 4, 1e-3)) for s in (3, 4, 0)])
    assert [r["seed"] for r in summary["seeds"]] == [3, 4, 0]
    assert (summary["holds"], summary["total"]) == (2, 3)


def test_the_figure_has_one_panel_line_per_neuron_and_seed(tmp_path: Path) -> None:
    curve = pd.DataFrame({"step": [1000, 2000], **{f"encoder_s{i}": [-10.0, -9.0 + i] for i in range(8)}})
    result = seed_selection_values({0: curve, 5: curve}, {0: True, 5: False}, tmp_path / "seeds.png")
    assert result.ours == 16
    assert (tmp_path / "seeds.png").read_bytes()[:4] == b"\x89PNG"


def test_the_seeds_table_shows_each_seed_and_why_one_fails() -> None:
    failing = _verdict(4, False, 1e-3)
    failing["encoder"]["verdict"]["reason"] = "4 neurons kept [0, 1, 2, 6], expected 3"
    summary = robustness([seed_record(_verdict(0, True, 8e-4)), seed_record(failing)])
    table = seeds_table(summary).splitlines()
    assert table[2].startswith("| 0 | yes | **-3.50**, 5.00, **-3.40**, 6.00")
    assert "0: z (0.9990, 1.000), 2: y (0.9990, 1.000), 6: x (0.9990, 1.000)" in table[2]
    assert "| y, x / z, y |" in table[2] and "| 0.310, 0.330 | 8.0e-04 | 231,000 |" in table[2]
    assert table[3].startswith("| 4 | **no**: 4 neurons kept [0, 1, 2, 6], expected 3 |")
    assert table[-1] == "The result holds for 1 of 2 seeds."
