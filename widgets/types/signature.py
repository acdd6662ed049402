"""Signatures: one PNG drawn on a pen pad, stored in the database by sha256."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import ExprType, FieldSpecBase, FieldType, FieldValueError, SpecProblem
from widgets.types._files import MB, FileRef, file_ref, json_text_value, sample_ref

MAX_SIGNATURE_BYTES = 2 * MB


class SignatureSpec(FieldSpecBase):
    pass


class SignatureType(FieldType[SignatureSpec]):
    name = "signature"
    spec_model = SignatureSpec
    title = "Signature"
    title_zh = "手写签名"
    group = "files"
    icon = "mdi6.signature-freehand"
    editor = "widgets.editors.signature:SignatureEditor"
    description = "A handwritten signature drawn with the mouse, a pen or a finger."
    # A drawing can't come back from a cell or text: only "signed" is exported.
    excel_roundtrip = False
    text_roundtrip = False

    def sample_values(self, spec: SignatureSpec) -> list[Any]:
        return [sample_ref("signature.png", 8_412, "image/png")]

    def coerce(self, spec: SignatureSpec, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, (Mapping, FileRef)):
            raise FieldValueError(tr("this is not a stored signature"))
        return file_ref(value)

    def validate(self, spec: SignatureSpec, value: Any) -> None:
        if value is None:
            return
        if value["mime"] != "image/png":
            raise FieldValueError(tr("a signature must be a PNG image"))
        if value["size"] > MAX_SIGNATURE_BYTES:
            raise FieldValueError(tr("this signature image is too large"))

    def check_spec(self, spec: SignatureSpec) -> list[SpecProblem]:
        # A default makes no sense here; report that alone, not also its value.
        problems = [p for p in super().check_spec(spec) if p.attribute != "default"]
        if spec.default is not None:
            problems.append(SpecProblem("default", tr("a signature can't have a default")))
        return problems

    def sql_type(self, spec: SignatureSpec) -> TypeEngine:
        return JSON()

    def display(self, spec: SignatureSpec, value: Any, context: Any = None) -> str:
        return "" if value is None else tr("signed")

    def parse(self, spec: SignatureSpec, text: str, context: Any = None) -> Any:
        return None if not text.strip() else self.coerce(spec, json_text_value(text))

    def expression_type(self, spec: SignatureSpec) -> ExprType:
        return "any"

    def describe(self, spec: SignatureSpec) -> str:
        return tr("signature; signed in the form (not imported)")


FIELD_TYPE = SignatureType()
