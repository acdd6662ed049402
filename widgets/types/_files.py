"""Files in field values: the FileRef model and the base of attachment and image.

A value holds only references (name, size, sha256, mime); the bytes live in the
data engine's attachment table keyed by sha256, so values stay small and JSON-safe.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import JSON
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import ExprType, FieldSpecBase, FieldType, FieldValueError, SpecProblem

MB = 1024 * 1024


class FileRef(BaseModel):
    """One stored file, as it appears in a value."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    mime: str = Field(default="application/octet-stream", max_length=200)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if "/" in name or "\\" in name or "\x00" in name or name.strip() in ("", ".", ".."):
            raise ValueError("a file name may not contain a folder")
        return name

    @field_validator("sha256", mode="before")
    @classmethod
    def _lower_hash(cls, sha256: Any) -> Any:
        return sha256.lower() if isinstance(sha256, str) else sha256


def file_ref(value: Any) -> dict[str, Any]:
    """The canonical FileRef dict of a dict or FileRef; FieldValueError if malformed."""
    if isinstance(value, FileRef):
        return value.model_dump()
    if not isinstance(value, Mapping):
        raise FieldValueError(tr("this is not a stored file"))
    try:
        return FileRef.model_validate(dict(value)).model_dump()
    except ValidationError:
        raise FieldValueError(tr("this is not a stored file")) from None


def make_file_ref(name: str, data: bytes, mime: str | None = None) -> dict[str, Any]:
    """A FileRef dict for bytes about to be stored (editors use it)."""
    guessed = mime or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return file_ref(
        {
            "name": name,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "mime": guessed,
        }
    )


def extension_of(name: str) -> str:
    """``"Scan.PDF"`` → ``"pdf"``; ``""`` when the name has no extension."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def size_text(size: int) -> str:
    """A short human size: ``512 B``, ``12 KB``, ``3.4 MB``."""
    if size < 1024:
        return f"{size} B"
    if size < MB:
        return f"{size / 1024:.0f} KB"
    return f"{size / MB:.1f} MB"


def file_problem(name: str, size: int, max_size_mb: int, extensions: list[str]) -> str | None:
    """Why a file may not be attached (type or size), or ``None`` when it may."""
    if extensions and extension_of(name) not in extensions:
        return tr("'{name}' is not an allowed file type ({extensions})").format(
            name=name, extensions=", ".join(extensions)
        )
    if size > max_size_mb * MB:
        return tr("'{name}' is larger than {limit} MB ({size})").format(
            name=name, limit=max_size_mb, size=size_text(size)
        )
    return None


def json_text_value(text: str) -> Any:
    """A value written as JSON text (CLI, clipboard); files can't come from a name."""
    text = text.strip()
    if not text.startswith(("[", "{")):
        raise FieldValueError(tr("files can't be entered as text; attach them in the form"))
    try:
        return json.loads(text)
    except ValueError:
        raise FieldValueError(
            tr("files can't be entered as text; attach them in the form")
        ) from None


def sample_ref(name: str, size: int, mime: str) -> dict[str, Any]:
    """A deterministic FileRef for sample values (hash of the name)."""
    return file_ref(
        {
            "name": name,
            "size": size,
            "sha256": hashlib.sha256(name.encode()).hexdigest(),
            "mime": mime,
        }
    )


class FilesSpecBase(FieldSpecBase):
    max_files: int = Field(default=5, ge=1, le=100)
    max_size_mb: int = Field(default=20, ge=1, le=200)


#: The spec model of one files type.
FilesSpecT = TypeVar("FilesSpecT", bound=FilesSpecBase)


class FilesFieldType(FieldType[FilesSpecT]):
    """A list of files (attachment, image). Subclasses say which extensions fit."""

    group = "files"
    # Files can't come back from a name in a cell or text: only references are exported.
    excel_roundtrip = False
    text_roundtrip = False

    def allowed_extensions(self, spec: FilesSpecT) -> list[str]:
        """Lower-case extensions without a dot; empty means any."""
        return []

    def coerce(self, spec: FilesSpecT, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, (Mapping, FileRef)):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise FieldValueError(tr("this is not a list of stored files"))
        refs = [file_ref(item) for item in value]
        return refs or None

    def validate(self, spec: FilesSpecT, value: Any) -> None:
        if value is None:
            return
        if len(value) > spec.max_files:
            raise FieldValueError(
                tr("at most {limit} files (now {count})").format(
                    limit=spec.max_files, count=len(value)
                )
            )
        for ref in value:
            problem = file_problem(
                ref["name"], ref["size"], spec.max_size_mb, self.allowed_extensions(spec)
            )
            if problem:
                raise FieldValueError(problem)

    def sql_type(self, spec: FilesSpecT) -> TypeEngine:
        return JSON()

    def display(self, spec: FilesSpecT, value: Any, context: Any = None) -> str:
        return ", ".join(ref["name"] for ref in value or [])

    def parse(self, spec: FilesSpecT, text: str, context: Any = None) -> Any:
        return None if not text.strip() else self.coerce(spec, json_text_value(text))

    def expression_type(self, spec: FilesSpecT) -> ExprType:
        return "list"

    def check_spec(self, spec: FilesSpecT) -> list[SpecProblem]:
        # A default makes no sense here; report that alone, not also its value.
        problems = [p for p in super().check_spec(spec) if p.attribute != "default"]
        if spec.default is not None:
            problems.append(SpecProblem("default", tr("files can't have a default")))
        return problems

    def describe(self, spec: FilesSpecT) -> str:
        extensions = ", ".join(self.allowed_extensions(spec))
        if not extensions:
            return tr(
                "up to {count} files (any type), at most {limit} MB each;"
                " attach them in the form (not imported)"
            ).format(count=spec.max_files, limit=spec.max_size_mb)
        return tr(
            "up to {count} files ({extensions}), at most {limit} MB each;"
            " attach them in the form (not imported)"
        ).format(count=spec.max_files, extensions=extensions, limit=spec.max_size_mb)
