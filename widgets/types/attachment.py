"""Attachments: files of any (or chosen) types, stored in the database by sha256."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from resources.messages import tr
from widgets.types._files import FilesFieldType, FilesSpecBase, sample_ref


class AttachmentSpec(FilesSpecBase):
    extensions: list[str] = Field(default_factory=list)

    @field_validator("extensions")
    @classmethod
    def _plain_extensions(cls, extensions: list[str]) -> list[str]:
        """``[".PDF", "jpg"]`` → ``["pdf", "jpg"]``: lower case, no dot, no repeats."""
        cleaned: list[str] = []
        for ext in extensions:
            ext = ext.strip().lstrip(".").lower()
            if not ext or not ext.isalnum() or len(ext) > 10:
                raise ValueError(
                    tr("'{extension}' is not a file extension like pdf or docx").format(
                        extension=ext
                    )
                )
            if ext not in cleaned:
                cleaned.append(ext)
        return cleaned


class AttachmentType(FilesFieldType[AttachmentSpec]):
    name = "attachment"
    spec_model = AttachmentSpec
    title = "Attachment"
    title_zh = "附件"
    icon = "mdi6.paperclip"
    editor = "widgets.editors.attachment:AttachmentEditor"
    description = "Files such as scanned reports, PDFs or spreadsheets, kept with the record."
    sample_attributes = {"max_files": 3, "max_size_mb": 10, "extensions": ["pdf", "jpg", "xlsx"]}

    def allowed_extensions(self, spec: AttachmentSpec) -> list[str]:
        return spec.extensions

    def sample_values(self, spec: AttachmentSpec) -> list[Any]:
        return [
            [sample_ref("维修报告.pdf", 182_044, "application/pdf")],
            [
                sample_ref("invoice-2024-03.pdf", 52_311, "application/pdf"),
                sample_ref("photo.jpg", 1_204_118, "image/jpeg"),
            ],
        ]


FIELD_TYPE = AttachmentType()
