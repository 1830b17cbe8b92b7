"""The Beatport job, offline, against the local Beatport replica.

Starts the replica with Cloudflare's challenge on (Chromium passes it),
stores 20 SoundCloud-style uploads (and one DJ set) in
data/demo-beatport/soundscraping.sqlite3, runs ``scrapy crawl beatport_tracks``
with the polite defaults lowered for the local replica, and prints what was
matched, what was not, and the crawl stats.

    .venv/bin/python scripts/demo_beatport.py
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from replicas.beatport import build_catalogue, labelled_uploads  # noqa: E402
from replicas.process import start_replica_process, stop_replica_process  # noqa: E402
from scripts.common import print_crawl_stats  # noqa: E402
from soundscraping.storage import Database  # noqa: E402
from soundscraping.timestamps import utc_now  # noqa: E402
from tests.crawl import run_crawl  # noqa: E402


def seed(database_url: str) -> None:
    uploads = labelled_uploads(build_catalogue())[:20]
    db = Database.from_url(database_url)
    db.connect()
    db.ensure_schema()
    users = [(100 + i, None, u.uploader, *[None] * 11, True, utc_now(), None) for i, u in enumerate(uploads)]
    tracks = [(1000 + i, 100 + i, u.title, None, None, None, u.duration_ms, *[None] * 6, False, utc_now(), None)
              for i, u in enumerate(uploads)]
    tracks.append((2000, 100, "Ibiza Closing Party 2025 (3h DJ set)", None, None, None, 10_800_000, *[None] * 6,
                   True, utc_now(), None))
    db.write({"soundcloud_users": users, "soundcloud_tracks": tracks})
    db.close()


def main() -> int:
    out = REPO / "data" / "demo-beatport"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    database = out / "soundscraping.sqlite3"
    seed(f"sqlite:///{database}")
    replica, info = start_replica_process("replicas.beatport", "--challenge")
    try:
        print(f"Replica: {info['url']} ({info['tracks']} tracks, Cloudflare challenge on)")
        result = run_crawl("beatport_tracks", out, env={"BEATPORT_URL": info["url"]},
                           settings={"DATABASE_URL": f"sqlite:///{database}", "FILES_STORE": out / "files",
                                     "BEATPORT_DOWNLOAD_DELAY": 0.1, "BEATPORT_CONCURRENT_REQUESTS": 2})
    finally:
        stop_replica_process(replica)
    print(f"crawl exit code {result.returncode}, finish reason {result.stats.get('finish_reason')}; "
          f"log: {out / 'crawl.log'}\n")
    conn = sqlite3.connect(database)
    rows = conn.execute(
        "SELECT t.title, m.status, b.name, b.mix_name, b.artists, b.bpm, b.camelot, b.label, m.match_score "
        "FROM soundcloud_tracks t LEFT JOIN beatport_matches m ON m.soundcloud_track_id = t.id "
        "LEFT JOIN beatport_tracks b ON b.id = m.beatport_track_id ORDER BY m.status, t.id")
    for title, status, name, mix, artists, bpm, key, label, score in rows:
        if status == "matched":
            print(f"  {title!r}\n      -> {', '.join(json.loads(artists))} - {name} ({mix}) "
                  f"[{label}] {bpm} BPM {key}, score {score:.2f}")
        else:
            print(f"  {title!r}\n      -> {status or 'not searched (DJ set)'}")
    files = conn.execute("SELECT count(*) FROM media_files WHERE owner_table = 'beatport_tracks'").fetchone()[0]
    print(f"\n{files} waveform/artwork images in {out / 'files'}")
    print_crawl_stats(result.stats)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
