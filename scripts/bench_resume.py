"""``make bench-resume``: a killed soundcloud_artists job resumed with the
same JOBDIR, against the ``make bench`` world (200 artists x 30 tracks x 50
comments, replica in its own process, media off).

Runs the crawl uninterrupted into one database, then again into another
with a JOBDIR, SIGKILLed once about half of the artists are finished, then
resumed.  Prints the requests the replica answered for each part, the ratio
(killed + resumed) / uninterrupted (target <= 1.1) and whether the rows are
identical.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from replicas.process import start_replica_process, stop_replica_process  # noqa: E402
from tests.crawl import REPLICA_BUDGETS, admin, crawl_command  # noqa: E402

ROWS = {
    "soundcloud_users": "SELECT id, permalink, username, followers_count, full_profile FROM soundcloud_users",
    "soundcloud_tracks": "SELECT id, user_id, title, likes_count, comment_count FROM soundcloud_tracks",
    "soundcloud_comments": "SELECT id, track_id, user_id, body, timestamp_ms FROM soundcloud_comments",
}


def answered(api_url: str) -> int:
    """Every answer the replica gave so far (all its hosts share the counters)."""
    with urllib.request.urlopen(f"{api_url}/__replica__/stats", timeout=10) as response:
        stats = json.load(response)
    return sum(v for k, v in stats.items() if k.startswith("status_") and isinstance(v, int))


def rows(database_url: str) -> dict[str, set[tuple]]:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        found = {}
        for table, sql in ROWS.items():
            cur.execute(sql)
            found[table] = set(cur.fetchall())
    conn.close()
    return found


def count(database_url: str, table: str) -> int:
    try:
        with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {table}")
            n = cur.fetchone()[0]
        conn.close()
        return n
    except psycopg2.Error:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--artists", type=int, default=200)
    parser.add_argument("--tracks", type=int, default=30)
    parser.add_argument("--comments", type=int, default=50)
    parser.add_argument("--kill-at", type=float, default=0.5, help="share of artists finished at the kill")
    opts = parser.parse_args()

    workdir = REPO / "data" / "bench-resume"
    workdir.mkdir(parents=True, exist_ok=True)
    replica, info = start_replica_process(
        "replicas.soundcloud", "--artists", str(opts.artists), "--tracks", str(opts.tracks),
        "--comments", str(opts.comments), "--no-datadome", "--no-short-pages")
    names = [f"soundscraping_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for name in names:
        admin(f"CREATE DATABASE {name}")
    reference_url, resumed_url = (f"postgresql://postgres@127.0.0.1:5432/{n}" for n in names)
    artists_file = workdir / "artists.txt"
    artists_file.write_text("\n".join(info["artists"]) + "\n")
    env = {**os.environ, "SOUNDCLOUD_URL": info["web"], "SOUNDCLOUD_API_URL": info["api"]}
    jobdir = workdir / f"job-{uuid.uuid4().hex[:6]}"

    def crawl(label: str, database_url: str, jobdir: Path | None) -> subprocess.Popen[bytes]:
        settings = {"DATABASE_URL": database_url, "LOG_FILE": workdir / f"{label}.log", "LOG_LEVEL": "INFO",
                    "STATS_FILE": workdir / f"{label}.stats.json", "MEDIA_ENABLED": "False", **REPLICA_BUDGETS}
        if jobdir is not None:
            settings["JOBDIR"] = jobdir
        return subprocess.Popen(crawl_command("soundcloud_artists", {"artists_file": str(artists_file)}, settings),
                                cwd=REPO, env=env)

    try:
        start = answered(info["api"])
        t0 = time.monotonic()
        assert crawl("uninterrupted", reference_url, None).wait() == 0
        uninterrupted, uninterrupted_s = answered(info["api"]) - start, time.monotonic() - t0

        start = answered(info["api"])
        killed = crawl("killed", resumed_url, jobdir)
        target = int(opts.artists * opts.kill_at)
        while count(resumed_url, "crawl_units") < target and killed.poll() is None:
            time.sleep(0.2)
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        at_kill = count(resumed_url, "crawl_units")
        before_resume = answered(info["api"])
        t0 = time.monotonic()
        assert crawl("resumed", resumed_url, jobdir).wait() == 0
        resumed_s = time.monotonic() - t0
        first_part, second_part = before_resume - start, answered(info["api"]) - before_resume
        identical = rows(reference_url) == rows(resumed_url)
        sizes = {t: len(r) for t, r in rows(resumed_url).items()}
    finally:
        stop_replica_process(replica)
        for name in names:
            admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    total = first_part + second_part
    print(f"\nresume benchmark: {opts.artists} artists x {opts.tracks} tracks x {opts.comments} comments")
    print(f"uninterrupted: {uninterrupted} requests in {uninterrupted_s:.1f} s")
    print(f"killed at {at_kill} of {opts.artists} artists finished: {first_part} requests; "
          f"resumed: {second_part} requests in {resumed_s:.1f} s")
    print(f"killed + resumed = {total} requests = {total / uninterrupted:.3f} x uninterrupted "
          f"[{'ok' if total <= 1.1 * uninterrupted else 'MISSED'} <= 1.1]")
    print(f"rows identical to the uninterrupted crawl: {identical} ({', '.join(f'{k}={v}' for k, v in sizes.items())})")


if __name__ == "__main__":
    main()
