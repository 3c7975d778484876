"""The seeds of the selection runs: the unit of the paper's robustness claim.

A selection run's seed drives both its selection data and its training, so each listed seed is its own
data, model and verdict (DVC stage items ``selection_data@<seed>``, ...). Kept apart from the selection
package so that the summary stages (robustness, report) read the list without loading any of it.
"""

from __future__ import annotations

from typing import Any

from scinet.errors import ParamsError


def parse_seeds(raw: Any) -> tuple[int, ...]:
    """The ``selection`` section's ``seeds``: a non-empty list of distinct integers >= 0."""
    if not isinstance(raw, dict):
        raise ParamsError(f"selection: expected a mapping, got {raw!r}")
    if "seeds" not in raw:
        raise ParamsError("selection.seeds: missing; params.yaml must set every key")
    seeds = raw["seeds"]
    valid = (
        isinstance(seeds, list)
        and len(seeds) > 0
        and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
        and len(set(seeds)) == len(seeds)
    )
    if not valid:
        raise ParamsError(
            f"selection.seeds: expected a non-empty list of distinct integers >= 0, got {seeds!r}"
        )
    return tuple(seeds)
