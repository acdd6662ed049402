"""Problems found in an app spec: a JSON path and a plain message each."""

from __future__ import annotations

from dataclasses import dataclass

from resources.messages import tr


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an app spec, e.g. ``forms[0].fields[3].max_length``."""

    path: str
    message: str
    #: ``"error"`` (the app cannot be used) or ``"warning"`` (it can, but probably
    #: not as meant; ``formwright check`` prints it and still exits 0).
    level: str = "error"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(ValueError):
    """An app spec that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        summary = "; ".join(str(problem) for problem in problems[:3])
        if len(problems) > 3:
            message = tr("the app is not valid: {problems} (and {count} more)").format(
                problems=summary, count=len(problems) - 3
            )
        else:
            message = tr("the app is not valid: {problems}").format(problems=summary)
        super().__init__(message)
