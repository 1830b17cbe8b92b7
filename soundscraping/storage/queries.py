"""The named queries the spiders and commands run on the dataset: SQL lives
here, in storage, never in a spider.  ``%s`` placeholders on both engines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from soundscraping.storage.database import Database
from soundscraping.timestamps import utc_timestamp

# A SoundCloud track to look up on Beatport: (id, title, duration_ms, uploader's username).
_TRACKS_TO_MATCH = ("SELECT t.id, t.title, t.duration_ms, u.username FROM soundcloud_tracks t "
                    "LEFT JOIN soundcloud_users u ON u.id = t.user_id ")


def tracks_by_id(db: Database, track_ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """(id, title, duration_ms, uploader) of these SoundCloud tracks, by id;
    ids not in the dataset are absent."""
    if not track_ids:
        return []
    marks = ", ".join("%s" for _ in track_ids)
    return db.query(f"{_TRACKS_TO_MATCH} WHERE t.id IN ({marks}) ORDER BY t.id", tuple(track_ids))


def tracks_to_match(db: Database, searched_before: str | None) -> list[tuple[Any, ...]]:
    """(id, title, duration_ms, uploader) of the SoundCloud tracks (DJ sets
    excepted) never searched on Beatport or, with ``searched_before`` (a
    timestamp), last searched before it; by id.

    A search is done (the Beatport spider's unit of work) when its
    ``beatport_matches`` row is stored together with its last row: a
    ``matched`` row counts only once the ``beatport_tracks`` row it names is
    stored too (the match row can reach the database first: the track row
    waits for its images), so a crawl killed in between searches again."""
    where = ("NOT COALESCE(t.is_dj_set, FALSE) AND (m.soundcloud_track_id IS NULL"
             " OR (m.status = 'matched' AND b.id IS NULL)")
    params: tuple[Any, ...] = ()
    if searched_before is not None:
        where += " OR m.searched_at <= %s"
        params = (searched_before,)
    return db.query(f"{_TRACKS_TO_MATCH} LEFT JOIN beatport_matches m ON m.soundcloud_track_id = t.id "
                    f"LEFT JOIN beatport_tracks b ON b.id = m.beatport_track_id "
                    f"WHERE {where}) ORDER BY t.id", params)


def finished_units(db: Database, spider: str, job: str | None, after: str | None = None) -> set[str]:
    """The units ``spider`` finished in ``job`` and, with ``after`` (a
    timestamp), those any crawl of it finished later than that (see
    soundscraping.units)."""
    if "crawl_units" not in db.table_names() or (job is None and after is None):
        return set()
    where, params = [], [spider]
    if job is not None:
        where.append("job = %s")
        params.append(job)
    if after is not None:
        where.append("finished_at > %s")
        params.append(after)
    sql = f"SELECT DISTINCT unit FROM crawl_units WHERE spider = %s AND ({' OR '.join(where)})"
    return {r[0] for r in db.query(sql, tuple(params))}


def track_baselines(db: Database, user_id: int) -> dict[int, tuple[int | None, str | None]]:
    """What the dataset holds about a user's tracks, for a re-crawl: track id
    -> (comment_count, scraped_at).  A track row is stored only once its
    comments were read (soundcloud_artists), so its scraped_at is the last
    time its comments were complete, at that comment_count."""
    rows = db.query("SELECT id, comment_count, scraped_at FROM soundcloud_tracks WHERE user_id = %s", (user_id,))
    return {r[0]: (r[1], _timestamp_text(r[2])) for r in rows}


def _timestamp_text(value: Any) -> str | None:
    """A timestamp column as the dataset's text (PostgreSQL gives datetimes)."""
    if value is None or isinstance(value, str):
        return value
    return utc_timestamp(value if value.tzinfo else value.replace(tzinfo=UTC))
