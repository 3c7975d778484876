"""Stage figures: the paper's Section 6 figures as PNG, ours beside the authors' published logs.

Usage: ``python -m stages.figures``. Reads metrics/policy/<env>_curve.tsv and <env>.json, the first listed
selection seed's curve, verdict and model (metrics/selection/seed<N>/, models/selection/seed<N>.pt: the
headline run), data/zenodo/ (its tables only when status.json says they are available) and the trained
agents models/policy/<env>.pt, which play a few episodes at a fixed seed; writes plots/learning_curves.png,
plots/selection_losses.png, plots/selection_values.png, plots/latent_responses.png and
plots/trajectories.png.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scinet import figures, trajectories
from scinet.analysis import latent_over_grid, load_selection_model
from scinet.params import ParamsError, parse_env, parse_policy
from scinet.seeds import parse_seeds
from stages.common import exit_on_bad_file, fail_on_bad_params, read_json, read_params, read_tsv
from stages.seeds import SeedFiles

PLOTS = Path("plots")
ZENODO = Path("data/zenodo")
CURVE_COLUMNS = ("episodes", "mean_steps")
AGENT_KEYS = ("softmax", "optimal_mean")


def published_tables() -> dict[str, pd.DataFrame | None]:
    """The Zenodo tables, or None for each when the record was unavailable (offline) or lacks that log.

    Gated on status.json, not on the files' presence, so stale tables from an earlier fetch are never drawn
    after a fetch that failed.
    """
    status_file = ZENODO / "status.json"
    status = read_json(status_file) if status_file.is_file() else {}
    tables: dict[str, pd.DataFrame | None] = {}
    for name in ("episodes", "losses", "selection"):
        path = ZENODO / f"{name}.tsv"
        tables[name] = read_tsv(path) if status.get("available") and path.is_file() else None
    if not status.get("available"):
        print(f"figures: published data unavailable ({status.get('reason', 'no data/zenodo/status.json')})")
    return tables


def main() -> None:
    raw = read_params()
    try:
        env = parse_env(raw.get("env"))
        beta = parse_policy(raw.get("policy")).beta
        headline = SeedFiles(parse_seeds(raw.get("selection"))[0])
    except ParamsError as err:
        fail_on_bad_params(err)
    published = published_tables()

    names = list(env.objectives)
    curves = {name: read_tsv(Path(f"metrics/policy/{name}_curve.tsv"), CURVE_COLUMNS) for name in names}
    policy = {name: read_json(Path(f"metrics/policy/{name}.json"), AGENT_KEYS) for name in names}
    figures.learning_curves(
        curves,
        {name: float(policy[name]["optimal_mean"]) for name in names},
        PLOTS / "learning_curves.png",
        published["episodes"],
        final={name: float(policy[name]["softmax"]["mean"]) for name in names},
    )

    model, objectives = load_selection_model(headline.model)  # decoder k: objectives[k]
    selection = read_json(headline.verdict, ("encoder", "decoders"))
    encoder = selection["encoder"]
    encodes = {int(k): v for k, v in encoder["encodes"].items()}
    curve = read_tsv(headline.curve, ("step",))
    figures.selection_losses(curve, objectives, PLOTS / "selection_losses.png", published["losses"])
    planes = {name: selection["decoders"][name]["plane"] for name in objectives}
    figures.selection_values(
        curve, objectives, encodes, PLOTS / "selection_values.png", published["selection"], planes
    )

    grid_size = env.objective(objectives[0]).grid_size
    eta2 = {int(k): v for k, v in encoder["eta2"].items()}
    latent = latent_over_grid(model.encoder, grid_size)
    figures.latent_responses(latent, grid_size, encodes, eta2, PLOTS / "latent_responses.png")

    agents = {}
    for name in names:
        world = env.objective(name)
        agents[name] = (trajectories.load_agent(Path(f"models/policy/{name}.pt"), name, world), world)
    trajectories.trajectory_panels(trajectories.play_agents(agents, beta), PLOTS / "trajectories.png")
    print(f"figures: wrote 5 PNGs to {PLOTS}/")


if __name__ == "__main__":
    with exit_on_bad_file("figures"):
        main()
