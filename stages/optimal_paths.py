"""Stage optimal_paths: the exact optimal mean path length of every objective (the agents' yardstick)."""

from __future__ import annotations

from pathlib import Path

from scinet.envs import optimal_mean_path
from scinet.params import ParamsError, parse_env
from stages.common import fail_on_bad_params, read_params, write_json

OUT = Path("metrics/optimal_paths.json")


def main() -> None:
    try:
        env = parse_env(read_params().get("env"))
    except ParamsError as err:
        fail_on_bad_params(err)
    write_json(
        OUT,
        {
            name: {"optimal_mean_path": round(optimal_mean_path(config), 4)}
            for name, config in env.objectives.items()
        },
    )


if __name__ == "__main__":
    main()
