"""Arrow types from the schema, and database rows as typed record batches.

Both engines give the same batch for the same rows: PostgreSQL's timestamps
arrive as microseconds since the epoch and dates as days
(``storage.export_queries``), SQLite's as ISO text, its booleans as 0/1 and
its list columns as JSON text; all end up as UTC timestamps, dates, booleans
and lists of strings."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from soundscraping.storage import Column, Table

ARROW_TYPES: dict[str, pa.DataType] = {
    "bigint": pa.int64(), "int": pa.int32(), "text": pa.string(), "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"), "float": pa.float64(), "date": pa.date32(),
    "text[]": pa.list_(pa.string()),
}


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.kind]) for c in table.columns])


def _timestamps_from_text(values: Sequence[Any]) -> pa.Array:
    target = ARROW_TYPES["timestamp"]
    try:
        return pa.array(values, pa.string()).cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # A value Arrow's ISO parser does not take (another offset form):
        # Python's, one by one.
        parsed = [None if v is None else datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(UTC)
                  for v in values]
        return pa.array(parsed, target)


def _lists_from_json(values: Sequence[Any]) -> list[Any]:
    return [None if v is None else (json.loads(v) if isinstance(v, str) else list(v)) for v in values]


def column_array(column: Column, values: Sequence[Any], dialect: str) -> pa.Array:
    kind, target = column.kind, ARROW_TYPES[column.kind]
    if kind == "timestamp":
        if dialect == "postgresql":
            return pa.array(values, pa.int64()).cast(target)
        return _timestamps_from_text(values)
    if kind == "date":
        if dialect == "postgresql":
            return pa.array(values, pa.int32()).cast(target)
        return pa.array(values, pa.string()).cast(target)
    if kind == "bool" and dialect != "postgresql":
        return pa.array(values, pa.int64()).cast(target)
    if kind == "text[]" and dialect != "postgresql":
        return pa.array(_lists_from_json(values), target)
    return pa.array(values, target)


# How PostgreSQL's CSV (``storage.export_queries.table_csv``) reads before the
# conversions below: instants as microseconds, dates as days, lists as JSON.
_CSV_TYPES = {**ARROW_TYPES, "timestamp": pa.int64(), "date": pa.int32(), "text[]": pa.string()}


def csv_batches(table: Table, source: io.BufferedReader) -> Iterator[pa.RecordBatch]:
    """PostgreSQL's CSV of ``table`` as typed batches (the same as
    ``record_batch`` gives for the same rows), parsed by Arrow as it arrives."""
    if not source.peek(1):
        return  # no rows (Arrow refuses an empty CSV)
    reader = pacsv.open_csv(
        source,
        read_options=pacsv.ReadOptions(column_names=list(table.column_names), block_size=4 << 20),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={c.name: _CSV_TYPES[c.kind] for c in table.columns}, null_values=[""],
            strings_can_be_null=True, quoted_strings_can_be_null=False, true_values=["t"], false_values=["f"]))
    schema = arrow_schema(table)
    for batch in reader:
        arrays = []
        for column, array in zip(table.columns, batch.columns, strict=True):
            if column.kind in ("timestamp", "date"):
                array = array.cast(ARROW_TYPES[column.kind])
            elif column.kind == "text[]":
                array = pa.array(_lists_from_json(array.to_pylist()), ARROW_TYPES["text[]"])
            arrays.append(array)
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def record_batch(table: Table, rows: Sequence[tuple[Any, ...]], dialect: str) -> pa.RecordBatch:
    """Rows of ``storage.export_queries.table_rows`` as one typed batch."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(table.columns)
    arrays = [column_array(c, values, dialect) for c, values in zip(table.columns, columns, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=arrow_schema(table))
