"""``make bench-distributed``: soundcloud_graph with 1, 2 and 4 workers
sharing one Redis frontier, each at its own request budget as separate
machines (separate IPs) would have.

A replica graph (a separate process) answers with LATENCY ms per response;
each worker is held to BUDGET requests/s by its own ThrottleMiddleware.
Each run visits ``--per-worker`` accounts per worker into a fresh
PostgreSQL database and a fresh Redis job (its own key prefix on db 7,
deleted after).  Throughput is measured on Redis's own clock, from the
job's first claim to its last finished visit (so process start-up, the
same for any N, is left out).  Prints accounts/min, requests/account and
the scaling efficiency (throughput with N workers / (N x throughput with 1))."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import redis  # noqa: E402

from replicas.process import start_replica_process, stop_replica_process  # noqa: E402
from tests.crawl import admin, crawl_command, query  # noqa: E402


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(n: int, opts: argparse.Namespace, info: dict, workdir: Path) -> dict[str, float]:
    dbname = f"soundscraping_bench_{uuid.uuid4().hex[:8]}"
    admin(f"CREATE DATABASE {dbname}")
    database_url = f"postgresql://postgres@127.0.0.1:5432/{dbname}"
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(opts.redis_url, decode_responses=True)
    accounts = opts.per_worker * n
    env = {**os.environ, "SOUNDCLOUD_URL": info["web"], "SOUNDCLOUD_API_URL": info["api"]}
    try:
        processes, stats_files = [], []
        for i in range(n):
            stats_file = workdir / f"n{n}-worker{i}.stats.json"
            stats_file.unlink(missing_ok=True)
            stats_files.append(stats_file)
            cmd = crawl_command("soundcloud_graph", {
                "seeds": ",".join(info["seeds"][:3]), "max_accounts": str(accounts), "min_followers": "250",
                "per_kind_limit": str(opts.per_kind_limit)},
                {"DATABASE_URL": database_url, "REDIS_URL": opts.redis_url, "REDIS_KEY_PREFIX": prefix,
                 "STATS_FILE": stats_file, "LOG_FILE": workdir / f"n{n}-worker{i}.log", "LOG_LEVEL": "INFO",
                 "MEDIA_ENABLED": "False", "SOUNDCLOUD_REQUEST_BUDGET": f"{opts.budget}/1"})
            processes.append(subprocess.Popen(cmd, cwd=REPO, env=env))
        replica_cpu = cpu_seconds(opts.replica_pid)
        waited = [os.wait4(p.pid, 0) for p in processes]
        replica_cpu = cpu_seconds(opts.replica_pid) - replica_cpu
        codes = [os.waitstatus_to_exitcode(status) for _, status, _ in waited]
        worker_cpu = sum(r.ru_utime + r.ru_stime for _, _, r in waited)
        base = f"{prefix}:soundcloud_graph"
        first = min(float(v) for v in client.hgetall(f"{base}:first_claim").values())
        last = max(float(v) for v in client.hgetall(f"{base}:last_finish").values())
        visited = query(database_url, "SELECT count(*) FROM soundcloud_graph_visits")[0][0]
        stats = [json.loads(f.read_text()) for f in stats_files]
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        admin(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
    requests = sum(int(s.get("downloader/request_count", 0)) for s in stats)
    minutes = (last - first) / 60_000
    return {"workers": n, "exit": max(codes), "visited": visited, "minutes": minutes, "requests": requests,
            "worker_cpu_per_request_ms": worker_cpu / max(requests, 1) * 1000, "replica_cpu": replica_cpu,
            "requests_per_second_per_worker": requests / (minutes * 60) / n,
            "per_minute": visited / minutes, "requests_per_account": requests / max(visited, 1),
            "per_worker": [int(s.get("soundscraping/graph/accounts_visited", 0)) for s in stats]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--per-worker", type=int, default=20, help="accounts visited per worker")
    parser.add_argument("--budget", type=int, default=5, help="requests per second, per worker")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--per-kind-limit", type=int, default=500)
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"))
    opts = parser.parse_args()
    counts = [int(n) for n in opts.workers.split(",")]
    workdir = REPO / "data" / "bench-distributed"
    workdir.mkdir(parents=True, exist_ok=True)
    replica, info = start_replica_process(
        "replicas.soundcloud", "--graph", "--accounts", str(int(opts.per_worker * max(counts) * 1.5)),
        "--population", "20000", "--likes", "500", "--reposts", "500", "--followings", "300", "--comments", "200",
        "--latency-ms", str(opts.latency_ms), "--no-graph-short-pages", "--no-datadome", timeout=120)
    opts.replica_pid = replica.pid
    results = []
    try:
        for n in counts:
            started = time.monotonic()
            result = run(n, opts, info, workdir)
            results.append(result)
            print(f"  {n} worker(s): {result['visited']} accounts in {result['minutes'] * 60:.1f} s "
                  f"({time.monotonic() - started:.0f} s with start-up), per worker {result['per_worker']}, "
                  f"exit {result['exit']}", flush=True)
    finally:
        stop_replica_process(replica)
    one = next((r for r in results if r["workers"] == 1), None)
    print(f"\nsoundcloud_graph, distributed: {opts.budget:g} requests/s per worker, {opts.latency_ms} ms latency, "
          f"per_kind_limit {opts.per_kind_limit}, {opts.per_worker} accounts per worker")
    print("  workers | accounts/min | requests/account | scaling efficiency | requests/s per worker"
          " | worker CPU ms/request | replica CPU share")
    for r in results:
        efficiency = r["per_minute"] / (r["workers"] * one["per_minute"]) if one else float("nan")
        print(f"  {r['workers']:7d} | {r['per_minute']:12.1f} | {r['requests_per_account']:16.2f} | {efficiency:18.2f}"
              f" | {r['requests_per_second_per_worker']:21.2f} | {r['worker_cpu_per_request_ms']:21.1f}"
              f" | {r['replica_cpu'] / (r['minutes'] * 60):.2f} core")
    print(f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end)")
    if one and (four := next((r for r in results if r["workers"] == 4), None)):
        efficiency = four["per_minute"] / (4 * one["per_minute"])
        print(f"  [{'ok' if efficiency >= 0.85 else 'MISSED'}] scaling efficiency >= 0.85 at 4 workers "
              f"({efficiency:.2f})")


if __name__ == "__main__":
    main()
