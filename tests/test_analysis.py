"""η², resolution, reconstruction, an encoder's report, and `python -m scinet analyze-encoder`."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from known_nets import GRID, PUBLISHED_SELECTION, KnownDecoder, KnownEncoder, exact_autoencoder_state

from scinet.analysis import (
    analyze_encoder,
    eta_squared,
    grid_cells,
    kept_settled_step,
    latent_over_grid,
    load_autoencoder_decoder,
)
from scinet.cli import main
from scinet.nets import CheckpointError, DenseAutoencoder, DenseEncoder, save_checkpoint
from scinet.resolution import Resolution, neuron_resolution, reconstruction_accuracy
from scinet.selection.model import SelectionModel

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT.parent / "shared" / "upstream"


def test_eta_squared_of_a_hand_computed_example() -> None:
    # Mean 2.5; group means 1.5 and 3.5: between = 4 * 1**2 = 4, total = 2.25 + 0.25 + 0.25 + 2.25 = 5.
    assert eta_squared(np.array([1.0, 2.0, 3.0, 4.0]), np.array(["a", "a", "b", "b"])) == pytest.approx(0.8)


def test_eta_squared_is_one_for_any_function_of_the_group_and_zero_for_an_independent_one() -> None:
    cells = grid_cells(GRID)
    x, y = cells[:, 0], cells[:, 1]
    assert eta_squared((x - 1.5) ** 2, x) == pytest.approx(1.0)  # not monotone, still a function of x
    # On the full grid every x meets every y equally often, so all per-x means of y are equal.
    assert eta_squared(y.astype(float), x) == pytest.approx(0.0, abs=1e-12)
    assert eta_squared(np.full(len(x), 3.7), x) == 0.0  # a constant neuron encodes nothing


def test_eta_squared_rejects_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="equal length"):
        eta_squared(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="equal length"):
        eta_squared(np.zeros(0), np.zeros(0))


def test_grid_cells_lists_every_cell_once() -> None:
    cells = grid_cells(GRID)
    assert cells.shape == (4 * 5 * 6, 3) and cells.dtype == np.int64
    assert len({tuple(c) for c in cells}) == len(cells)
    assert (cells.min(0) == 0).all() and (cells.max(0) == np.array(GRID) - 1).all()


PAPER_LIKE_COLUMNS = ["-z", "y3", "x+y", "noise", "const", "x+y", "x", "noise"]
PAPER_LIKE = KnownEncoder(PAPER_LIKE_COLUMNS, [-3.6, -3.4, 4.7, 6.8, 3.3, 6.8, -3.6, 4.9])
PAPER_LIKE_DECODER = KnownDecoder(PAPER_LIKE_COLUMNS, {"x": 6, "y": 1, "z": 0})


def test_latent_over_grid_follows_the_order_of_grid_cells() -> None:
    latent = latent_over_grid(KnownEncoder(["x", "-z"], [-1.0, -1.0]), GRID)
    cells = grid_cells(GRID)
    np.testing.assert_array_equal(latent, np.stack([cells[:, 0], -2.0 * cells[:, 2]], 1))


def test_report_of_an_encoder_with_a_known_latent() -> None:
    report = analyze_encoder(PAPER_LIKE, PAPER_LIKE_DECODER, GRID)
    assert report.kept == (0, 1, 6)
    assert report.encodes == {0: "z", 1: "y", 6: "x"}
    assert set(report.eta2) == set(range(8)) and all(set(s) == {"x", "y", "z"} for s in report.eta2.values())
    assert report.eta2[0]["z"] == pytest.approx(1.0) and report.eta2[0]["x"] == pytest.approx(0.0, abs=1e-12)
    assert report.eta2[4] == {"x": 0.0, "y": 0.0, "z": 0.0}
    assert report.eta2[2]["x"] + report.eta2[2]["y"] == pytest.approx(1.0)  # x + y: shares split, z none
    assert report.selection == pytest.approx((-3.6, -3.4, 4.7, 6.8, 3.3, 6.8, -3.6, 4.9))
    assert report.resolution == {i: Resolution(1.0, math.inf) for i in (0, 1, 6)}  # exact: no spread
    assert report.reconstruction == {"x": 1.0, "y": 1.0, "z": 1.0}
    data = json.loads(json.dumps(report.as_dict(), allow_nan=False))  # JSON has no infinity
    assert data["kept"] == [0, 1, 6] and data["encodes"] == {"0": "z", "1": "y", "6": "x"}
    assert set(data["eta2"]) == {str(i) for i in range(8)}
    assert data["resolution"] == {str(i): {"accuracy": 1.0, "gap_ratio": None} for i in (0, 1, 6)}
    assert data["reconstruction"] == {"x": 1.0, "y": 1.0, "z": 1.0}


def test_resolution_of_hand_computed_examples() -> None:
    levels = np.array([0, 0, 1, 1, 2, 2])
    # Level means 0.1, 1.1, 3.1: smallest gap 1.0; within SS 6 * 0.1**2 over 6 - 3 dof: s_w = sqrt(0.02).
    spread = neuron_resolution(np.array([0.0, 0.2, 1.0, 1.2, 3.0, 3.2]), levels)
    assert spread.accuracy == 1.0 and spread.gap_ratio == pytest.approx(1.0 / math.sqrt(0.02))
    # Folded (not monotone in the level) but every level distinct: still full resolution.
    assert neuron_resolution(np.array([0.0, 0.0, 2.0, 2.0, 1.0, 1.0]), levels) == Resolution(1.0, math.inf)
    # Means 0.45 and 0.75: the cell at 0.9 reads as level 1, the one at 0.5 as 0; SS 0.405 + 0.125, 2 dof.
    overlap = neuron_resolution(np.array([0.0, 0.9, 0.5, 1.0]), np.array([0, 0, 1, 1]))
    assert overlap.accuracy == 0.5 and overlap.gap_ratio == pytest.approx(0.3 / math.sqrt(0.53 / 2))
    with pytest.raises(ValueError, match="equal length"):
        neuron_resolution(np.zeros(3), np.zeros(4))


def test_a_coarse_function_of_a_coordinate_has_full_eta2_but_not_full_resolution() -> None:
    x = grid_cells(GRID)[:, 0]  # 0..3
    for coarse, accuracy in ((x % 2, 0.5), (x // 2, 0.5)):
        assert eta_squared(coarse.astype(float), x) == pytest.approx(1.0)
        # Two levels share each mean; ties go to the smaller level, so half of the cells read right.
        assert neuron_resolution(coarse.astype(float), x) == Resolution(accuracy, 0.0)


def test_reconstruction_uses_the_kept_neurons_alone() -> None:
    columns = ["x", "y3", "-z", "x"]  # neuron 3 also holds x
    encoder = KnownEncoder(columns, [-1.0, -1.0, -1.0, 1.0])  # but is cut
    cells, latent = grid_cells(GRID), latent_over_grid(encoder, GRID)
    from_kept = KnownDecoder(columns, {"x": 0, "y": 1, "z": 2})
    assert reconstruction_accuracy(from_kept, latent, (0, 1, 2), cells, GRID) == (1.0, 1.0, 1.0)
    # A decoder that reads x from the cut neuron sees only its mean, 1.5, and reads every cell as x = 1.
    from_cut = KnownDecoder(columns, {"x": 3, "y": 1, "z": 2})
    assert reconstruction_accuracy(from_cut, latent, (0, 1, 2), cells, GRID) == (0.25, 1.0, 1.0)
    assert reconstruction_accuracy(from_cut, latent, (0, 1, 2, 3), cells, GRID) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="logits have shape"):
        reconstruction_accuracy(from_kept, latent, (0, 1, 2), cells[:, :2], (4, 5))


def test_load_autoencoder_decoder_from_each_checkpoint_format(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = SelectionModel()
    save_checkpoint(tmp_path / "model.pt", "selection-model", model)
    autoencoder = DenseAutoencoder()
    save_checkpoint(tmp_path / "ae.pt", "autoencoder", autoencoder)
    torch.save(exact_autoencoder_state("x"), tmp_path / "authors.pth")  # the authors' format
    z = torch.randn(5, 8)
    for name, reference in (("model.pt", model.autoencoder_decoder), ("ae.pt", autoencoder.decoder)):
        loaded = load_autoencoder_decoder(tmp_path / name)
        assert not loaded.training
        torch.testing.assert_close(loaded(z), reference(z))
    authors = load_autoencoder_decoder(tmp_path / "authors.pth")
    assert float(authors.decoding[-1][0].bias[1].detach()) == pytest.approx(-1 / 20)
    encoder_only = {k: v for k, v in model.state_dict().items() if not k.startswith("autoencoder_decoder.")}
    save_checkpoint(tmp_path / "no_decoder.pt", "selection-model", encoder_only)
    with pytest.raises(CheckpointError, match=r"missing key autoencoder_decoder\.unabstraction\.0\.weight"):
        load_autoencoder_decoder(tmp_path / "no_decoder.pt")


def _cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["analyze-encoder", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_kept_settled_step_is_where_the_last_change_of_any_kept_set_happened() -> None:
    """Cut, back, cut again: settled is after the last change of any part's kept set, not at the first cut."""
    encoder = [[-1, -1], [1, -1], [-1, -1], [1, -1], [1, -1], [1, -1]]  # 0: cut at 20, back at 30, cut at 40
    decoder = [[-1, -1], [-1, -1], [-1, -1], [-1, -1], [-1, 1], [-1, 1]]  # neuron 1 cut at 50
    rows = [
        {"step": 10 * (i + 1), "decoder0_loss": 0.5, "encoder_s0": e[0], "encoder_s1": e[1],
         "decoder0_s0": d[0], "decoder0_s1": d[1]}
        for i, (e, d) in enumerate(zip(encoder, decoder, strict=True))
    ]  # fmt: skip
    assert kept_settled_step(pd.DataFrame(rows)) == 50
    assert kept_settled_step(pd.DataFrame(rows[:4])) == 40  # the encoder cut neuron 0 for good at 40
    assert kept_settled_step(pd.DataFrame(rows[4:])) == 50  # never changed: settled from the first point
    assert kept_settled_step(pd.DataFrame(columns=["step", "encoder_s0"])) is None


def _run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scinet", "analyze-encoder", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(not UPSTREAM.is_dir(), reason="../shared/upstream (the authors' checkpoints) is absent")
def test_cli_reproduces_the_published_encoder_as_json() -> None:
    result = _run_cli("--checkpoint", UPSTREAM / "ae_select.pth", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"selection", "kept", "encodes", "eta2", "resolution", "reconstruction", "verdict"}
    assert data["selection"] == pytest.approx(PUBLISHED_SELECTION, abs=0.01)
    assert data["kept"] == [0, 1, 6]
    assert data["encodes"] == {"0": "z", "1": "y", "6": "x"}
    for neuron, coord in data["encodes"].items():
        assert data["eta2"][neuron][coord] >= 0.997  # DESIGN: >= 0.997; we get 0.9977 to 0.9991
    # Full resolution: 1725, 1718 and 1728 of the 1728 cells read back right; level gaps 4.7 to 6 within-SDs.
    accuracy = {n: r["accuracy"] for n, r in data["resolution"].items()}
    assert accuracy == pytest.approx({"0": 0.9983, "1": 0.9942, "6": 1.0}, abs=0.002)
    assert min(accuracy.values()) >= 0.99
    gaps = {n: r["gap_ratio"] for n, r in data["resolution"].items()}
    assert gaps == pytest.approx({"0": 5.27, "1": 4.69, "6": 5.98}, rel=0.02)
    assert data["reconstruction"] == {"x": 1.0, "y": 1.0, "z": 1.0}
    assert data["verdict"]["ok"] is True


def test_cli_fails_an_encoder_that_holds_only_the_parity_of_x(tmp_path: Path) -> None:
    """η² of the parity of x with x is 1: only the resolution (and the reconstruction) can tell."""
    torch.save(exact_autoencoder_state("parity"), tmp_path / "parity.pth")
    torch.save(exact_autoencoder_state("x"), tmp_path / "exact.pth")  # the same network with x itself
    passed = _run_cli("--checkpoint", tmp_path / "exact.pth")
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout.splitlines()[-1].startswith("verdict    PASS: 3 neurons kept (0->z, 1->y, 6->x)")
    result = _run_cli("--checkpoint", tmp_path / "parity.pth", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kept"] == [0, 1, 6] and data["encodes"] == {"0": "z", "1": "y", "6": "x"}
    assert data["eta2"]["6"]["x"] == pytest.approx(1.0)
    assert data["verdict"]["ok"] is False
    assert data["resolution"]["6"] == {"accuracy": pytest.approx(2 / 12), "gap_ratio": 0.0}
    assert data["resolution"]["1"] == {"accuracy": 1.0, "gap_ratio": None}  # exact y: no spread at all
    assert data["reconstruction"] == {"x": pytest.approx(2 / 12), "y": 1.0, "z": 1.0}
    text = _run_cli("--checkpoint", tmp_path / "parity.pth").stdout.splitlines()
    assert text[-1].startswith("verdict    FAIL: neuron 6 resolves x with accuracy 0.1667 < 0.99")
    assert text[-1].endswith("reconstruction from the kept neurons alone: accuracy x 0.1667 < 0.99")
    assert text[-2] == "reconstruction from the kept neurons alone: x 0.1667  y 1.0000  z 1.0000"
    assert text[8].split()[-2:] == ["0.1667", "0.00"]  # neuron 6's row: resolution, gap/sd


def test_cli_reads_our_checkpoints_and_prints_a_table(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    torch.manual_seed(0)
    autoencoder = DenseAutoencoder()
    autoencoder.encoder.selection.selectors.data = torch.tensor([-1.0, 2, 2, 2, 2, 2, 2, 2])
    save_checkpoint(tmp_path / "ae.pt", "autoencoder", autoencoder)
    model = SelectionModel()
    model.encoder.load_state_dict(autoencoder.encoder.state_dict())
    save_checkpoint(tmp_path / "model.pt", "selection-model", model, objectives=["env1"], latent_dim=8)
    header = [
        "neuron",
        "selection",
        "kept",
        "eta2",
        "x",
        "eta2",
        "y",
        "eta2",
        "z",
        "encodes",
        "resolution",
        "gap/sd",
    ]
    for name in ("ae.pt", "model.pt"):
        code, out, err = _cli(capsys, "--checkpoint", tmp_path / name)
        assert (code, err) == (0, "")
        lines = out.splitlines()
        assert lines[1].split() == header
        assert lines[2].split()[:3] == ["0", "-1.00", "yes"] and len(lines[2].split()) == len(header) - 3
        assert lines[3].split()[:3] == ["1", "2.00", "no"] and lines[3].split()[-3:] == ["-", "-", "-"]
        assert lines[-2].startswith("reconstruction from the kept neurons alone: x ")
        assert lines[-1].startswith("verdict    FAIL: 1 neurons kept [0], expected 3")


def test_cli_errors_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    save_checkpoint(tmp_path / "wide.pt", "autoencoder", DenseAutoencoder(DenseEncoder(latent_dim=10)))
    save_checkpoint(tmp_path / "other.pt", "dps-agent", {"input.0.weight": torch.zeros(3)})
    fix = "check that it is the file you meant, or replace it with an intact copy"
    cases = {
        "missing.pt": "encoder checkpoint not found: missing.pt",
        str(tmp_path / "wide.pt"): f"not a checkpoint of a 36 -> 8 encoder: {tmp_path / 'wide.pt'}: "
        f"encoder.abstraction.weight has shape (10, 32), expected (8, 32); {fix}",
        str(tmp_path / "other.pt"): f"not a checkpoint of a 36 -> 8 encoder: {tmp_path / 'other.pt'}: "
        "holds a scinet/dps-agent checkpoint where a scinet/autoencoder checkpoint or a "
        f"scinet/selection-model checkpoint or a plain state dict belongs; {fix}",
    }
    for path, message in cases.items():
        code, out, err = _cli(capsys, "--checkpoint", path)
        assert (code, out) == (2, "")
        assert err.strip().splitlines() == [f"scinet analyze-encoder: error: {message}"]
