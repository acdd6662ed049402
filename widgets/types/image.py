"""Images: pictures with thumbnails, stored in the database by sha256."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from widgets.types._files import FilesFieldType, FilesSpecBase, sample_ref

IMAGE_EXTENSIONS = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]


class ImageSpec(FilesSpecBase):
    max_size_mb: int = Field(default=10, ge=1, le=200)


class ImageType(FilesFieldType[ImageSpec]):
    name = "image"
    spec_model = ImageSpec
    title = "Image"
    title_zh = "图片"
    icon = "mdi6.image-outline"
    editor = "widgets.editors.image:ImageEditor"
    description = "Photos and pictures (png, jpg, gif...), shown as thumbnails."
    sample_attributes = {"max_files": 4}

    def allowed_extensions(self, spec: ImageSpec) -> list[str]:
        return IMAGE_EXTENSIONS

    def sample_values(self, spec: ImageSpec) -> list[Any]:
        return [
            [sample_ref("伤口照片.jpg", 845_220, "image/jpeg")],
            [
                sample_ref("before.png", 301_552, "image/png"),
                sample_ref("after.png", 298_004, "image/png"),
            ],
        ]


FIELD_TYPE = ImageType()
