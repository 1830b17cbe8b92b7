"""``make demo``: the main job, offline, against the local SoundCloud replica.

Starts the replica (3 artists, every quirk on; api-v2 over HTTPS, where the
DataDome check judges the TLS handshake), crawls it into
data/demo/soundscraping.sqlite3 with images in data/demo/files, and prints
what was collected and which route served each artist's tracks: the first
artist gets through with impersonated TLS; the second's /tracks is refused to
every client (a browser pass is tried, then the stream of posts serves it);
the third's stream is refused too (toptracks, tracks_complete = false)."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from replicas.process import start_replica_process, stop_replica_process  # noqa: E402
from scripts.common import print_crawl_stats  # noqa: E402
from tests.crawl import run_crawl  # noqa: E402


def main() -> int:
    out = REPO / "data" / "demo"
    shutil.rmtree(out, ignore_errors=True)
    replica, info = start_replica_process("replicas.soundcloud", "--artists", "3", "--tracks", "6",
                                          "--comments", "8", "--error-5xx-every", "7", "--https",
                                          "--tracks-refused", "1,2", "--stream-refused", "2")
    database = out / "soundscraping.sqlite3"
    try:
        artists = ",".join(info["artists"] + info["missing"])
        print(f"Replica: {info['web']} (web), {info['api']} (api-v2). Crawling: {artists}")
        result = run_crawl("soundcloud_artists", out, args={"artists": artists},
                           env={"SOUNDCLOUD_URL": info["web"], "SOUNDCLOUD_API_URL": info["api"],
                                "TLS_CA_BUNDLE": info["ca_file"]},
                           settings={"DATABASE_URL": f"sqlite:///{database}", "FILES_STORE": out / "files"})
    finally:
        stop_replica_process(replica)
    print(f"crawl exit code {result.returncode}, finish reason {result.stats.get('finish_reason')}; "
          f"log: {out / 'crawl.log'}")
    conn = sqlite3.connect(database)
    for table in ("soundcloud_users", "soundcloud_tracks", "soundcloud_comments", "media_files"):
        print(f"  {table}: {conn.execute(f'SELECT count(*) FROM {table}').fetchone()[0]} rows")
    print("\nArtists:")
    for row in conn.execute("SELECT username, city, country_code, followers_count, track_count, tracks_complete "
                            "FROM soundcloud_users WHERE full_profile = 1 ORDER BY followers_count DESC"):
        print("  {} ({}, {}): {} followers, {} tracks, tracks_complete={}".format(*row[:5], bool(row[5])))
    print("\nRoute that served each artist's tracks:")
    for line in result.log.splitlines():
        if " tracks via " in line or "top tracks via toptracks" in line:
            print("  " + line.split("] ", 1)[-1])
    print("\nMost played tracks:")
    for title, plays, likes, minutes, dj_set in conn.execute(
            "SELECT title, playback_count, likes_count, duration_ms / 60000.0, is_dj_set FROM soundcloud_tracks "
            "ORDER BY playback_count DESC NULLS LAST LIMIT 5"):
        kind = "DJ set" if dj_set else "track"
        print(f"  {title!r} ({kind}, {minutes:.0f} min): {plays} plays, {likes} likes")
    print("\nComments pinned to a moment:")
    for body, ms, title in conn.execute(
            "SELECT c.body, c.timestamp_ms, t.title FROM soundcloud_comments c JOIN soundcloud_tracks t "
            "ON t.id = c.track_id WHERE c.timestamp_ms IS NOT NULL LIMIT 5"):
        print(f"  at {ms // 60000}:{ms // 1000 % 60:02d} in {title!r}: {body!r}")
    print_crawl_stats(result.stats)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
