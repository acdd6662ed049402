"""The write-scaling benchmark's core runs end to end, so that it cannot rot."""

from __future__ import annotations

from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.postgres
def test_two_writers_of_each_kind_write_and_the_audit_verifies(postgres_url, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # the benches import their _common
    import bench_pg_writers as bench

    m = bench.measure(postgres_url, writer_counts=[2], seconds=1.0, seed_records=20)

    (row,) = m.rows
    assert m.errors == []
    for runs in (row.service, row.raw):
        (run,) = runs.runs
        assert len(run.ops) == 2 and all(ops > 0 for ops in run.ops)
    assert row.service.activity.samples >= 5  # sampled every 100 ms for 1 s
    assert m.audit_ok, m.audit_text
    assert "| 2 |" in bench.table(m)
    assert [t.verdict for t in bench.targets(m)] == ["not measured", "not measured"]
