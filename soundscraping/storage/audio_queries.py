"""The named queries of the audio commands (``soundscraping audio-features``,
``audio-report``; Cambridge-MT post-processing): what to analyse, the
labels to compare with, and the writes.  ``%s`` placeholders on both engines
(``Database`` converts them for SQLite).  Beside ``queries`` (the crawl's)
and ``analysis_queries``."""

from __future__ import annotations

from dataclasses import dataclass

from soundscraping.storage.database import Database
from soundscraping.storage.schema import Values

AUDIO_FEATURES = "audio_features"
# The tables `soundscraping cmt-postprocess` writes, one song per transaction.
CMT_POSTPROCESS_TABLES = ("cmt_stems", "cmt_mix_alignment", "cmt_audio_features", "cmt_postprocessed")


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
        "SELECT m.owner_table, m.owner_key, m.url, m.path FROM media_files m "
        "LEFT JOIN audio_features f ON f.source_table = m.owner_table AND f.source_id = m.owner_key "
        f"WHERE m.role = %s AND m.path IS NOT NULL AND (f.source_id IS NULL OR f.analyser_version <> %s{failed}) "
        "ORDER BY m.owner_table, m.owner_key", (role, analyser_version))
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


# --- Cambridge-MT post-processing ----------------------------------------------------------

def _urls(value: object) -> list[str]:
    """A text[] column as a list (PostgreSQL gives a list, SQLite JSON text)."""
    if value is None:
        return []
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


@dataclass(frozen=True)
class CmtSongFiles:
    """A song and its stored files: multitrack ZIPs (every part, in order),
    library previews and forum mixes, as (url, store path)."""

    artist: str
    title: str
    zips: list[tuple[str, str]]
    previews: list[tuple[str, str]]
    mixes: list[tuple[str, str]]

    @property
    def name(self) -> str:
        return f"{self.artist} - {self.title}"


def cmt_songs_to_process(db: Database, processor_version: str) -> tuple[list[CmtSongFiles], int]:
    """Songs with at least one stored multitrack ZIP and no
    ``cmt_postprocessed`` row by ``processor_version``, in (artist, title)
    order; and how many songs were already done."""
    stored: dict[str, dict[str, str]] = {}
    for owner, url, path in db.query("SELECT owner_key, url, path FROM media_files WHERE owner_table = 'cmt_songs' "
                                     "AND path IS NOT NULL"):
        stored.setdefault(str(owner), {})[str(url)] = str(path)
    mixes: dict[int, list[tuple[str, str]]] = {}
    for url, path, fid in db.query(
            "SELECT m.url, m.stored_path, t.forum_fid FROM cmt_mixes m JOIN cmt_forum_threads t ON t.tid = m.tid "
            "WHERE m.stored_path IS NOT NULL AND t.forum_fid IS NOT NULL ORDER BY m.url"):
        mixes.setdefault(int(fid), []).append((str(url), str(path)))
    done = {(r[0], r[1]) for r in db.query("SELECT artist, title FROM cmt_postprocessed WHERE processor_version = %s",
                                           (processor_version,))}
    songs, skipped = [], 0
    for artist, title, multitracks, full_preview, excerpt_preview, fid in db.query(
            "SELECT artist, title, multitrack_urls, full_preview_url, excerpt_preview_url, forum_fid FROM cmt_songs "
            "ORDER BY artist, title"):
        files = stored.get(f"{artist} / {title}", {})
        zips = [(u, files[u]) for u in _urls(multitracks) if u in files]
        if not zips:
            continue
        if (artist, title) in done:
            skipped += 1
            continue
        previews = [(u, files[u]) for u in (full_preview, excerpt_preview) if u and u in files]
        songs.append(CmtSongFiles(artist, title, zips, previews, mixes.get(int(fid), []) if fid is not None else []))
    return songs, skipped


def write_cmt_song(db: Database, *, stems: list[Values], alignments: list[Values], features: list[Values],
                   processed: Values) -> None:
    """A song's rows and its ``cmt_postprocessed`` mark, in one transaction:
    a killed run leaves the song either done or to do."""
    db.write({"cmt_stems": stems, "cmt_mix_alignment": alignments, "cmt_audio_features": features,
              "cmt_postprocessed": [processed]})
