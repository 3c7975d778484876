"""The paper's figures for Section 6, drawn as PNG from what the pipeline has already written.

Every function takes data that is already loaded (DataFrames, dicts, arrays) and one output path, and writes
one PNG; reading files and params.yaml is the stage's job, so the figures can be tested on small synthetic
inputs. The published curves (the authors' Zenodo logs) are optional everywhere: when a table is ``None`` or
holds nothing for a panel, that panel says "published data unavailable" instead, so a figure never shows
anything that could be mistaken for published data. Each function returns a :class:`FigureResult` counting
what it drew, which is what the tests check.

Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas, never through ``pyplot``: no
global backend switch, no figure registry to leak, and it renders without a display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from scinet.atomic import atomic_write

UNAVAILABLE_NOTE = "published data unavailable"
COORDS = ("x", "y", "z")
PLANES = ((0, 1), (1, 2), (0, 2))
"""The three coordinate planes of the latent-response figure: xy, yz, xz (the agents' planes)."""
ENCODER_IDS = ("enc", "encoder")
"""The ``env_id`` the authors' selection log gives the encoder's row (decoders use the objective names)."""
MAX_POINTS = 2000
"""Published logs have one row per episode (≈ 1M per agent); thinned to this many points a line."""


@dataclass(frozen=True)
class FigureResult:
    """What one figure drew: ``ours`` and ``published`` line/image series, ``notes`` "unavailable" notes."""

    path: Path
    ours: int
    published: int
    notes: int


def save_png(fig: Figure, path: Path) -> None:
    """Writes through a temporary file so that an interrupted stage never leaves a truncated PNG.

    Every figure of the pipeline goes through here (:mod:`scinet.trajectories` too), so they share one dpi
    and one writer; Matplotlib puts no date into a PNG, so the same inputs give the same bytes and an
    unchanged figure shows no diff in git.
    """
    FigureCanvasAgg(fig)
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=110)


def _note(ax: Axes, text: str = UNAVAILABLE_NOTE) -> int:
    """The visible placeholder where published curves would be; returns 1 (one note drawn)."""
    ax.text(
        0.98, 0.97, text, transform=ax.transAxes, ha="right", va="top", fontsize=9, color="0.35",
        style="italic", bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.6", "alpha": 0.9},
    )  # fmt: skip
    return 1


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    """At most :data:`MAX_POINTS` evenly spaced rows: a line of a million points only slows the PNG down."""
    if len(frame) <= MAX_POINTS:
        return frame
    return frame.iloc[np.linspace(0, len(frame) - 1, MAX_POINTS).astype(int)]


def _has_rows(table: pd.DataFrame | None) -> bool:
    return table is not None and len(table) > 0


def learning_curves(
    curves: Mapping[str, pd.DataFrame],
    optimal: Mapping[str, float],
    out: Path,
    published_episodes: pd.DataFrame | None = None,
    final: Mapping[str, float] | None = None,
    window: int = 5000,
) -> FigureResult:
    """Mean steps to the reward vs training episodes, one panel per agent, beside the authors' runs.

    ``curves[env]`` has columns ``episodes`` and ``mean_steps`` (our windowed means); ``optimal[env]`` is the
    exact optimal mean path, drawn dashed because it is the floor a learning curve can approach. The published
    ``episodes.tsv`` (``env_id, episode, length``) is drawn as a rolling mean over ``window`` episodes so it
    is on the same footing as our windowed curve. ``final[env]`` (the evaluated softmax mean) goes in the
    legend.
    """
    names = list(curves)
    fig = Figure(figsize=(5.0 * len(names), 4.2), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False, sharey=True)[0]
    ours = published = notes = 0
    for ax, name in zip(axes, names, strict=True):
        curve = curves[name]
        label = "ours" if not final or name not in final else f"ours (final softmax mean {final[name]:.2f})"
        ax.plot(curve["episodes"], curve["mean_steps"], color="C0", lw=1.5, label=label)
        ours += 1
        if name in optimal:
            ax.axhline(optimal[name], color="k", ls="--", lw=1, label=f"optimal mean {optimal[name]:.2f}")
        rows = None
        if _has_rows(published_episodes):
            rows = published_episodes[published_episodes["env_id"].astype(str).str.strip() == name]
        if rows is not None and len(rows):
            rows = rows.sort_values("episode")
            smooth = rows["length"].rolling(window, min_periods=1).mean()
            shown = _thin(pd.DataFrame({"episode": rows["episode"].to_numpy(), "mean": smooth.to_numpy()}))
            ax.plot(shown["episode"], shown["mean"], color="C3", lw=1.2, label="published (Zenodo)")
            published += 1
        else:
            notes += _note(ax)
        ax.set_yscale("log")
        ax.set_title(f"{name}: learning curve")
        ax.set_xlabel("training episodes")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="center right", fontsize=8)
    axes[0].set_ylabel("mean steps to the reward")
    save_png(fig, out)
    return FigureResult(Path(out), ours, published, notes)


def selection_losses(
    curve: pd.DataFrame,
    objectives: Sequence[str],
    out: Path,
    published_losses: pd.DataFrame | None = None,
) -> FigureResult:
    """Each decoder's smooth-L1 loss and the autoencoder's BCE vs step, log scale, beside the authors' losses.

    ``curve`` is ``metrics/selection/curve.tsv``: ``decoder{k}_loss`` belongs to ``objectives[k]``. The
    published ``losses.tsv`` has loss types ``Policy`` (decoders) and ``Autoencoder``; its ``training_count``
    is drawn on the same step axis, one dashed line per (loss type, env_id).
    """
    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    ax_dec, ax_ae = fig.subplots(1, 2, sharex=True)
    ours = published = notes = 0
    for k, name in enumerate(objectives):
        ax_dec.plot(curve["step"], curve[f"decoder{k}_loss"], color=f"C{k}", lw=1.2, label=f"{name} decoder")
        ours += 1
    ax_ae.plot(curve["step"], curve["reconstruction_bce"], color="C0", lw=1.2, label="autoencoder (ours)")
    ours += 1
    for ax, loss_type in ((ax_dec, "policy"), (ax_ae, "autoencoder")):
        drawn = 0
        if _has_rows(published_losses):
            kind = published_losses["loss_type"].astype(str).str.strip().str.lower()
            rows = published_losses[kind == loss_type]
            for i, (env_id, group) in enumerate(sorted(rows.groupby(rows["env_id"].astype(str).str.strip()))):
                shown = _thin(group.sort_values("training_count"))
                colour = f"C{objectives.index(env_id)}" if env_id in objectives else f"C{3 + i}"
                ax.plot(shown["training_count"], shown["loss"], color=colour, ls="--", lw=1, alpha=0.8,
                        label=f"published {env_id} (Zenodo)")  # fmt: skip
                drawn += 1
        if not drawn:
            notes += _note(ax)
        published += drawn
        ax.set_yscale("log")
        ax.set_xlabel("training step (per decoder)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    ax_dec.set_ylabel("smooth-L1 loss")
    ax_dec.set_title("agent decoders: smooth-L1 loss")
    ax_ae.set_ylabel("binary cross-entropy")
    ax_ae.set_title("autoencoder: reconstruction BCE")
    save_png(fig, out)
    return FigureResult(Path(out), ours, published, notes)


def _published_panels(table: pd.DataFrame | None, objectives: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Splits the published long-format selection table by panel: "encoder" and each objective name."""
    if not _has_rows(table):
        return {}
    ids = table["env_id"].astype(str).str.strip()
    panels = {"encoder": table[ids.str.lower().isin(ENCODER_IDS)]}
    panels.update({name: table[ids == name] for name in objectives})
    return {key: rows for key, rows in panels.items() if len(rows)}


def selection_values(
    curve: pd.DataFrame,
    objectives: Sequence[str],
    encodes: Mapping[int, str],
    out: Path,
    published_selection: pd.DataFrame | None = None,
    planes: Mapping[str, Sequence[str]] | None = None,
) -> FigureResult:
    """The paper's selection figure: every latent neuron's selection value over training, per network.

    One panel for the encoder (``encoder_s{i}``) and one per decoder (``decoder{k}_s{i}``). A neuron is cut
    off when its value is ≥ 0 (its noise drowns its signal), hence the line at 0. The neurons the encoder
    keeps at the end (``encodes``: index -> coordinate) are drawn bold and named by their coordinate in every
    panel, so one can see each decoder keep exactly its plane's two. The published ``selection.tsv`` counts
    save points, not steps, so it is drawn against a secondary (top) axis of its own. ``planes[env]`` (the
    coordinates of each agent's plane) goes in the decoder panels' titles.
    """
    latent = sorted(int(c.rsplit("_s", 1)[1]) for c in curve.columns if c.startswith("encoder_s"))
    encodes = {int(k): v for k, v in encodes.items()}
    panels = [("encoder", "encoder"), *((name, f"decoder{k}") for k, name in enumerate(objectives))]
    theirs = _published_panels(published_selection, objectives)
    cols = 2 if len(panels) > 1 else 1
    rows_n = -(-len(panels) // cols)
    fig = Figure(figsize=(6.0 * cols, 3.9 * rows_n), layout="constrained")
    axes = fig.subplots(rows_n, cols, squeeze=False, sharex=True).ravel()
    ours = published = notes = 0
    for ax, (name, prefix) in zip(axes, panels, strict=False):
        first_other = True
        for i in latent:
            if i in encodes:
                colour = f"C{COORDS.index(encodes[i])}" if encodes[i] in COORDS else "C4"
                label = f"neuron {i} ({encodes[i]})"
                style: dict = {"color": colour, "lw": 2.0, "zorder": 3, "label": label}
            else:
                label = "other neurons" if first_other else None
                style = {"color": "0.65", "lw": 0.9, "zorder": 2, "label": label}
                first_other = False
            ax.plot(curve["step"], curve[f"{prefix}_s{i}"], **style)
            ours += 1
        ax.axhline(0.0, color="k", lw=1, ls=":", label="cut-off (0)")
        rows = theirs.get(name)
        extra: list = []
        if rows is not None:
            top = ax.twiny()
            for j, (_, group) in enumerate(rows.groupby("neuron")):
                group = group.sort_values("step")
                top.plot(group["step"], group["value"], color="C3", ls="--", lw=0.9, alpha=0.7,
                         label="published (Zenodo)" if j == 0 else None)  # fmt: skip
                published += 1
            top.set_xlabel("published save point", fontsize=8, color="C3")
            top.tick_params(axis="x", labelsize=7, colors="C3")
            extra = top.get_legend_handles_labels()[0]
        else:
            notes += _note(ax)
        title = "encoder" if name == "encoder" else f"{name} decoder"
        if planes and name in planes:
            title += f" ({''.join(planes[name])} plane)"
        ax.set_title(f"{title}: selection values", fontsize=10)
        ax.set_ylabel("selection value s")
        ax.grid(True, alpha=0.3)
        ax.legend(handles=ax.get_legend_handles_labels()[0] + extra, loc="lower right", fontsize=7, ncols=2)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    for ax in axes[max(0, len(panels) - cols) : len(panels)]:
        ax.set_xlabel("training step (per decoder)")
        ax.xaxis.set_tick_params(labelbottom=True)
    save_png(fig, out)
    return FigureResult(Path(out), ours, published, notes)


def latent_responses(
    latent: np.ndarray,
    grid_size: Sequence[int],
    encodes: Mapping[int, str],
    eta2: Mapping[int, Mapping[str, float]],
    out: Path,
    fixed: Sequence[int] | None = None,
) -> FigureResult:
    """Heat maps of each kept encoder neuron's noiseless activation over the xy, yz and xz planes.

    ``latent`` is ``(n_cells, latent_dim)`` in the order of :func:`scinet.analysis.grid_cells` (x slowest);
    the coordinate off each plane is held at ``fixed`` (default: the middle of each side). A neuron that
    encodes x shows stripes across x in the xy and xz planes and is flat in yz, which is what η² ≈ 1 says in
    numbers; the title of each row gives the coordinate and its η². Only our model is drawn (no published
    counterpart here), so this figure has no "unavailable" note.
    """
    size = tuple(int(n) for n in grid_size)
    fixed = tuple(n // 2 for n in size) if fixed is None else tuple(int(v) for v in fixed)
    kept = sorted(int(k) for k in encodes)
    cube = np.asarray(latent).reshape(*size, -1)
    fig = Figure(figsize=(11.0, 3.2 * max(1, len(kept)) + 0.3), layout="constrained")
    if not kept:
        ax = fig.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, "the encoder keeps no latent neuron", ha="center", va="center")
        save_png(fig, out)
        return FigureResult(Path(out), 0, 0, 0)
    axes = fig.subplots(len(kept), len(PLANES), squeeze=False)
    for row, neuron in enumerate(kept):
        values = cube[..., neuron]
        vmin, vmax = float(values.min()), float(values.max())
        coord = encodes[neuron]
        score = float(eta2.get(neuron, eta2.get(str(neuron), {})).get(coord, float("nan")))  # type: ignore[call-overload]
        image = None
        for col, (a, b) in enumerate(PLANES):
            c = 3 - a - b
            index: list[int | slice] = [slice(None)] * 3
            index[c] = fixed[c]
            plane = values[tuple(index)]  # axes (a, b) in that order since a < b
            ax = axes[row, col]
            image = ax.imshow(plane.T, origin="lower", cmap="viridis", vmin=vmin, vmax=vmax, aspect="equal")
            ax.set_xticks(range(0, size[a], max(1, size[a] // 6)))
            ax.set_yticks(range(0, size[b], max(1, size[b] // 6)))
            ax.set_xlabel(COORDS[a])
            ax.set_ylabel(COORDS[b])
            ax.set_title(f"{COORDS[a]}{COORDS[b]} plane, {COORDS[c]} = {fixed[c]}", fontsize=9)
        fig.colorbar(image, ax=list(axes[row]), shrink=0.9, label=f"neuron {neuron} activation")
        axes[row, 0].annotate(
            f"neuron {neuron} encodes {coord} (η² = {score:.4f})", xy=(0, 1.18), xycoords="axes fraction",
            fontsize=11, fontweight="bold",
        )  # fmt: skip
    fig.suptitle("Kept latent neurons: noiseless activation over the grid")
    save_png(fig, out)
    return FigureResult(Path(out), len(kept) * len(PLANES), 0, 0)


def seed_selection_values(
    curves: Mapping[int, pd.DataFrame], holds: Mapping[int, bool], out: Path
) -> FigureResult:
    """Every seed's encoder selection values over training, one panel per seed, titled with its outcome.

    The robustness claim at a glance: a seed that holds shows three lines ending below 0 and five above; a
    split coordinate shows as a fourth line stuck between them.
    """
    seeds = list(curves)
    cols = min(len(seeds), 3)
    rows_n = -(-len(seeds) // cols)
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows_n), layout="constrained")
    axes = fig.subplots(rows_n, cols, squeeze=False, sharex=True, sharey=True).ravel()
    ours = 0
    for ax, seed in zip(axes, seeds, strict=False):
        curve = curves[seed]
        columns = sorted((c for c in curve.columns if c.startswith("encoder_s")), key=lambda c: int(c[9:]))
        for i, column in enumerate(columns):
            ax.plot(curve["step"], curve[column], color=f"C{i}", lw=1.0, label=f"neuron {column[9:]}")
            ours += 1
        ax.axhline(0.0, color="k", lw=1, ls=":")
        ax.set_title(f"seed {seed}: {'holds' if holds[seed] else 'fails'}", fontsize=10)
        ax.grid(True, alpha=0.3)
    for ax in axes[len(seeds) :]:
        ax.set_visible(False)
    axes[0].legend(loc="lower right", fontsize=6, ncols=2)
    for ax in axes[::cols]:
        ax.set_ylabel("encoder selection value")
    for ax in axes[max(0, len(seeds) - cols) : len(seeds)]:
        ax.set_xlabel("training step (per decoder)")
        ax.xaxis.set_tick_params(labelbottom=True)
    save_png(fig, out)
    return FigureResult(Path(out), ours, 0, 0)
