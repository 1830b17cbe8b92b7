"""End to end, distributed mode: several `scrapy crawl soundcloud_graph`
workers share one Redis frontier (REDIS_URL) against a replica graph, into
one real PostgreSQL database."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from replicas.soundcloud import GraphWorld, GraphWorldConfig, Quirks, SoundCloudReplica
from tests.crawl import REPO, count_rows, finish, query, start_crawl, wait_until
from tests.distributed import RedisJob, private_redis, run_workers
from tests.test_soundcloud_graph_e2e import (
    _LIST_PATH,
    FAST,
    expected_edges,
    nth_account_first_list,
    site_env,
    stored_edges,
)

WORLD = GraphWorldConfig(accounts=40, population=500, likes_per_account=30, reposts_per_account=15,
                         followings_per_account=20, comments_per_account=8)
MIN_FOLLOWERS = 500  # about half of the 40 accounts with lists are smaller
PER_KIND_LIMIT = 30


def crawl_args(seeds: list[str], max_accounts: int) -> dict[str, str]:
    return {"seeds": ",".join(seeds), "max_accounts": str(max_accounts), "min_followers": str(MIN_FOLLOWERS),
            "per_kind_limit": str(PER_KIND_LIMIT)}


def visits(database_url: str) -> list[tuple[int, int, int | None]]:
    return query(database_url, "SELECT user_id, position, followers_count FROM soundcloud_graph_visits")


def check_graph(world: GraphWorld, pg_url: str, seeds: set[int], max_accounts: int) -> set[int]:
    rows = visits(pg_url)
    visited = {user_id for user_id, _, _ in rows}
    assert len(rows) == max_accounts == len(visited), "exactly max_accounts visits, none twice"
    assert len({position for _, position, _ in rows}) == len(rows), "one place each in the visit order"
    assert seeds <= visited
    small = {user_id for user_id, _, followers in rows if (followers or 0) < MIN_FOLLOWERS} - seeds
    assert not small, f"accounts under min_followers visited: {small}"
    edges = stored_edges(pg_url)
    assert len(edges) == len(set(edges)), "every edge stored once"
    assert set(edges) == expected_edges(world, visited, PER_KIND_LIMIT), "every edge of every visited account"
    return visited


def test_three_workers_share_one_frontier(tmp_path: Path, pg_url: str, redis_job: RedisJob) -> None:
    world = GraphWorld(WORLD)
    seeds = world.seeds(2)
    args = crawl_args(seeds, 12)
    settings = {**FAST, **redis_job.settings, "DATABASE_URL": pg_url, "GRAPH_CONCURRENT_ACCOUNTS": 2,
                "STORAGE_FLUSH_SECONDS": 0.5}
    with SoundCloudReplica(world, Quirks(latency_ms=20)) as replica:
        results = run_workers(3, "soundcloud_graph", tmp_path, args=args, settings=settings, env=site_env(replica))
    for result in results:
        assert result.returncode == 0, result.log[-3000:]
        assert "Traceback" not in result.log
    per_worker = [r.stat("soundscraping/graph/accounts_visited") for r in results]
    assert sum(per_worker) == 12, per_worker
    assert sum(1 for n in per_worker if n) >= 2, f"the work was shared: {per_worker}"
    check_graph(world, pg_url, {world.user_id_by_permalink(p) for p in seeds}, 12)
    assert redis_job.client.scard(redis_job.key("soundcloud_graph", "done")) == 12
    assert redis_job.client.scard(redis_job.key("soundcloud_graph", "passed")) > 0, "the size rule was exercised"
    assert redis_job.client.zcard(redis_job.key("soundcloud_graph", "leases")) == 0
    status = json.loads(subprocess.run(
        [sys.executable, "-m", "soundscraping", "frontier", "status", "--json", "--redis-url", redis_job.url,
         "--prefix", redis_job.prefix], capture_output=True, text=True, check=True, cwd=REPO).stdout)
    assert (status["done"], status["leased"]) == (12, 0)
    finished = sorted(w["finished"] for w in status["workers"] if w["finished"])
    assert finished == sorted(n for n in per_worker if n), "per-worker counts"


def test_a_killed_worker_s_account_is_finished_by_another(tmp_path: Path, pg_url: str, redis_job: RedisJob) -> None:
    world = GraphWorld(WORLD)
    seeds = world.seeds(1)
    args = crawl_args(seeds, 8)
    # One account at a time; a lease of 2 s (renewed every 0.67 s while alive).
    settings = {**FAST, **redis_job.settings, "DATABASE_URL": pg_url, "GRAPH_CONCURRENT_ACCOUNTS": 1,
                "DISTRIBUTED_LEASE_SECONDS": 2, "DISTRIBUTED_POLL_SECONDS": 0.2, "STORAGE_FLUSH_SECONDS": 0.2}
    held_account: list[str] = []
    accounts: list[str] = []

    def third_account_likes(request: Any) -> bool:
        # The third account's likes list: its other lists may be read, its
        # visit cannot finish.
        found = _LIST_PATH.fullmatch(request.path)
        if found is None or not request.path.endswith("/likes"):
            return False
        if found["id"] in accounts:
            return False
        accounts.append(found["id"])
        if len(accounts) == 3:
            held_account.append(found["id"])
            return True
        return False

    with SoundCloudReplica(world, Quirks(latency_ms=10)) as replica:
        held = replica.holds.hold(third_account_likes)
        victim, _, _ = start_crawl("soundcloud_graph", tmp_path, env=site_env(replica), args=args,
                                   settings=settings, run="victim")
        held.wait_arrived()
        wait_until(lambda: count_rows(pg_url, "soundcloud_graph_visits") == 2, "the first two visits stored")
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
        account = int(held_account[0])
        leases = redis_job.client.zrange(redis_job.key("soundcloud_graph", "leases"), 0, -1)
        assert leases == [str(account)], "the dead worker still holds its account's lease"
        held.release()
        survivors = [start_crawl("soundcloud_graph", tmp_path, env=site_env(replica), args=args, settings=settings,
                                 run=f"survivor{i}") for i in range(2)]
        results = [finish(*worker, timeout=180) for worker in survivors]
    for result in results:
        assert result.returncode == 0, result.log[-3000:]
    assert sum(r.stat("soundscraping/distributed/reclaimed_accounts") for r in results) == 1
    assert sum(r.stat("soundscraping/distributed/expired_leases_requeued") for r in results) == 1
    visited = check_graph(world, pg_url, {world.user_id_by_permalink(p) for p in seeds}, 8)
    assert account in visited, "the killed worker's account was finished by another"


def test_a_worker_that_loses_redis_stops_with_one_line_and_exit_1(tmp_path: Path, pg_url: str) -> None:
    world = GraphWorld(WORLD)
    with private_redis(tmp_path) as url, SoundCloudReplica(world, Quirks()) as replica:
        held = replica.holds.hold(nth_account_first_list(2))
        settings = {**FAST, "REDIS_URL": url, "DATABASE_URL": pg_url, "GRAPH_CONCURRENT_ACCOUNTS": 1,
                    "STORAGE_FLUSH_SECONDS": 0.2}
        worker = start_crawl("soundcloud_graph", tmp_path, env=site_env(replica), settings=settings,
                             args={"seeds": ",".join(world.seeds(1)), "max_accounts": "6",
                                   "min_followers": str(MIN_FOLLOWERS)})
        held.wait_arrived()
        wait_until(lambda: count_rows(pg_url, "soundcloud_graph_visits") == 1, "the first visit stored")
        url.stop()  # Redis goes away in the middle of the second account
        held.release()
        result = finish(*worker, timeout=120)
    assert result.returncode == 1, result.log[-3000:]
    assert result.stats.get("finish_reason") == "redis_unavailable"
    assert result.log.count("Lost Redis at") == 1 and "Traceback" not in result.log, result.log[-3000:]
    assert count_rows(pg_url, "soundcloud_graph_visits") == 1, "what was stored stays stored"
