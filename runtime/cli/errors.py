"""How the ``formwright`` command fails: one clear line on stderr and an exit
status, never a traceback.

Exit 0 success, 1 invalid input or failed work, 2 usage errors, 130 interrupted.
A command reports a failure it foresaw by raising :class:`CliError` with its own
sentence; anything else is caught last and cut to one line by :func:`error_line`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A failure to report as one line; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = EXIT_INVALID) -> None:
        super().__init__(message)
        self.code = code


def run_reporting_errors(command: Callable[[], int]) -> int:
    """``command()``'s exit status; whatever it raises becomes one line on stderr."""
    try:
        return command()
    except CliError as error:  # our own sentence: whole (it may name the commands out)
        print(one_line(str(error), limit=None), file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        print("formwright: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # the last guard: one line, never a traceback
        print(one_line(f"formwright: {error_line(error)}"), file=sys.stderr)
        return EXIT_INVALID


def error_line(error: BaseException) -> str:
    """What went wrong, for one line of stderr: a database error becomes a plain
    sentence (its text holds the SQL, the parameters and the record's values)."""
    from runtime.store.db_errors import database_problem_in

    problem = database_problem_in(error)
    if problem is not None:
        return problem
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return message.removeprefix("formwright: ")


def one_line(text: str, limit: int | None = 500) -> str:
    """``text`` on one line (whitespace runs joined), cut to ``limit`` characters."""
    line = " ".join(text.split())
    return line if limit is None or len(line) <= limit else line[: limit - 1] + "…"
