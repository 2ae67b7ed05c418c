"""When a failed task is worth retrying."""

from __future__ import annotations

from sentiment.errors import UserError


def retry_unless_user_error(task, task_run, state) -> bool:
    """Retry outages (a database restart, a full disk), not bad input or a missing prerequisite:
    waiting will not fix a missing file or an empty label set."""
    try:
        state.result()
    except UserError:
        return False
    except Exception:
        return True
    return True
