"""Every reader of a model, checkpoint, data or metrics file, fed damaged and foreign files.

A damaged file must end in the project's own error (one line naming the path and the fix), never in another
exception nor in a silently wrong result. The fuzz cases are seeded, so a failure reproduces exactly: a
mutation either raises :class:`~scinet.errors.ScinetError` or, where it left the file valid (a byte of zip
bookkeeping no reader needs, a weight of the authors' unchecked format), yields a correctly typed result;
our own checkpoints carry a SHA-256, so for them a result must also equal what was saved.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from scinet.analysis import load_encoder, load_selection_model
from scinet.errors import CheckpointError, ScinetError
from scinet.nets import (
    DenseAutoencoder,
    DenseEncoder,
    DPSNetwork,
    load_autoencoder,
    load_dps_agent,
    save_checkpoint,
)
from scinet.policy.checkpoint import TrainingState, load_training_state, save_training_state
from scinet.selection import training as selection_training
from scinet.selection.data import SelectionData
from scinet.selection.model import SelectionModel
from scinet.selection.steps import KIND as SELECTION_TRAINING
from stages.common import read_json, read_tsv

FINGERPRINT = "0123456789abcdef"
GRID = (4, 4, 4)


@dataclass(frozen=True)
class Reader:
    """One reader: how it is called, what a good result looks like, and whether it must equal the original."""

    read: Callable[[Path], Any]
    typed: Callable[[Any], bool]
    checked: bool  # the format detects any change of content (our SHA-256, or zip CRCs for .npz)


def _weights(result: Any) -> dict[str, torch.Tensor]:
    if isinstance(result, tuple):  # load_selection_model
        return result[0].state_dict()
    if isinstance(result, torch.nn.Module):
        return result.state_dict()
    return dict(result.weights)  # the training states


READERS = {
    "dps_agent": Reader(load_dps_agent, lambda r: isinstance(r, DPSNetwork), True),
    "plain_agent": Reader(load_dps_agent, lambda r: isinstance(r, DPSNetwork), False),
    "autoencoder": Reader(load_autoencoder, lambda r: isinstance(r, DenseAutoencoder), True),
    "encoder": Reader(load_encoder, lambda r: isinstance(r, DenseEncoder), True),
    "selection_model": Reader(
        load_selection_model, lambda r: isinstance(r[0], SelectionModel) and r[1] == ["env1"], True
    ),
    "policy_training": Reader(
        lambda p: load_training_state(p, FINGERPRINT), lambda r: isinstance(r, TrainingState | None), True
    ),
    "selection_training": Reader(
        lambda p: selection_training._load(p, FINGERPRINT),  # the reader train_selection resumes with
        lambda r: r is None or isinstance(r, selection_training.SelectionState),
        True,
    ),
    "npz": Reader(lambda p: SelectionData.load(p, GRID), lambda r: isinstance(r, SelectionData), True),
    "json": Reader(lambda p: read_json(p, ("softmax",)), lambda r: isinstance(r, dict), False),
    "tsv": Reader(lambda p: read_tsv(p, ("step",)), lambda r: "step" in r.columns, False),
}


def _optimizer_state(net: torch.nn.Module) -> dict[str, Any]:
    optimizer = torch.optim.Adam(net.parameters(), amsgrad=True)
    net.h_values(torch.zeros(2, 36)).sum().backward()
    optimizer.step()
    return optimizer.state_dict()


def _healthy_files(folder: Path) -> dict[str, Path]:
    """One small healthy file per reader, the same bytes on every run (seeded weights)."""
    torch.manual_seed(0)
    files = {name: folder / f"{name}.{'npz' if name == 'npz' else 'pt'}" for name in READERS}
    agent = DPSNetwork(36, hidden=(8, 4))
    save_checkpoint(files["dps_agent"], "dps-agent", agent, hidden=[8, 4])
    legacy = io.BytesIO()
    torch.save(
        DPSNetwork(36).state_dict(), legacy, _use_new_zipfile_serialization=False
    )  # the authors' format
    files["plain_agent"].write_bytes(legacy.getvalue())
    save_checkpoint(files["autoencoder"], "autoencoder", DenseAutoencoder())
    files["encoder"] = files["autoencoder"]
    model = SelectionModel(sum(GRID), 8, 1)
    save_checkpoint(files["selection_model"], "selection-model", model, objectives=["env1"], latent_dim=8)
    state = TrainingState(
        agent.state_dict(), [_optimizer_state(agent)], 5, 50, 2, 1.5, 0, [{"episodes": 5.0}]
    )
    save_training_state(files["policy_training"], state, FINGERPRINT)
    save_checkpoint(
        files["selection_training"], SELECTION_TRAINING, model.state_dict(), fingerprint=FINGERPRINT,
        optimizers=[], decoders=[{"step": 3}], curve=[{"step": 1.0}], pending=[], wall_seconds=0.5,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    cells = rng.integers(0, 4, size=(50, 3))
    SelectionData(cells, rng.integers(0, 6, size=50), rng.random(50).astype(np.float32)).save(files["npz"])
    files["json"] = folder / "metrics.json"
    files["json"].write_text('{"softmax": {"mean": 12.5, "timeouts": 0.0}, "optimal_mean": 8.56}\n')
    files["tsv"] = folder / "curve.tsv"
    files["tsv"].write_text(
        "step\tdecoder0_loss\n" + "".join(f"{10 * i}\t{1 / i:.6f}\n" for i in range(1, 40))
    )
    return files


def _mutations(data: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """Truncations at many offsets (zero length included), byte flips, and garbage of assorted lengths."""
    for cut in sorted({0, 1, len(data) - 1, *(rng.randrange(len(data)) for _ in range(12))}):
        yield f"cut@{cut}", data[:cut]
    for _ in range(24):
        spot = rng.randrange(len(data))
        yield f"flip@{spot}", data[:spot] + bytes([data[spot] ^ rng.randrange(1, 256)]) + data[spot + 1 :]
    yield "garbage", rng.randbytes(rng.randrange(1, 4096))
    yield "garbage-zip-magic", b"PK\x03\x04" + rng.randbytes(200)


def _check(reader: Reader, path: Path, original: Any | None) -> None:
    """The fuzz invariant: our error naming the path, or a valid result (if checked, the original)."""
    try:
        result = reader.read(path)
    except ScinetError as err:
        assert str(path) in str(err) and "\n" not in str(err)
        return
    assert reader.typed(result), f"{path.name}: wrong result type {type(result).__name__}"
    if (
        reader.checked
        and original is not None
        and result is not None
        and not isinstance(result, SelectionData)
    ):
        got, want = _weights(result), _weights(original)
        assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want), path.name
    if isinstance(result, SelectionData) and original is not None:
        assert np.array_equal(result.targets, original.targets), path.name


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _healthy_files(tmp_path_factory.mktemp("healthy"))


@pytest.mark.parametrize("name", list(READERS))
def test_mutated_files_raise_the_projects_error_or_load_intact(
    name: str, healthy: dict[str, Path], tmp_path: Path
) -> None:
    reader = READERS[name]
    original = reader.read(healthy[name])
    assert reader.typed(original)
    rng = random.Random(name)  # a string seed is hashed deterministically (not by PYTHONHASHSEED)
    for label, data in _mutations(healthy[name].read_bytes(), rng):
        path = tmp_path / "models" / f"{name}-{label}{healthy[name].suffix}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        _check(reader, path, original)


MODEL_READERS = ("dps_agent", "autoencoder", "encoder", "selection_model", "policy_training")
ACCEPTS = {  # which healthy file each reader takes; every other pairing is a kind error
    "dps_agent": {"dps_agent", "plain_agent"},
    "autoencoder": {"autoencoder", "encoder"},
    "encoder": {"autoencoder", "encoder", "selection_model"},
    "selection_model": {"selection_model"},
    "policy_training": {"policy_training"},
}


@pytest.mark.parametrize("reader_name", MODEL_READERS)
def test_a_file_of_another_kind_is_an_error_naming_both_kinds(
    reader_name: str, healthy: dict[str, Path]
) -> None:
    for file_name in ("dps_agent", "autoencoder", "selection_model", "policy_training", "selection_training"):
        if file_name in ACCEPTS[reader_name]:
            continue
        with pytest.raises(CheckpointError) as info:
            READERS[reader_name].read(healthy[file_name])
        message = str(info.value)
        assert message.startswith(f"{healthy[file_name]}: holds a scinet/"), message
        assert "belongs" in message and "\n" not in message


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["dps_agent", "selection_model", "policy_training", "npz"])
def test_valid_zips_with_wrong_contents(name: str, healthy: dict[str, Path], tmp_path: Path) -> None:
    rng = random.Random(1)
    contents = [
        {},
        {"archive/data.pkl": rng.randbytes(64)},
        {"archive/data.pkl": b"\x80\x02}q\x00.", "archive/version": b"3\n"},  # an empty dict
        {"cells.npy": rng.randbytes(128), "actions.npy": b"", "targets.npy": b"\x93NUMPY"},
        {name: rng.randbytes(32) for name in ("a", "b/c", "archive/data/0")},
    ]
    for k, entries in enumerate(contents):
        path = tmp_path / f"wrong-{k}{healthy[name].suffix}"
        path.write_bytes(_zip(entries))
        with pytest.raises(ScinetError, match=f"^{re.escape(str(path))}: "):
            READERS[name].read(path)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"targets": None}, "holds arrays"),
        ({"extra": np.zeros(3)}, "holds arrays"),
        ({"cells": np.zeros((5, 3), np.float32)}, "cells is float32"),
        ({"cells": np.zeros((5, 2), np.int8)}, r"cells is int8 of shape \(5, 2\)"),
        ({"actions": np.zeros((5, 1), np.int8)}, "actions is int8 of shape"),
        ({"targets": np.zeros(5, np.int64)}, "targets is int64"),
        ({"targets": np.zeros(4, np.float32)}, "arrays of different lengths"),
        (
            {"cells": np.zeros((0, 3), np.int8), "actions": np.zeros(0, np.int8), "targets": np.zeros(0)},
            "holds no samples",
        ),
        ({"cells": np.full((5, 3), 4, np.int8)}, r"cells outside the grid \(4, 4, 4\)"),
        ({"cells": np.full((5, 3), -1, np.int8)}, "cells outside"),
        ({"actions": np.full(5, 6, np.int8)}, r"actions outside 0\.\.5"),
        ({"targets": np.array([0, 1, np.nan, 0, 0], np.float32)}, "non-finite targets"),
        ({"targets": np.array([0, np.inf, 0, 0, 0], np.float32)}, "non-finite targets"),
    ],
)
def test_selection_data_with_bad_arrays(change: dict[str, Any], problem: str, tmp_path: Path) -> None:
    arrays = {"cells": np.zeros((5, 3), np.int8), "actions": np.zeros(5, np.int8), "targets": np.zeros(5)}
    arrays = {k: v for k, v in {**arrays, **change}.items() if v is not None}
    path = tmp_path / "data" / "selection" / "env1.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match=f"^{re.escape(str(path))}: {problem}") as info:
        SelectionData.load(path, GRID)
    assert str(info.value).endswith(
        f"restore it with `dvc checkout {path}` (or `dvc pull {path}` if the cache lacks it)"
    )


def test_healthy_files_load_exactly_as_saved(healthy: dict[str, Path]) -> None:
    torch.manual_seed(0)
    agent = DPSNetwork(36, hidden=(8, 4))
    loaded = load_dps_agent(healthy["dps_agent"])
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in agent.state_dict().items())
    data = SelectionData.load(healthy["npz"], GRID)
    assert (data.cells.dtype, data.actions.dtype, data.targets.dtype) == (np.int8, np.int8, np.float32)


def test_a_damaged_training_checkpoint_says_delete_it(healthy: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "ckpt.pt"  # outside a checkpoints/ folder: the advice comes from the reader
    path.write_bytes(healthy["policy_training"].read_bytes()[:-100])
    with pytest.raises(CheckpointError, match=r"; delete it to start the run over$"):
        load_training_state(path, FINGERPRINT)
    with pytest.raises(CheckpointError, match=r"; delete it to start the run over$"):
        selection_training._load(path, FINGERPRINT)


def test_a_flipped_bit_inside_a_weight_is_caught_by_the_stored_checksum(
    healthy: dict[str, Path], tmp_path: Path
) -> None:
    """Torch's zip reader checks no CRC, so only our SHA-256 notices a changed weight."""
    data = healthy["dps_agent"].read_bytes()
    with zipfile.ZipFile(healthy["dps_agent"]) as archive:
        record = next(info for info in archive.infolist() if info.filename.endswith("/data/0"))
    header = data[record.header_offset : record.header_offset + 30]  # the local header: its own extra length
    start = (
        record.header_offset
        + 30
        + int.from_bytes(header[26:28], "little")
        + int.from_bytes(header[28:30], "little")
    )
    path = tmp_path / "models" / "policy" / "env1.pt"
    path.parent.mkdir(parents=True)
    path.write_bytes(data[: start + 2] + bytes([data[start + 2] ^ 0x01]) + data[start + 3 :])
    fix = f"restore it with `dvc checkout {path}` (or `dvc pull {path}` if the cache lacks it)"
    with pytest.raises(CheckpointError) as info:
        load_dps_agent(path)
    assert str(info.value) == f"{path}: damaged: contents do not match the checksum stored in it; {fix}"
