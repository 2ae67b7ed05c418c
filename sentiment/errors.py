"""Errors a person can fix: bad input, a missing prerequisite, an unknown name.

Each carries what it is about and the problem, and optionally a hint; its text is one line,
``<what>: <problem>`` (and ``(hint: ...)``), which the command line prints as
``error: <what>: <problem>`` without a traceback and Prefect keeps as the failed run's message.
Anything else that goes wrong is a bug or an outage and keeps its traceback.
"""

from __future__ import annotations


class UserError(ValueError):
    """Bad input or a missing prerequisite, reported in one line.

    A ``ValueError`` so that code validating arguments can raise it where a ``ValueError`` is
    expected (pydantic validators, ``int()``-style parsing).
    """

    def __init__(self, what: str, problem: str | None = None, hint: str | None = None) -> None:
        if problem is None:  # UserError("<what>: <problem>")
            what, _, problem = str(what).partition(": ")
        self.what, self.problem, self.hint = str(what), str(problem), hint
        super().__init__(self.line())

    def line(self) -> str:
        text = f"{self.what}: {self.problem}" if self.what else self.problem
        text = " ".join(text.split())  # one line, whatever the input contained
        return f"{text} (hint: {self.hint})" if self.hint else text

    def __reduce__(self):  # Prefect and Dask pickle exceptions between processes
        return (type(self), (self.what, self.problem, self.hint))


class NotFound(UserError, LookupError):
    """An unknown model version, query, champion or parameter."""
