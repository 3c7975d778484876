"""`dvc plots show` and `dvc plots diff` show every curve offline: each TSV curve has a PNG rendering too.

DVC draws the TSV curves with vega, vega-lite and vega-embed, which its page loads from a CDN: without a
network those panels stay empty. Every curve is therefore also drawn as a PNG by a cheap stage (figures or
robustness, never a training stage) and declared as a plot, which the page embeds as a local file.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DVC_YAML = yaml.safe_load((ROOT / "dvc.yaml").read_text())
PNG_STAGES = ("figures", "robustness")
"""The stages that draw the PNGs: seconds each, so that a new rendering never re-runs a training."""


def _declared() -> tuple[dict[str, dict], list[str]]:
    """The top-level plots of dvc.yaml: curves (id -> definition) and images (paths)."""
    curves: dict[str, dict] = {}
    images: list[str] = []
    for plot in DVC_YAML["plots"]:
        if isinstance(plot, str):
            images.append(plot)
        else:
            curves.update(plot)
    return curves, images


def _drawn_by_cheap_stages() -> set[str]:
    drawn = set()
    for name in PNG_STAGES:
        for out in DVC_YAML["stages"][name]["outs"]:
            path, options = next(iter(out.items())) if isinstance(out, dict) else (out, {})
            if path.endswith(".png"):
                assert options == {"cache": False}, f"{path}: in git, so that it shows on any clone"
                drawn.add(path)
    return drawn


def test_every_curve_has_a_png_rendering_declared_as_a_plot() -> None:
    curves, images = _declared()
    assert curves, "no TSV curve declared"
    missing = sorted(name for name in curves if f"plots/{name}.png" not in images)
    assert not missing, f"curves without a PNG rendering (plots/<curve>.png) among the plots: {missing}"
    for definition in curves.values():
        assert all(source.endswith(".tsv") and (ROOT / source).is_file() for source in definition["y"])


def test_every_png_plot_is_drawn_by_a_cheap_stage_and_committed() -> None:
    _, images = _declared()
    drawn = _drawn_by_cheap_stages()
    assert set(images) == drawn, "every PNG the figures and robustness stages draw is a plot, and only those"
    for image in images:
        assert (ROOT / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image


def test_dvc_plots_output_is_ignored_by_git() -> None:
    """`dvc plots show` writes dvc_plots/ in the repository root: a rendering, never a file to commit."""
    result = subprocess.run(
        ["git", "check-ignore", "-q", "dvc_plots/index.html"], cwd=ROOT, capture_output=True, check=False
    )
    assert result.returncode == 0, "dvc_plots/ is not in .gitignore"


def test_plots_show_embeds_every_png_as_a_local_file(tmp_path: Path) -> None:
    """The headless check docs/pipeline.md documents: the page's images are local copies, one per PNG plot."""
    out = tmp_path / "page"
    result = subprocess.run(
        [sys.executable, "-m", "dvc", "plots", "show", "-o", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    sources = re.findall(r'<img src="([^"]+)"', (out / "index.html").read_text())
    _, images = _declared()
    assert len(sources) == len(images)
    for image in images:
        flat = image.replace("/", "_")
        (source,) = [s for s in sources if s.endswith(flat)]
        assert not re.match(r"[a-z]+://", source), source
        assert (out / source).read_bytes() == (ROOT / image).read_bytes()
