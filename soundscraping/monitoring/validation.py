"""spidermon's item validation pipeline, checking one item in
``MONITOR_VALIDATION_EVERY`` of each class (the first always).

jsonschema is pure Python: about 100 µs per six-field row on this project's
machines, i.e. more than the rest of the crawl spends on a row (a 300,000-
comment crawl would take a minute longer).  A site change that breaks a
schema breaks it on every row, so a sample finds it as surely; 1 checks
every item.  The checking, its stats (``spidermon/validation/...``) and the
schemas (``SPIDERMON_VALIDATION_SCHEMAS``, generated: monitoring.schemas) are
spidermon's; this subclass only chooses which items go through it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from spidermon.contrib.scrapy.pipelines import ItemValidationPipeline, PassThroughPipeline


class SampledItemValidationPipeline(ItemValidationPipeline):
    every = 1

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        pipeline = super().from_crawler(crawler)
        if not isinstance(pipeline, PassThroughPipeline):
            pipeline.every = max(1, crawler.settings.getint("MONITOR_VALIDATION_EVERY", 1))
            pipeline.seen = Counter()
        return pipeline

    def process_item(self, item: Any, spider: Any = None) -> Any:
        kind = type(item)
        n = self.seen[kind]
        self.seen[kind] = n + 1
        if n % self.every:
            return item
        return super().process_item(item, spider)
