"""The watchdog closes a stuck crawl as ``stalled``; the web site and api-v2
on one host:port (a proxy, a mirror) no longer hang the client_id discovery."""

from __future__ import annotations

from pathlib import Path

from aiohttp import ClientSession, web

from replicas.runner import AppThread
from replicas.soundcloud import Quirks, SoundCloudReplica, WorldConfig, build_world
from tests.crawl import finish, run_crawl, start_crawl
from tests.test_soundcloud_artists_e2e import assert_dataset_matches_world, site_env

_API_PATHS = ("/resolve", "/users/", "/tracks", "/search", "/stream/")
_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


def one_host_proxy(replica: SoundCloudReplica) -> web.Application:
    """soundcloud.com and api-v2 behind one host:port: api paths go to the
    API replica, everything else to the web replica, bytes unchanged."""

    async def forward(request: web.Request) -> web.Response:
        base = replica.urls["api"] if request.path.startswith(_API_PATHS) else replica.urls["web"]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        async with ClientSession(auto_decompress=False) as session, session.request(
                request.method, base + request.path_qs, headers=headers, allow_redirects=False) as answer:
            body = await answer.read()
            kept = [(k, v) for k, v in answer.headers.items() if k.lower() not in _HOP_HEADERS]
            response = web.Response(body=body, status=answer.status)
            for name, value in kept:
                response.headers.add(name, value)
            return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def test_web_and_api_on_one_host_do_not_hang(tmp_path: Path) -> None:
    world = build_world(WorldConfig(artists=3, tracks_per_artist=3, comments_per_track=4))
    database_url = f"sqlite:///{tmp_path}/db.sqlite3"
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica, \
            AppThread([one_host_proxy(replica)]) as proxy:
        (one_host,) = proxy.urls
        refs = ",".join(f"https://soundcloud.com/{a['permalink']}" for a in world.artists)
        result = run_crawl("soundcloud_artists", tmp_path, args={"artists": refs}, timeout=120,
                           env={"SOUNDCLOUD_URL": one_host, "SOUNDCLOUD_API_URL": one_host},
                           settings={"DATABASE_URL": database_url, "MEDIA_ENABLED": False,
                                     "WATCHDOG_SECONDS": 30})
        home_pages = replica.stats.get("web_home", 0)
    assert result.returncode == 0, result.log[-3000:]
    assert home_pages >= 1, "the client_id was discovered through the shared host"
    assert result.stat("soundscraping/client_id/from_home_page") == 1
    assert_dataset_matches_world(database_url, world)


def test_a_stuck_crawl_is_closed_as_stalled(tmp_path: Path) -> None:
    """One tracks page never answers (held by the replica): once everything
    else is done, nothing happens for WATCHDOG_SECONDS.  The fault is at a
    known point; the watchdog's own clock is what is under test, with room
    for a loaded machine's start-up (2 s was not: no response yet)."""
    world = build_world(WorldConfig(artists=2, tracks_per_artist=2, comments_per_track=2))
    stuck_artist = world.artists[-1]["id"]
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica:
        held = replica.holds.hold(lambda request: request.path == f"/users/{stuck_artist}/tracks")
        process, log, stats = start_crawl(
            "soundcloud_artists", tmp_path, args={"artists": ",".join(a["permalink"] for a in world.artists)},
            env=site_env(replica), settings={"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
                                             "MEDIA_ENABLED": False, "WATCHDOG_SECONDS": 8})
        held.wait_arrived()
        result = finish(process, log, stats, timeout=120)  # the hold is never released
    assert result.returncode == 1
    assert result.stats["finish_reason"] == "stalled"
    assert "No response and no item for 8 s (WATCHDOG_SECONDS=8): the crawl is stuck" in result.log
    assert "Traceback" not in result.log
