"""Stage evaluate: what the trained selection model's latent neurons encode, and the paper's verdicts.

Usage: ``python -m stages.evaluate``. Reads models/selection/model.pt and metrics/selection/{training.json,
curve.tsv}, writes metrics/selection.json.
"""

from __future__ import annotations

from pathlib import Path

from scinet.analysis import COORDS, kept_settled_step, load_selection_model
from scinet.params import ParamsError, parse_env
from scinet.verdicts import selection_metrics
from stages.common import (
    exit_on_bad_file,
    fail_on_bad_params,
    made_by,
    read_json,
    read_params,
    read_tsv,
    write_metrics,
)


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
    metrics = selection_metrics(
        model.encoder, model.autoencoder_decoder, decoder_selection, planes, grid_size
    )
    training = read_json(Path("metrics/selection/training.json"), ("final_losses", "steps_per_decoder"))
    metrics["final_losses"] = training["final_losses"]
    metrics["steps_per_decoder"] = training["steps_per_decoder"]
    curve = read_tsv(Path("metrics/selection/curve.tsv"), ("step",))
    metrics["kept_settled_at_step"] = kept_settled_step(curve)
    write_metrics(Path("metrics/selection.json"), metrics, made_by(raw, ["env"], "cpu"))
    print(f"evaluate: verdict {'PASS' if metrics['verdict'] else 'FAIL'}")


if __name__ == "__main__":
    with exit_on_bad_file("evaluate"):
        main()
