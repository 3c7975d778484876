"""Stage report: the published-vs-reproduced table (Markdown) from the pipeline's metrics.

Usage: ``python -m stages.report``. Reads metrics/policy/<env>.json and metrics/selection.json, writes
metrics/report.md (the README quotes it for the defaults; every experiment gets its own).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from scinet.params import ParamsError, parse_env
from scinet.report import results_table
from stages.common import fail_on_bad_params, read_params

REPORT = Path("metrics/report.md")


def main() -> None:
    try:
        env = parse_env(read_params().get("env"))
    except ParamsError as err:
        fail_on_bad_params(err)
    agents = {name: json.loads(Path(f"metrics/policy/{name}.json").read_text()) for name in env.objectives}
    selection = json.loads(Path("metrics/selection.json").read_text())
    tmp = REPORT.with_suffix(".md.tmp")
    tmp.write_text(results_table(agents, selection))
    os.replace(tmp, REPORT)
    print(f"report: wrote {REPORT}")


if __name__ == "__main__":
    main()
