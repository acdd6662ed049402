"""The statements a single save sends, on both engines, and what they answer.

A serial number is one statement (``INSERT … ON CONFLICT … DO UPDATE …
RETURNING``), the first of its period as every later one.
"""

from __future__ import annotations

import sqlalchemy as sa


class Statements:
    """The SQL an engine sends while in the block, in order (BEGIN included on
    SQLite, where the engine sends it as a statement)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.sent: list[str] = []
        self.parameters: list[object] = []

    def _heard(self, _connection, _cursor, statement, parameters, _context, _many) -> None:
        self.sent.append(" ".join(statement.split()))
        self.parameters.append(parameters)

    def __enter__(self) -> Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._heard)
        return self

    def __exit__(self, *_exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._heard)

    def until(self, text: str) -> list[str]:
        """The statements up to and including the first that starts with ``text``,
        without SQLite's BEGIN."""
        end = next(n for n, sql in enumerate(self.sent) if sql.startswith(text))
        return [sql for sql in self.sent[: end + 1] if not sql.startswith("BEGIN")]

    def touching(self, table: str) -> list[str]:
        return [sql for sql in self.sent if table in sql]


def kinds(statements: list[str]) -> list[str]:
    """Each statement as its verb and first table: ``SELECT fw_users``."""
    named = []
    for sql in statements:
        words = sql.split()
        table = next(word for word in words[1:] if "__" in word or word.startswith("fw_"))
        named.append(f"{words[0]} {table.split('.')[0]}")
    return named


# -- serial numbers: one statement each --------------------------------------------------------


def test_each_number_is_one_statement_the_first_of_a_period_too(repair):
    repository, engine = repair.repository, repair.workspace.engine
    repository.form_tables("request")  # built on first use, reading the database
    with Statements(engine) as heard, engine.begin() as connection:
        numbers = [repository.next_serial(connection, "request", "request_no", "2031-06")
                   for _ in range(3)]  # fmt: skip
    assert numbers == [1, 2, 3]
    sent = [sql for sql in heard.sent if not sql.startswith("BEGIN")]
    assert kinds(sent) == ["INSERT fw_serials"] * 3  # no UPDATE first, no SAVEPOINT


def test_a_rolled_back_first_number_of_a_period_is_given_again(repair):
    """The first number of a period creates the counter row; a rollback removes it."""
    repository, engine = repair.repository, repair.workspace.engine
    with engine.connect() as connection, connection.begin() as transaction:
        assert repository.next_serial(connection, "request", "request_no", "2031-05") == 1
        assert repository.next_serial(connection, "request", "request_no", "2031-05") == 2
        transaction.rollback()
    with engine.begin() as connection:
        assert repository.next_serial(connection, "request", "request_no", "2031-05") == 1


def test_the_counter_upsert_targets_the_primary_key(repair):
    """ON CONFLICT needs a unique constraint on exactly those four columns: the
    table's primary key, the same since the first workspace schema."""
    key = sa.inspect(repair.workspace.engine).get_pk_constraint("fw_serials")
    assert key["constrained_columns"] == ["app_id", "form", "field", "period"]
