"""api-v2 request URLs and next_href paging (sites/soundcloud/paging.py)."""

from __future__ import annotations

from soundscraping.sites.soundcloud.paging import (
    endpoint_url,
    first_page_params,
    next_page_url,
    page_meta,
    repeats_page,
)

API = "https://api-v2.soundcloud.com"


def test_endpoint_url_carries_the_client_id_when_known() -> None:
    assert endpoint_url(API + "/", "/resolve", {"url": "https://soundcloud.com/a"}, "abc") == (
        f"{API}/resolve?url=https%3A%2F%2Fsoundcloud.com%2Fa&client_id=abc")
    assert endpoint_url(API, "/users/1", None, None) == f"{API}/users/1"


def test_first_page_is_the_largest_linked_page_unless_overridden() -> None:
    assert first_page_params(200) == {"limit": 200, "linked_partitioning": 1}
    assert first_page_params(200, {"limit": 50, "q": "x"}) == {"limit": 50, "linked_partitioning": 1, "q": "x"}


def test_next_page_takes_the_current_client_id_or_the_pages_own() -> None:
    href = f"{API}/users/1/tracks?offset=2&limit=200"
    assert next_page_url(href, f"{API}/users/1/tracks?client_id=old", "new").endswith("client_id=new")
    assert next_page_url(href, f"{API}/users/1/tracks?client_id=old", None).endswith("client_id=old")
    assert next_page_url(href, f"{API}/users/1/tracks", None) == href


def test_a_next_href_back_at_the_same_page_ends_the_collection() -> None:
    page = f"{API}/stream/users/1?offset=5&client_id=abc"
    assert repeats_page(f"{API}/stream/users/1?offset=5", page)
    assert not repeats_page(f"{API}/stream/users/1?offset=6", page)


def test_next_page_inherits_whom_it_is_for_not_retry_counters() -> None:
    meta = {"artist": "a", "user_id": 1, "retry_times": 2, "download_latency": 0.1}
    assert page_meta(meta) == {"artist": "a", "user_id": 1}
