"""Reading and writing network weights.

Two on-disk formats are read: the original authors' plain state dicts (legacy torch serialization) and
our own ``{"format": "scinet/<kind>", "state_dict": ..., **extra}``. Both are loaded with
``weights_only=True``, so a checkpoint can never run code on load. The typed loaders check every key and
shape against the network they build and fail with one line naming the file and the first mismatch,
rather than letting ``load_state_dict`` print a wall of text or, worse, a caller guess sizes.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from scinet.errors import CheckpointError
from scinet.nets.autoencoder import DenseAutoencoder
from scinet.nets.dps import DPSNetwork

FORMAT_PREFIX = "scinet/"


@dataclass(frozen=True)
class Checkpoint:
    """Contents of a checkpoint file; ``kind`` is None for a plain (authors') state dict."""

    state_dict: dict[str, Tensor]
    kind: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _is_state_dict(obj: object) -> bool:
    return isinstance(obj, dict) and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items())


def _unpickling_reason(exc: Exception) -> str:
    """The informative sentence of torch's long weights_only error (e.g. "Unsupported global: ...")."""
    text = str(exc)
    marker = "WeightsUnpickler error:"
    if marker in text:
        text = text.split(marker, 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0].split(". ")[0] if lines else type(exc).__name__


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Load either format; raise FileNotFoundError for a missing file, CheckpointError for anything else."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"{path.name}: refused by weights_only loading, which reads only tensors and plain Python "
            f"values ({_unpickling_reason(exc)}); re-save it as a plain state dict"
        ) from exc
    except (RuntimeError, EOFError, OSError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise CheckpointError(f"{path.name}: not a readable torch file ({reason})") from exc

    if isinstance(obj, dict) and "format" in obj:
        fmt = obj["format"]
        if not (isinstance(fmt, str) and fmt.startswith(FORMAT_PREFIX)):
            raise CheckpointError(f"{path.name}: unknown checkpoint format {fmt!r}")
        if not _is_state_dict(obj.get("state_dict")):
            raise CheckpointError(f"{path.name}: format {fmt!r} without a valid 'state_dict' entry")
        extra = {k: v for k, v in obj.items() if k not in ("format", "state_dict")}
        return Checkpoint(dict(obj["state_dict"]), fmt.removeprefix(FORMAT_PREFIX), extra)
    if _is_state_dict(obj):
        return Checkpoint(dict(obj))
    raise CheckpointError(
        f"{path.name}: neither a state dict nor a scinet checkpoint (got {type(obj).__name__})"
    )


def load_state_dict_file(path: str | os.PathLike[str]) -> dict[str, Tensor]:
    """The state dict stored in ``path``, whichever of the two formats it uses."""
    return read_checkpoint(path).state_dict


def check_state_dict(name: str, state_dict: dict[str, Tensor], module: nn.Module) -> None:
    """Raise CheckpointError at the first key or shape of ``state_dict`` that ``module`` does not have."""
    expected = module.state_dict()
    for key, ref in expected.items():
        if key not in state_dict:
            raise CheckpointError(f"{name}: missing key {key}")
        got = tuple(state_dict[key].shape)
        if got != tuple(ref.shape):
            raise CheckpointError(f"{name}: {key} has shape {got}, expected {tuple(ref.shape)}")
    for key in state_dict:
        if key not in expected:
            raise CheckpointError(f"{name}: unexpected key {key}")


def _load_into(path: str | os.PathLike[str], state_dict: dict[str, Tensor], module: nn.Module) -> None:
    check_state_dict(Path(path).name, state_dict, module)
    module.load_state_dict(state_dict, strict=True)


def load_dps_agent(path: str | os.PathLike[str], input_dim: int = 36, num_actions: int = 6) -> DPSNetwork:
    """A policy-mode DPS agent (frozen output layer) in eval mode, weights from ``path``.

    Our checkpoints record their hidden sizes (``hidden``); the authors' have the paper's sizes.
    """
    saved = read_checkpoint(path)
    hidden = tuple(saved.extra.get("hidden", DPSNetwork.PAPER_HIDDEN))
    net = DPSNetwork(input_dim, num_actions, hidden=hidden)
    _load_into(path, saved.state_dict, net)
    return net.eval()


def load_autoencoder(path: str | os.PathLike[str]) -> DenseAutoencoder:
    """The paper-sized autoencoder (36 -> 8 -> 36) in eval mode, weights from ``path``."""
    net = DenseAutoencoder()
    _load_into(path, load_state_dict_file(path), net)
    return net.eval()


def save_checkpoint(
    path: str | os.PathLike[str], kind: str, weights: nn.Module | Mapping[str, Tensor], **extra: Any
) -> None:
    """Write a module's weights (or a state dict) in our format, atomically.

    The file is written under a temporary name in the destination folder and then renamed over
    ``path``, so a crash (or a concurrent reader) never sees a half-written checkpoint. ``extra`` must
    hold only tensors and plain Python values, so that the file stays loadable with weights_only=True.
    """
    if not kind or "/" in kind:
        raise ValueError(f"checkpoint kind must be a non-empty name without '/', got {kind!r}")
    reserved = {"format", "state_dict"} & extra.keys()
    if reserved:
        raise ValueError(f"extra keys {sorted(reserved)} are reserved")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = weights.state_dict() if isinstance(weights, nn.Module) else weights
    payload = {
        "format": FORMAT_PREFIX + kind,
        "state_dict": {k: v.detach().cpu() for k, v in state.items()},
        **extra,
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
