"""Serial mode: every role in one process, one after the other; deterministic for a seed.

The workers' environment batches take turns; after each batch's step its experiences go straight into the
same batch assembler and learner as in async mode, so both modes apply the same learning rule. Useful for
tests, debugging and small machines.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
from torch import Tensor

from scinet.policy.context import RunContext
from scinet.policy.learner import BatchAssembler
from scinet.policy.rollout import Rollout
from scinet.ps.update import DPSLearner
from scinet.sampling.divergence import require_finite_loss
from scinet.sampling.progress import ProgressBar
from scinet.sampling.sampler import Sampler
from scinet.sampling.snapshots import to_cpu


def run_serial(run: RunContext) -> tuple[dict[str, Tensor], list[dict[str, Any]]]:
    """Trains until the episode budget is spent; returns the weights and the optimiser's state."""
    env, config, net, stats = run.env, run.config, run.net, run.stats
    device = torch.device("cpu")
    learner = DPSLearner(net, env.grid_size, config.learning_rate, config.weight_decay, device)
    if run.optimizers and run.optimizers[0] is not None:
        learner.optimizer.load_state_dict(run.optimizers[0])
    sampler = Sampler(net, env.grid_size, partial(Rollout.for_config, env, config), run.seeds).serial(stats)
    assembler = BatchAssembler(config.batch_size)
    progress = ProgressBar(config.episodes, stats.episodes, "ep", run.show_progress)
    updates = 0

    def save() -> None:
        run.checkpointer.save(to_cpu(net.state_dict()), [to_cpu(learner.optimizer.state_dict())], stats)

    try:
        while stats.episodes < config.episodes:
            learner.set_learning_rate(config.learning_rate_at(stats.episodes))
            for env_steps, report in sampler.steps():
                losses = [learner.update(batch) for batch in assembler.add(report.experiences)]
                for i, loss in enumerate(losses):
                    require_finite_loss(loss, "trainer", f"update {stats.updates + i + 1}")
                updates += len(losses)
                stats.record_updates(0, updates, losses)
                stats.record_episodes(env_steps, report.lengths, report.timeouts)
            progress.update(stats.episodes, **stats.figures())
            if run.stop.received is not None:
                save()
                raise run.stop.interruption(run.checkpointer.path)
            if run.checkpointer.due():
                save()
    finally:
        progress.close()
    return to_cpu(net.state_dict()), [to_cpu(learner.optimizer.state_dict())]
