"""Benchmark: ``soundscraping sentiment`` over 300,000 comments (target < 60 s).

    python scripts/bench_sentiment.py [--comments 300000] [--database-url URL]

Builds a throw-away PostgreSQL database (or uses --database-url), fills
soundcloud_comments with comments made from the labelled set's texts and the
replica's comment bodies (combined, with timestamps and emoji added, about 17%
in other languages), then times the command end to end as a user runs it
(model load, language detection, every batch read and committed) and prints
the figure, plus the model's throughput without the database.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from replicas.soundcloud.world import _COMMENT_BODIES  # noqa: E402
from scripts.eval_sentiment import load  # noqa: E402
from soundscraping.storage import Database  # noqa: E402
from tests.crawl import PG_ADMIN, admin  # noqa: E402


def make_comments(n: int, seed: int = 7) -> list[str]:
    """Realistic comment texts: real-style short ones, some joined, some with
    a timestamp or trailing emoji."""
    rng = random.Random(seed)
    pool = [r["text"] for r in load()] + list(_COMMENT_BODIES)
    out = []
    for _ in range(n):
        text = rng.choice(pool)
        r = rng.random()
        if r < 0.15:
            text = f"{text} {rng.choice(pool)}"
        elif r < 0.25:
            text = f"{rng.randrange(10)}:{rng.randrange(60):02d} {text}"
        elif r < 0.32:
            text = f"{text} {rng.choice(['🔥', '🔥🔥', '😍', '💯', '🙌', '!!'])}"
        out.append(text)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=300_000)
    parser.add_argument("--database-url", default=None, help="use this database (its comments are added to)")
    args = parser.parse_args()
    texts = make_comments(args.comments)

    from soundscraping.analysis.sentiment import MusicSentiment

    started = time.perf_counter()
    model = MusicSentiment()
    sample = texts[:50_000]
    model.score_many(sample)
    model_rate = len(sample) / (time.perf_counter() - started)

    name = None
    url = args.database_url
    if url is None:
        name = f"bench_sentiment_{uuid.uuid4().hex[:8]}"
        admin(f"CREATE DATABASE {name}")
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        db = Database.from_url(url)
        db.connect()
        db.ensure_schema()
        # 200 comments a track, at pseudo-random moments of a 5-minute track.
        rows = [(9_000_000_000 + i, 1 + i // 200, 5, text, (i * 7919) % 300_000, None) for i, text in enumerate(texts)]
        for first in range(0, len(rows), 50_000):
            db.write({"soundcloud_comments": rows[first:first + 50_000]})
        tracks = [(t, 5, f"Track {t}", None, None, None, 300_000, None, None, None, None, None, None, False, None, None)
                  for t in range(1, 2 + len(texts) // 200)]
        db.write({"soundcloud_tracks": tracks})
        db.close()
        print(f"{len(texts):,} comments in {url.rsplit('/', 1)[-1]}; cores: {os.cpu_count()}")
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "soundscraping", "sentiment", "--database-url", url],
                                cwd=ROOT, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            print(result.stderr[-2000:], file=sys.stderr)
            return 1
        print(result.stdout.strip())
        print(f"model alone (no database, first 50,000 incl. model load): {model_rate:,.0f} comments/s")
        started = time.perf_counter()
        moments = subprocess.run([sys.executable, "-m", "soundscraping", "moments", "--all", "--database-url", url],
                                 cwd=ROOT, capture_output=True, text=True)
        if moments.returncode != 0:
            print(moments.stderr[-2000:], file=sys.stderr)
            return 1
        print(f"soundscraping moments --all: {moments.stdout.strip()} in {time.perf_counter() - started:.1f} s")
        print(f"soundscraping sentiment, {len(texts):,} comments end to end: {elapsed:.1f} s "
              f"({len(texts) / elapsed:,.0f} comments/s) — target < 60 s: {'met' if elapsed < 60 else 'MISSED'}")
        return 0 if elapsed < 60 else 1
    finally:
        if name:
            admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
