"""``scrapy crawl beatport_tracks``: the Beatport release of stored SoundCloud tracks.

- default: every stored SoundCloud track (``soundcloud_tracks``) that is not a
  DJ set and was never searched on Beatport, or whose last search
  (``beatport_matches.searched_at``) is older than ``BEATPORT_RESEARCH_DAYS``
  (``-a recrawl_after=30d`` sets that age for one run);
- ``-a track_ids=1,2``: those SoundCloud tracks, whatever their state;
- ``-a query="Artist - Title"``: an ad-hoc lookup (a match is stored in
  ``beatport_tracks`` without a SoundCloud id; nothing in beatport_matches);
- ``-a limit=N``: at most N tracks this run;
- ``-a previews=true``: also store each matched track's 2-minute preview MP3
  (``sample_url``) through the media pipeline (``media_files`` role
  ``preview``), for ``soundscraping audio-features``.

Per track the cleaned title is searched on ``/search/tracks`` (a second,
title-only search when the first finds nothing acceptable), the candidates
are scored (``soundscraping.sites.beatport.matching``) and the best one at or above
``BEATPORT_MATCH_THRESHOLD`` is read from its track page's ``__NEXT_DATA__``
into ``beatport_tracks``, with its waveform and artwork images.  Every finished
search is recorded in ``beatport_matches`` (``matched`` or ``no_match``), so
a track is not searched again every run; a search that could not be
finished (blocked, failed, a page not understood) records nothing and is
tried again next run.  A search is the unit of work: it counts as done once
its ``beatport_matches`` row and, for a match, its ``beatport_tracks`` row
are both stored (``storage.queries.tracks_to_match``), so a killed crawl
run again (JOBDIR or not) searches only what it had not finished.

With REDIS_URL set (soundscraping.distributed.shared_units), every worker
offers the tracks it reads from the database (the same query) to the job's
queue, and each search (unit: the SoundCloud track id) is claimed by one
worker with a lease.  It is finished once its ``crawl_units`` row is
committed, which the store pipeline writes behind the unit's rows: the
``beatport_matches`` row and, for a match, the ``beatport_tracks`` row it
names (also when another upload of this worker already fetched that page).
A worker that dies before that loses its lease and the search is redone.
A track with nothing to search for makes no request: its no_match row is
recorded by the one worker that takes it first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from scrapy import Request
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from soundscraping.distributed.shared_units import SharedUnits
from soundscraping.items import BeatportMatch
from soundscraping.sites import MalformedPage
from soundscraping.sites.beatport.antibot import cloudflare_challenge, is_challenge_page
from soundscraping.sites.beatport.matching import Scored, Upload, best_match, parse_upload, search_queries
from soundscraping.sites.beatport.parsers import (
    candidate_from_search,
    missing_fields,
    next_data,
    search_results,
    slugify,
    track_from_page,
    track_item,
    track_url,
)
from soundscraping.spider_args import Arg, ArgSpec, boolean, integer, numbers
from soundscraping.spiders.base import SoundscrapingSpider
from soundscraping.storage import StorageError, connected, tracks_by_id, tracks_to_match
from soundscraping.timestamps import utc_now, utc_timestamp
from soundscraping.units import UnitTracker, recrawl_cutoff


@dataclass
class Target:
    """One SoundCloud track (or ad-hoc query) being looked up."""

    soundcloud_track_id: int | None
    title: str  # as given, for log lines
    upload: Upload
    queries: list[str]
    tried: int = 0  # index of the query under way
    candidates: int = 0
    best: Scored | None = None


@dataclass
class _Waiting:
    target: Target
    match: Scored
    query: str


@dataclass
class _TrackPages:
    """Track pages asked for, so two SoundCloud uploads of one release cost
    one page request."""

    waiting: dict[int, list[_Waiting]] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)
    # Distributed mode: the stored items by Beatport id, so a later upload's
    # unit can wait for one still in the pipelines.
    items: dict[int, Any] = field(default_factory=dict)


class BeatportTracksSpider(SoundscrapingSpider):
    name = "beatport_tracks"
    shares_work = True

    arguments = ArgSpec((
        Arg("track_ids", "ID,ID,...", numbers, []),
        Arg("query", "TEXT", lambda text: text.strip() or None, attr="query_text"),
        Arg("limit", "N", integer(minimum=1)),
        Arg("previews", "true|false", boolean, False),
    ))
    track_ids: list[int]
    query_text: str | None
    limit: int | None
    previews: bool

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.pages = _TrackPages()
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> BeatportTracksSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Distributed mode: the searches are the job's units (not for -a query).
        if not spider.query_text:
            spider.shared = SharedUnits.for_spider(spider, spider.claimed_search)
        return spider

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        # Politeness for this site (documented in settings.py); -s DOWNLOAD_DELAY=...
        # and -s CONCURRENT_REQUESTS_PER_DOMAIN=... still win (higher priority).
        per_host = settings.getint("BEATPORT_CONCURRENT_REQUESTS", 1)
        settings.set("DOWNLOAD_DELAY", settings.getfloat("BEATPORT_DOWNLOAD_DELAY", 1.5), priority="spider")
        settings.set("RANDOMIZE_DOWNLOAD_DELAY", True, priority="spider")
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", per_host, priority="spider")
        # Few requests wait in the downloader (room for the images besides):
        # cookies are set when a request is queued, so every request queued
        # before a browser pass meets the challenge once more.
        settings.set("CONCURRENT_REQUESTS", per_host + 2, priority="spider")

    @property
    def base_url(self) -> str:
        return self.settings.get("BEATPORT_URL").rstrip("/")

    # -- start --------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        if self.query_text:
            self.logger.info("Looking up %r on Beatport", self.query_text)
            target = self.make_target(None, self.query_text, None, None)
            if target.queries:
                yield self.search_request(target)
            else:
                self.skip("unsearchable_title", "Nothing to search for in %r", self.query_text)
            return
        if not self.settings.getbool("STORAGE_ENABLED", True):
            self.logger.error("beatport_tracks reads SoundCloud tracks from the database: STORAGE_ENABLED is off "
                              "(use -a query=\"Artist - Title\" for a lookup without it)")
            return
        try:
            rows = await asyncio.to_thread(self.load_rows)
        except StorageError as exc:
            self.logger.error("Cannot read SoundCloud tracks from the database: %s", exc)
            return
        if self.limit is not None:
            rows = rows[: self.limit]
        self.count("soundscraping/beatport/tracks_to_search", len(rows))
        self.logger.info("Searching Beatport for %d SoundCloud tracks", len(rows))
        if self.shared is not None:
            for output in await self.start_shared(rows):
                yield output
            return
        for track_id, title, duration_ms, username in rows:
            target = self.make_target(track_id, title or "", username, duration_ms)
            yield self.search_request(target) if target.queries else self.unsearchable(target)

    # -- distributed mode: searches claimed from the job's queue ----------------------

    async def start_shared(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        """Offer the searchable tracks (in id order, with what a search
        needs), then claim.  A track with nothing to search for makes no
        request and is no unit: every worker that reads it records its
        no_match row (the upsert keeps one), so a worker dying loses none."""
        outputs: list[Any] = []
        searchable = []
        for row in rows:
            target = self.make_target(row[0], row[1] or "", row[3], row[2])
            if target.queries:
                searchable.append(row)
            else:
                outputs.append(self.unsearchable(target))
        outputs += await self.shared.start([str(row[0]) for row in searchable],
                                           payloads=[list(row[1:]) for row in searchable])
        return outputs

    def unsearchable(self, target: Target) -> BeatportMatch:
        """Nothing to search for ("🔥🔥", "[FREE DL]"): recorded, not retried every run."""
        self.count("soundscraping/beatport/unsearchable_title")
        self.logger.info("SoundCloud track %d %r has no title to search for", target.soundcloud_track_id,
                         target.title)
        return self.match_row(target, None, query="")

    def claimed_search(self, unit: str, payload: Any, redo: bool) -> list[Request]:
        """A claimed track's first search (its title, duration and uploader
        came with it from the worker that offered it)."""
        title, duration_ms, username = payload or (None, None, None)
        target = self.make_target(int(unit), title or "", username, duration_ms)
        if not target.queries:
            return []
        UnitTracker.for_crawler(self.crawler).request_sent(unit)
        return [self.search_request(target)]

    @property
    def units(self) -> UnitTracker | None:
        """The unit counts, in distributed mode only (without REDIS_URL a
        search's rows are what says it is done: nothing else is recorded)."""
        return UnitTracker.for_crawler(self.crawler) if self.shared is not None else None

    def unit_of(self, target: Target) -> str | None:
        return str(target.soundcloud_track_id) if target.soundcloud_track_id is not None else None

    def load_rows(self) -> list[tuple[Any, ...]]:
        """(id, title, duration_ms, uploader name) of the tracks to look up."""
        with connected(self.settings.get("DATABASE_URL")) as db:
            if self.track_ids:
                rows = tracks_by_id(db, self.track_ids)
                missing = set(self.track_ids) - {r[0] for r in rows}
                for track_id in sorted(missing):
                    self.skip("track_not_in_database", "SoundCloud track %d is not in soundcloud_tracks", track_id)
                return rows
            if self.recrawl_after is not None:  # -a recrawl_after: this run's re-search age
                cutoff = recrawl_cutoff(self.recrawl_after)
            else:
                days = self.settings.getint("BEATPORT_RESEARCH_DAYS", 180)
                cutoff = utc_timestamp(datetime.now(UTC) - timedelta(days=days)) if days > 0 else None
            return tracks_to_match(db, searched_before=cutoff)

    def make_target(self, track_id: int | None, title: str, uploader: str | None,
                    duration_ms: int | None) -> Target:
        upload = parse_upload(title, uploader, duration_ms)
        return Target(track_id, title, upload, search_queries(upload))

    # -- searching -------------------------------------------------------------------------

    def search_request(self, target: Target) -> Request:
        query = target.queries[target.tried]
        per_page = self.settings.getint("BEATPORT_SEARCH_PER_PAGE", 25)
        # Hyphenated per-page, as the site spells it.
        url = f"{self.base_url}/search/tracks?" + urlencode({"q": query, "page": 1, "per-page": per_page})
        meta = {"target": target, "query": query, **self.context_meta(target)}
        # Two uploads may need the same search: each target gets its own answer.
        return Request(url, callback=self.parse_search, errback=self.request_failed, meta=meta, dont_filter=True)

    def parse_search(self, response: Response) -> Iterator[Any]:
        target: Target = response.meta["target"]
        yield from self.counted(self.read_search(response), answered=[self.unit_of(target)])

    def counted(self, outputs: Iterator[Any], answered: list[str | None]) -> Iterator[Any]:
        """Distributed mode: what a callback yields counted for its units (a
        match row for its track, a further search for its target), then the
        units of the response (``answered``) counted answered.  Not when the
        callback raises (blocked: the crawl stops and gives the units back)."""
        units = self.units
        for output in outputs:
            if units is not None:
                if isinstance(output, BeatportMatch):
                    units.item_sent(str(output.soundcloud_track_id), output)
                elif isinstance(output, Request) and "target" in output.meta:
                    units.request_sent(self.unit_of(output.meta["target"]))
            yield output
        if units is not None:
            for unit in answered:
                units.request_done(unit)

    def read_search(self, response: Response) -> Iterator[Any]:
        target: Target = response.meta["target"]
        query: str = response.meta["query"]
        self.count("soundscraping/beatport/searches")
        try:
            items = search_results(self.page_data(response))
            if items is None:
                raise MalformedPage("no search results in __NEXT_DATA__")
        except MalformedPage as exc:
            # A changed page shape: nothing is recorded, the track is searched
            # again next run (when the parser has been fixed).
            self.skip("changed_page", "Beatport search page not understood for %r (%s): %s",
                      target.title, response.url, exc)
            return
        candidates = []
        for rank, item in enumerate(items):
            candidate = candidate_from_search(item, rank)
            if candidate is None:
                self.count("soundscraping/beatport/bad_candidate")
                continue
            candidates.append(candidate)
        if not candidates:
            self.count("soundscraping/beatport/empty_search")
        self.count("soundscraping/beatport/candidates", len(candidates))
        target.candidates += len(candidates)
        threshold = self.settings.getfloat("BEATPORT_MATCH_THRESHOLD", 0.75)
        match, best = best_match(target.upload, candidates, threshold)
        if best is not None and (target.best is None or best.score > target.best.score):
            target.best = best
        if match is not None:
            yield from self.fetch_track(target, match, query)
        elif target.tried + 1 < len(target.queries):
            target.tried += 1
            yield self.search_request(target)
        else:
            self.count("soundscraping/beatport/no_match")
            best_text = (f"; best candidate {target.best.candidate.display!r} scored {target.best.score:.2f}"
                         if target.best else "")
            self.logger.info("No Beatport match for %s %r (%d candidates%s)", self.who(target), target.title,
                             target.candidates, best_text)
            if target.soundcloud_track_id is not None:
                yield self.match_row(target, None, query=" | ".join(target.queries))

    def fetch_track(self, target: Target, match: Scored, query: str) -> Iterator[Any]:
        track_id = match.candidate.track_id
        units = self.units
        if track_id in self.pages.done:
            # Already stored in this crawl (another upload of the same release).
            self.count("soundscraping/beatport/matched")
            item = self.pages.items.get(track_id)
            if units is not None and item is not None and units.in_flight(item):
                units.item_sent(self.unit_of(target), item)  # the row it names is not stored yet
            if target.soundcloud_track_id is not None:
                yield self.match_row(target, match, query=query)
            return
        waiting = self.pages.waiting.setdefault(track_id, [])
        waiting.append(_Waiting(target, match, query))
        if units is not None:
            units.request_sent(self.unit_of(target))  # it waits for the track page's answer
        if len(waiting) > 1:
            return
        # The search gives no slug: a guessed one costs at most a redirect.
        url = track_url(self.base_url, slugify(match.candidate.name), track_id)
        meta = {"beatport_id": track_id, "handle_httpstatus_list": [404], **self.context_meta(target)}
        yield Request(url, callback=self.parse_track, errback=self.request_failed, meta=meta, dont_filter=True)

    def parse_track(self, response: Response) -> Iterator[Any]:
        waiting = self.pages.waiting.pop(response.meta["beatport_id"], [])
        yield from self.counted(self.read_track(response, waiting), answered=[self.unit_of(w.target) for w in waiting])

    def read_track(self, response: Response, waiting: list[_Waiting]) -> Iterator[Any]:
        beatport_id: int = response.meta["beatport_id"]
        if response.status == 404:
            self.skip("track_not_found", "Beatport track %d is gone (404 at %s); searched again next run",
                      beatport_id, response.url)
            return
        try:
            track = track_from_page(self.page_data(response), beatport_id)
            slug = track.get("slug") if isinstance(track.get("slug"), str) else None
            url = track_url(self.base_url, slug, beatport_id) if slug else response.url
            item = track_item(track, url=url, base_url=self.base_url, scraped_at=utc_now())
        except MalformedPage as exc:
            self.skip("changed_page", "Beatport track page not understood (%s): %s; nothing stored",
                      response.url, exc)
            return
        if missing := missing_fields(track):
            for name in missing:
                self.count(f"soundscraping/beatport/missing_field/{name}")
            self.logger.info("Beatport track %d has no %s (stored as NULL)", beatport_id, ", ".join(missing))
        self.pages.done.add(beatport_id)
        if not waiting:
            return
        if self.previews:
            if item.sample_url:
                item.file_urls.append(item.sample_url)
            else:
                self.count("soundscraping/beatport/no_preview")
        best = max(waiting, key=lambda w: w.match.score)
        item.soundcloud_track_id = best.target.soundcloud_track_id
        item.match_score = best.match.score
        if (units := self.units) is not None:
            # The row every waiting upload's match names: part of each unit.
            self.pages.items[beatport_id] = item
            for w in waiting:
                units.item_sent(self.unit_of(w.target), item)
        yield item
        for w in waiting:
            self.count("soundscraping/beatport/matched")
            self.logger.info("Matched %s %r -> Beatport %d %r (score %.2f)", self.who(w.target), w.target.title,
                             beatport_id, w.match.candidate.display, w.match.score)
            if w.target.soundcloud_track_id is not None:
                yield self.match_row(w.target, w.match, query=w.query)

    def page_data(self, response: Response) -> dict[str, Any]:
        """The page's __NEXT_DATA__; a challenge served in its place (with a
        200) stops the crawl like a 403 one."""
        try:
            return next_data(response.body)
        except MalformedPage:
            if is_challenge_page(response.body):
                raise self.blocked(response.url) from None
            raise

    # -- outcomes ----------------------------------------------------------------------------

    def match_row(self, target: Target, match: Scored | None, *, query: str) -> BeatportMatch:
        assert target.soundcloud_track_id is not None
        if match is None:
            return BeatportMatch(soundcloud_track_id=target.soundcloud_track_id, status="no_match",
                                 match_score=target.best.score if target.best else None, query=query,
                                 candidates=target.candidates, searched_at=utc_now())
        return BeatportMatch(soundcloud_track_id=target.soundcloud_track_id, status="matched",
                             beatport_track_id=match.candidate.track_id, match_score=match.score, query=query,
                             candidates=target.candidates, searched_at=utc_now())

    @staticmethod
    def context_meta(target: Target) -> dict[str, Any]:
        """Whom a request is for, in log lines (see SoundscrapingSpider.context)."""
        if target.soundcloud_track_id is None:
            return {"song": target.title}
        return {"track_id": target.soundcloud_track_id}

    @staticmethod
    def who(target: Target) -> str:
        if target.soundcloud_track_id is None:
            return "query"
        return f"SoundCloud track {target.soundcloud_track_id}"

    def request_failed(self, failure: Failure) -> None:
        request = failure.request
        beatport_id = request.meta.get("beatport_id")
        waiting = self.pages.waiting.pop(beatport_id, []) if beatport_id is not None else []
        if failure.check(HttpError) and cloudflare_challenge(failure.value.response):
            raise self.blocked(request.url)
        # Nothing recorded: the track is searched again next run.
        self.on_request_error(failure)
        if (units := self.units) is not None:
            answered = [w.target for w in waiting] if beatport_id is not None else [request.meta["target"]]
            for target in answered:
                units.request_done(self.unit_of(target))

    def blocked(self, url: str) -> CloseSpider:
        """Beatport's challenge was not passed (the anti-bot middleware has
        said why): every further request would be blocked too, so stop."""
        self.count("soundscraping/beatport/blocked")
        if not self.stopping:
            self.stopping = True
            self.logger.error("Beatport answers with its anti-bot challenge and no browser pass got through (%s); "
                              "stopping. Tracks not searched yet are searched on the next run.", url)
        return CloseSpider("antibot_blocked")

    def closed(self, reason: str) -> None:
        stats = self.crawler.stats
        self.logger.info(
            "Beatport: %d searches, %d matched, %d without a match (%s)",
            stats.get_value("soundscraping/beatport/searches", 0),
            stats.get_value("soundscraping/beatport/matched", 0),
            stats.get_value("soundscraping/beatport/no_match", 0), reason)

