"""``scrapy crawl soundcloud_artists -a artists=a,b,c`` (permalinks, display
names or profile URLs, mixed) or ``-a artists_file=PATH`` (one per line):
each artist's profile, every track and DJ set, and every comment.

A track's row is stored once its comments were read to the end, so a stored
row says its comments were complete at its ``comment_count``: what a re-crawl
(``-a recrawl_after=7d``) relies on to fetch only new comments, and only
for tracks whose count changed (sites/soundcloud/recrawl.py).

With REDIS_URL set, the artist list is a Redis queue shared by every worker
started with the same arguments: each claims a few artists at a time with a
lease (soundscraping.distributed.shared_units), so each artist is done by
one worker (by another only if the first one died before its rows were stored)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from soundscraping.distributed.shared_units import SharedUnits
from soundscraping.sites import MalformedPage
from soundscraping.sites.soundcloud.parsers import (
    classify_artist_ref,
    parse_comment_json,
    parse_object,
    parse_track_json,
    pick_user_by_name,
)
from soundscraping.sites.soundcloud.recrawl import (
    COMMENTS_SORT,
    Plan,
    StoredTrack,
    comments_page,
    comments_since,
    track_plan,
)
from soundscraping.spider_args import Arg, ArgSpec, duration, lines_of_file, names
from soundscraping.spiders.base import SoundCloudSpider
from soundscraping.storage import StorageError, connected, track_baselines
from soundscraping.timestamps import utc_now
from soundscraping.units import UnitTracker, load_finished, recrawl_cutoff, unit_step

# An artist's tracks, in the order tried: /users/{id}/tracks (impersonated
# TLS, then a browser pass, inside the downloader), then the stream of posts
# (/stream/users/{id}, own tracks only), then /users/{id}/toptracks, which
# answered when /tracks was refused (reference §2) but is partial.
TRACKS_ROUTES = ("tracks", "stream", "toptracks")
# How /tracks got through, weakest to strongest (AntiBotBrowserMiddleware).
_ACCESS_ORDER = ("plain", "impersonate", "browser")


def _stronger(a: str | None, b: str | None) -> str | None:
    """The route an artist needed: the strongest any of its pages needed."""
    known = [r for r in (a, b) if r in _ACCESS_ORDER]
    return max(known, key=_ACCESS_ORDER.index) if known else (a or b)


class SoundCloudArtistsSpider(SoundCloudSpider):
    name = "soundcloud_artists"
    shares_work = True
    arguments = ArgSpec((
        Arg("artists", "NAME,NAME,...", names, []),
        Arg("artists_file", "PATH", lines_of_file, []),
    ), required_any=("artists", "artists_file"))
    artists: list[str]
    artists_file: list[str]
    # The unit of work: one artist (profile, every track, every comment).
    unit_key = "artist"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.artist_refs = list(dict.fromkeys(self.artists + self.artists_file))  # in order, once each

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SoundCloudArtistsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Distributed mode: the artist list is the job's queue.
        spider.shared = SharedUnits.for_spider(spider, spider.artist_requests)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        if not await self.ensure_client_id():
            return
        todo = await self.artists_due()
        if self.shared is not None:
            # Offer the artists due (in order; artists done or under way in
            # this job are left alone), then claim the first few.
            for request in await self.shared.start(todo):
                yield request
            return
        self.logger.info("Crawling %d artists", len(todo))
        units = UnitTracker.for_crawler(self.crawler)
        for ref in todo:
            units.request_sent(ref)
            yield self.artist_request(ref)

    async def artists_due(self) -> list[str]:
        """The artists to crawl: all but those this job finished before (a
        resumed JOBDIR) and, with ``recrawl_after``, those any crawl finished
        more recently than that (distributed or not)."""
        done = await asyncio.to_thread(load_finished, self.crawler, self.name, self.recrawl_after)
        todo = [ref for ref in self.artist_refs if ref not in done]
        if done:
            self.count("soundscraping/units/skipped", len(self.artist_refs) - len(todo))
            if self.recrawl_after is None:
                self.logger.info("Resuming the job: %d of %d artists were finished before and are skipped",
                                 len(self.artist_refs) - len(todo), len(self.artist_refs))
            else:
                self.logger.info("Re-crawl: %d of %d artists were finished less than %s ago and are skipped",
                                 len(self.artist_refs) - len(todo), len(self.artist_refs), self.recrawl_after)
        return todo

    def artist_requests(self, ref: str, payload: Any, redo: bool) -> list[Request]:
        """A claimed artist's first request."""
        UnitTracker.for_crawler(self.crawler).request_sent(ref)
        return [self.artist_request(ref, redo=redo)]

    def artist_request(self, ref: str, redo: bool = False) -> Request:
        kind, value = classify_artist_ref(ref)
        meta: dict[str, Any] = {"artist": ref, **({"redo": True} if redo else {})}
        if kind == "name":
            return self.api_request("/search/users", self.parse_artist_search,
                                    params={"q": value, "limit": 50, "linked_partitioning": 1}, meta=meta)
        url = value if kind == "url" else f"{self.web_url}/{value}"
        return self.api_request("/resolve", self.parse_artist, params={"url": url}, meta=meta, handle_404=True)

    # -- callbacks -----------------------------------------------------------------

    @unit_step
    async def parse_artist(self, response: Response) -> AsyncIterator[Any]:
        if response.status == 404:
            self.skip("artist_not_found", "Artist %r not found on SoundCloud (404 from resolve)",
                      response.meta["artist"])
            return
        try:
            user = parse_object(response.body, kind="user")
        except MalformedPage as exc:
            if (retry := self.malformed(response, exc)) is not None:
                yield retry
            return
        yield await self.artist_found(user, response)

    @unit_step
    async def parse_artist_search(self, response: Response) -> AsyncIterator[Any]:
        page = self.read_page(response)
        if not hasattr(page, "collection"):
            if page is not None:
                yield page
            return
        user = pick_user_by_name(page.collection, response.meta["artist"])
        if user is None:
            self.skip("artist_not_found", "Artist %r not found on SoundCloud (no user with that name in search)",
                      response.meta["artist"])
            return
        yield await self.artist_found(user, response)

    async def artist_found(self, user: dict[str, Any], response: Response) -> Request:
        item = self.user_item(user, scraped_at=utc_now())
        self.count("soundscraping/artists/found")
        self.logger.info("Artist %r is user %d (%s): %s tracks", response.meta["artist"], item.id,
                         item.permalink, item.track_count)
        meta = {"artist": response.meta["artist"], "user_id": item.id, "artist_profile": item,
                **({"redo": True} if response.meta.get("redo") else {})}
        if self.recrawl_after is not None:
            # What the dataset holds about the artist's tracks: the re-crawl's plans.
            meta["baseline"] = await asyncio.to_thread(self.stored_tracks, item.id)
        # The profile rides along the track pages and is stored once the
        # route that served the tracks says whether they are complete.
        return self.tracks_request(TRACKS_ROUTES[0], meta)

    def stored_tracks(self, user_id: int) -> dict[int, StoredTrack]:
        """The artist's stored tracks (empty when storage is off or cannot
        be read: then every track is read in full)."""
        if not self.settings.getbool("STORAGE_ENABLED", True):
            return {}
        try:
            with connected(self.settings.get("DATABASE_URL")) as db:
                return {tid: StoredTrack(*row) for tid, row in track_baselines(db, user_id).items()}
        except StorageError as exc:
            self.logger.warning("Could not read the stored tracks of user %d (%s): reading them in full", user_id, exc)
            return {}

    @property
    def hidden_stats_due_before(self) -> str | None:
        """Re-crawl: a track with hidden counts stored before this is due a look."""
        if not hasattr(self, "_hidden_due"):
            # Checked before the crawl starts (soundscraping.preflight).
            self._hidden_due = recrawl_cutoff(duration(str(self.settings.get("SOUNDCLOUD_RECRAWL_HIDDEN_STATS_AFTER"))))
        return self._hidden_due

    # -- an artist's tracks, route after route --------------------------------------

    def tracks_request(self, route: str, meta: dict[str, Any]) -> Request:
        """First page of one route to an artist's tracks (see TRACKS_ROUTES)."""
        path, callback = {
            "tracks": ("/users/{}/tracks", self.parse_tracks),
            "stream": ("/stream/users/{}", self.parse_stream),
            "toptracks": ("/users/{}/toptracks", self.parse_toptracks),
        }[route]
        meta = {**{k: meta[k] for k in ("artist", "user_id", "artist_profile", "baseline", "redo") if k in meta},
                "tracks_route": route, "tracks_seen": 0}
        return self.paged_request(path.format(meta["user_id"]), callback, meta=meta,
                                  errback=self.on_tracks_error)

    # Every route's callback is a unit step: the fallback routes yield the
    # artist's tracks, comment requests and profile just as /tracks does.
    @unit_step
    def parse_tracks(self, response: Response) -> Iterator[Any]:
        yield from self.read_track_page(response, self.parse_tracks, lambda obj: obj.get("kind") == "track")

    @unit_step
    def parse_stream(self, response: Response) -> Iterator[Any]:
        """The stream of posts and reposts: the artist's own track posts only."""
        owner = response.meta["user_id"]

        def own_track(obj: dict[str, Any]) -> bool:
            track = obj.get("track")
            return obj.get("type") == "track" and isinstance(track, dict) and (
                track.get("user_id") == owner or (track.get("user") or {}).get("id") == owner)

        yield from self.read_track_page(response, self.parse_stream, own_track, unwrap="track")

    @unit_step
    def parse_toptracks(self, response: Response) -> Iterator[Any]:
        yield from self.read_track_page(response, self.parse_toptracks, lambda obj: obj.get("kind") == "track")

    def read_track_page(self, response: Response, callback: Any, wanted: Any,
                        unwrap: str | None = None) -> Iterator[Any]:
        page = self.read_page(response)
        if not hasattr(page, "collection"):
            if page is not None:
                yield page
            return
        route = response.meta.get("tracks_route", "tracks")
        self.count(f"soundscraping/access/soundcloud/{route}_pages")
        scraped_at, rule = utc_now(), self.dj_set_rule()
        baseline: dict[int, StoredTrack] | None = response.meta.get("baseline")
        n = 0
        for entry in page.collection:
            if not isinstance(entry, dict) or not wanted(entry):
                continue
            obj = entry[unwrap] if unwrap else entry
            try:
                track = parse_track_json(obj, rule, scraped_at=scraped_at)
            except MalformedPage as exc:
                self.skip("bad_track", "Track skipped (%s): %s", self.context(response), exc)
                continue
            n += 1
            if (user := self.embedded_user_item(obj, scraped_at)) is not None:
                yield user
            yield from self.track_found(track, response.meta.get("artist"), baseline,
                                        redo=bool(response.meta.get("redo")))
        request = self.next_page(response, page, callback)
        seen = response.meta.get("tracks_seen", 0) + n
        if request is not None:
            request.meta.update({k: response.meta[k] for k in ("artist_profile", "tracks_route", "baseline")
                                 if k in response.meta})
            request.meta["tracks_seen"] = seen
            request.meta["tracks_via"] = _stronger(response.meta.get("tracks_via"), response.meta.get("access_route"))
            yield request
            return
        yield from self.tracks_done(response.meta, seen, _stronger(response.meta.get("tracks_via"),
                                                                   response.meta.get("access_route")))

    def track_found(self, track: Any, artist: str | None, baseline: dict[int, StoredTrack] | None,
                    redo: bool = False) -> Iterator[Any]:
        """A listed track: its row now, or its comments first (the row after
        them), or nothing (a re-crawl keeping the stored row)."""
        if baseline is None:  # not a re-crawl
            # Hidden stats (null) may still hide comments: look anyway.
            plan = Plan.FULL
        else:
            plan = track_plan(track.comment_count, baseline.get(track.id), self.hidden_stats_due_before)
            self.count(f"soundscraping/recrawl/tracks/{plan.value}")
        if plan is Plan.KEEP:
            return
        if plan is Plan.STORE or (plan is Plan.FULL and track.comment_count == 0):
            yield track
            return
        stored = baseline.get(track.id) if baseline is not None else None
        meta = {"artist": artist, "track_id": track.id, "track": track, "track_stored": stored is not None,
                "comments_since": comments_since(stored) if plan is Plan.NEW and stored is not None else None,
                **({"redo": True} if redo else {})}
        yield self.paged_request(f"/tracks/{track.id}/comments", self.parse_comments,
                                 params={"threaded": 0, "sort": COMMENTS_SORT}, meta=meta,
                                 errback=self.on_comments_error)

    def tracks_done(self, meta: dict[str, Any], seen: int, access: str | None) -> Iterator[Any]:
        """The artist's last track page: log the route, store the profile."""
        route = meta.get("tracks_route", "tracks")
        # /tracks itself is named by how it got through (impersonate, browser, plain).
        name = (access or "plain") if route == "tracks" else route
        complete = route != "toptracks"
        self.count(f"soundscraping/access/soundcloud/artist_tracks/{name}")
        if complete:
            self.logger.info("Artist %r: %d tracks via %s", meta.get("artist"), seen, name)
        else:
            self.skip("tracks_incomplete", "Artist %r: only %d top tracks via toptracks (every other route was "
                      "refused); stored with tracks_complete=false", meta.get("artist"), seen)
        yield from self._profile(meta, complete)

    def on_tracks_error(self, failure: Failure) -> Iterator[Any]:
        """A route to an artist's tracks failed: an anti-bot block moves on to
        the next route; anything else (or the last route failing) leaves the
        artist incomplete, logged and counted."""
        request = failure.request
        meta = request.meta
        route = meta.get("tracks_route", "tracks")
        blocked = failure.check(HttpError) and failure.value.response.status == 403
        later = TRACKS_ROUTES[TRACKS_ROUTES.index(route) + 1:] if route in TRACKS_ROUTES else ()
        if blocked and later:
            # The refused request stays counted for the artist, as the next route's.
            self.count(f"soundscraping/access/soundcloud/refused/{route}")
            self.logger.warning("Artist %r: %s refused by the anti-bot check; trying %s", meta.get("artist"),
                                route, later[0])
            yield self.tracks_request(later[0], meta)
            return
        profile = self._failed_with(failure, self._profile(meta, False))
        self.skip("tracks_incomplete", "Artist %r: tracks incomplete (%s failed after %d tracks); stored with "
                  "tracks_complete=false", meta.get("artist"), route, meta.get("tracks_seen", 0))
        yield from profile

    @staticmethod
    def _profile(meta: dict[str, Any], complete: bool) -> Iterator[Any]:
        item = meta.get("artist_profile")
        if item is not None:
            item.tracks_complete = complete
            yield item

    @unit_step
    def parse_comments(self, response: Response) -> Iterator[Any]:
        page = self.read_page(response)
        if not hasattr(page, "collection"):
            if page is not None:
                yield page
            else:
                yield from self.comments_ended(response.meta, complete=False)
            return
        scraped_at = utc_now()
        created = []
        for obj in page.collection:
            try:
                comment = parse_comment_json(obj)
            except MalformedPage as exc:
                self.skip("bad_comment", "Comment skipped (%s): %s", self.context(response), exc)
                continue
            if comment.track_id is None:
                comment.track_id = response.meta.get("track_id")
            created.append(comment.created_at)
            yield comment
            if (user := self.embedded_user_item(obj, scraped_at)) is not None:
                yield user
        since = response.meta.get("comments_since")
        verdict = comments_page(created, since, response.meta.get("comments_last"))
        if not verdict.in_order:
            self.count("soundscraping/recrawl/comments_out_of_order")
            self.logger.warning("Comments of track %s are not newest first: reading them all",
                                response.meta.get("track_id"))
            since = None
        if not verdict.stop and (request := self.next_page(response, page, self.parse_comments)) is not None:
            request.meta.update({k: response.meta[k] for k in ("track", "track_stored") if k in response.meta})
            request.meta.update(comments_since=since, comments_last=verdict.last)
            yield request
            return
        if verdict.stop:
            self.count("soundscraping/recrawl/comments_stopped_early")
        yield from self.comments_ended(response.meta, complete=True)

    def on_comments_error(self, failure: Failure) -> Iterator[Any]:
        yield from self._failed_with(failure, self.comments_ended(failure.request.meta, complete=False))

    def _failed_with(self, failure: Failure, items: Iterable[Any]) -> list[Any]:
        """An errback's last ``items`` (rows it stores anyway), counted for the
        artist before its failed request is done: the unit cannot finish
        before their rows are stored."""
        ending = list(items)
        units = UnitTracker.for_crawler(self.crawler)
        for item in ending:
            units.item_sent(failure.request.meta.get("artist"), item)
        self.on_request_error(failure)
        return ending

    def comments_ended(self, meta: dict[str, Any], complete: bool) -> Iterator[Any]:
        """A track's comments were read to the end (or could not be): store
        its row.  A stored track whose comments could not all be read keeps
        its previous row, so the next re-crawl still sees its count change."""
        track = meta.get("track")
        if track is None:
            return
        if not complete and meta.get("track_stored"):
            self.skip("comments_incomplete", "Track %s: comments incomplete; its previous row is kept",
                      meta.get("track_id"))
            return
        yield track
