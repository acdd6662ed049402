"""One contract, every registered field type: the same checks for each (magicgui style)."""

from __future__ import annotations

import pydantic
import pytest
import qtawesome
import sqlalchemy as sa

from widgets.base import PALETTE_GROUPS, ExcelContext, FieldType, FieldValueError
from widgets.editors.base import create_editor
from widgets.registry import default_registry

ALL_TYPES = list(default_registry)
VALUE_TYPES = [t for t in ALL_TYPES if t.has_value]


def ids(field_type: FieldType) -> str:
    return field_type.name


def context_for(field_type: FieldType, spec, values) -> ExcelContext:
    """Display names for every id a sample value refers to."""
    kind = field_type.reference_kind(spec)
    names, reverse = {}, {}
    if kind is not None:
        for value in values:
            for ident in value if isinstance(value, list) else [value]:
                names[(kind, ident)] = f"Name {ident}"
                reverse[(kind, f"Name {ident}")] = ident
    return ExcelContext(names=names, reverse_names=reverse)


def test_all_design_types_are_registered():
    expected = {
        "text",
        "textarea",
        "number",
        "date",
        "datetime",
        "time",
        "select",
        "multiselect",
        "checkbox",
        "phone",
        "email",
        "id_card",
        "serial",
        "user",
        "department",
        "lookup",
        "subtable",
        "attachment",
        "image",
        "signature",
        "rating",
        "formula",
        "section",
        "note",
    }
    assert expected <= set(default_registry.names())


@pytest.mark.parametrize("field_type", ALL_TYPES, ids=ids)
def test_palette_metadata(field_type, qapp):
    assert field_type.title and field_type.title_zh
    assert field_type.group in PALETTE_GROUPS
    assert not qtawesome.icon(field_type.icon).isNull()
    module_name, _, class_name = field_type.editor.partition(":")
    assert module_name.startswith("widgets.editors.") and class_name


@pytest.mark.parametrize("field_type", ALL_TYPES, ids=ids)
def test_types_that_assign_on_create_say_so(field_type):
    """Bulk paths assign values only for types declaring ``assigns_on_create``."""
    overrides = type(field_type).assign_on_create is not FieldType.assign_on_create
    assert field_type.assigns_on_create == overrides


@pytest.mark.parametrize("field_type", ALL_TYPES, ids=ids)
def test_spec_rejects_unknown_attributes(field_type):
    data = field_type.sample_spec().model_dump()
    data["no_such_attribute"] = 1
    with pytest.raises(pydantic.ValidationError, match="no_such_attribute"):
        field_type.spec_model.model_validate(data)


@pytest.mark.parametrize("field_type", ALL_TYPES, ids=ids)
def test_new_spec_from_palette_is_valid(field_type):
    spec = field_type.new_spec("dropped", "Dropped")
    assert spec.type == field_type.name
    assert field_type.spec_model.model_validate(spec.model_dump()) == spec


@pytest.mark.parametrize("field_type", VALUE_TYPES, ids=ids)
def test_samples_are_valid_canonical_values(field_type):
    spec = field_type.sample_spec()
    samples = field_type.sample_values(spec)
    assert samples, "each value type offers sample values"
    for value in samples:
        assert field_type.coerce(spec, value) == value
        field_type.validate(spec, value)
        assert not field_type.is_empty(value)


@pytest.mark.parametrize("field_type", ALL_TYPES, ids=ids)
def test_none_is_safe_everywhere(field_type):
    spec = field_type.sample_spec()
    assert field_type.coerce(spec, None) is None
    field_type.validate(spec, None)
    assert field_type.is_empty(None)
    assert field_type.display(spec, None) == ""
    assert field_type.to_excel(spec, None) is None
    assert field_type.from_excel(spec, None) is None
    assert field_type.to_json(spec, None) is None
    assert field_type.from_json(spec, None) is None
    assert field_type.parse(spec, "  ") is None


@pytest.mark.parametrize("field_type", VALUE_TYPES, ids=ids)
def test_json_round_trip(field_type):
    spec = field_type.sample_spec()
    for value in field_type.sample_values(spec):
        assert field_type.from_json(spec, field_type.to_json(spec, value)) == value


@pytest.mark.parametrize("field_type", [t for t in VALUE_TYPES if t.text_roundtrip], ids=ids)
def test_display_parse_round_trip(field_type):
    spec = field_type.sample_spec()
    samples = field_type.sample_values(spec)
    context = context_for(field_type, spec, samples)
    for value in samples:
        text = field_type.display(spec, value, context)
        assert isinstance(text, str) and text
        assert field_type.parse(spec, text, context) == value


@pytest.mark.parametrize("field_type", [t for t in VALUE_TYPES if t.excel_roundtrip], ids=ids)
def test_excel_round_trip(field_type):
    spec = field_type.sample_spec()
    samples = field_type.sample_values(spec)
    context = context_for(field_type, spec, samples)
    for value in samples:
        cell = field_type.to_excel(spec, value, context)
        assert (
            cell is None
            or isinstance(cell, (str, int, float, bool))
            or hasattr(cell, "year")
            or type(cell).__name__ in ("Decimal", "time")
        )
        assert field_type.from_excel(spec, cell, context) == value


@pytest.mark.parametrize("field_type", ALL_TYPES, ids=ids)
def test_sql_type_stores_and_reads_back(field_type, tmp_path):
    spec = field_type.sample_spec()
    column_type = field_type.sql_type(spec)
    if not field_type.has_value or field_type.children(spec):
        assert column_type is None
        return
    assert column_type is not None
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'contract.db'}")
    table = sa.Table(
        "t",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value", column_type),
    )
    table.metadata.create_all(engine)
    samples = field_type.sample_values(spec)
    with engine.begin() as connection:
        connection.execute(table.insert(), [{"value": value} for value in samples])
        stored = connection.execute(sa.select(table.c.value).order_by(table.c.id)).scalars().all()
    assert [field_type.coerce(spec, value) for value in stored] == samples
    engine.dispose()


@pytest.mark.parametrize("field_type", ALL_TYPES, ids=ids)
def test_editor_set_get_round_trip(field_type, qtbot):
    spec = field_type.sample_spec()
    editor = create_editor(spec)
    qtbot.addWidget(editor)
    for value in field_type.sample_values(spec):
        editor.set_value(value)
        assert editor.value() == value
    editor.set_value(None)
    assert field_type.is_empty(editor.value())
    editor.set_read_only(True)
    assert editor.is_read_only()


def _outcome(check, value):
    try:
        return ("ok", check(value))
    except FieldValueError as error:
        return ("error", error.message)


@pytest.mark.parametrize("field_type", VALUE_TYPES, ids=ids)
def test_cell_checker_agrees_with_coerce_then_validate(field_type):
    """The bulk path's fast checker must accept and refuse exactly what the slow path does."""
    spec = field_type.sample_spec()

    def slow(value):
        value = field_type.coerce(spec, value)
        if not field_type.is_empty(value):
            field_type.validate(spec, value)
        return value

    fast = field_type.cell_checker(spec)
    probes = [
        *field_type.sample_values(spec),
        None,
        "",
        "  ",
        "x\ny",
        "a" * 5000,
        "EQ-12",
        0,
        1,
        -1,
        10**20,
        3.5,
        True,
        False,
        "2024-03-15",
        "1999-01-01",
    ]
    for value in probes:
        assert _outcome(fast, value) == _outcome(slow, value), value
