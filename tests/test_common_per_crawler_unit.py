"""per_crawler: one shared instance per crawl, none set on the crawler."""

from __future__ import annotations

from scrapy import signals
from scrapy.utils.test import get_crawler

from soundscraping.per_crawler import _instances, per_crawler


class Component:
    made = 0

    def __init__(self, crawler: object):
        Component.made += 1
        self.crawler = crawler


def test_one_instance_per_crawler_and_nothing_set_on_it() -> None:
    first, second = get_crawler(), get_crawler()
    before = dict(vars(first))
    a = per_crawler(Component, first)
    assert per_crawler(Component, first) is a and a.crawler is first
    assert per_crawler(Component, second) is not a
    assert vars(first) == before, "the crawler got a new attribute"


def test_instances_go_when_the_engine_stops() -> None:
    crawler = get_crawler()
    a = per_crawler(Component, crawler)
    assert crawler in _instances
    crawler.signals.send_catch_log(signal=signals.engine_stopped)
    assert crawler not in _instances
    assert per_crawler(Component, crawler) is not a
