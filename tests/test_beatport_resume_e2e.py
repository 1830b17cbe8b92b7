"""End to end: a beatport_tracks crawl killed with SIGKILL at a known point
(a matched track's artwork held by the replica once its beatport_matches row
is stored: the row that says "searched" without the track row it names) and
run again, into SQLite: only the searches not finished are made again, and
the rows are those of an uninterrupted crawl.  Then ``recrawl_after``
searches again the tracks searched longer ago than that."""

from __future__ import annotations

import signal
from pathlib import Path

from replicas.beatport import BeatportReplica, Catalogue, LabelledUpload
from replicas.beatport.world import PLACEHOLDER_IMAGE
from tests.crawl import count_rows, finish, query, run_crawl, start_crawl, wait_until
from tests.test_beatport_tracks_e2e import FAST, catalogue, sc_rows, seed_soundcloud, uploads  # noqa: F401

MATCHES = "SELECT soundcloud_track_id, status, beatport_track_id, match_score, query, candidates FROM beatport_matches"
TRACKS = "SELECT id, soundcloud_track_id, name, bpm, key_name, waveform_url, artwork_url FROM beatport_tracks"


def test_killed_beatport_crawl_searches_again_only_what_it_had_not_finished(
        tmp_path: Path, catalogue: Catalogue, uploads: list[LabelledUpload]) -> None:  # noqa: F811
    released = [i for i, u in enumerate(uploads) if u.expected
                and catalogue.tracks[next(iter(u.expected))].release.image_uuid != PLACEHOLDER_IMAGE][:6]
    unreleased = [i for i, u in enumerate(uploads) if not u.expected][:2]
    rows = sc_rows(uploads, released + unreleased)
    held_row = rows[len(released) // 2]
    held_artwork = catalogue.tracks[next(iter(held_row["upload"].expected))].release.image_uuid
    reference_url, killed_url = (f"sqlite:///{tmp_path / name}.sqlite3" for name in ("reference", "killed"))
    for url in (reference_url, killed_url):
        seed_soundcloud(url, rows)
    with BeatportReplica(catalogue) as replica:
        env = {"BEATPORT_URL": replica.url}
        common = {**FAST, "FILES_STORE": tmp_path / "files", "STORAGE_FLUSH_SECONDS": 0.2}
        reference = run_crawl("beatport_tracks", tmp_path, env=env, run="reference",
                              settings={**common, "DATABASE_URL": reference_url,
                                        "FILES_STORE": tmp_path / "reference-files"})
        assert reference.returncode == 0, reference.log[-3000:]
        uninterrupted = replica.stats["search_tracks"] + replica.stats["track"]

        held = replica.holds.hold(lambda r: held_artwork in r.path)
        start = replica.stats["search_tracks"] + replica.stats["track"]
        process, _log, _stats = start_crawl("beatport_tracks", tmp_path, env=env, run="killed",
                                            settings={**common, "DATABASE_URL": killed_url})
        held.wait_arrived(timeout=60)
        # The match row goes straight to storage; its track row waits for the held artwork.
        held_match = f"beatport_matches WHERE soundcloud_track_id = {held_row['id']}"
        wait_until(lambda: count_rows(killed_url, held_match) == 1, "the held track's match row stored")
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        held.release()
        first_part = replica.stats["search_tracks"] + replica.stats["track"] - start
        done = {r[0] for r in query(killed_url, "SELECT m.soundcloud_track_id FROM beatport_matches m LEFT JOIN "
                                                "beatport_tracks b ON b.id = m.beatport_track_id "
                                                "WHERE m.status = 'no_match' OR b.id IS NOT NULL")}
        assert held_row["id"] not in done, "matched, but its track row was not stored: not done"
        pending = [r for r in rows if r["id"] not in done]
        done_queries = {q for tid, _s, _b, _m, q, _c in query(killed_url, MATCHES) if tid in done}

        before, asked = replica.stats["search_tracks"] + replica.stats["track"], len(replica.stats["queries"])
        again = finish(*start_crawl("beatport_tracks", tmp_path, env=env, run="again",
                                    settings={**common, "DATABASE_URL": killed_url}))
        assert again.returncode == 0, again.log[-3000:]
        second_part = replica.stats["search_tracks"] + replica.stats["track"] - before
        assert f"Searching Beatport for {len(pending)} SoundCloud tracks" in again.log
        assert set(query(killed_url, TRACKS)) - set(query(reference_url, TRACKS)) == set()
        assert {r[:3] for r in query(killed_url, MATCHES)} == {r[:3] for r in query(reference_url, MATCHES)}
        assert {r[0] for r in query(killed_url, TRACKS)} == {r[0] for r in query(reference_url, TRACKS)}
        searched_again = set(replica.stats["queries"][asked:])
        assert searched_again and not searched_again & {q for qs in done_queries for q in qs.split(" | ")}, \
            "finished searches are not made again"
        print(f"\nbeatport_tracks killed with {len(done)} of {len(rows)} searches done: {first_part} + "
              f"{second_part} requests against {uninterrupted} uninterrupted")

        # A re-crawl with recrawl_after: every track was searched less than an hour ago.
        before = replica.stats["search_tracks"]
        recent = run_crawl("beatport_tracks", tmp_path, env=env, run="recent", args={"recrawl_after": "1h"},
                           settings={**common, "DATABASE_URL": killed_url})
        assert recent.returncode == 0 and replica.stats["search_tracks"] == before
        assert "Searching Beatport for 0 SoundCloud tracks" in recent.log
        # recrawl_after=0s: searched again, all of them.
        due = run_crawl("beatport_tracks", tmp_path, env=env, run="due", args={"recrawl_after": "0s"},
                        settings={**common, "DATABASE_URL": killed_url})
        assert due.returncode == 0 and f"Searching Beatport for {len(rows)} SoundCloud tracks" in due.log
