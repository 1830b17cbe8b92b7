"""api-v2's requests and collection paging: the URL of an endpoint with the
client_id, a collection's first page at the largest page size, and its
``next_href`` pages (``linked_partitioning``), which end at an empty
next_href or at one pointing back at the page just read (repost feeds do)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from w3lib.url import url_query_cleaner

from soundscraping.sites.soundcloud.client_id import client_id_of, with_client_id

# Request meta keys a next-page request inherits (whom it is for), not retry counters.
# "redo": the unit (artist, account) is redone after its first worker died
# (distributed mode): its requests bypass the shared dupefilter.
PAGE_META_KEYS = ("artist", "user_id", "track_id", "kind", "account", "redo")


def endpoint_url(base: str, path: str, params: dict[str, Any] | None = None, client_id: str | None = None) -> str:
    """``base + path`` with the query ``params`` and the client_id (if known)."""
    query = dict(params or {})
    if client_id:
        query["client_id"] = client_id
    return f"{base.rstrip('/')}{path}" + (f"?{urlencode(query)}" if query else "")


def first_page_params(page_size: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The query of a collection's first page (``params`` override the paging)."""
    return {"limit": page_size, "linked_partitioning": 1, **(params or {})}


def repeats_page(next_href: str, page_url: str) -> bool:
    """``next_href`` points back at the page just read (client_id aside)."""
    return without_client_id(next_href) == without_client_id(page_url)


def next_page_url(next_href: str, page_url: str, client_id: str | None) -> str:
    """The next page's URL, with the current client_id (or the page's own)."""
    client_id = client_id or client_id_of(page_url)
    return with_client_id(next_href, client_id) if client_id else next_href


def page_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """What a next-page request inherits from the page's request."""
    return {k: meta[k] for k in PAGE_META_KEYS if k in meta}


def without_client_id(url: str) -> str:
    return url_query_cleaner(url, ("client_id",), remove=True)
