"""``scrapy crawl soundcloud_graph -a seeds=a,b -a max_accounts=N
-a min_followers=250 -a per_kind_limit=500``: who likes, reposts, follows and
comments on whom, crawled outward from seed accounts.

Each visited account's most recent ``per_kind_limit`` likes, reposts,
followings and comments become ``soundcloud_interactions`` rows.  The seeds
are visited first, then always the unvisited account with the highest
interaction score received so far (see ``soundscraping.sites.soundcloud.frontier``), skipping
accounts with fewer than ``min_followers`` followers (known from the objects
already fetched: no request is spent on sizing an account).  Visits are
recorded in ``soundcloud_graph_visits`` with their edges, so a re-run (or a
resumed job) rebuilds the frontier from the database and carries on; the
count in ``max_accounts`` includes accounts visited by earlier runs.
``-a recrawl_after=30d``: visits finished longer ago than that count as not
visited (such accounts are visited again, in score order, and appended).

With REDIS_URL set, the frontier is shared by every worker started with the
same arguments (``frontier_redis.RedisFrontier``): each claims the best
account with a lease, and max_accounts and min_followers hold for the job.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure
from w3lib.url import add_or_replace_parameter

from soundscraping import distributed
from soundscraping.items import GraphVisit, InteractionPage
from soundscraping.sites import MalformedPage
from soundscraping.sites.soundcloud.frontier import AccountClaim, Frontier
from soundscraping.sites.soundcloud.parsers import classify_artist_ref, parse_interactions, parse_object
from soundscraping.spider_args import Arg, ArgSpec, integer, lines_of_file, names
from soundscraping.spiders.base import SoundCloudSpider
from soundscraping.storage import StorageError, connected, graph_scores, graph_visits, interaction_weights
from soundscraping.timestamps import utc_now
from soundscraping.units import recrawl_cutoff

# api-v2 list behind each interaction kind.
LISTS = {
    "like": "/users/{id}/likes",
    "repost": "/stream/users/{id}/reposts",
    "follow": "/users/{id}/followings",
    "comment": "/users/{id}/comments",
}


@dataclass
class Visit:
    user_id: int
    position: int
    score: float
    followers: int | None
    started_at: str
    attempt: int = 1
    open_lists: set[str] = field(default_factory=lambda: set(LISTS))
    edges: int = 0


class SoundCloudGraphSpider(SoundCloudSpider):
    name = "soundcloud_graph"
    shares_work = True

    arguments = ArgSpec((
        Arg("seeds", "NAME,NAME,...", names, []),
        Arg("seeds_file", "PATH", lines_of_file, []),
        Arg("max_accounts", "N", integer(minimum=1), 1000),
        Arg("min_followers", "N", integer(), 250),
        Arg("per_kind_limit", "N", integer(minimum=1), 500),
    ), required_any=("seeds", "seeds_file"))
    seeds: list[str]
    seeds_file: list[str]
    max_accounts: int
    min_followers: int
    per_kind_limit: int

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.seed_refs = list(dict.fromkeys(self.seeds + self.seeds_file))
        self.frontier: Any = Frontier(min_followers=self.min_followers)
        self.visits: dict[int, Visit] = {}
        self.seeds_resolving = 0
        self._started = False
        self._last_progress = 0.0

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SoundCloudGraphSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        if distributed.enabled(crawler.settings):
            from soundscraping.sites.soundcloud.frontier_redis import RedisFrontier

            spider.frontier = RedisFrontier(crawler, spider.name, spider.min_followers, poll=spider.poll)
        return spider

    @property
    def weights(self) -> dict[str, float]:
        return interaction_weights(self.settings.getdict("GRAPH_WEIGHTS"))

    # -- start -----------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        if not await self.ensure_client_id():
            return
        try:
            self.frontier.start()
            await self.restore_frontier()
        except distributed.RedisError as exc:
            distributed.lost_redis(self.crawler, exc)
            return
        visited = self.frontier.counts().get("visited", 0)
        if visited >= self.max_accounts:
            self.count("soundscraping/units/skipped", visited)  # nothing due: not a failed crawl
            self.logger.info("max_accounts=%d already visited (%d so far): nothing to do",
                             self.max_accounts, visited)
            return
        self._started = True
        for rank, ref in enumerate(self.seed_refs):
            kind, value = classify_artist_ref(ref)
            url = value if kind == "url" else f"{self.web_url}/{value}"
            self.seeds_resolving += 1
            request = self.api_request("/resolve", self.parse_seed, params={"url": url},
                                       meta={"account": ref, "seed_rank": rank}, handle_404=True,
                                       errback=self.seed_failed)
            # Every worker resolves the seeds itself: the shared dupefilter must not drop them.
            yield request.replace(dont_filter=True)

    async def restore_frontier(self) -> None:
        """Visited accounts and received scores from earlier runs."""
        if not self.settings.getbool("STORAGE_ENABLED", True):
            return
        weights, url = self.weights, self.settings.get("DATABASE_URL")
        # -a recrawl_after: visits older than that count as not visited (visited again, by score).
        after = recrawl_cutoff(self.recrawl_after)

        def load() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
            with connected(url) as db:
                return graph_visits(db, finished_after=after), graph_scores(db, weights)

        try:
            visited, scores = await asyncio.to_thread(load)
        except StorageError as exc:
            self.logger.warning("Could not read earlier graph visits (%s); starting a fresh frontier", exc)
            return
        next_position = max((row[1] or 0 for row in visited), default=0) + 1 if visited else 0
        await asyncio.to_thread(self.frontier.restore, (row[0] for row in visited), scores, next_position)
        if visited:
            self.logger.info("Resuming the graph: %d accounts already visited, %d in the frontier",
                             len(visited), len(self.frontier))

    def parse_seed(self, response: Response) -> Iterator[Any]:
        self.seeds_resolving -= 1
        if response.status == 404:
            self.skip("seed_not_found", "Seed %r not found on SoundCloud (404 from resolve)", response.meta["account"])
        else:
            try:
                user = parse_object(response.body, kind="user")
            except MalformedPage as exc:
                self.skip("malformed_json", "Seed %r skipped: %s", response.meta["account"], exc)
            else:
                yield self.user_item(user, scraped_at=utc_now())
                self.frontier.note_user(user["id"], user.get("followers_count"), user.get("permalink"))
                if not self.frontier.add_seed(user["id"], response.meta.get("seed_rank", 0)):
                    self.logger.info("Seed %r was visited by an earlier run", response.meta["account"])
        yield from self.fill()

    def seed_failed(self, failure: Failure) -> Iterator[Any]:
        self.seeds_resolving -= 1
        self.on_request_error(failure)
        yield from self.fill()

    # -- visits ----------------------------------------------------------------------

    def fill(self) -> Iterator[Request]:
        """Start visits until GRAPH_CONCURRENT_ACCOUNTS are under way: seeds
        first, then the best of the frontier as scored right now."""
        limit = self.settings.getint("GRAPH_CONCURRENT_ACCOUNTS", 8)
        while len(self.visits) < limit and not self.seeds_resolving:  # seeds go first: wait for them
            claim: AccountClaim | None = self.frontier.claim(self.max_accounts)
            if claim is None:
                return
            yield from self.begin_visit(claim.user_id, claim.score, self.frontier.followers_of(claim.user_id),
                                        claim.position, claim.attempt)

    def begin_visit(self, user_id: int, score: float, followers: int | None, position: int = 0,
                    attempt: int = 1) -> Iterator[Request]:
        visit = Visit(user_id, position, score, followers, utc_now(), attempt)
        self.visits[user_id] = visit
        self.logger.debug("Visiting %s (score %.0f, %s followers%s)", self.frontier.name_of(user_id), score,
                          followers, f", attempt {attempt}" if attempt > 1 else "")
        # A visit redone after its first holder died asks the same pages again.
        redo = {"redo": True} if attempt > 1 else {}
        for kind, path in LISTS.items():
            yield self.paged_request(path.format(id=user_id), self.parse_list,
                                     params={"limit": min(self.page_size, self.per_kind_limit)},
                                     meta={"account": user_id, "kind": kind, "remaining": self.per_kind_limit, **redo},
                                     errback=self.list_failed)

    def parse_list(self, response: Response) -> Iterator[Any]:
        account, kind = response.meta["account"], response.meta["kind"]
        page = self.read_page(response)
        if not hasattr(page, "collection"):
            if page is not None:
                yield page  # a retry of a malformed page
            else:
                yield from self.list_done(account, kind)
            return
        found = parse_interactions(kind, account, page.collection)
        if found.deleted:
            self.count("soundscraping/graph/deleted_objects", found.deleted)
        weight = self.weights[kind]
        scraped_at = utc_now()
        users = []
        self.frontier.note_users((user["id"], user.get("followers_count"), user.get("permalink"))
                                 for user in found.users)
        for user in found.users:
            item = self.user_item(user, scraped_at) if kind == "follow" else \
                self.embedded_user_item({"user": user}, scraped_at)
            if item is not None:
                item.file_urls = []  # the graph keeps no images
                users.append(item)
        received: dict[int, float] = {}
        for edge in found.edges:
            received[edge.target_user_id] = received.get(edge.target_user_id, 0.0) + weight
        self.frontier.add_many(received)
        visit = self.visits.get(account)
        if visit is None:
            # A page queued by an earlier run of this job: keep its edges.
            self.count("soundscraping/graph/orphan_pages")
        else:
            visit.edges += len(found.edges)
        yield InteractionPage(account, kind, found.edges, users)

        remaining = response.meta["remaining"] - len(page.collection)
        request = self.next_page(response, page, self.parse_list) if remaining > 0 and visit else None
        if request is None:
            yield from self.list_done(account, kind)
            return
        request.meta["remaining"] = remaining
        yield request.replace(url=add_or_replace_parameter(request.url, "limit",
                                                           str(min(self.page_size, remaining))))

    def list_failed(self, failure: Failure) -> Iterator[Any]:
        self.on_request_error(failure)
        meta = failure.request.meta
        yield from self.list_done(meta["account"], meta["kind"])

    def list_done(self, account: int, kind: str) -> Iterator[Any]:
        visit = self.visits.get(account)
        if visit is None:
            return
        visit.open_lists.discard(kind)
        if visit.open_lists:
            return
        del self.visits[account]
        self.count("soundscraping/graph/accounts_visited")
        yield GraphVisit(account, visit.position, visit.score, visit.followers, visit.edges, visit.started_at,
                         utc_now())
        self.frontier.visit_done(account)  # shared: finished once this row is committed
        self.log_progress()
        yield from self.fill()

    def on_idle(self) -> None:
        """Safety net: when nothing is in flight but the frontier still has
        accounts to visit, start them."""
        requests = list(self.fill())
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests or self.waiting_for_work():
            raise DontCloseSpider
        self.log_progress(force=True)

    def waiting_for_work(self) -> bool:
        """Distributed: nothing in hand, but other workers hold leases that
        may add accounts or expire (then this worker redoes them)."""
        return self._started and not self.visits and self.frontier.waiting()

    def poll(self) -> None:
        """Called every DISTRIBUTED_POLL_SECONDS by the lease keeper."""
        if self._started and self.crawler.engine is not None and self.crawler.engine.spider is not None:
            for request in self.fill():
                self.crawler.engine.crawl(request)

    def log_progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < self.settings.getfloat("GRAPH_PROGRESS_INTERVAL", 30):
            return
        self._last_progress = now
        stats = self.crawler.stats
        top = ", ".join(f"{name} ({score:.0f})" for name, score in self.frontier.top_named(5))
        counts = self.frontier.counts()
        self.logger.info(
            "Graph: %d/%d accounts visited (%d in progress), %d queued in the frontier, %d passed over as too small,"
            " %d edges stored; next: %s", counts.get("visited", 0), self.max_accounts, counts.get("in_progress", 0),
            counts.get("queued", 0), counts.get("passed_over", 0),
            stats.get_value("soundscraping/stored/soundcloud_interactions", 0), top or "-")
