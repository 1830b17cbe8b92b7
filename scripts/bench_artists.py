"""``make bench``: soundcloud_artists throughput, impersonated TLS and plain,
with and without storage.

The replica (default 200 artists x 30 tracks x 50 comments) serves api-v2 over
HTTPS with a test CA, in its own process, its DataDome check off so both
transports reach the same data.  Three crawls, media off:

* ``impersonated``: the default (curl_cffi with Chrome's fingerprint) into a
  fresh PostgreSQL database;
* ``plain``: the same with IMPERSONATE_ENABLED=False (Scrapy's own TLS) into
  another fresh database;
* ``unstored``: impersonated, STORAGE_ENABLED=False;
* ``re-crawl``: the world unchanged, ``-a recrawl_after=0s`` into the first
  run's database: every artist is re-visited, no comment count changed.

Prints items/s, pages/s, requests per stored item, peak RSS (the crawler
process's own), TLS handshakes per 100 requests (counted by the replica from
the ClientHellos it saw, and by libcurl), the ratios, and the re-crawl's
requests per artist (target <= 2) with the stats rows it appended.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from replicas.process import stop_replica_process  # noqa: E402
from scripts.common import add_world_arguments, start_world_replica  # noqa: E402
from tests.crawl import REPLICA_BUDGETS, admin, crawl_command  # noqa: E402


def replica_stats(info: dict) -> dict:
    """The replica's live counters (api-v2 over HTTPS: trust its test CA)."""
    context = ssl.create_default_context(cafile=info["ca_file"])
    with urllib.request.urlopen(f"{info['api']}/__replica__/stats", context=context, timeout=10) as r:
        return json.loads(r.read())


def table_rows(database_url: str) -> dict[str, int]:
    conn = psycopg2.connect(database_url)
    with conn.cursor() as cur:
        rows = {}
        for table in ("soundcloud_users", "soundcloud_tracks", "soundcloud_comments"):
            cur.execute(f"SELECT count(*) FROM {table}")
            rows[table] = cur.fetchone()[0]
    conn.close()
    return rows


def answered(stats: dict) -> int:
    """Every answer the replica gave (all its hosts share the counters)."""
    return sum(v for k, v in stats.items() if k.startswith("status_") and isinstance(v, int))


def track_stats_rows(database_url: str) -> int:
    conn = psycopg2.connect(database_url)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM soundcloud_track_stats")
        n = cur.fetchone()[0]
    conn.close()
    return n


def timed_crawl(label: str, workdir: Path, artists_file: Path, env: dict[str, str], settings: dict[str, str],
                info: dict, args: dict[str, str] | None = None) -> dict:
    stats_file = workdir / f"{label}.stats.json"
    cmd = crawl_command("soundcloud_artists", {"artists_file": str(artists_file), **(args or {})},
                        {"STATS_FILE": stats_file, "LOG_FILE": workdir / f"{label}.log", "LOG_LEVEL": "INFO",
                         "MEDIA_ENABLED": "False", "LOGSTATS_INTERVAL": 10, **REPLICA_BUDGETS, **settings})
    before = replica_stats(info)
    start = time.monotonic()
    process = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **env})
    _, status, rusage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    after = replica_stats(info)
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
        # Handshakes the replica saw during this crawl (its own stats request is one "other").
        "handshakes": {c: int(after.get(f"tls_handshakes_{c}", 0)) - int(before.get(f"tls_handshakes_{c}", 0))
                       for c in ("chrome", "other")},
        "curl_connections": int(stats.get("soundscraping/impersonate/connections", 0)),
        "curl_requests": int(stats.get("soundscraping/impersonate/requests", 0)),
        # What the replica answered during the crawl (minus the one stats request).
        "answered": answered(after) - answered(before) - 1,
        "api": {k: int(after[k]) - int(before.get(k, 0)) for k in after
                if k.startswith("api_") and k != "api_replica_stats" and isinstance(after[k], int)
                and after[k] != before.get(k, 0)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_world_arguments(parser)
    opts = parser.parse_args()

    workdir = REPO / "data" / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    replica, info = start_world_replica(opts, "--https")
    names = [f"soundscraping_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for dbname in names:
        admin(f"CREATE DATABASE {dbname}")
    database_url, plain_url = (f"postgresql://postgres@127.0.0.1:5432/{n}" for n in names)
    try:
        artists_file = workdir / "artists.txt"
        artists_file.write_text("\n".join(info["artists"]) + "\n")
        env = {"SOUNDCLOUD_URL": info["web"], "SOUNDCLOUD_API_URL": info["api"], "DATABASE_URL": database_url,
               "TLS_CA_BUNDLE": info["ca_file"]}
        stored = timed_crawl("impersonated", workdir, artists_file, env, {}, info)
        plain = timed_crawl("plain", workdir, artists_file, {**env, "DATABASE_URL": plain_url},
                            {"IMPERSONATE_ENABLED": "False"}, info)
        unstored = timed_crawl("unstored", workdir, artists_file, env, {"STORAGE_ENABLED": "False"}, info)
        rows, plain_rows = table_rows(database_url), table_rows(plain_url)
        stats_before = track_stats_rows(database_url)
        recrawl = timed_crawl("re-crawl", workdir, artists_file, env, {}, info, {"recrawl_after": "0s"})
        recrawl["stats_rows"] = track_stats_rows(database_url) - stats_before
        recrawl_rows = table_rows(database_url)
    finally:
        stop_replica_process(replica)
        for dbname in names:
            admin(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")

    print(f"\nsoundcloud_artists benchmark: {opts.artists} artists x {opts.tracks} tracks x "
          f"{opts.comments} comments (api-v2 over HTTPS, replica in its own process, media off)")
    print(f"{'run':<14}{'items':>9}{'pages':>7}{'items/s':>10}{'pages/s':>9}{'req/item':>10}{'peak RSS MB':>13}"
          f"{'TLS hs/100 req':>16}{'finish':>10}")
    for r in (stored, plain, unstored):
        handshakes = r["handshakes"]["chrome"] + r["handshakes"]["other"] - 1  # minus the stats request
        r["handshakes_per_100"] = 100 * handshakes / max(r["requests"], 1)
        print(f"{r['label']:<14}{r['items']:>9}{r['pages']:>7}{r['items_per_s']:>10.0f}{r['pages_per_s']:>9.1f}"
              f"{r['requests_per_item']:>10.4f}{r['peak_rss_mb']:>13.0f}{r['handshakes_per_100']:>16.2f}"
              f"{r['finish_reason']:>10}")
    print("rows in PostgreSQL (impersonated run): " + ", ".join(f"{k}={v}" for k, v in rows.items()))
    print(f"impersonated run: replica saw {stored['handshakes']['chrome']} Chrome-like and "
          f"{stored['handshakes']['other'] - 1} other handshakes; libcurl opened {stored['curl_connections']} "
          f"connections for {stored['curl_requests']} requests")
    ratio = stored["items_per_s"] / unstored["items_per_s"]
    impersonated_ratio = stored["items_per_s"] / plain["items_per_s"]
    print(f"stored items/s, impersonated/plain: {impersonated_ratio:.2f}")
    print(f"stored/unstored items/s ratio: {ratio:.2f}")
    per_artist = recrawl["answered"] / opts.artists
    api_per_artist = sum(recrawl["api"].values()) / opts.artists
    print(f"re-crawl of the unchanged world (recrawl_after=0s): {recrawl['answered']} requests answered = "
          f"{per_artist:.3f} per artist ({api_per_artist:.3f} api-v2 requests per artist: "
          + ", ".join(f"{k}={v}" for k, v in sorted(recrawl["api"].items()))
          + f"; the rest is client_id discovery), {recrawl['elapsed_s']:.1f} s, "
          f"{recrawl['stats_rows']} soundcloud_track_stats rows appended")
    targets = {
        # Per artist: its profile and tracks pages; client_id discovery is once per crawl.
        "re-crawl of an unchanged world <= 2 api-v2 requests per artist": api_per_artist <= 2,
        "re-crawl left the rows as they were": recrawl_rows == rows,
        "impersonated >= 0.7 x plain (stored items/s)": impersonated_ratio >= 0.7,
        "TLS handshakes per 100 requests < 5 (impersonated)": stored["handshakes_per_100"] < 5,
        "impersonated and plain runs stored the same rows": rows == plain_rows,
        "ratio >= 0.4": ratio >= 0.4,
        "stored items/s >= 5000": stored["items_per_s"] >= 5000,
        "requests per stored item <= 0.03": stored["requests_per_item"] <= 0.03,
        "peak RSS < 400 MB": max(stored["peak_rss_mb"], unstored["peak_rss_mb"]) < 400,
    }
    for name, ok in targets.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")


if __name__ == "__main__":
    main()
