"""Stage robustness: does the paper's result hold on every seed of params.yaml's ``selection.seeds``?

Usage: ``python -m stages.robustness``. Reads metrics/selection/seed<N>/{verdict.json,curve.tsv} for every
listed seed; writes metrics/robustness.json (one record per seed, ``holds`` and ``total``), the same as a
Markdown table in metrics/robustness.md (the README quotes it) and plots/seed_selection_values.png (every
seed's encoder selection values over training).
"""

from __future__ import annotations

from pathlib import Path

from scinet import figures
from scinet.atomic import atomic_write
from scinet.errors import CheckpointError, ParamsError
from scinet.robustness import robustness, seed_record, seeds_table
from scinet.seeds import parse_seeds
from stages.common import (
    exit_on_bad_file,
    fail_on_bad_params,
    made_by,
    read_json,
    read_params,
    read_tsv,
    write_metrics,
)
from stages.seeds import SeedFiles

OUT = Path("metrics/robustness.json")
TABLE = Path("metrics/robustness.md")
FIGURE = Path("plots/seed_selection_values.png")
VERDICT_KEYS = ("seed", "encoder", "decoders", "final_losses", "steps_per_decoder", "verdict")


def main() -> None:
    raw = read_params()
    try:
        seeds = parse_seeds(raw.get("selection"))
    except ParamsError as err:
        fail_on_bad_params(err)
    records, curves = [], {}
    for seed in seeds:
        files = SeedFiles(seed)
        verdict = read_json(files.verdict, VERDICT_KEYS)
        if verdict["seed"] != seed:
            raise CheckpointError.at(
                files.verdict, f"holds the verdict of seed {verdict['seed']}, not {seed}"
            )
        try:
            records.append(seed_record(verdict))
        except (KeyError, TypeError, ValueError) as exc:  # an entry below the top level missing or mistyped
            problem = f"has a missing or malformed entry ({type(exc).__name__}: {exc})"
            raise CheckpointError.at(files.verdict, problem) from exc
        curves[seed] = read_tsv(files.curve, ("step",))
    summary = robustness(records)
    write_metrics(OUT, summary, made_by(raw, ["selection.seeds"], "cpu"))
    with atomic_write(TABLE) as handle:
        handle.write(seeds_table(summary))
    figures.seed_selection_values(curves, {r["seed"]: r["holds"] for r in records}, FIGURE)
    print(f"robustness: the result holds for {summary['holds']} of {summary['total']} seeds")


if __name__ == "__main__":
    with exit_on_bad_file("robustness"):
        main()
