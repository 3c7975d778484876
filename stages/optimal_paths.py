"""Stage optimal_paths: the exact optimal mean path length of every objective (the agents' yardstick)."""

from __future__ import annotations

from pathlib import Path

from scinet.envs import optimal_mean_path
from scinet.params import ParamsError, parse_env
from stages.common import fail_on_bad_params, made_by, read_params, write_metrics

OUT = Path("metrics/optimal_paths.json")


def main() -> None:
    raw = read_params()
    try:
        env = parse_env(raw.get("env"))
    except ParamsError as err:
        fail_on_bad_params(err)
    paths = {
        name: {"optimal_mean_path": round(optimal_mean_path(c), 4)} for name, c in env.objectives.items()
    }
    write_metrics(OUT, paths, made_by(raw, ["env"], "cpu"))


if __name__ == "__main__":
    main()
