"""The progress bar of every long run: a tqdm bar over its budget, with the run's figures beside it."""

from __future__ import annotations


class ProgressBar:
    """A bar over ``total`` units (episodes, decoder steps) that starts at ``initial`` (a resumed run)."""

    def __init__(self, total: int, initial: int, unit: str, enabled: bool) -> None:
        from tqdm import tqdm  # here: reading a config must not load it

        self.bar = tqdm(
            total=total, initial=initial, unit=unit, disable=not enabled, mininterval=1.0, smoothing=0.1
        )
        self.shown = initial

    def update(self, done: int, **figures: str) -> None:
        """Moves the bar to ``done`` and shows ``figures`` (name: formatted value) beside it."""
        self.bar.update(done - self.shown)
        self.shown = done
        if figures:
            self.bar.set_postfix(refresh=False, **figures)

    def close(self) -> None:
        self.bar.close()
