"""The published-vs-reproduced table: built from the metrics, and quoted by the README as generated."""

from __future__ import annotations

from pathlib import Path

from scinet.report import results_table

ROOT = Path(__file__).resolve().parents[1]
AGENT = {"softmax": {"mean": 9.5, "ratio_to_optimal": 1.11, "timeouts": 0.0016}, "optimal_mean": 8.56}


def _selection(verdict: bool) -> dict:
    eta2 = {str(i): {"x": 0.1, "y": 0.2, "z": 0.3} for i in range(8)}
    eta2["2"] = {"x": 0.99912, "y": 0.0, "z": 0.0}
    return {
        "seed": 4,
        "encoder": {
            "selection": [1.0] * 8,
            "kept": [2, 5],
            "encodes": {"2": "x", "5": "z"},
            "eta2": eta2,
            "resolution": {
                "2": {"accuracy": 0.99713, "gap_ratio": 5.1},
                "5": {"accuracy": 0.5, "gap_ratio": 0.3},
            },
            "reconstruction": {"x": 1.0, "y": 0.98765, "z": 1.0},
        },
        "decoders": {"env1": {"kept": [2, 4], "plane": ["x", "y"]}},
        "final_losses": {"decoder0_loss": 0.3123, "reconstruction_bce": 0.00078},
        "steps_per_decoder": [300_000, 300_000, 299_000],
        "kept_settled_at_step": 231_000,
        "verdict": verdict,
    }


SEEDS = {"holds": 4, "total": 5}


def _rows(table: str) -> dict[str, list[str]]:
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()]
    return {row[0]: row[1:] for row in cells}


def test_table_quotes_each_metric_beside_the_published_value() -> None:
    rows = _rows(results_table({"env1": AGENT}, _selection(True), SEEDS))
    assert rows["env1 agent: mean steps to the reward"] == [
        "about 15 to 40",
        "9.50 (1.11x the optimal 8.56), 0.16 % time-outs",
    ]
    assert rows["encoder keeps neurons (coordinates)"] == ["0, 1, 6 (z, y, x)", "2, 5 (x, z)"]
    assert rows["η² of each kept neuron with its coordinate"][1] == "0.9991, 0.3000"
    resolution = rows["accuracy of each kept neuron alone at telling its coordinate's values apart"]
    assert resolution == ["0.9983, 0.9942, 1.0000", "0.9971, 0.5000"]
    assert rows["autoencoder's accuracy from the kept neurons alone (x, y, z)"][1] == "1.0000, 0.9877, 1.0000"
    assert rows["env1 decoder keeps neurons"] == ["x, y", "2, 4 (x, ?)"]  # 4 is not the encoder's: shown as ?
    assert rows["decoders' smooth-L1 loss"][1] == "0.312"
    assert rows["autoencoder BCE"][1] == "7.8e-04"
    assert rows["training steps per decoder"] == [
        "≈ 830,000",
        "299,000 (kept neurons final from step 231,000)",
    ]
    assert rows["all verdicts hold (seed 4)"] == ["yes", "yes"]
    assert rows["the result holds for"] == ["—", "4 of 5 seeds"]


def test_a_failed_verdict_is_marked() -> None:
    table = results_table({}, _selection(False), SEEDS)
    assert "| all verdicts hold (seed 4) | yes | **no** |" in table.splitlines()


def test_readme_quotes_the_generated_table_at_the_defaults() -> None:
    """The README's table is metrics/report.md verbatim, so its numbers are the committed metrics."""
    assert (ROOT / "metrics" / "report.md").read_text() in (ROOT / "README.md").read_text()


def test_readme_quotes_the_generated_seeds_table() -> None:
    """The README's table of every seed is metrics/robustness.md verbatim."""
    assert (ROOT / "metrics" / "robustness.md").read_text() in (ROOT / "README.md").read_text()
