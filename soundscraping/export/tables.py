"""One file per table, streamed batch by batch: Parquet (one row group per
batch, zstd), CSV or JSON lines.  Memory holds one batch whatever the table's
size.  Text formats write timestamps in the dataset's format
(``2024-09-01T17:45:16Z``; fractions of a second kept when there are any);
CSV writes list columns as JSON arrays, JSON lines as arrays."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from soundscraping.export.arrow import arrow_schema, csv_batches, record_batch
from soundscraping.storage import CRAWL_RUN_ID, Database, PostgresDatabase, Table
from soundscraping.storage.export_queries import table_csv, table_rows

FORMATS = ("parquet", "csv", "jsonl")
_SECONDS = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class Exported:
    """What was written for one table."""

    table: str
    file: str
    rows: int = 0
    crawl_run_ids: set[int] = field(default_factory=set)


def _text_timestamps(array: pa.Array) -> pa.Array:
    try:
        whole = array.cast(pa.timestamp("s", tz="UTC"))  # safe: raises when a value has a fraction
        return pc.strftime(whole, format=_SECONDS)
    except pa.ArrowInvalid:
        return pc.strftime(array, format="%Y-%m-%dT%H:%M:%SZ")  # %S carries the fraction


def text_batch(batch: pa.RecordBatch, lists_as_json: bool) -> pa.RecordBatch:
    """``batch`` with timestamps and dates as text (and lists as JSON text)."""
    arrays, fields = [], []
    for f, array in zip(batch.schema, batch.columns, strict=True):
        if pa.types.is_timestamp(f.type):
            array = _text_timestamps(array)
        elif pa.types.is_date(f.type):
            array = array.cast(pa.string())
        elif pa.types.is_list(f.type) and lists_as_json:
            array = pa.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in array.to_pylist()],
                             pa.string())
        arrays.append(array)
        fields.append(pa.field(f.name, array.type))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


class _Writer:
    def __init__(self, path: Path, fmt: str, schema: pa.Schema):
        self.fmt, self.path = fmt, path
        self._sink: Any = None
        if fmt == "parquet":
            self._sink = pq.ParquetWriter(path, schema, compression="zstd")
        elif fmt == "jsonl":
            self._sink = path.open("w", encoding="utf-8")
        self._schema = schema

    def write(self, batch: pa.RecordBatch) -> None:
        if self.fmt == "parquet":
            self._sink.write_batch(batch, row_group_size=max(batch.num_rows, 1))
        elif self.fmt == "csv":
            text = text_batch(batch, lists_as_json=True)
            if self._sink is None:
                self._sink = pacsv.CSVWriter(str(self.path), text.schema)
            self._sink.write_batch(text)
        else:
            lines = (json.dumps(row, ensure_ascii=False) for row in text_batch(batch, False).to_pylist())
            self._sink.write("".join(line + "\n" for line in lines))

    def close(self) -> None:
        if self.fmt == "csv" and self._sink is None:  # no rows: still a file with the header
            empty = text_batch(pa.RecordBatch.from_pylist([], schema=self._schema), lists_as_json=True)
            self._sink = pacsv.CSVWriter(str(self.path), empty.schema)
        self._sink.close()


def export_table(db: Database, table: Table, out: Path, fmt: str, since: str | None = None,
                 chunk: int = 100_000) -> Exported:
    """Write ``table``'s rows to ``out/<table>.<fmt>``."""
    path = out / f"{table.name}.{fmt}"
    result = Exported(table.name, path.name)
    run_column = table.column_names.index(CRAWL_RUN_ID.name) if table.crawled else None
    writer = _Writer(path, fmt, arrow_schema(table))

    def add(batch: pa.RecordBatch) -> None:
        writer.write(batch)
        result.rows += batch.num_rows
        if run_column is not None:
            result.crawl_run_ids.update(i for i in pc.unique(batch.column(run_column)).to_pylist() if i is not None)

    try:
        if isinstance(db, PostgresDatabase):
            # COPY's CSV parsed by Arrow: several times faster than a Python tuple per row.
            with table_csv(db, table, since) as source:
                for batch in csv_batches(table, source):
                    add(batch)
        else:
            for rows in table_rows(db, table, since, chunk):
                add(record_batch(table, rows, db.dialect))
    finally:
        writer.close()
    return result
