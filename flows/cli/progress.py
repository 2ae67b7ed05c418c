"""A training progress bar on the terminal (rich): fed by the training loop's log records."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

TRAINING_LOGGER = "sentiment.model.training"


class _BarHandler(logging.Handler):
    """Moves the bar on every record that carries ``progress`` numbers (see ``fine_tune``)."""

    def __init__(self, progress, task) -> None:
        super().__init__(logging.INFO)
        self.progress, self.task = progress, task

    def emit(self, record: logging.LogRecord) -> None:
        numbers = getattr(record, "progress", None)
        if numbers:
            self.progress.update(
                self.task,
                completed=numbers["done"],
                total=numbers["total"],
                description=f"epoch {numbers['epoch']}, mean loss {numbers['mean_loss']:.4f}",
            )


@contextmanager
def training_bar(enabled: bool) -> Iterator[None]:
    """A bar with the time left while a model trains, when stderr is a terminal and ``enabled``."""
    if not (enabled and sys.stderr.isatty()):
        yield
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("fine-tuning {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        handler = _BarHandler(progress, progress.add_task("starting", total=None))
        logger = logging.getLogger(TRAINING_LOGGER)
        level = logger.level
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > logging.INFO:  # the bar needs the INFO records
            logger.setLevel(logging.INFO)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
