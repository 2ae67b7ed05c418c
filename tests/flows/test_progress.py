"""The terminal's training bar follows the training loop's progress records."""

from __future__ import annotations

import io
import logging

from rich.console import Console
from rich.progress import Progress

from flows.cli.progress import TRAINING_LOGGER, _BarHandler


def test_the_bar_moves_with_each_progress_record_and_ignores_other_lines():
    with Progress(console=Console(file=io.StringIO(), force_terminal=True)) as progress:
        task = progress.add_task("starting", total=None)
        handler = _BarHandler(progress, task)
        logger = logging.getLogger(TRAINING_LOGGER)
        logger.addHandler(handler)
        level = logger.level
        logger.setLevel(logging.INFO)
        try:
            logger.info("epoch 1 done")  # no numbers: no change
            assert progress.tasks[0].completed == 0
            logger.info("epoch %d", 2, extra={"progress": {"epoch": 2, "done": 300, "total": 900, "rate": 50.0, "mean_loss": 0.41}})
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
        (bar,) = progress.tasks
        assert (bar.completed, bar.total, bar.description) == (300, 900, "epoch 2, mean loss 0.4100")
