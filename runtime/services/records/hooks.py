"""Where flows plug into the record writer: write hooks and per-record field modes.

:class:`~runtime.services.records.writer.RecordWriter` runs every write of a
record through two kinds of hook, which an approval flow (or any other rule that
depends on a record's state) registers on ``RecordService.writer``:

- :class:`WriteHooks` — ``before_write(batch)`` and ``after_write(batch)``
  callables, run inside the write's transaction with a :class:`WriteBatch` that
  lists each record once. A ``before_write`` hook that raises refuses the write,
  and nothing of it is stored;
- :data:`WritableFields` — which fields the actor may set in one record
  (``writer.writable_fields``); :func:`form_writable_fields`, today's rule, gives
  the same fields for every record of a form.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from runtime.services.actor import Actor
from runtime.services.permissions import Policy
from runtime.store.connection import Connection
from runtime.store.repository import Record

#: The kinds of record write a hook sees.
WRITE_KINDS = ("create", "update", "delete", "restore", "purge")


@dataclass(slots=True)
class RecordWrite:
    """One record of a write: its id (None until a new record is stored) and the
    values written — all of a new record's, the changed ones of an update, the
    last ones of a purge, none for a move to the trash or back."""

    record_id: int | None
    values: Mapping[str, Any] | None = None


@dataclass
class WriteBatch:
    """The records one write changes, as the hooks see them.

    ``kind`` is one of :data:`WRITE_KINDS`; ``via`` says which path wrote them:
    ``"save"`` (one record, or a list's batch delete), ``"bulk"`` (``bulk_create``)
    or ``"import"`` (an import's batch or its undo). Hooks run inside the write's
    transaction (``connection``): what they write commits or rolls back with it.
    Hooks must not change ``records``: the values were checked before they ran.
    """

    kind: str
    via: str
    form: str
    actor: Actor
    connection: Connection
    records: list[RecordWrite] = field(default_factory=list)


Hook = Callable[[WriteBatch], None]


class WriteHooks:
    """Callables run before and after every write of records (see the module)."""

    def __init__(self) -> None:
        self.before: list[Hook] = []
        self.after: list[Hook] = []

    def add(self, before: Hook | None = None, after: Hook | None = None) -> None:
        if before is not None:
            self.before.append(before)
        if after is not None:
            self.after.append(after)

    def remove(self, hook: Hook) -> None:
        """Forget ``hook`` wherever it was added."""
        self.before = [h for h in self.before if h is not hook]
        self.after = [h for h in self.after if h is not hook]

    def __bool__(self) -> bool:
        return bool(self.before or self.after)

    def before_write(self, batch: WriteBatch) -> None:
        """Each ``before`` hook sees ``batch`` (unless it holds no record); one that
        raises refuses the write."""
        if batch.records:
            for hook in self.before:
                hook(batch)

    def after_write(self, batch: WriteBatch) -> None:
        if batch.records:
            for hook in self.after:
                hook(batch)


#: Which fields ``policy``'s actor may set in ``record`` (None: a new record) when
#: doing ``action``: ``(policy, form, record, action) -> field keys``.
WritableFields = Callable[[Policy, str, Record | None, str], Collection[str]]


def form_writable_fields(
    policy: Policy, form: str, record: Record | None, action: str
) -> Collection[str]:
    """Today's rule: what a role may set is the same for every record of a form."""
    return policy.writable_fields(form, action)
