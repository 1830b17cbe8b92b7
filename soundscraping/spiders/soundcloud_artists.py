"""``scrapy crawl soundcloud_artists -a artists=a,b,c`` (permalinks, display
names or profile URLs, mixed) or ``-a artists_file=PATH`` (one per line):
each artist's profile, every track and DJ set, and every comment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from soundscraping.parsers import MalformedPage
from soundscraping.parsers.soundcloud import (
    classify_artist_ref,
    parse_comment_json,
    parse_object,
    parse_track_json,
    pick_user_by_name,
)
from soundscraping.pipelines import utc_now
from soundscraping.spider_args import Arg, ArgSpec, lines_of_file, names
from soundscraping.spiders.base import SoundCloudSpider
from soundscraping.units import UnitTracker, load_finished, unit_step


class SoundCloudArtistsSpider(SoundCloudSpider):
    name = "soundcloud_artists"
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

    async def start(self) -> AsyncIterator[Any]:
        if not await self.ensure_client_id():
            return
        done = await asyncio.to_thread(load_finished, self.crawler, self.name)
        todo = [ref for ref in self.artist_refs if ref not in done]
        if done:
            self.count("soundscraping/units/skipped", len(self.artist_refs) - len(todo))
            self.logger.info("Resuming the job: %d of %d artists were finished before and are skipped",
                             len(self.artist_refs) - len(todo), len(self.artist_refs))
        self.logger.info("Crawling %d artists", len(todo))
        units = UnitTracker.for_crawler(self.crawler)
        for ref in todo:
            units.request_sent(ref)
            yield self.artist_request(ref)

    def artist_request(self, ref: str) -> Request:
        kind, value = classify_artist_ref(ref)
        meta = {"artist": ref}
        if kind == "name":
            return self.api_request("/search/users", self.parse_artist_search,
                                    params={"q": value, "limit": 50, "linked_partitioning": 1}, meta=meta)
        url = value if kind == "url" else f"{self.web_url}/{value}"
        return self.api_request("/resolve", self.parse_artist, params={"url": url}, meta=meta, handle_404=True)

    # -- callbacks -----------------------------------------------------------------

    @unit_step
    def parse_artist(self, response: Response) -> Iterator[Any]:
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
        yield from self.artist_found(user, response)

    @unit_step
    def parse_artist_search(self, response: Response) -> Iterator[Any]:
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
        yield from self.artist_found(user, response)

    def artist_found(self, user: dict[str, Any], response: Response) -> Iterator[Any]:
        item = self.user_item(user, scraped_at=utc_now())
        self.count("soundscraping/artists/found")
        self.logger.info("Artist %r is user %d (%s): %s tracks", response.meta["artist"], item.id,
                         item.permalink, item.track_count)
        yield item
        yield self.paged_request(f"/users/{item.id}/tracks", self.parse_tracks,
                                 meta={"artist": response.meta["artist"], "user_id": item.id})

    @unit_step
    def parse_tracks(self, response: Response) -> Iterator[Any]:
        page = self.read_page(response)
        if not hasattr(page, "collection"):
            if page is not None:
                yield page
            return
        scraped_at, rule = utc_now(), self.dj_set_rule()
        for obj in page.collection:
            if obj.get("kind") != "track":
                continue
            try:
                track = parse_track_json(obj, rule, scraped_at=scraped_at)
            except MalformedPage as exc:
                self.skip("bad_track", "Track skipped (%s): %s", self.context(response), exc)
                continue
            yield track
            if (user := self.embedded_user_item(obj, scraped_at)) is not None:
                yield user
            # Hidden stats (null) may still hide comments: look anyway.
            if track.comment_count != 0:
                yield self.paged_request(f"/tracks/{track.id}/comments", self.parse_comments,
                                         params={"threaded": 0},
                                         meta={"artist": response.meta.get("artist"), "track_id": track.id})
        if (request := self.next_page(response, page, self.parse_tracks)) is not None:
            yield request

    @unit_step
    def parse_comments(self, response: Response) -> Iterator[Any]:
        page = self.read_page(response)
        if not hasattr(page, "collection"):
            if page is not None:
                yield page
            return
        scraped_at = utc_now()
        for obj in page.collection:
            try:
                comment = parse_comment_json(obj)
            except MalformedPage as exc:
                self.skip("bad_comment", "Comment skipped (%s): %s", self.context(response), exc)
                continue
            if comment.track_id is None:
                comment.track_id = response.meta.get("track_id")
            yield comment
            if (user := self.embedded_user_item(obj, scraped_at)) is not None:
                yield user
        if (request := self.next_page(response, page, self.parse_comments)) is not None:
            yield request
