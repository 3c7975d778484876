"""Stage train_policy@<objective>: train one DPS agent, evaluate it, write model, curve and metrics.

Usage: ``python -m stages.train_policy env1``. SIGINT/SIGTERM leave a checkpoint in checkpoints/policy/ that
the next run of the stage resumes from; the stage then exits non-zero so that DVC records nothing. The
checkpoint outlives the training until every output is written: a stop during the evaluation loses no
training, and the next run goes straight to the evaluation.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.contrib.logging import logging_redirect_tqdm

from scinet.envs import SubGridConfig
from scinet.evaluation import evaluate_agent
from scinet.nets import DPSNetwork, save_checkpoint
from scinet.params import ParamsError, parse_env, parse_policy
from scinet.policy.config import PolicyConfig
from scinet.policy.training import TrainingResult, train_policy
from scinet.runtime import run_device
from stages.common import (
    exit_on_bad_file,
    exit_on_stop,
    fail_on_bad_params,
    made_by,
    read_params,
    write_metrics,
)


def main(objective: str) -> None:
    raw = read_params()
    try:
        env = parse_env(raw.get("env")).objective(objective)
        policy = parse_policy(raw.get("policy"))
    except ParamsError as err:
        fail_on_bad_params(err)
    logging.basicConfig(level=logging.INFO, format="train_policy: %(message)s")

    keys = ["env.grid_size", "env.max_steps", f"env.objectives.{objective}", "policy"]  # as in dvc.yaml
    record = made_by(raw, keys, str(run_device(policy.mode, policy.device)))
    checkpoint = Path(f"checkpoints/policy/{objective}.pt")
    with exit_on_stop("train_policy", resumable=True, checkpoint=checkpoint), logging_redirect_tqdm():
        result = train_policy(env, policy, checkpoint, show_progress=True, keep_checkpoint=True)
        _write_outputs(objective, env, policy, result, record)
        checkpoint.unlink()


def _write_outputs(
    objective: str, env: SubGridConfig, policy: PolicyConfig, result: TrainingResult, record: dict[str, Any]
) -> None:
    """The model, its evaluation (softmax and greedy path lengths) and the learning curve."""
    stats = result.stats
    wall_seconds = stats.wall_seconds  # training only, across resumes; evaluation is not counted
    agent = DPSNetwork(env.obs_size, hidden=policy.hidden)
    agent.load_state_dict(result.weights)
    agent.eval()
    save_checkpoint(
        Path(f"models/policy/{objective}.pt"), "dps-agent", agent, objective=objective,
        hidden=list(policy.hidden), episodes=stats.episodes, provenance=record,
    )  # fmt: skip
    logging.info("evaluating the agent on %d episodes", policy.eval_episodes)
    softmax = evaluate_agent(agent, env, policy.eval_episodes, seed=policy.seed, beta=policy.beta)
    greedy = evaluate_agent(agent, env, policy.eval_episodes, seed=policy.seed, greedy=True)

    curve = Path(f"metrics/policy/{objective}_curve.tsv")
    curve.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(stats.curve_rows()).to_csv(curve, sep="\t", index=False)
    write_metrics(
        Path(f"metrics/policy/{objective}.json"),
        {
            "softmax": _path_metrics(softmax),
            "greedy": _path_metrics(greedy),
            "optimal_mean": round(softmax.optimal_mean, 4),
            "eval_episodes": policy.eval_episodes,
            "episodes": stats.episodes,
            "env_steps": stats.env_steps,
            "updates": stats.updates,
            "env_steps_per_second": round(stats.env_steps / wall_seconds),
            "wall_seconds": round(wall_seconds, 1),
            "mode": policy.mode,
        },
        record,
    )


def _path_metrics(stats) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {
        "mean": round(stats.mean, 3),
        "median": stats.median,
        "timeouts": round(stats.timeouts, 5),
        "ratio_to_optimal": round(stats.mean / stats.optimal_mean, 3),
    }


if __name__ == "__main__":
    with exit_on_bad_file("train_policy"):
        main(sys.argv[1])
