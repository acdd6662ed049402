"""Excel export/import benchmarks against raw libraries and pandas.

    .venv/bin/python bench/bench_excel.py            # 1M-row export, 100k-row import
    .venv/bin/python bench/bench_excel.py --quick    # smoke run (20k / 10k rows)
    .venv/bin/python bench/bench_excel.py --only import   # just the 100k-row import
    .venv/bin/python bench/bench_excel.py --only export --export-rows 100000 --repeat 5

Export: ``export_records`` (pages from SQLite, field types, names, constant-memory
xlsxwriter) vs the raw baseline: the same SQLite table read with plain ``sqlite3``
and written by xlsxwriter ``constant_memory`` with typed ``write_*`` calls, record
id column included (``--repeat``: pairs run in turn, medians reported); and vs pandas
``read_sql`` + ``to_excel`` (openpyxl and xlsxwriter engines; on fewer rows because
pandas holds everything in memory). Peak memory: each export runs in a fresh
subprocess and reports ``ru_maxrss``.

Import: ``import_records`` with full validation into an installed form on SQLite vs
pandas ``read_excel`` (default engine) + ``to_sql``, and vs raw python-calamine read
+ ``sqlite3.executemany`` (no conversion, no validation).

pandas is needed only here (``pip install pandas``), not by Formwright.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIELDS = [
    {"key": "code", "type": "text", "label": "Code", "unique": True, "required": True},
    {"key": "name", "type": "text", "label": "Name"},
    {"key": "qty", "type": "number", "label": "Qty", "decimals": 0},
    {"key": "price", "type": "number", "label": "Price", "decimals": 2},
    {"key": "day", "type": "date", "label": "Day"},
    {"key": "at", "type": "datetime", "label": "At"},
    {
        "key": "ward",
        "type": "select",
        "label": "Ward",
        "options": [
            {"value": "icu", "label": "ICU"},
            {"value": "er", "label": "急诊科"},
            {"value": "w3", "label": "内科三病区"},
        ],
    },
    {"key": "urgent", "type": "checkbox", "label": "Urgent"},
    {"key": "note", "type": "text", "label": "Note"},
    {"key": "score", "type": "number", "label": "Score", "decimals": 0},
]
KEYS = [f["key"] for f in FIELDS]
WARDS = ["icu", "er", "w3"]
BASE_DAY = dt.date(2020, 1, 1)


def spec():
    from runtime.spec import parse_app_spec

    return parse_app_spec(
        {
            "format": "formwright-app",
            "spec_version": 1,
            "id": "xbench",
            "version": 1,
            "title": "Excel bench",
            "forms": [{"key": "item", "title": "Items", "fields": FIELDS}],
            "views": [],
            "roles": [],
        }
    )


def row(n: int) -> tuple:
    """Canonical values of row ``n`` (the same for seeding and the raw baseline)."""
    return (
        f"C{n:08d}",
        f"设备 {n % 997} pump",
        n % 1000,
        Decimal(n % 100000).scaleb(-2),
        BASE_DAY + dt.timedelta(days=n % 2000),
        dt.datetime(2024, 1, 1, 8, 30) + dt.timedelta(minutes=n % 100000),
        WARDS[n % 3],
        n % 2 == 0,
        "=not a formula" if n % 50 == 0 else f"note {n}",
        n % 7,
    )


# -- work run in subprocesses (fresh interpreter: clean peak memory) -------------------


def work_seed(db: str, rows: int) -> dict:
    from runtime.services.records.service import RecordService
    from runtime.store.workspace import Workspace

    workspace = Workspace.open(f"sqlite:///{db}")
    workspace.install(spec())
    service = RecordService(workspace, spec())
    batch = 100_000
    for start in range(0, rows, batch):
        service.bulk_create(
            "item",
            (dict(zip(KEYS, row(n), strict=True)) for n in range(start, min(rows, start + batch))),
        )
    return {}


def work_export(db: str, out: str, with_id: str = "yes") -> dict:
    """Our export (timed); ``with_id`` "no": without the record-ID column (an import's source)."""
    from runtime.services.actor import SYSTEM
    from runtime.services.excel.export import export_records
    from runtime.services.progress import run_steps
    from runtime.services.records.service import RecordService
    from runtime.store.workspace import Workspace

    workspace = Workspace.open(f"sqlite:///{db}")
    service = RecordService(workspace, workspace.installed_spec("xbench"))
    start = time.perf_counter()
    cpu = time.process_time()
    steps = export_records(
        service, "item", out, actor=SYSTEM, visible_fields=KEYS, include_id=with_id == "yes"
    )
    result = run_steps(steps)
    return {
        "seconds": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "rows": result.rows,
    }


def work_raw_xlsxwriter(db: str, out: str) -> dict:
    """The fair raw baseline: the same table read with plain ``sqlite3``, each
    stored value turned into its cell value (ISO text to dates, scaled integer to
    amount, option code to label) and written with typed ``write_*`` calls into a
    ``constant_memory`` workbook, record id column included, as the export does."""
    import xlsxwriter

    start = time.perf_counter()
    cpu = time.process_time()
    connection = sqlite3.connect(db)
    rows = connection.execute(
        f"SELECT id, {', '.join(KEYS)} FROM xbench__item WHERE deleted_at IS NULL ORDER BY id"
    )
    book = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = book.add_worksheet()
    bold = book.add_format({"bold": True})
    whole = book.add_format({"num_format": "0"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    minute = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    money = book.add_format({"num_format": "0.00"})
    labels = {"icu": "ICU", "er": "急诊科", "w3": "内科三病区"}
    date, moment = dt.date.fromisoformat, dt.datetime.fromisoformat
    sheet.write_row(0, 0, ["Record ID", *(f["label"] for f in FIELDS)], bold)
    sheet.freeze_panes(1, 0)
    r = 0
    for record_id, code, name, qty, price, d, at, ward, urgent, note, score in rows:
        r += 1
        sheet.write_number(r, 0, record_id)
        sheet.write_string(r, 1, code)
        sheet.write_string(r, 2, name)
        sheet.write_number(r, 3, qty, whole)
        sheet.write_number(r, 4, price / 100, money)
        sheet.write_datetime(r, 5, date(d), day)
        sheet.write_datetime(r, 6, moment(at), minute)
        sheet.write_string(r, 7, labels[ward])
        sheet.write_boolean(r, 8, bool(urgent))
        sheet.write_string(r, 9, note)
        sheet.write_number(r, 10, score, whole)
    book.close()
    connection.close()
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "rows": r}


def work_pandas_export(db: str, out: str, engine: str) -> dict:
    import pandas as pd

    start = time.perf_counter()
    connection = sqlite3.connect(db)
    frame = pd.read_sql(f"SELECT {', '.join(KEYS)} FROM xbench__item ORDER BY id", connection)
    frame.to_excel(out, index=False, engine=engine)
    connection.close()
    return {"seconds": time.perf_counter() - start}


def work_import(db: str, source: str) -> dict:
    from runtime.services.actor import SYSTEM
    from runtime.services.excel.importer import import_records
    from runtime.services.progress import run_steps
    from runtime.services.records.service import RecordService
    from runtime.store.workspace import Workspace

    workspace = Workspace.open(f"sqlite:///{db}")
    workspace.install(spec())
    service = RecordService(workspace, spec())
    start = time.perf_counter()
    result = run_steps(import_records(service, "item", source, actor=SYSTEM, visible_fields=KEYS))
    seconds = time.perf_counter() - start
    assert result.ok and result.created == result.rows_total, result.errors[:3]
    return {"seconds": seconds, "rows": result.created}


def work_pandas_import(db: str, source: str) -> dict:
    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_excel(source)
    connection = sqlite3.connect(db)
    frame.to_sql("items", connection, index=False)
    connection.commit()
    connection.close()
    return {"seconds": time.perf_counter() - start}


def work_raw_import(db: str, source: str) -> dict:
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    rows = CalamineWorkbook.from_path(source).get_sheet_by_index(0).to_python()
    connection = sqlite3.connect(db)
    connection.execute(f"CREATE TABLE items ({', '.join(KEYS)})")
    connection.executemany(
        f"INSERT INTO items VALUES ({', '.join('?' * len(KEYS))})",
        [[None if c == "" else c for c in r] for r in rows[1:]],
    )
    connection.commit()
    connection.close()
    return {"seconds": time.perf_counter() - start}


WORK = {
    "seed": work_seed,
    "export": work_export,
    "raw_xlsxwriter": work_raw_xlsxwriter,
    "pandas_export": work_pandas_export,
    "import": work_import,
    "pandas_import": work_pandas_import,
    "raw_import": work_raw_import,
}


def in_subprocess(name: str, *args) -> dict:
    """Run one piece of work in a fresh interpreter; its result plus peak RSS (MB)."""
    code = (
        "import json, resource, sys\n"
        f"sys.path.insert(0, {str(ROOT / 'bench')!r})\n"
        "import bench_excel as b\n"
        f"result = b.WORK[{name!r}](*{list(args)!r})\n"
        "result['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps(result))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- report ------------------------------------------------------------------------------


def export_pairs(db: str, tmp: Path, repeat: int) -> tuple[dict, dict]:
    """Our export and the raw baseline, run in turn ``repeat`` times on the same table.

    The two of a pair run back to back, so a busy moment on the machine weighs on
    both; the ratios are the median of the pairs' ratios (wall clock, and CPU time
    of the process), the runs the median run of each side.
    """
    pairs = []
    for index in range(repeat):
        ours = in_subprocess("export", db, str(tmp / f"ours{index}.xlsx"))
        raw = in_subprocess("raw_xlsxwriter", db, str(tmp / f"raw{index}.xlsx"))
        assert ours["rows"] == raw["rows"], (ours, raw)
        pairs.append((ours, raw))
        print(
            f"  export pair {index + 1}: ours {ours['seconds']:.2f} s (CPU {ours['cpu']:.2f} s),"
            f" raw {raw['seconds']:.2f} s (CPU {raw['cpu']:.2f} s),"
            f" ratio {ours['seconds'] / raw['seconds']:.2f}x (CPU {ours['cpu'] / raw['cpu']:.2f}x)"
        )
    middle = repeat // 2
    ours = sorted((o for o, _ in pairs), key=lambda run: run["seconds"])[middle]
    raw = sorted((r for _, r in pairs), key=lambda run: run["seconds"])[middle]
    ours["ratio"] = sorted(o["seconds"] / r["seconds"] for o, r in pairs)[middle]
    ours["cpu_ratio"] = sorted(o["cpu"] / r["cpu"] for o, r in pairs)[middle]
    print(f"  median ratio {ours['ratio']:.2f}x, of CPU time {ours['cpu_ratio']:.2f}x")
    return ours, raw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--only", choices=("all", "export", "import"), default="all", help="run one part"
    )
    parser.add_argument(
        "--export-rows", type=int, default=None, help="rows of the big export (default 1M)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="export/raw pairs to run; medians are reported"
    )
    args = parser.parse_args()
    export_rows, pandas_rows, import_rows = (
        (20_000, 10_000, 10_000) if args.quick else (1_000_000, 100_000, 100_000)
    )
    export_rows = args.export_rows or export_rows
    lines: list[tuple[str, str, str, str, str]] = []
    verdicts: list[bool] = []

    def report(work, seconds, baseline, ratio_text, target, ok):
        lines.append((work, f"{seconds:.2f} s", baseline, ratio_text, target))
        if ok is not None:
            verdicts.append(ok)
            lines[-1] = (*lines[-1][:4], f"{target} {'PASS' if ok else 'FAIL'}")

    with tempfile.TemporaryDirectory(prefix="fw_bench_excel_") as folder:
        tmp = Path(folder)
        big, small = str(tmp / "big.sqlite"), str(tmp / "small.sqlite")
        if args.only != "import":
            t0 = time.perf_counter()
            in_subprocess("seed", big, export_rows)
            in_subprocess("seed", small, pandas_rows)
            print(
                f"seeded {export_rows:,} and {pandas_rows:,} rows in {time.perf_counter() - t0:.0f} s"
            )

            ours, raw = export_pairs(big, tmp, args.repeat)
            report(
                f"export {export_rows:,} x 10 (xlsx)",
                ours["seconds"],
                f"sqlite3+raw xlsxwriter {raw['seconds']:.2f} s",
                f"{ours['ratio']:.2f}x (CPU {ours['cpu_ratio']:.2f}x)",
                "<= 1.3x",
                ours["ratio"] <= 1.3,
            )
            ours_small = in_subprocess("export", small, str(tmp / "ours_small.xlsx"))
            if importlib.util.find_spec("pandas") is None:
                lines.append((f"export {pandas_rows:,} x 10 vs pandas", "", "", "", "skipped"))
                print("pandas is not installed: the pandas comparisons are skipped")
            for engine in ("openpyxl", "xlsxwriter") if lines[-1][-1] != "skipped" else ():
                theirs = in_subprocess(
                    "pandas_export", small, str(tmp / f"pd_{engine}.xlsx"), engine
                )
                ratio = theirs["seconds"] / ours_small["seconds"]
                report(
                    f"export {pandas_rows:,} x 10 vs pandas",
                    ours_small["seconds"],
                    f"read_sql+to_excel[{engine}] {theirs['seconds']:.2f} s",
                    f"pandas/ours {ratio:.2f}x",
                    "(report)",
                    None,
                )
            peak_ok = ours["peak_mb"] < 200
            lines.append(
                (
                    "export peak memory (RSS)",
                    f"{ours['peak_mb']:.0f} MB",
                    f"{pandas_rows:,} rows: {ours_small['peak_mb']:.0f} MB",
                    f"{export_rows:,} rows",
                    f"< 200 MB {'PASS' if peak_ok else 'FAIL'}",
                )
            )
            verdicts.append(peak_ok)

        if args.only != "export":
            source = str(tmp / "import.xlsx")
            exported = args.only != "import" and import_rows == export_rows
            source_db = big if exported else str(tmp / "import_src.sqlite")
            if not exported:
                in_subprocess("seed", source_db, import_rows)
            in_subprocess("export", source_db, source, "no")  # the 10 fields, as before
            ours = in_subprocess("import", str(tmp / "imp_ours.sqlite"), source)
            theirs = in_subprocess("pandas_import", str(tmp / "imp_pd.sqlite"), source)
            raw = in_subprocess("raw_import", str(tmp / "imp_raw.sqlite"), source)
            faster = theirs["seconds"] / ours["seconds"]
            report(
                f"import {import_rows:,} x 10, full validation",
                ours["seconds"],
                f"pandas read_excel+to_sql {theirs['seconds']:.2f} s",
                f"pandas/ours {faster:.2f}x",
                ">= 3x",
                faster >= 3,
            )
            slower = ours["seconds"] / raw["seconds"]
            report(
                f"import {import_rows:,} x 10, full validation",
                ours["seconds"],
                f"calamine+executemany {raw['seconds']:.2f} s",
                f"ours/raw {slower:.2f}x",
                "<= 3x",
                slower <= 3,
            )
            lines.append(
                ("import peak memory (RSS)", f"{ours['peak_mb']:.0f} MB", "", "", "(report)")
            )

    headers = ("work", "ours", "baseline", "ratio", "target")
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    print(" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for line in lines:
        print(" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
    if args.quick:
        print("(quick run: sizes are too small for the targets to mean much)")
    return 0 if all(verdicts) or args.quick else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    _ = resource  # used in subprocesses
    sys.exit(main())
