"""Stage report: the published-vs-reproduced table (Markdown) from the pipeline's metrics.

Usage: ``python -m stages.report``. Reads metrics/policy/<env>.json, the first listed selection seed's
metrics/selection/seed<N>/verdict.json (the headline run) and metrics/robustness.json; writes
metrics/report.md (the README quotes it for the defaults; every experiment gets its own).
"""

from __future__ import annotations

from pathlib import Path

from scinet.atomic import atomic_write
from scinet.params import ParamsError, parse_env
from scinet.report import results_table
from scinet.seeds import parse_seeds
from stages.common import exit_on_bad_file, fail_on_bad_params, read_json, read_params
from stages.seeds import SeedFiles

REPORT = Path("metrics/report.md")
AGENT_KEYS = ("softmax", "optimal_mean")
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
    print(f"report: wrote {REPORT}")


if __name__ == "__main__":
    with exit_on_bad_file("report"):
        main()
