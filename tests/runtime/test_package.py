"""App packages: round trips, determinism, atomic saves and every hostile input refused.

Every hostile package is built here with zipfile/struct/os.symlink in tmp_path; each must
give a PackageError with a readable message and write nothing anywhere.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import struct
import warnings
import zipfile
from pathlib import Path

import pytest

from runtime.package import (
    LIMITS,
    MIB,
    PackageContents,
    PackageError,
    PackageLimits,
    _read_bounded,
    pack,
    parse_app_json,
    read_package,
    unpack,
    write_package,
)

APP = {
    "format": "formwright-app",
    "spec_version": 1,
    "id": "equipment_repair",
    "version": 1,
    "title": "设备报修 — Equipment repair",
    "forms": [{"key": "request", "title": "Repair request", "fields": []}],
    "views": [],
    "roles": [],
}
APP_BYTES = json.dumps(APP).encode()
LOGO = bytes(range(256)) * 40


# --------------------------------------------------------------------------- helpers


def make_folder(root: Path, name: str = "equipment_repair") -> Path:
    folder = root / name
    (folder / "assets" / "print").mkdir(parents=True)
    (folder / "app.json").write_bytes(APP_BYTES)
    (folder / "assets" / "logo.png").write_bytes(LOGO)
    (folder / "assets" / "print" / "request.html").write_text("<h1>Repair</h1>", "utf-8")
    return folder


def make_zip(path: Path, members: dict[str, bytes], **kwargs: object) -> Path:
    """A zip holding ``members`` under exactly the given names, unchecked."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, **kwargs) as archive:
            for name, data in members.items():
                archive.writestr(name, data)
    return path


def patch_zip(path: Path, member: str, *, flags: int | None = None, size: int | None = None):
    """Rewrite the flag bits / uncompressed size of ``member`` in both of its headers."""
    buf = bytearray(path.read_bytes())
    wanted = member.encode()
    # (signature, flags offset, size offset, name-length offset, fixed header length)
    for sig, flag_at, size_at, nlen_at, fixed in (
        (b"PK\x03\x04", 6, 22, 26, 30),
        (b"PK\x01\x02", 8, 24, 28, 46),
    ):
        pos = buf.find(sig)
        while pos != -1:
            nlen = struct.unpack_from("<H", buf, pos + nlen_at)[0]
            if buf[pos + fixed : pos + fixed + nlen] == wanted:
                if flags is not None:
                    struct.pack_into("<H", buf, pos + flag_at, flags)
                if size is not None:
                    struct.pack_into("<I", buf, pos + size_at, size)
            pos = buf.find(sig, pos + 4)
    path.write_bytes(bytes(buf))


def tree(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): p.lstat().st_size
        for p in sorted(root.rglob("*"))
        if not p.is_dir() or p.is_symlink()
    }


def assert_refused(
    package: Path, match: str, tmp_path: Path, limits: PackageLimits = LIMITS
) -> PackageError:
    """Reading and unpacking both fail with the text ``match``; nothing was written anywhere."""
    match = re.escape(match)
    before, around = tree(tmp_path), sorted(os.listdir(tmp_path.parent))
    with pytest.raises(PackageError, match=match) as info:
        read_package(package, limits)
    out = tmp_path / "unpacked"
    if limits is LIMITS:  # unpack always applies the default limits
        with pytest.raises(PackageError, match=match):
            unpack(package, out)
    assert not out.exists()
    assert tree(tmp_path) == before
    assert sorted(os.listdir(tmp_path.parent)) == around
    assert not (tmp_path.parent / "evil").exists()
    message = info.value.message
    assert message == str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return info.value


def symlink_or_skip(target: Path, link: Path) -> None:
    try:
        os.symlink(target, link)
    except (OSError, NotImplementedError):
        pytest.skip("symlinks are not available here")


# --------------------------------------------------------------------------- round trips


def test_folder_round_trip_through_fwapp(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    packed = pack(folder)
    assert packed == tmp_path / "equipment_repair.fwapp"
    original = read_package(folder)
    zipped = read_package(packed)
    assert zipped.app_json == original.app_json == APP
    assert list(zipped.app_json) == list(APP)  # key order kept
    assert (
        zipped.assets
        == original.assets
        == {
            "assets/logo.png": LOGO,
            "assets/print/request.html": b"<h1>Repair</h1>",
        }
    )
    assert zipped.source == packed and original.source == folder

    out = unpack(packed, tmp_path / "copy")
    copy = read_package(out)
    assert copy.app_json == APP and copy.assets == original.assets
    assert sorted(zipfile.ZipFile(packed).namelist()) == [
        "app.json",
        "assets/logo.png",
        "assets/print/request.html",
    ]


def test_packing_is_deterministic(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    first = pack(folder, tmp_path / "one.fwapp")
    os.utime(folder / "assets" / "logo.png", (1_000_000, 1_000_000))
    second = pack(folder, tmp_path / "two.fwapp")
    assert first.read_bytes() == second.read_bytes()
    for info in zipfile.ZipFile(first).infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)


def test_app_json_is_written_pretty_utf8_in_given_order(tmp_path: Path) -> None:
    app = {"zeta": 1, "alpha": "é中", "list": [1, 2]}
    write_package(tmp_path / "app", PackageContents(app_json=app, assets={}))
    text = (tmp_path / "app" / "app.json").read_bytes().decode("utf-8")
    assert text == json.dumps(app, indent=2, ensure_ascii=False) + "\n"
    assert text.index("zeta") < text.index("alpha")


def test_direct_path_to_app_json_reads_its_folder(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    contents = read_package(folder / "app.json")
    assert contents.source == folder
    assert "assets/logo.png" in contents.assets


def test_zip_of_a_folder_with_one_top_folder(tmp_path: Path) -> None:
    package = make_zip(
        tmp_path / "zipped.fwapp",
        {
            "Equipment repair/": b"",
            "Equipment repair/app.json": APP_BYTES,
            "Equipment repair/assets/": b"",
            "Equipment repair/assets/logo.png": LOGO,
        },
    )
    contents = read_package(package)
    assert contents.app_json == APP
    assert contents.assets == {"assets/logo.png": LOGO}
    unpack(package, tmp_path / "out")
    assert (tmp_path / "out" / "assets" / "logo.png").read_bytes() == LOGO


def test_folder_write_removes_stale_assets_and_keeps_others(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    (folder / "notes.txt").write_text("mine")
    write_package(folder, PackageContents(app_json=APP, assets={"assets/new.png": b"x"}))
    assert read_package(folder).assets == {"assets/new.png": b"x"}
    assert (folder / "notes.txt").read_text() == "mine"


def test_a_highly_compressible_asset_still_reads_back(tmp_path: Path) -> None:
    blank = bytes(3 * MIB)  # deflates far past the ratio cap, so it is stored instead
    package = tmp_path / "blank.fwapp"
    write_package(package, PackageContents(app_json=APP, assets={"assets/blank.bmp": blank}))
    assert read_package(package).assets["assets/blank.bmp"] == blank


def test_bom_is_tolerated() -> None:
    assert parse_app_json(b"\xef\xbb\xbf" + APP_BYTES, LIMITS) == APP


def test_unpack_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    packed = pack(make_folder(tmp_path))
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("keep")
    with pytest.raises(PackageError, match="'busy' is not empty"):
        unpack(packed, target)
    assert os.listdir(target) == ["keep.txt"]


def test_pack_refuses_a_wrong_output_suffix(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match=r"must end with \.fwapp"):
        pack(make_folder(tmp_path), tmp_path / "app.zip")


# --------------------------------------------------------------------------- hostile names


@pytest.mark.parametrize(
    "name",
    [
        "../evil",
        "assets/../../evil",
        "/abs",
        "/etc/passwd",
        "C:\\x",
        "C:/x",
        "assets\\logo.png",
        "__MACOSX/._app.json",
        "evil.py",
        "assets/my logo.png",
        "assets/con.png",
        "assets/" + "a" * 200,
    ],
)
def test_unexpected_member_names_are_refused(tmp_path: Path, name: str) -> None:
    package = make_zip(tmp_path / "bad.fwapp", {"app.json": APP_BYTES, name: b"payload"})
    shown = name if len(name) < 100 else name[:99]
    assert_refused(package, f"unexpected file '{shown}", tmp_path)


def test_symlink_member_is_refused(tmp_path: Path) -> None:
    package = tmp_path / "link.fwapp"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.json", APP_BYTES)
        link = zipfile.ZipInfo("assets/logo.png")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "../../../etc/passwd")
    assert_refused(package, "link 'assets/logo.png'; links are not allowed", tmp_path)


def test_duplicate_member_names_are_refused(tmp_path: Path) -> None:
    package = tmp_path / "dup.fwapp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("app.json", APP_BYTES)
            archive.writestr("assets/logo.png", b"one")
            archive.writestr("assets/logo.png", b"two")
    assert_refused(package, "'assets/logo.png' appears twice in the package", tmp_path)


def test_names_differing_only_in_case_are_refused(tmp_path: Path) -> None:
    members = {"app.json": APP_BYTES, "assets/Logo.png": b"1", "assets/logo.png": b"2"}
    package = make_zip(tmp_path / "case.fwapp", members)
    assert_refused(package, "appears twice in the package", tmp_path)


def test_file_and_folder_of_the_same_name_are_refused(tmp_path: Path) -> None:
    members = {"app.json": APP_BYTES, "assets/a": b"1", "assets/a/b.png": b"2"}
    package = make_zip(tmp_path / "clash.fwapp", members)
    assert_refused(package, "'assets/a' is both a file and a folder", tmp_path)


# --------------------------------------------------------------------------- hostile sizes


def test_zip_bomb_is_refused_by_ratio(tmp_path: Path) -> None:
    package = make_zip(
        tmp_path / "bomb.fwapp", {"app.json": APP_BYTES, "assets/zeros.bin": bytes(50 * MIB)}
    )
    assert package.stat().st_size < MIB
    assert_refused(
        package, "'assets/zeros.bin' in the package expands more than 100 times", tmp_path
    )


def test_too_many_members_are_refused(tmp_path: Path) -> None:
    members = {"app.json": APP_BYTES} | {f"assets/f{i}.txt": b"x" for i in range(500)}
    package = make_zip(tmp_path / "many.fwapp", members)
    assert_refused(package, "the package has more than 500 files", tmp_path)


def test_member_count_is_checked_before_zipfile_parses_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = {"app.json": APP_BYTES} | {f"assets/f{i}.txt": b"" for i in range(600)}
    package = make_zip(tmp_path / "many.fwapp", members)
    monkeypatch.setattr(zipfile, "ZipFile", None)  # any parse attempt would fail loudly
    with pytest.raises(PackageError, match="more than 500 files"):
        read_package(package)


def test_zip64_entry_count_is_checked_too(tmp_path: Path) -> None:
    package = make_zip(tmp_path / "z64.fwapp", {"app.json": APP_BYTES}, allowZip64=True)
    data = package.read_bytes()
    end = data.rfind(b"PK\x05\x06")
    record = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, 10**7, 10**7, 0, 0)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, end, 1)
    package.write_bytes(data[:end] + record + locator + data[end:])
    assert_refused(package, "the package has more than 500 files", tmp_path)


def test_too_many_files_in_a_folder_are_refused(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    for i in range(10):
        (folder / "assets" / f"f{i}.txt").write_bytes(b"x")
    assert_refused(folder, "more than 5 files", tmp_path, PackageLimits(max_members=5))


def test_oversized_member_is_refused(tmp_path: Path) -> None:
    data = os.urandom(3000)
    package = make_zip(tmp_path / "big.fwapp", {"app.json": APP_BYTES, "assets/big.bin": data})
    limits = PackageLimits(max_member_bytes=2000)
    assert_refused(
        package, "'assets/big.bin' in the package is larger than 2,000 bytes", tmp_path, limits
    )


def test_total_size_is_capped(tmp_path: Path) -> None:
    members = {"app.json": APP_BYTES} | {f"assets/{i}.bin": os.urandom(1500) for i in range(3)}
    package = make_zip(tmp_path / "total.fwapp", members)
    limits = PackageLimits(max_total_bytes=4000)
    assert_refused(package, "larger than 4,000 bytes in total", tmp_path, limits)
    folder = tmp_path / "folder"
    write_package(folder, read_package(package))
    assert_refused(folder, "larger than 4,000 bytes in total", tmp_path, limits)


def test_lying_header_size_is_caught(tmp_path: Path) -> None:
    package = make_zip(
        tmp_path / "liar.fwapp", {"app.json": APP_BYTES, "assets/big.bin": os.urandom(3 * MIB)}
    )
    patch_zip(package, "assets/big.bin", size=100)  # claims 100 bytes, holds 3 MiB
    assert_refused(package, "'liar.fwapp' is damaged and cannot be read", tmp_path)


def test_bounded_read_stops_past_the_cap_whatever_the_header_says() -> None:
    stream = io.BytesIO(b"x" * 10_000)
    with pytest.raises(PackageError, match="too big"):
        _read_bounded(stream, 1000, "too big")
    assert stream.tell() <= 1001
    assert _read_bounded(io.BytesIO(b"y" * 1000), 1000, "too big") == b"y" * 1000


def test_json_too_big_is_refused(tmp_path: Path) -> None:
    big = json.dumps({"title": os.urandom(3 * MIB).hex()}).encode()  # 6 MiB, incompressible
    package = make_zip(tmp_path / "json.fwapp", {"app.json": big})
    assert_refused(package, "app.json is larger than 5 MB", tmp_path)
    with pytest.raises(PackageError, match=re.escape("app.json is larger than 5 MB")):
        parse_app_json(big, LIMITS)


# --------------------------------------------------------------------------- hostile JSON


def test_json_depth_100k_is_refused_without_recursion_error(tmp_path: Path) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(PackageError, match="nested more than 64 levels deep"):
        parse_app_json(deep, LIMITS)
    package = make_zip(tmp_path / "deep.fwapp", {"app.json": b'{"a": ' + deep + b"}"})
    assert_refused(package, "nested more than 64 levels deep", tmp_path)


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    text = json.dumps({"title": "[" * 1000 + '\\"{' * 100, "x": [[[1]]]}).encode()
    assert parse_app_json(text, LIMITS)["x"] == [[[1]]]
    with pytest.raises(PackageError, match="nested more than 3 levels"):
        parse_app_json(b'{"a": [[[1]]]}', PackageLimits(max_json_depth=3))


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b'{"x": 1, "x": 2}', "duplicate key 'x' in app.json"),
        (b'{"a": {"y": 1, "y": 1}}', "duplicate key 'y' in app.json"),
        (b'{"title": "caf\xe9"}', "app.json is not valid UTF-8 text (line 1)"),
        (b'{\n  "a": 1,\n  "b": }', "not valid JSON: Expecting value at line 3, column 8"),
        (b"", "app.json is empty"),
        (b"\xef\xbb\xbf  \n", "app.json is empty"),
        (b"[1, 2]", "must contain a JSON object"),
        (b'{"a": NaN}', "contains NaN"),
        (b'{"a": ' + b"9" * 5000 + b"}", "number that is too long"),
        (
            b'{"a": "unterminated [[[[',
            "not valid JSON: Unterminated string starting at line 1, column 7",
        ),
    ],
)
def test_bad_app_json_is_refused(tmp_path: Path, data: bytes, match: str) -> None:
    with pytest.raises(PackageError, match=re.escape(match)):
        parse_app_json(data, LIMITS)
    package = make_zip(tmp_path / "bad.fwapp", {"app.json": data})
    assert_refused(package, match, tmp_path)


# --------------------------------------------------------------------------- broken files


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    package = tmp_path / "text.fwapp"
    package.write_text("hello, I am not a zip")
    assert_refused(package, "'text.fwapp' is damaged or is not a .fwapp package", tmp_path)


def test_empty_fwapp_is_refused(tmp_path: Path) -> None:
    package = tmp_path / "empty.fwapp"
    package.write_bytes(b"")
    assert_refused(package, "'empty.fwapp' is damaged or is not a .fwapp package", tmp_path)


def test_truncated_zip_is_refused(tmp_path: Path) -> None:
    package = pack(make_folder(tmp_path))
    data = package.read_bytes()
    package.write_bytes(data[: len(data) // 2])
    assert_refused(package, "is damaged or is not a .fwapp package", tmp_path)


def test_corrupt_member_data_is_refused(tmp_path: Path) -> None:
    package = pack(make_folder(tmp_path))
    data = bytearray(package.read_bytes())
    start = data.find(b"assets/logo.png") + len("assets/logo.png")
    data[start + 10 : start + 60] = b"\x00" * 50  # inside the deflated logo
    package.write_bytes(bytes(data))
    assert_refused(package, "is damaged and cannot be read", tmp_path)


def test_missing_app_json_in_zip_is_refused(tmp_path: Path) -> None:
    package = make_zip(tmp_path / "noapp.fwapp", {"assets/logo.png": LOGO})
    assert_refused(package, "'noapp.fwapp' has no app.json", tmp_path)


def test_encrypted_member_is_refused(tmp_path: Path) -> None:
    package = make_zip(tmp_path / "secret.fwapp", {"app.json": APP_BYTES})
    patch_zip(package, "app.json", flags=0x1)
    assert_refused(package, "'app.json' in the package is encrypted", tmp_path)


def test_unsupported_compression_is_refused(tmp_path: Path) -> None:
    package = tmp_path / "bz.fwapp"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("app.json", APP_BYTES)
    assert_refused(package, "unsupported compression method", tmp_path)


def test_missing_path_is_refused(tmp_path: Path) -> None:
    assert_refused(tmp_path / "nowhere.fwapp", "nowhere.fwapp' was not found", tmp_path)


def test_folder_without_app_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert_refused(tmp_path / "plain", "the folder 'plain' has no app.json", tmp_path)


def test_other_file_types_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "report.pdf"
    other.write_bytes(b"%PDF")
    assert_refused(other, "'report.pdf' is not a Formwright app", tmp_path)


def test_empty_app_json_in_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "app.json").write_bytes(b"")
    assert_refused(folder, "app.json is empty", tmp_path)


# --------------------------------------------------------------------------- hostile folders


def test_symlinked_asset_pointing_outside_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("secret")
    folder = make_folder(tmp_path)
    symlink_or_skip(secret, folder / "assets" / "leak.txt")
    assert_refused(folder, "link 'assets/leak.txt'; links are not allowed", tmp_path)


def test_symlinked_assets_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "app.json").write_bytes(APP_BYTES)
    symlink_or_skip(outside, folder / "assets")
    assert_refused(folder, "link 'assets'", tmp_path)
    # Saving must not write through the link either.
    with pytest.raises(PackageError, match="link 'assets'"):
        write_package(folder, PackageContents(app_json=APP, assets={"assets/x.png": b"x"}))
    assert os.listdir(outside) == ["secret.txt"]


def test_symlinked_app_json_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.json"
    real.write_bytes(APP_BYTES)
    folder = tmp_path / "app"
    folder.mkdir()
    symlink_or_skip(real, folder / "app.json")
    assert_refused(folder, "link 'app.json'", tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_special_file_in_folder_is_refused(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    os.mkfifo(folder / "assets" / "pipe")
    assert_refused(folder, "'assets/pipe' in the package is not a regular file", tmp_path)


def test_badly_named_asset_in_folder_is_refused(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    (folder / "assets" / "my logo.png").write_bytes(b"x")
    assert_refused(folder, "unexpected file 'assets/my logo.png'", tmp_path)


def test_desktop_clutter_and_leftover_temp_files_are_ignored(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    (folder / "assets" / ".DS_Store").write_bytes(b"junk")
    (folder / "assets" / ".logo.png.abc123.fwtmp").write_bytes(b"half")
    assert sorted(read_package(folder).assets) == ["assets/logo.png", "assets/print/request.html"]


# --------------------------------------------------------------------------- atomic saves


def test_failed_zip_write_keeps_the_previous_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "app.fwapp"
    write_package(package, PackageContents(app_json=APP, assets={"assets/logo.png": LOGO}))
    before = package.read_bytes()
    real_writestr = zipfile.ZipFile.writestr

    def failing_writestr(self, info, data, *args, **kwargs):
        real_writestr(self, info, data, *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    changed = PackageContents(app_json={**APP, "version": 2}, assets={})
    with pytest.raises(
        PackageError, match=re.escape("'app.fwapp' could not be saved: No space left")
    ):
        write_package(package, changed)
    assert package.read_bytes() == before
    assert os.listdir(tmp_path) == ["app.fwapp"]


def test_failed_folder_write_keeps_the_previous_app_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_folder(tmp_path)
    before = tree(folder)
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(5, "I/O error")))
    with pytest.raises(PackageError, match="could not be saved: I/O error"):
        write_package(folder, PackageContents(app_json={**APP, "version": 2}, assets={}))
    monkeypatch.undo()
    assert tree(folder) == before
    assert read_package(folder).app_json == APP


def test_unserializable_app_json_writes_nothing(tmp_path: Path) -> None:
    package = tmp_path / "app.fwapp"
    write_package(package, PackageContents(app_json=APP, assets={}))
    before = package.read_bytes()
    with pytest.raises(PackageError, match="could not be saved as JSON"):
        write_package(package, PackageContents(app_json={"bad": {1, 2}}, assets={}))
    assert package.read_bytes() == before
    assert os.listdir(tmp_path) == ["app.fwapp"]


def test_failed_json_dumps_leaves_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_folder(tmp_path)
    before = tree(folder)

    def boom(*args: object, **kwargs: object) -> str:
        raise ValueError("simulated failure")

    monkeypatch.setattr(json, "dumps", boom)
    with pytest.raises(PackageError, match="simulated failure"):
        write_package(folder, PackageContents(app_json=APP, assets={}))
    monkeypatch.undo()
    assert tree(folder) == before


def test_writing_refuses_bad_asset_names(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match=re.escape("unexpected file '../evil'")):
        write_package(tmp_path / "app", PackageContents(app_json=APP, assets={"../evil": b"x"}))
    assert not (tmp_path / "evil").exists()
    assert not (tmp_path.parent / "evil").exists()
