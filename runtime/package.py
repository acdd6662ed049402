"""App packages: an app folder (``app.json`` + ``assets/``) or the same zipped as ``.fwapp``.

Packages arrive by mail, USB stick or download, so reading treats every package as
hostile: only allow-listed member names are read, straight into memory (nothing is
ever extracted, no link is ever followed), under limits on member count, sizes and
compression ratio; ``app.json`` is capped in size and nesting depth before the JSON
parser sees it. Writing goes through a temp file and ``os.replace`` in the same
directory, so a crash never leaves a half-written package behind.

Every failure is a :class:`PackageError` whose message is one plain sentence for the
user; no other exception escapes for bad input.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn

from resources.messages import tr
from widgets.protected_files import refuse_database_file

MIB = 1024 * 1024
APP_JSON = "app.json"
ASSETS = "assets"
SUFFIX = ".fwapp"

_PART = re.compile(r"[A-Za-z0-9._-]+")
#: Names Windows maps to devices whatever the extension: unpacking them would misbehave.
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)
#: Clutter that desktops drop into folders; a folder package silently ignores it.
_IGNORED_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_TEMP_SUFFIX = ".fwtmp"
#: Fixed zip timestamps make packing the same folder twice give identical bytes.
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_COMPRESS_LEVEL = 6
_CHUNK = 64 * 1024
_BOM = b"\xef\xbb\xbf"
_EOCD_SIG = b"PK\x05\x06"
_EOCD_SIZE = 22
#: End record + longest comment + zip64 locator and record.
_EOCD_WINDOW = _EOCD_SIZE + 0xFFFF + 20 + 56
_JSON_OPEN_CLOSE_QUOTE = re.compile(r'[\[\]{}"]')
#: The rest of a JSON string after its opening quote; unambiguous, so it fails in linear time.
_JSON_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


class PackageError(Exception):
    """A package that cannot be read or written; ``message`` is one sentence for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PackageLimits:
    """Caps applied while reading, so a hostile package cannot exhaust memory or time."""

    max_members: int = 500
    max_member_bytes: int = 20 * MIB
    max_total_bytes: int = 100 * MIB
    #: Uncompressed/compressed size per zip member, checked once a member is past the floor.
    max_ratio: int = 100
    ratio_floor_bytes: int = 1 * MIB
    max_json_bytes: int = 5 * MIB
    max_json_depth: int = 64
    max_name_length: int = 200


LIMITS = PackageLimits()


@dataclass
class PackageContents:
    """What a package holds: the parsed ``app.json`` and the asset files by member name."""

    app_json: dict[str, Any]
    assets: dict[str, bytes] = field(default_factory=dict)
    source: Path | None = None


# --------------------------------------------------------------------------- reading


def read_package(path: str | Path, limits: PackageLimits = LIMITS) -> PackageContents:
    """Read a ``.fwapp`` file, an app folder or a direct path to its ``app.json``."""
    path = Path(path)
    refuse_database_file(path, PackageError)
    kind, source = _locate(path)
    try:
        files = _read_zip(source, limits) if kind == "zip" else _read_folder(source, limits)
    except OSError as error:
        text = tr("'{name}' could not be read: {reason}")
        raise PackageError(text.format(name=_show(path), reason=_reason(error))) from None
    app_json = parse_app_json(files.pop(APP_JSON), limits)
    return PackageContents(app_json=app_json, assets=dict(sorted(files.items())), source=source)


def _locate(path: Path) -> tuple[str, Path]:
    """Decide whether ``path`` is a zipped package or a folder (``app.json`` means its folder)."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise PackageError(tr("'{name}' was not found").format(name=_show(path))) from None
    except (OSError, ValueError) as error:
        text = tr("'{name}' could not be opened: {reason}")
        raise PackageError(text.format(name=_show(path), reason=_reason(error))) from None
    if stat.S_ISDIR(mode):
        return "folder", path
    if path.suffix.lower() == SUFFIX:
        return "zip", path
    if path.name == APP_JSON:
        return "folder", path.parent
    text = tr("'{name}' is not a Formwright app: open a .fwapp file, an app folder or its app.json")
    raise PackageError(text.format(name=_show(path.name)))


def parse_app_json(data: bytes, limits: PackageLimits = LIMITS) -> dict[str, Any]:
    """Parse ``app.json`` bytes: size and depth are capped before the parser runs."""
    if len(data) > limits.max_json_bytes:
        raise PackageError(_json_too_large(limits))
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if not data.strip():
        raise PackageError(tr("app.json is empty"))
    text = _decode_utf8(data)
    _check_json_depth(text, limits.max_json_depth)
    value = _load_json(text, limits.max_json_depth)
    if not isinstance(value, dict):
        raise PackageError(tr("app.json must contain a JSON object ({ ... }) at the top level"))
    return value


def _decode_utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        text = tr("app.json is not valid UTF-8 text (line {line}); save it as UTF-8")
        raise PackageError(text.format(line=line)) from None


def _check_json_depth(text: str, max_depth: int) -> None:
    """Count brackets outside strings, so deep nesting fails before any recursion starts."""
    depth, pos = 0, 0
    while match := _JSON_OPEN_CLOSE_QUOTE.search(text, pos):
        char, pos = match.group(), match.end()
        if char == '"':
            rest = _JSON_STRING_REST.match(text, pos)
            if rest is None:
                return  # unterminated string: the parser reports it with its position
            pos = rest.end()
            continue
        depth += 1 if char in "[{" else -1
        if depth > max_depth:
            raise PackageError(_too_deep(max_depth))


def _load_json(text: str, max_depth: int) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        what = error.msg.removesuffix(" at")  # "Unterminated string starting at"
        text = tr("app.json is not valid JSON: {problem} at line {line}, column {column}")
        raise PackageError(
            text.format(problem=what, line=error.lineno, column=error.colno)
        ) from None
    except RecursionError:  # defence in depth: the pre-scan should have caught it
        raise PackageError(_too_deep(max_depth)) from None
    except ValueError:  # e.g. an integer past Python's digit limit
        raise PackageError(tr("app.json contains a number that is too long")) from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse duplicate keys: JSON parsers disagree on which one wins, so the app is ambiguous."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise PackageError(tr("duplicate key '{key}' in app.json").format(key=_show(key)))
        result[key] = value
    return result


def _no_constant(name: str) -> NoReturn:
    text = tr("app.json contains {name}, which is not a valid JSON value")
    raise PackageError(text.format(name=name))


# --------------------------------------------------------------------------- member names


def check_member_name(name: str, limits: PackageLimits = LIMITS) -> None:
    """Allow only ``app.json`` and ``assets/<parts>``: nothing can point outside the package."""
    if not _is_allowed_name(name, limits.max_name_length):
        raise PackageError(tr("unexpected file '{name}' in the package").format(name=_show(name)))


def _is_allowed_name(name: str, max_length: int) -> bool:
    if name == APP_JSON:
        return True
    if len(name) > max_length:
        return False
    parts = name.split("/")
    return len(parts) >= 2 and parts[0] == ASSETS and all(map(_is_allowed_part, parts[1:]))


def _is_allowed_part(part: str) -> bool:
    """Portable names only; a trailing dot (and so ``.``/``..``) vanishes on Windows."""
    if not _PART.fullmatch(part) or part.endswith("."):
        return False
    return part.split(".", 1)[0].lower() not in _WINDOWS_DEVICES


def _check_layout(names: Iterable[str]) -> None:
    """Refuse names that would collide on disk: twice the same (any case), or file vs folder."""
    seen: dict[str, str] = {}
    folders: set[str] = set()
    for name in names:
        key = name.casefold()
        if key in seen:
            text = tr("the file '{name}' appears twice in the package")
            raise PackageError(text.format(name=_show(name)))
        seen[key] = name
        parts = key.split("/")
        folders.update("/".join(parts[:end]) for end in range(1, len(parts)))
    for key, name in seen.items():
        if key in folders:
            text = tr("'{name}' is both a file and a folder in the package")
            raise PackageError(text.format(name=_show(name)))


# --------------------------------------------------------------------------- zip packages


def _read_zip(path: Path, limits: PackageLimits) -> dict[str, bytes]:
    """Read the allow-listed members of a ``.fwapp`` into memory; never extract anything."""
    if path.stat().st_size > _archive_cap(limits):
        text = tr("the package '{name}' is larger than allowed")
        raise PackageError(text.format(name=_show(path.name)))
    declared = _declared_entry_count(path)
    if declared is not None and declared > limits.max_members:
        raise PackageError(_too_many_files(limits))
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        text = tr("'{name}' is damaged or is not a .fwapp package (not a zip file)")
        raise PackageError(text.format(name=_show(path.name))) from None
    with archive:
        members = _zip_members(archive, path, limits)
        try:
            return _read_zip_members(archive, members, limits)
        except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, NotImplementedError):
            text = tr("the package '{name}' is damaged and cannot be read")
            raise PackageError(text.format(name=_show(path.name))) from None


def _archive_cap(limits: PackageLimits) -> int:
    """The largest sane archive: all content stored plus generous per-member headers."""
    return limits.max_total_bytes + limits.max_members * (4 * limits.max_name_length + 1024)


def _declared_entry_count(path: Path) -> int | None:
    """The entry count the end records claim, read before zipfile builds one object per entry.

    A 100 MB archive of empty entries would otherwise cost gigabytes before any count check.
    Mirrors zipfile's lookup: the record at the very end, else the last one in the comment
    window; a zip64 record just before its locator overrides the classic count.
    """
    size = path.stat().st_size
    with path.open("rb") as stream:
        stream.seek(max(0, size - _EOCD_WINDOW))
        tail = stream.read()
    end = len(tail) - _EOCD_SIZE
    if not (end >= 0 and tail[end : end + 4] == _EOCD_SIG and tail[-2:] == b"\0\0"):
        end = tail.rfind(_EOCD_SIG)
        if end < 0 or len(tail) - end < _EOCD_SIZE:
            return None  # zipfile reports the damage itself
    count = struct.unpack_from("<H", tail, end + 10)[0]
    locator, record = end - 20, end - 20 - 56
    zip64 = tail[locator : locator + 4] == b"PK\x06\x07"
    if record >= 0 and zip64 and tail[record : record + 4] == b"PK\x06\x06":
        count = max(count, struct.unpack_from("<Q", tail, record + 32)[0])
    return count


def _zip_members(
    archive: zipfile.ZipFile, path: Path, limits: PackageLimits
) -> list[tuple[str, zipfile.ZipInfo]]:
    """The file members by package name (top folder stripped), every name checked."""
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise PackageError(_too_many_files(limits))
    # orig_filename is the raw name: zipfile cuts it at NUL and turns "\\" into "/" on Windows.
    prefix = _top_folder([info.orig_filename for info in infos])
    members: list[tuple[str, zipfile.ZipInfo]] = []
    for info in infos:
        raw = info.orig_filename
        if stat.S_ISLNK(info.external_attr >> 16):
            raise PackageError(_link_refused(raw))
        if not raw.endswith("/"):  # directory entries carry nothing we need
            members.append((raw[len(prefix) :], info))
    if APP_JSON not in (name for name, _ in members):
        text = tr("the package '{name}' has no app.json, so it is not a Formwright app")
        raise PackageError(text.format(name=_show(path.name)))
    for name, info in members:
        _check_zip_member(name, info, limits)
    _check_layout(name for name, _ in members)
    return members


def _top_folder(raw_names: list[str]) -> str:
    """``name/`` when every member sits under one folder holding app.json (a zipped folder)."""
    if APP_JSON in raw_names or not raw_names:
        return ""
    top = raw_names[0].split("/", 1)[0]
    prefix = f"{top}/"
    if top in ("", ".", "..") or "\\" in top or ":" in top:
        return ""
    if f"{prefix}{APP_JSON}" not in raw_names:
        return ""
    return prefix if all(name.startswith(prefix) for name in raw_names) else ""


def _check_zip_member(name: str, info: zipfile.ZipInfo, limits: PackageLimits) -> None:
    check_member_name(name, limits)
    if info.flag_bits & 0x1:
        text = tr(
            "the file '{name}' in the package is encrypted; encrypted packages are not supported"
        )
        raise PackageError(text.format(name=_show(name)))
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        text = tr("the file '{name}' in the package uses an unsupported compression method")
        raise PackageError(text.format(name=_show(name)))


def _read_zip_members(
    archive: zipfile.ZipFile, members: list[tuple[str, zipfile.ZipInfo]], limits: PackageLimits
) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    used = 0
    for name, info in members:
        cap, why = _member_cap(name, limits, used, info.compress_size)
        if info.file_size > cap:  # the header admits it: refuse before decompressing
            raise PackageError(why)
        with archive.open(info) as stream:
            files[name] = _read_bounded(stream, cap, why)
        used += len(files[name])
    return files


def _member_cap(
    name: str, limits: PackageLimits, used: int, compressed: int | None = None
) -> tuple[int, str]:
    """The most bytes ``name`` may hold, and the sentence to give when it holds more."""
    shown = _show(name)
    member = tr("the file '{name}' in the package is larger than {size}")
    total = tr("the files in the package are larger than {size} in total")
    caps = [
        (limits.max_member_bytes, member.format(name=shown, size=_size(limits.max_member_bytes))),
        (limits.max_total_bytes - used, total.format(size=_size(limits.max_total_bytes))),
    ]
    if name == APP_JSON:
        caps.append((limits.max_json_bytes, _json_too_large(limits)))
    if compressed is not None:
        ratio = tr(
            "the file '{name}' in the package expands more than {ratio} "
            "times; it looks like a zip bomb"
        )
        caps.append(
            (
                max(limits.ratio_floor_bytes, compressed * limits.max_ratio),
                ratio.format(name=shown, ratio=limits.max_ratio),
            )
        )
    return min(caps, key=lambda cap: cap[0])


def _read_bounded(stream: IO[bytes], cap: int, why: str) -> bytes:
    """Read at most ``cap`` bytes in chunks; whatever a header claims, stop once past it."""
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(min(_CHUNK, cap + 1 - total)):
        total += len(chunk)
        if total > cap:
            raise PackageError(why)
        chunks.append(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------- folder packages


def _read_folder(folder: Path, limits: PackageLimits) -> dict[str, bytes]:
    """Read ``app.json`` and ``assets/`` of a folder; links and special files are refused."""
    try:
        os.lstat(folder / APP_JSON)
    except FileNotFoundError:
        text = tr("the folder '{name}' has no app.json, so it is not a Formwright app")
        raise PackageError(text.format(name=_show(folder.name or str(folder)))) from None
    files: dict[str, bytes] = {}
    used = 0
    for name, path in [(APP_JSON, folder / APP_JSON), *_list_assets(folder, limits)]:
        cap, why = _member_cap(name, limits, used)
        files[name] = _read_regular_file(path, name, cap, why)
        used += len(files[name])
    return files


def _list_assets(folder: Path, limits: PackageLimits) -> list[tuple[str, Path]]:
    """Walk ``assets/`` without following links, checking every name against the allow-list."""
    root = folder / ASSETS
    try:
        mode = os.lstat(root).st_mode
    except FileNotFoundError:
        return []
    if not stat.S_ISDIR(mode):
        _refuse_entry(ASSETS, mode)
    found: list[tuple[str, Path]] = []
    count = 1  # app.json
    for name, entry in _walk(root, ASSETS):
        count += 1
        if count > limits.max_members:
            raise PackageError(_too_many_files(limits))
        mode = entry.stat(follow_symlinks=False).st_mode
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            _refuse_entry(name, mode)
        check_member_name(name, limits)
        if stat.S_ISREG(mode):
            found.append((name, Path(entry.path)))
    return sorted(found)


def _walk(root: Path, prefix: str) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Every entry under ``root`` with its package name; descends only into real folders."""
    stack = [(root, prefix)]
    while stack:
        directory, base = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name in _IGNORED_FILES or entry.name.endswith(_TEMP_SUFFIX):
                    continue
                name = f"{base}/{entry.name}"
                yield name, entry
                if entry.is_dir(follow_symlinks=False):
                    stack.append((Path(entry.path), name))


def _refuse_entry(name: str, mode: int) -> NoReturn:
    if stat.S_ISLNK(mode):
        raise PackageError(_link_refused(name))
    text = tr("'{name}' in the package is not a regular file")
    raise PackageError(text.format(name=_show(name)))


def _read_regular_file(path: Path, name: str, cap: int, why: str) -> bytes:
    """Open without following a link (and without blocking on a FIFO), then read bounded."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            _refuse_entry(name, stat.S_IFLNK)
        raise
    with os.fdopen(fd, "rb") as stream:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            _refuse_entry(name, mode)
        return _read_bounded(stream, cap, why)


# --------------------------------------------------------------------------- writing


def write_package(path: str | Path, contents: PackageContents) -> None:
    """Save ``contents`` as a ``.fwapp`` zip (by suffix) or as a folder, atomically per file.

    A folder then holds exactly the given assets: stale allow-listed asset files are removed.
    """
    path = Path(path)
    refuse_database_file(path, PackageError, writing=True)
    files = _serialize(contents)
    with _saving(path):
        if path.suffix.lower() == SUFFIX:
            _write_zip(path, files)
        else:
            _write_folder(path, files)


def pack(folder: Path, output: Path | None = None) -> Path:
    """Zip an app folder into a ``.fwapp`` (default: the folder's name + .fwapp beside it)."""
    kind, source = _locate(Path(folder))
    if kind != "folder":
        text = tr("'{name}' is not an app folder")
        raise PackageError(text.format(name=_show(Path(folder).name)))
    contents = read_package(source)
    base = Path(os.path.abspath(source))
    output = Path(output) if output is not None else base.with_name(base.name + SUFFIX)
    if output.suffix.lower() != SUFFIX:
        text = tr("'{name}' must end with {suffix}")
        raise PackageError(text.format(name=_show(output.name), suffix=SUFFIX))
    files = _serialize(contents)
    with _saving(output):
        _write_zip(output, files)
    return output


def unpack(package: Path, folder: Path) -> Path:
    """Write a package's files into a new or empty folder; the names were checked on reading."""
    contents = read_package(package)
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        text = tr("the folder '{name}' is not empty; choose an empty or new folder")
        raise PackageError(text.format(name=_show(folder.name)))
    files = _serialize(contents)
    with _saving(folder):
        _write_folder(folder, files)
    return folder


def _serialize(contents: PackageContents, limits: PackageLimits = LIMITS) -> dict[str, bytes]:
    """Member bytes, app.json first; refuse what could not be read back under ``limits``."""
    if not isinstance(contents.app_json, dict):
        raise PackageError(tr("the app could not be saved: app.json must be a JSON object"))
    try:
        text = json.dumps(contents.app_json, indent=2, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        text = tr("the app could not be saved as JSON: {error}")
        raise PackageError(text.format(error=error)) from None
    files = {APP_JSON: (text + "\n").encode("utf-8")}
    for name in sorted(contents.assets):
        if name == APP_JSON:
            text = tr("unexpected file '{name}' among the assets")
            raise PackageError(text.format(name=APP_JSON))
        check_member_name(name, limits)
        files[name] = bytes(contents.assets[name])
    _check_layout(files)
    _check_sizes(files, limits)
    return files


def _check_sizes(files: dict[str, bytes], limits: PackageLimits) -> None:
    if len(files) > limits.max_members:
        raise PackageError(_too_many_files(limits))
    used = 0
    for name, data in files.items():
        cap, why = _member_cap(name, limits, used)
        if len(data) > cap:
            raise PackageError(why)
        used += len(data)


@contextlib.contextmanager
def _saving(path: Path) -> Iterator[None]:
    """Turn a disk failure (full, read-only, locked) into one sentence for the user."""
    try:
        yield
    except OSError as error:
        text = tr("'{name}' could not be saved: {reason}")
        raise PackageError(text.format(name=_show(path.name), reason=_reason(error))) from None


def _write_zip(path: Path, files: dict[str, bytes]) -> None:
    def write(stream: IO[bytes]) -> None:
        with zipfile.ZipFile(stream, "w") as archive:
            for name, data in files.items():
                archive.writestr(_zip_info(name, data), data, compresslevel=_COMPRESS_LEVEL)

    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, write)


def _zip_info(name: str, data: bytes) -> zipfile.ZipInfo:
    """A member with fixed metadata, so the same content always gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.create_system = 3  # Unix, whatever the platform: the mode bits below are Unix ones
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED if _deflate_ok(data) else zipfile.ZIP_STORED
    return info


def _deflate_ok(data: bytes, limits: PackageLimits = LIMITS) -> bool:
    """Store (not deflate) a big member that compresses past the ratio cap, so it reads back."""
    if len(data) <= limits.ratio_floor_bytes:
        return True
    compressor = zlib.compressobj(_COMPRESS_LEVEL, zlib.DEFLATED, -15)
    compressed = len(compressor.compress(data)) + len(compressor.flush())
    return compressed * limits.max_ratio >= len(data)


def _write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Assets first, app.json last: a crash part-way still leaves the previous app.json."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in sorted(files, key=lambda item: item == APP_JSON):
        target = _folder_target(folder, name)
        _atomic_write(target, _bytes_writer(files[name]))
    _remove_stale_assets(folder, set(files))


def _bytes_writer(data: bytes) -> Callable[[IO[bytes]], object]:
    """A ``write`` for :func:`_atomic_write` that writes ``data`` as it is."""
    return lambda stream: stream.write(data)


def _folder_target(folder: Path, name: str) -> Path:
    """The path for ``name``, creating sub-folders; never writes through a link."""
    directory = folder
    *parents, last = name.split("/")
    for part in parents:
        directory = directory / part
        try:
            mode = os.lstat(directory).st_mode
        except FileNotFoundError:
            directory.mkdir()
            continue
        if not stat.S_ISDIR(mode):
            shown = "/".join(directory.relative_to(folder).parts)
            if stat.S_ISLNK(mode):
                _refuse_entry(shown, mode)
            text = tr("'{name}' is in the way: a folder is needed there")
            raise PackageError(text.format(name=_show(shown)))
    return directory / last


def _remove_stale_assets(folder: Path, keep: set[str]) -> None:
    root = folder / ASSETS
    if not root.is_dir() or root.is_symlink():
        return
    for name, entry in list(_walk(root, ASSETS)):
        stale = name not in keep and _is_allowed_name(name, LIMITS.max_name_length)
        if stale and entry.is_file(follow_symlinks=False):
            os.unlink(entry.path)


def _atomic_write(target: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write a temp file beside ``target``, flush it to disk, then swap it in with os.replace."""
    mode = _mode_for(target)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _mode_for(target: Path) -> int:
    """Keep an existing file's permissions; new files get the usual rw-r--r--."""
    try:
        existing = os.lstat(target).st_mode
    except FileNotFoundError:
        return 0o644
    return stat.S_IMODE(existing) if stat.S_ISREG(existing) else 0o644


# --------------------------------------------------------------------------- messages


def _show(text: str | Path, limit: int = 100) -> str:
    """A name as it can safely appear in a message: no control characters, not too long."""
    text = "".join(char if char.isprintable() else "?" for char in str(text)[: limit + 1])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _size(count: int) -> str:
    if count >= MIB and count % MIB == 0:
        return tr("{count} MB").format(count=count // MIB)
    return tr("{count:,} bytes").format(count=count)


def _json_too_large(limits: PackageLimits) -> str:
    return tr("app.json is larger than {size}").format(size=_size(limits.max_json_bytes))


def _too_deep(max_depth: int) -> str:
    return tr("app.json is nested more than {depth} levels deep").format(depth=max_depth)


def _too_many_files(limits: PackageLimits) -> str:
    return tr("the package has more than {count} files").format(count=limits.max_members)


def _link_refused(name: str) -> str:
    text = tr("the package contains a link '{name}'; links are not allowed")
    return text.format(name=_show(name))


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
