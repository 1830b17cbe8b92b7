"""Distributed mode's pure parts: the shared dupefilter's fingerprint ignores
the rotating client_id (and nothing else), and batches are written in one
lock order whatever order their rows arrived in."""

from __future__ import annotations

from scrapy import Request

from soundscraping.distributed.dupefilter import ClientIdFreeDupeFilter
from soundscraping.storage import TABLES, in_lock_order

API = "https://api-v2.soundcloud.com/users/42/likes?limit=200"


def fingerprint(url: str, **kwargs: object) -> str:
    return ClientIdFreeDupeFilter(server=None, key="unused").request_fingerprint(Request(url, **kwargs))


def test_the_same_page_with_another_client_id_is_a_duplicate() -> None:
    assert fingerprint(f"{API}&client_id=AAAA") == fingerprint(f"{API}&client_id=BBBB") == fingerprint(API)
    assert fingerprint("https://api-v2.soundcloud.com/users/42/likes?client_id=AAAA&limit=200") == \
        fingerprint(f"{API}&client_id=CCCC"), "wherever client_id sits in the query"


def test_other_parameters_still_tell_pages_apart() -> None:
    assert fingerprint(f"{API}&offset=2&client_id=A") != fingerprint(f"{API}&offset=3&client_id=A")
    assert fingerprint(f"{API}&client_id=A") != fingerprint(API.replace("/42/", "/43/") + "&client_id=A")
    assert fingerprint(API, method="POST") != fingerprint(API)


def test_batches_are_written_in_one_lock_order() -> None:
    interactions = TABLES["soundcloud_interactions"]
    width = len(interactions.columns)

    def edge(source: int, target: int, obj: int | None) -> tuple[object, ...]:
        values: list[object] = [None] * width
        for name, value in zip(interactions.key, (source, "like", target, obj), strict=True):
            values[interactions.column_names.index(name)] = value
        return tuple(values)

    edges = [edge(2, 9, 5), edge(1, 9, None), edge(1, 3, 7), edge(1, 9, 4)]
    users_first = {"soundcloud_interactions": edges, "soundcloud_users": []}
    one = list(in_lock_order(users_first))
    other = list(in_lock_order({"soundcloud_interactions": list(reversed(edges))}))
    assert one == other, "same tables, same rows, same order"
    (name, rows), = one
    assert name == "soundcloud_interactions"
    assert rows == [edge(1, 3, 7), edge(1, 9, None), edge(1, 9, 4), edge(2, 9, 5)], "by key, NULL first"
    mixed = list(in_lock_order({"soundcloud_interactions": edges[:1], "soundcloud_users": [(1,) * 20]}))
    assert [n for n, _ in mixed] == [n for n in TABLES if n in ("soundcloud_interactions", "soundcloud_users")]
