"""``make bench``: soundcloud_artists throughput with and without storage.

Crawls a replica world (default 200 artists x 30 tracks x 50 comments) into a
fresh PostgreSQL database with media off, then the same crawl with storage off,
and prints items/s, pages/s, requests per stored item, peak RSS and the ratio.
The replica runs in its own process; RSS is the crawler process's own peak.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.crawl import REPLICA_BUDGETS, admin, crawl_command  # noqa: E402
from tests.replica.process import start_replica_process, stop_replica_process  # noqa: E402


def timed_crawl(label: str, workdir: Path, artists_file: Path, env: dict[str, str], settings: dict[str, str]) -> dict:
    stats_file = workdir / f"{label}.stats.json"
    cmd = crawl_command("soundcloud_artists", {"artists_file": str(artists_file)},
                        {"STATS_FILE": stats_file, "LOG_FILE": workdir / f"{label}.log", "LOG_LEVEL": "INFO",
                         "MEDIA_ENABLED": "False", "LOGSTATS_INTERVAL": 10, **REPLICA_BUDGETS, **settings})
    start = time.monotonic()
    process = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **env})
    _, status, rusage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    stats = json.loads(stats_file.read_text())
    elapsed = float(stats.get("elapsed_time_seconds") or wall)
    items = int(stats.get("item_scraped_count", 0))
    pages = int(stats.get("response_received_count", 0))
    requests = int(stats.get("downloader/request_count", 0))
    return {
        "label": label, "exit": os.waitstatus_to_exitcode(status), "finish_reason": stats.get("finish_reason"),
        "items": items, "pages": pages, "requests": requests, "elapsed_s": elapsed, "wall_s": wall,
        "items_per_s": items / elapsed, "pages_per_s": pages / elapsed,
        "requests_per_item": requests / max(items, 1), "peak_rss_mb": rusage.ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--artists", type=int, default=200)
    parser.add_argument("--tracks", type=int, default=30)
    parser.add_argument("--comments", type=int, default=50)
    opts = parser.parse_args()

    workdir = REPO / "data" / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    replica, info = start_replica_process(
        "tests.replica.soundcloud", "--artists", str(opts.artists), "--tracks", str(opts.tracks),
        "--comments", str(opts.comments), "--no-datadome", "--no-short-pages")
    dbname = f"soundscraping_bench_{uuid.uuid4().hex[:8]}"
    admin(f"CREATE DATABASE {dbname}")
    database_url = f"postgresql://postgres@127.0.0.1:5432/{dbname}"
    try:
        artists_file = workdir / "artists.txt"
        artists_file.write_text("\n".join(info["artists"]) + "\n")
        env = {"SOUNDCLOUD_URL": info["web"], "SOUNDCLOUD_API_URL": info["api"], "DATABASE_URL": database_url}
        stored = timed_crawl("stored", workdir, artists_file, env, {})
        unstored = timed_crawl("unstored", workdir, artists_file, env, {"STORAGE_ENABLED": "False"})
        conn = psycopg2.connect(database_url)
        with conn.cursor() as cur:
            rows = {}
            for table in ("soundcloud_users", "soundcloud_tracks", "soundcloud_comments"):
                cur.execute(f"SELECT count(*) FROM {table}")
                rows[table] = cur.fetchone()[0]
        conn.close()
    finally:
        stop_replica_process(replica)
        admin(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")

    print(f"\nsoundcloud_artists benchmark: {opts.artists} artists x {opts.tracks} tracks x "
          f"{opts.comments} comments (replica in its own process, media off)")
    print(f"{'run':<10}{'items':>9}{'pages':>7}{'items/s':>10}{'pages/s':>9}{'req/item':>10}{'peak RSS MB':>13}"
          f"{'finish':>10}")
    for r in (stored, unstored):
        print(f"{r['label']:<10}{r['items']:>9}{r['pages']:>7}{r['items_per_s']:>10.0f}{r['pages_per_s']:>9.1f}"
              f"{r['requests_per_item']:>10.4f}{r['peak_rss_mb']:>13.0f}{r['finish_reason']:>10}")
    print("rows in PostgreSQL: " + ", ".join(f"{k}={v}" for k, v in rows.items()))
    ratio = stored["items_per_s"] / unstored["items_per_s"]
    print(f"stored/unstored items/s ratio: {ratio:.2f}")
    targets = {
        "ratio >= 0.4": ratio >= 0.4,
        "stored items/s >= 5000": stored["items_per_s"] >= 5000,
        "requests per stored item <= 0.03": stored["requests_per_item"] <= 0.03,
        "peak RSS < 400 MB": max(stored["peak_rss_mb"], unstored["peak_rss_mb"]) < 400,
    }
    for name, ok in targets.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")


if __name__ == "__main__":
    main()
