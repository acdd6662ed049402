"""`formwright check`, `pack` and `unpack`: exit codes and one line per problem."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from runtime.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(str(path) for path in (ROOT / "sample_apps").iterdir() if path.is_dir())


def app_with(*fields: dict) -> dict:
    return {
        "format": "formwright-app",
        "spec_version": 1,
        "id": "broken",
        "title": "Broken",
        "forms": [{"key": "main", "title": "Main", "fields": list(fields)}],
    }


def write_folder(tmp_path: Path, name: str, content: bytes | str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    data = content.encode() if isinstance(content, str) else content
    (folder / "app.json").write_bytes(data)
    return folder


def write_zip(tmp_path: Path, name: str, members: dict[str, bytes]) -> Path:
    path = tmp_path / f"{name}.fwapp"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def symlink_zip(tmp_path: Path) -> Path:
    path = tmp_path / "symlink.fwapp"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.json", json.dumps(app_with()))
        info = zipfile.ZipInfo("assets/passwd")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    return path


VALID_JSON = json.dumps(app_with({"key": "a", "type": "text", "label": "A"})).encode()
BROKEN = {
    "bad_json": lambda tmp: write_folder(tmp, "bad_json", '{"format": "formwright-app", '),
    "unknown_type": lambda tmp: write_folder(
        tmp, "unknown_type", json.dumps(app_with({"key": "a", "type": "sparkle", "label": "A"}))
    ),
    "duplicate_key": lambda tmp: write_folder(
        tmp,
        "duplicate_key",
        json.dumps(
            app_with(
                {"key": "a", "type": "text", "label": "A"},
                {"key": "a", "type": "text", "label": "B"},
            )
        ),
    ),
    "dangling_lookup": lambda tmp: write_folder(
        tmp,
        "dangling_lookup",
        json.dumps(
            app_with(
                {
                    "key": "d",
                    "type": "lookup",
                    "label": "D",
                    "form": "ghost",
                    "display_field": "name",
                }
            )
        ),
    ),
    "zip_slip": lambda tmp: write_zip(tmp, "slip", {"app.json": VALID_JSON, "../evil.txt": b"x"}),
    "zip_bomb": lambda tmp: write_zip(
        tmp, "bomb", {"app.json": VALID_JSON, "assets/zeros.bin": b"\0" * 60_000_000}
    ),
    "symlink_member": symlink_zip,
    "huge_depth": lambda tmp: write_folder(tmp, "deep", b"[" * 200_000 + b"]" * 200_000),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_packages_give_exit_1_and_one_line(case, tmp_path, capsys):
    package = BROKEN[case](tmp_path)
    before = set(tmp_path.parent.iterdir())
    assert main(["check", str(package)]) == 1
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1, err
    assert lines[0].startswith(f"{package}: ")
    assert "Traceback" not in err
    assert set(tmp_path.parent.iterdir()) == before  # nothing written outside


def test_sample_apps_are_valid(capsys):
    assert main(["check", *SAMPLES]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert len(out.strip().splitlines()) == len(SAMPLES)
    assert all(": valid — " in line for line in out.splitlines())


def test_one_line_per_problem_with_path(tmp_path, capsys):
    folder = write_folder(
        tmp_path,
        "two",
        json.dumps(
            app_with(
                {"key": "a", "type": "number", "label": "A", "min": 3, "max": 1},
                {"key": "select", "type": "text", "label": "S"},
            )
        ),
    )
    assert main(["check", str(folder)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{folder}: forms[0].fields[0].min: ")
    assert lines[1].startswith(f"{folder}: forms[0].fields[1].key: 'select' is a reserved word")


def test_mixed_valid_and_invalid(tmp_path, capsys):
    broken = BROKEN["unknown_type"](tmp_path)
    assert main(["check", SAMPLES[0], str(broken)]) == 1
    out, err = capsys.readouterr()
    assert "valid" in out and "unknown field type 'sparkle'" in err


@pytest.mark.parametrize("argv", [[], ["check"], ["frobnicate"], ["check", "--bogus", "x"]])
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_missing_package(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope")]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_pack_then_check_then_unpack(tmp_path, capsys):
    source = ROOT / "sample_apps" / "equipment_repair"
    packed = tmp_path / "repair.fwapp"
    assert main(["pack", str(source), "-o", str(packed)]) == 0
    assert main(["check", str(packed)]) == 0
    target = tmp_path / "unpacked"
    assert main(["unpack", str(packed), "-o", str(target)]) == 0
    assert json.loads((target / "app.json").read_text("utf-8")) == json.loads(
        (source / "app.json").read_text("utf-8")
    )


def test_console_script_never_shows_a_traceback(tmp_path):
    broken = BROKEN["bad_json"](tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "check", str(broken)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("pattern", [r"(a)\1+$", r"(?=x)x+", r"(?<!a)b"])
def test_check_refuses_patterns_without_a_time_bound(tmp_path, capsys, pattern):
    field = {"key": "code", "type": "text", "label": "Code", "pattern": pattern}
    folder = write_folder(tmp_path, "pattern", json.dumps(app_with(field)))
    assert main(["check", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fields[0].pattern" in err and "bounded time" in err


def test_check_warns_about_a_grant_that_shows_a_formula_over_a_hidden_field(
    tmp_path: Path, capsys
) -> None:
    """``bonus = salary * 0.1`` listed as readonly for a role that cannot see the
    salary: a warning naming the grant, and the package stays valid (exit 0)."""
    from tests.services.leak_world import leak_app

    folder = write_folder(tmp_path, "leak", json.dumps(leak_app()))
    assert main(["check", str(folder)]) == 0
    captured = capsys.readouterr()
    assert "valid" in captured.out
    warnings = [line for line in captured.err.splitlines() if "warning" in line]
    assert len(warnings) == 1, captured.err
    assert "roles[0].grants.staff.fields.bonus" in warnings[0]
    assert "'salary'" in warnings[0]


def test_check_prints_no_warning_for_a_formula_over_visible_fields(tmp_path: Path, capsys) -> None:
    from tests.services.leak_world import CLERK_GRANTS, leak_app

    grants = json.loads(json.dumps(CLERK_GRANTS))
    grants["staff"]["fields"]["salary"] = "readonly"
    folder = write_folder(tmp_path, "fine", json.dumps(leak_app(grants)))
    assert main(["check", str(folder)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_formula_grant_problems_are_warnings() -> None:
    from runtime.spec.formula_inputs import formula_grant_warnings
    from tests.services.leak_world import leak_spec

    problems = formula_grant_warnings(leak_spec())
    assert [(p.path, p.level) for p in problems] == [
        ("roles[0].grants.staff.fields.bonus", "warning")
    ]
