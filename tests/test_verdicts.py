"""The paper's verdicts at full resolution: the encoder's, each agent decoder's on its own, the metrics."""

from __future__ import annotations

import json

import pytest
from known_nets import GRID, KnownDecoder, KnownEncoder

from scinet.analysis import COORDS, RepresentationReport, analyze_encoder
from scinet.envs.config import SubGridConfig
from scinet.splits import reward_positions
from scinet.verdicts import decoder_verdict, encoder_verdict, selection_metrics

PAPER_LIKE_COLUMNS = ["-z", "y3", "x+y", "noise", "const", "x+y", "x", "noise"]
PAPER_LIKE_SELECTION = [-3.6, -3.4, 4.7, 6.8, 3.3, 6.8, -3.6, 4.9]
XY_DECODER = [5.0, -2.0, 3.0, 4.0, 5.0, 6.0, -1.0, 7.0]  # keeps neurons 1 (y) and 6 (x)


def _report(columns: list[str], selection: list[float], reads: dict[str, int]) -> RepresentationReport:
    """The report of a KnownEncoder, its autoencoder decoder reading coordinate c from column reads[c]."""
    return analyze_encoder(KnownEncoder(columns, selection), KnownDecoder(columns, reads), GRID)


PAPER_LIKE = _report(PAPER_LIKE_COLUMNS, PAPER_LIKE_SELECTION, {"x": 6, "y": 1, "z": 0})


def test_encoder_verdict() -> None:
    verdict = encoder_verdict(PAPER_LIKE)
    assert verdict and verdict.reason == (
        "3 neurons kept (0->z, 1->y, 6->x), eta2 >= 1.0000, resolution accuracy >= 1.0000, "
        "reconstruction accuracy >= 1.0000"
    )
    two_x = _report(["x", "y3", "x"], [-1.0, -1.0, -1.0], {"x": 0, "y": 1, "z": 0})
    assert two_x.encodes == {0: "x", 1: "y", 2: "x"}
    verdict = encoder_verdict(two_x)
    assert not verdict and "expected x, y and z" in verdict.reason
    assert "reconstruction from the kept neurons alone: accuracy z 0.1667 < 0.99" in verdict.reason
    four = _report(["x", "y3", "-z", "x"], [-1.0, -1.0, -1.0, -1.0], {"x": 0, "y": 1, "z": 2})
    assert not encoder_verdict(four)
    # The mixed neuron is cut off (selection value above 0).
    mixed = _report(["x", "y3", "x+y", "-z"], [-1.0, -1.0, 1.0, -1.0], {"x": 0, "y": 1, "z": 3})
    assert encoder_verdict(mixed)
    # eta2 of x + y/10 with x is var(x) / (var(x) + var(y)/100) = 1.25 / 1.27 = 0.984 on this grid, though
    # x is read back from it without a mistake (level means x + 0.2, each level within +-0.2).
    weak = _report(["x+y/10", "y3", "-z"], [-1.0, -1.0, -1.0], {"x": 0, "y": 1, "z": 2})
    assert weak.encodes[0] == "x" and weak.eta2[0]["x"] == pytest.approx(1.25 / 1.27)
    assert weak.resolution[0].accuracy == 1.0
    verdict = encoder_verdict(weak)
    assert not verdict and verdict.reason == "neuron 0 encodes x with eta2 0.9843 < 0.99"
    assert encoder_verdict(weak, threshold=0.98)


def test_encoder_verdict_needs_full_resolution() -> None:
    """Parity of x: eta2 with x is 1, yet neuron 0 tells only two of the four values of x apart."""
    parity = _report(["x%2", "y3", "-z"], [-1.0, -1.0, -1.0], {"x": 0, "y": 1, "z": 2})
    assert parity.encodes[0] == "x" and parity.eta2[0]["x"] == pytest.approx(1.0)
    verdict = encoder_verdict(parity)
    assert not verdict
    assert verdict.reason == (
        "neuron 0 resolves x with accuracy 0.5000 < 0.99 (smallest gap between level means 0.00 within-level "
        "SDs); reconstruction from the kept neurons alone: accuracy x 0.5000 < 0.99"
    )
    assert not encoder_verdict(parity, threshold=0.5 + 1e-9) and encoder_verdict(parity, threshold=0.5)


def test_encoder_verdict_needs_the_reconstruction_from_the_kept_neurons() -> None:
    """Neuron 3 also holds x but is cut: a decoder reading x there fails; one reading neuron 0 passes."""
    columns, selection = ["x", "y3", "-z", "x"], [-1.0, -1.0, -1.0, 1.0]
    good = _report(columns, selection, {"x": 0, "y": 1, "z": 2})
    bad = _report(columns, selection, {"x": 3, "y": 1, "z": 2})
    verdict = encoder_verdict(bad)
    assert not verdict
    assert verdict.reason == "reconstruction from the kept neurons alone: accuracy x 0.2500 < 0.99"
    assert encoder_verdict(good) and good.reconstruction == {"x": 1.0, "y": 1.0, "z": 1.0}
    assert bad.kept == good.kept and bad.resolution == good.resolution  # the same encoder


def test_decoder_verdict() -> None:
    report = PAPER_LIKE  # neuron 0 -> z, 1 -> y, 6 -> x
    verdict = decoder_verdict(XY_DECODER, report, ("x", "y"))
    assert verdict and verdict.reason == "decoder keeps neurons [1, 6] (y/x)"
    assert decoder_verdict(XY_DECODER, report, ("y", "x"))
    verdict = decoder_verdict(XY_DECODER, report, ("y", "z"))
    assert not verdict and verdict.reason == "decoder keeps neurons [1, 6] encoding y/x, expected y/z"
    extra = [*XY_DECODER[:2], -0.5, *XY_DECODER[3:]]  # also keeps a neuron that the encoder cut off
    verdict = decoder_verdict(extra, report, ("x", "y"))
    assert not verdict and verdict.reason == "decoder keeps 3 neurons [1, 2, 6], expected 2 (x/y)"
    swapped = [*XY_DECODER[:6], 1.0, XY_DECODER[7]]
    swapped[3] = -1.0  # keeps y and neuron 3, which the encoder cuts, instead of x
    verdict = decoder_verdict(swapped, report, ("x", "y"))
    assert not verdict and verdict.reason == "decoder keeps neurons [1, 3], of which the encoder cuts [3]"
    with pytest.raises(ValueError, match="decoder selection values"):
        decoder_verdict(XY_DECODER[:6], report, ("x", "y"))
    with pytest.raises(ValueError, match="plane_axes"):
        decoder_verdict(XY_DECODER, report, ("x", "x"))


def test_each_decoder_is_judged_on_its_own() -> None:
    """A redundant second z neuron fails the encoder, not a decoder that keeps y and one of the z neurons."""
    redundant = _report(["-z", "y3", "x", "-z"], [-1.0, -1.0, -1.0, -1.0], {"x": 2, "y": 1, "z": 0})
    assert redundant.encodes == {0: "z", 1: "y", 2: "x", 3: "z"}
    verdict = encoder_verdict(redundant)
    assert not verdict and verdict.reason.startswith("4 neurons kept [0, 1, 2, 3], expected 3")
    assert decoder_verdict([1.0, -1.0, 1.0, -1.0], redundant, ("y", "z"))  # y and the second z
    assert decoder_verdict([-1.0, -1.0, 1.0, 1.0], redundant, ("y", "z"))  # y and the first z
    assert decoder_verdict([1.0, 1.0, -1.0, -1.0], redundant, ("x", "z"))
    verdict = decoder_verdict([-1.0, 1.0, 1.0, -1.0], redundant, ("y", "z"))
    assert not verdict and verdict.reason == "decoder keeps neurons [0, 3] encoding z/z, expected y/z"
    verdict = decoder_verdict([1.0, -1.0, 1.0, 1.0], redundant, ("y", "z"))
    assert not verdict and verdict.reason == "decoder keeps 1 neurons [1], expected 2 (y/z)"


def test_a_decoder_needs_full_resolution_of_its_neurons() -> None:
    """The same definition of "encodes" as the encoder's: a decoder keeping a parity-of-x neuron fails."""
    parity = _report(["x%2", "y3", "-z"], [-1.0, -1.0, -1.0], {"x": 0, "y": 1, "z": 2})
    verdict = decoder_verdict([-1.0, -1.0, 1.0], parity, ("x", "y"))
    assert not verdict and verdict.reason.startswith("neuron 0 resolves x with accuracy 0.5000 < 0.99")
    assert decoder_verdict([1.0, -1.0, -1.0], parity, ("y", "z"))  # its plane does not need x
    weak = _report(["x+y/10", "y3", "-z"], [-1.0, -1.0, -1.0], {"x": 0, "y": 1, "z": 2})
    verdict = decoder_verdict([-1.0, -1.0, 1.0], weak, ("x", "y"))
    assert not verdict and verdict.reason == "neuron 0 encodes x with eta2 0.9843 < 0.99"


def test_selection_metrics_is_json_ready_with_every_number() -> None:
    encoder = KnownEncoder(["-z", "y3", "x", "-z"], [-1.0, -1.0, -1.0, -1.0])  # a redundant z
    decoder = KnownDecoder(encoder.columns, {"x": 2, "y": 1, "z": 0})
    selection = {
        "env1": [1.0, -1.0, -1.0, 1.0],
        "env2": [1.0, -1.0, 1.0, -1.0],
        "env3": [-1.0, 1.0, 1.0, 1.0],
    }
    planes = {"env1": ("x", "y"), "env2": ("y", "z"), "env3": ("x", "z")}
    metrics = json.loads(
        json.dumps(selection_metrics(encoder, decoder, selection, planes, GRID), allow_nan=False)
    )
    assert set(metrics) == {"encoder", "decoders", "verdict"}
    encoder_keys = {
        "selection", "kept", "encodes", "eta2", "resolution", "reconstruction", "splits", "verdict"
    }  # fmt: skip
    assert set(metrics["encoder"]) == encoder_keys
    assert metrics["encoder"]["resolution"] == {
        str(i): {"accuracy": 1.0, "gap_ratio": None} for i in range(4)
    }
    assert metrics["encoder"]["reconstruction"] == {"x": 1.0, "y": 1.0, "z": 1.0}
    assert metrics["encoder"]["verdict"]["ok"] is False
    assert {name: d["verdict"]["ok"] for name, d in metrics["decoders"].items()} == {
        "env1": True,
        "env2": True,
        "env3": False,
    }
    assert metrics["decoders"]["env2"] == {
        "selection": [1.0, -1.0, 1.0, -1.0],
        "kept": [1, 3],
        "plane": ["y", "z"],
        "verdict": {"ok": True, "reason": "decoder keeps neurons [1, 3] (y/z)"},
    }
    assert metrics["verdict"] is False


def test_split_coordinate_is_named_with_what_each_piece_reads() -> None:
    """x split into the distance to a reward at x = 2 and the side of it: each piece alone resolves x only
    in part, both together fully; the verdict says so, with the numbers, and the metrics keep them.

    On x = 0..3, |x - 2| = 2, 1, 0, 1 and sign(x - 2) = -1, -1, 0, 1, so η² of the distance with the side
    is 0.375 / 0.5 = 0.75 and of the side with the distance 0.1875 / 0.6875 = 3/11."""
    columns = ["|x-2|", "y3", "sgn(x-2)", "-z"]
    encoder = KnownEncoder(columns, [-1.0, -1.0, -1.0, -1.0])
    decoder = KnownDecoder(columns, {"x": 0, "y": 1, "z": 3})
    selection = {"env1": [-1.0, -1.0, 1.0, 1.0]}
    metrics = selection_metrics(
        encoder, decoder, selection, {"env1": ("x", "y")}, GRID, reward_at={"x": 2, "y": 4}
    )
    assert metrics["encoder"]["splits"] == [
        {
            "coordinate": "x",
            "neurons": [0, 2],
            "joint_accuracy": 1.0,
            "reward_at": 2,
            "distance_eta2": {"0": 1.0, "2": pytest.approx(3 / 11)},
            "side_eta2": {"0": pytest.approx(0.75), "2": 1.0},
        }
    ]
    reason = metrics["encoder"]["verdict"]["reason"]
    assert reason.endswith(
        "x is split over neurons 0 and 2, which together resolve it (accuracy 1.0000): neuron 0 reads the "
        "distance to the reward at x = 2 (eta2 1.0000, with the side 0.7500), neuron 2 reads the side of the "
        "reward at x = 2 (eta2 1.0000, with the distance 0.2727)"
    )
    assert "neuron 0 resolves x with accuracy 0.7500" in reason
    # Without a reward position the split is still named, without the reading.
    plain = selection_metrics(encoder, decoder, selection, {"env1": ("x", "y")}, GRID)
    assert plain["encoder"]["verdict"]["reason"].endswith("(accuracy 1.0000)")
    assert plain["encoder"]["splits"][0]["distance_eta2"] == {}


def test_reward_positions_are_those_the_agents_agree_on() -> None:
    paper = [
        SubGridConfig(plane=(1, 1, 0), reward_pos=(6, 11)),
        SubGridConfig(plane=(0, 1, 1), reward_pos=(11, 6)),
        SubGridConfig(plane=(1, 0, 1), reward_pos=(6, 6)),
    ]
    assert reward_positions(paper, COORDS) == {"x": 6, "y": 11, "z": 6}
    disagree = [*paper, SubGridConfig(plane=(1, 1, 0), reward_pos=(3, 11))]
    assert reward_positions(disagree, COORDS) == {"y": 11, "z": 6}
