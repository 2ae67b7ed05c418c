"""Which epoch is the best one: the rule :func:`sentiment.model.training.fine_tune` keeps the
weights of, and the epoch the evaluation report and the training-curves figure mark.

Both sides rank epochs with :func:`epoch_rank`, so a report never marks an epoch other than the
one whose weights were kept. Plain Python: the reporting side must not import torch.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

#: The score an epoch is chosen by (it does not reward predicting only the majority class).
SCORE_KEY = "val_macro_f1"


def _is_finite(value: Any) -> bool:
    return isinstance(value, numbers.Real) and math.isfinite(value)


def epoch_rank(entry: Mapping[str, Any], score_key: str = SCORE_KEY) -> tuple[float, float]:
    """Sort key of one epoch's history entry, higher is better: the validation score
    (``score_key``, macro-F1 by default), then the lower validation loss.

    A missing or non-finite score or loss ranks below every finite one. Among epochs of equal rank
    the earliest is the best: training keeps a later epoch only when it ranks strictly higher.
    """
    score, loss = entry.get(score_key), entry.get("val_loss")
    # NaN (a diverged epoch) must never win "best epoch".
    return (float(score) if _is_finite(score) else -math.inf), (-float(loss) if _is_finite(loss) else -math.inf)
