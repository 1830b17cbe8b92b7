"""``soundscraping sentiment`` and ``soundscraping moments``."""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soundscraping.storage import Database, StorageError, Values, default_database_url, mask_url
from soundscraping.storage import analysis_queries as queries

if TYPE_CHECKING:
    from soundscraping.analysis.moments import Moment
    from soundscraping.analysis.moments_view import Waveform

logger = logging.getLogger("soundscraping.analysis")

EXTRA_MISSING = ("needs the 'analysis' extra (vaderSentiment, lingua-language-detector): "
                 "pip install -e '.[analysis]' in the checkout, or `make install`")


def database_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=None,
                        help="database (default: the DATABASE_URL setting/env var, "
                             "sqlite:///data/soundscraping.sqlite3)")


def add_sentiment_arguments(parser: argparse.ArgumentParser) -> None:
    database_argument(parser)
    parser.add_argument("--batch-size", type=int, default=5000, metavar="N",
                        help="comments scored and committed per transaction (default 5000)")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="stop after about N comments (default: all that need a score)")


def add_moments_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--track-id", type=int, metavar="N",
                       help="compute, store and draw the moments of track N (PNG + self-contained HTML in --out)")
    which.add_argument("--all", action="store_true",
                       help="compute and store the moments of every track with timed comments")
    parser.add_argument("--out", type=Path, default=Path("data/moments"), metavar="DIR",
                        help="folder for moments-<track id>.png/.html (default data/moments)")
    parser.add_argument("--files-store", default=None,
                        help="where the media pipeline stored files (default: the FILES_STORE setting)")
    from soundscraping.analysis import moments

    parser.add_argument("--bandwidth", type=float, default=moments.BANDWIDTH_S, metavar="SECONDS",
                        help=f"kernel bandwidth of the comment density (default {moments.BANDWIDTH_S})")
    parser.add_argument("--prominence", type=float, default=moments.PROMINENCE, metavar="RATE",
                        help="how far a peak must rise above its surroundings, in track-average rates "
                             f"(default {moments.PROMINENCE})")
    database_argument(parser)


def run_with_database(args: argparse.Namespace, prog: str, work: Callable[[Database, argparse.Namespace], int],
                      extra_missing: str = EXTRA_MISSING) -> int:
    """Open the database, run ``work``; mistakes, a missing extra and
    database errors become one stderr line and exit 2."""
    import psycopg2

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    url = args.database_url or default_database_url()
    try:
        db = Database.from_url(url)
        db.connect()
        try:
            db.ensure_schema()
            return work(db, args)
        finally:
            db.close()
    except ImportError as exc:
        print(f"{prog}: error: {prog} {extra_missing} ({exc})", file=sys.stderr)
        return 2
    except (StorageError, ValueError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except (psycopg2.Error, sqlite3.Error) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"{prog}: error: database error ({mask_url(url)}): {first}", file=sys.stderr)
        return 2


def utc_now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- sentiment -------------------------------------------------------------------------

def run_sentiment_cli(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        print("soundscraping sentiment: error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    return run_with_database(args, "soundscraping sentiment", score_comments)


def score_comments(db: Database, args: argparse.Namespace) -> int:
    """Score every comment without a score by the current model version, one
    committed transaction per batch: a killed run loses at most one batch
    and the next run goes on from there."""
    from soundscraping.analysis.sentiment import MusicSentiment

    started = time.monotonic()
    model = MusicSentiment()
    pending = queries.count_unscored(db, model.version)
    logger.info("Model %s: %d comments to score in %s", model.version, pending, mask_url(db.url))
    after, done, languages = 0, 0, Counter[str]()
    try:
        while args.limit is None or done < args.limit:
            size = args.batch_size if args.limit is None else min(args.batch_size, args.limit - done)
            page = queries.unscored_comments(db, model.version, after, size)
            if not page:
                break
            scores = model.score_many([body for _, body in page])
            now = utc_now_text()
            rows: list[Values] = [(cid, s.compound, s.label, s.language, model.version, now)
                                  for (cid, _), s in zip(page, scores, strict=True)]
            queries.write_sentiment(db, rows)
            after, done = page[-1][0], done + len(page)
            languages.update("scored" if s.compound is not None else "not covered" if s.language else "no body"
                             for s in scores)
            rate = done / max(time.monotonic() - started, 1e-9)
            logger.info("Scored %d/%d comments (%.0f a second)", done, pending, rate)
    except KeyboardInterrupt:
        print(f"interrupted: {done} comments scored and kept; run again to score the rest", file=sys.stderr)
        return 130
    elapsed = time.monotonic() - started
    print(f"scored {done} comments in {elapsed:.1f} s with {model.version}: {languages['scored']} scored, "
          f"{languages['not covered']} in languages the model does not cover (NULL), "
          f"{languages['no body']} without a body (NULL); {pending - done} still to score")
    return 0


# --- moments ---------------------------------------------------------------------------

def run_moments_cli(args: argparse.Namespace) -> int:
    if args.bandwidth <= 0 or args.prominence <= 0:
        print("soundscraping moments: error: --bandwidth and --prominence must be positive", file=sys.stderr)
        return 2
    return run_with_database(args, "soundscraping moments", moments_command)


def _model_version() -> str:
    """Moments average the scores of the current sentiment model only."""
    from importlib.metadata import PackageNotFoundError

    from soundscraping.analysis.sentiment import music_model_version

    try:
        return music_model_version()
    except PackageNotFoundError:
        logger.warning("vaderSentiment is not installed: moments get no mean sentiment")
        return ""


def _moment_rows(track_id: int, found: list[Moment], version: str, now: str) -> list[Values]:
    return [(track_id, m.start_ms, m.end_ms, m.peak_ms, m.comment_count, m.mean_sentiment, m.scored_comments,
             m.density, m.prominence, version or None, now) for m in found]


def moments_command(db: Database, args: argparse.Namespace) -> int:
    from soundscraping.analysis.moments import find_moments

    version = _model_version()
    options = {"bandwidth_s": args.bandwidth, "prominence": args.prominence}
    if args.track_id is not None:
        return draw_track(db, args, version, options)
    tracks = queries.tracks_with_timed_comments(db)
    logger.info("Moments of %d tracks with timed comments (bandwidth %.1f s, prominence %.1f)",
                len(tracks), args.bandwidth, args.prominence)
    total, batch = 0, 200
    for first in range(0, len(tracks), batch):
        chunk = tracks[first:first + batch]
        comments = queries.timed_comments(db, [t for t, _ in chunk], version)
        now = utc_now_text()
        rows = {t: _moment_rows(t, find_moments(comments[t], duration, **options), version, now)
                for t, duration in chunk}
        queries.replace_moments(db, rows)
        total += sum(len(r) for r in rows.values())
        logger.info("Moments: %d/%d tracks done, %d moments so far", first + len(chunk), len(tracks), total)
    print(f"stored {total} moments of {len(tracks)} tracks in soundcloud_track_moments")
    return 0


def draw_track(db: Database, args: argparse.Namespace, version: str, options: dict[str, Any]) -> int:
    from soundscraping.analysis.moments import comment_density, find_moments
    from soundscraping.analysis.moments_view import draw_html, draw_png

    track = queries.track_info(db, args.track_id)
    if track is None:
        raise ValueError(f"no track {args.track_id} in {mask_url(db.url)} (crawl it first)")
    comments = queries.timed_comments(db, [track.id], version)[track.id]
    found = find_moments(comments, track.duration_ms, **options)
    queries.replace_moments(db, {track.id: _moment_rows(track.id, found, version, utc_now_text())})
    density = comment_density([c[0] for c in comments], track.duration_ms, options["bandwidth_s"])
    waveform = load_waveform(db, track.id, args.files_store)
    args.out.mkdir(parents=True, exist_ok=True)
    png, page = args.out / f"moments-{track.id}.png", args.out / f"moments-{track.id}.html"
    draw_png(png, track.id, track.title, density, found, comments, waveform)
    draw_html(page, track.id, track.title, density, found, comments, waveform)
    print(f"track {track.id} {track.title!r}: {len(comments)} timed comments, {len(found)} moments, "
          f"waveform {'drawn' if waveform else 'not stored'}")
    for m in found:
        mean = "n/a" if m.mean_sentiment is None else f"{m.mean_sentiment:+.2f}"
        print(f"  {m.start_ms / 1000:7.1f}-{m.end_ms / 1000:7.1f} s  peak {m.peak_ms / 1000:7.1f} s  "
              f"{m.comment_count:4d} comments  mean sentiment {mean}")
    print(f"wrote {png} and {page}")
    return 0


def load_waveform(db: Database, track_id: int, files_store: str | None) -> Waveform | None:
    """The track's stored waveform, or None (not stored, missing, or not a
    waveform: logged, the picture is drawn without it)."""
    from scrapy.settings import Settings

    from soundscraping.analysis.moments_view import Waveform
    from soundscraping.media.stores import read_stored_file

    path = queries.stored_waveform(db, track_id)
    if path is None:
        return None
    settings = Settings()
    settings.setmodule("soundscraping.settings")
    store = files_store or settings.get("FILES_STORE")
    try:
        data = read_stored_file(store, path, settings)
    except Exception as exc:  # noqa: BLE001 - any store failure: draw without the waveform
        logger.warning("Waveform of track %d not read from %s: %s", track_id, store, exc)
        return None
    if data is None:
        logger.warning("Waveform of track %d is listed in media_files but missing from %s/%s", track_id, store, path)
        return None
    try:
        return Waveform.from_json(data)
    except ValueError as exc:
        logger.warning("Waveform of track %d (%s) not drawn: %s", track_id, path, exc)
        return None
