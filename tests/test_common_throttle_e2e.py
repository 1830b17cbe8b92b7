"""Pacing: SoundCloud's request budget per client_id against a replica that
enforces it, Retry-After in both forms, and the real-site defaults."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from aiohttp import web

from replicas.runner import AppThread
from replicas.soundcloud import Quirks, SoundCloudReplica, WorldConfig, build_world
from tests.crawl import run_crawl
from tests.test_soundcloud_artists_e2e import artist_refs, assert_dataset_matches_world, site_env


def test_crawl_within_the_budget_never_meets_the_rate_limit(tmp_path: Path) -> None:
    """The replica answers 429 above 5 requests a second per client_id; a
    budget of 4/1 keeps every request under it, with no 429 at all."""
    world = build_world(WorldConfig(artists=3, tracks_per_artist=3, comments_per_track=5))
    database_url = f"sqlite:///{tmp_path}/db.sqlite3"
    with SoundCloudReplica(world, Quirks(datadome=False, rate_limit=(5, 1.0))) as replica:
        result = run_crawl("soundcloud_artists", tmp_path, args={"artists": artist_refs(world, replica)},
                           env=site_env(replica), settings={"DATABASE_URL": database_url, "MEDIA_ENABLED": False,
                                                           "SOUNDCLOUD_REQUEST_BUDGET": "4/1"})
        served_429 = replica.stats.get("status_429", 0)
    assert result.returncode == 0, result.log[-3000:]
    assert served_429 == 0 and result.stat("soundscraping/retry/http_429") == 0
    assert result.stat("soundscraping/throttle/waited_seconds") > 0, "requests waited for their turn"
    assert_dataset_matches_world(database_url, world)


def test_retry_after_holds_the_host(tmp_path: Path) -> None:
    """A 503 with Retry-After (once in seconds, once as an HTTP-date): the
    next request to that host comes no sooner than asked."""
    arrivals: list[float] = []
    answers = [("503", "2"), ("503", "date"), ("200", None)]

    async def page(request: web.Request) -> web.Response:
        arrivals.append(time.monotonic())
        status, retry_after = answers[min(len(arrivals), len(answers)) - 1]
        headers = {}
        if retry_after == "date":
            headers["Retry-After"] = format_datetime(datetime.now(UTC) + timedelta(seconds=4), usegmt=True)
        elif retry_after:
            headers["Retry-After"] = retry_after
        return web.Response(status=int(status), text="<html><body>library</body></html>", headers=headers,
                            content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    with AppThread([app]) as server:
        (base,) = server.urls
        result = run_crawl("cambridge_mt", tmp_path, settings={
            "CAMBRIDGE_MT_URL": f"{base}/ms3/mtk/", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "MEDIA_ENABLED": False, "RETRY_BACKOFF_BASE": 0.01, "RETRY_BACKOFF_MAX": 0.05})
    assert len(arrivals) == 3, result.log[-2000:]
    assert arrivals[1] - arrivals[0] >= 2.0, "Retry-After: 2 was honoured"
    assert arrivals[2] - arrivals[1] >= 2.5, "Retry-After as an HTTP-date (4 s, in whole seconds) was honoured"
    assert result.stat("soundscraping/retry/retry_after_honoured") == 2
    assert "HTTP 503 from 127.0.0.1" in result.log and "with Retry-After: no request to that host" in result.log
