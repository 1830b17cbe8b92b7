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
