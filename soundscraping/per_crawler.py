"""One instance of a component per crawl, shared by whoever asks for it
(the spider, middlewares, pipelines): ``per_crawler(Throttle, crawler)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def per_crawler(cls: Callable[[Any], T], crawler: Any) -> T:
    attr = f"_soundscraping_{getattr(cls, '__name__', 'component')}"
    instance = getattr(crawler, attr, None)
    if instance is None:
        instance = cls(crawler)
        setattr(crawler, attr, instance)
    return instance
