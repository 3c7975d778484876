"""Command line: ``python -m scinet evaluate ...``, ``play ...``, ``analyze-encoder ...``, ``sweep ...``.

Like a stage script, this is glue: it reads the params file named on the command line, turns user mistakes
(a missing file, an unknown objective, a checkpoint of the wrong shape, kind or a damaged one) into one error
line and exit code 2, and calls the library.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from scinet.errors import ScinetError
from scinet.params import EnvParams, parse_env
from scinet.sweep.command import add_sweep_command

if TYPE_CHECKING:
    from scinet.nets import DPSNetwork

EXIT_USAGE = 2


class UsageError(Exception):
    """A mistake of the user's that deserves one line, not a traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (UsageError, ScinetError) as err:
        print(f"scinet {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scinet", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    evaluate = commands.add_parser("evaluate", help="play a trained DPS agent and report its path lengths")
    evaluate.add_argument("--agent", required=True, type=Path, help="checkpoint: the authors' .pth or ours")
    evaluate.add_argument("--objective", required=True, help="objective name from the params file, e.g. env1")
    evaluate.add_argument(
        "--episodes", type=_positive_int, default=20_000, help="episodes to play (default: %(default)s)"
    )
    evaluate.add_argument(
        "--seed", type=int, default=0, help="seeds starts and choices (default: %(default)s)"
    )
    evaluate.add_argument(
        "--beta", type=float, default=0.5, help="softmax inverse temperature (default: %(default)s)"
    )
    evaluate.add_argument(
        "--greedy", action="store_true", help="always take the action with the largest h (default: softmax)"
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument(
        "--params",
        type=Path,
        default=Path("params.yaml"),
        help="defines the objectives (default: %(default)s)",
    )
    evaluate.set_defaults(run=_evaluate)

    play = commands.add_parser(
        "play",
        help="watch a trained DPS agent: its episodes as an animated GIF",
        description="Plays a trained DPS agent in the world of its objective and draws every step (the "
        "plane that matters, the agent, the reward, and a strip for the axis the objective ignores) into "
        "an animated GIF, without a display.",
    )
    play.add_argument("--agent", required=True, type=Path, help="checkpoint: ours, or the authors' .pth")
    play.add_argument(
        "--objective",
        help="objective name from the params file (default: the one the checkpoint records, which it must "
        "match; required for the authors' checkpoints, which record none)",
    )
    play.add_argument(
        "--episodes", type=_positive_int, default=3, help="episodes to play (default: %(default)s)"
    )
    play.add_argument(
        "--gif",
        type=Path,
        help="where to write the animation (default: AGENT's name with .gif, in the current folder)",
    )
    play.add_argument("--seed", type=int, default=0, help="seeds starts and choices (default: %(default)s)")
    play.add_argument(
        "--beta", type=float, default=0.5, help="softmax inverse temperature (default: %(default)s)"
    )
    play.add_argument(
        "--greedy", action="store_true", help="always take the action with the largest h (default: softmax)"
    )
    play.add_argument(
        "--params",
        type=Path,
        default=Path("params.yaml"),
        help="defines the objectives (default: %(default)s)",
    )
    play.set_defaults(run=_play)

    analyze = commands.add_parser(
        "analyze-encoder",
        help="which latent neurons an encoder keeps, which coordinate each encodes and how finely",
        description="Per latent neuron: selection value, eta2 with x, y and z, and for each kept neuron the "
        "accuracy of reading its coordinate back by the nearest level mean (resolution) and the smallest gap "
        "between level means in within-level standard deviations (gap/sd); then the autoencoder decoder's "
        "accuracy per coordinate from the kept neurons alone, and the paper's encoder verdict.",
    )
    analyze.add_argument(
        "--checkpoint",
        required=True,
        type=Path,
        help="the authors' ae_select.pth or ours (encoder and autoencoder decoder)",
    )
    analyze.add_argument("--json", action="store_true", help="print one JSON object")
    analyze.set_defaults(run=_analyze_encoder)

    add_sweep_command(commands, _positive_int)
    return parser


def _evaluate(args: argparse.Namespace) -> int:
    # Imported here so that `--help` and argument errors stay fast (torch takes a second to import).
    from scinet.evaluation import evaluate_agent

    config = load_env_params(args.params).objective(args.objective)
    if not args.agent.is_file():
        raise UsageError(f"agent checkpoint not found: {args.agent}")
    _agent_objective(args.agent, args.objective)
    agent = _load_agent(args.agent, config.obs_size)
    stats = evaluate_agent(agent, config, args.episodes, args.seed, beta=args.beta, greedy=args.greedy)
    if args.json:
        print(json.dumps(stats.as_dict()))
        return 0
    policy = "greedy" if args.greedy else f"softmax, beta {args.beta:g}"
    print(f"agent        {args.agent}")
    print(f"objective    {args.objective} (plane {list(config.plane)}, reward {list(config.reward_pos)})")
    print(f"policy       {policy}")
    print(f"episodes     {stats.episodes}")
    print(f"mean path    {stats.mean:.2f} steps ({stats.mean / stats.optimal_mean:.2f}x optimal)")
    print(f"median path  {stats.median:g} steps")
    print(f"optimal mean {stats.optimal_mean:.4f} steps")
    print(f"time-outs    {100 * stats.timeouts:.2f} % (cut at {config.max_steps} steps)")
    return 0


def _play(args: argparse.Namespace) -> int:
    from scinet.play import play_episodes, write_gif

    if not args.agent.is_file():
        raise UsageError(f"agent checkpoint not found: {args.agent}")
    objective = _agent_objective(args.agent, args.objective)
    config = load_env_params(args.params).objective(objective)
    agent = _load_agent(args.agent, config.obs_size)
    episodes = play_episodes(agent, config, args.episodes, args.seed, beta=args.beta, greedy=args.greedy)
    gif = args.gif or Path(args.agent.with_suffix(".gif").name)
    frames = write_gif(gif, episodes, config, title=objective)
    print(f"agent      {args.agent}")
    print(f"objective  {objective} (plane {list(config.plane)}, reward {list(config.reward_pos)})")
    print(f"policy     {'greedy' if args.greedy else f'softmax, beta {args.beta:g}'}")
    for number, episode in enumerate(episodes, 1):
        print(f"episode {number}  {episode.outcome}")
    print(f"wrote {gif} ({frames} frames)")
    return 0


def _agent_objective(agent: Path, requested: str | None) -> str:
    """The objective the checkpoint records; a different ``--objective`` is an error, not a wrong world.

    An agent plays any world of its size, and in another plane it only wanders: its path lengths (or its
    GIF) would look like a bad agent rather than like a wrong command.
    """
    from scinet.nets import dps_agent_objective

    trained = dps_agent_objective(agent)
    if trained is not None and requested not in (None, trained):
        raise UsageError(
            f"{agent} was trained for objective {trained}, not {requested}: "
            f"omit --objective or pass {trained}"
        )
    if trained is None and requested is None:
        raise UsageError(
            f"{agent} does not record its objective (the authors' checkpoints do not): pass --objective"
        )
    return requested or trained  # type: ignore[return-value]


def _load_agent(path: Path, obs_size: int) -> DPSNetwork:
    from scinet.nets import CheckpointError, load_dps_agent

    try:
        return load_dps_agent(path, input_dim=obs_size)
    except CheckpointError as err:
        raise UsageError(f"not a DPS agent with {obs_size} inputs: {err}") from None


def _analyze_encoder(args: argparse.Namespace) -> int:
    from scinet.analysis import COORDS, analyze_encoder, load_autoencoder_decoder, load_encoder
    from scinet.nets import CheckpointError
    from scinet.verdicts import encoder_verdict

    if not args.checkpoint.is_file():
        raise UsageError(f"encoder checkpoint not found: {args.checkpoint}")
    try:
        encoder = load_encoder(args.checkpoint)
    except CheckpointError as err:
        raise UsageError(f"not a checkpoint of a 36 -> 8 encoder: {err}") from None
    try:
        decoder = load_autoencoder_decoder(args.checkpoint)
    except CheckpointError as err:
        raise UsageError(f"not a checkpoint of an 8 -> 36 autoencoder decoder: {err}") from None
    report = analyze_encoder(encoder, decoder)
    verdict = encoder_verdict(report)
    if args.json:
        print(json.dumps({**report.as_dict(), "verdict": verdict.as_dict()}))
        return 0
    print(f"checkpoint {args.checkpoint}")
    eta2_header = "  ".join(f"eta2 {c}" for c in COORDS)
    print(f"neuron  selection  kept  {eta2_header}  encodes  resolution  gap/sd")
    for i, value in enumerate(report.selection):
        kept = "yes" if i in report.kept else "no"
        scores = "  ".join(f"{report.eta2[i][c]:6.4f}" for c in COORDS)
        resolution = report.resolution.get(i)
        resolved = (
            f"{resolution.accuracy:10.4f}  {resolution.gap_ratio:6.2f}"
            if resolution
            else f"{'-':>10}  {'-':>6}"
        )
        print(f"{i:6d}  {value:9.2f}  {kept:>4}  {scores}  {report.encodes.get(i, '-'):>7}  {resolved}")
    rebuilt = "  ".join(f"{c} {report.reconstruction[c]:.4f}" for c in COORDS)
    print(f"reconstruction from the kept neurons alone: {rebuilt}")
    print(f"verdict    {'PASS' if verdict else 'FAIL'}: {verdict.reason}")
    return 0


def load_env_params(path: Path) -> EnvParams:
    """Reads the ``env`` section of a params file (params.yaml by default)."""
    if not path.is_file():
        raise UsageError(f"params file not found: {path} (run from the repository root or pass --params)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise UsageError(f"{path} is not valid YAML: {err}") from None
    if not isinstance(raw, dict) or "env" not in raw:
        raise UsageError(f"{path} has no 'env' section")
    return parse_env(raw["env"])


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value
