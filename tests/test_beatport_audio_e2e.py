"""Beatport previews end to end: ``beatport_tracks -a previews=true`` stores
each matched track's preview (synthesised by the replica in the track's own
tempo and key, MP3-encoded) as a ``media_files`` row of role ``preview``;
``soundscraping audio-features`` finds the tempo and key the clip was made
in; ``soundscraping audio-report`` compares them with Beatport's labels."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("essentia", reason="the audio extra is not installed")

from replicas.beatport import BeatportReplica, Quirks, build_catalogue, labelled_uploads
from soundscraping.audio.keys import parse_key
from soundscraping.media.paths import media_path
from tests.crawl import REPO, query, run_crawl
from tests.test_beatport_tracks_e2e import FAST, sc_rows, seed_soundcloud

CLIPS = 30  # 30-second previews: enough clips to mean something, quick to analyse
SECONDS = 30.0


def audio_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "soundscraping", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600)


def test_previews_are_stored_analysed_and_reported(tmp_path: Path, pg_url: str) -> None:
    catalogue = build_catalogue()
    uploads = labelled_uploads(catalogue)
    picks = [i for i, u in enumerate(uploads) if len(u.expected) == 1]
    # Distinct releases only, so CLIPS uploads give CLIPS previews.
    seen, chosen = set(), []
    for i in picks:
        (tid,) = uploads[i].expected
        if tid not in seen:
            seen.add(tid)
            chosen.append(i)
    chosen = chosen[:CLIPS]
    seed_soundcloud(pg_url, sc_rows(uploads, chosen))
    files = tmp_path / "files"
    with BeatportReplica(catalogue, Quirks(preview_seconds=SECONDS)) as replica:
        settings = {"DATABASE_URL": pg_url, "FILES_STORE": files, **FAST}
        result = run_crawl("beatport_tracks", tmp_path, args={"previews": "true"}, settings=settings,
                           env={"BEATPORT_URL": replica.url})
        assert result.returncode == 0, result.log[-3000:]
        assert "Traceback" not in result.log
        truth = {t.id: replica.preview_clip(t) for t in catalogue.tracks.values()}
        samples_url = replica.urls["samples"]

    tracks = {r[0]: r[1:] for r in query(pg_url, "SELECT id, sample_url, sample_start_ms, sample_end_ms, bpm, "
                                                 "key_name FROM beatport_tracks")}
    assert len(tracks) >= CLIPS - 2, "nearly every chosen upload matched"
    media = {r[0]: r[1:] for r in query(pg_url, "SELECT url, path, owner_id, role FROM media_files")}
    for track_id, (sample_url, start, end, _, _) in tracks.items():
        track = catalogue.tracks[track_id]
        assert sample_url == f"{samples_url}/track/{track.sample_uuid}.LOFI.mp3"
        assert (start, end) == (track.sample_start_ms, track.sample_start_ms + 120000)
        assert media[sample_url] == (media_path(sample_url, "beatport_tracks"), track_id, "preview")
        assert (files / media_path(sample_url, "beatport_tracks")).read_bytes()[:2] in (b"ID", b"\xff\xfb")
    assert {role for *_, role in media.values()} == {"preview", "waveform", "artwork"}

    run = audio_command("audio-features", "--database-url", pg_url, "--files-store", str(files), "--workers", "2",
                        "--batch-size", "7")
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {int(r[0]): r[1:] for r in query(pg_url, "SELECT source_id, bpm, key, scale, key_strength, "
                                                    "loudness_lufs, duration_s, error, analyser FROM audio_features "
                                                    "WHERE source_table = 'beatport_tracks'")}
    assert set(rows) == set(tracks)
    bpm_ok = key_ok = 0
    for track_id, (bpm, key, scale, strength, lufs, duration, error, analyser) in rows.items():
        clip = truth[track_id]
        assert error is None and analyser == "essentia"
        assert abs(duration - SECONDS) < 0.2
        assert -30 < lufs < -5 and 0 <= strength <= 1
        bpm_ok += abs(bpm - clip.bpm) <= 1
        key_ok += parse_key(key, scale) == parse_key(f"{clip.tonic} {clip.scale}")
    n = len(rows)
    print(f"{n} clips of {SECONDS:.0f} s: BPM within ±1 {bpm_ok}/{n}, key exact {key_ok}/{n}")
    assert bpm_ok >= 0.95 * n, f"BPM within ±1 for {bpm_ok} of {n} clips"
    assert key_ok >= 0.80 * n, f"key exact for {key_ok} of {n} clips"

    # Resumable: nothing left to analyse by this analyser version.
    again = audio_command("audio-features", "--database-url", pg_url, "--files-store", str(files))
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{0} previews to analyse" in again.stderr

    out = tmp_path / "report.png"
    report = audio_command("audio-report", "--database-url", pg_url, "--out", str(out))
    assert report.returncode == 0, report.stderr[-2000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The replica's labels are the clips' truth: the report's figures are the ones counted here.
    labelled = {t: r for t, r in rows.items() if tracks[t][3] is not None}
    hits1 = sum(abs(r[0] - tracks[t][3]) <= 0.04 * tracks[t][3] for t, r in labelled.items())
    assert f"Accuracy1 (±4%) {100 * hits1 / len(labelled):.1f}%" in report.stdout, report.stdout
    same = sum(parse_key(r[1], r[2]) == parse_key(tracks[t][4]) for t, r in rows.items() if tracks[t][4])
    assert f"  same         {same:>6}" in report.stdout, report.stdout


def test_unreadable_and_missing_previews_are_counted_not_fatal(tmp_path: Path, pg_url: str) -> None:
    from soundscraping.storage import Database

    files = tmp_path / "files"
    (files / "beatport_tracks").mkdir(parents=True)
    (files / "beatport_tracks" / "bad.mp3").write_bytes(b"<html>not audio</html>" * 50)
    db = Database.from_url(pg_url)
    db.connect()
    db.ensure_schema()
    db.write({"media_files": [("https://x/bad.mp3", "beatport_tracks/bad.mp3", "c", "beatport_tracks", 1,
                               "2026-01-01T00:00:00Z", "preview", "1", "https://x/bad.mp3"),
                              ("https://x/gone.mp3", "beatport_tracks/gone.mp3", "c", "beatport_tracks", 2,
                               "2026-01-01T00:00:00Z", "preview", "2", "https://x/gone.mp3")]})
    db.close()
    run = audio_command("audio-features", "--database-url", pg_url, "--files-store", str(files), "--workers", "1")
    assert run.returncode == 1, run.stderr[-2000:]  # a preview listed but not in the store: rows lost
    assert "skipped: not in the store" in run.stderr
    rows = query(pg_url, "SELECT source_id, bpm, error FROM audio_features")
    assert len(rows) == 1 and rows[0][0] == "1" and rows[0][1] is None and "not decodable" in rows[0][2]
    # The failed one is not retried by the same analyser version unless asked.
    again = audio_command("audio-features", "--database-url", pg_url, "--files-store", str(files))
    assert "1 previews to analyse" in again.stderr, again.stderr[-2000:]
