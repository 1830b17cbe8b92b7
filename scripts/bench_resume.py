"""``make bench-resume``: killed jobs resumed, for each spider with units.

* ``soundcloud_artists``: the ``make bench`` world (200 artists x 30 tracks x
  50 comments, replica in its own process, media off), resumed with the same
  JOBDIR;
* ``cambridge_forum``: the whole replica forum (616 song forums, 574
  threads), no delay, resumed with the same JOBDIR;
* ``beatport_tracks``: the 360 labelled SoundCloud uploads of the replica
  catalogue searched on Beatport (images stored), run again (no JOBDIR: a
  search is done once its rows are stored).

Each runs uninterrupted into one database, then into another, SIGKILLed once
about half of its units are finished (polled: a benchmark, not a test), then
resumed.  Prints the requests the replica answered for each part, the ratio
(killed + resumed) / uninterrupted (target <= 1.1) and whether the rows are
identical.  ``--spider`` picks one (default: all three).
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from replicas.process import stop_replica_process  # noqa: E402
from scripts.common import add_world_arguments, start_world_replica  # noqa: E402
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
    parser.add_argument("--spider", choices=("all", "soundcloud_artists", "cambridge_forum", "beatport_tracks"),
                        default="all")
    add_world_arguments(parser)
    parser.add_argument("--kill-at", type=float, default=0.5, help="share of units finished at the kill")
    opts = parser.parse_args()
    if opts.spider in ("all", "soundcloud_artists"):
        bench_artists(opts)
    if opts.spider in ("all", "cambridge_forum"):
        bench_forum(opts)
    if opts.spider in ("all", "beatport_tracks"):
        bench_beatport(opts)


def bench_artists(opts: argparse.Namespace) -> None:
    workdir = REPO / "data" / "bench-resume"
    workdir.mkdir(parents=True, exist_ok=True)
    replica, info = start_world_replica(opts)
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


def sqlite_rows(database_url: str, queries: dict[str, str]) -> dict[str, set[tuple]]:
    from tests.crawl import query

    return {table: set(query(database_url, sql)) for table, sql in queries.items()}


def answered_by(stats: dict) -> int:
    return sum(v for k, v in stats.items() if k.startswith("status_") and isinstance(v, int))


def killed_and_resumed(label: str, spider: str, settings: dict, *, answered_now: Callable[[], int],
                       done_now: Callable[[str], int], target: int, with_jobdir: bool, queries: dict[str, str],
                       unit: str, prepare: Callable[[str], None] = lambda url: None,
                       env: dict | None = None) -> None:
    """The uninterrupted run into one SQLite database, then the killed one and
    its resumption into another (``prepare`` makes each database); prints the figures."""
    from tests.crawl import finish, start_crawl

    workdir = REPO / "data" / "bench-resume" / f"{label}-{uuid.uuid4().hex[:6]}"
    workdir.mkdir(parents=True)
    reference_url, resumed_url = (f"sqlite:///{workdir / f'{n}.sqlite3'}" for n in ("reference", "resumed"))
    for url in (reference_url, resumed_url):
        prepare(url)

    def run(name: str, database_url: str, job: bool) -> Any:
        extra = {"DATABASE_URL": database_url, "FILES_STORE": workdir / f"files-{Path(database_url).stem}"}
        if job:
            extra["JOBDIR"] = workdir / "job"
        return start_crawl(spider, workdir, settings={**settings, **extra}, env=env, run=name)

    start = answered_now()
    assert finish(*run("uninterrupted", reference_url, False), timeout=3600).returncode == 0
    uninterrupted = answered_now() - start
    start = answered_now()
    process, _log, _stats = run("killed", resumed_url, with_jobdir)
    while done_now(resumed_url) < target and process.poll() is None:
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    at_kill, first_part = done_now(resumed_url), answered_now() - start
    start = answered_now()
    resumed = finish(*run("resumed", resumed_url, with_jobdir), timeout=3600)
    assert resumed.returncode == 0, resumed.log[-2000:]
    second_part = answered_now() - start
    reference, got = sqlite_rows(reference_url, queries), sqlite_rows(resumed_url, queries)
    total = first_part + second_part
    print(f"\n{spider}: killed at {at_kill} {unit} done (target {target}): {first_part} requests; resumed: "
          f"{second_part}; uninterrupted: {uninterrupted}")
    print(f"killed + resumed = {total} requests = {total / uninterrupted:.3f} x uninterrupted "
          f"[{'ok' if total <= 1.1 * uninterrupted else 'MISSED'} <= 1.1]")
    print(f"rows identical to the uninterrupted crawl: {reference == got} "
          f"({', '.join(f'{k}={len(v)}' for k, v in got.items())})")


def bench_forum(opts: argparse.Namespace) -> None:
    from replicas.cambridge_mt import CambridgeReplica, build_forum, load_library
    from tests.crawl import count_rows

    library = load_library()
    forum = build_forum(library)
    with CambridgeReplica(library, forum) as replica:
        killed_and_resumed(
            "forum", "cambridge_forum",
            {"CAMBRIDGE_FORUM_DELAY": 0, "MEDIA_ENABLED": "False", "LOG_LEVEL": "INFO", **replica.settings()},
            answered_now=lambda: replica.stats.get("requests_forum", 0),
            done_now=lambda url: max(count_rows(url, "crawl_units WHERE unit NOT LIKE 'forum:%'"), 0),
            target=int(len(forum.threads) * opts.kill_at), with_jobdir=True, unit="threads", queries={
                "cmt_forum_threads": "SELECT tid, forum_fid, title, author, started_at, views, replies "
                                     "FROM cmt_forum_threads",
                "cmt_forum_posts": "SELECT pid, tid, author, posted_at, body_text FROM cmt_forum_posts",
                "cmt_mixes": "SELECT url, pid, tid, kind, host, filename FROM cmt_mixes"})


def bench_beatport(opts: argparse.Namespace) -> None:
    from replicas.beatport import BeatportReplica, build_catalogue
    from replicas.beatport.uploads import labelled_uploads
    from tests.crawl import count_rows
    from tests.test_beatport_tracks_e2e import sc_rows, seed_soundcloud

    catalogue = build_catalogue()
    uploads = labelled_uploads(catalogue)
    rows = sc_rows(uploads, list(range(len(uploads))))
    done = ("beatport_matches m LEFT JOIN beatport_tracks b ON b.id = m.beatport_track_id "
            "WHERE m.status = 'no_match' OR b.id IS NOT NULL")
    with BeatportReplica(catalogue) as replica:
        killed_and_resumed(
            "beatport", "beatport_tracks",
            {"BEATPORT_DOWNLOAD_DELAY": 0, "BEATPORT_CONCURRENT_REQUESTS": 4, "LOG_LEVEL": "INFO"},
            answered_now=lambda: answered_by(replica.stats), done_now=lambda url: max(count_rows(url, done), 0),
            target=int(len(rows) * opts.kill_at), with_jobdir=False, unit="searches",
            prepare=lambda url: seed_soundcloud(url, rows), env={"BEATPORT_URL": replica.url}, queries={
                "beatport_matches": "SELECT soundcloud_track_id, status, beatport_track_id FROM beatport_matches",
                "beatport_tracks": "SELECT id, name, bpm, key_name, waveform_url, artwork_url FROM beatport_tracks"})


if __name__ == "__main__":
    main()
