"""``soundscraping cmt-postprocess`` on a store laid out as the Cambridge-MT
crawl leaves it (media_files rows, files named by media_path): replica
multitracks of synthetic stems, forum mixes of them shifted by known offsets,
re-gained and MP3-encoded, a mix of another song posted in a song's forum,
and unsafe ZIPs."""

from __future__ import annotations

import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("essentia", reason="the audio extra is not installed")

from replicas.audio.multitrack import STEMS, Multitrack, build_multitrack
from soundscraping.media.paths import media_path
from soundscraping.storage import Database
from tests.crawl import REPO, query

SECONDS = 20.0
NOW = "2026-01-01T00:00:00Z"


def run_postprocess(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "soundscraping", "cmt-postprocess", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


class Store:
    """Files and rows as the crawl's pipelines write them."""

    def __init__(self, root: Path, database_url: str):
        self.root = root
        self.db = Database.from_url(database_url)
        self.db.connect()
        self.db.ensure_schema()
        self.rows: dict[str, list[tuple]] = {"cmt_songs": [], "media_files": [], "cmt_forum_threads": [],
                                             "cmt_mixes": []}

    def put(self, url: str, owner_table: str, owner_id: str, role: str, data: bytes) -> str:
        path = media_path(url, owner_table)
        (self.root / path).parent.mkdir(parents=True, exist_ok=True)
        (self.root / path).write_bytes(data)
        # owner_id: the owner's integer id (None for songs and mixes); owner_key its key as text.
        self.rows["media_files"].append((url, path, "x", owner_table, None, NOW, role, owner_id, url))
        return path

    def song(self, song: Multitrack, fid: int, zip_data: bytes, preview: bytes | None) -> None:
        base = f"https://cambridge-mt.example/{song.folder}"
        owner = f"{song.artist} / {song.title}"
        zip_url = f"{base}_Full.zip"
        preview_url = f"{base}_Preview.mp3" if preview else None
        self.rows["cmt_songs"].append((song.artist, song.title, None, "Rock", None, len(song.stems), None, [zip_url],
                                       [], preview_url, None, None, fid, False, False, NOW))
        self.put(zip_url, "cmt_songs", owner, "multitrack", zip_data)
        if preview:
            self.put(preview_url, "cmt_songs", owner, "preview", preview)
        self.rows["cmt_forum_threads"].append((fid * 10, fid, f"{song.title} mix", "a", NOW, 1, 1, None))

    def mix(self, fid: int, pid: int, data: bytes) -> str:
        url = f"https://discussion.example/attachment.php?aid={pid}"
        path = media_path(url, "cmt_mixes", "mix.mp3")
        (self.root / path).parent.mkdir(parents=True, exist_ok=True)
        (self.root / path).write_bytes(data)
        self.rows["cmt_mixes"].append((url, pid, fid * 10, "attachment", "discussion.example", "mix.mp3", path))
        return url

    def commit(self) -> None:
        self.db.write(self.rows)
        self.db.close()


def test_stems_named_mixes_aligned_wrong_song_flagged_unsafe_zips_refused(tmp_path: Path, pg_url: str) -> None:
    rng = random.Random(16)
    files = tmp_path / "files"
    store = Store(files, pg_url)
    songs = [build_multitrack(f"Band {i}", f"Song {i}", SECONDS, seed=100 + i) for i in range(4)]
    truth: dict[str, tuple[float, float]] = {}  # mix url -> (offset ms, gain dB)
    wrong: set[str] = set()
    pid = 1
    for fid, song in enumerate(songs, 1):
        offset, gain = -1500.0, -2.0
        preview = song.mix_mp3(offset, gain, seed=fid)
        store.song(song, fid, song.zip_bytes(compress=fid % 2 == 0), preview)
        truth[f"https://cambridge-mt.example/{song.folder}_Preview.mp3"] = (offset, gain)
        for _ in range(5):
            offset, gain = round(rng.uniform(-4000, 9000), 1), round(rng.uniform(-12, 3), 1)
            truth[store.mix(fid, pid, song.mix_mp3(offset, gain, seed=pid))] = (offset, gain)
            pid += 1
        # Someone posts the mix of another song in this song's forum.
        other = songs[(fid) % len(songs)]
        wrong.add(store.mix(fid, pid, other.mix_mp3(500.0, -3.0, seed=pid)))
        pid += 1
    # A ZIP whose member climbs out of the archive, and a ZIP bomb: refused whole, nothing read.
    evil = build_multitrack("Evil", "Climb", 3.0, seed=7)
    store.song(evil, 50, evil.zip_bytes(extra={"../../etc/evil.wav": b"RIFF"}), None)
    bomb = build_multitrack("Evil", "Bomb", 3.0, seed=8)
    bomb_zip = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb_zip, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{bomb.folder}/01_Kick.wav", b"\x00" * (64 << 20))
    store.song(bomb, 51, bomb_zip.read_bytes(), None)
    store.commit()

    run = run_postprocess("--database-url", pg_url, "--files-store", str(files), "--unplaced",
                          str(tmp_path / "unplaced.txt"))
    assert run.returncode == 1, run.stderr[-3000:]  # two multitracks refused: files skipped, said by the exit code
    assert "Traceback" not in run.stderr, run.stderr[-4000:]
    assert "path climbs out of the archive" in run.stderr and "absurd compression ratio" in run.stderr
    assert f"[4/6] Band 3 - Song 3: {len(STEMS)} stems, 6 mixes aligned, 1 flagged" in run.stderr, run.stderr[-3000:]

    stems = query(pg_url, "SELECT artist, file_name, instrument_group, channels, sample_rate, duration_s, peak_dbfs, "
                          "rms_dbfs FROM cmt_stems ORDER BY artist, file_name")
    assert len(stems) == 4 * len(STEMS)
    expected_group = {name: group for name, group, _ in STEMS.values()}
    for _, name, group, channels, rate, duration, peak, rms in stems:
        assert group == expected_group[name]
        assert rate == 44100 and channels in (1, 2) and abs(duration - SECONDS) < 0.01
        assert rms < peak <= 0
    assert not {r[0] for r in stems} & {"Evil"}

    rows = {r[0]: r[1:] for r in query(pg_url, "SELECT mix_url, source, offset_ms, confidence, gain_db, aligned, "
                                                "flag FROM cmt_mix_alignment")}
    assert set(rows) == set(truth) | wrong
    errors = []
    for url, (offset, gain) in truth.items():
        source, found, confidence, found_gain, aligned, flag = rows[url]
        assert source == ("library_preview" if url.endswith("_Preview.mp3") else "forum_mix")
        assert aligned and flag is None and confidence > 0.9, (url, rows[url])
        errors.append(abs(found - offset))
        assert abs(found_gain - gain) < 1.5, (url, found_gain, gain)
    within = sum(e <= 5.0 for e in errors)
    print(f"{len(errors)} mixes: |error| <= 5 ms for {within}; max {max(errors):.2f} ms")
    assert within >= 0.95 * len(errors), sorted(errors)
    for url in wrong:
        _, offset, confidence, _, aligned, flag = rows[url]
        assert not aligned and offset is None and confidence < 0.5 and "low confidence" in flag

    features = query(pg_url, "SELECT kind, name, loudness_lufs, normalise_gain_db, rms_dbfs, crest_factor_db, "
                             "spectral_centroid_hz, spectral_bandwidth_hz, mfcc_means, stereo_width, "
                             "mid_side_ratio_db FROM cmt_audio_features")
    assert len([f for f in features if f[0] == "stem"]) == len(stems)
    assert len([f for f in features if f[0] == "mix"]) == len(rows)
    for kind, name, lufs, gain, rms, crest, centroid, bandwidth, mfcc, width, mid_side in features:
        assert abs(lufs + gain + 15.0) < 0.01 and -30 < rms < 0  # normalised to -15 LUFS
        assert crest > 0 and 20 < centroid < 22050 and bandwidth > 0 and len(mfcc.split(",")) == 13
        if name in ("05_Piano.wav", "06_LeadVox.wav") or kind == "mix":
            assert 0 <= width < 0.5 and mid_side > 0
    kick = next(f for f in features if f[1] == "01_KickIn.wav")
    hat = next(f for f in features if f[1] == "03_HiHat.wav")
    assert kick[6] < hat[6], "a kick is darker than a hi-hat"

    # Resumable: done songs are not processed again; the refused ones are recorded as skipped.
    status = dict(((r[0], r[1]), r[2]) for r in query(pg_url, "SELECT artist, title, status FROM cmt_postprocessed"))
    assert status[("Evil", "Climb")] == status[("Evil", "Bomb")] == "skipped"
    again = run_postprocess("--database-url", pg_url, "--files-store", str(files))
    assert again.returncode == 0 and "0 songs to post-process (6 already done)" in again.stderr, again.stderr[-2000:]
