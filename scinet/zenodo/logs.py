"""The authors' training logs, recognised by their line format and turned into tidy tables.

The original code writes three kinds of comma-separated text logs (file names are not relied on, since the
record's layout is unknown until it is downloaded):

- episode log, one line per episode in policy mode: ``time, env_id, total_reward, length``
  (e.g. ``2019-11-05 10:12:31, env1,     1.0000, 23``);
- loss log, one line per loss report in selection mode: ``time, loss_type, env_id, training_count, loss``
  (loss types ``Policy`` and ``Autoencoder``);
- selection log, one line per network and save point: ``env_id, [v0, ..., v7]`` (the selection neuron
  parameters; env ids env1..env3 for the decoders, ``enc`` for the encoder).

A file is a log of a kind when its non-blank lines match that kind's line format except for at most one line
or a fraction ``1 - MIN_MATCH_FRACTION`` of them, whichever is more (a run killed mid-write leaves a truncated
last line); those lines are dropped and counted. A file that is not UTF-8 text or matches no kind is
"unknown": listed, never fatal.

Tables are tab-separated with a header, one row per observation (tidy), each with the ``source`` file it came
from; the selection log becomes long format, one row per (row, neuron).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

MIN_MATCH_FRACTION = 0.9
_SAMPLE_LINES = 2000  # lines used to pick the format before the whole file is parsed

_TIME = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?"
_ID = r"[A-Za-z_][\w.-]*"
_NUM = r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[nN]a[nN]|[iI]nf)"
_SEP = r"\s*,\s*"

LINE_FORMATS: dict[str, str] = {
    "episodes": (
        rf"\s*(?P<time>{_TIME}){_SEP}(?P<env_id>{_ID}){_SEP}(?P<total_reward>{_NUM}){_SEP}(?P<length>\d+)\s*"
    ),
    "losses": (
        rf"\s*(?P<time>{_TIME}){_SEP}(?P<loss_type>{_ID}){_SEP}(?P<env_id>{_ID}){_SEP}"
        rf"(?P<training_count>\d+){_SEP}(?P<loss>{_NUM})\s*"
    ),
    "selection": rf"\s*(?P<env_id>{_ID}){_SEP}\[(?P<values>\s*{_NUM}(?:{_SEP}{_NUM})*\s*)\]\s*",
}

COLUMNS: dict[str, list[str]] = {
    "episodes": ["time", "env_id", "episode", "total_reward", "length", "source"],
    "losses": ["time", "loss_type", "env_id", "training_count", "loss", "source"],
    "selection": ["env_id", "step", "neuron", "value", "source"],
}
"""Columns of each table. ``episode`` is the 1-based episode number of its env in its source file (times
have one-second resolution, so file order is the only episode order); ``step`` is the 0-based index of a
selection row among its env's rows in its source file, ``neuron`` the latent index."""


@dataclass(frozen=True)
class ParsedLog:
    """One recognised log file: its kind, how many rows it gave, how many lines were dropped."""

    source: str
    kind: str
    rows: int
    skipped_lines: int


@dataclass
class LogTables:
    """Everything parsed from a record: one table per log kind, the logs read and the files not understood."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    logs: list[ParsedLog] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def _read_lines(path: Path) -> pd.Series | None:
    """The non-blank lines of a UTF-8 text file, or ``None`` for a binary or empty file."""
    data = path.read_bytes()
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    lines = [line for line in text.splitlines() if line.strip()]
    return pd.Series(lines, dtype=object) if lines else None


def _enough(matched: int, total: int) -> bool:
    """Whether ``matched`` of ``total`` lines make a log (see the module docstring)."""
    return matched >= 1 and total - matched <= max(1.0, (1 - MIN_MATCH_FRACTION) * total)


def detect_kind(lines: pd.Series) -> str | None:
    """The log kind whose line format matches most of the first lines, if it matches enough of them."""
    sample = lines.iloc[:_SAMPLE_LINES]
    best, best_matched = None, 0
    for kind, pattern in LINE_FORMATS.items():
        matched = int(sample.str.fullmatch(pattern).sum())
        if matched > best_matched:
            best, best_matched = kind, matched
    return best if _enough(best_matched, len(sample)) else None


def parse_log(path: Path, source: str) -> tuple[str, pd.DataFrame, int] | None:
    """(kind, tidy rows, dropped lines) of one file, or ``None`` if it is not one of the three logs."""
    lines = _read_lines(path)
    if lines is None:
        return None
    kind = detect_kind(lines)
    if kind is None:
        return None
    fields = lines.str.extract(f"^{LINE_FORMATS[kind]}$")
    matched = fields.dropna(subset=[fields.columns[0]])
    if not _enough(len(matched), len(lines)):  # the first lines matched, the whole file does not
        return None
    table = _TIDY[kind](matched.reset_index(drop=True), source)
    return kind, table, len(lines) - len(matched)


def _episodes(fields: pd.DataFrame, source: str) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "time": fields["time"].astype(str),
            "env_id": fields["env_id"].astype(str),
            "episode": fields.groupby("env_id").cumcount() + 1,
            "total_reward": pd.to_numeric(fields["total_reward"]).astype(float),
            "length": pd.to_numeric(fields["length"]).astype("int64"),
        }
    )
    table["source"] = source
    return table


def _losses(fields: pd.DataFrame, source: str) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "time": fields["time"].astype(str),
            "loss_type": fields["loss_type"].astype(str),
            "env_id": fields["env_id"].astype(str),
            "training_count": pd.to_numeric(fields["training_count"]).astype("int64"),
            "loss": pd.to_numeric(fields["loss"]).astype(float),
        }
    )
    table["source"] = source
    return table


def _selection(fields: pd.DataFrame, source: str) -> pd.DataFrame:
    wide = pd.DataFrame(
        {"env_id": fields["env_id"].astype(str), "step": fields.groupby("env_id").cumcount().astype("int64")}
    )
    wide["value"] = fields["values"].str.split(",").map(lambda parts: [float(part) for part in parts])
    long = wide.explode("value", ignore_index=True)
    long.insert(2, "neuron", long.groupby(["env_id", "step"]).cumcount().astype("int64"))
    long["value"] = long["value"].astype(float)
    long["source"] = source
    return long


_TIDY = {"episodes": _episodes, "losses": _losses, "selection": _selection}


def parse_logs(files: Iterable[tuple[Path, str]]) -> LogTables:
    """Parses every ``(path, source name)``; sources are processed in name order for stable tables."""
    result = LogTables()
    parts: dict[str, list[pd.DataFrame]] = {kind: [] for kind in LINE_FORMATS}
    for path, source in sorted(files, key=lambda item: item[1]):
        parsed = parse_log(path, source)
        if parsed is None:
            result.unknown.append(source)
            continue
        kind, table, skipped = parsed
        parts[kind].append(table)
        result.logs.append(ParsedLog(source=source, kind=kind, rows=len(table), skipped_lines=skipped))
    for kind, columns in COLUMNS.items():
        frames = [frame for frame in parts[kind] if len(frame)]
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
        result.tables[kind] = table[columns]
    return result


def write_tables(tables: LogTables, out_dir: Path) -> list[dict[str, object]]:
    """Writes ``<kind>.tsv`` for every kind (header only when the record had no such log), returns their
    status entries. Every table is written so that downstream stages can always declare all three."""
    entries: list[dict[str, object]] = []
    for kind, table in tables.tables.items():
        name = f"{kind}.tsv"
        table.to_csv(out_dir / name, sep="\t", index=False, lineterminator="\n")
        entries.append({"name": name, "rows": len(table), "columns": list(table.columns)})
    return entries
