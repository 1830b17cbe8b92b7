"""ItemOutcomes (one receiver per item signal for the project's per-item
listeners) and LogLevelGate (no per-item DEBUG records below LOG_LEVEL)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from logging.config import dictConfig

import pytest
from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.log import DEFAULT_LOGGING
from scrapy.utils.test import get_crawler

from soundscraping.extensions import LogLevelGate
from soundscraping.item_outcomes import ItemOutcomes
from soundscraping.items import SoundCloudComment
from soundscraping.monitoring.coverage import CoverageCounter
from soundscraping.units import UnitTracker
from soundscraping.watchdog import Watchdog


def send(crawler, signal, item, **extra) -> None:
    crawler.signals.send_catch_log(signal, item=item, response=None, spider=crawler.spider, **extra)


def test_the_project_components_share_one_receiver_per_item_signal(monkeypatch: pytest.MonkeyPatch) -> None:
    crawler = get_crawler()
    item_signals = (signals.item_scraped, signals.item_dropped, signals.item_error)
    connected: list[object] = []
    connect = crawler.signals.connect

    def recording_connect(receiver, signal, **kwargs):
        connected.append(signal)
        return connect(receiver, signal, **kwargs)

    monkeypatch.setattr(crawler.signals, "connect", recording_connect)
    Watchdog.from_crawler(crawler)
    UnitTracker.for_crawler(crawler)
    CoverageCounter(crawler, {"soundcloud_comments.timestamp_ms": 0.5})
    assert sorted(map(str, (s for s in connected if s in item_signals))) == sorted(map(str, item_signals))


def test_listeners_hear_what_became_of_each_item() -> None:
    crawler = get_crawler()
    outcomes = ItemOutcomes.for_crawler(crawler)
    scraped, done = [], []
    outcomes.on_scraped(scraped.append)
    outcomes.on_done(done.append)
    a, b, c = (SoundCloudComment(id=n) for n in (1, 2, 3))
    send(crawler, signals.item_scraped, a)
    send(crawler, signals.item_dropped, b, exception=DropItem("duplicate"))
    send(crawler, signals.item_error, c, failure=None)
    assert scraped == [a]
    assert done == [a, b, c]


def test_a_failing_listener_is_logged_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    crawler = get_crawler()
    outcomes = ItemOutcomes.for_crawler(crawler)
    heard = []

    def broken(item):
        raise ValueError("listener bug")

    outcomes.on_scraped(broken)
    outcomes.on_scraped(heard.append)
    item = SoundCloudComment(id=1)
    with caplog.at_level(logging.ERROR):
        send(crawler, signals.item_scraped, item)
    assert heard == [item]
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "Error caught on item listener" in record.getMessage() and "broken" in record.getMessage()
    assert record.exc_info and "listener bug" in str(record.exc_info[1])


@pytest.fixture
def scrapy_logging() -> Iterator[None]:
    """Scrapy's own logger configuration (``scrapy`` at DEBUG), put back after."""
    names = ("", "scrapy")
    saved = {name: logging.getLogger(name).level for name in names}
    dictConfig(DEFAULT_LOGGING)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def test_log_level_gate_stops_per_item_debug_records_of_scrapy(scrapy_logging: None) -> None:
    scraper = logging.getLogger("scrapy.core.scraper")  # logs "Scraped from ..." for every item
    assert scraper.isEnabledFor(logging.DEBUG)
    LogLevelGate(logging.INFO)
    assert not scraper.isEnabledFor(logging.DEBUG)
    assert scraper.isEnabledFor(logging.INFO)
    assert not logging.getLogger("soundscraping.pipelines").isEnabledFor(logging.DEBUG)


def test_log_level_gate_never_lowers_a_level(scrapy_logging: None) -> None:
    logging.getLogger("scrapy").setLevel(logging.WARNING)
    LogLevelGate(logging.DEBUG)
    assert logging.getLogger("scrapy").level == logging.WARNING
