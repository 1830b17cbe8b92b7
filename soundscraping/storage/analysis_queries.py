"""The named queries of the analysis commands (``soundscraping sentiment``,
``soundscraping moments``, see ``soundscraping.analysis``): what to score,
what to draw, and the writes.  Beside ``queries`` (the crawl's); ``%s``
placeholders on both engines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from soundscraping.storage.database import Database
from soundscraping.storage.schema import TABLES, Values

SENTIMENT = "soundcloud_comment_sentiment"
MOMENTS = "soundcloud_track_moments"

_UNSCORED = ("FROM soundcloud_comments c LEFT JOIN soundcloud_comment_sentiment s ON s.comment_id = c.id "
             "WHERE (s.comment_id IS NULL OR s.model_version <> %s)")


def count_unscored(db: Database, model_version: str) -> int:
    """Comments with no score by ``model_version`` (never scored, or by an
    older version)."""
    return int(db.query(f"SELECT COUNT(*) {_UNSCORED}", (model_version,))[0][0])


def unscored_comments(db: Database, model_version: str, after_id: int, limit: int) -> list[tuple[int, str | None]]:
    """The next ``limit`` (id, body) of comments not scored by
    ``model_version``, in id order after ``after_id`` (keyset pages: a re-run
    after a kill starts where the last committed page ended)."""
    return [(int(r[0]), r[1]) for r in db.query(
        f"SELECT c.id, c.body {_UNSCORED} AND c.id > %s ORDER BY c.id LIMIT %s", (model_version, after_id, limit))]


def write_sentiment(db: Database, rows: list[Values]) -> None:
    """Upsert (comment_id, compound, label, language, model_version,
    scored_at) rows in one transaction."""
    db.write({SENTIMENT: rows})


@dataclass(frozen=True)
class TrackInfo:
    id: int
    title: str | None
    permalink_url: str | None
    duration_ms: int | None


def track_info(db: Database, track_id: int) -> TrackInfo | None:
    rows = db.query("SELECT id, title, permalink_url, duration_ms FROM soundcloud_tracks WHERE id = %s", (track_id,))
    return TrackInfo(*rows[0]) if rows else None


def tracks_with_timed_comments(db: Database) -> list[tuple[int, int | None]]:
    """(track id, duration_ms) of every track with at least one comment that
    has a timestamp, in id order."""
    return [(int(r[0]), r[1]) for r in db.query(
        "SELECT t.id, t.duration_ms FROM soundcloud_tracks t WHERE EXISTS (SELECT 1 FROM soundcloud_comments c "
        "WHERE c.track_id = t.id AND c.timestamp_ms IS NOT NULL) ORDER BY t.id")]


def timed_comments(db: Database, track_ids: Sequence[int], model_version: str
                   ) -> dict[int, list[tuple[int, float | None]]]:
    """track id -> (timestamp_ms, compound by ``model_version`` or None) of
    its comments with a timestamp, in timestamp order."""
    if not track_ids:
        return {}
    marks = ", ".join("%s" for _ in track_ids)
    out: dict[int, list[tuple[int, float | None]]] = {int(t): [] for t in track_ids}
    for track_id, stamp, compound in db.query(
            f"SELECT c.track_id, c.timestamp_ms, s.compound FROM soundcloud_comments c "
            f"LEFT JOIN soundcloud_comment_sentiment s ON s.comment_id = c.id AND s.model_version = %s "
            f"WHERE c.track_id IN ({marks}) AND c.timestamp_ms IS NOT NULL ORDER BY c.track_id, c.timestamp_ms",
            (model_version, *track_ids)):
        out[int(track_id)].append((int(stamp), None if compound is None else float(compound)))
    return out


def stored_waveform(db: Database, track_id: int) -> str | None:
    """Store path of the track's waveform JSON (``waveform_url``, kept by the
    media pipeline as a ``media_files`` row owned by the track), or None."""
    rows = db.query("SELECT path FROM media_files WHERE owner_table = 'soundcloud_tracks' AND owner_id = %s "
                    "AND path LIKE %s ORDER BY stored_at DESC", (str(track_id), "%.json"))
    return rows[0][0] if rows else None


def replace_moments(db: Database, moments_by_track: dict[int, list[Values]]) -> None:
    """Replace the stored moments of each given track with the given rows
    (column order of ``soundcloud_track_moments``), in one transaction: a
    track whose peaks moved keeps no stale ones."""
    table = TABLES[MOMENTS]
    insert = (f"INSERT INTO {MOMENTS} ({', '.join(table.column_names)}) "
              f"VALUES ({', '.join('%s' for _ in table.columns)})")
    statements: list[str | tuple[str, tuple[Any, ...]]] = []
    for track_id, rows in moments_by_track.items():
        statements.append((f"DELETE FROM {MOMENTS} WHERE track_id = %s", (track_id,)))
        statements += [(insert, tuple(row)) for row in rows]
    db.execute(statements)


def moments_of(db: Database, track_id: int) -> list[dict[str, Any]]:
    names = TABLES[MOMENTS].column_names
    return [dict(zip(names, r, strict=True)) for r in db.query(
        f"SELECT {', '.join(names)} FROM {MOMENTS} WHERE track_id = %s ORDER BY start_ms", (track_id,))]
