"""Whether a crawl is closing, for work that runs long inside one item (a
large file streamed for minutes) and must stop when the crawl does.

Scrapy has no public way to ask this: no signal is sent when a close
*starts* (``spider_closed`` comes only after every item in progress has
finished, which is what the streaming work holds up), and
``engine.running`` turns False only on a stop of the whole engine (Ctrl-C),
not on ``close_spider_async`` (CloseSpider, a lost database, the watchdog).
So this one function reads the engine's slot, where Scrapy marks a close in
progress (``closing``), defensively (an engine without one is not closing).
It is the only place that does; tests/test_crawl_state.py runs a real crawl
through both kinds of close, so a Scrapy upgrade that moves the mark fails
there, not silently in a multi-gigabyte download."""

from __future__ import annotations

from typing import Any


def crawl_closing(crawler: Any) -> bool:
    """The crawl is stopping or closing its spider (or has no engine running)."""
    engine = getattr(crawler, "engine", None)
    if engine is None:
        return False
    if not engine.running:
        return True
    slot = getattr(engine, "_slot", None)
    return slot is not None and getattr(slot, "closing", None) is not None
