"""N workers upserting overlapping rows into one PostgreSQL database at once
(distributed mode): no deadlock, no row lost or written twice."""

from __future__ import annotations

import random
import threading

from soundscraping.storage import TABLES, Database, StorageError

USERS = TABLES["soundcloud_users"]
EDGES = TABLES["soundcloud_interactions"]


def row(table: object, **values: object) -> tuple[object, ...]:
    return tuple(values.get(name) for name in table.column_names)  # type: ignore[attr-defined]


def test_overlapping_batches_in_any_order_never_deadlock(pg_url: str) -> None:
    Database.from_url(pg_url).ensure_schema()
    users = [row(USERS, id=i, permalink=f"u{i}", followers_count=i, full_profile=i % 2 == 0) for i in range(400)]
    edges = [row(EDGES, source_user_id=i % 7, kind="like", target_user_id=i, object_id=i % 3 or None)
             for i in range(400)]
    failures: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        db = Database.from_url(pg_url)
        try:
            for _ in range(8):
                # Each worker meets the same accounts in its own order.
                batch = {"soundcloud_interactions": rng.sample(edges, len(edges)),
                         "soundcloud_users": rng.sample(users, len(users))}
                if rng.random() < 0.5:
                    batch = dict(reversed(batch.items()))
                db.write(batch)
        except StorageError as exc:
            failures.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures[:3]
    db = Database.from_url(pg_url)
    try:
        assert db.query("SELECT count(*), count(DISTINCT id) FROM soundcloud_users")[0] == (400, 400)
        assert db.query("SELECT count(*) FROM soundcloud_interactions")[0][0] == 400
    finally:
        db.close()
