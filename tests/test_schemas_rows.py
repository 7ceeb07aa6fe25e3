"""The row TypedDicts say what the Arrow schemas say: same fields, in order, same Python types."""
from __future__ import annotations

import datetime as dt
import typing

import pyarrow as pa
import pytest

import schemas
from schemas.rows import ROW_TYPES


def _python(t: pa.DataType, nullable: bool):
    if pa.types.is_string(t):
        base = str
    elif pa.types.is_integer(t):
        base = int
    elif pa.types.is_floating(t):
        base = float
    elif pa.types.is_boolean(t):
        base = bool
    elif pa.types.is_timestamp(t):
        base = dt.datetime
    elif pa.types.is_date(t):
        base = dt.date
    elif pa.types.is_list(t):
        base = typing.List[_python(t.value_type, False)]
    else:
        raise TypeError(t)
    return typing.Optional[base] if nullable else base


@pytest.mark.parametrize("table", sorted(schemas.TABLES))
def test_row_type_matches_schema(table):
    hints = typing.get_type_hints(ROW_TYPES[table])
    schema = schemas.TABLES[table]
    assert list(hints) == schema.names
    for field in schema:
        assert hints[field.name] == _python(field.type, field.nullable), field.name


def test_every_table_has_a_row_type():
    assert set(ROW_TYPES) == set(schemas.TABLES)
