"""Every item is one row of its table: the item's fields (less the media
pipeline's ``file_urls``/``files`` and ``site_nulls``: items.NON_COLUMN_FIELDS) are the table's
columns, in the same order, but for the trailing ``crawl_run_id`` the store pipeline adds to every
table a crawl writes, and the table's key columns are fields the item carries.  The table
(storage.TABLES) is the one source of both; this catches an item or a
column added on one side only."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from soundscraping import items
from soundscraping.storage import HISTORY, TABLES
from soundscraping.storage.analysis_queries import MOMENTS, SENTIMENT
from soundscraping.storage.audio_queries import AUDIO_FEATURES, CMT_POSTPROCESS_TABLES

MEDIA_FIELDS = items.NON_COLUMN_FIELDS
ROW_ITEMS = [cls for _, cls in inspect.getmembers(items, inspect.isclass)
             if dataclasses.is_dataclass(cls) and cls.__module__ == items.__name__ and hasattr(cls, "table")]


def test_every_item_with_a_table_is_found() -> None:
    assert len(ROW_ITEMS) >= 10  # the scan itself works (it would pass vacuously otherwise)


@pytest.mark.parametrize("cls", ROW_ITEMS, ids=lambda c: c.__name__)
def test_item_fields_are_its_table_columns(cls: type) -> None:
    assert cls.table in TABLES, f"{cls.__name__}.table = {cls.table!r} is not in storage.TABLES"
    table = TABLES[cls.table]
    fields = tuple(f.name for f in dataclasses.fields(cls) if f.name not in MEDIA_FIELDS)
    assert table.crawled, f"{cls.table} is written by crawls: its rows carry crawl_run_id"
    assert (*fields, "crawl_run_id") == table.column_names
    assert set(table.key) <= set(fields)


def test_every_table_but_the_derived_ones_has_an_item() -> None:
    # media_files rows are written by the store pipeline from an item's
    # "files"; history tables from their source table's rows (HISTORY); the
    # analysis tables by `soundscraping sentiment`/`moments` and the audio ones
    # by `audio-features`/`cmt-postprocess`, not by a crawl; crawl_runs by the
    # store pipeline at a crawl's start and end.
    derived = ({"media_files", "crawl_runs", SENTIMENT, MOMENTS, AUDIO_FEATURES, *CMT_POSTPROCESS_TABLES}
               | {target for target, _ in HISTORY.values()})
    without_item = set(TABLES) - {cls.table for cls in ROW_ITEMS}
    assert without_item <= derived, without_item


def test_history_columns_are_their_sources_columns() -> None:
    for source, (target, columns) in HISTORY.items():
        assert set(columns) == set(TABLES[target].column_names), target
        assert set(columns.values()) <= set(TABLES[source].column_names), source
