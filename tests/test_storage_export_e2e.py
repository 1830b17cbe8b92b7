"""``soundscraping export`` on a real crawl of the SoundCloud replica (images
and waveforms stored): the Parquet files read back with pyarrow and with
DuckDB equal the database rows, types included; PostgreSQL and SQLite holding
the same rows give the same files; the data card names every column of every
table; the documented media JOINs return every stored file; every stored row
carries the crawl run that wrote it, whose settings hide the secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from replicas.soundcloud import Quirks, SoundCloudReplica, WorldConfig, build_world
from soundscraping.sites.soundcloud.parsers import banner_url, image_variant
from soundscraping.storage import TABLES, Database
from soundscraping.storage.export_queries import MEDIA_JOINS, MEDIA_URL_JOINS
from soundscraping.timestamps import utc_timestamp
from tests.crawl import REPO, query, run_crawl
from tests.test_soundcloud_artists_e2e import artist_refs, expected_comments, expected_tracks, site_env

DUCKDB_TYPES = {"bigint": "BIGINT", "int": "INTEGER", "text": "VARCHAR", "bool": "BOOLEAN",
                "timestamp": "TIMESTAMP WITH TIME ZONE", "float": "DOUBLE", "date": "DATE", "text[]": "VARCHAR[]"}
SECRET = "sekrit-key-4711"


def export(url: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "soundscraping", "export", "--database-url", url, "--out", str(out),
                           *extra], cwd=REPO, capture_output=True, text=True, timeout=120)


def plain(value: Any) -> Any:
    """One value as both engines' rows and both readers compare: instants as
    UTC microseconds, SQLite's 0/1 and JSON lists as what they stand for."""
    if isinstance(value, datetime):
        return round(value.astimezone(UTC).timestamp() * 1_000_000)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def database_rows(url: str, name: str) -> list[list[Any]]:
    """The table as the database holds it (PostgreSQL's own types), in key order."""
    table = TABLES[name]
    rows = query(url, f"SELECT {', '.join(table.column_names)} FROM {name}")
    return sorted(([plain(v) for v in row] for row in rows), key=lambda r: [str(r[i]) for i in table.key_positions])


def file_rows(records: list[dict[str, Any]], name: str) -> list[list[Any]]:
    table = TABLES[name]
    return sorted(([plain(r[c]) for c in table.column_names] for r in records),
                  key=lambda r: [str(r[i]) for i in table.key_positions])


def copy_into_sqlite(pg_url: str, sqlite_url: str) -> None:
    """The same rows in SQLite, written through the project's writer as a crawl would."""
    db = Database.from_url(sqlite_url)
    db.connect()
    db.ensure_schema()
    for name, table in TABLES.items():
        rows = [tuple(utc_timestamp(v) if isinstance(v, datetime) else v for v in row)
                for row in query(pg_url, f"SELECT {', '.join(table.column_names)} FROM {name}")]
        if rows:
            db.write({name: rows})
    db.close()


def test_export_of_a_crawl_reads_back_equal_on_both_engines_with_joins_card_and_provenance(
        tmp_path: Path, pg_url: str) -> None:
    world = build_world(WorldConfig(artists=3, tracks_per_artist=4, comments_per_track=5))
    files = tmp_path / "files"
    # trust authentication takes any password: one is in the URL to be masked
    url = pg_url.replace("postgresql://postgres@", "postgresql://postgres:hunter2@")
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica:
        result = run_crawl("soundcloud_artists", tmp_path, args={"artists": artist_refs(world, replica)},
                           env=site_env(replica), settings={"DATABASE_URL": url, "FILES_STORE": files,
                                                            "AWS_SECRET_ACCESS_KEY": SECRET})
    assert result.returncode == 0, result.log[-3000:]

    # Provenance: one run, every crawled row carries it, secrets masked.
    runs = query(pg_url, "SELECT id, spider, arguments, settings, finish_reason, started_at, finished_at, stats "
                         "FROM crawl_runs")
    assert len(runs) == 1
    run_id, spider, arguments, settings, reason, started, finished, stats = runs[0]
    assert (spider, reason) == ("soundcloud_artists", "finished") and started <= finished
    assert json.loads(arguments)["artists"] and json.loads(stats)["item_scraped_count"] > 0
    assert SECRET not in settings and "hunter2" not in settings
    recorded = json.loads(settings)
    assert recorded["AWS_SECRET_ACCESS_KEY"] == "***" and ":***@" in recorded["DATABASE_URL"]
    for name in ("soundcloud_users", "soundcloud_tracks", "soundcloud_track_stats", "soundcloud_comments",
                 "media_files"):
        assert query(pg_url, f"SELECT DISTINCT crawl_run_id FROM {name}") == [(run_id,)], name

    # The documented JOINs return every stored file, each with its role.
    media = dict(query(pg_url, "SELECT url, role FROM media_files"))
    joined = {row[-2]: row[-3] for sql in MEDIA_JOINS.values() for row in query(pg_url, sql)}
    assert joined == media and None not in media.values()
    assert set(media.values()) == {"avatar", "banner", "artwork", "waveform"}
    expected = {image_variant(a["avatar_url"]) for a in world.artists} | {banner_url(a) for a in world.artists}
    expected |= {u for t in expected_tracks(world).values() for u in (image_variant(t["artwork_url"]),
                                                                    t["waveform_url"])}
    assert set(media) == expected - {None}
    # ...and so do the JOINs on the URL as the owner row stores it (-large.jpg for a 500x500 file).
    assert {row[1] for sql in MEDIA_URL_JOINS.values() for row in query(pg_url, sql)} == set(media)

    sqlite_url = f"sqlite:///{tmp_path}/copy.sqlite3"
    copy_into_sqlite(pg_url, sqlite_url)
    outs = {"postgresql": tmp_path / "pg", "sqlite": tmp_path / "sqlite"}
    for engine, db_url in (("postgresql", url), ("sqlite", sqlite_url)):
        done = export(db_url, outs[engine])
        assert done.returncode == 0, done.stderr
    for name, table in TABLES.items():
        pg_file, lite_file = (pq.read_table(outs[e] / f"{name}.parquet") for e in ("postgresql", "sqlite"))
        assert pg_file.equals(lite_file), f"{name}: the same file from both engines"
        want = database_rows(pg_url, name)
        assert file_rows(pg_file.to_pylist(), name) == want, name
        con = duckdb.connect()
        relation = con.sql(f"SELECT * FROM read_parquet('{outs['sqlite'] / f'{name}.parquet'}')")
        assert relation.columns == list(table.column_names)
        assert [str(t) for t in relation.types] == [DUCKDB_TYPES[c.kind] for c in table.columns], name
        duck = [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]
        assert file_rows(duck, name) == want, name
        con.close()
    assert pq.read_table(outs["sqlite"] / "soundcloud_comments.parquet").num_rows == len(expected_comments(world))

    # The data card: every column of every table, with its type; the run the rows came from.
    card = json.loads((outs["sqlite"] / "datacard.json").read_text())
    assert {n: [c["name"] for c in t["columns"]] for n, t in card["tables"].items()} == {
        n: list(t.column_names) for n, t in TABLES.items()}
    assert all(c["unit"] is not None and c["null"] for t in card["tables"].values() for c in t["columns"])
    assert card["tables"]["soundcloud_tracks"]["crawl_run_ids"] == [run_id]
    assert [r["id"] for r in card["crawl_runs"]] == [run_id]
    assert card["tables"]["soundcloud_comments"]["rows"] == pq.read_table(
        outs["sqlite"] / "soundcloud_comments.parquet").num_rows
    markdown = (outs["sqlite"] / "datacard.md").read_text()
    for name, table in TABLES.items():
        assert f"## `{name}`" in markdown
        section = markdown.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
        assert all(f"| `{c}` |" in section for c in table.column_names), name
    assert SECRET not in markdown + (outs["postgresql"] / "datacard.json").read_text()


TRICKY = {
    "beatport_tracks": [
        (5, 123, "https://www.beatport.com/track/x/5", "Tesla", "Extended Mix", 126, "A Minor", "8A", "Tech House",
         None, "2024-02-03", "Label, Inc.", "CAT1", "ISRC1", ["Mau P", 'Guest "Jr."', "Ünïcødé 🔥"], [], 300000,
         None, None, 0.1 + 0.2, "2026-01-01T10:00:00Z", None, None, None, 42),
        (6, None, "u6", "", None, None, None, None, None, None, None, None, None, None, None, ["R"], None, None,
         None, -1e-300, "2026-01-02T10:00:00Z", None, 0, 120000, None),
    ],
    "cmt_forum_posts": [(1, 10, "a", "2024-03-19T13:04:00Z", 'line one\nline "two", with comma\n\nend'),
                        (2, 10, "", None, ""), (3, None, None, None, None)],
    "soundcloud_comment_sentiment": [(7, -0.5423, "negative", "en", "v1", "2026-01-01T00:00:00Z"),
                                     (8, None, None, "fr", "v1", "2026-01-01T00:00:01Z")],
}


def test_tricky_values_give_the_same_files_from_both_engines(tmp_path: Path, pg_url: str) -> None:
    """Quotes, commas, line breaks, empty strings beside NULLs, empty and
    NULL lists, dates, floats to the last bit: PostgreSQL's path (COPY's CSV
    parsed by Arrow) and SQLite's (rows converted one by one) agree."""
    sqlite_url = f"sqlite:///{tmp_path}/tricky.sqlite3"
    for url in (pg_url, sqlite_url):
        db = Database.from_url(url)
        db.connect()
        db.ensure_schema()
        db.write(TRICKY)
        db.close()
        done = export(url, tmp_path / url.split(":")[0], "--tables", ",".join(TRICKY))
        assert done.returncode == 0, done.stderr
    for name, rows in TRICKY.items():
        pg_file, lite_file = (pq.read_table(tmp_path / e / f"{name}.parquet") for e in ("postgresql", "sqlite"))
        assert pg_file.equals(lite_file), name
        width = len(TABLES[name].columns)  # rows written outside a crawl: crawl_run_id NULL
        want = sorted(([plain(v) for v in row] + [None] * (width - len(row)) for row in rows), key=lambda r: r[0])
        got = [[plain(v) for v in r.values()] for r in pg_file.to_pylist()]
        for row in want:  # timestamps and dates as the files hold them
            for i, c in enumerate(TABLES[name].columns):
                if row[i] is not None and c.kind == "timestamp":
                    row[i] = plain(datetime.fromisoformat(row[i].replace("Z", "+00:00")))
        assert got == want, name
