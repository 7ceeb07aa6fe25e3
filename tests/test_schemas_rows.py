"""The row TypedDicts say what the Arrow schemas say: same fields, in order, same Python types."""
from __future__ import annotations

import datetime as dt
import typing

import pyarrow as pa
import pytest

import schemas
from schemas.rows import ROW_TYPES


def _matches(hint, t: pa.DataType, nullable: bool) -> bool:
    """Is ``hint`` the Python type of a column of Arrow type ``t`` (a struct is a TypedDict of its fields)?"""
    if nullable:
        args = typing.get_args(hint)
        if typing.get_origin(hint) is not typing.Union or type(None) not in args or len(args) != 2:
            return False
        hint = next(a for a in args if a is not type(None))
    if pa.types.is_list(t):
        return typing.get_origin(hint) is list and _matches(typing.get_args(hint)[0], t.value_type, False)
    if pa.types.is_struct(t):
        fields = typing.get_type_hints(hint) if isinstance(hint, type) else {}
        return list(fields) == [f.name for f in t] and all(_matches(fields[f.name], f.type, f.nullable) for f in t)
    for check, base in ((pa.types.is_string, str), (pa.types.is_integer, int), (pa.types.is_floating, float),
                        (pa.types.is_boolean, bool), (pa.types.is_timestamp, dt.datetime), (pa.types.is_date, dt.date)):
        if check(t):
            return hint is base
    raise TypeError(t)


@pytest.mark.parametrize("table", sorted(schemas.TABLES))
def test_row_type_matches_schema(table):
    hints = typing.get_type_hints(ROW_TYPES[table])
    schema = schemas.TABLES[table]
    assert list(hints) == schema.names
    for field in schema:
        assert _matches(hints[field.name], field.type, field.nullable), field.name


def test_every_table_has_a_row_type():
    assert set(ROW_TYPES) == set(schemas.TABLES)
