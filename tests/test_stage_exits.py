"""How a stage script ends a stopped or failed run: one line on stderr, an exit code DVC treats as failure."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from scinet.errors import RoleFailed, TrainingInterrupted
from stages.common import exit_on_stop


@pytest.mark.parametrize(("resumable", "hint"), [(True, "; run the stage again to resume"), (False, "")])
def test_a_signal_exits_with_128_plus_its_number(
    resumable: bool, hint: str, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as stop, exit_on_stop("train_x", resumable=resumable):
        raise TrainingInterrupted(signal.SIGTERM, Path("ckpt.pt"))
    assert stop.value.code == 128 + signal.SIGTERM
    assert capsys.readouterr().err == f"train_x: stopped by SIGTERM; checkpoint: ckpt.pt{hint}\n"


def test_a_failed_role_exits_with_1_naming_it(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as stop, exit_on_stop("train_x", resumable=True):
        raise RoleFailed("trainer 2 died (exit code -9)")
    assert stop.value.code == 1
    assert capsys.readouterr().err == "train_x: trainer 2 died (exit code -9)\n"


def test_other_errors_pass_through() -> None:
    with pytest.raises(ValueError, match="bad"), exit_on_stop("train_x", resumable=True):
        raise ValueError("bad")
