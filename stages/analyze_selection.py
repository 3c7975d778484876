"""Stage analyze_selection@<seed>: what one seed's selection model keeps and encodes; the paper's verdicts.

Usage: ``python -m stages.analyze_selection SEED``. Reads models/selection/seed<SEED>.pt and
metrics/selection/seed<SEED>/{training.json,curve.tsv}, writes metrics/selection/seed<SEED>/verdict.json
(the whole record: a plain output) and headline.json (the few numbers `dvc exp show` lists: the metrics).
"""

from __future__ import annotations

from scinet.analysis import COORDS, kept_settled_step, load_selection_model
from scinet.headline import selection_headline
from scinet.params import ParamsError, parse_env
from scinet.selection.params import parse_selection
from scinet.splits import reward_positions
from scinet.verdicts import selection_metrics
from stages.common import (
    exit_on_bad_file,
    fail_on_bad_params,
    read_json,
    read_params,
    read_tsv,
    write_metrics,
)
from stages.seeds import SeedFiles, made_by_item, seed_argument

HEADLINE = "headline.json"
"""Beside verdict.json. Named here, not in stages/seeds.py, which the training stages hash as a dependency."""


def main() -> None:
    seed = seed_argument("analyze_selection")
    raw = read_params()
    try:
        env = parse_env(raw.get("env"))
        parse_selection(raw.get("selection"), seed)  # the seed must be one params.yaml lists
    except ParamsError as err:
        fail_on_bad_params(err)
    files = SeedFiles(seed)
    model, objectives = load_selection_model(files.model)
    grid_size = env.objective(objectives[0]).grid_size

    decoder_selection = {
        name: model.decoders[k].selection.selectors.detach().tolist() for k, name in enumerate(objectives)
    }
    planes = {name: tuple(COORDS[a] for a in env.objective(name).plane_axes) for name in objectives}
    metrics = {"seed": seed}
    rewards = reward_positions([env.objective(name) for name in objectives], COORDS)
    metrics |= selection_metrics(
        model.encoder, model.autoencoder_decoder, decoder_selection, planes, grid_size, reward_at=rewards
    )
    training = read_json(files.training, ("final_losses", "steps_per_decoder"))
    metrics["final_losses"] = training["final_losses"]
    metrics["steps_per_decoder"] = training["steps_per_decoder"]
    metrics["kept_settled_at_step"] = kept_settled_step(read_tsv(files.curve, ("step",)))
    stage = f"analyze_selection@{seed}"
    record = made_by_item(raw, ["env"], "cpu", stage)
    write_metrics(files.verdict, metrics, record)
    write_metrics(files.verdict.with_name(HEADLINE), selection_headline(metrics), record)
    print(f"{stage}: verdict {'PASS' if metrics['verdict'] else 'FAIL'}")


if __name__ == "__main__":
    with exit_on_bad_file("analyze_selection"):
        main()
