"""Serial numbers for the new records of one write, taken from the counters in blocks.

A serial field's type asks ``next_number(period)`` once per record
(``FieldType.assign_on_create``). Asked of the counter each time, a bulk insert
or an import batch of 1,000 records sends 1,000 statements. A
:class:`NumberBlocks` answers from blocks of numbers instead, each taken in one
statement (``RecordRepository.next_serials``): a write that knows how many
records it numbers takes them all at once; a stream of rows takes blocks that
double in size, up to :data:`LARGEST_BLOCK`.

Numbering stays gap-free: the first block locks the counter until the write's
transaction ends, so nobody takes a number after a block, and the numbers of a
block the write did not use are given back before it commits
(:meth:`NumberBlocks.give_back`). A rollback returns them all.
"""

from __future__ import annotations

from runtime.store.connection import Connection
from runtime.store.repository import RecordRepository

#: Numbers in the largest block a stream of rows takes at once.
LARGEST_BLOCK = 1_024


class NumberBlocks:
    """``next_number`` of one serial field for one write (see the module).

    ``first``: the size of the first block (the count of records to number, when
    known); later blocks double it, up to :data:`LARGEST_BLOCK`.
    """

    def __init__(
        self,
        repository: RecordRepository,
        connection: Connection,
        form: str,
        key: str,
        first: int = 1,
    ) -> None:
        self.repository = repository
        self.connection = connection
        self.form = form
        self.key = key
        self.size = max(first, 1)
        #: Period -> [the next number to hand out, the last number taken].
        self.blocks: dict[str, list[int]] = {}

    def __call__(self, period: str) -> int:
        block = self.blocks.get(period)
        if block is None or block[0] > block[1]:
            block = self.blocks[period] = self._take(period)
        number = block[0]
        block[0] += 1
        return number

    def _take(self, period: str) -> list[int]:
        size = self.size
        last = self.repository.next_serials(self.connection, self.form, self.key, period, size)
        self.size = max(size, min(size * 2, LARGEST_BLOCK))
        return [last - size + 1, last]

    def give_back(self) -> None:
        """Return the numbers taken and not handed out (once the write's records
        are numbered)."""
        for period, (following, last) in self.blocks.items():
            if following <= last:
                count = last - following + 1
                self.repository.return_serials(self.connection, self.form, self.key, period, count)
                self.blocks[period] = [following, following - 1]
