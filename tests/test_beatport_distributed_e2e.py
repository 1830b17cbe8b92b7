"""End to end, distributed mode: two `scrapy crawl beatport_tracks` workers
share the searches of one job (real Redis db 7 under a prefix of the test's
own, real PostgreSQL) and store what one worker alone stores, each search
made by exactly one of them."""

from __future__ import annotations

from pathlib import Path

from replicas.beatport import BeatportReplica, Catalogue, LabelledUpload
from tests.crawl import admin, query, run_crawl
from tests.distributed import RedisJob, run_workers
from tests.test_beatport_tracks_e2e import FAST, STORED, catalogue, sc_rows, seed_soundcloud, uploads  # noqa: F401


def stored_tracks(database_url: str) -> set[tuple[object, ...]]:
    return {tuple(tuple(v) if isinstance(v, list) else v for v in row) for row in query(database_url, STORED)}


MATCHES = "SELECT soundcloud_track_id, status, beatport_track_id, match_score, query, candidates FROM beatport_matches"


def test_two_workers_store_what_one_worker_stores(tmp_path: Path, pg_url: str, redis_job: RedisJob,
                                                    catalogue: Catalogue,  # noqa: F811
                                                    uploads: list[LabelledUpload]) -> None:  # noqa: F811
    released, seen = [], set()
    for i, upload in enumerate(uploads):  # one upload per release: the row's soundcloud_track_id is then one
        if upload.expected and not upload.expected & seen and len(released) < 8:
            released.append(i)
            seen |= upload.expected
    unreleased = [i for i, u in enumerate(uploads) if not u.expected][:3]
    rows = sc_rows(uploads, released + unreleased)
    unsearchable = dict(rows[0], id=rows[-1]["id"] + 1, user_id=7777, title="🔥🔥")  # no request, no unit
    single_db = pg_url + "_single"
    admin(f"CREATE DATABASE {single_db.rsplit('/', 1)[1]}")
    try:
        for url in (single_db, pg_url):
            seed_soundcloud(url, [*rows, unsearchable])
        common = {**FAST, "STORAGE_FLUSH_SECONDS": 0.3, "DISTRIBUTED_UNITS_IN_HAND": 1, "DISTRIBUTED_POLL_SECONDS": 0.2}
        with BeatportReplica(catalogue) as replica:
            env = {"BEATPORT_URL": replica.url}
            single = run_crawl("beatport_tracks", tmp_path / "single", env=env,
                               settings={**common, "DATABASE_URL": single_db, "FILES_STORE": tmp_path / "f1"})
            assert single.returncode == 0, single.log[-3000:]
            searches, pages = replica.stats["search_tracks"], replica.stats["track"]
            results = run_workers(2, "beatport_tracks", tmp_path, env=env, args={},
                                  settings={**common, **redis_job.settings, "DATABASE_URL": pg_url,
                                            "FILES_STORE": tmp_path / "f3"})
            for result in results:
                assert result.returncode == 0, result.log[-3000:]
                assert "Traceback" not in result.log
            assert replica.stats["search_tracks"] - searches == searches, "every search made once"
            assert replica.stats["track"] - pages == pages, "every track page asked once"
        per_worker = [r.stat("soundscraping/units/finished") for r in results]
        assert sum(per_worker) == len(rows), f"each search done by exactly one worker: {per_worker}"
        assert all(per_worker), f"both workers had work: {per_worker}"
        assert redis_job.client.scard(redis_job.key("beatport_tracks", "done")) == len(rows)
        assert query(pg_url, "SELECT count(*), count(DISTINCT unit) FROM crawl_units") == [(len(rows), len(rows))]
        assert set(query(pg_url, MATCHES)) == set(query(single_db, MATCHES))
        assert len(query(pg_url, MATCHES)) == len(rows) + 1, "every track searched, the unsearchable one recorded"
        stored = stored_tracks(pg_url)
        assert stored == stored_tracks(single_db) and len(stored) == len(released)
        files = {r[0] for r in query(pg_url, "SELECT url FROM media_files")}
        assert files == {r[0] for r in query(single_db, "SELECT url FROM media_files")} and files
        assert not query(single_db, "SELECT 1 FROM crawl_units"), "alone, nothing but the rows says a search is done"
    finally:
        admin(f"DROP DATABASE IF EXISTS {single_db.rsplit('/', 1)[1]} WITH (FORCE)")
