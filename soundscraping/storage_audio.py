"""Storage queries of the audio commands (``soundscraping audio-features``,
``audio-report``; Cambridge-MT post-processing): what to analyse, the
labels to compare with, and the writes.  ``%s`` placeholders on both engines
(``Database`` converts them for SQLite)."""

from __future__ import annotations

from dataclasses import dataclass

from soundscraping.storage import Database, Values

AUDIO_FEATURES = "audio_features"


@dataclass(frozen=True)
class StoredAudio:
    """A stored file to analyse: its owner row, URL and store path."""

    source_table: str
    source_id: str
    url: str
    path: str


def audio_to_analyse(db: Database, role: str, analyser_version: str, *, retry_errors: bool = False
                     ) -> list[StoredAudio]:
    """Stored files of ``role`` with no ``audio_features`` row by
    ``analyser_version`` (never analysed, or by another version), in owner
    order.  Rows that failed with this version are skipped unless
    ``retry_errors``."""
    failed = "" if not retry_errors else " OR f.error IS NOT NULL"
    rows = db.query(
        "SELECT m.owner_table, m.owner_id, m.url, m.path FROM media_files m "
        "LEFT JOIN audio_features f ON f.source_table = m.owner_table AND f.source_id = m.owner_id "
        f"WHERE m.role = %s AND m.path IS NOT NULL AND (f.source_id IS NULL OR f.analyser_version <> %s{failed}) "
        "ORDER BY m.owner_table, m.owner_id", (role, analyser_version))
    return [StoredAudio(*(str(v) for v in r)) for r in rows]


def write_audio_features(db: Database, rows: list[Values]) -> None:
    """Upsert ``audio_features`` rows (column order of the table) in one transaction."""
    db.write({AUDIO_FEATURES: rows})


@dataclass(frozen=True)
class LabelledEstimate:
    """A Beatport track's own bpm/key next to the analyser's estimate."""

    track_id: int
    label_bpm: float | None
    label_key: str | None
    bpm: float | None
    key: str | None
    scale: str | None


def beatport_estimates(db: Database, analyser_version: str | None = None) -> list[LabelledEstimate]:
    """Every analysed Beatport preview (optionally of one analyser version)
    with the track's ``bpm`` and ``key_name``, in track order."""
    where = "f.source_table = 'beatport_tracks' AND f.error IS NULL"
    params: tuple[str, ...] = ()
    if analyser_version:
        where += " AND f.analyser_version = %s"
        params = (analyser_version,)
    rows = db.query(
        "SELECT t.id, t.bpm, t.key_name, f.bpm, f.key, f.scale FROM audio_features f "
        f"JOIN beatport_tracks t ON CAST(t.id AS TEXT) = f.source_id WHERE {where} ORDER BY t.id", params)
    return [LabelledEstimate(int(r[0]), None if r[1] is None else float(r[1]), r[2],
                             None if r[3] is None else float(r[3]), r[4], r[5]) for r in rows]


def analysed_versions(db: Database) -> list[tuple[str, int]]:
    """(analyser_version, rows) of the Beatport previews analysed so far."""
    return [(str(r[0]), int(r[1])) for r in db.query(
        "SELECT analyser_version, COUNT(*) FROM audio_features WHERE source_table = 'beatport_tracks' "
        "GROUP BY analyser_version ORDER BY COUNT(*) DESC")]
