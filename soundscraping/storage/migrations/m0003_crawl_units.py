"""Migration 3: ``crawl_units``, the units of work a crawl finished, so a
resumed job skips them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from soundscraping.storage import Table, cols

if TYPE_CHECKING:
    from soundscraping.storage.migrations import SchemaEditor

VERSION = 3
NAME = "crawl_units: finished units of work, for resuming"

CRAWL_UNITS = Table("crawl_units", ("spider", "job", "unit"),
                    cols("spider:text job:text unit:text finished_at:timestamp"))


def upgrade(editor: SchemaEditor) -> None:
    editor.create_table(CRAWL_UNITS)
