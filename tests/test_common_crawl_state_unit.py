"""crawl_closing without a running crawl."""

from __future__ import annotations

from types import SimpleNamespace

from soundscraping.crawl_state import crawl_closing


def test_no_engine_is_not_closing() -> None:
    assert crawl_closing(SimpleNamespace(engine=None)) is False
