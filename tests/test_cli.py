"""`python -m scinet <command> --help` shows the default of every option that has one."""

from __future__ import annotations

import argparse

import pytest

from scinet.cli import _build_parser


def _commands() -> dict[str, argparse.ArgumentParser]:
    (subparsers,) = [a for a in _build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(subparsers.choices)


def _help_of(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The option's entry in ``--help``, as argparse prints it (``%(default)s`` expanded)."""
    formatter = parser._get_formatter()
    formatter.add_argument(action)
    return " ".join(formatter.format_help().split())


def test_every_command_is_covered() -> None:
    assert set(_commands()) >= {"evaluate", "play", "analyze-encoder"}


@pytest.mark.parametrize("command", sorted(_commands()))
def test_help_shows_every_options_default(command: str) -> None:
    parser = _commands()[command]
    hidden = []
    for action in parser._actions:
        if not action.option_strings or any(action.default is d for d in (None, False, argparse.SUPPRESS)):
            continue  # a positional, a flag, or an option without a default (0 is a default)
        entry = _help_of(parser, action)
        if "default" not in entry or str(action.default) not in entry.split("default", 1)[1]:
            hidden.append(f"{'/'.join(action.option_strings)} (default {action.default}): {entry}")
    assert not hidden, f"scinet {command} --help hides defaults: {hidden}"
