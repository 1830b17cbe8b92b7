"""scrapy-redis's dupefilter with a fingerprint that ignores ``client_id``.

api-v2 URLs carry the current client_id, which rotates (a refused one is
replaced mid-crawl): the same page asked with two client_ids is one page."""

from __future__ import annotations

from typing import Any

from scrapy_redis.dupefilter import RFPDupeFilter

from soundscraping.sites.soundcloud.paging import without_client_id


class ClientIdFreeDupeFilter(RFPDupeFilter):
    """One fingerprint set per job in Redis, shared by every worker."""

    def request_fingerprint(self, request: Any) -> str:
        url = without_client_id(request.url)
        return super().request_fingerprint(request.replace(url=url) if url != request.url else request)
