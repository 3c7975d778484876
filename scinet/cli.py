"""Command line: ``python -m scinet evaluate ...``, ``python -m scinet analyze-encoder ...``.

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

import yaml

from scinet.errors import ScinetError
from scinet.params import EnvParams, parse_env

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
    evaluate.add_argument("--episodes", type=_positive_int, default=20_000)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--beta", type=float, default=0.5, help="softmax inverse temperature (default 0.5)")
    evaluate.add_argument("--greedy", action="store_true", help="always take the action with the largest h")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--params", type=Path, default=Path("params.yaml"), help="defines the objectives")
    evaluate.set_defaults(run=_evaluate)

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
    return parser


def _evaluate(args: argparse.Namespace) -> int:
    # Imported here so that `--help` and argument errors stay fast (torch takes a second to import).
    from scinet.evaluation import evaluate_agent
    from scinet.nets import CheckpointError, load_dps_agent

    config = load_env_params(args.params).objective(args.objective)
    if not args.agent.is_file():
        raise UsageError(f"agent checkpoint not found: {args.agent}")
    try:
        agent = load_dps_agent(args.agent, input_dim=config.obs_size)
    except CheckpointError as err:
        raise UsageError(f"not a DPS agent with {config.obs_size} inputs: {err}") from None
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
