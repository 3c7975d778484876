"""The paper's Section 6 result, judged: the encoder's verdict, each agent decoder's, and the metrics file's.

The measurements are scinet.analysis' (η², resolution, reconstruction); this module only decides whether they
are the paper's result and says why not, in words with numbers, for logs and metrics files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scinet.analysis import (
    COORDS,
    KEEP_BELOW,
    RepresentationReport,
    analyze_encoder,
    grid_cells,
    latent_over_grid,
)
from scinet.nets import DenseDecoder, DenseEncoder
from scinet.splits import Split, find_splits


@dataclass(frozen=True)
class Verdict:
    """Whether a result matches the paper's, with the reason in words for logs and metrics files."""

    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "reason": self.reason}


def full_encoding_shortfalls(
    report: RepresentationReport, neurons: Sequence[int], threshold: float
) -> list[str]:
    """In words, with numbers: why each of ``neurons`` (kept by the encoder) does not fully encode its
    coordinate, i.e. fails η² ≥ threshold (it carries something else too) or resolution accuracy ≥ threshold
    (it carries only a coarse function of the coordinate). Empty when all of them do.

    One definition of "neuron i encodes coordinate c" for both verdicts, so that a decoder cannot pass on a
    neuron that would fail the encoder's test.
    """
    problems = []
    for i in neurons:
        coord, resolution = report.encodes[i], report.resolution[i]
        if report.eta2[i][coord] < threshold:
            problems.append(
                f"neuron {i} encodes {coord} with eta2 {report.eta2[i][coord]:.4f} < {threshold:g}"
            )
        if resolution.accuracy < threshold:
            problems.append(
                f"neuron {i} resolves {coord} with accuracy {resolution.accuracy:.4f} < {threshold:g} "
                f"(smallest gap between level means {resolution.gap_ratio:.2f} within-level SDs)"
            )
    return problems


def encoder_verdict(
    report: RepresentationReport, threshold: float = 0.99, splits: Sequence[Split] = ()
) -> Verdict:
    """The paper's encoder result at full resolution: exactly 3 neurons kept, one per coordinate by η², each
    with η² ≥ threshold and resolution accuracy ≥ threshold, and the autoencoder decoder reconstructing x, y
    and z from those 3 alone with accuracy ≥ threshold.

    The reason lists every shortfall, not only the first, so that one metrics file tells all that is wrong,
    and ends with what each coordinate split over several neurons (``splits``, :func:`find_splits`) shows.
    """
    problems = []
    if len(report.kept) != 3:
        problems.append(f"{len(report.kept)} neurons kept {list(report.kept)}, expected 3")
    coords = sorted(report.encodes.values())
    if coords != sorted(COORDS):
        problems.append(f"kept neurons encode {coords}, expected x, y and z one each")
    problems += full_encoding_shortfalls(report, report.kept, threshold)
    poor = [f"{c} {report.reconstruction[c]:.4f}" for c in COORDS if report.reconstruction[c] < threshold]
    if poor:
        problems.append(
            f"reconstruction from the kept neurons alone: accuracy {', '.join(poor)} < {threshold:g}"
        )
    if problems:
        return Verdict(False, "; ".join(problems + [split.describe() for split in splits]))
    mapping = ", ".join(f"{i}->{report.encodes[i]}" for i in report.kept)
    eta2 = min(report.eta2[i][report.encodes[i]] for i in report.kept)
    resolved = min(report.resolution[i].accuracy for i in report.kept)
    rebuilt = min(report.reconstruction.values())
    return Verdict(
        True,
        f"3 neurons kept ({mapping}), eta2 >= {eta2:.4f}, resolution accuracy >= {resolved:.4f}, "
        f"reconstruction accuracy >= {rebuilt:.4f}",
    )


def decoder_verdict(
    decoder_selection: Sequence[float],
    report: RepresentationReport,
    plane_axes: tuple[str, str],
    threshold: float = 0.99,
) -> Verdict:
    """The paper's decoder result: a decoder keeps exactly 2 neurons, both kept by the encoder, which encode
    its plane's two coordinates one each, fully (:func:`full_encoding_shortfalls`).

    ``decoder_selection`` holds one value per latent neuron, indexed like the encoder's. The decoder is judged
    on its own: an encoder that keeps a redundant fourth neuron fails :func:`encoder_verdict`, but a decoder
    that keeps one y neuron and one of two z neurons has still found its plane.
    """
    if len(decoder_selection) != len(report.selection):
        raise ValueError(
            f"{len(decoder_selection)} decoder selection values for {len(report.selection)} latents"
        )
    if len(set(plane_axes)) != 2 or not set(plane_axes) <= set(COORDS):
        raise ValueError(f"plane_axes must be two different coordinates of {COORDS}, got {plane_axes}")
    plane = "/".join(plane_axes)
    kept = sorted(i for i, s in enumerate(decoder_selection) if s < KEEP_BELOW)
    if len(kept) != 2:
        return Verdict(False, f"decoder keeps {len(kept)} neurons {kept}, expected 2 ({plane})")
    cut = [i for i in kept if i not in report.kept]
    if cut:
        return Verdict(False, f"decoder keeps neurons {kept}, of which the encoder cuts {cut}")
    coords = [report.encodes[i] for i in kept]
    if sorted(coords) != sorted(plane_axes):
        return Verdict(False, f"decoder keeps neurons {kept} encoding {'/'.join(coords)}, expected {plane}")
    problems = full_encoding_shortfalls(report, kept, threshold)
    if problems:
        return Verdict(False, "; ".join(problems))
    return Verdict(True, f"decoder keeps neurons {kept} ({'/'.join(coords)})")


def selection_metrics(
    encoder: DenseEncoder,
    autoencoder_decoder: DenseDecoder,
    decoder_selection: dict[str, Sequence[float]],
    plane_axes: dict[str, tuple[str, str]],
    grid_size: Sequence[int] = (12, 12, 12),
    threshold: float = 0.99,
    reward_at: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The paper's Section 6 result for one trained selection model, as one JSON-ready dict.

    ``decoder_selection`` and ``plane_axes`` are keyed by objective (env1, ...): each decoder's selection
    values and the two coordinates of its agent's plane. The encoder part is :func:`analyze_encoder`'s
    report (with ``autoencoder_decoder`` for the reconstruction), the coordinates split over several kept
    neurons (read against ``reward_at``, the reward's position along each coordinate where the agents
    agree on one) and :func:`encoder_verdict`; each decoder gets its values, kept neurons and
    :func:`decoder_verdict`, which does not depend on the encoder's.
    """
    report = analyze_encoder(encoder, autoencoder_decoder, grid_size)
    latent = latent_over_grid(encoder, grid_size)
    splits = find_splits(latent, grid_cells(grid_size), report.encodes, COORDS, reward_at or {})
    decoders = {}
    for name, values in decoder_selection.items():
        verdict = decoder_verdict(values, report, plane_axes[name], threshold)
        decoders[name] = {
            "selection": [float(v) for v in values],
            "kept": [i for i, v in enumerate(values) if v < KEEP_BELOW],
            "plane": list(plane_axes[name]),
            "verdict": verdict.as_dict(),
        }
    encoder_ok = encoder_verdict(report, threshold, splits)
    return {
        "encoder": {
            **report.as_dict(),
            "splits": [split.as_dict() for split in splits],
            "verdict": encoder_ok.as_dict(),
        },
        "decoders": decoders,
        "verdict": bool(encoder_ok) and all(d["verdict"]["ok"] for d in decoders.values()),
    }
