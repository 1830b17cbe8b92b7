"""``make bench-graph``: soundcloud_graph on a realistic graph.

Crawls ACCOUNTS accounts (default 2,000) of a generated world with realistic
fan-out (500 likes, 500 reposts, 300 followings and 200 comments each, a
population of 150,000 users) served with 50 ms latency per response, into a
fresh PostgreSQL database.  Prints requests per visited account, accounts per
minute, edges per second, peak RSS of the crawler and the frontier size."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from replicas.process import start_replica_process, stop_replica_process  # noqa: E402
from tests.crawl import REPLICA_BUDGETS, admin, crawl_command, query  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--population", type=int, default=150_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--per-kind-limit", type=int, default=500)
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="extra Scrapy setting for the crawl (to compare configurations)")
    opts = parser.parse_args()

    workdir = REPO / "data" / "bench-graph"
    workdir.mkdir(parents=True, exist_ok=True)
    # The world has a few more accounts than we visit, so the frontier never runs dry.
    replica, info = start_replica_process(
        "replicas.soundcloud", "--graph", "--accounts", str(int(opts.accounts * 1.25)),
        "--population", str(opts.population), "--likes", "500", "--reposts", "500", "--followings", "300",
        "--comments", "200", "--latency-ms", str(opts.latency_ms), "--no-graph-short-pages",
        "--no-datadome", timeout=120)
    dbname = f"soundscraping_bench_{uuid.uuid4().hex[:8]}"
    admin(f"CREATE DATABASE {dbname}")
    database_url = f"postgresql://postgres@127.0.0.1:5432/{dbname}"
    stats_file, log_file = workdir / "stats.json", workdir / "crawl.log"
    try:
        cmd = crawl_command("soundcloud_graph", {
            "seeds": ",".join(info["seeds"][:3]), "max_accounts": str(opts.accounts),
            "min_followers": "250", "per_kind_limit": str(opts.per_kind_limit)},
            {"DATABASE_URL": database_url, "STATS_FILE": stats_file, "LOG_FILE": log_file, "LOG_LEVEL": "INFO",
             "MEDIA_ENABLED": "False", "GRAPH_PROGRESS_INTERVAL": 20, **REPLICA_BUDGETS,
             **dict(item.split("=", 1) for item in opts.set)})
        env = {**os.environ, "SOUNDCLOUD_URL": info["web"], "SOUNDCLOUD_API_URL": info["api"]}
        start = time.monotonic()
        process = subprocess.Popen(cmd, cwd=REPO, env=env)
        _, status, rusage = os.wait4(process.pid, 0)
        wall = time.monotonic() - start
        stats = json.loads(stats_file.read_text())
        edges = query(database_url, "SELECT count(*) FROM soundcloud_interactions")[0][0]
        users = query(database_url, "SELECT count(*) FROM soundcloud_users")[0][0]
        visited = query(database_url, "SELECT count(*) FROM soundcloud_graph_visits")[0][0]
    finally:
        stop_replica_process(replica)
        admin(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")

    elapsed = float(stats.get("elapsed_time_seconds") or wall)
    requests = int(stats.get("downloader/request_count", 0))
    progress = re.findall(r"(\d+) queued in the frontier", log_file.read_text())
    frontier = max(map(int, progress)) if progress else 0
    print(f"\nsoundcloud_graph benchmark: {opts.accounts} accounts, {opts.latency_ms} ms latency, "
          f"per_kind_limit {opts.per_kind_limit} (exit {os.waitstatus_to_exitcode(status)}, "
          f"finish {stats.get('finish_reason')})")
    print(f"  visited accounts:        {visited}")
    print(f"  requests per account:    {requests / max(visited, 1):.2f}  ({requests} requests)")
    print(f"  accounts per minute:     {visited / elapsed * 60:.0f}  ({elapsed:.0f} s)")
    print(f"  edges stored:            {edges}  ({edges / elapsed:.0f} edges/s)")
    print(f"  users stored:            {users}")
    print(f"  largest frontier logged: {frontier} unvisited accounts")
    print(f"  peak RSS (crawler):      {rusage.ru_maxrss / 1024:.0f} MB")
    targets = {
        "<= 12 requests per account": requests / max(visited, 1) <= 12,
        ">= 300 accounts/min": visited / elapsed * 60 >= 300,
        "peak RSS < 500 MB": rusage.ru_maxrss / 1024 < 500,
        "frontier >= 100,000": frontier >= 100_000,
    }
    for name, ok in targets.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")


if __name__ == "__main__":
    main()
