"""Stage evaluate: what the trained selection model's latent neurons encode, and the paper's verdicts.

Usage: ``python -m stages.evaluate``. Reads models/selection/model.pt and metrics/selection/{training.json,
curve.tsv}, writes metrics/selection.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from scinet.analysis import COORDS, kept_settled_step, load_selection_model, selection_metrics
from scinet.params import ParamsError, parse_env
from stages.common import fail_on_bad_params, made_by, read_params, write_metrics


def main() -> None:
    raw = read_params()
    try:
        env = parse_env(raw.get("env"))
    except ParamsError as err:
        fail_on_bad_params(err)
    model, objectives = load_selection_model(Path("models/selection/model.pt"))
    grid_size = env.objective(objectives[0]).grid_size

    decoder_selection = {
        name: model.decoders[k].selection.selectors.detach().tolist() for k, name in enumerate(objectives)
    }
    planes = {name: tuple(COORDS[a] for a in env.objective(name).plane_axes) for name in objectives}
    metrics = selection_metrics(model.encoder, decoder_selection, planes, grid_size)
    training = json.loads(Path("metrics/selection/training.json").read_text())
    metrics["final_losses"] = training["final_losses"]
    metrics["steps_per_decoder"] = training["steps_per_decoder"]
    curve = pd.read_csv("metrics/selection/curve.tsv", sep="\t")
    metrics["kept_settled_at_step"] = kept_settled_step(curve)
    write_metrics(Path("metrics/selection.json"), metrics, made_by(raw, ["env"], "cpu"))
    print(f"evaluate: verdict {'PASS' if metrics['verdict'] else 'FAIL'}")


if __name__ == "__main__":
    main()
