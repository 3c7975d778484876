"""The GPU readiness check runs its whole sequence on the CPU: what a lent GPU will run, proven here first."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_gpu_check_sequence_passes_on_the_cpu(tmp_path: Path) -> None:
    work = tmp_path / "work"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--device", "cpu", "--work", str(work)],
        capture_output=True, text=True, timeout=420, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = dict(re.findall(r"^\| ([^|]+?) \| ([^|]+?) \|$", result.stdout, re.MULTILINE))
    for rate in (
        "policy: env steps/s (async, 2 workers)",
        "policy: learner updates/s",
        "selection data: samples/s (async, 2 workers)",
        "selection async: decoder steps/s (3 decoders)",
        "selection fused: decoder steps/s (3 decoders)",
    ):
        assert float(rows[rate].replace(",", "")) > 0, rate
    assert re.fullmatch(r"\d+ % / \d+ %", rows["policy: predictor / learner busy"])
    assert result.stdout.rstrip().endswith("gpu_check: every check held")
    assert sorted(p.name for p in work.glob("*.pt")) == [
        "agent.pt", "selection_async.pt", "selection_fused.pt",
    ]  # fmt: skip  # finished runs leave no checkpoint behind
