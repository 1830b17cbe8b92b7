"""End to end: `scrapy crawl soundcloud_graph` against a replica graph with
known edges, into real PostgreSQL."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from replicas.soundcloud import GraphWorld, GraphWorldConfig, Quirks, SoundCloudReplica
from tests.crawl import admin, count_rows, finish, query, run_crawl, start_crawl, wait_until

FAST = {"RETRY_BACKOFF_BASE": 0.05, "RETRY_BACKOFF_MAX": 0.5, "MEDIA_ENABLED": False}


def site_env(replica: SoundCloudReplica) -> dict[str, str]:
    return {"SOUNDCLOUD_URL": replica.urls["web"], "SOUNDCLOUD_API_URL": replica.urls["api"]}


def expected_edges(world: GraphWorld, visited: set[int], per_kind_limit: int) -> set[tuple[Any, ...]]:
    """The unique (source, kind, target, object) edges of the visited accounts'
    most recent ``per_kind_limit`` items of each list."""
    edges = set()
    for source in visited:
        for kind in ("like", "repost", "follow", "comment"):
            for item in world.interactions_of(source, kind)[:per_kind_limit]:
                if not item["deleted"]:
                    edges.add((source, kind, item["target_user_id"], item["object_id"]))
    return edges


def stored_edges(database_url: str) -> list[tuple[Any, ...]]:
    return query(database_url, "SELECT source_user_id, kind, target_user_id, object_id FROM soundcloud_interactions")


def nth_account_first_list(n: int) -> Callable[[Any], bool]:
    """A replica hold matching the first interaction-list request of the
    n-th distinct account the crawl visits."""
    accounts: list[str] = []

    def match(request: Any) -> bool:
        found = _LIST_PATH.fullmatch(request.path)
        if found is None:
            return False
        if found["id"] not in accounts:
            accounts.append(found["id"])
            return len(accounts) == n
        return False

    return match


_LIST_PATH = re.compile(r"(?:/stream)?/users/(?P<id>\d+)/(?:likes|reposts|followings|comments)")


def visit_order(database_url: str) -> list[int]:
    return [r[0] for r in query(database_url, "SELECT user_id FROM soundcloud_graph_visits ORDER BY position")]


# A graph where breadth-first order and the adaptive priority disagree:
# the seed S follows A (3) and likes two tracks of B (1 + 1); visiting A
# then gives C, two hops from S, a score of 6 (follow + comment), while B only
# reaches 3.  BFS visits B (one hop) before C; the adaptive order visits C first.
S, A, B, C, D, E, TINY = 1, 2, 3, 4, 5, 6, 7
KNOWN_USERS = {S: 5000, A: 4000, B: 3000, C: 2000, D: 1500, E: 1000, TINY: 100}
KNOWN_EDGES = [
    (S, "like", B), (S, "like", B), (S, "follow", A), (S, "follow", TINY), (S, "comment", TINY),
    (A, "follow", C), (A, "comment", C), (A, "like", B), (A, "repost", TINY),
    (C, "like", D), (C, "follow", E),
    (B, "like", A), (B, "like_playlist", E), (B, "repost_playlist", D),
    (D, "follow", S), (E, "comment", A),
]
PERMALINKS = {S: "seed-s", A: "acc-a", B: "acc-b", C: "acc-c", D: "acc-d", E: "acc-e", TINY: "tiny"}


def test_known_graph_edges_order_threshold_and_limit(tmp_path: Path, pg_url: str) -> None:
    world = GraphWorld.from_edges(KNOWN_USERS, KNOWN_EDGES, permalinks=PERMALINKS)
    with SoundCloudReplica(world, Quirks()) as replica:
        result = run_crawl("soundcloud_graph", tmp_path, env=site_env(replica),
                           args={"seeds": "seed-s", "max_accounts": "4", "min_followers": "250"},
                           settings={"DATABASE_URL": pg_url, "GRAPH_CONCURRENT_ACCOUNTS": 1, **FAST})
    assert result.returncode == 0, result.log[-3000:]
    order = visit_order(pg_url)
    assert order == [S, A, C, B], "seed, then the best score at each step (BFS would give S, A, B, C)"
    assert TINY not in order, "accounts under min_followers are not visited"
    edges = stored_edges(pg_url)
    assert len(edges) == len(set(edges)), "every edge once"
    assert set(edges) == expected_edges(world, set(order), 500)
    assert (S, "follow", TINY, None) in set(edges), "edges to small accounts are kept"
    users = dict(query(pg_url, "SELECT id, followers_count FROM soundcloud_users"))
    assert {S, A, B, C, D, E, TINY} <= set(users), "every account met is stored"
    assert users[TINY] == 100
    assert "Graph: 4/4 accounts visited" in result.log


def test_random_graph_quirks_are_handled_and_counted(tmp_path: Path, pg_url: str) -> None:
    world = GraphWorld(GraphWorldConfig(accounts=30, population=400, likes_per_account=45, reposts_per_account=25,
                                        followings_per_account=30, comments_per_account=12, deleted_every=7,
                                        missing_users=()))
    seeds = world.seeds(2)  # permalinks
    with SoundCloudReplica(world, Quirks(error_5xx_every=9, malformed_json_every=13)) as replica:
        result = run_crawl("soundcloud_graph", tmp_path, env=site_env(replica),
                           args={"seeds": ",".join(seeds), "max_accounts": "12",
                                 "per_kind_limit": "40"},
                           settings={"DATABASE_URL": pg_url, **FAST})
        served_repeats = replica.stats["api_user_reposts"]
    assert result.returncode == 0, result.log[-3000:]
    visited = set(visit_order(pg_url))
    assert len(visited) == 12 and {world.user_id_by_permalink(p) for p in seeds} <= visited
    edges = stored_edges(pg_url)
    assert len(edges) == len(set(edges))
    assert set(edges) == expected_edges(world, visited, 40)
    assert result.stat("soundscraping/graph/deleted_objects") >= 1
    assert result.stat("soundscraping/pagination/repeated_page") >= 1 and served_repeats
    assert result.stat("soundscraping/retry/http_502") >= 1
    assert "Traceback" not in result.log


def test_killed_graph_crawl_resumes_to_the_same_edges(tmp_path: Path, pg_url: str) -> None:
    world = GraphWorld(GraphWorldConfig(accounts=40, population=600, likes_per_account=40, reposts_per_account=20,
                                        followings_per_account=25, comments_per_account=10))
    seeds = ",".join(world.seeds(2))
    args = {"seeds": seeds, "max_accounts": "16", "per_kind_limit": "40"}
    common = {**FAST, "GRAPH_CONCURRENT_ACCOUNTS": 1, "STORAGE_BATCH_SIZE": 50}
    reference_db = pg_url + "_ref"
    admin(f"CREATE DATABASE {reference_db.rsplit('/', 1)[1]}")
    try:
        with SoundCloudReplica(world, Quirks(latency_ms=15)) as replica:
            reference = run_crawl("soundcloud_graph", tmp_path / "ref", env=site_env(replica), args=args,
                                  settings={**common, "DATABASE_URL": reference_db})
            assert reference.returncode == 0, reference.log[-3000:]

            # The kill lands at a known point: the sixth account's first list
            # is held (one account at a time), once the five visits before it
            # are stored.
            held = replica.holds.hold(nth_account_first_list(6))
            settings = {**common, "DATABASE_URL": pg_url, "JOBDIR": tmp_path / "job"}
            process, _, _ = start_crawl("soundcloud_graph", tmp_path, env=site_env(replica), args=args,
                                        settings=settings, run="killed")
            held.wait_arrived()
            wait_until(lambda: count_rows(pg_url, "soundcloud_graph_visits") == 5, "five visits stored")
            process.send_signal(signal.SIGKILL)
            process.wait(30)
            assert len(visit_order(pg_url)) == 5, "killed before the end"
            resumed = finish(*start_crawl("soundcloud_graph", tmp_path, env=site_env(replica), args=args,
                                          settings=settings, run="resumed"))
        assert resumed.returncode == 0, resumed.log[-3000:]
        assert "Resuming the graph" in resumed.log
        assert visit_order(pg_url) == visit_order(reference_db)
        assert sorted(stored_edges(pg_url), key=str) == sorted(stored_edges(reference_db), key=str)
    finally:
        admin(f"DROP DATABASE IF EXISTS {reference_db.rsplit('/', 1)[1]} WITH (FORCE)")


def test_rerun_continues_where_the_last_run_ended(tmp_path: Path, pg_url: str) -> None:
    world = GraphWorld(GraphWorldConfig(accounts=25, population=300, likes_per_account=20, reposts_per_account=10,
                                        followings_per_account=15, comments_per_account=5))
    seeds = ",".join(world.seeds(1))
    with SoundCloudReplica(world, Quirks()) as replica:
        first = run_crawl("soundcloud_graph", tmp_path, env=site_env(replica), run="first",
                          args={"seeds": seeds, "max_accounts": "5"}, settings={"DATABASE_URL": pg_url, **FAST})
        assert first.returncode == 0, first.log[-3000:]
        after_first = visit_order(pg_url)
        second = run_crawl("soundcloud_graph", tmp_path, env=site_env(replica), run="second",
                           args={"seeds": seeds, "max_accounts": "9"}, settings={"DATABASE_URL": pg_url, **FAST})
    assert second.returncode == 0, second.log[-3000:]
    order = visit_order(pg_url)
    assert len(after_first) == 5 and len(order) == 9
    assert order[:5] == after_first, "nothing visited twice, earlier visits kept"
    assert second.stat("soundscraping/graph/accounts_visited") == 4
