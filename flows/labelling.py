"""The ``label-export`` and ``label-import`` flows: the tweets the champion is least sure of go to
annotators (Label Studio, or a CSV), and their labels come back as ``human`` labels, which count
towards the nightly retrain trigger."""

from __future__ import annotations

from typing import Any

from prefect import flow

from sentiment.settings import LabelStrategy, Settings, setting_help
from tasks.labelling import export_to_annotators, import_from_annotators


@flow(name="label-export", log_prints=True)
def label_export(count: int = 200, strategy: LabelStrategy | None = None, out: str | None = None, to_label_studio: bool | None = None) -> dict[str, Any]:
    """Send the tweets the champion is least sure of to annotators.

    Args:
        count: How many tweets to send (never one already labelled by a person or still out with annotators).
        strategy: uncertainty (smallest margin between the two likeliest classes), diverse (that, spread over the encoder's embedding space) or random. Empty: TWEETSENT_LABEL_STRATEGY.
        out: Where to write the task JSON (the labelling config and the CSV go beside it). Empty: <home>/annotation/.
        to_label_studio: Also create or update the Label Studio project and import the tasks. Empty: when TWEETSENT_LABEL_STUDIO_URL is set.
    """
    return export_to_annotators(Settings(), count, strategy, out, to_label_studio)


@flow(name="label-import", log_prints=True)
def label_import(path: str | None = None, from_label_studio: bool = False) -> dict[str, Any]:
    """Store annotators' labels: a Label Studio export (JSON, JSON-MIN or CSV) or the finished
    annotations of the Label Studio project.

    Args:
        path: An export file. Empty with from_label_studio: read the project instead.
        from_label_studio: Pull the finished annotations from TWEETSENT_LABEL_STUDIO_URL.
    """
    return import_from_annotators(Settings(), path, from_label_studio).to_dict()


label_export.__doc__ = (label_export.__doc__ or "") + f"\n(default strategy: {setting_help('label_strategy')})"
