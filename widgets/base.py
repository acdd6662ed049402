"""The field-type contract: what every field type declares, in one place.

A field type is one module in ``widgets/types``. It defines a pydantic spec model
(the field's attributes in ``app.json``) and a :class:`FieldType` subclass that
knows everything that varies by type: value validation, SQL column type, display
and parse, Excel conversion, palette metadata and the import path of its Qt editor.
Other code reaches a type only through the registry (``widgets.registry``), so
adding a type means adding one module and its editor — no ``if type == ...``
anywhere else.

Canonical Python values (what services, editors and Excel exchange):

=================  ==============================================================
type               value
=================  ==============================================================
text-like          ``str``
number             ``int`` when ``decimals == 0``, else ``decimal.Decimal``
date/datetime/time ``datetime.date`` / naive local ``datetime.datetime`` / ``time``
select             option value ``str``; multiselect: ``list[str]``
checkbox           ``bool``
user, department   ``int`` id (``list[int]`` when ``multiple``)
lookup             ``int`` record id of the target form
subtable           ``list[dict[str, value]]`` rows
attachment, image  ``list[FileRef dict]``; signature: one ``FileRef`` dict
rating             ``int``
formula            per ``result``: ``Decimal``/``int``, ``str``, ``date``, ``bool``
=================  ==============================================================

``None`` always means "empty" and every method must accept it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.references import ReferenceKind

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
KEY_RE = re.compile(KEY_PATTERN)

Width = Literal["1", "1/2", "1/3", "1/4", "2/3", "3/4"]
WIDTH_FRACTIONS: dict[str, float] = {
    "1": 1.0,
    "1/2": 0.5,
    "1/3": 1 / 3,
    "1/4": 0.25,
    "2/3": 2 / 3,
    "3/4": 0.75,
}

# The palette groups, in display order.
PALETTE_GROUPS: tuple[str, ...] = (
    "basic",
    "choice",
    "datetime",
    "people",
    "relations",
    "files",
    "advanced",
    "layout",
)

# Types an expression can see a field as (see runtime.expressions).
ExprType = Literal["number", "text", "date", "datetime", "time", "boolean", "list", "table", "any"]


class FieldValueError(ValueError):
    """A value a user entered does not fit its field; ``message`` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SpecModel(BaseModel):
    """Base of every model in ``app.json``: unknown attributes are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False, frozen=False)


class Option(SpecModel):
    """One choice of a select or multiselect field."""

    value: str = Field(min_length=1, max_length=100)
    label: str = Field(min_length=1, max_length=200)


class FieldSpecBase(SpecModel):
    """Attributes every field has. Type modules subclass this and add their own."""

    key: str = Field(pattern=KEY_PATTERN)
    type: str
    label: str = Field(min_length=1, max_length=200)
    required: bool = False
    help: str = ""
    default: Any = None
    width: Width = "1"
    visible_when: str | None = None
    readonly: bool = False
    unique: bool = False


#: The spec model of one field type: ``NumberType`` is a ``FieldType[NumberSpec]``.
SpecT = TypeVar("SpecT", bound=FieldSpecBase)


@dataclass(frozen=True)
class Reference:
    """A name in a field spec that must resolve elsewhere in the app.

    ``kind`` is ``"form"`` (``target`` is a form key) or ``"field"`` (``target`` is
    ``(form_key, field_key)``). ``attribute`` names the spec attribute for error paths.
    """

    attribute: str
    kind: Literal["form", "field"]
    target: Any


@dataclass(frozen=True)
class SpecProblem:
    """A problem inside one field spec, relative to that field (``attribute`` path)."""

    attribute: str
    message: str


@dataclass
class ExcelContext:
    """What display/Excel conversion may need beyond the value itself.

    ``names`` maps ``(kind, id)`` to a display name and ``reverse_names`` maps
    ``(kind, name)`` back to the id, where kind is a :meth:`FieldType.reference_kind`
    (a :class:`widgets.references.ReferenceKind`, or its plain spelling); filled by
    the services.
    """

    names: Mapping[Any, str] = field(default_factory=dict)
    reverse_names: Mapping[Any, int] = field(default_factory=dict)


EMPTY_CONTEXT = ExcelContext()


class FieldType(Generic[SpecT]):
    """Everything that varies by field type. Subclasses override what differs.

    Instances are stateless; methods take the field's spec model as first argument.
    A type names its spec model as the parameter (``FieldType[NumberSpec]``), so its
    methods may take that model; code that reaches types through the registry holds
    a ``FieldType[Any]`` and passes any spec.
    """

    name: ClassVar[str]
    #: The pydantic model of this type's spec. A class attribute in practice;
    #: not declared ``ClassVar`` because a ClassVar may not hold a type variable.
    spec_model: type[SpecT]
    title: ClassVar[str]
    title_zh: ClassVar[str]
    group: ClassVar[str]
    icon: ClassVar[str]  # a qtawesome name, e.g. "mdi6.form-textbox"
    editor: ClassVar[str]  # "widgets.editors.text:TextEditor"
    description: ClassVar[str] = ""
    #: False for layout items (section, note): no value, no column.
    has_value: ClassVar[bool] = True
    #: True for types whose value is computed (formula): never typed by a user.
    computed: ClassVar[bool] = False
    #: Layout items that group the items after them until the next one (sections).
    groups_following: ClassVar[bool] = False
    #: Values are unique in a form whatever the spec says (serial numbers).
    always_unique: ClassVar[bool] = False
    #: Whether :meth:`assign_on_create` gives values (serial numbers): bulk paths
    #: then assign them row by row.
    assigns_on_create: ClassVar[bool] = False
    #: Whether the text search box of a list looks into this field.
    searchable: ClassVar[bool] = False
    #: Whether ``from_excel(to_excel(v)) == v`` (False for files and subtables).
    excel_roundtrip: ClassVar[bool] = True
    #: Whether ``parse(display(v)) == v``.
    text_roundtrip: ClassVar[bool] = True
    #: Attributes that make a meaningful example spec (options of a select...).
    sample_attributes: ClassVar[dict[str, Any]] = {}

    # -- spec ---------------------------------------------------------------
    def new_spec(self, key: str, label: str, **attributes: Any) -> SpecT:
        """A fresh spec of this type (used by the designer's palette)."""
        return self.spec_model(key=key, type=self.name, label=label, **attributes)

    def sample_spec(self, key: str = "sample", label: str = "Sample") -> SpecT:
        """An example spec with :attr:`sample_attributes` (tests, preview)."""
        return self.new_spec(key, label, **self.sample_attributes)

    def sample_values(self, spec: SpecT) -> list[Any]:
        """A few valid, non-empty canonical values (tests and preview sample records)."""
        return []

    def assign_on_create(
        self, spec: SpecT, when: datetime, next_number: Callable[[str], int]
    ) -> Any:
        """A value the engine assigns when a record is created (serial numbers).

        ``next_number(period)`` returns the next gap-free number for a period
        within the caller's transaction. ``None`` means "nothing to assign".
        """
        return None

    def reference_kind(self, spec: SpecT) -> ReferenceKind | None:
        """What the ids in this value are ids of (:mod:`widgets.references`: users,
        departments, the records of a form named by one of their fields), or None
        for a value without ids. Names are shown, read and checked by it."""
        return None

    def follows_current(self, spec: SpecT) -> bool:
        """Whether a new record starts with the logged-in user (or their department:
        the :meth:`reference_kind` says whose) in this field (``default_current``)."""
        return False

    def check_spec(self, spec: SpecT) -> list[SpecProblem]:
        """Type-specific consistency checks beyond the pydantic model (min <= max...)."""
        problems = []
        if spec.default is not None and self.has_value:
            try:
                self.validate(spec, self.coerce(spec, spec.default))
            except FieldValueError as error:
                problems.append(SpecProblem("default", error.message))
        return problems

    def references(self, spec: SpecT) -> list[Reference]:
        """Names this spec points at (lookup target form and display field)."""
        return []

    def children(self, spec: SpecT) -> list[FieldSpecBase]:
        """Nested field specs (the columns of a subtable)."""
        return []

    def nested_fields(self, spec: SpecT) -> list[FieldSpecBase] | None:
        """The spec's own list of nested field specs, for the designer to edit in
        place (a subtable's columns); None for a type that holds no fields."""
        return None

    def expressions(self, spec: SpecT) -> dict[str, ExprType | None]:
        """Attributes holding an expression, with the result type each must have.

        ``visible_when`` is common to all types and checked by the spec validator.
        """
        return {}

    def expression_type(self, spec: SpecT) -> ExprType:
        """How a formula sees this field's value."""
        return "any"

    # -- values -------------------------------------------------------------
    def coerce(self, spec: SpecT, value: Any) -> Any:
        """Bring a loosely typed value (JSON, editor, import) to the canonical form.

        Raises :class:`FieldValueError` when it cannot be understood.
        """
        return value

    def validate(self, spec: SpecT, value: Any) -> None:
        """Check a canonical value against the spec's limits. ``None`` is empty.

        ``required`` is checked by the caller (it depends on visibility).
        """

    def cell_checker(self, spec: SpecT) -> Callable[[Any], Any]:
        """``coerce`` then ``validate`` in one call: the bulk paths run it per cell.

        Types may return a faster closure for values that are already canonical,
        falling back to this one for anything else.
        """
        coerce, validate, is_empty = self.coerce, self.validate, self.is_empty

        def check(value: Any) -> Any:
            value = coerce(spec, value)
            if not is_empty(value):
                validate(spec, value)
            return value

        return check

    def stored_cell_checker(
        self,
        spec: SpecT,
        check: Callable[[Any], Any],
        encode: Callable[[Any], Any] | None,
        dialect: str,
    ) -> Callable[[Any], Any]:
        """One cell of the bulk write path: ``check`` (the column's cell check, the
        required test included), then the column's driver ``encode`` (None: the
        value is sent as it is) on the database ``dialect`` ("sqlite", "postgresql").

        Types may fuse the two into one faster step for values already canonical;
        whatever they do must give exactly ``encode(check(value))`` and raise what
        ``check`` raises.
        """
        if encode is None:
            return check
        return lambda value: encode(check(value))

    def single_choice_labels(self, spec: SpecT) -> list[str] | None:
        """The labels a value is chosen from, one at a time (a choice field), for
        lists such as an import template's drop-down; None for other types."""
        return None

    def is_empty(self, value: Any) -> bool:
        return value is None or value == "" or value == []

    # -- storage ------------------------------------------------------------
    def sql_type(self, spec: SpecT) -> TypeEngine | None:
        """The column type; ``None`` when the type has no column of its own."""
        raise NotImplementedError

    def to_json(self, spec: SpecT, value: Any) -> Any:
        """A JSON-safe form of a canonical value (audit log, clipboard, CLI)."""
        return value

    def from_json(self, spec: SpecT, data: Any) -> Any:
        return self.coerce(spec, data)

    # -- text ---------------------------------------------------------------
    def display(self, spec: SpecT, value: Any, context: ExcelContext = EMPTY_CONTEXT) -> str:
        """Human-readable text of a value (lists, audit, conflict dialog)."""
        return "" if value is None else str(value)

    def parse(self, spec: SpecT, text: str, context: ExcelContext = EMPTY_CONTEXT) -> Any:
        """Read a value typed as text (CSV cell, filter box). Empty text is ``None``."""
        text = text.strip()
        return None if text == "" else self.coerce(spec, text)

    # -- Excel --------------------------------------------------------------
    def to_excel(self, spec: SpecT, value: Any, context: ExcelContext = EMPTY_CONTEXT) -> Any:
        """A cell value: str, int, float, Decimal, date, datetime, time, bool or None."""
        return self.display(spec, value, context) if value is not None else None

    def excel_number_format(self, spec: SpecT) -> str | None:
        """The Excel number format for this column (``"yyyy-mm-dd"``, ``"0.00"``...)."""
        return None

    def from_excel(self, spec: SpecT, cell: Any, context: ExcelContext = EMPTY_CONTEXT) -> Any:
        """The canonical value of a cell as a reader returns it; ``None`` if blank."""
        if cell is None:
            return None
        if isinstance(cell, str):
            return self.parse(spec, cell, context)
        return self.coerce(spec, cell)

    def describe(self, spec: SpecT) -> str:
        """One line for an import template's help sheet (type and limits)."""
        return self.title


# -- field specs inside other models ----------------------------------------


def _field_spec_validator(value: Any, info: ValidationInfo) -> FieldSpecBase:
    """Validate one field object with the model of its ``type``, via the registry.

    Nested errors are passed up in ``ctx["problems"]`` as (relative path, message)
    so the spec loader can report each with its full JSON path.
    """
    if isinstance(value, FieldSpecBase):
        return value
    if not isinstance(value, Mapping):
        raise PydanticCustomError("field_object", tr("a field must be an object"))
    registry = (info.context or {}).get("registry")
    if registry is None:
        from widgets.registry import default_registry

        registry = default_registry
    type_name = value.get("type")
    if not isinstance(type_name, str):
        raise PydanticCustomError("field_type", tr("a field needs a 'type'"))
    if type_name not in registry:
        raise PydanticCustomError(
            "field_type",
            tr("unknown field type '{type}'"),
            {"type": type_name},
        )
    try:
        return registry.get(type_name).spec_model.model_validate(value, context=info.context)
    except ValidationError as error:
        problems = tuple(flatten_errors(error.errors()))
        raise PydanticCustomError(
            "field_invalid",
            "{summary}",
            {"summary": "; ".join(f"{p}: {m}" for p, m in problems), "problems": problems},
        ) from None


FieldSpec = Annotated[SerializeAsAny[FieldSpecBase], PlainValidator(_field_spec_validator)]
"""Annotation for "any registered field": use it in models that hold fields."""


def flatten_errors(
    errors: Iterable[Mapping[str, Any]], prefix: str = ""
) -> Iterator[tuple[str, str]]:
    """(path, message) for pydantic errors, expanding nested field errors."""
    for item in errors:
        path = join_path(prefix, format_path(item["loc"]))
        if item["type"] == "field_invalid":
            for inner_path, message in item["ctx"]["problems"]:
                yield join_path(path, inner_path), message
        else:
            yield path, plain_message(item)


def join_path(base: str, tail: str) -> str:
    """Join JSON path pieces: ``join_path("forms[0]", "fields[2]")``."""
    if not base or not tail:
        return base or tail
    return base + tail if tail.startswith("[") else f"{base}.{tail}"


def format_path(loc: Iterable[Any]) -> str:
    """``("forms", 0, "fields", 3, "max_length")`` → ``forms[0].fields[3].max_length``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif str(part).startswith("function-") or str(part) in ("", "tagged-union"):
            continue
        else:
            path += f".{part}" if path else str(part)
    return path


def plain_message(error: Mapping[str, Any]) -> str:
    """A short message for one pydantic error, without pydantic's jargon."""
    kind = error["type"]
    if kind == "extra_forbidden":
        return tr("unknown attribute")
    if kind == "missing":
        return tr("is required")
    if kind == "string_pattern_mismatch":
        return tr(
            "must be a key: lowercase letters, digits and _ (start with a letter, at most 40)"
        )
    context = error.get("ctx") or {}
    if kind == "value_error" and context.get("error") is not None:
        return str(context["error"])  # our own message, without "Value error, "
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return tr("please enter a whole number")
    if kind in ("greater_than_equal", "greater_than"):
        bound = context.get("ge", context.get("gt"))
        return tr("must be at least {minimum}").format(minimum=bound)
    if kind in ("less_than_equal", "less_than"):
        bound = context.get("le", context.get("lt"))
        return tr("must be at most {maximum}").format(maximum=bound)
    if kind in ("bool_parsing", "bool_type"):
        return tr("must be yes or no")
    if kind == "string_too_long":
        return tr("must be at most {count} characters").format(count=context.get("max_length"))
    if kind == "literal_error":
        return tr("must be one of {choices}").format(choices=context.get("expected", ""))
    return error["msg"]


class ReferenceSource:
    """What pickers and file editors ask of the application (services implement it).

    The default answers nothing, so editors work stand-alone (designer canvas,
    tests). Each search returns ``[(id, display name), ...]``.
    """

    def search_users(self, text: str, limit: int = 50) -> list[tuple[int, str]]:
        return []

    def search_departments(self, text: str, limit: int = 50) -> list[tuple[int, str]]:
        return []

    def search_records(
        self, form: str, display_field: str, text: str, limit: int = 50
    ) -> list[tuple[int, str]]:
        return []

    def name_of(self, kind: ReferenceKind, ident: int) -> str:
        """Display name of a user, department or record (``kind`` as in ExcelContext)."""
        return f"#{ident}"

    def prefetch_names(self, wanted: Mapping[ReferenceKind, Iterable[int]]) -> None:
        """Look up the names of many ids at once (kind -> ids), so that the
        ``name_of`` calls that follow are answered from a cache."""

    def current_user(self) -> tuple[int, str] | None:
        return None

    def read_file(self, sha256: str) -> bytes | None:
        """The content of a stored file (attachments, images, signatures), if any."""
        return None

    def current_department(self) -> tuple[int, str] | None:
        return None


NO_REFERENCES = ReferenceSource()


def default_value(
    field_type: FieldType[Any], spec: FieldSpecBase, references: ReferenceSource
) -> Any:
    """The value a new record (or a new subtable row) starts with in a field: the
    current user or department for fields that follow them (``default_current``),
    else the spec's ``default`` through its type. A default the type refuses gives
    ``None`` (the designer reports it)."""
    if not field_type.has_value:
        return None
    if field_type.follows_current(spec):
        kind = field_type.reference_kind(spec)
        current = kind.current(references) if kind is not None else None
        start = None if current is None else current[0]
    else:
        start = spec.default
    if start is None:
        return None
    try:
        return field_type.coerce(spec, start)
    except FieldValueError:
        return None
