"""``python -m scinet sweep``: its arguments, and the glue from them to a running sweep."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from scinet.sweep import SweepError

DESCRIPTION = """\
Runs stage items of the pipeline as jobs of a distributed engine (submitit): here, N at a time
(--executor local), or on a SLURM cluster (--executor slurm). One job per stage item (e.g.
train_selection@3, with what it needs upstream) and per point of --grid; no stage item means the whole
pipeline. Each job clones the current commit (which must be pushed), runs `dvc repro --pull` (`dvc exp run
--pull -S ...` under overrides), and pushes the outputs and the run-cache of what it ran to the DVC remote;
an item that the run-cache already holds is restored, not run again. Afterwards, in this clone,
`dvc pull --run-cache --allow-missing && dvc repro --pull` restores every result without recomputing it.
"""


def add_sweep_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], positive_int: Callable[[str], int]
) -> None:
    """Registers ``sweep`` on the command line's sub-commands, with its type for counts."""
    sweep = commands.add_parser(
        "sweep",
        help="run stage items (and/or a parameter grid) as jobs, here or on SLURM, through the DVC remote",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sweep.add_argument("targets", nargs="*", metavar="STAGE", help="stage items, e.g. train_selection@3")
    what = sweep.add_argument_group("what each job runs")
    what.add_argument(
        "-S",
        "--set-param",
        dest="overrides",
        action="append",
        metavar="KEY=VALUE",
        help="a parameter for every job, as `dvc exp run -S` takes it (repeatable)",
    )
    what.add_argument(
        "--grid",
        action="append",
        metavar="KEY=V1,V2,...",
        help="one job per value (per combination, repeated); commas inside [...] stay in a value",
    )
    engine = sweep.add_argument_group("where the jobs run")
    engine.add_argument("--executor", choices=("local", "slurm"), default="local", help="default: local")
    engine.add_argument(
        "-j",
        "--jobs",
        type=positive_int,
        metavar="N",
        help="jobs running at a time (default: 1 locally; on SLURM, as many as it schedules)",
    )
    engine.add_argument(
        "--time", type=positive_int, default=240, metavar="MIN", help="time limit per job (default: 240)"
    )
    engine.add_argument("--cpus-per-job", type=positive_int, metavar="N", help="SLURM --cpus-per-task")
    engine.add_argument("--gpus-per-job", type=positive_int, metavar="N", help="SLURM --gpus-per-node")
    engine.add_argument("--mem-gb", type=float, metavar="GB", help="SLURM --mem")
    engine.add_argument("--partition", help="SLURM --partition")
    engine.add_argument(
        "--slurm-arg",
        action="append",
        metavar="KEY=VALUE",
        help="any other #SBATCH option, passed through (e.g. account=phys, qos=long; repeatable)",
    )
    engine.add_argument("--setup", action="append", metavar="LINE", help="shell line before each SLURM job")
    engine.add_argument(
        "--no-wait", action="store_true", help="SLURM only: submit, print the job ids and logs, and exit"
    )
    remotes = sweep.add_argument_group("remotes")
    remotes.add_argument("--git-remote", default="origin", help="where jobs clone from (default: origin)")
    remotes.add_argument("--remote", help="the shared DVC remote (default: the default remote)")
    sweep.set_defaults(run=run_sweep_command)


def run_sweep_command(args: argparse.Namespace) -> int:
    """Checks what can be checked here, then submits (:func:`scinet.sweep.driver.run_sweep`)."""
    from scinet.sweep.driver import Resources, run_sweep
    from scinet.sweep.plan import plan_jobs
    from scinet.sweep.source import sweep_source

    if args.no_wait and args.executor == "local":
        raise SweepError("--no-wait is for --executor slurm: local jobs need this process to start them")
    jobs = plan_jobs(args.targets, args.overrides or [], args.grid or [])
    slurm_args = tuple(_key_value(text, "--slurm-arg") for text in args.slurm_arg or [])
    resources = Resources(
        args.time,
        args.cpus_per_job,
        args.gpus_per_job,
        args.mem_gb,
        args.partition,
        slurm_args,
        tuple(args.setup or []),
    )
    repo = Path.cwd()
    source = sweep_source(repo, args.git_remote, args.remote)
    parallel = args.jobs or (1 if args.executor == "local" else len(jobs))
    return run_sweep(repo, jobs, source, args.executor, resources, parallel, wait=not args.no_wait)


def _key_value(text: str, option: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise SweepError(f"{option} {text!r}: expected KEY=VALUE")
    return key, value
