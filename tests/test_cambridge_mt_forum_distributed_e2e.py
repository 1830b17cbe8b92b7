"""End to end, distributed mode: two `scrapy crawl cambridge_forum` workers
share one forum (real Redis db 7 under a prefix of the test's own, real
PostgreSQL): the worker that reads a forum's list offers its forums and
threads, each forum list and each thread is read by exactly one worker, and
the rows are those one worker alone stores."""

from __future__ import annotations

from pathlib import Path

from replicas.cambridge_mt import CambridgeReplica, ForumConfig, build_forum, load_library
from replicas.cambridge_mt.world import GENRE_FORUMS
from tests.crawl import admin, query, run_crawl
from tests.distributed import RedisJob, run_workers
from tests.test_cambridge_mt_e2e import FAST
from tests.test_cambridge_mt_forum_resume_e2e import rows


def test_two_workers_store_what_one_worker_stores(tmp_path: Path, pg_url: str, redis_job: RedisJob) -> None:
    library = load_library()
    genre = "Hip-Hop / R&B"
    forum = build_forum(library, ForumConfig(seed=5, genres=(genre,)))
    fid = GENRE_FORUMS[genre][0]
    song_forums = [sf for g in forum.root if g.fid == fid for sf in g.forums]
    threads = {t.tid for sf in song_forums for t in sf.threads}
    assert any(len(t.posts) > 10 for sf in song_forums for t in sf.threads), "a thread of several pages"
    args = {"forums": str(fid)}
    single_db = pg_url + "_single"
    admin(f"CREATE DATABASE {single_db.rsplit('/', 1)[1]}")
    try:
        with CambridgeReplica(library, forum) as replica:
            common = {**FAST, "STORAGE_FLUSH_SECONDS": 0.3, "DISTRIBUTED_UNITS_IN_HAND": 2,
                      "DISTRIBUTED_POLL_SECONDS": 0.2, **replica.settings()}
            single = run_crawl("cambridge_forum", tmp_path / "single", args=args,
                               settings={**common, "DATABASE_URL": single_db})
            assert single.returncode == 0, single.log[-3000:]
            requests = replica.stats["requests_forum"]
            results = run_workers(2, "cambridge_forum", tmp_path, args=args, env={},
                                  settings={**common, **redis_job.settings, "DATABASE_URL": pg_url})
            for result in results:
                assert result.returncode == 0, result.log[-3000:]
                assert "Traceback" not in result.log
            assert replica.stats["requests_forum"] - requests == requests, "every page asked once"
        lists = {f"forum-list:{f}" for f in (fid, *(sf.fid for sf in song_forums))}
        per_worker = [r.stat("soundscraping/units/finished") for r in results]
        assert sum(per_worker) == len(lists) + len(threads), f"each unit done by exactly one worker: {per_worker}"
        assert all(per_worker), f"both workers had work: {per_worker}"
        assert redis_job.client.smembers(redis_job.key("cambridge_forum", "done")) == lists | set(map(str, threads))
        units = query(pg_url, "SELECT unit FROM crawl_units")
        assert sorted(u for (u,) in units) == sorted(lists | set(map(str, threads))), "each recorded once"
        assert {u for (u,) in query(single_db, "SELECT unit FROM crawl_units")
                if not u.startswith("forum:")} == set(map(str, threads))
        shared_rows, single_rows = rows(pg_url), rows(single_db)
        assert {t for t, *_ in shared_rows["cmt_forum_threads"]} == threads
        for name in single_rows:
            missing, extra = single_rows[name] - shared_rows[name], shared_rows[name] - single_rows[name]
            assert single_rows[name] and not missing and not extra, \
                f"{name}: {len(missing)} missing, {len(extra)} extra"
    finally:
        admin(f"DROP DATABASE IF EXISTS {single_db.rsplit('/', 1)[1]} WITH (FORCE)")


def test_a_distributed_recrawl_offers_only_the_threads_due(tmp_path: Path, pg_url: str, redis_job: RedisJob) -> None:
    """``-a recrawl_after`` holds in distributed mode too: a new job reads the
    forum lists again (new threads) but offers only the threads no crawl
    finished within that time."""
    library = load_library()
    genre = "Hip-Hop / R&B"
    forum = build_forum(library, ForumConfig(seed=5, genres=(genre,)))
    fid = GENRE_FORUMS[genre][0]
    threads = {t.tid for g in forum.root if g.fid == fid for sf in g.forums for t in sf.threads}
    with CambridgeReplica(library, forum) as replica:
        common = {**FAST, "STORAGE_FLUSH_SECONDS": 0.3, "DISTRIBUTED_UNITS_IN_HAND": 2,
                  "DISTRIBUTED_POLL_SECONDS": 0.2, "DATABASE_URL": pg_url, **replica.settings()}

        def job(name: str, **args: str) -> list:
            # A job of its own under the test's prefix (deleted with it).
            settings = {**common, "REDIS_URL": redis_job.url, "REDIS_KEY_PREFIX": f"{redis_job.prefix}:{name}"}
            return run_workers(2, "cambridge_forum", tmp_path / name, args={"forums": str(fid), **args},
                               env={}, settings=settings)

        first = job("first")
        read = replica.stats["showthread"]
        lists = replica.stats["forumdisplay"]
        fresh = job("fresh", recrawl_after="7d")
        assert replica.stats["showthread"] == read, "no thread read again"
        assert replica.stats["forumdisplay"] > lists, "the forum lists were read again"
        stale = job("stale", recrawl_after="0s")
        assert replica.stats["showthread"] == 2 * read, "every thread read once more"
    for result in (*first, *fresh, *stale):
        assert result.returncode == 0, result.log[-3000:]
        assert "Traceback" not in result.log
    assert sum(r.stat("soundscraping/units/skipped") for r in fresh) == len(threads)
    assert sum(r.stat("soundscraping/units/skipped") for r in stale) == 0
    recorded = {u for (u,) in query(pg_url, "SELECT DISTINCT unit FROM crawl_units") if u.isdigit()}
    assert recorded == set(map(str, threads))
