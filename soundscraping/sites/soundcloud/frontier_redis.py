"""The graph frontier of a distributed job, in Redis, behind the same
interface as the in-memory ``Frontier``.

Keys under ``<REDIS_KEY_PREFIX>:soundcloud_graph:`` (soundscraping.distributed.workqueue):
``queue`` is the frontier itself, a sorted set of unvisited accounts by score;
each page read raises its targets' scores with ZINCRBY (one Lua call per
page, which skips accounts done, leased or passed over); ``followers`` and
``names`` are hashes of what the pages said about each account.  A claim
takes the best account in one Lua step that also records its lease (see
WorkQueue.claim), passing over for good the accounts under min_followers
on its way; ``done`` holds the visits whose rows are committed.

Seeds go first: they are queued above any possible score (SEED_BASE minus
their rank) and are exempt from min_followers.  Redis errors are reported
once (one line) and close the crawl as ``redis_unavailable``; the methods
then answer as an empty frontier so the callbacks in flight end quietly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from redis.exceptions import RedisError

from soundscraping import distributed
from soundscraping.distributed.leases import LeaseKeeper
from soundscraping.distributed.workqueue import WorkQueue
from soundscraping.sites.soundcloud.frontier import AccountClaim

# Above any score an account can receive; a seed's rank is subtracted.
SEED_BASE = 1e15
T = TypeVar("T")


def guarded(default: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
    def wrap(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def call(self: RedisFrontier, *args: Any, **kwargs: Any) -> T:
            try:
                return method(self, *args, **kwargs)
            except RedisError as exc:
                distributed.lost_redis(self.crawler, exc)
                return default() if callable(default) else default
        return call
    return wrap


class RedisFrontier:
    def __init__(self, crawler: Any, spider_name: str, min_followers: int,
                 poll: Callable[[], None] | None = None):
        settings = crawler.settings
        self.crawler = crawler
        self.min_followers = min_followers
        self.redis = distributed.client(settings)
        self.queue = WorkQueue(self.redis, distributed.job_key(settings, spider_name), distributed.worker_id(settings),
                               settings.getfloat("DISTRIBUTED_LEASE_SECONDS", 120))
        self.keeper = LeaseKeeper(crawler, self.queue, "soundcloud_graph_visits", "user_id", poll=poll)
        self._seed_rank: dict[int, float] = {}
        self._followers: dict[int, int] = {}  # this worker's cache (sizes only grow stale, never wrong for long)

    def key(self, name: str) -> str:
        return self.queue.key(name)

    def start(self) -> None:
        self.redis.ping()  # fail now, in one line, rather than on the first page
        self.keeper.start()

    # -- what pages tell ---------------------------------------------------------------

    @guarded(None)
    def note_users(self, users: Iterable[tuple[int, int | None, str | None]]) -> None:
        followers, names = {}, {}
        for user_id, count, name in users:
            if count is not None:
                followers[user_id] = count
            if name:
                names[user_id] = name
        if not followers and not names:
            return
        self._followers.update(followers)
        with self.redis.pipeline(transaction=False) as pipe:
            if followers:
                pipe.hset(self.key("followers"), mapping=followers)
            for user_id, name in names.items():
                pipe.hsetnx(self.key("names"), user_id, name)
            pipe.execute()

    def note_user(self, user_id: int, followers: int | None, name: str | None = None) -> None:
        self.note_users([(user_id, followers, name)])

    @guarded(None)
    def add_many(self, weights: Mapping[int, float]) -> None:
        if weights:
            self.queue.offer(list(weights.items()), mode="incr")

    def add(self, user_id: int, weight: float) -> None:
        self.add_many({user_id: weight})

    @guarded(False)
    def add_seed(self, user_id: int, rank: int = 0) -> bool:
        if self.redis.sismember(self.key("done"), user_id):
            return False
        base = SEED_BASE - rank
        self._seed_rank[user_id] = base
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.sadd(self.key("exempt"), user_id).srem(self.key("passed"), user_id)
            pipe.execute()
        current = self.redis.zscore(self.key("queue"), user_id) or 0.0
        self.queue.offer([(user_id, base + (current if current < SEED_BASE / 2 else 0.0))], mode="raise")
        return True

    # -- visits ------------------------------------------------------------------------

    @guarded(None)
    def claim(self, max_total: int) -> AccountClaim | None:
        claims, expired = self.queue.claim(1, max_total=max_total, min_followers=self.min_followers)
        if expired:
            self.crawler.stats.inc_value("soundscraping/distributed/expired_leases_requeued", expired)
        if not claims:
            return None
        claim = claims[0]
        user_id = int(claim.unit)
        score = claim.score
        if score >= SEED_BASE / 2:
            score -= self._seed_rank.get(user_id, SEED_BASE)
        self.keeper.claimed(claim.unit)
        if claim.attempt > 1:
            self.crawler.stats.inc_value("soundscraping/distributed/reclaimed_accounts")
        return AccountClaim(user_id, max(score, 0.0), claim.position, claim.attempt)

    def visit_done(self, user_id: int) -> None:
        self.keeper.done(str(user_id))

    @guarded(None)
    def followers_of(self, user_id: int) -> int | None:
        if user_id in self._followers:
            return self._followers[user_id]
        value = self.redis.hget(self.key("followers"), user_id)
        return int(value) if value is not None else None

    @guarded(lambda: 0)
    def name_of(self, user_id: int) -> str | int:
        return self.redis.hget(self.key("names"), user_id) or user_id

    @guarded(False)
    def is_visited(self, user_id: int) -> bool:
        return bool(self.redis.sismember(self.key("done"), user_id))

    @guarded(dict)
    def counts(self) -> dict[str, int]:
        status = self.queue.status()
        return {"visited": status["done"], "in_progress": status["leased"], "queued": status["queued"],
                "passed_over": status["passed_over"]}

    @guarded(False)
    def waiting(self) -> bool:
        """Accounts leased by any worker: they may add to the frontier, or
        expire and need visiting again."""
        return self.queue.outstanding() > 0

    @guarded(list)
    def top_named(self, n: int = 5) -> list[tuple[str | int, float]]:
        raw = self.redis.zrevrange(self.key("queue"), 0, n * 4 + 16, withscores=True)
        if not raw:
            return []
        ids = [unit for unit, _ in raw]
        followers = self.redis.hmget(self.key("followers"), ids)
        names = self.redis.hmget(self.key("names"), ids)
        out: list[tuple[str | int, float]] = []
        for (unit, score), count, name in zip(raw, followers, names, strict=True):
            seed = score >= SEED_BASE / 2
            if not seed and (count is None or int(count) < self.min_followers):
                continue
            out.append((name or unit, 0.0 if seed else score))
            if len(out) == n:
                break
        return out

    # -- earlier runs ------------------------------------------------------------------

    def restore(self, visited: Iterable[int], scores: Iterable[tuple[int, float, int | None, str | None]],
                next_position: int = 0) -> None:
        """Fold the database's visits and scores into the shared frontier
        (every worker may do it: offers never re-queue an account done or
        leased, and keep the scores Redis already has)."""
        visited = list(visited)
        for start in range(0, len(visited), 10_000):
            self.redis.sadd(self.key("done"), *visited[start:start + 10_000])
        rows = [row for row in scores]
        self.note_users((user_id, followers, name) for user_id, _, followers, name in rows)
        self.queue.offer([(user_id, float(score)) for user_id, score, _, _ in rows], mode="nx")
        # The visit order carries on after the stored positions.
        self.redis.eval("local c = tonumber(redis.call('GET', KEYS[1]) or '0') "
                        "if c < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end return 0",
                        1, self.key("position"), next_position)

    def __len__(self) -> int:
        return int(self.counts().get("queued", 0))
