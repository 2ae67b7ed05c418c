"""Checks of the tuning search bounds (the ``tune_*`` settings): ranges given as low,high and
lists of choices. Kept apart from the settings module, which only declares them."""

from __future__ import annotations

from typing import Any

#: Tuning bounds given as low,high: (smallest low, largest high, whether the high end is open).
_RANGES: dict[str, tuple[float, float, bool]] = {
    "tune_learning_rate": (0.0, 1.0, True),
    "tune_epochs": (1, 100, False),
    "tune_warmup_ratio": (0.0, 1.0, True),
    "tune_label_smoothing": (0.0, 1.0, True),
}


def check_search_bounds(name: str, value: tuple[Any, ...]) -> tuple[Any, ...]:
    """A tuning range is low,high inside the setting's own bounds; a list of choices is non-empty
    without repeats. The error names the variable and the value given."""
    given = f"TWEETSENT_{name.upper()}={','.join(str(v) for v in value)!r}"
    if name not in _RANGES:
        if not value or len(set(value)) != len(value):
            raise ValueError(f"{given}: give one or more different values, comma separated")
        if name == "tune_batch_size" and not all(1 <= v <= 4096 for v in value):
            raise ValueError(f"{given}: batch sizes must be between 1 and 4096")
        return value
    floor, ceiling, open_top = _RANGES[name]
    if len(value) != 2:
        raise ValueError(f"{given}: give the range as low,high (two values)")
    low, high = value
    if low > high:
        raise ValueError(f"{given}: low is above high")
    if low < floor or (high >= ceiling if open_top else high > ceiling) or (name == "tune_learning_rate" and low <= 0):
        raise ValueError(f"{given}: must lie in {'(' if name == 'tune_learning_rate' else '['}{floor}, {ceiling}{')' if open_top else ']'}")
    return value
