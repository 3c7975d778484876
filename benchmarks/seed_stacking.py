"""Does training several selection seeds in one process pay on this machine? A measurement, not a trainer.

Run: ``python benchmarks/seed_stacking.py [--seeds 1 5] [--steps 200] [--threads 1 2]``.

K seeds' selection models are stacked parameter by parameter (``torch.func.stack_module_state``) and one
decoder step of all K is one vmapped forward pass, one backward pass of the summed losses and one AMSGrad
step over the stacked tensors. Adam is elementwise and each seed's loss depends only on its own slice, so
this is exactly K independent steps (what the fused schedule takes one seed at a time). The figure of merit
is decoder steps per second summed over the K seeds, against K = 1 run plainly.
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state

from scinet.selection.model import LossSettings, SelectionModel

BATCH, INPUT, LATENT, ACTIONS = 200, 36, 8, 6


def batches(seeds: int, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Random one-hot cells and actions, targets and noise: (seeds, BATCH, ...) each."""
    cells = torch.randint(0, 12, (seeds, BATCH, 3), generator=generator)
    percepts = torch.zeros(seeds, BATCH, INPUT)
    for axis in range(3):
        percepts.scatter_(2, (cells[..., axis] + 12 * axis).unsqueeze(-1), 1.0)
    actions = nn.functional.one_hot(torch.randint(0, ACTIONS, (seeds, BATCH), generator=generator), ACTIONS)
    targets = 10 * torch.rand(seeds, BATCH, generator=generator)
    return percepts, actions.float(), targets, torch.randn(seeds, BATCH, LATENT, generator=generator)


def plain_rate(steps: int) -> float:
    """Decoder steps/s of one model stepped as the fused schedule does (decoders in turn)."""
    model, settings, generator = SelectionModel(), LossSettings(bce_from_logits=True), torch.Generator()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-5, amsgrad=True)
    data = [b[0] for b in batches(1, generator)]
    started = time.perf_counter()
    for step in range(steps):
        loss = model.loss(step % 3, *data, settings)
        optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        optimizer.step()
    return steps / (time.perf_counter() - started)


def stacked_rate(seeds: int, steps: int) -> float:
    """Decoder steps/s summed over ``seeds`` stacked models, one vmapped step of all of them at a time."""
    models = [SelectionModel() for _ in range(seeds)]
    params, buffers = stack_module_state(models)
    params = {name: nn.Parameter(p) for name, p in params.items()}
    base = copy.deepcopy(models[0]).to("meta")
    generator = torch.Generator()
    optimizer = torch.optim.Adam(params.values(), lr=1e-4, weight_decay=1e-5, amsgrad=True)
    data = batches(seeds, generator)

    def base_loss(p: dict[str, Tensor], b: dict[str, Tensor], k: int, *batch: Tensor) -> Tensor:
        """Seed-local loss of decoder k, the paper's weights (SelectionModel.loss, written out for vmap)."""
        percepts, actions, targets, eps = batch
        out = functional_call(base, (p, b), (k, percepts, actions, eps))
        smooth_l1 = nn.functional.smooth_l1_loss(out.prediction, targets)
        bce = nn.functional.binary_cross_entropy_with_logits(out.reconstruction_logits, percepts)
        decoder_s = p[f"decoders.{k}.selection.selectors"].sum()
        return smooth_l1 - 0.04 * decoder_s - 0.02 * p["encoder.selection.selectors"].sum() + 10.0 * bce

    steppers = [torch.vmap(lambda p, b, *batch, k=k: base_loss(p, b, k, *batch)) for k in range(3)]
    started = time.perf_counter()
    for step in range(steps):
        losses = steppers[step % 3](params, buffers, *data)
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        optimizer.step()
    return seeds * steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"torch {torch.__version__}, batch {BATCH}, {args.steps} steps per measurement")
    for threads in args.threads:
        torch.set_num_threads(threads)
        plain_rate(20)  # warm-up
        print(f"{threads} thread(s): one model, plain: {plain_rate(args.steps):7.1f} decoder steps/s")
        for seeds in args.seeds:
            rate = stacked_rate(seeds, args.steps)
            print(
                f"{threads} thread(s): {seeds} stacked seeds: {rate:7.1f} decoder steps/s summed, "
                f"{rate / seeds:6.1f} per seed"
            )


if __name__ == "__main__":
    main()
