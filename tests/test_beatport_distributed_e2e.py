"""End to end, distributed mode: two `scrapy crawl beatport_tracks` workers
share the searches of one job (real Redis db 7 under a prefix of the test's
own, real PostgreSQL) and store what one worker alone stores, each search
finished by exactly one of them.  One worker is killed with SIGKILL at a
known point, when a search's beatport_matches row is stored but the
beatport_tracks row it names is not (the replica holds that track's
artwork): the search is not finished, its lease expires and the other worker
redoes it, so nothing is lost."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

from replicas.beatport import BeatportReplica, Catalogue, LabelledUpload
from replicas.beatport.world import PLACEHOLDER_IMAGE
from soundscraping.sites.beatport.matching import parse_upload, search_queries
from tests.crawl import admin, count_rows, finish, query, run_crawl, start_crawl, wait_until
from tests.distributed import RedisJob
from tests.test_beatport_tracks_e2e import FAST, STORED, catalogue, sc_rows, seed_soundcloud, uploads  # noqa: F401


def stored_tracks(database_url: str) -> set[tuple[object, ...]]:
    return {tuple(tuple(v) if isinstance(v, list) else v for v in row) for row in query(database_url, STORED)}


MATCHES = "SELECT soundcloud_track_id, status, beatport_track_id, match_score, query, candidates FROM beatport_matches"


def test_two_workers_store_what_one_worker_stores_even_when_one_is_killed(
        tmp_path: Path, pg_url: str, redis_job: RedisJob, catalogue: Catalogue,  # noqa: F811
        uploads: list[LabelledUpload]) -> None:  # noqa: F811
    released, seen = [], set()
    for i, upload in enumerate(uploads):  # one upload per release: the row's soundcloud_track_id is then one
        if upload.expected and not upload.expected & seen and len(released) < 8:
            released.append(i)
            seen |= upload.expected
    unreleased = [i for i, u in enumerate(uploads) if not u.expected][:3]
    rows = sc_rows(uploads, released + unreleased)
    unsearchable = dict(rows[0], id=rows[-1]["id"] + 1, user_id=7777, title="🔥🔥")  # no request, no unit
    held_row = next(r for r in rows[2:] if r["upload"].expected
                    and catalogue.tracks[next(iter(r["upload"].expected))].release.image_uuid != PLACEHOLDER_IMAGE)
    held_artwork = catalogue.tracks[next(iter(held_row["upload"].expected))].release.image_uuid
    held_unit = str(held_row["id"])
    single_db = pg_url + "_single"
    admin(f"CREATE DATABASE {single_db.rsplit('/', 1)[1]}")
    try:
        for url in (single_db, pg_url):
            seed_soundcloud(url, [*rows, unsearchable])
        common = {**FAST, "STORAGE_FLUSH_SECONDS": 0.3, "DISTRIBUTED_UNITS_IN_HAND": 1,
                  "DISTRIBUTED_POLL_SECONDS": 0.2, "DISTRIBUTED_LEASE_SECONDS": 2}
        with BeatportReplica(catalogue) as replica:
            env = {"BEATPORT_URL": replica.url}
            single = run_crawl("beatport_tracks", tmp_path / "single", env=env,
                               settings={**common, "DATABASE_URL": single_db, "FILES_STORE": tmp_path / "f1"})
            assert single.returncode == 0, single.log[-3000:]
            searches, pages = list(replica.stats["queries"]), replica.stats["track"]

            held = replica.holds.hold(lambda r: held_artwork in r.path)
            settings = {**common, **redis_job.settings, "DATABASE_URL": pg_url, "FILES_STORE": tmp_path / "f2"}
            workers = [start_crawl("beatport_tracks", tmp_path, env=env, settings=settings, run=f"worker{i}")
                       for i in range(2)]
            held.wait_arrived(timeout=60)
            wait_until(lambda: count_rows(pg_url, f"beatport_matches WHERE soundcloud_track_id = {held_unit}") == 1,
                       "the held track's match row stored")
            assert not redis_job.client.sismember(redis_job.key("beatport_tracks", "done"), held_unit), \
                "searched and its match stored, but the track row it names is not: not finished"
            holder = redis_job.client.hget(redis_job.key("beatport_tracks", "holder"), held_unit)
            victim = next(w for w in workers if holder.endswith(f":{w[0].pid}"))
            victim[0].send_signal(signal.SIGKILL)
            victim[0].wait(30)
            held.release()
            survivor = finish(*next(w for w in workers if w is not victim), timeout=180)
            assert survivor.returncode == 0, survivor.log[-3000:]
            assert "Traceback" not in survivor.log
            assert survivor.stat("soundscraping/distributed/reclaimed_units") == 1
            # Every search made once, but the killed one's, made again by the survivor.
            again = Counter(replica.stats["queries"][len(searches):]) - Counter(searches)
            assert not Counter(searches) - Counter(replica.stats["queries"][len(searches):]), "no search left out"
            held = held_row["title"], held_row["uploader"], held_row["duration_ms"]
            held_queries = search_queries(parse_upload(*held))
            assert again and set(again) <= set(held_queries), (again, held_queries)
            assert replica.stats["track"] - pages == pages + 1, "every track page once, the killed one's twice"
        units = len(rows)
        assert redis_job.client.scard(redis_job.key("beatport_tracks", "done")) == units
        assert query(pg_url, "SELECT count(*), count(DISTINCT unit) FROM crawl_units") == [(units, units)]
        assert set(query(pg_url, MATCHES)) == set(query(single_db, MATCHES))
        assert len(query(pg_url, MATCHES)) == units + 1, "every track searched, the unsearchable one recorded"
        stored = stored_tracks(pg_url)
        assert stored == stored_tracks(single_db) and len(stored) == len(released)
        files = {r[0] for r in query(pg_url, "SELECT url FROM media_files")}
        assert files == {r[0] for r in query(single_db, "SELECT url FROM media_files")} and files
        assert not query(single_db, "SELECT 1 FROM crawl_units"), "alone, nothing but the rows says a search is done"
    finally:
        admin(f"DROP DATABASE IF EXISTS {single_db.rsplit('/', 1)[1]} WITH (FORCE)")
