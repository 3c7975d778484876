"""Reading and writing network weights.

Two on-disk formats are read: the original authors' plain state dicts (legacy torch serialization) and
our own ``{"format": "scinet/<kind>", "state_dict": ..., "sha256": ..., **extra}``. Both are loaded with
``weights_only=True``, so a checkpoint can never run code on load. The typed loaders check the file's kind,
every key, shape and dtype against the network they build and fail with one line naming the file's path,
the first mismatch and what to do, rather than letting ``load_state_dict`` print a wall of text or, worse,
a caller guess sizes.

Torch's zip container checks neither the CRC of its records nor anything else about the tensor bytes, so a
flipped bit in a weight would load silently. Our format therefore stores a SHA-256 of everything in the
file (:func:`payload_digest`) and checks it on load; files written before it existed, and the authors'
files, load without the check.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from scinet.atomic import atomic_write
from scinet.errors import CheckpointError
from scinet.nets.autoencoder import DenseAutoencoder
from scinet.nets.dps import DPSNetwork

FORMAT_PREFIX = "scinet/"
DIGEST_KEY = "sha256"
RESERVED = ("format", "state_dict", DIGEST_KEY)
DPS_AGENT = "dps-agent"
AUTOENCODER = "autoencoder"
SELECTION_MODEL = "selection-model"


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
    text = str(exc).split("WeightsUnpickler error:", 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0].split(". ")[0] if lines else type(exc).__name__


def _feed(digest: Any, obj: object) -> None:
    """Adds ``obj`` to ``digest`` unambiguously: containers in order, tensors as dtype, shape and bytes."""
    if isinstance(obj, Tensor):
        flat = obj.detach().cpu().contiguous().reshape(-1)
        digest.update(f"T{flat.dtype}{tuple(obj.shape)}:".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, Mapping):
        digest.update(f"{{{len(obj)}:".encode())
        for key in sorted(obj, key=repr):  # keys are str (state dicts) or int (optimizer states)
            digest.update(f"{key!r}=".encode())
            _feed(digest, obj[key])
    elif isinstance(obj, list | tuple):
        digest.update(f"{type(obj).__name__}{len(obj)}:".encode())
        for item in obj:
            _feed(digest, item)
    else:
        digest.update(f"{type(obj).__name__}:{obj!r};".encode())


def payload_digest(payload: Mapping[str, Any]) -> str:
    """SHA-256 of a checkpoint's contents without its digest entry, independent of how torch lays them out."""
    digest = hashlib.sha256()
    _feed(digest, {k: v for k, v in payload.items() if k != DIGEST_KEY})
    return digest.hexdigest()


def describe_kind(kind: str | None) -> str:
    """How error messages name a kind of checkpoint."""
    return "a plain state dict" if kind is None else f"a {FORMAT_PREFIX}{kind} checkpoint"


def _torch_load(path: Path, fix: str | None) -> object:
    """``torch.load`` of a file that may be anything; whatever goes wrong becomes a CheckpointError.

    Torch raises many exception types on damaged input (RuntimeError from the zip reader, EOFError,
    UnpicklingError, KeyError, ValueError, struct.error, ... from the legacy unpickler), and none of them
    says anything a user can act on, so all are caught here; the file is the only input.
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "WeightsUnpickler error:" not in str(exc):
            raise CheckpointError.at(path, _unreadable(exc), fix) from exc
        refused = "refused by weights_only loading, which reads only tensors and plain values"
        problem = f"not a readable torch file ({refused}: {_unpickling_reason(exc)})"
        raise CheckpointError.at(path, problem, fix) from exc
    except Exception as exc:
        raise CheckpointError.at(path, _unreadable(exc), fix) from exc


def _unreadable(exc: Exception) -> str:
    """The first sentence of a loader's complaint; torch appends paragraphs of generic advice to some."""
    ends_early = isinstance(exc, EOFError)
    detail = str(exc).split(". ")[0] or ("the file ends too early" if ends_early else "no detail")
    return f"not a readable torch file ({type(exc).__name__}: {detail})"


def read_checkpoint(
    path: str | os.PathLike[str], kinds: Collection[str | None] | None = None, fix: str | None = None
) -> Checkpoint:
    """Load either format; raise FileNotFoundError for a missing file, CheckpointError for anything else.

    ``kinds`` lists the kinds the caller accepts (None standing for the authors' plain state dicts), so that
    a policy agent never passes for a selection model; by default any kind is returned. ``fix`` replaces
    the advice that :func:`scinet.errors.remedy` derives from the path.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    obj = _torch_load(path, fix)
    if isinstance(obj, dict) and "format" in obj:
        fmt = obj["format"]
        if not (isinstance(fmt, str) and fmt.startswith(FORMAT_PREFIX)):
            raise CheckpointError.at(path, f"unknown checkpoint format {fmt!r}", fix)
        if not _is_state_dict(obj.get("state_dict")):
            raise CheckpointError.at(path, f"format {fmt!r} without a valid 'state_dict' entry", fix)
        if DIGEST_KEY in obj and obj[DIGEST_KEY] != payload_digest(obj):
            raise CheckpointError.at(path, "damaged: contents do not match the checksum stored in it", fix)
        extra = {k: v for k, v in obj.items() if k not in RESERVED}
        saved = Checkpoint(dict(obj["state_dict"]), fmt.removeprefix(FORMAT_PREFIX), extra)
    elif _is_state_dict(obj):
        saved = Checkpoint(dict(obj))
    else:
        problem = f"neither a state dict nor a scinet checkpoint (got {type(obj).__name__})"
        raise CheckpointError.at(path, problem, fix)
    if kinds is not None and saved.kind not in kinds:
        wanted = " or ".join(describe_kind(k) for k in kinds)
        raise CheckpointError.at(path, f"holds {describe_kind(saved.kind)} where {wanted} belongs", fix)
    return saved


def check_state_dict(path: str | os.PathLike[str], state_dict: dict[str, Tensor], module: nn.Module) -> None:
    """Raise CheckpointError at the first key, shape or dtype of ``state_dict`` that ``module`` does not have.

    Non-finite weights are refused too: no trained network has them, and they would turn every output
    into NaN without an error.
    """
    expected = module.state_dict()
    for key, ref in expected.items():
        if key not in state_dict:
            raise CheckpointError.at(path, f"missing key {key}")
        got = state_dict[key]
        if tuple(got.shape) != tuple(ref.shape):
            raise CheckpointError.at(path, f"{key} has shape {tuple(got.shape)}, expected {tuple(ref.shape)}")
        if got.dtype != ref.dtype:
            raise CheckpointError.at(path, f"{key} has dtype {got.dtype}, expected {ref.dtype}")
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            raise CheckpointError.at(path, f"{key} holds non-finite values")
    for key in state_dict:
        if key not in expected:
            raise CheckpointError.at(path, f"unexpected key {key}")


def _load_into(path: str | os.PathLike[str], state_dict: dict[str, Tensor], module: nn.Module) -> None:
    check_state_dict(path, state_dict, module)
    module.load_state_dict(state_dict, strict=True)


def _layer_sizes(path: str | os.PathLike[str], value: object) -> tuple[int, ...]:
    if not (isinstance(value, list | tuple) and value and all(type(n) is int and n > 0 for n in value)):
        raise CheckpointError.at(path, f"'hidden' is {value!r}, not a list of layer sizes")
    return tuple(value)


def load_dps_agent(path: str | os.PathLike[str], input_dim: int = 36, num_actions: int = 6) -> DPSNetwork:
    """A policy-mode DPS agent (frozen output layer) in eval mode, weights from ``path``.

    Our checkpoints record their hidden sizes (``hidden``); the authors' have the paper's sizes.
    """
    saved = read_checkpoint(path, kinds=(DPS_AGENT, None))
    hidden = _layer_sizes(path, saved.extra.get("hidden", DPSNetwork.PAPER_HIDDEN))
    net = DPSNetwork(input_dim, num_actions, hidden=hidden)
    _load_into(path, saved.state_dict, net)
    return net.eval()


def dps_agent_objective(path: str | os.PathLike[str]) -> str | None:
    """The objective a DPS agent was trained for, as our checkpoints record it; None for the authors' files.

    An agent plays any world of the right size without complaint, so a caller that would otherwise trust
    a user's objective name checks it against this one.
    """
    objective = read_checkpoint(path, kinds=(DPS_AGENT, None)).extra.get("objective")
    return objective if isinstance(objective, str) else None


def load_autoencoder(path: str | os.PathLike[str]) -> DenseAutoencoder:
    """The paper-sized autoencoder (36 -> 8 -> 36) in eval mode, weights from ``path``."""
    net = DenseAutoencoder()
    _load_into(path, read_checkpoint(path, kinds=(AUTOENCODER, None)).state_dict, net)
    return net.eval()


def require_extra(
    path: str | os.PathLike[str], saved: Checkpoint, names: Collection[str], fix: str | None = None
) -> None:
    """Raise CheckpointError unless the checkpoint's extra entries are exactly ``names``.

    Resumable states are rebuilt as ``SomeState(**extra)``; a missing or unknown entry (a file of another
    version of the code) would otherwise surface as a TypeError far from the file that caused it.
    """
    missing, unknown = sorted(set(names) - saved.extra.keys()), sorted(saved.extra.keys() - set(names))
    if missing or unknown:
        raise CheckpointError.at(path, f"entries missing {missing}, unknown {unknown}", fix)


def save_checkpoint(
    path: str | os.PathLike[str], kind: str, weights: nn.Module | Mapping[str, Tensor], **extra: Any
) -> None:
    """Write a module's weights (or a state dict) in our format, atomically.

    The file is written under a temporary name in the destination folder and then renamed over
    ``path``, so a crash (or a concurrent reader) never sees a half-written checkpoint. ``extra`` must
    hold only tensors and plain Python values, so that the file stays loadable with weights_only=True.
    The file also stores the :func:`payload_digest` of all this, which :func:`read_checkpoint` checks.
    """
    if not kind or "/" in kind:
        raise ValueError(f"checkpoint kind must be a non-empty name without '/', got {kind!r}")
    reserved = set(RESERVED) & extra.keys()
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
    payload[DIGEST_KEY] = payload_digest(payload)
    with atomic_write(path, "wb") as fh:
        torch.save(payload, fh)
