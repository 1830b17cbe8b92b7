"""End to end, distributed mode: three `scrapy crawl soundcloud_artists`
workers share one artist list in Redis and store what one worker alone
stores, each artist done by exactly one of them."""

from __future__ import annotations

from pathlib import Path

from replicas.soundcloud import Quirks, SoundCloudReplica, WorldConfig, build_world
from tests.crawl import admin, query, run_crawl
from tests.distributed import RedisJob, run_workers
from tests.test_soundcloud_artists_e2e import artist_refs, comparable_rows, site_env


def test_three_workers_store_what_one_worker_stores(tmp_path: Path, pg_url: str, redis_job: RedisJob) -> None:
    world = build_world(WorldConfig(artists=6, tracks_per_artist=4, comments_per_track=12))
    single_db = pg_url + "_single"
    admin(f"CREATE DATABASE {single_db.rsplit('/', 1)[1]}")
    common = {"MEDIA_ENABLED": False, "STORAGE_FLUSH_SECONDS": 0.5, "DISTRIBUTED_UNITS_IN_HAND": 1}
    try:
        with SoundCloudReplica(world, Quirks(datadome=False, latency_ms=20)) as replica:
            args = {"artists": artist_refs(world, replica)}
            single = run_crawl("soundcloud_artists", tmp_path / "single", args=args, env=site_env(replica),
                               settings={**common, "DATABASE_URL": single_db})
            assert single.returncode == 0, single.log[-3000:]
            results = run_workers(3, "soundcloud_artists", tmp_path, args=args, env=site_env(replica),
                                  settings={**common, **redis_job.settings, "DATABASE_URL": pg_url})
        for result in results:
            assert result.returncode == 0, result.log[-3000:]
            assert "Traceback" not in result.log
        units = len(args["artists"].split(","))  # the missing artist is a unit too
        per_worker = [r.stat("soundscraping/units/finished") for r in results]
        assert sum(per_worker) == units, f"each artist done by exactly one worker: {per_worker}"
        assert sum(1 for n in per_worker if n) >= 2, f"the work was shared: {per_worker}"
        assert query(pg_url, "SELECT count(*), count(DISTINCT unit) FROM crawl_units")[0] == (units, units)
        shared_rows, single_rows = comparable_rows(pg_url), comparable_rows(single_db)
        for name in single_rows:
            missing, extra = single_rows[name] - shared_rows[name], shared_rows[name] - single_rows[name]
            assert not missing and not extra, f"{name}: {len(missing)} missing, {len(extra)} extra"[:800]
        assert redis_job.client.scard(redis_job.key("soundcloud_artists", "done")) == units
    finally:
        admin(f"DROP DATABASE IF EXISTS {single_db.rsplit('/', 1)[1]} WITH (FORCE)")


def test_a_distributed_recrawl_offers_only_the_artists_due(tmp_path: Path, pg_url: str, redis_job: RedisJob) -> None:
    """``-a recrawl_after`` holds in distributed mode too: a new job offers only
    the artists no crawl finished within that time."""
    world = build_world(WorldConfig(artists=4, tracks_per_artist=2, comments_per_track=3))
    common = {"MEDIA_ENABLED": False, "STORAGE_FLUSH_SECONDS": 0.5, "DATABASE_URL": pg_url,
              "REDIS_URL": redis_job.url, "DISTRIBUTED_UNITS_IN_HAND": 1}
    with SoundCloudReplica(world, Quirks(datadome=False, latency_ms=10)) as replica:
        refs = ",".join(a["permalink"] for a in world.artists)
        units = len(world.artists)

        def job(name: str, **args: str) -> list:
            # A job of its own under the test's prefix (deleted with it).
            settings = {**common, "REDIS_KEY_PREFIX": f"{redis_job.prefix}:{name}"}
            return run_workers(2, "soundcloud_artists", tmp_path / name, args={"artists": refs, **args},
                               env=site_env(replica), settings=settings)

        first = job("first")
        resolved = replica.stats["api_resolve"]
        fresh = job("fresh", recrawl_after="7d")
        assert replica.stats["api_resolve"] == resolved, "no artist looked up again"
        stale = job("stale", recrawl_after="0s")
        assert replica.stats["api_resolve"] > resolved
    for result in (*first, *fresh, *stale):
        assert result.returncode == 0, result.log[-3000:]
        assert "Traceback" not in result.log
    assert sum(r.stat("soundscraping/units/finished") for r in first) == units
    assert [r.stat("soundscraping/units/skipped") for r in fresh] == [units, units]
    assert sum(r.stat("soundscraping/units/finished") for r in fresh) == 0
    assert any(f"Re-crawl: {units} of {units} artists were finished less than 7 days" in r.log
               for r in fresh), fresh[0].log[-2000:]
    assert sum(r.stat("soundscraping/units/finished") for r in stale) == units, "every artist once more"
