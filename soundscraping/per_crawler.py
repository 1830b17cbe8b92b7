"""One instance of a component per crawl, shared by whoever asks for it
(the spider, middlewares, pipelines): ``per_crawler(Throttle, crawler)``.

The instances are held in a registry keyed by the crawler, not set as
attributes on it (the crawler is Scrapy's object); they are dropped when the
engine stops (components hold their crawler, so a weak key alone would
never let go).  Components Scrapy builds itself are found with its own accessors
(``crawler.get_extension``, ``crawler.get_downloader_middleware``)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from scrapy import signals

T = TypeVar("T")

_instances: weakref.WeakKeyDictionary[Any, dict[Any, Any]] = weakref.WeakKeyDictionary()
# Re-entrant: a component's constructor may ask for another one.
_lock = threading.RLock()


def per_crawler(cls: Callable[[Any], T], crawler: Any) -> T:
    """The crawl's instance of ``cls``, made with ``cls(crawler)`` on first use."""
    with _lock:
        if crawler not in _instances and hasattr(crawler, "signals"):
            crawler.signals.connect(_forget, signal=signals.engine_stopped)
        instances = _instances.setdefault(crawler, {})
        if cls not in instances:
            instances[cls] = cls(crawler)
        return instances[cls]


def _forget(sender: Any, **kwargs: Any) -> None:
    """engine_stopped: the crawl's components go with it."""
    with _lock:
        _instances.pop(sender, None)
