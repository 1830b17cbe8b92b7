"""The named queries the spiders and commands run on the dataset: SQL lives
here, in storage, never in a spider.  ``%s`` placeholders on both engines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from soundscraping.storage.database import Database

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
    timestamp), last searched before it; by id."""
    where = "NOT COALESCE(t.is_dj_set, FALSE) AND (m.soundcloud_track_id IS NULL"
    params: tuple[Any, ...] = ()
    if searched_before is not None:
        where += " OR m.searched_at < %s"
        params = (searched_before,)
    return db.query(f"{_TRACKS_TO_MATCH} LEFT JOIN beatport_matches m ON m.soundcloud_track_id = t.id "
                    f"WHERE {where}) ORDER BY t.id", params)


def graph_visits(db: Database) -> list[tuple[Any, ...]]:
    """(user_id, position) of every account the graph crawl has visited."""
    return db.query("SELECT user_id, position FROM soundcloud_graph_visits")


def graph_scores(db: Database, weights: Mapping[str, float]) -> list[tuple[Any, ...]]:
    """(account, score, followers, permalink) of every account that received
    interactions from visited accounts; score = the sum of their ``weights``
    (an interaction kind without a weight counts 0)."""
    case = " ".join("WHEN %s THEN %s" for _ in weights)
    params = tuple(v for kind, weight in weights.items() for v in (kind, float(weight)))
    score = f"SUM(CASE i.kind {case} ELSE 0 END)" if weights else "0"
    return db.query(
        f"SELECT i.target_user_id, {score}, MAX(u.followers_count), MAX(u.permalink) "
        "FROM soundcloud_interactions i "
        "JOIN soundcloud_graph_visits v ON v.user_id = i.source_user_id "
        "LEFT JOIN soundcloud_users u ON u.id = i.target_user_id GROUP BY i.target_user_id", params)


def finished_units(db: Database, spider: str, job: str) -> set[str]:
    """The units ``spider`` finished in ``job`` (see soundscraping.units)."""
    if "crawl_units" not in db.table_names():
        return set()
    return {r[0] for r in db.query("SELECT unit FROM crawl_units WHERE spider = %s AND job = %s", (spider, job))}
