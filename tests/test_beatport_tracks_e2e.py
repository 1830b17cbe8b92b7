"""End to end: `scrapy crawl beatport_tracks` against the Beatport replica, from
SoundCloud tracks seeded in real PostgreSQL (or SQLite) to beatport_tracks /
beatport_matches rows and images in FILES_STORE; Cloudflare's challenge passed
by real Chromium (or reported when it cannot be)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from replicas.beatport import BeatportReplica, Catalogue, LabelledUpload, Quirks, Track, build_catalogue
from replicas.beatport.uploads import labelled_uploads
from replicas.beatport.world import KEYS, PLACEHOLDER_IMAGE
from soundscraping.media.paths import media_path
from soundscraping.storage import TABLES, Database
from soundscraping.timestamps import utc_now
from tests.crawl import query, run_crawl

needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None and not Path("/usr/bin/chromium").exists(),
                                    reason="Debian's chromium is not installed (make test installs it)")

# The tests may be impolite to the local replica.
FAST = {"BEATPORT_DOWNLOAD_DELAY": 0, "BEATPORT_CONCURRENT_REQUESTS": 4, "RETRY_BACKOFF_BASE": 0.05,
        "RETRY_BACKOFF_MAX": 0.5}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return build_catalogue()


@pytest.fixture(scope="module")
def uploads(catalogue: Catalogue) -> list[LabelledUpload]:
    return labelled_uploads(catalogue)


def seed_soundcloud(database_url: str, rows: list[dict[str, Any]]) -> None:
    """soundcloud_users + soundcloud_tracks rows, through the project's own writer."""
    db = Database.from_url(database_url)
    db.connect()
    db.ensure_schema()
    users, tracks = {}, []
    for r in rows:
        users[r["user_id"]] = (r["user_id"], None, r["uploader"], None, None, None, None, None, None, None, None,
                               None, None, None, True, utc_now(), None, None)
        tracks.append((r["id"], r["user_id"], r["title"], f"https://soundcloud.com/x/{r['id']}", None, None,
                       r["duration_ms"], None, None, None, None, None, None, r.get("is_dj_set", False),
                       utc_now(), None, None))
    assert len(tracks[0]) == len(TABLES["soundcloud_tracks"].columns)
    assert len(next(iter(users.values()))) == len(TABLES["soundcloud_users"].columns)
    db.write({"soundcloud_users": list(users.values()), "soundcloud_tracks": tracks})
    if any("searched_at" in r for r in rows):
        db.write({"beatport_matches": [(r["id"], "no_match", None, 0.5, "earlier", 3, r["searched_at"])
                                       for r in rows if "searched_at" in r]})
    db.close()


def sc_rows(uploads: list[LabelledUpload], picks: list[int], first_id: int = 900_000_000) -> list[dict[str, Any]]:
    return [{"id": first_id + i, "user_id": 5000 + i, "title": uploads[n].title, "uploader": uploads[n].uploader,
             "duration_ms": uploads[n].duration_ms, "upload": uploads[n]} for i, n in enumerate(picks)]


def expected_row(track: Track, replica: BeatportReplica, *, missing: bool = False) -> tuple[Any, ...]:
    """A beatport_tracks row as the catalogue says it must be stored."""
    key = KEYS[track.key_id] if track.key_id is not None and not missing else None
    r = track.release
    artwork = None if r.image_uuid == PLACEHOLDER_IMAGE or missing else (
        f"{replica.urls['media']}/image_size/1400x1400/{r.image_uuid}.jpg")
    return (
        f"{replica.url}/track/{track.slug}/{track.id}", track.name.strip(), track.mix_name or None,
        None if missing else track.bpm, key[0] if key else None, f"{key[1]}{key[2]}" if key else None,
        track.genre, None if missing else track.sub_genre, r.publish_date, r.label.name, r.catalog_number,
        None if missing else track.isrc, [a.name for a in track.artists], [a.name for a in track.remixers],
        track.length_ms, f"{replica.urls['media']}/image_size/1500x250/{track.waveform_uuid}.png", artwork,
    )


STORED = ("SELECT id, url, name, mix_name, bpm, key_name, camelot, genre, sub_genre, "
          "to_char(publish_date, 'YYYY-MM-DD'), label, catalog_number, isrc, artists, remixers, length_ms, "
          "waveform_url, artwork_url, soundcloud_track_id, match_score FROM beatport_tracks")


def test_crawl_into_postgres_matches_records_and_stores_media(tmp_path: Path, pg_url: str, catalogue: Catalogue,
                                                              uploads: list[LabelledUpload]) -> None:
    released = [i for i, u in enumerate(uploads) if u.expected][:16]
    unreleased = [i for i, u in enumerate(uploads) if not u.expected][:6]
    rows = sc_rows(uploads, released + unreleased)
    # Two uploads of one release (a re-upload): one page request, two matches.
    again = dict(rows[0], id=rows[-1]["id"] + 1, user_id=7777, title=rows[0]["title"] + " (re-up)")
    # DJ sets are never searched, whatever their title says.
    dj_sets = [dict(rows[i], id=rows[-1]["id"] + 10 + i, user_id=8000 + i, is_dj_set=True,
                    duration_ms=3_600_000, title=f"{rows[i]['title']} live at Fabric") for i in range(2)]
    # Searched recently: not searched; searched long ago: searched again.
    recent = dict(rows[1], id=rows[-1]["id"] + 20, user_id=8100, searched_at=utc_now())
    old = dict(rows[2], id=rows[-1]["id"] + 21, user_id=8101, searched_at="2020-01-01T00:00:00Z")
    seeded = [*rows, again, *dj_sets, recent, old]
    seed_soundcloud(pg_url, seeded)
    with_missing = next(next(iter(uploads[i].expected)) for i in released[3:] if len(uploads[i].expected) == 1)
    files = tmp_path / "files"
    with BeatportReplica(catalogue, Quirks(missing_fields_tracks=frozenset({with_missing}))) as replica:
        settings = {"DATABASE_URL": pg_url, "FILES_STORE": files, **FAST}
        result = run_crawl("beatport_tracks", tmp_path, settings=settings, env={"BEATPORT_URL": replica.url})
        assert result.returncode == 0, result.log[-3000:]
        assert "Traceback" not in result.log

        matches = {r[0]: r[1:] for r in query(pg_url, "SELECT soundcloud_track_id, status, beatport_track_id, "
                                                      "match_score, candidates FROM beatport_matches")}
        searched = [*rows, again, old]
        assert set(matches) == {r["id"] for r in searched} | {recent["id"]}
        assert matches[recent["id"]][0] == "no_match" and matches[recent["id"]][3] == 3, "left alone"
        stored = {r[0]: r[1:] for r in query(pg_url, STORED)}
        for r in searched:
            status, beatport_id, score, candidates = matches[r["id"]]
            upload = r["upload"]
            if upload.expected:
                assert status == "matched" and beatport_id in upload.expected, (upload.title, matches[r["id"]])
                assert 0.75 <= score <= 1 and candidates >= 1
                track = catalogue.tracks[beatport_id]
                assert stored[beatport_id][:17] == expected_row(track, replica, missing=beatport_id == with_missing)
            else:
                assert status == "no_match" and beatport_id is None, (upload.title, matches[r["id"]])
        matched_ids = {matches[r["id"]][1] for r in searched if r["upload"].expected}
        assert set(stored) == matched_ids, "a row for every match, no bogus rows"
        # The re-upload shares the release: both matched, one row, one page fetched.
        assert matches[again["id"]][:2] == matches[rows[0]["id"]][:2]
        assert stored[matches[again["id"]][1]][17] in (again["id"], rows[0]["id"])
        assert replica.stats["track"] - replica.stats.get("track_redirects", 0) == len(matched_ids)
        # DJ sets were not searched at all.
        for dj in dj_sets:
            assert dj["id"] not in matches
            assert dj["title"] not in " ".join(replica.stats["queries"])
        assert not replica.stats.get("parens_403"), "never more than one pair of parentheses"
        assert all(q.count("(") <= 1 for q in replica.stats["queries"])

        # Waveform (1500x250 PNG) and artwork (1400x1400 JPEG) of every match, in FILES_STORE.
        media = {r[0]: r[1:] for r in query(pg_url, "SELECT url, path, owner_table, owner_id FROM media_files")}
        for beatport_id in matched_ids:
            waveform, artwork = stored[beatport_id][15], stored[beatport_id][16]
            for url in filter(None, (waveform, artwork)):
                assert media[url] == (media_path(url, "beatport_tracks"), "beatport_tracks", beatport_id)
                data = (files / media_path(url, "beatport_tracks")).read_bytes()
                assert data.startswith(b"\x89PNG") if url == waveform else data.startswith(b"\xff\xd8")
        assert result.stat("soundscraping/beatport/missing_field/key") >= 1
        assert with_missing in stored and stored[with_missing][5] is None, "stored with NULLs, not dropped"
        assert result.stat("soundscraping/beatport/matched") == sum(1 for r in searched if r["upload"].expected)
        assert result.stat("soundscraping/beatport/no_match") == len(unreleased)

        # A second run has nothing left to search.
        searches = replica.stats["search_tracks"]
        before = query(pg_url, "SELECT * FROM beatport_matches ORDER BY 1")
        second = run_crawl("beatport_tracks", tmp_path, settings=settings, env={"BEATPORT_URL": replica.url},
                           run="again")
        assert second.returncode == 0, second.log[-3000:]
        assert replica.stats["search_tracks"] == searches
        assert "Searching Beatport for 0 SoundCloud tracks" in second.log
        assert query(pg_url, "SELECT * FROM beatport_matches ORDER BY 1") == before


@needs_chromium
@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_cloudflare_challenge_passed_by_real_chromium_then_impersonated_tls(
        tmp_path: Path, pg_url: str, catalogue: Catalogue, uploads: list[LabelledUpload], https: bool) -> None:
    """HTTPS mode: Cloudflare also judges the ClientHello, so after the pass
    the crawl must go on over the impersonated (Chrome-like) TLS."""
    picks = [i for i, u in enumerate(uploads) if u.expected][20:26] + [i for i, u in enumerate(uploads)
                                                                        if not u.expected][10:12]
    rows = sc_rows(uploads, picks)
    seed_soundcloud(pg_url, rows)
    with BeatportReplica(catalogue, Quirks(challenge=True, https=https)) as replica:
        env = {"BEATPORT_URL": replica.url, **({"TLS_CA_BUNDLE": replica.ca_file} if https else {})}
        settings: dict[str, Any] = {"DATABASE_URL": pg_url, "FILES_STORE": tmp_path / "files", **FAST}
        if https:
            # The test CA is not in Chromium's store [test-only flag].
            settings["PLAYWRIGHT_LAUNCH_OPTIONS"] = json.dumps({
                "executable_path": "/usr/bin/chromium", "headless": True,
                "args": ["--no-sandbox", "--disable-gpu", "--ignore-certificate-errors"]})
        result = run_crawl("beatport_tracks", tmp_path, env=env, settings=settings)
        assert result.returncode == 0, result.log[-3000:]
        stats = replica.stats.snapshot()
    if https:
        # Every handshake was Chrome-like (Chromium's and curl_cffi's): Scrapy's own TLS never spoke.
        assert stats["tls_handshakes_chrome"] >= 2 and stats.get("tls_handshakes_other", 0) == 0
    assert result.stat("soundscraping/access/beatport/browser") >= 1
    # One pass by a real browser, for the whole crawl.
    assert stats["challenges_passed"] == 1 and result.stat("soundscraping/antibot/beatport/solved") == 1
    browser_ua = stats["challenge_user_agents"][0]
    assert "Chrome/" in browser_ua and "soundscraping" not in browser_ua
    # Then impersonated TLS with the clearance and the browser's User-Agent (cf_clearance is bound to it).
    assert stats["clearance_ua_mismatch"] == 0
    pages_after = result.stat("soundscraping/beatport/searches") + stats["track"]
    assert stats["clearance_accepted"] >= pages_after
    assert stats["page_user_agents"][browser_ua] >= pages_after
    assert f"retrying over impersonated chrome TLS as {browser_ua}" in result.log
    assert "Anti-bot block: opening" in result.log
    statuses = dict(query(pg_url, "SELECT soundcloud_track_id, status FROM beatport_matches"))
    assert statuses == {r["id"]: "matched" if r["upload"].expected else "no_match" for r in rows}


@needs_chromium
def test_unpassable_challenge_is_reported_and_not_looped(tmp_path: Path, pg_url: str, catalogue: Catalogue,
                                                         uploads: list[LabelledUpload]) -> None:
    rows = sc_rows(uploads, list(range(60)))
    seed_soundcloud(pg_url, rows)
    with BeatportReplica(catalogue, Quirks(challenge=True, challenge_passable=False)) as replica:
        result = run_crawl("beatport_tracks", tmp_path, env={"BEATPORT_URL": replica.url},
                           settings={"DATABASE_URL": pg_url, "BEATPORT_ANTIBOT_TIMEOUT": 3, **FAST})
        stats = replica.stats.snapshot()
    assert result.returncode == 1, "a crawl that could not do its work says so"
    assert result.stats["finish_reason"] == "antibot_blocked"
    assert stats["challenges_failed"] >= 1 and stats["challenges_passed"] == 0, "a browser really tried"
    assert result.stat("soundscraping/antibot/beatport/failed") == 1, "one browser pass, not a loop"
    # Requests wait while the browser tries; those already under way then
    # meet the block once each, and the crawl stops.
    assert stats["challenges_served"] < len(rows) // 2
    errors = [line for line in result.log.splitlines() if " ERROR: " in line]
    assert any("Browser could not pass the anti-bot check" in line for line in errors)
    assert any("anti-bot challenge and no browser pass got through" in line for line in errors)
    assert query(pg_url, "SELECT count(*) FROM beatport_matches")[0][0] == 0, "nothing recorded as no_match"
    assert "Traceback" not in result.log


def test_query_track_ids_changed_pages_and_empty_searches_in_sqlite(tmp_path: Path, catalogue: Catalogue,
                                                                    uploads: list[LabelledUpload]) -> None:
    database_url = f"sqlite:///{tmp_path}/bp.sqlite3"
    tesla = catalogue.tracks[20630687]
    released = [i for i, u in enumerate(uploads) if len(u.expected) == 1 and "typo" not in u.style][30:33]
    changed, delisted, normal = (next(iter(uploads[i].expected)) for i in released)
    rows = sc_rows(uploads, released)
    rows += [{"id": 990, "user_id": 1, "title": "Qxzzv Plorth - Wublump Snarq", "uploader": "x", "duration_ms": None},
             {"id": 991, "user_id": 1, "title": "🔥🔥🔥 [FREE DL]", "uploader": "", "duration_ms": 200_000}]
    seed_soundcloud(database_url, rows)
    quirks = Quirks(changed_shape_tracks=frozenset({changed}), delisted_tracks=frozenset({delisted}))
    with BeatportReplica(catalogue, quirks) as replica:
        env = {"BEATPORT_URL": replica.url}
        settings = {"DATABASE_URL": database_url, "FILES_STORE": tmp_path / "files", **FAST}

        # An ad-hoc lookup: stored without a SoundCloud id, nothing in beatport_matches.
        lookup = run_crawl("beatport_tracks", tmp_path, args={"query": "Mau P - Tesla (Extended Mix) [INSOMNIAC]"},
                           settings=settings, env=env, run="lookup")
        assert lookup.returncode == 0, lookup.log[-3000:]
        assert query(database_url, "SELECT id, name, soundcloud_track_id FROM beatport_tracks") == [
            (tesla.id, "TESLA", None)]
        assert "Matched query 'Mau P - Tesla (Extended Mix) [INSOMNIAC]' -> Beatport 20630687" in lookup.log

        # Default run: a changed track page and a delisted track record nothing (searched again next
        # run); an empty search and an unsearchable title are no_match.
        result = run_crawl("beatport_tracks", tmp_path, settings=settings, env=env)
        assert result.returncode == 0, result.log[-3000:]
        matches = {r[0]: r[1:] for r in query(database_url, "SELECT soundcloud_track_id, status, beatport_track_id, "
                                                            "candidates, query FROM beatport_matches")}
        ids = [r["id"] for r in rows]
        assert set(matches) == {ids[2], 990, 991}
        assert matches[ids[2]][:2] == ("matched", normal)
        assert matches[990][0] == "no_match" and matches[990][2] == 0
        assert matches[991] == ("no_match", None, 0, "")
        assert result.stat("soundscraping/skipped/changed_page") == 1
        assert result.stat("soundscraping/skipped/track_not_found") == 1
        assert result.stat("soundscraping/beatport/empty_search") >= 1
        assert {r[0] for r in query(database_url, "SELECT id FROM beatport_tracks")} == {tesla.id, normal}
        assert "Beatport track page not understood" in result.log and "no __NEXT_DATA__" in result.log
        assert "Traceback" not in result.log

        # Chosen tracks are searched whatever their state; a search page that changed shape
        # records nothing and leaves earlier results alone.
        replica.quirks.changed_shape_search = True
        searches, before = replica.stats["search_tracks"], sorted(query(database_url, "SELECT * FROM beatport_matches"))
        chosen = run_crawl("beatport_tracks", tmp_path, args={"track_ids": f"{ids[2]},990,12345"}, settings=settings,
                           env=env, run="chosen")
        assert chosen.returncode == 0, chosen.log[-3000:]
        assert replica.stats["search_tracks"] >= searches + 2
        assert chosen.stat("soundscraping/skipped/changed_page") >= 2
        assert chosen.stat("soundscraping/skipped/track_not_in_database") == 1
        assert sorted(query(database_url, "SELECT * FROM beatport_matches")) == before
