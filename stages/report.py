"""Stage report: the published-vs-reproduced table (Markdown) and the agents' headline metrics.

Usage: ``python -m stages.report``. Reads metrics/policy/<env>.json, the first listed selection seed's
metrics/selection/seed<N>/verdict.json (the headline run) and metrics/robustness.json; writes
metrics/report.md (the README quotes it for the defaults; every experiment gets its own) and
metrics/policy/headline.json, the agents' few `dvc exp show` columns. The headline is written here, not by
train_policy, so that choosing the columns never re-runs a training.
"""

from __future__ import annotations

from pathlib import Path

from scinet.atomic import atomic_write
from scinet.headline import policy_headline
from scinet.params import ParamsError, parse_env
from scinet.report import results_table
from scinet.seeds import parse_seeds
from stages.common import (
    exit_on_bad_file,
    fail_on_bad_params,
    made_by,
    read_json,
    read_params,
    write_metrics,
)
from stages.seeds import SeedFiles

REPORT = Path("metrics/report.md")
HEADLINE = Path("metrics/policy/headline.json")
AGENT_KEYS = ("softmax", "greedy", "optimal_mean")
SELECTION_KEYS = ("seed", "encoder", "decoders", "final_losses", "steps_per_decoder", "verdict")


def main() -> None:
    raw = read_params()
    try:
        env = parse_env(raw.get("env"))
        headline = SeedFiles(parse_seeds(raw.get("selection"))[0])
    except ParamsError as err:
        fail_on_bad_params(err)
    agents = {name: read_json(Path(f"metrics/policy/{name}.json"), AGENT_KEYS) for name in env.objectives}
    selection = read_json(headline.verdict, SELECTION_KEYS)
    seeds = read_json(Path("metrics/robustness.json"), ("holds", "total"))
    with atomic_write(REPORT) as handle:
        handle.write(results_table(agents, selection, seeds))
    write_metrics(HEADLINE, policy_headline(agents), made_by(raw, ["env", "selection.seeds"], "cpu"))
    print(f"report: wrote {REPORT} and {HEADLINE}")


if __name__ == "__main__":
    with exit_on_bad_file("report"):
        main()
