"""Predictor role: batch the workers' cells across workers and run one forward pass for all of them.

The predictor reads the live weights (shared memory on CPU, the same GPU tensors as the trainers on CUDA),
so it never holds a stale copy and nothing is sent back and forth for synchronisation.
"""

from __future__ import annotations

import queue
import time

import numpy as np
import torch

from scinet.nets import DPSNetwork
from scinet.nets.percepts import cells_to_percepts
from scinet.sampling.divergence import require_finite_h_values
from scinet.sampling.messages import PredictorReport
from scinet.sampling.processes import Channels, get, should_stop

MAX_BATCH_REQUESTS = 64
"""At most this many worker requests go into one forward pass."""


def predict_h_values(
    net: DPSNetwork, cells: np.ndarray, grid_size: tuple[int, ...], device: torch.device
) -> np.ndarray:
    """h-values of all actions, (n, actions) float32 on the CPU, for (n, 3) cells."""
    with torch.inference_mode():
        return net.h_values(cells_to_percepts(cells, grid_size, device)).cpu().numpy()


def predictor_main(
    channels: Channels, index: int, net: DPSNetwork, grid_size: tuple[int, ...], device: str
) -> None:
    requests = channels.requests[index]
    busy = idle = 0.0
    batches = 0
    last_report = time.perf_counter()
    while not should_stop(channels):
        started = time.perf_counter()
        first = get(requests, channels)
        if first is None:
            break
        batch = [first]
        while len(batch) < MAX_BATCH_REQUESTS:
            try:
                batch.append(requests.get_nowait())
            except queue.Empty:
                break
        computing = time.perf_counter()
        cells = np.concatenate([request.cells for request in batch])
        h_values = predict_h_values(net, cells, grid_size, torch.device(device))
        require_finite_h_values(h_values, f"predictor {index}", f"its batch {batches + 1}")
        start = 0
        for request in batch:
            channels.replies[request.worker].put(h_values[start : start + len(request.cells)])
            start += len(request.cells)
        now = time.perf_counter()
        idle += computing - started
        busy += now - computing
        batches += 1
        if now - last_report >= 0.5:
            channels.stats.put(PredictorReport(index, batches, busy, idle))
            busy = idle = 0.0
            batches, last_report = 0, now
