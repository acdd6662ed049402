"""The questions a write asks before it stores, answered in one statement.

A save checks that the ids its references hold exist and that its unique values
are free. Asked one query per field, a form with two references and a unique
field costs three round trips per save (and three per batch of a bulk write).
Here every such question of a save or batch is one :class:`Question` — "which of
these values does this table hold, and in which row" — and :func:`answer` asks
them all in one ``UNION ALL`` of tagged rows::

    SELECT 0 AS tag, id, NULL AS v0 FROM fw_users WHERE id IN (…)
    UNION ALL
    SELECT 1, id, NULL FROM app__device WHERE id IN (…) AND deleted_at IS NULL
    UNION ALL
    SELECT 2, id, asset_no FROM app__device WHERE asset_no IN (…) AND deleted_at IS NULL

A row's tag names its question. A question about ids (a reference) finds the ids
themselves; a question about a column's values (unique) reports the value found
in a column of its own, typed as the column is, since the unique fields of a form
differ in type and a ``UNION`` column has one type.

The statement of a shape (which questions, how many IN lists each) is built once
and kept by the caller's cache (``RecordRepository._cached``), its values bound at
execution: a save of a form reuses the same statement object, which SQLAlchemy
compiles once.

Large batches are split so that no statement binds more than
:data:`STATEMENT_VALUES` values (SQLite allows 32,766 variables, PostgreSQL
65,535 parameters) nor joins more than :data:`STATEMENT_BRANCHES` selects
(SQLite's limit of a compound select is 500).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

#: Values bound per IN list (one branch of the statement).
BRANCH_VALUES = 2_000
#: Values bound per statement: a third of SQLite's limit of variables.
STATEMENT_VALUES = 10_000
#: Selects joined by UNION ALL per statement.
STATEMENT_BRANCHES = 100


#: A statement cache: (key, build) -> the statement built once for that key.
Cache = Callable[[tuple, Callable[[], Any]], Any]


@dataclass(frozen=True)
class Question:
    """Which of ``values`` the rows ``where(values)`` selects hold, and in which row.

    ``ident`` is the id column of those rows; ``found`` the column whose value each
    row answers with, or None when the values asked are the ids themselves.
    ``where`` is given an expanding bound parameter (or a list of values).
    ``kind`` names what is asked, the same for every save (``("exists",
    "fw_users")``): statements are cached by the kinds of their questions.
    """

    kind: Hashable
    values: Sequence[Any]
    where: Callable[[Any], sa.ColumnElement[bool]]
    ident: sa.ColumnElement[Any]
    found: sa.ColumnElement[Any] | None = None


def _build(_key: tuple, build: Callable[[], Any]) -> Any:
    return build()


def answer(
    connection: Connection, questions: Sequence[Question], cached: Cache = _build
) -> list[dict[Any, int]]:
    """For each question, value found -> the id of the row that holds it (a
    question about ids: id -> itself); one statement for all of them, or a few
    for batches beyond the statement's limits."""
    answers: list[dict[Any, int]] = [{} for _ in questions]
    kinds = tuple(question.kind for question in questions)
    for branches in _statements(questions):
        tags = tuple(tag for tag, _values in branches)
        statement = cached(("questions", kinds, tags), partial(_statement, questions, tags))
        values = {f"values_{n}": values for n, (_tag, values) in enumerate(branches)}
        layout = statement.slots
        for tag, ident, *found in connection.execute(statement.select, values):
            slot = layout.get(tag)
            answers[tag][ident if slot is None else found[slot]] = ident
    return answers


@dataclass(frozen=True)
class _Statement:
    select: sa.Select[Any] | sa.CompoundSelect
    #: Question index -> its value column after tag and id (questions with ``found``).
    slots: dict[int, int]


def _statement(questions: Sequence[Question], tags: tuple[int, ...]) -> _Statement:
    """The statement of branches asking ``questions[tag]`` for each of ``tags``;
    branch n's values are the expanding parameter ``values_n``."""
    layout = _Layout(questions)
    selects = [layout.branch(tag, f"values_{n}") for n, tag in enumerate(tags)]
    select = selects[0] if len(selects) == 1 else sa.union_all(*selects)
    return _Statement(select, layout.slots)


class _Layout:
    """The result columns: tag, id, then one value column per question that
    reports values (``slots``: question index -> its column after tag and id)."""

    def __init__(self, questions: Sequence[Question]) -> None:
        self.questions = questions
        self.slots: dict[int, int] = {}
        self.types: list[Any] = []
        for tag, question in enumerate(questions):
            if question.found is not None:
                self.slots[tag] = len(self.types)
                self.types.append(question.found.type)

    def branch(self, tag: int, parameter: str) -> sa.Select[Any]:
        """``SELECT tag, id, v0, v1, …`` of one question: its own value column holds
        what it found, the others a NULL cast to their column's type (PostgreSQL
        types two untyped NULLs of a UNION as text, which no later number matches;
        and SQLAlchemy reads the results by the first branch's types)."""
        question = self.questions[tag]
        columns: list[sa.ColumnElement[Any]] = [
            sa.literal_column(str(tag), sa.Integer).label("tag"),
            question.ident.label("ident"),
        ]
        mine = self.slots.get(tag)
        for slot, column_type in enumerate(self.types):
            found = question.found if slot == mine else None
            if found is None:
                found = sa.cast(sa.null(), column_type)
            columns.append(found.label(f"v{slot}"))
        return sa.select(*columns).where(question.where(sa.bindparam(parameter, expanding=True)))


def _statements(questions: Sequence[Question]) -> Iterator[list[tuple[int, list[Any]]]]:
    """The (question index, values) branches of each statement, within its limits."""
    branches: list[tuple[int, list[Any]]] = []
    size = 0
    for tag, question in enumerate(questions):
        for values in _chunks(list(dict.fromkeys(question.values)), BRANCH_VALUES):
            full = size + len(values) > STATEMENT_VALUES or len(branches) == STATEMENT_BRANCHES
            if branches and full:
                yield branches
                branches, size = [], 0
            branches.append((tag, values))
            size += len(values)
    if branches:
        yield branches


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
